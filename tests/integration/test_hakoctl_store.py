# SPDX-License-Identifier: GPL-2.0-or-later
"""The store under stress: kill -9 during loads, concurrent loads, a load
during rmi, and images of 1 and 200 layers."""
import array
import fcntl
import json
import os
import random
import signal
import subprocess
import time

import pytest

import imagekit
from imagekit import docker_archive, tar_bytes


def consistent(ctl):
    """Every name points at an image, every image's layers are there, and no
    staging dir is left once a hakoctl command has opened the store."""
    ctl("images", check=True)
    names_file = ctl.store / "names.json"
    names = json.loads(names_file.read_text()) if names_file.exists() else {}
    images = set(os.listdir(ctl.store / "images"))
    for ref, iid in names.items():
        assert iid[7:] in images, f"{ref} names a missing image"
    for i in images:
        if i.startswith("."):
            continue
        cfg = json.loads((ctl.store / "images" / i).read_text())
        for d in cfg["rootfs"]["diff_ids"]:
            assert (ctl.store / "layers" / d[7:] / "size").exists(), f"{i}: layer {d} missing"
    assert [x for x in os.listdir(ctl.store / "tmp")] == []


def test_kill_9_during_load_leaves_a_consistent_store(ctl, images):
    rng = random.Random(1234)
    for i in range(12):
        p = subprocess.Popen(ctl.argv("load", "-q", "-i", str(images["docker-archive"])),
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.0, 0.6))
        p.send_signal(signal.SIGKILL)
        p.wait()
        consistent(ctl)
    ctl("load", "-q", "-i", str(images["docker-archive"]), check=True)
    consistent(ctl)
    p = ctl("run", "--rm", "localhost/hako-test-deb:1")
    assert 'NAME="Debian GNU/Linux"' in p.stdout, p.stderr
    ctl("prune", check=True)
    assert len(os.listdir(ctl.store / "layers")) == 1


def test_eight_concurrent_loads_of_one_image(ctl, images):
    procs = [subprocess.Popen(ctl.argv("load", "-q", "-i", str(images["docker-archive"])),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(8)]
    for p in procs:
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
        assert out == "Loaded image: localhost/hako-test-deb:1\n"
    consistent(ctl)
    assert len(os.listdir(ctl.store / "layers")) == 1
    assert len([i for i in os.listdir(ctl.store / "images") if not i.startswith(".")]) == 1


def test_loads_during_rmi(ctl, tmp_path):
    layer = tar_bytes([("f", "file", b"x" * 100000)])
    path = tmp_path / "small.tar"
    path.write_bytes(docker_archive([layer], names=("localhost/hako-test-race:1",)))
    for _ in range(10):
        a = subprocess.Popen(ctl.argv("load", "-q", "-i", str(path)),
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        b = subprocess.Popen(ctl.argv("rmi", "localhost/hako-test-race:1"),
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        a.wait(60)
        b.wait(60)
        assert a.returncode == 0, a.stderr.read()
        consistent(ctl)


def busybox_layer():
    with open("/bin/busybox", "rb") as f:
        bb = f.read()
    return tar_bytes([("bin/", "dir", None), ("bin/busybox", "pax",
                                              {"data": bb, "pax": {}, "mode": 0o755}),
                      ("bin/sh", "symlink", "busybox"), ("bin/ls", "symlink", "busybox"),
                      ("bin/cat", "symlink", "busybox"), ("bin/wc", "symlink", "busybox")])


def test_an_image_of_200_layers(ctl, tmp_path):
    """docker stops at 128 layers, podman at 4 KiB of mount options."""
    layers = [busybox_layer()] + [tar_bytes([("l/", "dir", None), (f"l/{i:03}", "file",
                                                                   f"{i}\n".encode())])
                                  for i in range(1, 200)]
    path = tmp_path / "tall.tar"
    path.write_bytes(docker_archive(layers, names=("localhost/hako-test-tall:1",)))
    ctl("load", "-q", "-i", str(path), check=True)
    p = ctl("run", "--rm", "localhost/hako-test-tall:1", "sh", "-c", "ls /l | wc -l; cat /l/150")
    assert (p.returncode, p.stdout.split()) == (0, ["199", "150"]), p.stderr
    assert ctl.leftovers() == []


def test_an_image_of_one_layer(ctl, tmp_path):
    path = tmp_path / "one.tar"
    path.write_bytes(docker_archive([busybox_layer()], names=("localhost/hako-test-one:1",)))
    ctl("load", "-q", "-i", str(path), check=True)
    p = ctl("run", "--rm", "hako-test-one:1", "sh", "-c", "echo one")
    assert (p.returncode, p.stdout) == (0, "one\n"), p.stderr


def test_a_dead_loads_staging_is_cleared_and_a_live_ones_kept(ctl):
    import fcntl
    ctl("images", check=True)
    tmp = ctl.store / "tmp"
    (tmp / "load-1-dead.lock").write_text("")  # killed before its dir was made
    (tmp / "load-2-dead").mkdir()  # killed after its lock went
    (tmp / "load-2-dead" / "0").mkdir()
    (tmp / "load-3-live").mkdir()
    with open(tmp / "load-3-live.lock", "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        ctl("images", check=True)
        assert sorted(os.listdir(tmp)) == ["load-3-live", "load-3-live.lock"]
    ctl("images", check=True)
    assert os.listdir(tmp) == []


def test_the_containers_dirs_are_spread_over_ext4s_block_groups(ctl):
    """chattr +T on the store's containers/ and tmp/ (a load's staging) and
    the run dir's bundles/: ext4's Orlov allocator spreads the dirs made there
    over its block groups, rather than packing every container's beside
    everyone else's recently freed ones. Set when hakoctl makes those dirs, where the filesystem has the flag."""
    FS_IOC_GETFLAGS, FS_TOPDIR_FL = 0x80086601, 0x00020000
    ctl("run", "--rm", "busybox", "true", check=True)
    for d in (ctl.store / "containers", ctl.store / "tmp", ctl.runroot / "bundles"):
        fd = os.open(d, os.O_RDONLY | os.O_DIRECTORY)
        try:
            flags = array.array("l", [0])
            try:
                fcntl.ioctl(fd, FS_IOC_GETFLAGS, flags)
            except OSError as e:
                pytest.skip(f"{d}: no inode flags on this filesystem ({e})")
        finally:
            os.close(fd)
        assert flags[0] & FS_TOPDIR_FL, d
