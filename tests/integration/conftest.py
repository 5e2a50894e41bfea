# SPDX-License-Identifier: GPL-2.0-or-later
"""Fixtures for running real containers with the built hako.

Every container, cgroup and state root a test makes is named under a
"hako-test" prefix and removed afterwards, also when the test fails.
"""
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import uuid

import pytest

BUILD = os.environ.get("HAKO_BUILD", os.path.join(os.path.dirname(__file__), "..", "..", "build"))
HAKO = os.path.abspath(os.environ.get("HAKO_BIN", os.path.join(BUILD, "hako")))
BASE_BUNDLE = os.path.abspath(os.path.join(BUILD, "busybox-bundle"))
# The suite's own default parent cgroup (hako's is hako/): another hako user
# on the machine neither shares it nor keeps it alive.
PARENT = "hako-test-parent-" + uuid.uuid4().hex[:8]
os.environ["HAKO_CGROUP_PARENT"] = PARENT


def cgroup_leftovers(cid):
    """Every cgroup directory named after the container, on any hierarchy."""
    found = []
    for root, dirs, _ in os.walk("/sys/fs/cgroup"):
        found += [os.path.join(root, d) for d in dirs if d == cid]
        if root.count("/") > 6:
            dirs[:] = []
    return found


def remove_cgroup_tree(name):
    """Remove /sys/fs/cgroup/*/NAME and what is below it (an engine's parent)."""
    for h in os.listdir("/sys/fs/cgroup"):
        top = os.path.join("/sys/fs/cgroup", h, name)
        if os.path.isdir(top):
            for d, _, _ in sorted(os.walk(top), key=lambda w: -len(w[0])):
                os.rmdir(d)


class Containerd:
    """A private containerd: its root, state, sockets and plugin directories
    under top, with the extra TOML (plugin sections) given."""

    def __init__(self, top, extra_toml=""):
        self.top = top
        self.sock = top / "containerd.sock"
        (top / "config.toml").write_text(f"""version = 2
root = "{top}/root"
state = "{top}/state"
[grpc]
  address = "{self.sock}"
[ttrpc]
  address = "{top}/containerd-ttrpc.sock"
[plugins."io.containerd.internal.v1.opt"]
  path = "{top}/opt"
""" + extra_toml)
        self.log = open(top / "containerd.log", "w")
        self.daemon = subprocess.Popen(["containerd", "--config", str(top / "config.toml")],
                                       stdout=self.log, stderr=self.log)
        for _ in range(200):
            if self.sock.exists():
                break
            time.sleep(0.05)

    def stop(self):
        self.daemon.send_signal(signal.SIGTERM)
        self.daemon.wait(10)
        self.log.close()
        # What its snapshots and sandboxes left mounted under its directories.
        for d in ("root", "state"):
            subprocess.run(["umount", "-R", str(self.top / d)], capture_output=True)


class Hako:
    def __init__(self, root):
        self.root = root
        self.ids = []

    def new_id(self):
        cid = "hako-test-" + uuid.uuid4().hex[:10]
        self.ids.append(cid)
        return cid

    def cmd(self, *args, check=False, timeout=30, **kw):
        # Files, not pipes: a detached container keeps its stdio open, and a
        # pipe would make us wait for it to exit.
        with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
            p = subprocess.run([HAKO, "--root", self.root, *args], stdout=out, stderr=err,
                               text=True, timeout=timeout, **kw)
            out.seek(0)
            err.seek(0)
            p.stdout, p.stderr = out.read(), err.read()
        if check and p.returncode != 0:
            raise AssertionError(f"hako {args} failed ({p.returncode}): {p.stderr}")
        return p

    def bundle(self, tmp_path, args, mutate=None, copy_rootfs=False):
        """A bundle running args on the built-in busybox rootfs."""
        bundle = tmp_path / ("bundle-" + uuid.uuid4().hex[:6])
        bundle.mkdir()
        rootfs = os.path.join(BASE_BUNDLE, "rootfs")
        if copy_rootfs:
            shutil.copytree(rootfs, bundle / "rootfs", symlinks=True)
            rootfs = str(bundle / "rootfs")
        with open(os.path.join(BASE_BUNDLE, "config.json")) as f:
            config = json.load(f)
        config["root"]["path"] = rootfs
        config["process"]["terminal"] = False
        config["process"]["args"] = args
        if mutate:
            mutate(config)
        (bundle / "config.json").write_text(json.dumps(config, indent=1))
        return str(bundle)

    def run(self, tmp_path, args, mutate=None, **kw):
        cid = self.new_id()
        b = self.bundle(tmp_path, args, mutate)
        return self.cmd("run", "--bundle", b, cid, **kw)

    def report(self, tmp_path, mutate=None):
        p = self.run(tmp_path, ["/bin/hako-probe", "report"], mutate)
        assert p.returncode == 0, p.stderr
        return json.loads(p.stdout)

    def cleanup(self):
        for cid in self.ids:
            self.cmd("delete", "--force", cid)


@pytest.fixture
def hako(tmp_path_factory):
    root = str(tmp_path_factory.mktemp("hako-test-root"))
    h = Hako(root)
    yield h
    h.cleanup()
    leftovers = [c for c in h.ids if cgroup_leftovers(c)]
    shutil.rmtree(root, ignore_errors=True)
    assert not leftovers, f"cgroups left behind: {leftovers}"


def pytest_configure(config):
    if os.geteuid() != 0:
        pytest.exit("the integration tests run containers: run them as root", 2)
    if not os.path.exists(HAKO) or not os.path.exists(BASE_BUNDLE):
        pytest.exit(f"build hako first: {HAKO} or {BASE_BUNDLE} is missing", 2)
