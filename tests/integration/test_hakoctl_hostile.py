# SPDX-License-Identifier: GPL-2.0-or-later
"""Hostile image archives: each is refused (or contained) with the entry
named, nothing outside the layer changes, and a refused load leaves nothing
in the store: no layer, no staging dir, no image, no name."""
import gzip
import json
import os
import stat
import tempfile

import pytest

import imagekit
from imagekit import docker_archive, tar_bytes


@pytest.fixture
def outside():
    """A directory outside the store that an escape would write into."""
    d = tempfile.mkdtemp(prefix="hako-test-outside-", dir="/tmp")
    yield d
    assert os.listdir(d) == [], "something was written outside the layer"
    os.rmdir(d)


def load_bytes(ctl, tmp_path, data, env=None):
    path = tmp_path / "image.tar"
    path.write_bytes(data)
    return ctl("load", "-i", str(path), env=env)


def assert_refused(ctl, p, *words):
    assert p.returncode == 125, p.stdout + p.stderr
    for w in words:
        assert w in p.stderr, p.stderr
    assert ctl.leftovers() == []
    for d in ("layers", "images"):
        assert os.listdir(ctl.store / d) == [], d
    names = ctl.store / "names.json"
    assert not names.exists() or json.loads(names.read_text()) == {}


def one_layer(entries):
    return docker_archive([tar_bytes(entries)])


@pytest.mark.parametrize("entry", ["../hako-escape", "a/../../hako-escape", "/etc/hako-escape",
                                   "a/.wh...", ".wh.."])
def test_dotdot_and_absolute_names_are_refused(ctl, tmp_path, entry):
    p = load_bytes(ctl, tmp_path, one_layer([("ok", "file", b"x"), (entry, "file", b"pwned")]))
    assert_refused(ctl, p, entry)
    assert not os.path.exists("/etc/hako-escape")


@pytest.mark.parametrize("target", ["ABS", "../../../../../../../../ABS"])
def test_a_file_through_a_symlink_is_refused(ctl, tmp_path, outside, target):
    """umoci's CVE-2021-29136: a symlink to a directory, then an entry under it."""
    link = target.replace("ABS", outside.lstrip("/") if target != "ABS" else outside)
    p = load_bytes(ctl, tmp_path, one_layer([("evil", "symlink", link),
                                             ("evil/pwned", "file", b"escaped")]))
    assert_refused(ctl, p, "evil/pwned", "symlink")


def test_symlinks_that_climb_are_kept_but_never_followed(ctl, tmp_path, outside):
    p = load_bytes(ctl, tmp_path, one_layer([("up", "symlink", "../../../../.." + outside),
                                             ("abs", "symlink", "/etc/shadow")]))
    assert p.returncode == 0, p.stderr
    (layer,) = os.listdir(ctl.store / "layers")
    diff = ctl.store / "layers" / layer / "diff"
    assert os.readlink(diff / "abs") == "/etc/shadow"


@pytest.mark.parametrize("target", ["../../../../etc/passwd", "/etc/passwd", "lnk/passwd"])
def test_hardlinks_out_of_the_layer_are_refused(ctl, tmp_path, target):
    p = load_bytes(ctl, tmp_path, one_layer([("lnk", "symlink", "/etc"),
                                             ("stolen", "hardlink", target)]))
    assert_refused(ctl, p, "stolen")


def test_device_nodes_are_not_made(ctl, tmp_path):
    p = load_bytes(ctl, tmp_path, one_layer([("dev/", "dir", None),
                                             ("dev/kmem2", "char", (1, 2)),
                                             ("dev/sda2", "block", (8, 0)),
                                             ("dev/fifo", "fifo", None)]))
    assert p.returncode == 0, p.stderr
    assert "2 device nodes not made" in p.stderr
    (layer,) = os.listdir(ctl.store / "layers")
    dev = ctl.store / "layers" / layer / "diff" / "dev"
    assert sorted(os.listdir(dev)) == ["fifo"]
    assert stat.S_ISFIFO(os.lstat(dev / "fifo").st_mode)


def test_setuid_bits_are_kept_for_root(ctl, tmp_path):
    layer = tar_bytes([("suid", "pax", {"data": b"#!/bin/sh\n", "pax": {}, "mode": 0o4755})])
    p = load_bytes(ctl, tmp_path, docker_archive([layer]))
    assert p.returncode == 0, p.stderr
    (l,) = os.listdir(ctl.store / "layers")
    assert stat.S_IMODE(os.lstat(ctl.store / "layers" / l / "diff" / "suid").st_mode) == 0o4755


def test_an_endless_stream_stops_at_the_cap(ctl, tmp_path):
    bomb = gzip.compress(tar_bytes([("zeros", "file", bytes(8 << 20))]), 9)
    assert len(bomb) < 64 << 10
    p = load_bytes(ctl, tmp_path, docker_archive([bomb]),
                   env=dict(os.environ, HAKO_IMAGE_MAX_BYTES=str(1 << 20)))
    assert_refused(ctl, p, "decompresses to more than 1048576 bytes")


def test_duplicate_json_keys_are_refused(ctl, tmp_path):
    layer = tar_bytes([("a", "file", b"a")])
    data = docker_archive([layer], manifest_text=lambda t: t.replace(
        '"RepoTags"', '"Config": "x.json", "RepoTags"', 1))
    p = load_bytes(ctl, tmp_path, data)
    assert_refused(ctl, p, "manifest.json", 'duplicate key "Config"')


def test_a_layer_whose_digest_does_not_match_is_refused(ctl, tmp_path):
    layer = tar_bytes([("a", "file", b"a")])

    def lie(manifest, config):
        config["rootfs"]["diff_ids"] = ["sha256:" + "0" * 64]
    p = load_bytes(ctl, tmp_path, docker_archive([layer], mutate=lie))
    assert_refused(ctl, p, "digest does not match")


def test_a_config_whose_digest_does_not_match_its_name_is_refused(ctl, tmp_path):
    def rename(manifest, config):
        manifest[0]["Config"] = "1" * 64 + ".json"
    p = load_bytes(ctl, tmp_path, docker_archive([tar_bytes([("a", "file", b"a")])],
                                                 mutate=rename))
    assert_refused(ctl, p, "digest does not match")


def test_a_manifest_naming_a_missing_layer_is_refused(ctl, tmp_path):
    def missing(manifest, config):
        manifest[0]["Layers"].append("f" * 64 + "/layer.tar")
        config["rootfs"]["diff_ids"].append("sha256:" + "f" * 64)
    p = load_bytes(ctl, tmp_path, docker_archive([tar_bytes([("a", "file", b"a")])],
                                                 mutate=missing))
    assert_refused(ctl, p, "f" * 64 + "/layer.tar", "not in the archive")


def test_an_oci_blob_that_is_not_what_its_name_says_is_refused(ctl, tmp_path):
    blob = gzip.compress(tar_bytes([("a", "file", b"a")]))
    wrong = "e" * 64
    data = tar_bytes([("oci-layout", "file", b'{"imageLayoutVersion":"1.0.0"}'),
                      (f"blobs/sha256/{wrong}", "file", blob),
                      ("index.json", "file", b'{"schemaVersion":2,"manifests":[]}')])
    p = load_bytes(ctl, tmp_path, data)
    assert_refused(ctl, p, wrong, "digest does not match")


def test_overlay_xattrs_in_a_tar_are_dropped_and_whiteouts_converted(ctl, tmp_path):
    layer = tar_bytes([
        ("d/", "dir", None),
        ("d/f", "pax", {"data": b"x", "pax": {"SCHILY.xattr.trusted.overlay.redirect": "/etc",
                                              "SCHILY.xattr.user.kept": "yes"}}),
        ("gone/", "dir", None),
        ("gone/.wh..wh..opq", "file", b""),
        (".wh.old", "file", b""),
    ])
    p = load_bytes(ctl, tmp_path, docker_archive([layer]))
    assert p.returncode == 0, p.stderr
    (l,) = os.listdir(ctl.store / "layers")
    diff = ctl.store / "layers" / l / "diff"
    assert os.listxattr(diff / "d/f") == ["user.kept"]
    assert os.getxattr(diff / "gone", "trusted.overlay.opaque") == b"y"
    assert os.listdir(diff / "gone") == []
    st = os.lstat(diff / "old")
    assert stat.S_ISCHR(st.st_mode) and st.st_rdev == 0
