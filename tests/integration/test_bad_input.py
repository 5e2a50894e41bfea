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


def write_config_text(bundle, text):
    with open(os.path.join(bundle, "config.json"), "w") as f:
        f.write(text)


def config_text_with(hako, tmp_path, key_path, raw):
    """The base config's text with the member at key_path replaced by raw JSON text."""
    b = hako.bundle(tmp_path, ["/bin/true"])
    config = json.load(open(os.path.join(b, "config.json")))
    node = config
    for k in key_path[:-1]:
        node = node.setdefault(k, {})
    node[key_path[-1]] = "@RAW@"
    write_config_text(b, json.dumps(config).replace('"@RAW@"', raw))
    return b


@pytest.mark.parametrize("key_path, raw, message", [
    # huge arrays: each element checked, the error names the first bad one
    (["process", "args"], json.dumps(["/bin/true"] * 200000 + [1]),
     "process.args[200000]: expected a string"),
    (["process", "env"], "[" + ",".join(['"A=1"'] * 100000) + ",null]",
     "process.env[100000]"),
    (["linux", "maskedPaths"], json.dumps(["/proc/kcore"] * 50000 + ["relative"]),
     "maskedPaths[50000]: \"relative\" is not an absolute path"),
    # deep nesting
    (["annotations"], '{"a":' * 100000 + "1" + "}" * 100000, "nesting too deep"),
    (["process", "args"], "[" * 5000 + "]" * 5000, "nesting too deep"),
    # negative and out-of-range numbers
    (["process", "user", "uid"], "-1", "process.user.uid"),
    (["process", "user", "uid"], "4294967296", "process.user.uid"),
    (["process", "user", "gid"], "1e3", "process.user.gid"),
    (["process", "oomScoreAdj"], "1001", "process.oomScoreAdj"),
    (["process", "consoleSize", "height"], "-5", "process.consoleSize"),
    (["linux", "resources", "pids", "limit"], "99999999999999999999999",
     "linux.resources.pids.limit"),
    (["linux", "resources", "memory", "limit"], "-2", "linux.resources.memory.limit"),
    (["linux", "resources", "cpu", "shares"], "-1", "linux.resources.cpu.shares"),
    (["process", "rlimits"], '[{"type":"RLIMIT_NOFILE","soft":-1,"hard":1}]',
     "process.rlimits[0]"),
    (["linux", "uidMappings"], '[{"containerID":0,"hostID":-1,"size":1}]', "linux.uidMappings[0]"),
    (["linux", "timeOffsets", "monotonic", "secs"], "1.5", "linux.timeOffsets"),
    # NUL bytes inside strings
    (["hostname"], '"host\\u0000name"', "NUL byte"),
    (["process", "args"], '["/bin/true\\u0000evil"]', "NUL byte"),
    (["process", "env"], '["A=1\\u0000B=2"]', "NUL byte"),
    (["process", "cwd"], '"/tmp\\u0000/../etc"', "NUL byte"),
], ids=lambda v: str(v)[:40])
def test_hostile_config_values(hako, tmp_path, key_path, raw, message):
    b = config_text_with(hako, tmp_path, key_path, raw)
    err = run_bad(hako, b)
    assert message in err and "config.json:" in err, err[:2000]
    assert len(err) < 4096, "an error is one line, not the input echoed back"


@pytest.mark.parametrize("key_path, raw, message", [
    (["process", "cwd"], '"/../../../etc"', "process.cwd"),
    (["linux", "maskedPaths"], '["/proc/../../etc/shadow"]', "linux.maskedPaths"),
    (["linux", "readonlyPaths"], '["/../../usr"]', "linux.readonlyPaths"),
])
def test_absolute_paths_climbing_out_with_dotdot(hako, tmp_path, key_path, raw, message):
    """Resolved inside the rootfs, a ".." above its top is refused by name."""
    b = config_text_with(hako, tmp_path, key_path, raw)
    err = run_bad(hako, b)
    assert message in err and '".." points outside the rootfs' in err, err


def test_a_raw_nul_byte_in_the_file(hako, tmp_path):
    b = hako.bundle(tmp_path, ["/bin/true"])
    text = open(os.path.join(b, "config.json")).read()
    write_config_text(b, text.replace('"/bin/true"', '"/bin/tr\x00ue"'))
    err = run_bad(hako, b)
    assert "config.json" in err and "NUL" in err, err


def test_mount_destination_with_dotdot_stays_inside(hako, tmp_path):
    """A mount destination "/../../x" is the rootfs's /x, never the host's."""
    def mutate(c):
        c["mounts"].append({"destination": "/../../../hako-test-dotdot", "type": "tmpfs",
                            "source": "tmpfs"})
    p = hako.run(tmp_path, ["/bin/true"], mutate)
    assert not os.path.exists("/hako-test-dotdot")
    assert p.returncode != 0 and '".." points outside the rootfs' in p.stderr, p.stderr


@pytest.mark.parametrize("key, drop_ns", [
    ("kernel.core_pattern", None),
    ("vm.swappiness", None),
    ("kernel.hostname", None),
    ("net.ipv4.ip_forward", "network"),
    ("kernel.shmmni", "ipc"),
    ("fs.mqueue.queues_max", "ipc"),
])
def test_sysctls_outside_the_containers_namespaces_are_refused(hako, tmp_path, key, drop_ns):
    def mutate(c):
        c["linux"]["sysctl"] = {key: "1"}
        if drop_ns:
            c["linux"]["namespaces"] = [n for n in c["linux"]["namespaces"]
                                        if n["type"] != drop_ns]
    b = hako.bundle(tmp_path, ["/bin/true"], mutate)
    err = run_bad(hako, b)
    assert f"linux.sysctl.{key}: not in a namespace of the container's own" in err, err
