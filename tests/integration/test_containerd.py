# SPDX-License-Identifier: GPL-2.0-or-later
"""containerd 1.6 and its runc shim driving hako (ctr run --runc-binary), with
a private containerd: its own root, state, sockets, runc root and fifos under
the test's directory, and container cgroups under a hako-test parent. (The
shim still makes its socket directory /run/containerd/s: 1.6 hard-codes it.)"""
import os
import shutil
import subprocess
import time
import uuid

import pytest

from conftest import BASE_BUNDLE, HAKO, Containerd, remove_cgroup_tree


@pytest.fixture(scope="module")
def ctr(tmp_path_factory):
    if not shutil.which("containerd") or not shutil.which("ctr"):
        pytest.skip("containerd is installed by scripts/deps.sh test")
    if os.environ.get("HAKO_BIN"):
        pytest.skip("containerd drives the normal build; the sanitizer run skips it")
    top = tmp_path_factory.mktemp("hako-test-ctrd")
    tag = "hako-test-" + uuid.uuid4().hex[:8]
    daemon = Containerd(top, """[plugins."io.containerd.grpc.v1.cri"]
  disable_cgroup = true
""")
    sock = daemon.sock
    rootfs = os.path.join(BASE_BUNDLE, "rootfs")

    def run(*args, check=True, timeout=60):
        p = subprocess.run(["ctr", "--address", str(sock), *args], text=True,
                           capture_output=True, timeout=timeout)
        if check and p.returncode != 0:
            raise AssertionError(f"ctr {args} failed ({p.returncode}): {p.stderr}")
        return p

    def start(name, *cmd, detach=False):
        return run("run", *(["-d"] if detach else ["--rm"]), "--runc-binary", HAKO,
                   "--runc-root", str(top / "runc"), "--fifo-dir", str(top / "fifo"),
                   "--cgroup", f"/{tag}/{name}", "--rootfs", rootfs, name, *cmd,
                   check=False)
    run.start = start
    run.tag = tag
    run.fifo_dir = str(top / "fifo")
    yield run
    for name in run("task", "ls", "-q", check=False).stdout.split():
        run("task", "kill", "-s", "KILL", name, check=False)
        time.sleep(0.2)
        run("task", "delete", name, check=False)
    for name in run("container", "ls", "-q", check=False).stdout.split():
        run("container", "delete", name, check=False)
    daemon.stop()
    remove_cgroup_tree(tag)
    shutil.rmtree(top, ignore_errors=True)


def test_ctr_run_rm(ctr):
    p = ctr.start(ctr.tag + "-1", "echo", "hi-from-containerd")
    assert p.returncode == 0 and p.stdout == "hi-from-containerd\n", p.stderr


def test_ctr_detached_exec_pause_kill(ctr):
    name = ctr.tag + "-2"
    assert ctr.start(name, "sleep", "100", detach=True).returncode == 0
    p = ctr("task", "exec", "--fifo-dir", ctr.fifo_dir, "--exec-id", "e1", name, "sh", "-c",
            "echo exec-ok; exit 4", check=False)
    assert p.returncode == 4 and p.stdout == "exec-ok\n", p.stderr
    pids = ctr("task", "ps", name).stdout
    assert len(pids.splitlines()) == 2
    ctr("task", "pause", name)
    assert "PAUSED" in ctr("task", "ls").stdout
    ctr("task", "resume", name)
    assert "RUNNING" in ctr("task", "ls").stdout
    ctr("task", "kill", "-s", "KILL", name)
    for _ in range(100):
        if "STOPPED" in ctr("task", "ls").stdout:
            break
        time.sleep(0.05)
    ctr("task", "delete", name)
    ctr("container", "delete", name)
