# SPDX-License-Identifier: GPL-2.0-or-later
"""hakoctl's containers by name: --name, ps and rm, on real containers run
by the hako runtime (the conftest's `ctl`: a store and run dir of its own)."""
import json
import os
import re
import shutil
import signal
import subprocess
import time

from conftest import read_pty, wait_for


def ps(ctl, *flags):
    return json.loads(ctl("ps", "--format", "json", *flags, check=True).stdout)


def background_run(ctl, *args):
    return subprocess.Popen(ctl.argv("run", *args), stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_names_given_generated_and_unique(ctl):
    ctl("run", "--name", "hako-test-web", "busybox", "true", check=True)
    ctl("run", "busybox", "true", check=True)
    names = sorted(c["Names"][0] for c in ps(ctl, "-a"))
    assert "hako-test-web" in names and len(set(names)) == 2, names
    # docker's form: adjective_noun
    (gen,) = [n for n in names if n != "hako-test-web"]
    assert "_" in gen and gen.replace("_", "").isalpha(), gen
    before = sorted(ctl.leftovers())
    p = ctl("run", "--name", "hako-test-web", "busybox", "true")
    assert p.returncode == 125 and '"hako-test-web" is in use' in p.stderr, p.stderr
    p = ctl("run", "--name", "-bad name", "busybox", "true")
    assert p.returncode == 125 and "--name" in p.stderr, p.stderr
    assert sorted(ctl.leftovers()) == before  # the refused ones left nothing
    # a removed container's name is free again, and so is one whose
    # container vanished without rm (its index entry is stale)
    ctl("rm", "hako-test-web", check=True)
    ctl("run", "--name", "hako-test-web", "busybox", "true", check=True)
    (web,) = [c["Id"] for c in ps(ctl, "-a") if c["Names"] == ["hako-test-web"]]
    shutil.rmtree(ctl.store / "containers" / web)
    ctl("run", "--name", "hako-test-web", "busybox", "true", check=True)
    assert [c["Names"][0] for c in ps(ctl, "-a")].count("hako-test-web") == 1


def test_ps_shows_running_and_exited_containers_truthfully(ctl):
    ctl("run", "--name", "hako-test-three", "busybox", "sh", "-c", "exit 3")
    run = background_run(ctl, "--name", "hako-test-sleeper", "busybox", "sleep", "30")
    try:
        wait_for(lambda: [c["Names"] for c in ps(ctl)] == [["hako-test-sleeper"]],
                 "the running container in ps")
        (running,) = ps(ctl)
        assert running["State"] == "running" and running["Status"].startswith("Up ")
        assert running["Command"] == "sleep 30" and running["Image"] == "busybox"
        every = {c["Names"][0]: c for c in ps(ctl, "-a")}
        assert every["hako-test-three"]["State"] == "exited"
        assert every["hako-test-three"]["ExitCode"] == 3
        assert every["hako-test-three"]["Status"].startswith("Exited (3) ")
        # newest first, as docker lists them
        assert list(every) == ["hako-test-sleeper", "hako-test-three"]
        assert [c["Names"][0] for c in ps(ctl, "--filter", "status=exited")] == \
            ["hako-test-three"]
        assert [c["Names"][0] for c in ps(ctl, "-a", "--filter", "name=sleep")] == \
            ["hako-test-sleeper"]
        q = ctl("ps", "-a", "-q", check=True).stdout.split()
        assert q == [c["Id"][:12] for c in every.values()]
        table = ctl("ps", check=True).stdout.splitlines()
        assert table[0].split() == ["CONTAINER", "ID", "IMAGE", "COMMAND", "CREATED",
                                    "STATUS", "NAMES"]
        assert table[1].endswith("hako-test-sleeper") and len(table) == 2
    finally:
        ctl("rm", "-f", "hako-test-sleeper")
        run.wait(timeout=30)


def test_rm_refuses_a_running_container_and_rm_f_removes_everything(ctl):
    run = background_run(ctl, "--name", "hako-test-busy", "busybox", "sleep", "30")
    wait_for(lambda: ps(ctl), "the container to run")
    p = ctl("rm", "hako-test-busy")
    assert p.returncode == 125 and "is running" in p.stderr, p.stderr
    assert ps(ctl)[0]["Names"] == ["hako-test-busy"]
    p = ctl("rm", "-f", "hako-test-busy", check=True)
    assert p.stdout == "hako-test-busy\n"
    assert run.wait(timeout=30) == 137  # killed, as docker's status says
    assert ps(ctl, "-a") == []
    assert ctl.leftovers() == []  # no upper dir, bundle, watcher, mount or runtime state


def test_rm_by_id_prefix_and_unknown_names(ctl):
    ctl("run", "--name", "hako-test-a", "busybox", "true", check=True)
    ctl("run", "--name", "hako-test-b", "busybox", "true", check=True)
    ids = {c["Names"][0]: c["Id"] for c in ps(ctl, "-a")}
    p = ctl("rm", ids["hako-test-a"][:10], check=True)
    assert p.stdout == ids["hako-test-a"][:10] + "\n"
    p = ctl("rm", "hako-test-nothing", "hako-test-b")
    assert p.returncode == 125
    assert 'no such container: "hako-test-nothing"' in p.stderr, p.stderr
    assert p.stdout == "hako-test-b\n"  # the others are still removed
    assert ctl.leftovers() == []


def running(pid):
    """Whether pid is a live process (a zombie waiting for its reaper is not)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in "ZX"
    except OSError:
        return False


def state(ctl, name):
    (c,) = [c for c in ps(ctl, "-a") if c["Names"] == [name]]
    return c


def inspect_state(ctl, name):
    (c,) = json.loads(ctl("inspect", name, check=True).stdout)
    return c["State"]


def test_run_d_logs_stop_and_rm(ctl):
    script = ("trap 'echo got TERM; exit 7' TERM; echo to stdout; echo to stderr >&2; "
              "while true; do sleep 0.1; done")
    p = ctl("run", "-d", "--name", "hako-test-d", "busybox", "sh", "-c", script, check=True)
    cid = p.stdout.strip()
    assert len(cid) == 64 and p.stderr == ""
    wait_for(lambda: "to stderr" in ctl("logs", "hako-test-d").stderr, "the log")
    c = state(ctl, "hako-test-d")
    assert c["Id"] == cid and c["State"] == "running" and c["Pid"] > 0
    logs = ctl("logs", "hako-test-d", check=True)
    assert logs.stdout == "to stdout\n" and logs.stderr == "to stderr\n"  # each on its own stream
    t = ctl("logs", "-t", "hako-test-d", check=True).stdout
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z to stdout\n$", t), t
    # the monitor is hakoctl's conmon: it outlives the command that started it
    mon = ctl.monitor_pids()
    assert len(mon) == 1
    assert ctl("stop", "-t", "5", "hako-test-d", check=True).stdout == "hako-test-d\n"
    c = state(ctl, "hako-test-d")
    assert (c["State"], c["ExitCode"]) == ("exited", 7), c
    assert c["Status"].startswith("Exited (7) ")
    assert ctl("logs", "hako-test-d", check=True).stdout == "to stdout\ngot TERM\n"
    assert ctl.monitor_pids() == []
    assert ctl("wait", "hako-test-d", check=True).stdout == "7\n"
    ctl("rm", "hako-test-d", check=True)
    assert ctl.leftovers() == []


def test_stop_kills_what_ignores_sigterm(ctl):
    ctl("run", "-d", "--name", "hako-test-deaf", "busybox", "sleep", "60", check=True)
    t0 = time.monotonic()
    ctl("stop", "-t", "1", "hako-test-deaf", check=True)
    assert time.monotonic() - t0 < 8
    assert state(ctl, "hako-test-deaf")["ExitCode"] == 137  # SIGKILL, as docker says it
    ctl("rm", "hako-test-deaf", check=True)
    assert ctl.leftovers() == []


def test_run_d_failures_have_dockers_statuses(ctl):
    p = ctl("run", "-d", "--name", "hako-test-nocmd", "busybox", "hako-test-no-such-command")
    assert p.returncode == 127, (p.returncode, p.stderr)
    assert "hako-test-no-such-command" in p.stderr
    assert state(ctl, "hako-test-nocmd")["ExitCode"] == 127
    # the same with a terminal (the runtime's error is on it, and in the log)
    p = ctl("run", "-d", "-t", "--name", "hako-test-nocmd-t", "busybox",
            "hako-test-no-such-command")
    assert p.returncode == 127, (p.returncode, p.stderr)
    assert state(ctl, "hako-test-nocmd-t")["ExitCode"] == 127
    ctl("rm", "hako-test-nocmd", "hako-test-nocmd-t", check=True)
    assert ctl.leftovers() == []


def test_create_start_wait_restart(ctl):
    cid = ctl("create", "--name", "hako-test-c", "busybox", "sh", "-c", "echo ran",
              check=True).stdout.strip()
    c = state(ctl, "hako-test-c")
    assert (c["Id"], c["State"], c["Status"]) == (cid, "created", "Created")
    assert ctl("ps", "-q").stdout == ""  # not running
    assert ctl("start", "hako-test-c", check=True).stdout == "hako-test-c\n"
    assert ctl("wait", "hako-test-c", check=True).stdout == "0\n"
    assert ctl("logs", "hako-test-c", check=True).stdout == "ran\n"
    # an exited container starts again, on its own files
    ctl("start", "hako-test-c", check=True)
    assert ctl("wait", "hako-test-c", check=True).stdout == "0\n"
    ctl("restart", "hako-test-c", check=True)
    ctl("wait", "hako-test-c", check=True)
    assert ctl("logs", "hako-test-c", check=True).stdout == "ran\n" * 3
    assert ctl("logs", "--tail", "1", "hako-test-c", check=True).stdout == "ran\n"
    ctl("rm", "hako-test-c", check=True)
    assert ctl.leftovers() == []


def test_kill_sends_the_signal(ctl):
    script = "trap 'echo got USR1' USR1; while true; do sleep 0.1; done"
    ctl("run", "-d", "--name", "hako-test-k", "busybox", "sh", "-c", script, check=True)
    wait_for(lambda: state(ctl, "hako-test-k")["State"] == "running", "it to run")
    time.sleep(0.3)  # the trap set
    ctl("kill", "-s", "USR1", "hako-test-k", check=True)
    wait_for(lambda: "got USR1" in ctl("logs", "hako-test-k").stdout, "the trap")
    ctl("kill", "hako-test-k", check=True)
    assert ctl("wait", "hako-test-k", check=True).stdout == "137\n"
    p = ctl("kill", "hako-test-k")
    assert p.returncode == 125 and "not running" in p.stderr
    ctl("rm", "hako-test-k", check=True)


def test_logs_f_follows_to_the_end(ctl):
    ctl("run", "-d", "--name", "hako-test-f", "busybox", "sh", "-c",
        "for i in 1 2 3 4 5; do echo $i; sleep 0.2; done", check=True)
    p = ctl("logs", "-f", "hako-test-f", timeout=30, check=True)
    assert p.stdout == "1\n2\n3\n4\n5\n"
    ctl("rm", "hako-test-f", check=True)


def test_run_d_rm_leaves_nothing(ctl):
    ctl("run", "-d", "--rm", "busybox", "true", check=True)
    wait_for(lambda: ps(ctl, "-a") == [], "the container to remove itself")
    wait_for(lambda: ctl.monitor_pids() == [], "its monitor to exit")
    assert ctl.leftovers() == []


def test_the_log_is_capped_and_rotated(ctl):
    ctl("run", "-d", "--name", "hako-test-loud", "--log-opt", "max-size=20k", "busybox", "sh",
        "-c", "i=0; while [ $i -lt 3000 ]; do echo line $i; i=$((i+1)); done", check=True)
    assert ctl("wait", "hako-test-loud", timeout=60, check=True).stdout == "0\n"
    (cid,) = [x for x in os.listdir(ctl.store / "containers") if x[0] != "."]
    d = ctl.store / "containers" / cid
    assert os.path.getsize(d / "ctr.log") <= 20 * 1024  # k is 1024, as docker's
    assert os.path.getsize(d / "ctr.log.1") <= 20 * 1024
    out = ctl("logs", "hako-test-loud", check=True).stdout.splitlines()
    assert out[-1] == "line 2999" and len(out) < 3000
    # what is kept is the end, in order
    n = [int(x.split()[1]) for x in out]
    assert n == list(range(n[0], 3000))
    ctl("rm", "hako-test-loud", check=True)


def test_a_killed_monitor_leaves_a_container_ps_and_rm_f_handle(ctl):
    ctl("run", "-d", "--name", "hako-test-orphan", "busybox", "sleep", "60", check=True)
    (mon,) = ctl.monitor_pids()
    pid = state(ctl, "hako-test-orphan")["Pid"]
    os.kill(mon, signal.SIGKILL)
    wait_for(lambda: ctl.monitor_pids() == [], "the monitor to die")
    c = state(ctl, "hako-test-orphan")
    assert (c["State"], c["Pid"]) == ("running", pid), c  # still runs, unwatched
    p = ctl("rm", "hako-test-orphan")
    assert p.returncode == 125 and "is running" in p.stderr
    ctl("rm", "-f", "hako-test-orphan", check=True)
    wait_for(lambda: not running(pid), "its process to be gone")
    assert ctl.leftovers() == []


def test_exec_in_a_running_container(ctl):
    ctl("run", "-d", "--name", "hako-test-x", "busybox", "sleep", "60", check=True)
    p = ctl("exec", "hako-test-x", "sh", "-c", "echo in $(hostname); id -u; pwd", check=True)
    assert p.stdout == f"in {state(ctl, 'hako-test-x')['Id'][:12]}\n0\n/\n", p.stdout
    # -e (K=V, and K from our environment), -w, -u with a name from the image
    p = ctl("exec", "-e", "A=1", "-e", "HAKO_TEST_B", "-w", "/tmp", "-u", "nobody",
            "hako-test-x", "sh", "-c", "echo $A $HAKO_TEST_B; id -u; id -g; pwd",
            env=dict(os.environ, HAKO_TEST_B="from-here"), check=True)
    assert p.stdout == "1 from-here\n65534\n65534\n/tmp\n", p.stdout
    assert ctl("exec", "hako-test-x", "sh", "-c", "exit 5").returncode == 5
    p = ctl("exec", "hako-test-x", "hako-test-no-such-command")
    assert p.returncode == 127 and "hako-test-no-such-command" in p.stderr, p.stderr
    p = ctl("exec", "-i", "hako-test-x", "cat", input="through stdin\n", stdin=None)
    assert p.stdout == "through stdin\n"
    p = ctl("exec", "-u", "hako-test-nobody", "hako-test-x", "true")
    assert p.returncode == 125 and "unable to find user hako-test-nobody" in p.stderr
    # what exec made is gone with it: the bundle has what run made only (its
    # config, pid, and its networks' addresses and /etc files)
    (cid,) = os.listdir(ctl.runroot / "bundles")
    assert sorted(os.listdir(ctl.runroot / "bundles" / cid)) == \
        ["config.json", "hostname", "hosts", "networks", "pid", "resolv.conf"]
    ctl("stop", "-t", "0", "hako-test-x", check=True)
    p = ctl("exec", "hako-test-x", "true")
    assert p.returncode == 125 and "is not running" in p.stderr
    ctl("rm", "hako-test-x", check=True)


def test_exec_t_gives_a_real_pty(ctl):
    from conftest import run_in_pty
    ctl("run", "-d", "--name", "hako-test-xt", "busybox", "sleep", "60", check=True)
    status, out = run_in_pty(ctl.argv("exec", "-t", "hako-test-xt", "sh", "-c", "tty"))
    assert status == 0, out
    assert b"/dev/pts/" in out, out
    ctl("rm", "-f", "hako-test-xt", check=True)


def inspect(ctl, name):
    (o,) = json.loads(ctl("inspect", name, check=True).stdout)
    return o


def test_inspect_shows_the_state(ctl):
    ctl("run", "-d", "--name", "hako-test-i", "-e", "A=1", "busybox", "sleep", "60", check=True)
    o = inspect(ctl, "hako-test-i")
    st = o["State"]
    assert (st["Status"], st["Running"], st["ExitCode"]) == ("running", True, 0)
    assert st["Pid"] == state(ctl, "hako-test-i")["Pid"] > 0
    assert st["StartedAt"] >= o["Created"] and st["FinishedAt"] == ""
    assert (o["Name"], o["Path"], o["Args"]) == ("hako-test-i", "sleep", ["60"])
    assert "A=1" in o["Config"]["Env"] and o["ImageName"] == "busybox"
    assert o["Image"].startswith("sha256:")
    ctl("stop", "-t", "0", "hako-test-i", check=True)
    st = inspect(ctl, "hako-test-i")["State"]
    assert (st["Status"], st["Running"], st["Pid"], st["ExitCode"], st["OOMKilled"]) == \
        ("exited", False, 0, 137, False)
    assert st["FinishedAt"] >= st["StartedAt"]
    # an image by the same command
    assert inspect(ctl, "busybox")["RepoTags"] == ["localhost/busybox:latest"]
    p = ctl("inspect", "hako-test-nothing")
    assert p.returncode == 125 and "hako-test-nothing" in p.stderr
    ctl("rm", "hako-test-i", check=True)


def test_an_oom_kill_is_told(ctl):
    ctl("run", "-d", "--name", "hako-test-oom", "--memory", "20m", "busybox", "sh", "-c",
        "x=$(head -c 80000000 /dev/zero | tr '\\0' a); echo survived", check=True)
    assert ctl("wait", "hako-test-oom", timeout=60, check=True).stdout == "137\n"
    st = inspect(ctl, "hako-test-oom")["State"]
    assert (st["ExitCode"], st["OOMKilled"]) == (137, True), st
    assert "survived" not in ctl("logs", "hako-test-oom").stdout
    ctl("rm", "hako-test-oom", check=True)


def test_fifty_detached_containers_eight_at_a_time_leave_nothing(ctl):
    from concurrent.futures import ThreadPoolExecutor
    from conftest import cgroup_leftovers

    def life(i):
        name = f"hako-test-many{i}"
        cid = ctl("run", "-d", "--name", name, "busybox", "sh", "-c",
                  f"trap 'exit 0' TERM; echo hello {i}; while true; do sleep 0.1; done",
                  check=True).stdout.strip()
        wait_for(lambda: ctl("logs", name).stdout == f"hello {i}\n", f"{name}'s log")
        assert name in ctl("ps", "--format", "json", check=True).stdout
        ctl("stop", "-t", "5", name, check=True)
        assert ctl("wait", name, check=True).stdout == "0\n"
        ctl("rm", name, check=True)
        return cid

    with ThreadPoolExecutor(8) as pool:
        ids = list(pool.map(life, range(50)))
    assert len(set(ids)) == 50
    assert ps(ctl, "-a") == []
    assert ctl.monitor_pids() == []
    assert ctl.leftovers() == []  # upper dirs, logs, bundles, watchers, mounts, runtime state
    assert [c for cid in ids for c in cgroup_leftovers(cid)] == []


def test_kill_9_at_many_moments_then_ps_is_true_and_rm_f_cleans_all(ctl):
    from conftest import cgroup_leftovers

    def killed(args, delay):
        p = subprocess.Popen(ctl.argv(*args), stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        p.kill()
        p.wait()

    delays = [0, 0.001, 0.002, 0.004, 0.007, 0.01, 0.015, 0.02, 0.03, 0.05, 0.08, 0.12]
    for i, d in enumerate(delays):
        killed(["run", "-d", "--name", f"hako-test-k{i}", "busybox", "sleep", "60"], d)
        if i % 3 == 1:  # and the monitors, now and then
            for m in ctl.monitor_pids():
                os.kill(m, signal.SIGKILL)
    for i, d in enumerate([0.001, 0.005, 0.02]):
        ctl("run", "-d", "--name", f"hako-test-s{i}", "busybox", "sleep", "60", check=True)
        killed(["stop", "-t", "1", f"hako-test-s{i}"], d)
        ctl("run", "-d", "--name", f"hako-test-r{i}", "busybox", "sleep", "60", check=True)
        killed(["rm", "-f", f"hako-test-r{i}"], d)
    listed = ps(ctl, "-a")
    for c in listed:  # what ps says is so
        if c["State"] == "running":
            assert running(c["Pid"]), c
    if listed:
        ctl("rm", "-f", *[c["Id"] for c in listed], check=True)
    assert ps(ctl, "-a") == []
    wait_for(lambda: ctl.monitor_pids() == [], "the monitors to exit")
    assert ctl.leftovers() == []
    assert [g for c in listed for g in cgroup_leftovers(c["Id"])] == []


def test_export_then_import_is_the_tutorials_round_trip(ctl, tmp_path):
    import tarfile
    ctl("run", "--name", "hako-test-ex", "busybox", "sh", "-c",
        "echo kept > /kept; rm /bin/vi; mkdir -p /d/e", check=True)
    out = tmp_path / "ex.tar"
    p = ctl("export", "hako-test-ex", stdout=open(out, "wb"), capture_output=False,
            stderr=subprocess.PIPE, check=True)
    names = tarfile.open(out).getnames()
    assert "kept" in names and "d/e" in names and "bin/busybox" in names
    assert "bin/vi" not in names  # removed in the container: its whiteout hides it
    assert not any(".wh." in n for n in names)
    ctl("import", "-q", str(out), "hako-test-exported", check=True)
    p = ctl("run", "--rm", "hako-test-exported", "sh", "-c", "cat /kept; ls /bin/vi", check=False)
    assert p.stdout == "kept\n" and p.returncode != 0
    # a running one: its mounts (/proc, /sys, /dev) are empty dirs, as docker's export
    ctl("run", "-d", "--name", "hako-test-exr", "busybox", "sh", "-c",
        "echo live > /live; sleep 60", check=True)
    wait_for(lambda: ctl("exec", "hako-test-exr", "test", "-f", "/live").returncode == 0,
             "the file")
    ctl("export", "-o", str(tmp_path / "r.tar"), "hako-test-exr", check=True)
    t = tarfile.open(tmp_path / "r.tar")
    names = t.getnames()
    assert "live" in names and "proc" in names and "sys" in names
    assert not [n for n in names if n.startswith(("proc/", "sys/", "dev/"))]
    # bad input: a terminal, an unknown container; no tar is left behind
    p = ctl("export", "-o", str(tmp_path / "no.tar"), "hako-test-nothing")
    assert p.returncode == 125 and not (tmp_path / "no.tar").exists()
    ctl("rm", "-f", "hako-test-ex", "hako-test-exr", check=True)
    assert mounts_below_store(ctl) == []


def mounts_below_store(ctl):
    from conftest import mounts_below
    return mounts_below(ctl.store) + mounts_below(ctl.runroot)


def test_rename(ctl):
    ctl("run", "--name", "hako-test-old", "busybox", "echo", "hi", check=True)
    ctl("run", "--name", "hako-test-other", "busybox", "true", check=True)
    ctl("rename", "hako-test-old", "hako-test-new", check=True)
    assert inspect(ctl, "hako-test-new")["Name"] == "hako-test-new"
    assert ctl("inspect", "hako-test-old").returncode == 125
    p = ctl("rename", "hako-test-new", "hako-test-other")
    assert p.returncode == 125 and "in use" in p.stderr
    p = ctl("rename", "hako-test-new", "bad name")
    assert p.returncode == 125
    # the old name is free again
    ctl("run", "--name", "hako-test-old", "busybox", "true", check=True)
    ctl("rm", "hako-test-new", "hako-test-old", "hako-test-other", check=True)
    assert ctl.leftovers() == []


def test_restart_policies(ctl):
    # on-failure:2: two restarts after failures, then it stays exited
    ctl("run", "-d", "--name", "hako-test-of", "--restart", "on-failure:2", "busybox", "sh", "-c",
        "echo try; exit 3", check=True)
    assert ctl("wait", "hako-test-of", timeout=60, check=True).stdout == "3\n"
    o = inspect(ctl, "hako-test-of")
    assert (o["RestartCount"], o["State"]["ExitCode"]) == (2, 3)
    assert o["HostConfig"]["RestartPolicy"] == {"Name": "on-failure", "MaximumRetryCount": 2}
    assert ctl("logs", "hako-test-of", check=True).stdout == "try\n" * 3
    # on-failure: a success is not restarted
    ctl("run", "-d", "--name", "hako-test-ok", "--restart", "on-failure", "busybox", "true",
        check=True)
    ctl("wait", "hako-test-ok", check=True)
    assert inspect(ctl, "hako-test-ok")["RestartCount"] == 0
    # always: until stopped by hand, then not again
    ctl("run", "-d", "--name", "hako-test-al", "--restart", "always", "busybox", "sh", "-c",
        "echo up; sleep 0.2", check=True)
    wait_for(lambda: inspect(ctl, "hako-test-al")["RestartCount"] >= 2, "two restarts")
    ctl("stop", "-t", "1", "hako-test-al", check=True)
    n = inspect(ctl, "hako-test-al")["RestartCount"]
    time.sleep(1)
    o = inspect(ctl, "hako-test-al")
    assert o["RestartCount"] == n and o["State"]["Status"] == "exited"
    assert ctl.monitor_pids() == []
    # started by hand again, it is restarted again
    ctl("start", "hako-test-al", check=True)
    wait_for(lambda: inspect(ctl, "hako-test-al")["RestartCount"] >= 1, "a restart")
    ctl("rm", "-f", "hako-test-al", "hako-test-of", "hako-test-ok", check=True)
    wait_for(lambda: ctl.monitor_pids() == [], "the monitors to exit")
    assert ctl.leftovers() == []
    for bad in (["--restart", "sometimes"], ["--restart", "always", "--rm"],
                ["--restart", "on-failure:x"]):
        p = ctl("run", "-d", *bad, "busybox", "true")
        assert p.returncode == 125 and "--restart" in p.stderr, (bad, p.stderr)
    p = ctl("run", "--restart", "always", "busybox", "true")
    assert p.returncode == 125 and "with -d" in p.stderr


def test_top_and_stats(ctl):
    ctl("run", "-d", "--name", "hako-test-t", "--memory", "64m", "busybox", "sh", "-c",
        "while true; do :; done", check=True)
    wait_for(lambda: state(ctl, "hako-test-t")["State"] == "running", "it to run")
    p = ctl("top", "hako-test-t", check=True)
    head, *rows = p.stdout.splitlines()
    assert head.split()[:2] == ["UID", "PID"] and len(rows) == 1, p.stdout
    assert rows[0].endswith("sh -c while true; do :; done"), rows
    p = ctl("stats", "--no-stream", "hako-test-t", check=True)
    head, row = p.stdout.splitlines()
    assert head.split()[:4] == ["CONTAINER", "ID", "NAME", "CPU"], head
    f = row.split()
    assert f[1] == "hako-test-t"
    assert float(f[2].rstrip("%")) > 20  # a busy loop
    assert f[5] == "64.0MiB" and int(f[-1]) >= 1, row  # its limit, and its pids
    ctl("rm", "-f", "hako-test-t", check=True)
    p = ctl("top", "hako-test-t")
    assert p.returncode == 125


def test_volumes_binds_and_tmpfs(ctl, tmp_path):
    host = tmp_path / "host"
    host.mkdir()
    (host / "f").write_text("from the host\n")
    # (no network: its /etc/hosts and resolv.conf would be bound into the volume)
    p = ctl("run", "--rm", "--network", "none", "-v", f"{host}:/h:ro", "-v",
            "hako-test-data:/etc", "-v", "/anon",
            "--tmpfs", "/scratch", "--mount", f"type=bind,src={host},dst=/h2", "busybox", "sh",
            "-c", "cat /h/f; ls /etc; echo kept > /etc/new; touch /h/x 2>/dev/null || echo ro;"
            " echo rw > /h2/y; grep ' /scratch ' /proc/mounts", check=True)
    out = p.stdout.splitlines()
    assert out[:4] == ["from the host", "group", "passwd", "ro"], out  # copied up from the image
    assert "tmpfs" in out[4] and "noexec" in out[4]
    assert (host / "y").read_text() == "rw\n" and not (host / "x").exists()
    # the named volume outlives the container; the anonymous one went with --rm
    vols = ctl("volume", "ls", "-q", check=True).stdout.split()
    assert vols == ["hako-test-data"], vols
    p = ctl("run", "--rm", "-v", "hako-test-data:/etc", "busybox", "cat", "/etc/new", check=True)
    assert p.stdout == "kept\n"
    # in use: refused; rm -v takes a kept container's anonymous volumes with it
    ctl("run", "--name", "hako-test-v", "-v", "hako-test-data:/d", "-v", "/anon2", "busybox",
        "true", check=True)
    assert len(ctl("volume", "ls", "-q", check=True).stdout.split()) == 2
    p = ctl("volume", "rm", "hako-test-data")
    assert p.returncode == 125 and "in use" in p.stderr
    (o,) = json.loads(ctl("volume", "inspect", "hako-test-data", check=True).stdout)
    assert o["UsedBy"] == 1 and o["Mountpoint"].endswith("/volumes/hako-test-data/_data")
    ctl("rm", "-v", "hako-test-v", check=True)
    assert ctl("volume", "ls", "-q", check=True).stdout.split() == ["hako-test-data"]
    ctl("volume", "rm", "hako-test-data", check=True)
    assert ctl("volume", "ls", "-q").stdout == ""
    # bad input: a host path that is not there, a relative destination, bad options
    for bad in (["-v", "/hako-test-nowhere:/x"], ["-v", "vol:relative"], ["-v", "a:/b:rx"],
                ["--mount", "type=bind,dst=/x"], ["-v", "/x/../y"]):
        p = ctl("run", "--rm", *bad, "busybox", "true")
        assert p.returncode == 125 and p.stderr, (bad, p.stderr)
    assert ctl.leftovers() == [] and ctl("volume", "ls", "-q").stdout == ""


def test_volume_commands(ctl):
    assert ctl("volume", "create", "hako-test-vc", check=True).stdout == "hako-test-vc\n"
    anon = ctl("volume", "create", check=True).stdout.strip()
    assert len(anon) == 64
    assert ctl("volume", "ls", "-q", check=True).stdout.split() == sorted([anon, "hako-test-vc"])
    assert ctl("volume", "prune", check=True).stdout.split() == [anon]  # anonymous ones only
    assert ctl("volume", "prune", "-a", check=True).stdout.split() == ["hako-test-vc"]
    p = ctl("volume", "rm", "hako-test-none")
    assert p.returncode == 125 and "no such volume" in p.stderr


def test_container_prune(ctl):
    ctl("run", "--name", "hako-test-p1", "busybox", "true", check=True)
    ctl("create", "--name", "hako-test-p2", "busybox", "true", check=True)
    ctl("run", "-d", "--name", "hako-test-p3", "busybox", "sleep", "60", check=True)
    p1 = state(ctl, "hako-test-p1")["Id"]
    # the exited one goes; the running one and the one its monitor holds, created, stay
    assert ctl("container", "prune", check=True).stdout.split() == [p1]
    assert sorted(c["Names"][0] for c in ps(ctl, "-a")) == ["hako-test-p2", "hako-test-p3"]
    assert [c["Names"][0] for c in ps(ctl)] == ["hako-test-p3"]
    assert [c["Names"][0] for c in json.loads(ctl("container", "ls", "--format", "json",
                                                  check=True).stdout)] == ["hako-test-p3"]
    ctl("container", "rm", "-f", "hako-test-p2", "hako-test-p3", check=True)
    assert ctl.leftovers() == []


def test_cp_both_ways_and_never_out_of_the_container(ctl, tmp_path):
    src = tmp_path / "in"
    (src / "sub").mkdir(parents=True)
    (src / "a").write_text("a\n")
    (src / "sub" / "b").write_text("b\n")
    outside = tmp_path / "outside"
    outside.mkdir()
    ctl("run", "--name", "hako-test-cp", "--network", "none", "busybox", "sh", "-c",
        f"echo hi > /hi; mkdir /d; ln -s / /root-link; ln -s {outside} /abs-link;"
        " ln -s ../../../.. /up-link", check=True)
    # out: a file, a directory
    ctl("cp", "hako-test-cp:/hi", str(tmp_path / "hi"), check=True)
    assert (tmp_path / "hi").read_text() == "hi\n"
    ctl("cp", "hako-test-cp:/etc", str(tmp_path / "etc"), check=True)
    assert sorted(os.listdir(tmp_path / "etc")) == ["group", "passwd"]
    # in: a directory into a directory (under its own name), then back out
    ctl("cp", str(src), "hako-test-cp:/d", check=True)
    ctl("cp", "hako-test-cp:/d/in/sub/b", str(tmp_path / "b"), check=True)
    assert (tmp_path / "b").read_text() == "b\n"
    # symlinks in the container lead only inside it: through / and an absolute one
    ctl("cp", str(src / "a"), "hako-test-cp:/root-link/x", check=True)
    assert ctl("run", "--rm", "busybox", "true").returncode == 0
    # a link to the host's path is that path in the container, which is not there
    p = ctl("cp", str(src / "a"), "hako-test-cp:/abs-link/y")
    assert p.returncode == 125 and "no such file" in p.stderr, p.stderr
    assert os.listdir(outside) == []  # what the container's link names on the host: untouched
    ctl("cp", "hako-test-cp:/x", str(tmp_path / "x"), check=True)  # it went in, at its /x
    assert (tmp_path / "x").read_text() == "a\n"
    for bad in ("hako-test-cp:/up-link/etc/passwd", "hako-test-cp:/../../etc/passwd"):
        p = ctl("cp", bad, str(tmp_path / "nope"))
        assert p.returncode == 125 and "outside the rootfs" in p.stderr, p.stderr
        assert not (tmp_path / "nope").exists()
    # a running container, both ways
    ctl("run", "-d", "--name", "hako-test-cpr", "busybox", "sleep", "60", check=True)
    ctl("cp", str(src / "a"), "hako-test-cpr:/tmp/a", check=True)
    assert ctl("exec", "hako-test-cpr", "cat", "/tmp/a", check=True).stdout == "a\n"
    ctl("cp", "hako-test-cpr:/tmp/a", str(tmp_path / "ra"), check=True)
    assert (tmp_path / "ra").read_text() == "a\n"
    # bad input
    for args in (["hako-test-nothing:/x", str(tmp_path)], [str(src), str(tmp_path)]):
        p = ctl("cp", *args)
        assert p.returncode == 125 and p.stderr
    ctl("rm", "-f", "hako-test-cp", "hako-test-cpr", check=True)
    assert ctl.leftovers() == [] and mounts_below_store(ctl) == []


def test_commit_makes_a_layer_of_the_changes(ctl):
    ctl("run", "--name", "hako-test-cm", "busybox", "sh", "-c",
        "echo new > /new; rm /bin/vi; rm -rf /usr; mkdir /usr; echo u > /usr/only", check=True)
    cid = ctl("commit", "-m", "a change", "-c", "ENV HAKO_TEST=1", "hako-test-cm",
              "hako-test-committed:1", check=True).stdout.strip()
    assert cid.startswith("sha256:")
    p = ctl("run", "--rm", "hako-test-committed:1", "sh", "-c",
            "cat /new; ls /bin/vi 2>/dev/null || echo no-vi; ls /usr; echo $HAKO_TEST",
            check=True)
    # the file, the whiteout, the opaque dir, the change to the config
    assert p.stdout == "new\nno-vi\nonly\n1\n", p.stdout
    img = inspect(ctl, "hako-test-committed:1")
    base = inspect(ctl, "busybox")
    assert img["Layers"][:-1] == base["Layers"] and len(img["Layers"]) == len(base["Layers"]) + 1
    hist = ctl("history", "hako-test-committed:1", check=True).stdout.splitlines()
    assert "hakoctl commit" in hist[1] and "a change" in hist[1]
    # a running one is paused while it is read, and goes on after
    ctl("run", "-d", "--name", "hako-test-cmr", "busybox", "sh", "-c",
        "echo live > /live; sleep 60", check=True)
    wait_for(lambda: ctl("exec", "hako-test-cmr", "test", "-f", "/live").returncode == 0,
             "the file")
    ctl("commit", "hako-test-cmr", "hako-test-live:1", check=True)
    assert state(ctl, "hako-test-cmr")["State"] == "running"
    assert ctl("run", "--rm", "hako-test-live:1", "cat", "/live", check=True).stdout == "live\n"
    assert ctl("commit", "hako-test-nothing").returncode == 125
    ctl("rm", "-f", "hako-test-cm", "hako-test-cmr", check=True)


def test_device(ctl):
    p = ctl("run", "--rm", "--device", "/dev/zero:/dev/hako-test-zero", "busybox", "sh", "-c",
            "ls -l /dev/hako-test-zero; head -c 5 /dev/hako-test-zero | wc -c", check=True)
    first, count = p.stdout.splitlines()
    assert first.startswith("c") and "1,   5" in first and count.strip() == "5", p.stdout
    for bad in ("/tmp", "/dev/hako-test-none", "relative", "/dev/zero:/x:q"):
        p = ctl("run", "--rm", "--device", bad, "busybox", "true")
        assert p.returncode == 125 and "--device" in p.stderr, (bad, p.stderr)
    assert ctl.leftovers() == []


def test_generate_systemd_brings_a_container_back_after_a_reboot(ctl):
    import shlex
    ctl("run", "-d", "--name", "hako-test-boot", "--restart", "always", "busybox", "sh", "-c",
        "trap 'exit 0' TERM; while true; do sleep 0.1; done", check=True)
    unit = ctl("generate", "systemd", "--name", "hako-test-boot", check=True).stdout
    assert "[Service]" in unit and "WantedBy=default.target" in unit
    start = next(l for l in unit.splitlines() if l.startswith("ExecStart="))[10:]
    stop = next(l for l in unit.splitlines() if l.startswith("ExecStop="))[9:]
    # "a reboot": every process of it gone, and /run with them
    pid = state(ctl, "hako-test-boot")["Pid"]
    for m in ctl.monitor_pids():
        os.kill(m, signal.SIGKILL)
    os.kill(pid, signal.SIGKILL)
    wait_for(lambda: not running(pid), "the container to die")
    ctl.cleanup_runtime_state()
    shutil.rmtree(ctl.runroot)
    assert state(ctl, "hako-test-boot")["State"] == "exited"
    # systemd would run them on the host; here that is the tests' network namespace
    host = ctl.argv()[:2]
    subprocess.run(host + shlex.split(start), check=True, capture_output=True)
    assert state(ctl, "hako-test-boot")["State"] == "running"
    subprocess.run(host + shlex.split(stop), check=True, capture_output=True)
    assert state(ctl, "hako-test-boot")["State"] == "exited"
    ctl("rm", "hako-test-boot", check=True)
    assert ctl.leftovers() == []


def test_a_container_writing_as_fast_as_it_can(ctl):
    # 40 MB of lines into a log capped at 1 MB: the cap holds, the container is
    # not held back (it ends), and logs -f, following it meanwhile, keeps up.
    ctl("run", "-d", "--name", "hako-test-loud2", "--log-opt", "max-size=1m", "busybox", "sh",
        "-c", "yes hako-test-line | head -c 40000000; echo the-end", check=True)
    follow = subprocess.Popen(ctl.argv("logs", "-f", "hako-test-loud2"),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert ctl("wait", "hako-test-loud2", timeout=120, check=True).stdout == "0\n"
    out, _ = follow.communicate(timeout=60)
    # what it followed: whole lines to the end (the last one cut by head -c)
    lines = out.split(b"\n")
    assert lines[-2:] == [b"hako-test-the-end", b""] and len(out) > 100_000, lines[-3:]
    assert set(lines[1:-2]) == {b"hako-test-line"}
    (cid,) = [x for x in os.listdir(ctl.store / "containers") if x[0] != "."]
    d = ctl.store / "containers" / cid
    assert os.path.getsize(d / "ctr.log") <= 1024 * 1024
    assert os.path.getsize(d / "ctr.log.1") <= 1024 * 1024
    assert ctl("logs", "--tail", "1", "hako-test-loud2", check=True).stdout == \
        "hako-test-the-end\n"
    # and a pipe into a command that stops reading ends, as it does outside a container
    p = ctl("run", "--rm", "busybox", "sh", "-c", "yes | head -c 10; echo; echo done",
            timeout=30, check=True)
    assert p.stdout == "y\ny\ny\ny\ny\n\ndone\n"
    ctl("rm", "hako-test-loud2", check=True)


def test_pause_and_unpause(ctl):
    # A counter that stops counting while paused, as its cgroup is frozen;
    # stop works on a paused container (it is thawed for the signal).
    ctl("run", "-d", "--name", "hako-test-frozen", "busybox", "sh", "-c",
        "i=0; while :; do i=$((i+1)); echo $i > /tmp/n; usleep 10000; done", check=True)

    def count():
        # (empty while the shell rewrites it)
        return int(ctl("exec", "hako-test-frozen", "cat", "/tmp/n", check=True).stdout or 0)

    wait_for(lambda: count() > 0, "the counter")
    ctl("pause", "hako-test-frozen", check=True)
    (c,) = ps(ctl)
    assert c["State"] == "paused" and c["Status"].endswith("(Paused)"), c
    assert inspect_state(ctl, "hako-test-frozen")["Paused"] is True
    assert ps(ctl, "--filter", "status=paused")[0]["Names"] == ["hako-test-frozen"]
    p = ctl("pause", "hako-test-frozen")
    assert p.returncode == 125 and "already paused" in p.stderr, p.stderr
    # frozen: what it wrote does not change (read through the host: exec
    # would join the frozen cgroup)
    pid = c["Pid"]
    path = f"/proc/{pid}/root/tmp/n"
    before = open(path).read()
    time.sleep(0.3)
    assert open(path).read() == before
    ctl("unpause", "hako-test-frozen", check=True)
    wait_for(lambda: open(path).read() != before, "the counter going on")
    assert ps(ctl)[0]["State"] == "running"
    assert inspect_state(ctl, "hako-test-frozen")["Paused"] is False
    p = ctl("unpause", "hako-test-frozen")
    assert p.returncode == 125 and "not paused" in p.stderr, p.stderr
    ctl("pause", "hako-test-frozen", check=True)
    ctl("stop", "-t", "1", "hako-test-frozen", check=True, timeout=30)
    assert ps(ctl, "-a")[0]["State"] == "exited"
    p = ctl("pause", "hako-test-frozen")
    assert p.returncode == 125 and "not running" in p.stderr, p.stderr
    ctl("rm", "hako-test-frozen", check=True)
    assert ctl.leftovers() == []


def pty_session(argv, rows=30, cols=100):
    """argv on a new pty of that size: (pid, master fd)."""
    import fcntl
    import pty
    import struct
    import termios
    pid, fd = pty.fork()
    if pid == 0:
        os.execv(argv[0], argv)
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
    return pid, fd


def read_until(fd, needle, timeout=20):
    out = read_pty(fd, timeout, until=needle)
    assert needle in out, out
    return out


def test_attach_to_a_terminal_detach_and_attach_again(ctl):
    ctl("run", "-d", "-it", "--name", "hako-test-tty", "busybox", "sh", check=True)
    (info,) = json.loads(ctl("inspect", "hako-test-tty", check=True).stdout)
    assert info["Config"]["Tty"] is True and info["Config"]["OpenStdin"] is True
    pid, fd = pty_session(ctl.argv("attach", "hako-test-tty"))
    # our terminal's size is its terminal's, and what we type reaches its shell
    os.write(fd, b"stty size; echo x$((6*7))x\r")
    assert b"30 100" in read_until(fd, b"x42x")
    # ctrl-p ctrl-q: we are gone, it runs on
    os.write(fd, b"\x10\x11")
    assert os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) == 0
    os.close(fd)
    assert state(ctl, "hako-test-tty")["State"] == "running"
    # other keys, and a size change on the way
    pid, fd = pty_session(ctl.argv("attach", "--detach-keys", "ctrl-a,d", "hako-test-tty"),
                          rows=40, cols=120)
    os.write(fd, b"\x10stty size\r")  # a lone ctrl-p is let through
    read_until(fd, b"40 120")
    os.write(fd, b"exit 3\r")
    assert os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) == 3
    os.close(fd)
    assert state(ctl, "hako-test-tty")["ExitCode"] == 3
    # what it wrote on its terminal is in the log too
    assert "x42x" in ctl("logs", "hako-test-tty", check=True).stdout
    p = ctl("attach", "hako-test-tty")
    assert p.returncode == 125 and "is not running" in p.stderr, p.stderr
    p = ctl("attach", "--detach-keys", "ctrl-1", "hako-test-tty")
    assert p.returncode == 125 and "--detach-keys" in p.stderr, p.stderr
    ctl("rm", "hako-test-tty", check=True)
    assert ctl.leftovers() == []


def test_attach_without_a_terminal(ctl):
    script = 'while read l; do echo "got $l"; echo "err $l" >&2; done; echo end; exit 5'
    ctl("run", "-d", "-i", "--name", "hako-test-in", "busybox", "sh", "-c", script, check=True)
    a = subprocess.Popen(ctl.argv("attach", "hako-test-in"), stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    a.stdin.write(b"hello\n")
    a.stdin.flush()
    assert a.stdout.readline() == b"got hello\n"
    assert a.stderr.readline() == b"err hello\n"
    # a second client sees what it writes too; --no-stdin sends nothing
    b = subprocess.Popen(ctl.argv("attach", "--no-stdin", "hako-test-in"),
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    time.sleep(0.3)
    b.stdin.write(b"not-sent\n")
    b.stdin.close()
    a.stdin.write(b"world\n")
    a.stdin.flush()
    assert a.stdout.readline() == b"got world\n"
    assert b.stdout.readline() == b"got world\n"
    # our stdin ends; its stays open, as docker's
    a.stdin.close()
    time.sleep(0.3)
    assert state(ctl, "hako-test-in")["State"] == "running"
    # a signal sent to attach goes to the container (--sig-proxy)
    a.send_signal(signal.SIGKILL)
    a.wait()
    c = subprocess.Popen(ctl.argv("attach", "hako-test-in"), stdin=subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    time.sleep(0.3)
    c.send_signal(signal.SIGTERM)  # pid 1 in it has no handler: the kernel ignores it
    time.sleep(0.3)
    assert c.poll() is None and state(ctl, "hako-test-in")["State"] == "running"
    ctl("kill", "hako-test-in", check=True)
    assert c.wait(timeout=20) == 137
    assert b.wait(timeout=20) == 137
    assert "not-sent" not in ctl("logs", "hako-test-in", check=True).stdout
    ctl("rm", "hako-test-in", check=True)
    assert ctl.leftovers() == []


def test_start_a_misses_nothing(ctl):
    ctl("create", "--name", "hako-test-sa", "busybox", "sh", "-c",
        "echo out; echo err >&2; exit 4", check=True)
    for _ in range(2):  # created, then exited: up again
        p = ctl("start", "-a", "hako-test-sa")
        assert (p.returncode, p.stdout, p.stderr) == (4, "out\n", "err\n")
    # -i: our stdin to it
    ctl("create", "-i", "--name", "hako-test-si", "busybox", "sh", "-c",
        "read l; echo got $l", check=True)
    p = ctl("start", "-a", "-i", "hako-test-si", stdin=None, input="typed\n")
    assert (p.returncode, p.stdout) == (0, "got typed\n"), p.stderr
    p = ctl("start", "-a", "hako-test-sa", "hako-test-si")
    assert p.returncode == 125 and "one CONTAINER" in p.stderr
    ctl("rm", "hako-test-sa", "hako-test-si", check=True)
    assert ctl.leftovers() == []
