# SPDX-License-Identifier: GPL-2.0-or-later
"""linux.resources on this host's cgroups, read back by the container itself
through its cgroup mount, and by the host in the hierarchy."""
import json
import os

import pytest

V1 = "/sys/fs/cgroup"


def cgroup_files(hako, tmp_path, resources, files):
    """Run a container with resources; it prints each file of its own cgroup."""
    script = "cd /sys/fs/cgroup && for f in " + " ".join(files) + \
             "; do printf '%s=' $f; cat $f || echo MISSING; done"

    def mutate(c):
        c["linux"]["resources"].update(resources)
    p = hako.run(tmp_path, ["/bin/sh", "-c", script], mutate)
    assert p.returncode == 0, p.stderr
    return dict(line.split("=", 1) for line in p.stdout.splitlines())


def has_v1(ctrl):
    return os.path.exists(f"{V1}/{ctrl}/cgroup.procs") and \
        os.path.exists(f"{V1}/{ctrl}/tasks")


def skip_unless_v1(*ctrls):
    for c in ctrls:
        if not has_v1(c):
            pytest.skip(f"needs the cgroup v1 {c} controller")


def test_memory_limits(hako, tmp_path):
    skip_unless_v1("memory")
    got = cgroup_files(hako, tmp_path,
                       {"memory": {"limit": 32 << 20, "swap": 64 << 20, "reservation": 16 << 20,
                                   "swappiness": 10}},
                       ["memory/memory.limit_in_bytes", "memory/memory.memsw.limit_in_bytes",
                        "memory/memory.soft_limit_in_bytes", "memory/memory.swappiness"])
    assert got == {"memory/memory.limit_in_bytes": str(32 << 20),
                   "memory/memory.memsw.limit_in_bytes": str(64 << 20),
                   "memory/memory.soft_limit_in_bytes": str(16 << 20),
                   "memory/memory.swappiness": "10"}


def test_cpu_cpuset_and_pids(hako, tmp_path):
    skip_unless_v1("cpu", "cpuset", "pids")
    got = cgroup_files(hako, tmp_path,
                       {"cpu": {"shares": 512, "quota": 50000, "period": 100000, "cpus": "0",
                                "mems": "0"},
                        "pids": {"limit": 20}},
                       ["cpu/cpu.shares", "cpu/cpu.cfs_quota_us", "cpu/cpu.cfs_period_us",
                        "cpuset/cpuset.cpus", "cpuset/cpuset.mems", "pids/pids.max"])
    assert got == {"cpu/cpu.shares": "512", "cpu/cpu.cfs_quota_us": "50000",
                   "cpu/cpu.cfs_period_us": "100000", "cpuset/cpuset.cpus": "0",
                   "cpuset/cpuset.mems": "0", "pids/pids.max": "20"}


def test_pids_limit_stops_forks(hako, tmp_path):
    skip_unless_v1("pids")

    def mutate(c):
        c["linux"]["resources"]["pids"] = {"limit": 3}
    p = hako.run(tmp_path, ["/bin/sh", "-c",
                            "for i in 1 2 3 4 5 6; do sleep 5 & done; echo spawned"], mutate)
    assert "can't fork" in p.stderr or "Resource temporarily unavailable" in p.stderr, p.stderr


def test_hugetlb_on_the_unified_hierarchy_of_a_hybrid_host(hako, tmp_path):
    """Here hugetlb sits on cgroup2 next to v1 controllers: v2 file names."""
    unified = f"{V1}/unified"
    if not os.path.exists(f"{unified}/cgroup.controllers") or \
            "hugetlb" not in open(f"{unified}/cgroup.controllers").read().split():
        pytest.skip("needs hugetlb on a cgroup2 mount at /sys/fs/cgroup/unified")
    got = cgroup_files(hako, tmp_path, {"hugepageLimits": [{"pageSize": "2MB",
                                                            "limit": 4 << 20}]},
                       ["unified/hugetlb.2MB.max"])
    assert got == {"unified/hugetlb.2MB.max": str(4 << 20)}


def test_oom_kill_exits_137(hako, tmp_path):
    skip_unless_v1("memory")

    def mutate(c):
        c["linux"]["resources"]["memory"] = {"limit": 16 << 20, "swap": 16 << 20}
    p = hako.run(tmp_path, ["/bin/hako-probe", "alloc", "64"], mutate)
    assert p.returncode == 137, (p.returncode, p.stdout, p.stderr)


def test_limit_too_small_to_start_says_so(hako, tmp_path):
    skip_unless_v1("memory")

    def mutate(c):
        c["linux"]["resources"]["memory"] = {"limit": 8192}
    p = hako.run(tmp_path, ["/bin/true"], mutate)
    assert p.returncode != 0
    assert "linux.resources.memory.limit: 8192 bytes is too small" in p.stderr, p.stderr
    assert os.listdir(hako.root) == []


@pytest.mark.parametrize("resources, message", [
    ({"network": {"classID": 5}}, "linux.resources.network.classID: needs the cgroup v1 net_cls"),
    ({"rdma": {"mlx5_1": {"hcaHandles": 3}}}, "\"rdma\" limits are not supported"),
    ({"memory": {"limit": "lots"}}, "linux.resources.memory.limit: expected a number"),
    ({"memory": {"swappiness": 101}}, "linux.resources.memory.swappiness: expected an integer"),
    ({"cpu": {"cpus": "0; rm -rf /"}}, "cpus and mems are lists"),
    ({"hugepageLimits": [{"pageSize": "../2MB", "limit": 1}]}, "is not like \"2MB\""),
    ({"unified": {"../../x": "1"}}, "not a cgroup v2 file name"),
    # Fails on the last hierarchy, after the init joined the others.
    ({"hugepageLimits": [{"pageSize": "3MB", "limit": 1 << 20}]}, "hugetlb.3MB"),
])
def test_bad_or_unsupported_resources_are_refused(hako, tmp_path, resources, message):
    if "network" in resources and has_v1("net_cls"):
        pytest.skip("this host has net_cls")

    def mutate(c):
        c["linux"]["resources"].update(resources)
    p = hako.run(tmp_path, ["/bin/true"], mutate)
    assert p.returncode != 0 and message in p.stderr, p.stderr
    assert os.listdir(hako.root) == []
