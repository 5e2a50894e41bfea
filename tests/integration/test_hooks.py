# SPDX-License-Identifier: GPL-2.0-or-later
"""OCI hooks: each phase runs at its moment, in its namespace, with the
state on stdin; failures and timeouts fail the operation clearly."""
import json
import os

from test_namespaces import host_ns


def script(tmp_path, name, body):
    path = tmp_path / name
    path.write_text("#!/bin/sh\n" + body + "\n")
    path.chmod(0o755)
    return str(path)


def test_every_phase_in_order_with_the_state(hako, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    record = script(tmp_path, "record.sh",
                    f'cat > {out}/$1.json; readlink /proc/self/ns/mnt > {out}/$1.mnt; '
                    f'echo $1 >> {out}/order; echo "$HAKO_HOOK" > {out}/$1.env')

    def hook(phase):
        return {"path": record, "args": ["record.sh", phase], "env": [f"HAKO_HOOK={phase}"]}

    def mutate(c):
        c["hooks"] = {p: [hook(p)] for p in
                      ("prestart", "createRuntime", "createContainer", "poststart", "poststop")}
        # startContainer runs in the container, after pivot_root: a path in it.
        c["hooks"]["startContainer"] = [{"path": "/bin/sh", "args": [
            "sh", "-c", "cat > /dev/shm/hako-test-start.json"]}]
    cid = hako.new_id()
    b = hako.bundle(tmp_path, ["/bin/hako-probe", "sleep", "30"], mutate)
    hako.cmd("create", "--bundle", b, cid, check=True)
    init = json.loads(hako.cmd("state", cid).stdout)["pid"]
    assert (out / "order").read_text().split() == ["prestart", "createRuntime",
                                                   "createContainer"]
    state = json.loads((out / "createRuntime.json").read_text())
    assert (state["id"], state["status"], state["pid"], state["bundle"]) == \
        (cid, "creating", init, b)
    assert (out / "createRuntime.mnt").read_text().strip() == host_ns("mnt")
    assert (out / "createContainer.mnt").read_text().strip() == \
        os.readlink(f"/proc/{init}/ns/mnt")
    assert (out / "createRuntime.env").read_text().strip() == "createRuntime"
    hako.cmd("start", cid, check=True)
    started = json.loads(open(f"/proc/{init}/root/dev/shm/hako-test-start.json").read())
    assert started["status"] == "created" and started["id"] == cid
    assert (out / "order").read_text().split()[3:] == ["poststart"]
    assert json.loads((out / "poststart.json").read_text())["status"] == "running"
    hako.cmd("delete", "--force", cid, check=True)
    assert (out / "order").read_text().split()[4:] == ["poststop"]
    assert json.loads((out / "poststop.json").read_text())["status"] == "stopped"


def test_a_failing_create_hook_fails_create_and_leaves_nothing(hako, tmp_path):
    fail = script(tmp_path, "fail.sh", "echo boom-from-hook >&2; exit 3")

    def mutate(c):
        c["hooks"] = {"createRuntime": [{"path": fail}]}
    p = hako.run(tmp_path, ["/bin/true"], mutate)
    assert p.returncode != 0
    assert 'hooks.createRuntime[0] "' in p.stderr and "exit status 3" in p.stderr
    assert "boom-from-hook" in p.stderr
    assert os.listdir(hako.root) == []


def test_a_hook_past_its_timeout_is_killed(hako, tmp_path):
    slow = script(tmp_path, "slow.sh", "sleep 30")

    def mutate(c):
        c["hooks"] = {"createContainer": [{"path": slow, "timeout": 1}]}
    p = hako.run(tmp_path, ["/bin/true"], mutate, timeout=20)
    assert p.returncode != 0 and "timed out after 1 s" in p.stderr, p.stderr
    assert os.listdir(hako.root) == []


def test_a_failing_poststart_hook_is_a_warning(hako, tmp_path):
    fail = script(tmp_path, "fail.sh", "exit 1")

    def mutate(c):
        c["hooks"] = {"poststart": [{"path": fail}], "poststop": [{"path": fail}]}
    p = hako.run(tmp_path, ["/bin/hako-probe", "exit", "0"], mutate)
    assert p.returncode == 0, p.stderr
    assert "warning" in p.stderr and "hooks.poststart[0]" in p.stderr


def test_bad_hooks_are_refused(hako, tmp_path):
    def mutate(c):
        c["hooks"] = {"createRuntime": [{"path": "relative/hook"}]}
    p = hako.run(tmp_path, ["/bin/true"], mutate)
    assert p.returncode != 0 and "hooks.createRuntime[0]" in p.stderr
    assert "must be an absolute path" in p.stderr


def test_run_leaves_the_runtime_in_its_own_namespaces(hako, tmp_path):
    """create joins (pid by path) or makes (time) namespaces for its children
    only: a library call leaves its caller as it found it, so the poststart
    hook that `run` forks after create is in the host's pid and time
    namespaces, not the container's."""
    out = tmp_path / "ns"
    record = script(tmp_path, "ns.sh", f"readlink /proc/self/ns/time /proc/self/ns/pid > {out}")

    def mutate(c):
        c["linux"]["namespaces"].append({"type": "time"})
        c["linux"]["timeOffsets"] = {"monotonic": {"secs": 86400}}
        c["hooks"] = {"poststart": [{"path": record}]}
    p = hako.run(tmp_path, ["true"], mutate)
    assert p.returncode == 0, p.stderr
    assert out.read_text().split() == [host_ns("time"), host_ns("pid")], out.read_text()
    # What the runtime saved to go back to is the host's: the init, which
    # lives on until start, holds none of it.
    cid = hako.new_id()
    hako.cmd("create", "--bundle", hako.bundle(tmp_path, ["true"], mutate), cid, check=True)
    init = json.loads(hako.cmd("state", cid, check=True).stdout)["pid"]
    links = [os.readlink(f"/proc/{init}/fd/{fd}") for fd in os.listdir(f"/proc/{init}/fd")]
    assert not [ln for ln in links if ln.startswith(("time:", "pid:"))], links
