# SPDX-License-Identifier: GPL-2.0-or-later
"""Each bad input: a clear error, a non-zero exit, and nothing left behind."""
import json
import os

import pytest

from conftest import cgroup_leftovers


def assert_nothing_left(hako, cid):
    assert not os.path.exists(os.path.join(hako.root, cid)), "state directory left behind"
    assert not cgroup_leftovers(cid), "cgroup left behind"
    with open("/proc/self/mountinfo") as f:
        assert cid not in f.read()


def run_bad(hako, bundle):
    cid = hako.new_id()
    p = hako.cmd("run", "--bundle", bundle, cid)
    assert p.returncode != 0
    assert_nothing_left(hako, cid)
    return p.stderr


def test_malformed_config(hako, tmp_path):
    b = hako.bundle(tmp_path, ["/bin/true"])
    with open(os.path.join(b, "config.json"), "w") as f:
        f.write('{\n  "ociVersion": "1.0.2",\n  "root": {"path": "rootfs"},\n  "process": [\n')
    err = run_bad(hako, b)
    assert "config.json:5:1:" in err
    with open(os.path.join(b, "config.json"), "w") as f:
        f.write('{"ociVersion": "1.0.2", "root": {"path": "r"},\n "process": {"args": "sh"}}')
    err = run_bad(hako, b)
    assert "config.json:2:22: process.args: expected an array, got string" in err


def test_missing_config_and_rootfs(hako, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    assert "no such file or directory" in run_bad(hako, str(empty))
    err = run_bad(hako, hako.bundle(tmp_path, ["/bin/true"], lambda c: c["root"].update(path="/nonexistent-hako-test")))
    assert "rootfs" in err and "no such file or directory" in err


def test_unsupported_version_and_namespace(hako, tmp_path):
    assert "unsupported version" in run_bad(hako, hako.bundle(tmp_path, ["/bin/true"], lambda c: c.update(ociVersion="3.1.0")))
    err = run_bad(hako, hako.bundle(tmp_path, ["/bin/true"], lambda c: c["linux"]["namespaces"].append({"type": "bogus"})))
    assert 'unsupported namespace type "bogus"' in err


def test_missing_or_not_executable_args0(hako, tmp_path):
    err = run_bad(hako, hako.bundle(tmp_path, ["hako-no-such-program"]))
    assert "executable file not found in $PATH" in err
    err = run_bad(hako, hako.bundle(tmp_path, ["/etc/passwd"]))
    assert "permission denied" in err
    err = run_bad(hako, hako.bundle(tmp_path, ["/no/such/file"]))
    assert "no such file or directory" in err


def test_duplicate_and_unknown_id(hako, tmp_path):
    cid = hako.new_id()
    b = hako.bundle(tmp_path, ["/bin/hako-probe", "sleep", "30"])
    hako.cmd("run", "-d", "--bundle", b, cid, check=True)
    p = hako.cmd("create", "--bundle", b, cid)
    assert p.returncode != 0 and f"container with id exists: {cid}" in p.stderr
    assert json.loads(hako.cmd("state", cid).stdout)["status"] == "running"
    for verb in ("state", "start", "kill", "delete"):
        p = hako.cmd(verb, "hako-test-unknown")
        assert p.returncode != 0 and "does not exist" in p.stderr, verb
    # As runc, deleting by force what is gone already is no error.
    assert hako.cmd("delete", "--force", "hako-test-unknown").returncode == 0
    p = hako.cmd("create", "--bundle", b, "../escape")
    assert p.returncode != 0 and "invalid container id" in p.stderr


def test_bad_signal(hako, tmp_path):
    cid = hako.new_id()
    hako.cmd("run", "-d", "--bundle", hako.bundle(tmp_path, ["/bin/hako-probe", "sleep", "30"]), cid, check=True)
    for sig in ("SIGBOGUS", "0", "99", "-1"):
        p = hako.cmd("kill", cid, sig)
        assert p.returncode != 0 and "unknown signal" in p.stderr, sig
    assert json.loads(hako.cmd("state", cid).stdout)["status"] == "running"


def test_negative_oom_score_adj_needs_cap_sys_resource(hako, tmp_path):
    """Root's bounding set lacks CAP_SYS_RESOURCE on this kind of host."""
    with open("/proc/self/status") as f:
        capbnd = int([l for l in f if l.startswith("CapBnd")][0].split()[1], 16)
    if capbnd & (1 << 24):
        pytest.skip("this host grants CAP_SYS_RESOURCE, so a negative score is allowed")
    err = run_bad(hako, hako.bundle(tmp_path, ["/bin/true"], lambda c: c["process"].update(oomScoreAdj=-500)))
    assert "process.oomScoreAdj -500" in err and "permission denied" in err


def test_json_log_holds_exactly_one_error(hako, tmp_path):
    log = tmp_path / "log.json"
    cid = hako.new_id()
    p = hako.cmd("--log", str(log), "--log-format", "json", "run", "--bundle", str(tmp_path / "nope"), cid)
    assert p.returncode != 0
    lines = log.read_text().splitlines()
    assert len(lines) == 1
    entry = json.loads(lines[0])
    assert entry["level"] == "error" and "nope" in entry["msg"] and entry["time"]


def test_systemd_cgroup_refused_clearly(hako, tmp_path):
    cid = hako.new_id()
    p = hako.cmd("--systemd-cgroup", "run", "--bundle", hako.bundle(tmp_path, ["/bin/true"]), cid)
    assert p.returncode != 0 and "systemd cgroup driver is not supported" in p.stderr
    assert_nothing_left(hako, cid)
