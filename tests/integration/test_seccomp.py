# SPDX-License-Identifier: GPL-2.0-or-later
"""linux.seccomp: filters compiled by libseccomp in the runtime, loaded by the
init before execve, seen at work from inside the container."""
import os
import re

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


@pytest.mark.parametrize("profile, message", [
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
