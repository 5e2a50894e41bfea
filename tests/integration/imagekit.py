# SPDX-License-Identifier: GPL-2.0-or-later
"""Images that no one here wrote, in every form hakoctl loads.

A Debian rootfs made by mmdebstrap (packages extracted as they are: a
dynamically linked userland, /lib64/ld-linux-x86-64.so.2 a symlink into
/lib, /etc/os-release a symlink into /usr) is turned into each format by
the tools that make them: podman (docker-archive, oci-archive), skopeo (an
OCI layout, a zstd OCI archive) and umoci (a second layer with whiteouts).
The legacy docker save layout, which none of them writes any more, is
written here from umoci's layers. Tar files for the hostile-input tests are
made here too, each with one bad entry.
"""
import hashlib
import io
import json
import lzma
import os
import shutil
import subprocess
import tarfile
import tempfile

PACKAGES = "base-files,base-passwd,dash,coreutils,libc6,bash,grep"


def sh(*argv, **kw):
    p = subprocess.run(argv, capture_output=True, text=True, **kw)
    if p.returncode != 0:
        raise AssertionError(f"{argv} failed ({p.returncode}): {p.stderr}")
    return p.stdout


def debian_rootfs(top):
    out = top / "debian.tar"
    sh("mmdebstrap", "--quiet", "--variant=extract", "--include=" + PACKAGES, "bookworm",
       str(out), timeout=600)
    return out


class Podman:
    """podman with a store of its own (vfs: nothing mounted, nothing left)."""

    def __init__(self, top):
        self.top = top
        # podman wants a runroot of at most 50 characters.
        self.runroot = tempfile.mkdtemp(prefix="hako-test-pm-", dir="/tmp")

    def close(self):
        shutil.rmtree(self.runroot, ignore_errors=True)

    def __call__(self, *args, **kw):
        return sh("podman", "--root", str(self.top / "root"), "--runroot",
                  self.runroot, "--storage-driver", "vfs",
                  "--cgroup-manager", "cgroupfs", "--events-backend", "none", *args,
                  timeout=300, **kw)


def digest(data):
    return hashlib.sha256(data).hexdigest()


def legacy_archive(oci_dir, tag, out, name="localhost/hako-test-legacy:1"):
    """docker save's layout before 1.10: repositories, <id>/json naming its
    parent, <id>/layer.tar, <id>/VERSION; no manifest.json; xz-compressed
    like the CentOS Stream image."""
    index = json.loads((oci_dir / "index.json").read_text())
    desc = next(m for m in index["manifests"]
                if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == tag)
    blob = lambda d: (oci_dir / "blobs" / "sha256" / d.split(":")[1]).read_bytes()
    manifest = json.loads(blob(desc["digest"]))
    config = json.loads(blob(manifest["config"]["digest"]))
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as t:
        def add(path, data):
            info = tarfile.TarInfo(path)
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
        parent = None
        for i, layer in enumerate(manifest["layers"]):
            data = blob(layer["digest"])
            if data[:2] == b"\x1f\x8b":
                import gzip
                data = gzip.decompress(data)
            lid = digest((parent or "") .encode() + data)
            j = {"id": lid, "created": config.get("created"), "os": "linux",
                 "architecture": "amd64",
                 "container_config": {"Cmd": ["/bin/sh", "-c", f"#(nop) layer {i}"]}}
            if parent:
                j["parent"] = parent
            if i == len(manifest["layers"]) - 1:
                j["config"] = config.get("config", {})
            add(f"{lid}/VERSION", b"1.0")
            add(f"{lid}/json", json.dumps(j).encode())
            add(f"{lid}/layer.tar", data)
            parent = lid
        repo, tagname = name.rsplit(":", 1)
        add("repositories", json.dumps({repo: {tagname: parent}}).encode())
    out.write_bytes(lzma.compress(buf.getvalue()))
    return out


def tar_bytes(entries, fmt=tarfile.PAX_FORMAT):
    """A tar of entries: (name, kind, extra) with kind file|dir|symlink|
    hardlink|char|block|fifo; extra is the data, the link target or a dict."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as t:
        for name, kind, extra in entries:
            info = tarfile.TarInfo(name)
            info.mode = 0o755 if kind == "dir" else 0o644
            data = None
            if kind == "file":
                data = extra if isinstance(extra, bytes) else (extra or b"")
                info.size = len(data)
            elif kind == "dir":
                info.type = tarfile.DIRTYPE
            elif kind == "symlink":
                info.type, info.linkname = tarfile.SYMTYPE, extra
            elif kind == "hardlink":
                info.type, info.linkname = tarfile.LNKTYPE, extra
            elif kind in ("char", "block"):
                info.type = tarfile.CHRTYPE if kind == "char" else tarfile.BLKTYPE
                info.devmajor, info.devminor = extra
            elif kind == "fifo":
                info.type = tarfile.FIFOTYPE
            elif kind == "pax":
                data = extra["data"]
                info.size = len(data)
                info.pax_headers = extra["pax"]
                info.mode = extra.get("mode", 0o644)
            t.addfile(info, io.BytesIO(data) if data is not None else None)
    return buf.getvalue()


def docker_archive(layers, config_extra=None, names=("localhost/hako-test-x:1",),
                   mutate=None, manifest_text=None):
    """A docker-archive (manifest.json last, as docker writes it) of raw
    layer tars; mutate(manifest, config) and manifest_text(text) may break
    it on purpose."""
    diff_ids = ["sha256:" + digest(l) for l in layers]
    config = {"architecture": "amd64", "os": "linux",
              "config": {"Cmd": ["/bin/sh"]},
              "rootfs": {"type": "layers", "diff_ids": diff_ids}}
    config.update(config_extra or {})
    manifest = [{"Config": None, "RepoTags": list(names),
                 "Layers": [f"{digest(l)}/layer.tar" for l in layers]}]
    if mutate:
        mutate(manifest, config)
    cfg = json.dumps(config).encode()
    if manifest[0]["Config"] is None:
        manifest[0]["Config"] = digest(cfg) + ".json"
    files = [(f"{digest(l)}/layer.tar", l) for l in layers]
    text = json.dumps(manifest)
    if manifest_text:
        text = manifest_text(text)
    files += [(manifest[0]["Config"], cfg), ("manifest.json", text.encode())]
    return tar_bytes([(n, "file", d) for n, d in files])
