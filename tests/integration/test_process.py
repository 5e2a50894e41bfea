# SPDX-License-Identifier: GPL-2.0-or-later
"""The process settings past user and capabilities: scheduler, I/O priority,
personality, execCPUAffinity and LSM labels, read back from inside."""
import json
import os
import subprocess

import pytest

from conftest import HAKO
from test_exec import running


def with_process(**fields):
    def mutate(c):
        c["process"].update(fields)
    return mutate


def test_scheduler_policy_and_nice(hako, tmp_path):
    r = hako.report(tmp_path, with_process(scheduler={"policy": "SCHED_BATCH", "nice": 5}))
    assert r["sched"] == {"policy": 3, "nice": 5, "priority": 0}


def test_real_time_scheduler_needs_a_budget_in_cgroup_v1(hako, tmp_path):
    fifo = {"policy": "SCHED_FIFO", "priority": 10}
    if os.path.exists("/sys/fs/cgroup/cpu/cpu.rt_runtime_us"):
        # The container's cpu cgroup starts with no real-time time at all.
        p = hako.run(tmp_path, ["/bin/true"], with_process(scheduler=fifo))
        assert p.returncode != 0
        assert "process.scheduler: sched_setattr(policy 1" in p.stderr, p.stderr
        assert "linux.resources.cpu.realtimeRuntime" in p.stderr, p.stderr

        # Real-time time is handed down the tree: hako's default parent
        # starts with none, and is given the child's share (issue 11).
        def mutate(c):
            c["process"]["scheduler"] = fifo
            c["linux"]["resources"] = {"cpu": {"realtimeRuntime": 10000}}
        p = hako.run(tmp_path, ["/bin/sh", "-c", "cat /sys/fs/cgroup/cpu/cpu.rt_runtime_us"],
                     mutate)
        assert p.returncode == 0 and p.stdout == "10000\n", p.stderr

    def mutate(c, cid):
        c["process"]["scheduler"] = fifo
        c["linux"]["cgroupsPath"] = "/" + cid
        c["linux"]["resources"] = {"cpu": {"realtimeRuntime": 10000,
                                           "realtimePeriod": 1000000}}
    cid = hako.new_id()
    p = hako.cmd("run", "--bundle", hako.bundle(tmp_path, ["/bin/hako-probe", "report"],
                                                lambda c: mutate(c, cid)), cid)
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["sched"] == {"policy": 1, "nice": 0, "priority": 10}


def test_io_priority(hako, tmp_path):
    r = hako.report(tmp_path, with_process(ioPriority={"class": "IOPRIO_CLASS_IDLE",
                                                       "priority": 0}))
    assert r["ioprio"] == 3 << 13
    r = hako.report(tmp_path, with_process(ioPriority={"class": "IOPRIO_CLASS_BE",
                                                       "priority": 7}))
    assert r["ioprio"] == 2 << 13 | 7


def test_personality_linux32(hako, tmp_path):
    def mutate(c):
        c["linux"]["personality"] = {"domain": "LINUX32"}
    assert hako.report(tmp_path, mutate)["personality"] == 8  # PER_LINUX32
    p = hako.run(tmp_path, ["/bin/uname", "-m"], mutate)
    assert p.returncode == 0 and p.stdout.strip() == "i686", (p.stdout, p.stderr)


def test_exec_cpu_affinity(hako, tmp_path):
    cpus = os.sched_getaffinity(0)
    cid, _ = running(hako, tmp_path)
    config = json.load(open(os.path.join(json.loads(
        hako.cmd("state", cid).stdout)["bundle"], "config.json")))
    proc = dict(config["process"], args=["/bin/hako-probe", "report"])

    def exec_with(affinity):
        f = tmp_path / "process.json"
        f.write_text(json.dumps(dict(proc, execCPUAffinity=affinity)))
        p = hako.cmd("exec", "--process", str(f), cid)
        assert p.returncode == 0, p.stderr
        return json.loads(p.stdout)["cpus"]

    last = max(cpus)
    assert exec_with({"final": str(last)}) == [last]
    # Without a final list, the process gets back the cpus it would have had.
    assert exec_with({"initial": str(last)}) == sorted(cpus)
    assert exec_with({"initial": "0", "final": f"0-{last}"}) == sorted(cpus)


def test_capabilities_the_kernel_does_not_know_are_skipped(hako, tmp_path):
    """As if on an older kernel: a fake cap_last_cap of 38 (CAP_PERFMON) makes
    CAP_BPF (39) and CAP_CHECKPOINT_RESTORE (40) unknown there."""
    fake = tmp_path / "cap_last_cap"
    fake.write_text("38\n")
    names = ["CAP_KILL", "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE"]
    caps = {s: names for s in ("bounding", "effective", "permitted")}
    cid = hako.new_id()
    bundle = hako.bundle(tmp_path, ["/bin/hako-probe", "report"],
                         with_process(capabilities=caps))
    p = subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c",
                        'mount --bind "$0" /proc/sys/kernel/cap_last_cap && exec "$@"',
                        str(fake), HAKO, "--root", hako.root, "run", "--bundle", bundle, cid],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, p.stderr
    for name in ("CAP_BPF", "CAP_CHECKPOINT_RESTORE"):
        assert f"{name} is not known to the running kernel" in p.stderr, p.stderr
    status = json.loads(p.stdout)["status"]
    # (The bounding set keeps 39 and 40: this kernel has them, hako was told
    # it does not, and so does not drop them by number.)
    for key in ("CapEff:", "CapPrm:"):
        caps = int([l for l in status.splitlines() if l.startswith(key)][0].split()[1], 16)
        assert caps == 1 << 5 | 1 << 38, key  # CAP_KILL and CAP_PERFMON


def test_lsm_labels_without_that_lsm(hako, tmp_path):
    """This host runs neither AppArmor nor SELinux: a mount label is not
    applied (and --debug says so); a profile or a process label is refused,
    as runc does: a confinement asked for is never dropped in silence."""
    if os.path.exists("/sys/fs/selinux/enforce"):
        pytest.skip("SELinux is enabled here")
    aa = open("/sys/module/apparmor/parameters/enabled").read().startswith("Y") \
        if os.path.exists("/sys/module/apparmor/parameters/enabled") else False

    def label(c):
        c["linux"]["mountLabel"] = "system_u:object_r:container_file_t:s0:c1,c2"

    def profile(c):
        c["process"]["apparmorProfile"] = "hako-test-profile"
    p = hako.cmd("--debug", "run", "--bundle", hako.bundle(tmp_path, ["/bin/true"], label),
                 hako.new_id())
    assert p.returncode == 0, p.stderr
    assert "linux.mountLabel" in p.stderr and "is not applied" in p.stderr
    if not aa:
        p = hako.run(tmp_path, ["/bin/true"], profile)
        assert p.returncode != 0
        assert ('process.apparmorProfile "hako-test-profile" is given, but AppArmor is not '
                'enabled on this host') in p.stderr, p.stderr
        assert os.listdir(hako.root) == []
    p = hako.run(tmp_path, ["/bin/true"], with_process(selinuxLabel="system_u:system_r:c:s0"))
    assert p.returncode != 0
    assert "SELinux is not enabled on this host" in p.stderr, p.stderr
    assert os.listdir(hako.root) == []


@pytest.mark.parametrize("fields, message", [
    ({"scheduler": {"policy": "SCHED_NOPE"}}, 'unknown policy "SCHED_NOPE"'),
    ({"scheduler": {"nice": 1}}, '"policy" is required'),
    ({"scheduler": {"policy": "SCHED_OTHER", "nice": 20}}, "nice"),
    ({"scheduler": {"policy": "SCHED_OTHER", "flags": ["SCHED_FLAG_X"]}},
     'unknown flag "SCHED_FLAG_X"'),
    ({"ioPriority": {"class": "IOPRIO_CLASS_BE", "priority": 8}}, "process.ioPriority"),
    ({"ioPriority": {"class": "IOPRIO_CLASS_NONE", "priority": 0}}, 'unknown class'),
    ({"execCPUAffinity": {"initial": "0-"}}, "is not a cpu list"),
    ({"execCPUAffinity": {"final": "3-1"}}, "is not a cpu list"),
    ({"rlimits": [{"type": "RLIMIT_NOFILE", "soft": 1, "hard": 1}] * 2}, "given twice"),
])
def test_bad_process_settings_are_refused(hako, tmp_path, fields, message):
    p = hako.run(tmp_path, ["/bin/true"], with_process(**fields))
    assert p.returncode != 0 and message in p.stderr, p.stderr
    assert "config.json:" in p.stderr
    assert os.listdir(hako.root) == []


@pytest.mark.parametrize("personality, message", [
    ({"domain": "LINUX64"}, 'unknown domain "LINUX64"'),
    ({"domain": "LINUX", "flags": ["ADDR_NO_RANDOMIZE"]}, 'unknown flag "ADDR_NO_RANDOMIZE"'),
    ({"flags": []}, '"domain" is required'),
])
def test_bad_personality_is_refused(hako, tmp_path, personality, message):
    def mutate(c):
        c["linux"]["personality"] = personality
    p = hako.run(tmp_path, ["/bin/true"], mutate)
    assert p.returncode != 0 and message in p.stderr, p.stderr


def test_run_oci_annotations(hako, tmp_path):
    """crun's run.oci.* annotations that podman passes: keep_original_groups
    and seccomp_fail_unknown_syscall."""
    def keep(c):
        c["annotations"] = {"run.oci.keep_original_groups": "1"}
        c["process"]["user"] = {"uid": 0, "gid": 0, "additionalGids": [4242]}
    cid = hako.new_id()
    b = hako.bundle(tmp_path, ["/bin/hako-probe", "report"], keep)
    p = subprocess.run(["setpriv", "--groups", "777,778", HAKO, "--root", hako.root, "run",
                        "--bundle", b, cid], capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, p.stderr
    assert sorted(json.loads(p.stdout)["groups"]) == [777, 778, 4242], p.stdout
    # Without it, only additionalGids.
    r = hako.report(tmp_path, lambda c: c["process"].update(
        user={"uid": 0, "gid": 0, "additionalGids": [4242]}))
    assert r["groups"] == [4242]

    def fail_unknown(on):
        def mutate(c):
            c["annotations"] = {"run.oci.seccomp_fail_unknown_syscall": on}
            c["linux"]["seccomp"] = {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
                {"names": ["hako_no_such_syscall"], "action": "SCMP_ACT_ERRNO"}]}
        return mutate
    p = hako.run(tmp_path, ["/bin/true"], fail_unknown("1"))
    assert p.returncode != 0
    assert 'unknown syscall "hako_no_such_syscall" (run.oci.seccomp_fail_unknown_syscall)' \
        in p.stderr, p.stderr
    p = hako.run(tmp_path, ["/bin/true"], fail_unknown("0"))
    assert p.returncode == 0 and 'unknown syscall "hako_no_such_syscall" skipped' in p.stderr
