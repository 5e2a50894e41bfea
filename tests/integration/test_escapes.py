# SPDX-License-Identifier: GPL-2.0-or-later
"""The hostile-container set: each test runs a container that tries one escape
(hako-probe try ...) and checks that it fails. The /proc/self/exe overwrite
(CVE-2019-5736) is in test_hardening.py, and mounts through symlinks placed
by the image are in test_filesystem.py."""
import os
import subprocess

import pytest

from conftest import BASE_BUNDLE, HAKO
from test_exec import running


def attempt(hako, tmp_path, *args, mutate=None):
    p = hako.run(tmp_path, ["/bin/hako-probe", "try", *args], mutate)
    return p.returncode, p.stdout + p.stderr


def refused(result, why):
    code, out = result
    assert code == 1 and f"refused: {why}" in out, out


def test_a_host_fd_given_to_hako_does_not_reach_the_container(hako, tmp_path):
    """CVE-2024-21626: an fd open in the caller (here a host file as fd 5)
    is neither inherited nor reachable through /proc/self/fd."""
    secret = tmp_path / "host-secret"
    secret.write_text("host secret\n")

    def run_with_fds(*args):
        # The shell opens the file as fds 3 and 5, then becomes hako.
        return subprocess.run(["sh", "-c", 'exec 3<"$0" 5<"$0"; exec "$@"', str(secret), HAKO,
                               "--root", hako.root, "run", *args],
                              capture_output=True, text=True, timeout=30)
    b = hako.bundle(tmp_path, ["/bin/hako-probe", "cat", "/proc/self/fd/5"])
    p = run_with_fds("--bundle", b, hako.new_id())
    assert "host secret" not in p.stdout and p.returncode == 1, p.stdout
    assert "No such file or directory" in p.stderr
    # --preserve-fds is the way to give one on purpose: fd 3 then.
    b = hako.bundle(tmp_path, ["/bin/hako-probe", "cat", "/proc/self/fd/3"])
    p = run_with_fds("--preserve-fds", "1", "--bundle", b, hako.new_id())
    assert p.returncode == 0 and p.stdout == "host secret\n", p.stderr


@pytest.mark.parametrize("cwd", [f"/proc/self/fd/{n}" for n in range(3, 10)]
                         + ["/proc/self/cwd", "/proc/1/root/..", "/proc/self/exe/.."])
def test_cwd_cannot_leave_through_a_runtime_fd(hako, tmp_path, cwd):
    """CVE-2024-21626: process.cwd through a magic link would land on a fd
    of the runtime (the state directory, the host's root...)."""
    def mutate(c):
        c["process"]["cwd"] = cwd
    p = hako.run(tmp_path, ["/bin/sh", "-c", "pwd; ls /proc/self/cwd/.."], mutate)
    assert p.returncode != 0, p.stdout
    assert "process.cwd" in p.stderr, p.stderr
    assert p.stdout == ""
    # Nothing was made in the rootfs on the way: no host path turned directory.
    assert not os.path.exists(os.path.join(BASE_BUNDLE, "rootfs", hako.root.lstrip("/")))


def test_exec_cwd_cannot_leave_through_a_runtime_fd(hako, tmp_path):
    cid, _ = running(hako, tmp_path)
    for n in range(3, 10):
        p = hako.cmd("exec", "--cwd", f"/proc/self/fd/{n}", cid, "/bin/pwd")
        assert p.returncode == 255 and "process.cwd" in p.stderr, (n, p.stdout, p.stderr)
    r = hako.cmd("exec", cid, "/bin/hako-probe", "try", "chdir", "/proc/1/cwd/..")
    assert "ESCAPED" not in r.stdout, r.stdout


def test_no_write_through_proc_sys_or_sysrq(hako, tmp_path):
    """The default readonlyPaths: /proc/sys and /proc/sysrq-trigger. The write
    puts back what core_pattern holds, so even a failure of this test changes
    nothing on the host."""
    pattern = open("/proc/sys/kernel/core_pattern").read().strip()
    for path, text in (("/proc/sys/kernel/core_pattern", pattern), ("/proc/sysrq-trigger", "")):
        if not os.path.exists(path):
            continue  # a kernel without magic SysRq
        p = hako.run(tmp_path, ["/bin/sh", "-c", 'printf %s "$1" > "$0"', path, text])
        assert p.returncode != 0 and "Read-only file system" in p.stderr, (path, p.stderr)


def test_no_kernel_module_loading(hako, tmp_path):
    if not os.path.exists("/proc/modules"):
        # This kernel has no module support: finit_module(2) is ENOSYS for all.
        refused(attempt(hako, tmp_path, "module"), "Function not implemented")
        pytest.skip("the kernel is built without modules; the v2 lane checks EPERM")
    refused(attempt(hako, tmp_path, "module"), "Operation not permitted")


def test_no_mount_without_cap_sys_admin(hako, tmp_path):
    refused(attempt(hako, tmp_path, "mount"), "Operation not permitted")


@pytest.mark.parametrize("ns", ["mnt", "net", "uts", "ipc", "pid", "cgroup", "time"])
def test_no_unshare_without_cap_sys_admin(hako, tmp_path, ns):
    refused(attempt(hako, tmp_path, "unshare", ns), "Operation not permitted")


def test_the_container_cannot_ptrace_the_runtime(hako, tmp_path):
    """While created, the container's PID 1 is still hako's own code, waiting
    for start: non-dumpable, so a process of the container cannot attach."""
    cid = hako.new_id()
    hako.cmd("create", "--bundle", hako.bundle(tmp_path, ["/bin/true"]), cid, check=True)
    p = hako.cmd("exec", cid, "/bin/hako-probe", "try", "ptrace", "1")
    assert p.returncode == 1 and "refused: Operation not permitted" in p.stdout, p.stdout
    # With CAP_SYS_PTRACE a process can attach to its sibling: the test can fail.
    def with_ptrace(c):
        for s in ("bounding", "effective", "permitted"):
            c["process"]["capabilities"][s].append("CAP_SYS_PTRACE")
    cid3 = hako.new_id()
    b = hako.bundle(tmp_path, ["/bin/sh", "-c", "/bin/hako-probe sleep 30 & sleep 0.2; "
                               "/bin/hako-probe try ptrace $!"], with_ptrace)
    p = hako.cmd("run", "--bundle", b, cid3)
    assert "ESCAPED" in p.stdout, p.stdout + p.stderr


def test_a_filter_cannot_be_loosened_from_inside(hako, tmp_path):
    def mutate(c):
        c["process"]["noNewPrivileges"] = True
        c["linux"]["seccomp"] = {
            "defaultAction": "SCMP_ACT_ALLOW",
            "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"}]}
    refused(attempt(hako, tmp_path, "seccomp", "/dev/shm/hako-escape", mutate=mutate),
            "Operation not permitted")
    # Without the profile the same mkdir works: the test can fail.
    p = hako.run(tmp_path, ["/bin/hako-probe", "try", "seccomp", "/dev/shm/hako-escape"],
                 lambda c: c["process"].update(noNewPrivileges=True))
    assert "ESCAPED" in p.stdout, p.stdout


def test_seccomp_trap_and_log_seen_from_inside(hako, tmp_path):
    def profile(action):
        def mutate(c):
            c["linux"]["seccomp"] = {"defaultAction": "SCMP_ACT_ALLOW",
                                     "syscalls": [{"names": ["uname"], "action": action}]}
        return mutate
    p = hako.run(tmp_path, ["/bin/hako-probe", "trap"], profile("SCMP_ACT_TRAP"))
    assert p.stdout == "SIGSYS syscall 63\n", p.stdout  # uname on x86_64
    p = hako.run(tmp_path, ["/bin/hako-probe", "trap"], profile("SCMP_ACT_LOG"))
    assert p.stdout == "uname: 0\n" and p.returncode == 1, p.stdout
    r = hako.report(tmp_path, profile("SCMP_ACT_LOG"))
    assert "Seccomp:\t2" in r["status"]


def caps_of(status, key):
    return int([l for l in status.splitlines() if l.startswith(key)][0].split()[1], 16)


@pytest.mark.parametrize("user, caps, expect", [
    # root with the default set: AUDIT_WRITE, KILL, NET_BIND_SERVICE
    (None, None, {"CapEff:": 0x20000420, "CapBnd:": 0x20000420, "CapAmb:": 0}),
    # root with nothing at all
    (None, {s: [] for s in ("bounding", "effective", "permitted", "inheritable", "ambient")},
     {"CapEff:": 0, "CapPrm:": 0, "CapBnd:": 0}),
    # a user with one ambient capability: it survives the execve
    ({"uid": 1000, "gid": 1000}, {s: ["CAP_NET_BIND_SERVICE"] for s in
                                  ("bounding", "effective", "permitted", "inheritable",
                                   "ambient")},
     {"CapEff:": 0x400, "CapPrm:": 0x400, "CapAmb:": 0x400, "CapBnd:": 0x400}),
    # a user without ambient ones: nothing effective after execve
    ({"uid": 1000, "gid": 1000}, {s: ["CAP_KILL"] for s in
                                  ("bounding", "effective", "permitted")},
     {"CapEff:": 0, "CapPrm:": 0, "CapBnd:": 0x20}),
])
def test_capabilities_read_back(hako, tmp_path, user, caps, expect):
    def mutate(c):
        if user:
            c["process"]["user"] = user
        if caps is not None:
            c["process"]["capabilities"] = caps
    status = hako.report(tmp_path, mutate)["status"]
    for key, value in expect.items():
        assert caps_of(status, key) == value, (key, hex(caps_of(status, key)))
