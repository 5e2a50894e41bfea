# SPDX-License-Identifier: GPL-2.0-or-later
"""linux.seccomp: filters compiled by libseccomp in the runtime, loaded by the
init before execve, seen at work from inside the container."""
import fcntl
import json
import os
import re
import select
import socket
import struct
import threading

import pytest

UNISTD = "/usr/include/x86_64-linux-gnu/asm/unistd_64.h"


def with_seccomp(profile, nnp=True):
    def mutate(c):
        c["linux"]["seccomp"] = profile
        c["process"]["noNewPrivileges"] = nnp
    return mutate


@pytest.mark.parametrize("nnp", [True, False])
def test_errno_rule_with_errno_ret(hako, tmp_path, nnp):
    """Without no_new_privs the filter is loaded before the capabilities drop."""
    profile = {"defaultAction": "SCMP_ACT_ALLOW",
               "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO",
                             "errnoRet": 38}]}
    p = hako.run(tmp_path, ["/bin/sh", "-c", "mkdir /tmp/hako-x; echo rc=$?"],
                 with_seccomp(profile, nnp))
    assert p.returncode == 0, p.stderr
    assert "Function not implemented" in p.stderr and p.stdout == "rc=1\n"


def test_kill_process_action(hako, tmp_path):
    profile = {"defaultAction": "SCMP_ACT_ALLOW",
               "syscalls": [{"names": ["uname"], "action": "SCMP_ACT_KILL_PROCESS"}]}
    p = hako.run(tmp_path, ["/bin/hako-probe", "report"], with_seccomp(profile))
    assert p.returncode == 128 + 31, (p.returncode, p.stderr)  # SIGSYS


def test_argument_conditions(hako, tmp_path):
    """A condition on an argument: kill(pid, SIGUSR1) is refused, kill -0 is not."""
    profile = {"defaultAction": "SCMP_ACT_ALLOW",
               "syscalls": [{"names": ["kill"], "action": "SCMP_ACT_ERRNO",
                             "args": [{"index": 1, "value": 10, "op": "SCMP_CMP_EQ"}]}]}
    p = hako.run(tmp_path, ["/bin/sh", "-c",
                            "kill -USR1 $$ 2>/dev/null; echo usr1=$?; kill -0 $$; echo zero=$?"],
                 with_seccomp(profile))
    assert p.stdout == "usr1=1\nzero=0\n", (p.stdout, p.stderr)


def docker_like_profile(deny=()):
    """A default-deny profile that allows every x86_64 syscall but deny, with
    unknown names too (as profiles written for newer kernels have)."""
    names = re.findall(r"#define __NR_(\w+)", open(UNISTD).read())
    names = [n for n in names if n not in deny] + ["hako_future_syscall"]
    return {"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 1,
            "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
            "syscalls": [{"names": names, "action": "SCMP_ACT_ALLOW"}]}


@pytest.mark.skipif(not os.path.exists(UNISTD), reason="needs linux-libc-dev")
def test_default_deny_profile_with_unknown_names(hako, tmp_path):
    p = hako.run(tmp_path, ["/bin/sh", "-c", "mkdir /tmp/hako-y; echo rc=$?"],
                 with_seccomp(docker_like_profile(deny=("mkdir", "mkdirat"))))
    assert p.returncode == 0, p.stderr
    assert p.stdout == "rc=1\n" and "Operation not permitted" in p.stderr
    assert "unknown syscall \"hako_future_syscall\" skipped" in p.stderr


def test_exec_gets_the_filter_too(hako, tmp_path):
    cid = hako.new_id()
    profile = {"defaultAction": "SCMP_ACT_ALLOW",
               "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"}]}
    hako.cmd("run", "-d", "--bundle",
             hako.bundle(tmp_path, ["/bin/hako-probe", "sleep", "60"], with_seccomp(profile)),
             cid, check=True)
    p = hako.cmd("exec", cid, "/bin/sh", "-c", "mkdir /tmp/hako-z; grep Seccomp: /proc/self/status")
    assert "Operation not permitted" in p.stderr and "Seccomp:\t2" in p.stdout


SECCOMP_IOCTL_NOTIF_RECV = 0xC0502100  # _IOWR('!', 0, struct seccomp_notif), 80 bytes
SECCOMP_IOCTL_NOTIF_SEND = 0xC0182101  # _IOWR('!', 1, struct seccomp_notif_resp), 24 bytes


class Agent(threading.Thread):
    """A seccomp agent at a unix socket: for each connection it reads the
    container process state and the listener fd, then answers every
    notified syscall with ECONNREFUSED, recording the syscall numbers."""

    def __init__(self, path):
        super().__init__(daemon=True)
        self.path, self.states, self.syscalls = path, [], []
        self.server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.server.bind(path)
        self.server.listen(4)
        self.listeners = []
        self.stop = False

    def run(self):
        while not self.stop:
            ready, _, _ = select.select([self.server] + self.listeners, [], [], 0.1)
            for r in ready:
                if r is self.server:
                    self.accept()
                else:
                    self.answer(r)

    def accept(self):
        conn, _ = self.server.accept()
        data, fds, _, _ = socket.recv_fds(conn, 65536, 4)
        while True:
            more = conn.recv(65536)
            if not more:
                break
            data += more
        conn.close()
        self.states.append(json.loads(data))
        self.listeners += fds

    def answer(self, fd):
        buf = bytearray(80)
        try:
            fcntl.ioctl(fd, SECCOMP_IOCTL_NOTIF_RECV, buf)
        except OSError:  # the process is gone
            self.listeners.remove(fd)
            os.close(fd)
            return
        notif_id, _pid, _flags, nr = struct.unpack_from("=QIIi", buf)
        self.syscalls.append(nr)
        resp = bytearray(struct.pack("=QqiI", notif_id, 0, -111, 0))  # -ECONNREFUSED
        try:
            fcntl.ioctl(fd, SECCOMP_IOCTL_NOTIF_SEND, resp)
        except OSError:
            pass

    def close(self):
        self.stop = True
        self.join()
        self.server.close()
        for fd in self.listeners:
            os.close(fd)


def test_notify_goes_to_the_agent_at_listener_path(hako, tmp_path):
    """SCMP_ACT_NOTIFY: the agent gets the container process state and the
    listener, from create and from exec, and its answers reach the process."""
    agent = Agent(str(tmp_path / "agent.sock"))
    agent.start()
    profile = {"defaultAction": "SCMP_ACT_ALLOW", "listenerPath": agent.path,
               "listenerMetadata": "hako-test-metadata",
               "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_NOTIFY"}]}
    try:
        cid = hako.new_id()
        b = hako.bundle(tmp_path, ["/bin/sh", "-c", "mkdir /tmp/hako-n; echo rc=$?; "
                                   "exec /bin/hako-probe sleep 60"], with_seccomp(profile))
        hako.cmd("run", "-d", "--bundle", b, cid, check=True)
        init = json.loads(hako.cmd("state", cid).stdout)["pid"]
        p = hako.cmd("exec", cid, "/bin/mkdir", "/tmp/hako-e")
        assert p.returncode == 1 and "Connection refused" in p.stderr, p.stderr
        assert len(agent.states) == 2, agent.states
        first, second = agent.states
        assert first["fds"] == ["seccompFd"] and first["pid"] == init
        assert first["metadata"] == "hako-test-metadata"
        assert first["state"]["id"] == cid and first["state"]["status"] == "creating"
        assert first["state"]["pid"] == init and first["state"]["bundle"] == b
        assert second["pid"] != init and second["state"]["status"] == "running"
        # mkdir(2) or mkdirat(2), once from the init and once from exec
        assert len(agent.syscalls) == 2 and set(agent.syscalls) <= {83, 258}, agent.syscalls
        assert open(f"/proc/{init}/fdinfo/0") and not any(
            os.readlink(f"/proc/{init}/fd/{fd}").startswith("anon_inode:seccomp")
            for fd in os.listdir(f"/proc/{init}/fd")), "the listener leaked into the container"
        hako.cmd("kill", cid, "KILL")
    finally:
        agent.close()


def test_an_absent_agent_fails_the_create_cleanly(hako, tmp_path):
    profile = {"defaultAction": "SCMP_ACT_ALLOW", "listenerPath": str(tmp_path / "none.sock"),
               "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_NOTIFY"}]}
    cid = hako.new_id()
    p = hako.cmd("run", "--bundle", hako.bundle(tmp_path, ["/bin/true"], with_seccomp(profile)),
                 cid)
    assert p.returncode != 0
    assert "linux.seccomp.listenerPath: connect" in p.stderr and "none.sock" in p.stderr
    assert [d for d in os.listdir(hako.root) if not d.startswith(".")] == []


@pytest.mark.parametrize("profile, message", [
    ({"defaultAction": "SCMP_ACT_ALLOW",
      "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_NOTIFY"}]},
     'SCMP_ACT_NOTIFY needs "listenerPath"'),
    ({"defaultAction": "SCMP_ACT_ALLOW", "listenerPath": "/run/a.sock",
      "syscalls": [{"names": ["write"], "action": "SCMP_ACT_NOTIFY"}]},
     'SCMP_ACT_NOTIFY cannot be used for "write"'),
    ({"defaultAction": "SCMP_ACT_NOTIFY", "listenerPath": "/run/a.sock"},
     "use it in syscalls only"),
    ({"defaultAction": "SCMP_ACT_ALLOW", "listenerMetadata": "x"},
     '"listenerMetadata" needs "listenerPath"'),
    ({"defaultAction": "SCMP_ACT_ALLOW", "listenerPath": "relative.sock"},
     "is not an absolute path"),

    ({"defaultAction": "SCMP_ACT_NOPE"}, "linux.seccomp.defaultAction: unknown action"),
    ({"defaultAction": "SCMP_ACT_ALLOW", "flags": ["SECCOMP_FILTER_FLAG_NOPE"]},
     "unknown flag"),
    ({"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_NOPE"]},
     "linux.seccomp.architectures: unknown \"SCMP_ARCH_NOPE\""),
    ({"defaultAction": "SCMP_ACT_ALLOW",
      "syscalls": [{"names": ["kill"], "action": "SCMP_ACT_ERRNO",
                    "args": [{"index": 9, "value": 1, "op": "SCMP_CMP_EQ"}]}]},
     "linux.seccomp.syscalls[0].args[0].index"),
    ({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": [], "action": "SCMP_ACT_ALLOW"}]},
     "must list at least one syscall"),
])
def test_bad_profiles_are_refused(hako, tmp_path, profile, message):
    p = hako.run(tmp_path, ["/bin/true"], with_seccomp(profile))
    assert p.returncode != 0 and message in p.stderr, p.stderr
    assert os.listdir(hako.root) == []


def test_compiled_profiles_are_cached_and_checked(hako, tmp_path):
    profile = {"defaultAction": "SCMP_ACT_ALLOW",
               "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"}]}
    b = hako.bundle(tmp_path, ["/bin/sh", "-c", "mkdir /tmp/hako-c; echo rc=$?"],
                    with_seccomp(profile))
    runs = []
    for _ in range(2):
        p = hako.cmd("--debug", "run", "--bundle", b, hako.new_id())
        assert p.stdout == "rc=1\n", p.stderr
        runs.append(p.stderr)
    assert "compiled to" in runs[0] and "from the cache" in runs[1]
    # A cache file that is not exactly this profile's is never used.
    cache = os.path.join(hako.root, ".seccomp-cache")
    (name,) = os.listdir(cache)
    with open(os.path.join(cache, name), "r+b") as f:
        data = f.read().replace(b"mkdirat", b"mkdirXX")
        f.seek(0)
        f.write(data)
    p = hako.cmd("--debug", "run", "--bundle", b, hako.new_id())
    assert p.stdout == "rc=1\n" and "compiled to" in p.stderr
