# SPDX-License-Identifier: GPL-2.0-or-later
"""Regression tests for the container-runtime escapes hako must be immune to."""
import hashlib
import json
import os
import subprocess

from conftest import HAKO


def digest(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def test_cve_2019_5736_the_runtime_binary_cannot_be_reached(hako, tmp_path):
    """The init of a created container is hako: from inside the container its
    /proc/1/exe can be neither read nor written (non-dumpable init, and a
    sealed memfd copy of hako behind it, not the host's binary)."""
    before = digest(HAKO)
    cid = hako.new_id()
    hako.cmd("create", "--bundle", hako.bundle(tmp_path, ["/bin/true"]), cid, check=True)
    init = json.loads(hako.cmd("state", cid).stdout)["pid"]
    assert os.readlink(f"/proc/{init}/exe").startswith("/memfd:hako")
    p = hako.cmd("exec", cid, "/bin/sh", "-c",
                 "readlink /proc/1/exe; echo evil >> /proc/1/exe && echo WROTE")
    assert "WROTE" not in p.stdout and "/memfd" not in p.stdout, (p.stdout, p.stderr)
    assert "Permission denied" in p.stderr
    assert digest(HAKO) == before


def test_no_host_fd_leaks_into_the_container(hako, tmp_path):
    """CVE-2024-21626: only stdio reaches the process, and its cwd is inside."""
    r = hako.report(tmp_path)
    assert r["fds"] == [0, 1, 2]
    assert r["cwd"] == "/"


def test_sysctls_apply_with_the_default_read_only_proc_sys(hako, tmp_path):
    """linux.sysctl is written before /proc/sys is made read-only, in the
    container's own namespaces."""
    def mutate(c):
        c["linux"]["sysctl"] = {"kernel.shmmni": "1234", "net.ipv4.ip_forward": "1"}
    p = hako.run(tmp_path, ["/bin/cat", "/proc/sys/kernel/shmmni",
                            "/proc/sys/net/ipv4/ip_forward"], mutate)
    assert p.returncode == 0 and p.stdout.split() == ["1234", "1"], p.stderr


def test_sysctls_are_written_through_a_procfs_of_our_own(hako, tmp_path):
    """A mount over a /proc file must not take a write meant for procfs:
    sysctls go through a private procfs instance, into the container's own
    namespace, and the file mounted over it is left alone."""
    fake = tmp_path / "fake-shmmni"
    fake.write_text("0\n")

    def mutate(c):
        c["linux"]["sysctl"] = {"kernel.shmmni": "1234"}
        c["mounts"].append({"destination": "/proc/sys/kernel/shmmni", "type": "bind",
                            "source": str(fake), "options": ["bind"]})
    cid = hako.new_id()
    hako.cmd("run", "-d", "--bundle", hako.bundle(tmp_path, ["sleep", "30"], mutate), cid,
             check=True)
    pid = json.loads(hako.cmd("state", cid, check=True).stdout)["pid"]
    seen = subprocess.run(["nsenter", "-t", str(pid), "-i", "cat", "/proc/sys/kernel/shmmni"],
                          capture_output=True, text=True)
    assert seen.stdout.strip() == "1234", seen
    assert fake.read_text() == "0\n"
    assert open("/proc/sys/kernel/shmmni").read().strip() != "1234"


def test_a_sysctl_cannot_reach_the_hosts_through_a_bind_of_a_proc_file(hako, tmp_path):
    """CVE-2025-52881 class: the host's printk_ratelimit bound over shmmni
    (it is on procfs, so a check of the file system alone lets it by) and
    kernel.shmmni=9 set the host's global sysctl to 9."""
    host = "/proc/sys/kernel/printk_ratelimit"
    before = open(host).read()

    def mutate(c):
        c["linux"]["sysctl"] = {"kernel.shmmni": "9"}
        c["mounts"].append({"destination": "/proc/sys/kernel/shmmni", "type": "bind",
                            "source": host, "options": ["bind"]})
    try:
        p = hako.run(tmp_path, ["/bin/true"], mutate)
        assert open(host).read() == before, p.stderr
    finally:
        with open(host, "w") as f:
            f.write(before)
