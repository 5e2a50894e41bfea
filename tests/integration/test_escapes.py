# SPDX-License-Identifier: GPL-2.0-or-later
"""The hostile-container set: each test runs a container that tries one escape
(hako-probe try ...) and checks that it fails. The /proc/self/exe overwrite
(CVE-2019-5736) is in test_hardening.py, and mounts through symlinks placed
by the image are in test_filesystem.py."""
import json
import os
import shutil
import stat
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


# ---- Issue 10: escapes through the image's symlinks, host paths, fds, races ----

def hostile_rootfs(hako, tmp_path, args, mutate=None):
    """A bundle with a copy of the busybox rootfs for the test to make hostile."""
    b = hako.bundle(tmp_path, args, mutate, copy_rootfs=True)
    return b, os.path.join(b, "rootfs")


@pytest.mark.parametrize("where", ["proc", "sys"])
def test_proc_and_sysfs_are_not_mounted_through_a_symlink(hako, tmp_path, where):
    """The image makes /proc (or /sys) a symlink to /dev/x -> /tmp/p: the real
    procfs would land on /tmp/p, where no mask or read-only path covers it, and
    the host's sysctls would be writable. proc and sysfs go only onto a plain
    directory: create fails and names the symlink."""
    script = ('v=$(cat /tmp/p/sys/kernel/printk_ratelimit); '
              'echo $v > /tmp/p/sys/kernel/printk_ratelimit && echo WROTE')
    before = open("/proc/sys/kernel/printk_ratelimit").read()
    b, rootfs = hostile_rootfs(hako, tmp_path, ["sh", "-c", script])
    shutil.rmtree(os.path.join(rootfs, where))
    os.symlink("/dev/x", os.path.join(rootfs, where))
    os.symlink("/tmp/p", os.path.join(rootfs, "dev", "x"))
    p = hako.cmd("run", "--bundle", b, hako.new_id())
    assert "WROTE" not in p.stdout
    assert p.returncode != 0 and "is a symlink" in p.stderr, p.stderr
    assert f'"/{where}"' in p.stderr, p.stderr
    assert open("/proc/sys/kernel/printk_ratelimit").read() == before
    assert os.listdir(hako.root) == []


def test_a_masked_path_behind_a_symlink_fails_create(hako, tmp_path):
    """A mask that cannot be put where the config says is an error, never
    skipped; one that does not exist in the container is skipped."""
    def mutate(c):
        c["linux"]["maskedPaths"] += ["/data/secret", "/hako-test-absent/x"]
    b, rootfs = hostile_rootfs(hako, tmp_path, ["cat", "/data/secret"], mutate)
    os.mkdir(os.path.join(rootfs, "elsewhere"))
    with open(os.path.join(rootfs, "elsewhere", "secret"), "w") as f:
        f.write("unmasked\n")
    os.symlink("/elsewhere", os.path.join(rootfs, "data"))
    p = hako.cmd("run", "--bundle", b, hako.new_id())
    assert "unmasked" not in p.stdout
    assert p.returncode != 0 and "linux.maskedPaths" in p.stderr and "symlink" in p.stderr, \
        p.stderr
    # The same path as a real directory is masked.
    os.unlink(os.path.join(rootfs, "data"))
    os.rename(os.path.join(rootfs, "elsewhere"), os.path.join(rootfs, "data"))
    p = hako.cmd("run", "--bundle", b, hako.new_id())
    assert p.returncode == 0 and p.stdout == "", (p.stdout, p.stderr)


def test_readonly_paths_are_the_containers_own(hako, tmp_path):
    """readonlyPaths ["/etc"] once bound the host's /etc (and its shadow
    file) into the container; a path only the image has failed create."""
    host_shadow = open("/etc/shadow").read()

    def mutate(c):
        c["linux"]["readonlyPaths"] += ["/etc", "/hako-test-image-only"]
    b, rootfs = hostile_rootfs(hako, tmp_path, [
        "sh", "-c", "cat /etc/shadow; cat /etc/hako-test-mark; "
        "touch /hako-test-image-only/x /etc/x 2>&1; true"], mutate)
    with open(os.path.join(rootfs, "etc", "hako-test-mark"), "w") as f:
        f.write("the image's /etc\n")
    os.mkdir(os.path.join(rootfs, "hako-test-image-only"))
    p = hako.cmd("run", "--bundle", b, hako.new_id())
    assert p.returncode == 0, p.stderr
    assert "root:" not in p.stdout and host_shadow not in p.stdout
    assert "the image's /etc" in p.stdout
    assert p.stdout.count("Read-only file system") == 2, p.stdout


def test_proc_sys_is_the_containers_procfs_and_wholly_read_only(hako, tmp_path):
    """The default /proc/sys read-only path is a bind of the container's own
    procfs (same device as its /proc), with every submount read-only."""
    script = ("stat -c %d /proc/self/stat /proc/sys/kernel/hostname; "
              "grep ' /proc/sys' /proc/self/mountinfo")
    p = hako.run(tmp_path, ["sh", "-c", script])
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert lines[0] == lines[1], p.stdout
    for m in lines[2:]:
        assert " ro," in m or " ro " in m, m


def test_binfmt_misc_under_proc_sys_is_not_writable(hako, tmp_path):
    """On a host with binfmt_misc mounted at /proc/sys/fs/binfmt_misc, a
    default container must not register a handler there (the host's): its
    /proc/sys was a bind of the host's, submounts and all. hako
    runs in a private mount namespace with binfmt_misc mounted, so the host's
    own mounts are not touched."""
    b = hako.bundle(tmp_path, ["sh", "-c",
                               "printf ':hako-test-x:M::\\x7fHAKOX::/bin/false:' "
                               "> /proc/sys/fs/binfmt_misc/register && echo REGISTERED"])
    cid = hako.new_id()
    script = ('mountpoint -q /proc/sys/fs/binfmt_misc || '
              'mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc || exit 77; '
              'exec "$@"')
    p = subprocess.run(["unshare", "-m", "--propagation", "private", "sh", "-c", script, "sh",
                        HAKO, "--root", hako.root, "run", "--bundle", b, cid],
                       capture_output=True, text=True, timeout=60)
    if p.returncode == 77:
        pytest.skip("binfmt_misc cannot be mounted here")
    registered = os.path.exists("/proc/sys/fs/binfmt_misc/hako-test-x")
    if registered:  # undo the escape before failing
        with open("/proc/sys/fs/binfmt_misc/hako-test-x", "w") as f:
            f.write("-1")
    assert "REGISTERED" not in p.stdout and not registered
    # The container's own procfs has no binfmt_misc mounted at all; were it
    # there, it would be read-only.
    assert "Read-only file system" in p.stderr or "nonexistent" in p.stderr, p.stderr


def test_the_created_init_holds_no_host_directory(hako, tmp_path):
    """Between create and start the init held an O_PATH fd of the state
    directory: a process with CAP_SYS_PTRACE wrote the host through
    /proc/1/fd/N/../../... It holds only the exec fifo now."""
    caps = ["CAP_SYS_PTRACE", "CAP_DAC_OVERRIDE", "CAP_CHOWN", "CAP_FOWNER"]

    def mutate(c):
        for k in ("bounding", "effective", "permitted"):
            c["process"]["capabilities"][k] = caps
    cid = hako.new_id()
    hako.cmd("create", "--bundle", hako.bundle(tmp_path, ["sleep", "30"], mutate), cid,
             check=True)
    proof = "hako-test-proof-" + cid
    script = ("ls -l /proc/1/fd; for n in $(ls /proc/1/fd); do "
              f"echo x > /proc/1/fd/$n/../../../tmp/{proof} 2>/dev/null; "
              f"echo x > /proc/1/fd/$n/../../../../tmp/{proof} 2>/dev/null; done; true")
    p = hako.cmd("exec", "--cap", "CAP_SYS_PTRACE", cid, "sh", "-c", script)
    assert p.returncode == 0, p.stderr
    assert not os.path.exists(f"/tmp/{proof}")
    assert "exec.fifo" in p.stdout, p.stdout  # the listing did work
    # Seen from the host: no fd of the init is a directory; the one of the
    # state directory is the exec fifo.
    init = json.loads(hako.cmd("state", cid, check=True).stdout)["pid"]
    fds = os.listdir(f"/proc/{init}/fd")
    assert not any(stat.S_ISDIR(os.stat(f"/proc/{init}/fd/{n}").st_mode) for n in fds)
    assert [os.readlink(f"/proc/{init}/fd/{n}") for n in fds
            if os.readlink(f"/proc/{init}/fd/{n}").startswith(hako.root)] == \
        [os.path.join(hako.root, cid, "exec.fifo")]


def test_a_swapped_destination_never_leaves_a_read_only_bind_writable(hako, tmp_path):
    """CVE-2021-30465 class: a second party swaps the destination directory
    with a symlink to / (renameat2 RENAME_EXCHANGE, in a loop) while hako
    mounts a read-only bind there. Every step after the first acts on the
    mount's fd, so wherever the bind lands (in the root), it is read-only."""
    import ctypes
    import threading
    libc = ctypes.CDLL(None, use_errno=True)
    AT_FDCWD, RENAME_EXCHANGE = -100, 2
    src = tmp_path / "hako-test-ro-src"
    src.mkdir()
    (src / "mark").write_text("ro source\n")

    def mutate(c):
        c["mounts"].append({"destination": "/vol/ro", "type": "bind", "source": str(src),
                            "options": ["bind", "ro"]})
    script = ("grep hako-test-ro-src /proc/self/mountinfo | "
              "while read a b c d e opts rest; do echo \"$e $opts\"; done")
    b, rootfs = hostile_rootfs(hako, tmp_path, ["sh", "-c", script], mutate)
    vol = os.path.join(rootfs, "vol")
    os.mkdir(vol)
    os.mkdir(os.path.join(vol, "ro"))
    os.symlink("/", os.path.join(vol, "link"))
    stop = threading.Event()
    a, z = os.path.join(vol, "ro").encode(), os.path.join(vol, "link").encode()

    def swap():
        while not stop.is_set():
            libc.renameat2(AT_FDCWD, a, AT_FDCWD, z, RENAME_EXCHANGE)
    t = threading.Thread(target=swap)
    t.start()
    seen = 0
    try:
        for _ in range(150):
            cid = hako.new_id()
            p = hako.cmd("run", "--bundle", b, cid)
            assert not os.path.exists(os.path.join(hako.root, cid))
            hako.ids.remove(cid)  # run removed it: no teardown for it
            for line in p.stdout.splitlines():
                where, opts = line.split()
                assert opts.split(",")[0] == "ro", (line, p.stdout)
                seen += 1
    finally:
        stop.set()
        t.join()
    assert seen > 0
