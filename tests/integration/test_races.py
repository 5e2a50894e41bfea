# SPDX-License-Identifier: GPL-2.0-or-later
"""Lifecycle races and damaged state: the runtime killed at any moment, two
commands on one id, a state directory someone broke, a closed output pipe.
Whatever happens, the status is the truth and delete --force cleans all."""
import fcntl
import json
import os
import random
import shutil
import subprocess
import time

import pytest

from conftest import HAKO, cgroup_leftovers


def status_of(hako, cid):
    p = hako.cmd("state", cid)
    return json.loads(p.stdout) if p.returncode == 0 else None


def executed(pid):
    """The init has executed the container's program (busybox), not hako."""
    try:
        return "busybox" in os.readlink(f"/proc/{pid}/exe")
    except OSError:
        return False


def check_truthful(hako, cid):
    """After the runtime was killed: created means not yet executed, and start
    then works; running means executed (or about to be), and start is refused.
    Then delete --force leaves nothing."""
    st = status_of(hako, cid)
    if st and st["status"] == "created":
        assert not executed(st["pid"]), st
        hako.cmd("start", cid, check=True)
        st = status_of(hako, cid)
    if st and st["status"] == "running":
        deadline = time.time() + 5
        while not executed(st["pid"]) and time.time() < deadline:
            time.sleep(0.01)
        assert executed(st["pid"]), st
        p = hako.cmd("start", cid)
        assert p.returncode != 0 and "running" in p.stderr, p.stderr
    hako.cmd("delete", "--force", cid, check=True)
    assert not os.path.exists(os.path.join(hako.root, cid))
    assert not cgroup_leftovers(cid)
    if st and st["pid"]:
        assert not os.path.exists(f"/proc/{st['pid']}/exe") or not executed(st["pid"])
    return st["status"] if st else None


def test_the_status_stays_true_when_the_runtime_is_killed(hako, tmp_path):
    """200 kills -9 of `run` and `start` at random moments. A start killed
    between its write to the exec fifo and the fifo's removal once left
    "created" for a running process (and a flaky CI)."""
    b = hako.bundle(tmp_path, ["sleep", "30"])
    rng = random.Random(os.getpid())
    seen = {}
    for i in range(200):
        cid = hako.new_id()
        if i % 2 == 0:
            p = subprocess.Popen([HAKO, "--root", hako.root, "run", "--bundle", b, cid],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(rng.uniform(0, 0.04))
        else:
            hako.cmd("create", "--bundle", b, cid, check=True)
            p = subprocess.Popen([HAKO, "--root", hako.root, "start", cid],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(rng.uniform(0, 0.006))
        p.kill()
        p.wait()
        s = check_truthful(hako, cid)
        hako.ids.remove(cid)  # deleted and checked: no teardown for it
        seen[s] = seen.get(s, 0) + 1
    # The kills did land at different moments.
    assert len(seen) >= 2, seen


def test_a_waiting_delete_does_not_remove_a_newer_container(hako, tmp_path):
    """Two delete --force of one id, then create of that id: the delete that
    waited for the lock of the removed directory must not remove the new
    container's. The test holds the lock until both deletes wait on it; the
    poststop hook keeps the first one's lock while the new one is made."""
    def slow_poststop(c):
        c["hooks"] = {"poststop": [{"path": "/bin/sleep", "args": ["sleep", "2"]}]}
    cid = hako.new_id()
    hako.cmd("run", "-d", "--bundle", hako.bundle(tmp_path, ["sleep", "30"], slow_poststop), cid,
             check=True)
    lock = os.open(os.path.join(hako.root, cid), os.O_RDONLY | os.O_DIRECTORY)
    fcntl.flock(lock, fcntl.LOCK_EX)
    deletes = [subprocess.Popen([HAKO, "--root", hako.root, "delete", "--force", cid])
               for _ in range(2)]
    time.sleep(0.3)  # both have opened the directory and wait for its lock
    os.close(lock)
    deadline = time.time() + 10
    while os.path.exists(os.path.join(hako.root, cid)) and time.time() < deadline:
        time.sleep(0.01)
    hako.cmd("create", "--bundle", hako.bundle(tmp_path, ["sleep", "30"]), cid, check=True)
    new_init = status_of(hako, cid)["pid"]
    assert [d.wait(20) for d in deletes] == [0, 0]
    st = status_of(hako, cid)
    assert st and st["status"] == "created" and st["pid"] == new_init, st
    hako.cmd("delete", "--force", cid, check=True)
    assert not cgroup_leftovers(cid)


def test_a_plain_delete_of_a_container_just_deleted_fails(hako, tmp_path):
    """Two plain deletes of one stopped container: one removes it, the other
    says it does not exist (it once reported success too)."""
    b = hako.bundle(tmp_path, ["true"])
    for _ in range(20):
        cid = hako.new_id()
        hako.cmd("run", "--keep", "--bundle", b, cid, check=True)
        ps = [subprocess.Popen([HAKO, "--root", hako.root, "delete", cid],
                               stderr=subprocess.PIPE, text=True) for _ in range(2)]
        results = sorted((p.wait(10), p.stderr.read()) for p in ps)
        assert results[0][0] == 0 and results[1][0] != 0, results
        assert "does not exist" in results[1][1], results


def fifo(path):
    os.unlink(path)
    os.mkfifo(path)


def directory(path):
    os.unlink(path)
    os.mkdir(path)


DAMAGE = {
    "truncated": lambda p: open(p, "w").close(),
    "garbage": lambda p: open(p, "w").write("\x00\xffnot json{"),
    "an array": lambda p: open(p, "w").write("[]"),
    "a directory": directory,
    "a fifo": fifo,
}


@pytest.mark.parametrize("damage", DAMAGE)
def test_a_damaged_state_is_listed_and_removed_by_force(hako, tmp_path, damage):
    cid = hako.new_id()
    hako.cmd("run", "-d", "--bundle", hako.bundle(tmp_path, ["sleep", "30"]), cid, check=True)
    init = status_of(hako, cid)["pid"]
    assert cgroup_leftovers(cid)
    DAMAGE[damage](os.path.join(hako.root, cid, "state.json"))
    listed = hako.cmd("list", "--format", "json", timeout=10)
    assert listed.returncode == 0, listed.stderr
    mine = [c for c in json.loads(listed.stdout) if c["id"] == cid]
    assert mine and mine[0]["status"] == "error", listed.stdout
    table = hako.cmd("list", timeout=10).stdout
    assert any(line.split()[0] == cid and "error" in line.split() for line in
               table.splitlines()[1:]), table
    p = hako.cmd("state", cid, timeout=10)
    assert p.returncode != 0 and "state.json is corrupt" in p.stderr, p.stderr
    p = hako.cmd("delete", cid, timeout=10)
    assert p.returncode != 0 and "delete --force" in p.stderr, p.stderr
    hako.cmd("delete", "--force", cid, check=True, timeout=10)
    assert not os.path.exists(os.path.join(hako.root, cid))
    assert not cgroup_leftovers(cid)
    deadline = time.time() + 5
    while os.path.exists(f"/proc/{init}/exe") and executed(init) and time.time() < deadline:
        time.sleep(0.01)
    assert not executed(init)


def test_a_fifo_for_config_json_hangs_nothing(hako, tmp_path):
    def poststop(c):
        c["hooks"] = {"poststop": [{"path": "/bin/true"}]}
    b = hako.bundle(tmp_path, ["sleep", "30"], poststop)
    cid = hako.new_id()
    hako.cmd("run", "-d", "--bundle", b, cid, check=True)
    fifo(os.path.join(b, "config.json"))
    assert hako.cmd("list", timeout=10).returncode == 0
    hako.cmd("delete", "--force", cid, check=True, timeout=10)
    p = hako.cmd("create", "--bundle", b, hako.new_id(), timeout=10)
    assert p.returncode != 0 and "is not a regular file" in p.stderr, p.stderr
    assert os.listdir(hako.root) in ([], [".seccomp-cache"])


def test_a_closed_output_pipe_costs_nothing(hako, tmp_path):
    """`hako --debug run ... 2>&1 | head -1`: each debug line raised SIGPIPE,
    which run forwarded to the container and logged, raising it again: a
    busy loop and a storm of SIGPIPE into the container for its whole life."""
    out = tmp_path / "out"
    out.mkdir()

    def mutate(c):
        c["mounts"].append({"destination": "/out", "type": "bind", "source": str(out),
                            "options": ["bind"]})
    b = hako.bundle(tmp_path, ["sh", "-c", "trap 'echo got >> /out/sigpipe' PIPE; "
                               "sleep 1; sleep 1; echo done > /out/done"], mutate,
                    copy_rootfs=True)
    r, w = os.pipe()
    p = subprocess.Popen([HAKO, "--root", hako.root, "--debug", "run", "--bundle", b,
                          hako.new_id()], stdout=w, stderr=w)
    os.close(w)
    os.read(r, 1)   # as head -1: read a little, then go away
    os.close(r)
    _, status, usage = os.wait4(p.pid, 0)
    p.returncode = 0
    assert os.waitstatus_to_exitcode(status) == 0
    assert (out / "done").exists()
    assert not (out / "sigpipe").exists(), (out / "sigpipe").read_text()
    assert usage.ru_utime + usage.ru_stime < 0.5, usage


def test_a_kill_while_writing_the_pid_file_leaves_nothing_beside_it(hako, tmp_path):
    """create killed while it writes the pid file (strace holds that write
    for 3 s, the way a slow disk would): nothing but the pid file may ever be
    in its directory (a ".pid.tmp" was left)."""
    if not shutil.which("strace"):
        pytest.skip("strace is not installed")
    b = hako.bundle(tmp_path, ["sleep", "30"])
    piddir = tmp_path / "piddir"
    piddir.mkdir()
    cid = hako.new_id()
    p = subprocess.Popen(["strace", "-f", "-qq", "-o", "/dev/null", "-P",
                          str(piddir / ".pid.tmp"), "-e", "trace=write", "-e",
                          "inject=write:delay_enter=3000000", HAKO, "--root", hako.root,
                          "create", "--pid-file", str(piddir / "pid"), "--bundle", b, cid])
    deadline = time.time() + 20
    while not os.listdir(piddir) and p.poll() is None and time.time() < deadline:
        time.sleep(0.01)
    # create itself first (strace would let it go on), then strace.
    for child in open(f"/proc/{p.pid}/task/{p.pid}/children").read().split():
        os.kill(int(child), 9)
    p.kill()
    p.wait()
    time.sleep(0.1)
    assert set(os.listdir(piddir)) <= {"pid"}, os.listdir(piddir)


def test_an_init_death_names_its_signal(hako, tmp_path):
    """The init killed during create: the error says how it ended."""
    killer = tmp_path / "kill-init"
    killer.write_text("#!/usr/bin/python3\nimport json, os, sys\n"
                      "os.kill(json.load(sys.stdin)['pid'], 9)\n")
    killer.chmod(0o755)

    def mutate(c):
        c["hooks"] = {"prestart": [{"path": str(killer)}]}
    p = hako.run(tmp_path, ["true"], mutate)
    assert p.returncode != 0
    assert "exited before it was set up (killed by signal 9, SIGKILL)" in p.stderr, p.stderr


def test_control_characters_of_an_id_are_not_logged_raw(hako, tmp_path):
    log = tmp_path / "log"
    bad = "a\nerror: forged\x1b[31m"
    p = subprocess.run([HAKO, "--root", hako.root, "--log", str(log), "delete", bad],
                       capture_output=True, text=True)
    assert p.returncode != 0
    text = log.read_text()
    assert text.count("\n") == 1 and "\x1b" not in text, text
    assert "\\x0a" in text and "\\x1b" in text, text


def test_an_empty_pid_file_path_is_refused(hako, tmp_path):
    cid = hako.new_id()
    p = hako.cmd("create", "--pid-file", "", "--bundle", hako.bundle(tmp_path, ["true"]), cid)
    assert p.returncode != 0 and "--pid-file: empty path" in p.stderr, p.stderr
    assert not os.path.exists(os.path.join(hako.root, cid))
