# SPDX-License-Identifier: GPL-2.0-or-later
"""Regression tests for the container-runtime escapes hako must be immune to."""
import hashlib
import json
import os

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
