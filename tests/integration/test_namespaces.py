# SPDX-License-Identifier: GPL-2.0-or-later
"""Each namespace kind, seen from inside the container by hako-probe."""
import os
import subprocess
import time


def host_ns(kind):
    return os.readlink(f"/proc/self/ns/{kind}")


def test_default_namespaces_are_new(hako, tmp_path):
    r = hako.report(tmp_path)
    for kind in ("pid", "mnt", "uts", "ipc", "net", "cgroup"):
        assert r["ns"][kind] != host_ns(kind), kind
    assert r["ns"]["user"] == host_ns("user")
    assert r["pid"] == 1, "the container's process is PID 1 of its pid namespace"
    assert r["hostname"] == "hako"
    assert r["netdevs"] == ["lo"], "a new network namespace holds only lo"


def test_hostname_and_domainname(hako, tmp_path):
    def mutate(c):
        c["hostname"] = "hako-test-host"
        c["domainname"] = "example.test"
    r = hako.report(tmp_path, mutate)
    assert (r["hostname"], r["domainname"]) == ("hako-test-host", "example.test")


def test_user_namespace_maps(hako, tmp_path):
    def mutate(c):
        c["linux"]["namespaces"].append({"type": "user"})
        c["linux"]["uidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
        c["linux"]["gidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
        c["linux"].pop("resources")
        c["mounts"] = [m for m in c["mounts"] if m["type"] not in ("cgroup",)]
    r = hako.report(tmp_path, mutate)
    assert r["uid_map"].split() == ["0", "100000", "65536"]
    assert r["uid"] == 0 and r["ns"]["user"] != host_ns("user")


def test_time_namespace_offsets(hako, tmp_path):
    def mutate(c):
        c["linux"]["namespaces"].append({"type": "time"})
        c["linux"]["timeOffsets"] = {"monotonic": {"secs": 86400 * 365}, "boottime": {"secs": 86400}}
    before = time.clock_gettime(time.CLOCK_MONOTONIC)
    r = hako.report(tmp_path, mutate)
    assert r["ns"]["time"] != host_ns("time")
    assert r["monotonic"] >= int(before) + 86400 * 365
    assert r["monotonic"] < time.clock_gettime(time.CLOCK_MONOTONIC) + 86400 * 365 + 5


def test_join_network_namespace_by_path(hako, tmp_path):
    """The persistent-namespace case that the tutorials do with nsenter."""
    netns = "hako-test-" + os.urandom(4).hex()
    subprocess.run(["ip", "netns", "add", netns], check=True)
    try:
        subprocess.run(["ip", "-n", netns, "link", "add", "hako-test-d0", "type", "veth", "peer", "name", "hako-test-d1"], check=True)
        path = f"/run/netns/{netns}"

        def mutate(c):
            c["linux"]["namespaces"] = [n for n in c["linux"]["namespaces"] if n["type"] != "network"]
            c["linux"]["namespaces"].append({"type": "network", "path": path})
        r = hako.report(tmp_path, mutate)
        assert r["ns"]["net"] == f"net:[{os.stat(path).st_ino}]"
        assert "hako-test-d0" in r["netdevs"]
    finally:
        subprocess.run(["ip", "netns", "delete", netns])


def test_join_namespace_of_another_container(hako, tmp_path):
    cid = hako.new_id()
    b = hako.bundle(tmp_path, ["/bin/hako-probe", "sleep", "30"])
    hako.cmd("run", "-d", "--bundle", b, cid, check=True)
    import json
    pid = json.loads(hako.cmd("state", cid, check=True).stdout)["pid"]

    def mutate(c):
        c["linux"]["namespaces"] = [n for n in c["linux"]["namespaces"] if n["type"] != "uts"]
        c["linux"]["namespaces"].append({"type": "uts", "path": f"/proc/{pid}/ns/uts"})
        c.pop("hostname")
    r = hako.report(tmp_path, mutate)
    assert r["ns"]["uts"] == os.readlink(f"/proc/{pid}/ns/uts")
