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
HAKOCTL = os.path.abspath(os.environ.get("HAKOCTL_BIN", os.path.join(BUILD, "hakoctl")))
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


def mounts_below(path):
    """Mount points at or below path, deepest first."""
    path = os.path.realpath(str(path))
    with open("/proc/self/mountinfo") as f:
        points = [line.split()[4] for line in f]
    return sorted({p for p in points if p == path or p.startswith(path + "/")},
                  key=len, reverse=True)


# hakoctl puts containers on its network by default: its bridge and nftables
# table are made in this network namespace (the tests' "host"), made for the
# session, never in the machine's own.
CTL_NETNS = f"hako-test-net-{os.getpid()}"
NSENTER = shutil.which("nsenter") or "/usr/bin/nsenter"


def machine_has_bridge():
    return subprocess.run(["ip", "link", "show", "hako0"], capture_output=True).returncode == 0


@pytest.fixture(scope="session", autouse=True)
def ctl_netns():
    before = machine_has_bridge()
    subprocess.run(["ip", "netns", "add", CTL_NETNS], check=True)
    subprocess.run(["ip", "-n", CTL_NETNS, "link", "set", "lo", "up"], check=True)
    yield CTL_NETNS
    subprocess.run(["ip", "netns", "del", CTL_NETNS], capture_output=True)
    # A hakoctl run outside it would have made its bridge in the machine's own.
    assert before or not machine_has_bridge(), \
        "a test ran hakoctl in the machine's network namespace: it made hako0 there"


class Ctl:
    """hakoctl with a store and runtime state of its own, driving the hako
    under test (HAKO) as its runtime, in the network namespace netns."""

    def __init__(self, top):
        self.top = top
        self.store = top / "store"
        self.runroot = top / "run"
        self.netns = CTL_NETNS

    def argv(self, *args):
        return [NSENTER, f"--net=/run/netns/{self.netns}", HAKOCTL, "--storage",
                str(self.store), "--runtime", HAKO, "--runroot", str(self.runroot), *args]

    def __call__(self, *args, check=False, timeout=120, **kw):
        kw.setdefault("capture_output", True)
        kw.setdefault("stdin", subprocess.DEVNULL)
        p = subprocess.run(self.argv(*args), text=True, timeout=timeout, **kw)
        if check and p.returncode != 0:
            raise AssertionError(f"hakoctl {args} failed ({p.returncode}): {p.stderr}")
        return p

    def leftovers(self):
        """What a finished container or a failed load must not leave."""
        left = []
        for d in ("containers", "tmp", "containers/.names", "volumes"):
            if (self.store / d).exists():
                left += [f"{d}/{x}" for x in os.listdir(self.store / d) if x != ".names"]
        left += mounts_below(self.store)
        # The bundles, the watchers' records, and the runtime's state (its
        # dot files are caches).
        for d in ("bundles", "ctr", os.path.basename(HAKO)):
            if (self.runroot / d).exists():
                left += [f"run/{d}/{x}" for x in os.listdir(self.runroot / d) if x[0] != "."]
        return left

    def monitor_pids(self):
        """The monitors of this store's containers (hako-monitor --storage STORE ...)."""
        pids = []
        for p in os.listdir("/proc"):
            try:
                with open(f"/proc/{p}/cmdline", "rb") as f:
                    argv = f.read().split(b"\0")
            except OSError:
                continue
            if argv[0].endswith(b"/hako-monitor") and str(self.store).encode() in argv:
                pids.append(int(p))
        return pids

    def cleanup_runtime_state(self):
        """The runtime's containers of this run dir, deleted (their cgroups too)."""
        state = self.runroot / os.path.basename(HAKO)
        if state.exists():
            p = subprocess.run([HAKO, "--root", str(state), "list", "-q"],
                               capture_output=True, text=True)
            for cid in p.stdout.split():
                subprocess.run([HAKO, "--root", str(state), "delete", "--force", cid],
                               capture_output=True)

    def cleanup(self):
        for pid in self.monitor_pids():
            os.kill(pid, 9)
        for m in mounts_below(self.top):
            subprocess.run(["umount", "-l", m], capture_output=True)
        self.cleanup_runtime_state()
        shutil.rmtree(self.top, ignore_errors=True)


def read_pty(fd, timeout=20, until=None):
    """What comes from a pty's master until it hangs up, the timeout, or until
    appears in it."""
    import select
    out = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and (until is None or until not in out):
        if select.select([fd], [], [], 0.1)[0]:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
    return out


def run_in_pty(argv, timeout=20):
    """Run argv on a new pty: its exit status, and what it wrote there."""
    import pty
    pid, fd = pty.fork()
    if pid == 0:
        os.execv(argv[0], argv)
    out = read_pty(fd, timeout)
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    return os.waitstatus_to_exitcode(status), out


def wait_for(pred, what, timeout=20):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def ctl(tmp_path_factory):
    c = Ctl(tmp_path_factory.mktemp("hako-test-ctl"))
    yield c
    c.cleanup()


@pytest.fixture(scope="session")
def images(tmp_path_factory):
    """The Debian rootfs in every form (imagekit.py), made once per session."""
    import imagekit
    top = tmp_path_factory.mktemp("hako-test-images")
    rootfs = imagekit.debian_rootfs(top)
    podman = imagekit.Podman(top / "podman")
    podman("import", "--change", 'CMD ["/bin/cat", "/etc/os-release"]',
           "--change", "ENV HAKO_FROM=podman", str(rootfs), "localhost/hako-test-deb:1")
    out = {"rootfs": rootfs, "docker-archive": top / "podman-docker.tar",
           "oci-archive": top / "podman-oci.tar", "oci-dir": top / "skopeo-oci",
           "oci-zstd": top / "skopeo-zstd.tar", "legacy": top / "legacy.tar.xz"}
    podman("save", "--format", "docker-archive", "-o", str(out["docker-archive"]),
           "localhost/hako-test-deb:1")
    podman("save", "--format", "oci-archive", "-o", str(out["oci-archive"]),
           "localhost/hako-test-deb:1")
    src = "docker-archive:" + str(out["docker-archive"])
    imagekit.sh("skopeo", "copy", "-q", src, f"oci:{out['oci-dir']}:1")
    imagekit.sh("skopeo", "copy", "-q", "--dest-compress-format", "zstd", src,
                f"oci-archive:{out['oci-zstd']}:hako-test-zstd:1")
    # umoci: a second layer that deletes a directory and a file (whiteouts)
    # and adds a file.
    bundle = top / "umoci-bundle"
    imagekit.sh("umoci", "unpack", "--image", f"{out['oci-dir']}:1", str(bundle))
    shutil.rmtree(bundle / "rootfs/usr/share/doc")
    os.unlink(bundle / "rootfs/etc/debian_version")
    (bundle / "rootfs/hako-layer2").write_text("from umoci's second layer\n")
    imagekit.sh("umoci", "repack", "--image", f"{out['oci-dir']}:2", str(bundle))
    imagekit.sh("umoci", "config", "--image", f"{out['oci-dir']}:2",
                "--config.cmd", "/bin/cat", "--config.cmd", "/hako-layer2")
    imagekit.legacy_archive(out["oci-dir"], "2", out["legacy"])
    podman.close()
    shutil.rmtree(top / "podman", ignore_errors=True)
    shutil.rmtree(bundle, ignore_errors=True)
    yield out
    shutil.rmtree(top, ignore_errors=True)


def pytest_configure(config):
    if os.geteuid() != 0:
        pytest.exit("the integration tests run containers: run them as root", 2)
    if not os.path.exists(HAKO) or not os.path.exists(BASE_BUNDLE):
        pytest.exit(f"build hako first: {HAKO} or {BASE_BUNDLE} is missing", 2)
