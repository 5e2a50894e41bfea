# SPDX-License-Identifier: GPL-2.0-or-later
"""Each namespace kind, seen from inside the container by hako-probe."""
import json
import os
import shutil
import subprocess
import tempfile
import time

from conftest import BASE_BUNDLE, HAKO, cgroup_leftovers


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


def test_sysfs_in_a_user_namespace_without_a_network_one(hako, tmp_path):
    """Such a namespace may not mount sysfs: the host's is bound instead,
    read-only with every submount (the cgroup mounts below it included)."""
    def mutate(c):
        c["linux"]["namespaces"] = [n for n in c["linux"]["namespaces"]
                                    if n["type"] != "network"] + [{"type": "user"}]
        c["linux"]["uidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
        c["linux"]["gidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
    p = hako.run(tmp_path, ["sh", "-c", "grep ' /sys' /proc/self/mountinfo; touch /sys/x"],
                 mutate)
    assert "Read-only file system" in p.stderr, p.stderr
    lines = p.stdout.splitlines()
    assert lines and all(ln.split()[5].split(",")[0] == "ro" for ln in lines), p.stdout


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


def test_rootless_as_an_unprivileged_user(hako, tmp_path):
    """`hako spec --rootless` run by a user without root: its own uid becomes
    root in a user namespace, and the cgroups it may not write are skipped."""
    nobody = 65534
    top = tempfile.mkdtemp(prefix="hako-test-rootless-")
    try:
        os.chmod(top, 0o755)
        bundle = os.path.join(top, "bundle")
        os.mkdir(bundle)
        # The user may not reach the build tree (its parents can be 0700).
        hako_bin = os.path.join(top, "hako")
        shutil.copy(HAKO, hako_bin)
        shutil.copytree(os.path.join(BASE_BUNDLE, "rootfs"),
                        os.path.join(bundle, "rootfs"), symlinks=True)
        for d, dirs, files in os.walk(top):
            for n in [d] + [os.path.join(d, f) for f in dirs + files]:
                os.lchown(n, nobody, nobody)
        as_nobody = ["setpriv", f"--reuid={nobody}", f"--regid={nobody}", "--clear-groups"]
        subprocess.run(as_nobody + [hako_bin, "spec", "--rootless"], cwd=bundle, check=True)
        with open(os.path.join(bundle, "config.json")) as f:
            config = json.load(f)
        assert config["linux"]["uidMappings"] == [
            {"containerID": 0, "hostID": nobody, "size": 1}]
        config["process"]["terminal"] = False
        config["process"]["args"] = ["/bin/hako-probe", "report"]
        with open(os.path.join(bundle, "config.json"), "w") as f:
            json.dump(config, f)
        cid = "hako-test-rootless"
        p = subprocess.run(as_nobody + [hako_bin, "--root", os.path.join(top, "state"), "run",
                                        "--bundle", bundle, cid],
                           capture_output=True, text=True, timeout=30)
        assert p.returncode == 0, p.stderr
        r = json.loads(p.stdout)
        assert r["uid"] == 0 and r["pid"] == 1
        assert r["uid_map"].split() == ["0", str(nobody), "1"]
        assert r["ns"]["user"] != host_ns("user")
        assert not cgroup_leftovers(cid)
        assert os.listdir(os.path.join(top, "state")) == []
    finally:
        shutil.rmtree(top)
