# SPDX-License-Identifier: GPL-2.0-or-later
"""pivot_root, mounts, /dev, masked and read-only paths."""
import os

from conftest import BASE_BUNDLE


def test_pivot_root_hides_the_host(hako, tmp_path):
    r = hako.report(tmp_path)
    lines = r["mountinfo"].splitlines()
    roots = [l for l in lines if l.split()[4] == "/"]
    assert len(roots) == 1 and "busybox-bundle/rootfs" in roots[0].split()[3]
    assert not any(l.split()[4].startswith(("/work", "/tmp", "/home", "/root")) for l in lines), "no old root"
    p = hako.run(tmp_path, ["/bin/hako-probe", "cat", "/etc/debian_version"])
    assert p.returncode == 1 and "No such file" in p.stderr


def test_read_only_root_and_mounts(hako, tmp_path):
    p = hako.run(tmp_path, ["/bin/hako-probe", "write", "/x", "y"])
    assert p.returncode == 1 and "Read-only" in p.stdout
    p = hako.run(tmp_path, ["/bin/hako-probe", "write", "/dev/shm/x", "y"])
    assert p.returncode == 0, p.stdout
    r = hako.report(tmp_path)
    mounts = {l.split()[4]: l for l in r["mountinfo"].splitlines()}
    for dest in ("/proc", "/dev", "/dev/pts", "/dev/shm", "/dev/mqueue", "/sys", "/sys/fs/cgroup"):
        assert dest in mounts, dest
    assert " ro," in mounts["/sys"] and "nosuid" in mounts["/dev/shm"]


def test_bind_mount_with_options(hako, tmp_path):
    src = tmp_path / "data"
    src.mkdir()
    (src / "hello").write_text("from the host")

    def mutate(c):
        c["mounts"].append({"destination": "/mnt/data", "type": "bind", "source": str(src),
                            "options": ["rbind", "ro", "nosuid"]})
    p = hako.run(tmp_path, ["/bin/hako-probe", "cat", "/mnt/data/hello"], mutate)
    assert p.stdout == "from the host"
    p = hako.run(tmp_path, ["/bin/hako-probe", "write", "/mnt/data/hello", "x"], mutate)
    assert p.returncode == 1 and "Read-only" in p.stdout
    assert (src / "hello").read_text() == "from the host"


def test_devices(hako, tmp_path):
    p = hako.run(tmp_path, ["/bin/sh", "-c", "ls -l /dev/null /dev/zero /dev/urandom /dev/tty; "
                            "readlink /dev/fd; readlink /dev/ptmx; echo x > /dev/null && echo wrote"])
    assert p.returncode == 0, p.stderr
    assert "1," in p.stdout and "/proc/self/fd" in p.stdout and "pts/ptmx" in p.stdout
    assert "wrote" in p.stdout


def test_config_devices_and_device_cgroup(hako, tmp_path):
    def mutate(c):
        c["linux"]["devices"] = [{"path": "/dev/hako-test-loop", "type": "b", "major": 7, "minor": 0,
                                  "fileMode": 0o600}]
    # The node exists, but the devices cgroup (deny all by default) refuses to open it.
    p = hako.run(tmp_path, ["/bin/sh", "-c", "ls -l /dev/hako-test-loop && head -c1 /dev/hako-test-loop"],
                 mutate)
    assert "7," in p.stdout
    assert p.returncode != 0 and "not permitted" in p.stderr


def test_masked_and_readonly_paths(hako, tmp_path):
    p = hako.run(tmp_path, ["/bin/sh", "-c", "wc -c < /proc/timer_list; ls /sys/firmware | wc -l; "
                            "echo 1 > /proc/sys/kernel/ns_last_pid || echo refused"])
    lines = p.stdout.split()
    assert lines[0] == "0" and lines[1] == "0" and "refused" in p.stdout


def test_mount_through_escaping_symlink_is_refused(hako, tmp_path):
    cid = hako.new_id()
    target = tmp_path / "hako-test-target"
    target.mkdir()

    def mutate(c):
        c["mounts"].append({"destination": "/mnt/evil", "type": "tmpfs", "source": "tmpfs"})
    b = hako.bundle(tmp_path, ["/bin/true"], mutate, copy_rootfs=True)
    os.symlink("../../../../../../../../" + str(target).lstrip("/"), os.path.join(b, "rootfs/mnt/evil"))
    p = hako.cmd("run", "--bundle", b, cid)
    assert p.returncode != 0
    assert "points outside the rootfs" in p.stderr and "/mnt/evil" in p.stderr
    assert not os.path.exists(os.path.join(hako.root, cid))
    with open("/proc/self/mountinfo") as f:
        assert str(target) not in f.read()


def test_absolute_symlink_resolves_inside_rootfs(hako, tmp_path):
    target = tmp_path / "hako-test-host-dir"
    target.mkdir()

    def mutate(c):
        c["mounts"].append({"destination": "/mnt/abs", "type": "tmpfs", "source": "tmpfs"})
    b = hako.bundle(tmp_path, ["/bin/sh", "-c", "echo hi > /mnt/abs/f && ls /inside"], mutate,
                    copy_rootfs=True)
    os.symlink(str(target), os.path.join(b, "rootfs/mnt/abs"))
    os.makedirs(os.path.join(b, "rootfs", str(target).lstrip("/")))
    open(os.path.join(b, "rootfs/inside"), "w").close()
    p = hako.cmd("run", "--bundle", b, hako.new_id())
    assert p.returncode == 0, p.stderr
    assert os.listdir(target) == [], "the mount landed inside the rootfs, not on the host"


def test_read_only_root_without_proc(hako, tmp_path):
    """The root is remounted read-only by path: without a /proc in the
    container there is no /proc/self/fd to go through."""
    def mutate(c):
        c["root"]["readonly"] = True
        c["mounts"] = []
        c["linux"]["maskedPaths"] = []
        c["linux"]["readonlyPaths"] = []
    p = hako.run(tmp_path, ["/bin/hako-probe", "write", "/hako-test-file", "x"], mutate)
    assert p.returncode == 1 and "Read-only file system" in p.stdout, (p.stdout, p.stderr)


def test_podman_mount_options_tmpcopyup_and_copy_symlink(hako, tmp_path):
    """tmpcopyup: a tmpfs over an image directory starts with its files (podman
    --read-only mounts /tmp, /run and /var/tmp so). copy-symlink: a bind of a
    symlink becomes that symlink (podman's /etc/localtime)."""
    link = tmp_path / "localtime"
    os.symlink("/usr/share/zoneinfo/Hako/Test", link)

    def mutate(c):
        c["mounts"] += [
            {"destination": "/etc", "type": "tmpfs", "source": "tmpfs",
             "options": ["tmpcopyup", "nosuid", "mode=755"]},
            {"destination": "/etc/localtime", "type": "bind", "source": str(link),
             "options": ["bind", "copy-symlink"]}]
    p = hako.run(tmp_path, ["/bin/sh", "-c",
                            "grep -c root: /etc/passwd; readlink /etc/localtime; "
                            "touch /etc/new && echo writable; stat -c %a /etc"], mutate)
    assert p.returncode == 0, p.stderr
    assert p.stdout.split() == ["1", "/usr/share/zoneinfo/Hako/Test", "writable", "755"], p.stdout
    assert not os.path.exists(os.path.join(BASE_BUNDLE, "rootfs", "etc", "new"))


def test_idmapped_mounts_are_refused_clearly(hako, tmp_path):
    def mutate(c):
        c["mounts"].append({"destination": "/data", "type": "bind", "source": str(tmp_path),
                            "options": ["bind", "idmap"]})
    p = hako.run(tmp_path, ["/bin/true"], mutate)
    assert p.returncode != 0
    assert 'option "idmap": idmapped mounts are not supported' in p.stderr, p.stderr
