# SPDX-License-Identifier: GPL-2.0-or-later
"""create/start/state/kill/delete, exit codes, signals, list, spec, features."""
import json
import os
import signal
import subprocess
import time

import pytest

from conftest import HAKO, PARENT


def state(hako, cid):
    return json.loads(hako.cmd("state", cid, check=True).stdout)


def wait_status(hako, cid, want, timeout=10):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if state(hako, cid)["status"] == want:
            return
        time.sleep(0.05)
    raise AssertionError(f"{cid} never became {want}: {state(hako, cid)}")


def test_full_lifecycle(hako, tmp_path):
    cid = hako.new_id()
    b = hako.bundle(tmp_path, ["/bin/hako-probe", "sleep", "60"])
    pidfile = tmp_path / "pid"
    hako.cmd("create", "--bundle", b, "--pid-file", str(pidfile), cid, check=True)
    s = state(hako, cid)
    assert s["status"] == "created" and s["id"] == cid and s["bundle"] == b
    assert int(pidfile.read_text()) == s["pid"]
    with open(f"/proc/{s['pid']}/cmdline") as f:
        assert "hako" in f.read(), "before start, the init is still hako waiting on the fifo"
    assert hako.cmd("start", cid).returncode == 0
    assert state(hako, cid)["status"] == "running"
    assert hako.cmd("start", cid).returncode != 0
    p = hako.cmd("delete", cid)
    assert p.returncode != 0 and "not stopped" in p.stderr
    assert hako.cmd("kill", cid, "KILL").returncode == 0
    wait_status(hako, cid, "stopped")
    p = hako.cmd("kill", cid, "TERM")
    assert p.returncode != 0 and "container not running" in p.stderr
    assert hako.cmd("delete", cid).returncode == 0
    assert not os.path.exists(os.path.join(hako.root, cid))
    p = hako.cmd("state", cid)
    assert p.returncode != 0 and "does not exist" in p.stderr


def test_delete_created_container(hako, tmp_path):
    cid = hako.new_id()
    hako.cmd("create", "--bundle", hako.bundle(tmp_path, ["/bin/true"]), cid, check=True)
    pid = state(hako, cid)["pid"]
    assert hako.cmd("delete", cid).returncode == 0
    assert not os.path.exists(f"/proc/{pid}/cmdline") or open(f"/proc/{pid}/stat").read().split()[2] == "Z"


def test_exit_codes(hako, tmp_path):
    assert hako.run(tmp_path, ["/bin/hako-probe", "exit", "42"]).returncode == 42
    # Killed from outside while `run` waits in the foreground: 128 + SIGKILL.
    cid = hako.new_id()
    b = hako.bundle(tmp_path, ["/bin/hako-probe", "signals"])
    p = subprocess.Popen([HAKO, "--root", hako.root, "run", "--bundle", b, cid],
                         stdout=subprocess.PIPE, text=True)
    assert p.stdout.readline() == "ready\n"
    hako.cmd("kill", cid, "KILL", check=True)
    assert p.wait(timeout=10) == 137


def test_signal_forwarding(hako, tmp_path):
    cid = hako.new_id()
    b = hako.bundle(tmp_path, ["/bin/hako-probe", "signals"])
    p = subprocess.Popen([HAKO, "--root", hako.root, "run", "--bundle", b, cid],
                         stdout=subprocess.PIPE, text=True)
    assert p.stdout.readline() == "ready\n"
    p.send_signal(signal.SIGUSR1)
    out, _ = p.communicate(timeout=10)
    assert "signal 10" in out and p.returncode == 100 + signal.SIGUSR1


def test_kill_by_name_and_number(hako, tmp_path):
    for sig, code in (("SIGTERM", 115), ("15", 115), ("hup", 101)):
        cid = hako.new_id()
        b = hako.bundle(tmp_path, ["/bin/hako-probe", "signals"])
        hako.cmd("run", "-d", "--bundle", b, cid, check=True)
        time.sleep(0.2)
        assert hako.cmd("kill", cid, sig).returncode == 0
        wait_status(hako, cid, "stopped")


def test_process_settings(hako, tmp_path):
    def mutate(c):
        c["process"]["user"] = {"uid": 1000, "gid": 1000, "additionalGids": [5, 7], "umask": 0o27}
        c["process"]["cwd"] = "/home/work"
        c["process"]["env"] = ["PATH=/bin", "HAKO_TEST=1"]
        c["process"]["rlimits"] = [{"type": "RLIMIT_NOFILE", "soft": 100, "hard": 200}]
        c["process"]["oomScoreAdj"] = 300
    r = hako.report(tmp_path, mutate)
    assert (r["uid"], r["gid"], sorted(r["groups"])) == (1000, 1000, [5, 7])
    assert r["umask"] == 0o27 and r["cwd"] == "/home/work" and r["nofile"] == [100, 200]
    assert r["oom_score_adj"].strip() == "300"
    assert "CapEff:\t0000000000000000" in r["status"], "non-root gets no effective capabilities"
    assert "NoNewPrivs:\t1" in r["status"]
    assert r["fds"] == [0, 1, 2]


def test_capabilities_of_root(hako, tmp_path):
    r = hako.report(tmp_path)
    assert "CapBnd:\t0000000020000420" in r["status"]
    assert "CapEff:\t0000000020000420" in r["status"]


def test_preserve_fds(hako, tmp_path):
    cid = hako.new_id()
    b = hako.bundle(tmp_path, ["/bin/hako-probe", "report"])
    # A shell hands hako fds 3 and 4; only the first is to be preserved.
    p = subprocess.run(
        ["/bin/sh", "-c", 'exec 3</dev/null 4</dev/null; exec "$0" "$@"', HAKO, "--root", hako.root,
         "run", "--preserve-fds", "1", "--bundle", b, cid], capture_output=True, text=True, timeout=30)
    assert json.loads(p.stdout)["fds"] == [0, 1, 2, 3], "fd 4 is the host's and must not leak"


def test_list_and_state_formats(hako, tmp_path):
    cid = hako.new_id()
    hako.cmd("create", "--bundle", hako.bundle(tmp_path, ["/bin/true"]), cid, check=True)
    assert hako.cmd("list", "-q").stdout.split() == [cid]
    listed = json.loads(hako.cmd("list", "--format", "json").stdout)
    assert [c["id"] for c in listed] == [cid] and listed[0]["status"] == "created"
    table = hako.cmd("list").stdout.splitlines()
    assert table[0].split()[:3] == ["ID", "PID", "STATUS"] and cid in table[1]


def test_spec_and_features(hako, tmp_path):
    assert hako.cmd("spec", "--bundle", str(tmp_path)).returncode == 0
    config = json.loads((tmp_path / "config.json").read_text())
    assert config["process"]["args"] == ["sh"] and config["root"]["readonly"]
    p = hako.cmd("spec", "--bundle", str(tmp_path))
    assert p.returncode != 0 and "exists" in p.stderr
    rl = tmp_path / "rootless"
    rl.mkdir()
    hako.cmd("spec", "--rootless", "--bundle", str(rl), check=True)
    assert {"type": "user"} in json.loads((rl / "config.json").read_text())["linux"]["namespaces"]
    f = json.loads(hako.cmd("features", check=True).stdout)
    assert f["ociVersionMin"] == "1.0.0" and "time" in f["linux"]["namespaces"]
    assert hako.cmd("--version").stdout.startswith("hako version")


def test_debug_narrates_kernel_steps(hako, tmp_path):
    p = hako.run(tmp_path, ["/bin/true"])
    assert "pivot_root" not in p.stderr
    cid = hako.new_id()
    p = hako.cmd("--debug", "run", "--bundle", hako.bundle(tmp_path, ["/bin/true"]), cid)
    assert p.returncode == 0
    steps = p.stderr
    for step in ("clone3(CLONE_NEWPID|CLONE_NEWNS", 'mount("proc"', 'pivot_root(".", ".") ok',
                 'umount2(".", MNT_DETACH) ok', 'sethostname("hako") ok', "execve("):
        assert step in steps, step
    assert steps.index("clone3") < steps.index("pivot_root") < steps.index("execve")


def test_session_keyring(hako, tmp_path):
    """Each container gets a session keyring of its own, unless --no-new-keyring."""
    cid = hako.new_id()
    b = hako.bundle(tmp_path, ["/bin/hako-probe", "report"])
    p = hako.cmd("run", "--bundle", b, cid, check=True)
    assert json.loads(p.stdout)["keyring"].endswith(";_ses." + cid)
    cid = hako.new_id()
    p = hako.cmd("run", "--no-new-keyring", "--bundle", b, cid, check=True)
    assert "_ses." + cid not in json.loads(p.stdout)["keyring"]


def test_overlapping_containers_share_the_default_parent_cgroup(hako, tmp_path):
    """The default parent (hako/, the suite's own here: HAKO_CGROUP_PARENT)
    goes away with the last container in it."""
    parent = f"/sys/fs/cgroup/pids/{PARENT}"
    if not os.path.isdir("/sys/fs/cgroup/pids"):
        pytest.skip("needs the v1 pids hierarchy")
    assert not os.path.exists(parent), "a test before left the suite's parent"
    b = hako.bundle(tmp_path, ["/bin/hako-probe", "sleep", "60"])
    a, c = hako.new_id(), hako.new_id()
    hako.cmd("run", "-d", "--bundle", b, a, check=True)
    hako.cmd("run", "-d", "--bundle", b, c, check=True)
    assert os.path.isdir(f"{parent}/{a}") and os.path.isdir(f"{parent}/{c}")
    hako.cmd("delete", "--force", a, check=True)
    assert os.path.isdir(parent), "still used by the second container"
    hako.cmd("delete", "--force", c, check=True)
    assert not os.path.exists(parent), "the empty parent was left behind"


def test_parallel_runs_share_the_default_parent_cleanly(hako, tmp_path):
    """Containers that start and end at once race on the shared hako/ parent
    (and, on v1, on filling in its cpuset): every run must still succeed."""
    import concurrent.futures
    b = hako.bundle(tmp_path, ["/bin/true"])
    ids = [hako.new_id() for _ in range(24)]
    with concurrent.futures.ThreadPoolExecutor(6) as pool:
        results = list(pool.map(lambda cid: hako.cmd("run", "--bundle", b, cid), ids))
    failed = [(p.returncode, p.stderr) for p in results if p.returncode != 0]
    assert not failed, failed


def test_delete_force_after_the_runtime_was_killed(hako, tmp_path):
    """kill -9 of a foreground `run`: the container lives on, orphaned;
    delete --force ends it and removes its cgroups and state."""
    cid = hako.new_id()
    b = hako.bundle(tmp_path, ["/bin/hako-probe", "signals"])
    p = subprocess.Popen([HAKO, "--root", hako.root, "run", "--bundle", b, cid],
                         stdout=subprocess.PIPE, text=True)
    assert p.stdout.readline() == "ready\n"
    p.kill()
    p.wait()
    init = state(hako, cid)["pid"]
    assert state(hako, cid)["status"] == "running"
    hako.cmd("delete", "--force", cid, check=True)
    assert not os.path.exists(os.path.join(hako.root, cid))
    assert not os.path.exists(f"/proc/{init}/status") or \
        "zombie" in open(f"/proc/{init}/status").read()


def test_run_keep_leaves_the_stopped_container(hako, tmp_path):
    cid = hako.new_id()
    p = hako.cmd("run", "--keep", "--bundle", hako.bundle(tmp_path, ["/bin/sh", "-c", "exit 3"]),
                 cid)
    assert p.returncode == 3, p.stderr
    assert json.loads(hako.cmd("state", cid, check=True).stdout)["status"] == "stopped"
    hako.cmd("delete", cid, check=True)
    assert hako.cmd("state", cid).returncode != 0
    p = hako.cmd("create", "--keep", "--bundle", hako.bundle(tmp_path, ["/bin/true"]), cid)
    assert p.returncode != 0 and "unknown option" in p.stderr
