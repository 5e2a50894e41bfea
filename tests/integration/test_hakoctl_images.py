# SPDX-License-Identifier: GPL-2.0-or-later
"""hakoctl's images in: every format people have, each run; the store."""
import json
import os
import subprocess

import pytest

import imagekit

OS_RELEASE = 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"'


def load(ctl, path, *extra):
    p = ctl("load", "-i", str(path), *extra)
    assert p.returncode == 0, p.stderr
    return [l.split(": ", 1)[1] for l in p.stdout.splitlines() if l.startswith("Loaded image")]


def runs_debian(ctl, name):
    p = ctl("run", "--rm", name, "cat", "/etc/os-release")
    assert p.returncode == 0 and OS_RELEASE in p.stdout, p.stderr
    p = ctl("run", "--rm", name, "dash", "-c", 'echo "$((6 * 7)) $0"')
    assert (p.returncode, p.stdout) == (0, "42 dash\n"), p.stderr
    assert ctl.leftovers() == []


@pytest.mark.parametrize("fmt", ["docker-archive", "oci-archive", "oci-zstd"])
def test_load_each_archive_and_run_it(ctl, images, fmt):
    names = load(ctl, images[fmt])
    assert len(names) == 1
    runs_debian(ctl, names[0])


def test_load_an_oci_layout_directory(ctl, images, tmp_path):
    # skopeo names it by a bare tag, which names no repository: the id is shown.
    (loaded,) = load(ctl, f"oci:{images['oci-dir']}:1")
    assert loaded.startswith("sha256:")
    (img,) = json.loads(ctl("images", "--format", "json", check=True).stdout)
    assert img["Names"] == [] and loaded == "sha256:" + img["Id"]
    runs_debian(ctl, img["Id"][:12])
    p = ctl("load", "-i", f"oci:{images['oci-dir']}:nosuchtag")
    assert p.returncode == 125 and "no image named nosuchtag" in p.stderr


def test_legacy_layout_without_manifest_json(ctl, images):
    """The CentOS Stream form: repositories, <id>/json with parents, xz."""
    with open(images["legacy"], "rb") as f:
        head = f.read(6)
    assert head == b"\xfd7zXZ\x00"
    names = load(ctl, images["legacy"])
    assert names == ["localhost/hako-test-legacy:1"]
    runs_debian(ctl, names[0])
    # Both layers, in order: the second one's whiteouts hide the first's files.
    p = ctl("run", "--rm", names[0], "dash", "-c",
            "cat /hako-layer2; test -e /usr/share/doc || echo doc gone; "
            "test -e /etc/debian_version || echo version gone; test -d /usr/share && echo share")
    assert p.stdout == "from umoci's second layer\ndoc gone\nversion gone\nshare\n", p.stderr
    inspect = json.loads(ctl("inspect", names[0], check=True).stdout)[0]
    assert len(inspect["Layers"]) == 2
    assert inspect["Config"]["config"]["Cmd"] == ["/bin/cat", "/hako-layer2"]
    assert "layer 1" in ctl("history", names[0], check=True).stdout


def test_umoci_whiteouts_become_overlayfs_ones(ctl, images):
    assert len(load(ctl, f"oci:{images['oci-dir']}")) == 2
    p = ctl("run", "--rm", _id_of(ctl, 2), "dash", "-c",
            "ls /usr/share/doc 2>&1; cat /hako-layer2")
    assert "No such file" in p.stdout and "second layer" in p.stdout, p.stdout + p.stderr
    # In the store the whiteout is the kernel's: a 0:0 character device.
    layers = ctl.store / "layers"
    kinds = sorted(os.lstat(layers / l / "diff/usr/share/doc").st_mode & 0o170000
                   for l in os.listdir(layers))
    assert kinds == [0o020000, 0o040000]  # the upper's whiteout, the lower's dir
    (top,) = [l for l in os.listdir(layers)
              if os.path.exists(layers / l / "diff/hako-layer2")]
    assert os.lstat(layers / top / "diff/usr/share/doc").st_rdev == 0


def _id_of(ctl, n_layers):
    for img in json.loads(ctl("images", "--format", "json", check=True).stdout):
        i = json.loads(ctl("inspect", img["Id"], check=True).stdout)[0]
        if len(i["Layers"]) == n_layers:
            return img["Id"]
    raise AssertionError(f"no image of {n_layers} layers")


@pytest.mark.parametrize("comp", ["none", "gzip", "xz", "zstd", "bzip2"])
def test_import_a_rootfs_tar_in_each_compression(ctl, images, tmp_path, comp):
    src = images["rootfs"]
    if comp != "none":
        src = tmp_path / ("rootfs." + comp)
        with open(images["rootfs"], "rb") as i, open(src, "wb") as o:
            subprocess.run([comp, "-c"], stdin=i, stdout=o, check=True)
    p = ctl("import", "--change", "CMD /bin/cat /etc/os-release", "--change", "ENV A=1",
            "--change", "WORKDIR /usr", "--change", 'ENTRYPOINT ["/bin/dash", "-c", "$0 \\"$@\\""]',
            str(src), "hako-test-imported:" + comp)
    assert p.returncode == 0, p.stderr
    cfg = json.loads(ctl("inspect", "hako-test-imported:" + comp, check=True).stdout)[0]
    # The layer is known by the digest of the tar inside, whatever wraps it.
    assert cfg["Layers"] == ["sha256:" + imagekit.digest(images["rootfs"].read_bytes())]
    p = ctl("run", "--rm", "hako-test-imported:" + comp)
    assert p.returncode == 0 and OS_RELEASE in p.stdout, p.stderr
    p = ctl("run", "--rm", "--entrypoint", "", "hako-test-imported:" + comp,
            "/bin/dash", "-c", "echo $A; pwd")
    assert p.stdout == "1\n/usr\n", p.stderr


def test_import_from_stdin_and_the_same_layer_is_stored_once(ctl, images):
    with open(images["rootfs"], "rb") as f:
        p = ctl("import", "-", "hako-test-a", stdin=f)
    assert p.returncode == 0, p.stderr
    load(ctl, images["docker-archive"])
    load(ctl, images["oci-archive"])
    # Three images, one layer: podman's layer is the same tar.
    assert len(json.loads(ctl("images", "--format", "json", check=True).stdout)) >= 2
    assert len(os.listdir(ctl.store / "layers")) == 1


def test_images_tag_rmi_prune(ctl, images):
    load(ctl, images["docker-archive"])
    ctl("tag", "localhost/hako-test-deb:1", "hako-test-other:2", check=True)
    out = ctl("images", check=True).stdout
    assert "localhost/hako-test-deb" in out and "localhost/hako-test-other" in out
    ids = ctl("images", "-q", check=True).stdout.split()
    assert len(ids) == 1 and len(ids[0]) == 12
    # A name goes; the image stays while another name holds it.
    assert "Untagged" in ctl("rmi", "hako-test-other:2", check=True).stdout
    assert ctl("images", "-q", check=True).stdout.split() == ids
    p = ctl("rmi", "hako-test-nothere")
    assert p.returncode == 125 and "hako-test-nothere: image not known" in p.stderr
    assert "Deleted" in ctl("rmi", ids[0], check=True).stdout
    assert os.listdir(ctl.store / "layers") == []
    assert ctl("images", "-q", check=True).stdout == ""


def test_rmi_is_refused_while_a_container_uses_the_image(ctl, images):
    load(ctl, images["docker-archive"])
    # A container kept (no --rm) still uses its image.
    assert ctl("run", "localhost/hako-test-deb:1", "true").returncode == 0
    p = ctl("rmi", "localhost/hako-test-deb:1")
    assert p.returncode == 125 and "in use by 1 container" in p.stderr
    assert len(os.listdir(ctl.store / "layers")) == 1


def test_bad_references_and_inputs_are_named(ctl, tmp_path):
    p = ctl("import", "/nonexistent.tar", "x")
    assert p.returncode == 125 and '"/nonexistent.tar"' in p.stderr
    p = ctl("tag", "busybox", "UPPER/Case")
    assert p.returncode == 125
    bad = tmp_path / "notanarchive"
    bad.write_bytes(b"hello, not a tar at all\n" * 100)
    p = ctl("load", "-i", str(bad))
    assert p.returncode == 125 and "notanarchive" in p.stderr
    rootfs_only = tmp_path / "rootfs.tar"
    rootfs_only.write_bytes(imagekit.tar_bytes([("etc/", "dir", None),
                                                ("etc/hostname", "file", b"x\n")]))
    p = ctl("load", "-i", str(rootfs_only))
    assert p.returncode == 125 and "hakoctl import" in p.stderr
    assert ctl.leftovers() == []


@pytest.mark.parametrize("fmt", ["docker-archive", "oci-archive"])
def test_save_then_podman_load_and_back(ctl, images, tmp_path, fmt):
    """hakoctl save, podman load it, podman save it, hakoctl load that."""
    load(ctl, images["legacy"])
    out = tmp_path / "saved.tar"
    p = ctl("save", "--format", fmt, "-o", str(out), "localhost/hako-test-legacy:1")
    assert p.returncode == 0, p.stderr
    assert not [f for f in os.listdir(tmp_path) if "hakoctl-" in f]
    podman = imagekit.Podman(tmp_path / "podman")
    try:
        assert "localhost/hako-test-legacy:1" in podman("load", "-i", str(out))
        info = json.loads(podman("image", "inspect", "localhost/hako-test-legacy:1"))[0]
        assert len(info["RootFS"]["Layers"]) == 2
        assert info["Config"]["Cmd"] == ["/bin/cat", "/hako-layer2"]
        back = tmp_path / "back.tar"
        podman("save", "--format", "docker-archive", "-o", str(back),
               "localhost/hako-test-legacy:1")
    finally:
        podman.close()
    ctl("rmi", "localhost/hako-test-legacy:1", check=True)
    assert load(ctl, back) == ["localhost/hako-test-legacy:1"]
    p = ctl("run", "--rm", "localhost/hako-test-legacy:1")
    assert p.stdout == "from umoci's second layer\n", p.stderr
    p = ctl("run", "--rm", "localhost/hako-test-legacy:1", "dash", "-c",
            "test -e /etc/debian_version || echo whiteout kept")
    assert p.stdout == "whiteout kept\n"
    runs_debian(ctl, "localhost/hako-test-legacy:1")


def test_save_refuses_a_terminal_and_leaves_nothing_on_failure(ctl, tmp_path):
    p = ctl("save", "-o", str(tmp_path / "x.tar"), "hako-test-missing")
    assert p.returncode == 125 and "image not known" in p.stderr
    assert os.listdir(tmp_path) == []
