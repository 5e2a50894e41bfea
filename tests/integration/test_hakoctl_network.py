# SPDX-License-Identifier: GPL-2.0-or-later
"""hakoctl's default network (--network hako): a bridge, a veth pair per
container, an address leased, NAT to the outside. hakoctl runs in a network
namespace the test makes (its "host"); an "outside" one, joined to it by a
veth with documentation addresses (198.51.100.0/24), plays the internet. No
packet leaves namespaces the test owns."""
import fcntl
import json
import os
import re
import subprocess
import time

import pytest

from conftest import HAKOCTL, wait_for


def ip(*args):
    subprocess.run(["ip", *args], check=True, capture_output=True)


def in_ns(ns, *argv, **kw):
    return subprocess.run(["nsenter", f"--net=/run/netns/{ns}", *argv], **kw)


class Lab:
    def __init__(self, ctl, host, outside):
        self.ctl, self.host, self.outside = ctl, host, outside
        self.prefix = []  # what hakoctl runs under (a mount namespace of the test's)

    def __call__(self, *args, check=False, timeout=60):
        p = subprocess.run(self.prefix + self.ctl.argv(*args), capture_output=True, text=True,
                           stdin=subprocess.DEVNULL, timeout=timeout)
        if check and p.returncode != 0:
            raise AssertionError(f"hakoctl {args} failed ({p.returncode}): {p.stderr}")
        return p

    def host_links(self):
        p = in_ns(self.host, "ip", "-o", "link", "show", capture_output=True, text=True,
                  check=True)
        return [line.split(":")[1].strip().split("@")[0] for line in p.stdout.splitlines()]

    def leases(self, network="hako", family=4):
        """The addresses leased on network: IPv4 ones, IPv6 ones (family=6), or all (None)."""
        d = self.ctl.runroot / "networks" / network
        names = sorted(x for x in os.listdir(d) if x[0] != ".") if d.exists() else []
        return [x for x in names if family is None or (":" in x) == (family == 6)]

    def serve(self, port=8080, addr="198.51.100.2"):
        """A server in the outside namespace that tells each client its address."""
        family = "socket.AF_INET6" if ":" in addr else "socket.AF_INET"
        code = ("import socket\n"
                f"s = socket.socket({family})\n"
                "s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
                f"s.bind(('{addr}', {port})); s.listen(8); print('up', flush=True)\n"
                "while True:\n"
                "    c, a = s.accept(); c.sendall(('you are %s\\n' % a[0]).encode()); c.close()\n")
        p = subprocess.Popen(["nsenter", f"--net=/run/netns/{self.outside}", "/usr/bin/python3",
                              "-c", code], stdout=subprocess.PIPE, text=True)
        assert p.stdout.readline() == "up\n"
        return p


def dns_pids(ctl, name="dns"):
    """The hako-dns (or hako-NAME) of this run dir, if one runs (its lock file holds its pid)."""
    try:
        pid = int((ctl.runroot / "networks" / f".{name}.lock").read_text())
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return [pid] if str(ctl.runroot).encode() in f.read() else []
    except (OSError, ValueError):
        return []


@pytest.fixture
def lab(ctl):
    tag = os.getpid() % 10000
    host, outside = f"hako-test-h{tag}", f"hako-test-o{tag}"
    ip("netns", "add", host)
    try:
        ip("netns", "add", outside)
        ip("link", "add", f"hako-test-a{tag}", "netns", host, "type", "veth", "peer", "name",
           f"hako-test-b{tag}", "netns", outside)
        for ns, dev, addr in ((host, f"hako-test-a{tag}", "198.51.100.1/24"),
                              (outside, f"hako-test-b{tag}", "198.51.100.2/24")):
            ip("-n", ns, "addr", "add", addr, "dev", dev)
            # and IPv6: 2001:db8:1::/64 (documentation), at once usable
            ip("-n", ns, "addr", "add", "2001:db8:1::" + addr.split(".")[3].split("/")[0] + "/64",
               "dev", dev, "nodad")
            ip("-n", ns, "link", "set", dev, "up")
            ip("-n", ns, "link", "set", "lo", "up")
        ctl.netns = host  # hakoctl runs in it
        yield Lab(ctl, host, outside)
    finally:
        for pid in ctl.monitor_pids() + dns_pids(ctl) + dns_pids(ctl, "proxy"):
            os.kill(pid, 9)
        subprocess.run(["ip", "netns", "del", outside], capture_output=True)
        subprocess.run(["ip", "netns", "del", host], capture_output=True)


def test_a_container_on_the_bridge(lab):
    script = ("ip -4 -o addr show eth0; ip route; cat /etc/hosts; hostname; "
              "grep -c nameserver /etc/resolv.conf || true")
    out = lab("run", "--rm", "--network", "hako", "--hostname", "hako-test-box", "busybox", "sh",
              "-c", script, check=True).stdout
    assert "inet 10.88." in out and "/16" in out, out
    assert "default via 10.88.0.1 dev eth0" in out, out
    words = out.split()
    addr = words[words.index("inet") + 1].split("/")[0]
    assert f"{addr}\thako-test-box" in out and "\nhako-test-box\n" in out, out
    # the host's side: the bridge, with the gateway, and nothing of the container left
    assert "hako0" in lab.host_links()
    wait_for(lambda: [n for n in lab.host_links() if n.startswith("hk")] == [], "its veth to go")
    assert lab.leases(family=None) == []


def test_ip_mac_dns_and_add_host(lab):
    script = ("ip -4 -o addr show eth0; ip -o link show eth0; cat /etc/resolv.conf /etc/hosts")
    lab("run", "-d", "--ip", "10.88.7.7", "--mac-address", "92:d0:c6:0a:29:33", "--dns",
        "192.0.2.53", "--add-host", "db:192.0.2.10", "--name", "hako-test-fixed", "busybox",
        "sleep", "60", check=True)
    out = lab("exec", "hako-test-fixed", "sh", "-c", script, check=True).stdout
    assert "inet 10.88.7.7/16" in out and "link/ether 92:d0:c6:0a:29:33" in out, out
    assert [x for x in out.splitlines() if x.startswith("nameserver")] == \
        ["nameserver 192.0.2.53"], out
    assert "192.0.2.10\tdb" in out, out
    (info,) = json.loads(lab("inspect", "hako-test-fixed", check=True).stdout)
    assert info["HostConfig"]["Dns"] == ["192.0.2.53"]
    assert info["HostConfig"]["ExtraHosts"] == ["db:192.0.2.10"]
    # again after a stop and a start: the same address, the same files
    lab("stop", "-t", "0", "hako-test-fixed", check=True)
    lab("start", "hako-test-fixed", check=True)
    out = lab("exec", "hako-test-fixed", "sh", "-c", script, check=True).stdout
    assert "inet 10.88.7.7/16" in out and "192.0.2.10\tdb" in out, out
    # bad input: each named, exit 125, nothing left
    leases = lab.leases()
    for args, what in ((["--ip", "10.88.7.7"], "--ip 10.88.7.7"),
                       (["--ip", "10.89.0.5"], "--ip 10.89.0.5"),
                       (["--ip", "10.88.0.1"], "--ip 10.88.0.1"),
                       (["--ip", "no-address"], '--ip "no-address"'),
                       (["--network", "none", "--ip", "10.88.7.8"], "--ip with --network none"),
                       (["--mac-address", "zz:d0:c6:0a:29:33"], "--mac-address"),
                       (["--mac-address", "93:d0:c6:0a:29:33"], "--mac-address"),
                       (["--dns", "dns.example"], '--dns "dns.example"'),
                       (["--add-host", "db"], '--add-host "db"')):
        p = lab("run", "--rm", *args, "busybox", "true")
        assert p.returncode == 125 and what in p.stderr, (args, p.stderr)
    assert lab.leases() == leases
    lab("rm", "-f", "hako-test-fixed", check=True)
    assert lab.leases(family=None) == [] and lab.ctl.leftovers() == []


def test_containers_get_their_own_addresses_and_reach_each_other(lab):
    lab("run", "-d", "--network", "hako", "--name", "hako-test-srv", "busybox", "sh", "-c",
        "while true; do echo hello-from-srv | nc -l -p 80; done", check=True)
    lab("run", "-d", "--network", "hako", "--name", "hako-test-cli", "busybox", "sleep", "60",
        check=True)
    addrs = {}
    for name in ("hako-test-srv", "hako-test-cli"):
        (info,) = json.loads(lab("inspect", name, check=True).stdout)
        addrs[name] = info["NetworkSettings"]["IPAddress"]
        assert info["HostConfig"]["NetworkMode"] == "hako"
        assert info["NetworkSettings"]["Gateway"] == "10.88.0.1"
    assert len(set(addrs.values())) == 2 and all(a.startswith("10.88.") for a in addrs.values())
    assert lab.leases() == sorted(addrs.values())
    out = lab("exec", "hako-test-cli", "sh", "-c",
              f"for i in 1 2 3 4 5 6 7 8 9 10; do nc -w 2 {addrs['hako-test-srv']} 80 "
              "</dev/null && break; sleep 0.2; done", check=True).stdout
    assert "hello-from-srv" in out
    # restarted after it exited: on the network again
    lab("stop", "-t", "0", "hako-test-cli", check=True)
    assert lab.leases() == [addrs["hako-test-srv"]]
    lab("start", "hako-test-cli", check=True)
    (info,) = json.loads(lab("inspect", "hako-test-cli", check=True).stdout)
    assert info["NetworkSettings"]["IPAddress"].startswith("10.88.")
    assert lab("exec", "hako-test-cli", "sh", "-c", "ip -4 -o addr show eth0",
               check=True).stdout.count("10.88.") == 1
    lab("rm", "-f", "hako-test-srv", "hako-test-cli", check=True)
    assert lab.leases(family=None) == []
    wait_for(lambda: [n for n in lab.host_links() if n.startswith("hk")] == [], "the veths to go")
    assert lab.ctl.leftovers() == []


def test_nat_to_the_outside(lab):
    server = lab.serve()
    try:
        out = lab("run", "--rm", "--network", "hako", "busybox", "nc", "-w", "5", "198.51.100.2",
                  "8080", check=True).stdout
        # masqueraded: the outside sees the host's address
        assert out == "you are 198.51.100.1\n", out
        lab("run", "-d", "--network", "hako", "--name", "hako-test-nat", "busybox", "sleep",
            "60", check=True)
        # without NAT the outside cannot answer (it has no route to 10.88.0.0/16)
        in_ns(lab.host, "nft", "delete", "table", "inet", "hako", check=True)
        p = lab("exec", "hako-test-nat", "nc", "-w", "2", "198.51.100.2", "8080")
        assert "you are" not in p.stdout, p.stdout
        # the next container's setup finds the table gone and makes it again
        lab("run", "--rm", "--network", "hako", "busybox", "true", check=True)
        out = lab("exec", "hako-test-nat", "nc", "-w", "5", "198.51.100.2", "8080",
                  check=True).stdout
        assert out == "you are 198.51.100.1\n", out
        # hakoctl's table holds rules that do not grow with containers, and no other table
        tables = in_ns(lab.host, "nft", "list", "tables", capture_output=True, text=True,
                       check=True).stdout
        assert tables == "table inet hako\n", tables
        lab("rm", "-f", "hako-test-nat", check=True)
    finally:
        server.kill()
        server.wait()
    assert lab.leases(family=None) == []


def test_network_bad_input(lab):
    p = lab("run", "--rm", "--network", "hako-test-nosuch", "busybox", "true")
    assert p.returncode == 125 and '--network "hako-test-nosuch"' in p.stderr, p.stderr
    assert lab.ctl.leftovers() == [] and lab.leases(family=None) == []


# A web server in the container that tells each client its address.
HTTPD = ("mkdir -p /www/cgi-bin && printf '#!/bin/sh\\necho Content-Type: text/plain\\necho\\n"
         "echo you are $REMOTE_ADDR\\n' > /www/cgi-bin/ip && chmod +x /www/cgi-bin/ip && "
         "exec httpd -f -p 80 -h /www")


def fetch(ns, url):
    code = ("import sys, urllib.request\n"
            "print(urllib.request.urlopen(sys.argv[1], timeout=3).read().decode(), end='')\n")
    p = in_ns(ns, "/usr/bin/python3", "-c", code, url, capture_output=True, text=True,
              timeout=30)
    # httpd listens on IPv6 too: an IPv4 client is [::ffff:A.B.C.D] to it
    # (and an IPv6 one [X:X::X])
    out = p.stdout.replace("[::ffff:", "").replace("[", "").replace("]", "")
    return out if p.returncode == 0 else None


def test_published_ports(lab):
    lab("run", "-d", "-p", "8080:80", "-p", "127.0.0.1:8081:80", "--name", "hako-test-web",
        "busybox", "sh", "-c", HTTPD, check=True)
    wait_for(lambda: fetch(lab.outside, "http://198.51.100.1:8080/cgi-bin/ip") is not None,
             "the server")
    # from outside, the client's address kept
    assert fetch(lab.outside, "http://198.51.100.1:8080/cgi-bin/ip") == "you are 198.51.100.2\n"
    # from the host: 127.0.0.1 and its own address
    assert fetch(lab.host, "http://127.0.0.1:8080/cgi-bin/ip").startswith("you are ")
    assert fetch(lab.host, "http://198.51.100.1:8080/cgi-bin/ip").startswith("you are ")
    # bound to 127.0.0.1: the host has it, the outside does not (moby#41872)
    assert fetch(lab.host, "http://127.0.0.1:8081/cgi-bin/ip").startswith("you are ")
    assert fetch(lab.outside, "http://198.51.100.1:8081/cgi-bin/ip") is None
    # from another container, through the host's address (hairpin)
    out = lab("run", "--rm", "--network", "hako", "busybox", "wget", "-qO-",
              "http://198.51.100.1:8080/cgi-bin/ip", check=True).stdout
    assert out.startswith("you are "), out
    # as docker shows a dual stack container's: [::] too, but for a port bound to an address
    assert lab("port", "hako-test-web", check=True).stdout == \
        "80/tcp -> 0.0.0.0:8080\n80/tcp -> [::]:8080\n80/tcp -> 127.0.0.1:8081\n"
    assert lab("port", "hako-test-web", "80/tcp", check=True).stdout == \
        "0.0.0.0:8080\n[::]:8080\n127.0.0.1:8081\n"
    leases = lab.leases()
    # a port published already, and one in use on the host: refused, nothing left
    p = lab("run", "--rm", "-p", "8080:80", "busybox", "true")
    assert p.returncode == 125 and "published by another container" in p.stderr, p.stderr
    holder = subprocess.Popen(["nsenter", f"--net=/run/netns/{lab.host}", "/usr/bin/python3",
                               "-c", "import socket, time; s = socket.socket(); "
                               "s.bind(('0.0.0.0', 9090)); s.listen(); print('up', flush=True); "
                               "time.sleep(60)"], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline() == "up\n"
        p = lab("run", "--rm", "-p", "9090:80", "busybox", "true")
        assert p.returncode == 125 and "9090" in p.stderr, p.stderr
    finally:
        holder.kill()
        holder.wait()
    p = lab("run", "--rm", "--network", "host", "-p", "8082:80", "busybox", "true")
    assert p.returncode == 125 and "-p with --network host" in p.stderr, p.stderr
    p = lab("run", "--rm", "-p", "80", "busybox", "true")
    assert p.returncode == 125 and "HOSTPORT:CTRPORT" in p.stderr, p.stderr
    assert lab.leases() == leases
    # a range, as many elements
    lab("run", "-d", "-p", "9000-9009:7000-7009/udp", "--name", "hako-test-range", "busybox",
        "sleep", "60", check=True)
    assert len(lab("port", "hako-test-range", check=True).stdout.splitlines()) == 20
    maps = in_ns(lab.host, "nft", "list", "table", "inet", "hako", capture_output=True,
                 text=True, check=True).stdout
    assert "udp . 9009 : " in maps and "tcp . 8080 : " in maps, maps
    lab("rm", "-f", "hako-test-web", "hako-test-range", check=True)
    assert maps_elements(lab) == 0  # no port left
    assert lab.leases(family=None) == []


def test_network_reload_after_nft_flush_ruleset(lab):
    lab("run", "-d", "-p", "8090:80", "--name", "hako-test-web2", "busybox", "sh", "-c", HTTPD,
        check=True)
    url = "http://198.51.100.1:8090/cgi-bin/ip"
    wait_for(lambda: fetch(lab.outside, url) is not None, "the server")
    # what a firewall's restart does: every table gone, and the port with it
    in_ns(lab.host, "nft", "flush", "ruleset", check=True)
    assert fetch(lab.outside, url) is None
    lab("network", "reload", check=True)
    assert fetch(lab.outside, url) == "you are 198.51.100.2\n"
    assert lab("network", "ls", check=True).stdout.split("\n")[1].split() == \
        ["hako", "bridge", "10.88.0.0/16", "hako0"]
    (net,) = json.loads(lab("network", "inspect", "hako", check=True).stdout)
    v4, v6 = net["IPAM"]["Config"]
    assert v4 == {"Subnet": "10.88.0.0/16", "Gateway": "10.88.0.1"}
    # the default network's IPv6: the first /64 of the store's ULA /48 (RFC 4193)
    ula = (lab.ctl.store / "networks" / "ula").read_text().strip()
    assert ula.startswith("fd") and ula.endswith("::/48"), ula
    assert v6 == {"Subnet": ula.replace("::/48", "::/64"),
                  "Gateway": ula.replace("::/48", "::1")}, v6
    assert net["EnableIPv6"] is True
    (c,) = net["Containers"].values()
    assert c["Name"] == "hako-test-web2" and c["IPv4Address"].startswith("10.88.")
    p = lab("network", "inspect", "hako-test-nosuch")
    assert p.returncode == 125 and "no such network" in p.stderr
    lab("rm", "-f", "hako-test-web2", check=True)
    assert lab.leases(family=None) == []


def maps_elements(lab):
    """How many of the ports' maps have elements."""
    n = 0
    for m in ("ports4", "ports4_at"):
        out = in_ns(lab.host, "nft", "list", "map", "inet", "hako", m, capture_output=True,
                    text=True).stdout
        n += out.count("elements = ")
    return n


def test_kill_9_during_setup_and_teardown_leaves_nothing(lab):
    lab("run", "--rm", "--network", "hako", "busybox", "true", check=True)  # bridge, table
    for i, delay in enumerate((0.001, 0.003, 0.006, 0.01, 0.015, 0.02, 0.03, 0.05, 0.08, 0.15)):
        p = subprocess.Popen(lab.ctl.argv("run", "-d", "-p", f"{8200 + i}:80", "busybox",
                                          "sleep", "30"),
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        p.kill()
        p.wait()
    # and monitors killed with their containers up, and one stopped after that
    lab("run", "-d", "-p", "8300:80", "--name", "hako-test-orphan", "busybox", "sleep", "30",
        check=True)
    lab("run", "-d", "-p", "8301:80", "--name", "hako-test-orphan2", "busybox", "sleep", "30",
        check=True)
    for pid in lab.ctl.monitor_pids():
        os.kill(pid, 9)
    lab("stop", "-t", "0", "hako-test-orphan2", check=True)
    # every container there is, as ps says, removed: nothing is left
    ids = lab("ps", "-aq", "--no-trunc", check=True).stdout.split()
    if ids:
        lab("rm", "-f", *ids, check=True)
    assert lab.leases(family=None) == []
    assert maps_elements(lab) == 0
    wait_for(lambda: [n for n in lab.host_links() if n.startswith("hk")] == [], "the veths to go")
    assert lab.ctl.leftovers() == []


def nc(lab, ctr, addr, port, wait=2):
    """What a container's nc gets from addr:port (None: nothing, in wait seconds)."""
    p = lab("exec", ctr, "nc", "-w", str(wait), addr, str(port), timeout=wait + 30)
    return p.stdout if p.returncode == 0 and p.stdout else None


def address(lab, ctr, network=None):
    (info,) = json.loads(lab("inspect", ctr, check=True).stdout)
    ns = info["NetworkSettings"]
    return ns["Networks"][network]["IPAddress"] if network else ns["IPAddress"]


SERVE = "while true; do echo hello-from-$HOSTNAME | nc -l -p 80; done"


def test_networks_of_ones_own(lab):
    front = json.loads(lab("network", "inspect", "hako", check=True).stdout)[0]
    assert front["Internal"] is False
    assert lab("network", "create", "hako-test-front", check=True).stdout == "hako-test-front\n"
    lab("network", "create", "--subnet", "10.90.0.0/24", "--gateway", "10.90.0.254",
        "--internal", "hako-test-back", check=True)
    nets = lab("network", "ls", check=True).stdout.splitlines()
    assert [x.split()[:4] for x in nets[1:]] == [
        ["hako", "bridge", "10.88.0.0/16", "hako0"],
        ["hako-test-back", "bridge", "10.90.0.0/24", "hako2"],
        ["hako-test-front", "bridge", "10.89.0.0/24", "hako1"]], nets
    (back,) = json.loads(lab("network", "inspect", "hako-test-back", check=True).stdout)
    assert back["IPAM"]["Config"] == [{"Subnet": "10.90.0.0/24", "Gateway": "10.90.0.254"}]
    assert back["Internal"] is True
    server = lab.serve()
    try:
        lab("run", "-d", "--name", "hako-test-web", "--hostname", "web", "busybox", "sh", "-c",
            SERVE, check=True)
        lab("run", "-d", "--network", "hako-test-front", "--network", "hako-test-back",
            "--name", "hako-test-c1", "busybox", "sh", "-c", SERVE, check=True)
        lab("run", "-d", "--network", "hako-test-back", "--name", "hako-test-c2", "busybox",
            "sleep", "120", check=True)
        out = lab("exec", "hako-test-c1", "sh", "-c", "ip -4 -o addr; ip route",
                  check=True).stdout
        assert "eth0    inet 10.89.0.2/24" in out and "eth1    inet 10.90.0." in out, out
        assert "default via 10.89.0.1 dev eth0" in out, out
        web = address(lab, "hako-test-web")
        # a network's containers reach the outside (NAT) and each other, not another
        # network's, and an internal network's reach nothing but their own
        assert nc(lab, "hako-test-c1", "198.51.100.2", 8080, 5) == "you are 198.51.100.1\n"
        assert nc(lab, "hako-test-c1", web, 80) is None
        assert nc(lab, "hako-test-c2", "198.51.100.2", 8080) is None
        assert "default" not in lab("exec", "hako-test-c2", "ip", "route", check=True).stdout
        c1_back = address(lab, "hako-test-c1", "hako-test-back")
        assert (nc(lab, "hako-test-c2", c1_back, 80, 5) or "").startswith("hello-from-")
        # connected to the default network while it runs: it reaches web, until disconnected
        lab("network", "connect", "hako", "hako-test-c1", check=True)
        (info,) = json.loads(lab("inspect", "hako-test-c1", check=True).stdout)
        assert sorted(info["NetworkSettings"]["Networks"]) == \
            ["hako", "hako-test-back", "hako-test-front"]
        assert info["HostConfig"]["NetworkMode"] == "hako-test-front,hako-test-back,hako"
        assert "eth2" in lab("exec", "hako-test-c1", "ip", "-o", "link", check=True).stdout
        assert nc(lab, "hako-test-c1", web, 80, 5) == "hello-from-web\n"
        lab("network", "disconnect", "hako", "hako-test-c1", check=True)
        assert nc(lab, "hako-test-c1", web, 80) is None
        assert "eth2" not in lab("exec", "hako-test-c1", "ip", "-o", "link", check=True).stdout
        assert lab.leases() == [web]
        # a published port is reached from another network's container, through the host
        lab("run", "-d", "-p", "8081:80", "--name", "hako-test-pub", "--hostname", "pub",
            "busybox", "sh", "-c", SERVE, check=True)
        assert nc(lab, "hako-test-c1", "10.89.0.1", 8081, 5) == "hello-from-pub\n"
        # bad input: named, exit 125, nothing changed
        for args, what in ((["network", "connect", "hako-test-front", "hako-test-c1"],
                            "on network hako-test-front already"),
                           (["network", "connect", "hako-test-nosuch", "hako-test-c1"],
                            'network "hako-test-nosuch": no such network'),
                           (["network", "disconnect", "hako", "hako-test-c1"],
                            "is not on network hako"),
                           (["network", "disconnect", "hako-test-back", "hako-test-c2"],
                            "the only one it is on"),
                           (["network", "disconnect", "hako", "hako-test-pub"],
                            "its published ports"),
                           (["network", "rm", "hako-test-front"],
                            "container hako-test-c1 is on it"),
                           (["network", "rm", "hako"], "the default network stays"),
                           (["run", "--rm", "--network", "hako-test-back", "-p", "8082:80",
                             "busybox", "true"], "network hako-test-back is internal"),
                           (["run", "--rm", "--network", "hako-test-front", "--network", "none",
                             "busybox", "true"], "are a container's only network"),
                           (["run", "--rm", "--network", "hako-test-front", "--ip",
                             "10.88.0.9", "busybox", "true"],
                            "--ip 10.88.0.9: not an address of network hako-test-front")):
            p = lab(*args)
            assert p.returncode == 125 and what in p.stderr, (args, p.stderr)
        lab("rm", "-f", "hako-test-web", "hako-test-c1", "hako-test-c2", "hako-test-pub",
            check=True)
    finally:
        server.kill()
        server.wait()
    # removed: the bridges, the leases' dirs, their sets' elements
    assert lab("network", "rm", "hako-test-front", "hako-test-back",
               check=True).stdout.split() == ["hako-test-front", "hako-test-back"]
    assert not {"hako1", "hako2"} & set(lab.host_links())
    assert [x for x in os.listdir(lab.ctl.runroot / "networks") if x[0] != "."] == ["hako"]
    assert os.listdir(lab.ctl.runroot / "networks" / ".dns") == []  # no gateway, no name
    bridges = in_ns(lab.host, "nft", "list", "set", "inet", "hako", "bridges",
                    capture_output=True, text=True, check=True).stdout
    assert '"hako0"' in bridges and "hako1" not in bridges, bridges
    assert lab.leases(family=None) == [] and lab.ctl.leftovers() == []


def test_network_create_bad_input(lab):
    for args, what in ((["--subnet", "10.88.5.0/24"], "overlaps network hako's 10.88.0.0/16"),
                       (["--subnet", "198.51.100.128/25"],
                        "overlaps the host's route to 198.51.100.0/24"),
                       (["--subnet", "10.90.0.1/24"], "a network address"),
                       (["--subnet", "10.90.0.0"], '--subnet "10.90.0.0"'),
                       (["--subnet", "10.90.0.0/24", "--gateway", "10.91.0.1"],
                        "--gateway 10.91.0.1: not an address of the subnet"),
                       (["--gateway", "10.90.0.1"], "--gateway: with --subnet"),
                       (["-o", "mtu=20"], "an MTU is 68 to 65535"),
                       (["-o", "color=blue"], '--opt "color=blue"'),
                       (["--driver", "macvlan"], "--driver macvlan"),
                       (["--subnet", "fd00:db8:5::1/64"], "an IPv6 network address"),
                       (["--subnet", "fd00:db8::/40"], "a prefix of 48 to 120"),
                       (["--subnet", "2001:db8:1::/64"],
                        "overlaps the host's route to 2001:db8:1::/64"),
                       (["--ipv6", "--gateway", "fd00:db8:5::1"], "--gateway: with --subnet"),
                       (["--subnet", "fd00:db8:5::/64", "--gateway", "fd00:db8:6::1"],
                        "--gateway fd00:db8:6::1: not an address of the subnet")):
        p = lab("network", "create", *args, "hako-test-bad")
        assert p.returncode == 125 and what in p.stderr, (args, p.stderr)
    for name, what in (("hako", "a name hakoctl keeps"), ("bridge", "a name hakoctl keeps"),
                       ("-bad", "see hakoctl network"), ("bad/name", "a name is letters")):
        p = lab("network", "create", name)
        assert p.returncode == 125 and what in p.stderr, (name, p.stderr)
    lab("network", "create", "hako-test-one", check=True)
    p = lab("network", "create", "hako-test-one")
    assert p.returncode == 125 and "exists already" in p.stderr, p.stderr
    for args in (["rm", "hako-test-nosuch"], ["inspect", "hako", "hako-test-nosuch"]):
        p = lab("network", *args)
        assert p.returncode == 125 and "no such network" in p.stderr and p.stdout == "", p
    # prune: the networks no container is on
    lab("network", "create", "hako-test-two", check=True)
    lab("run", "-d", "--network", "hako-test-two", "--name", "hako-test-on-two", "busybox",
        "sleep", "60", check=True)
    out = lab("network", "prune", "-f", check=True).stdout
    assert out == "Deleted Networks:\nhako-test-one\n", out
    assert lab("network", "ls", "-q", check=True).stdout == "hako\nhako-test-two\n"
    lab("rm", "-f", "hako-test-on-two", check=True)
    lab("network", "prune", "-f", check=True)
    assert lab("network", "ls", "-q", check=True).stdout == "hako\n"
    assert lab.leases("hako-test-two", family=None) == [] and lab.ctl.leftovers() == []


def address6(lab, ctr, network=None):
    (info,) = json.loads(lab("inspect", ctr, check=True).stdout)
    ns = info["NetworkSettings"]
    return ns["Networks"][network]["GlobalIPv6Address"] if network else ns["GlobalIPv6Address"]


def test_run_d_returns_once_hako_proxy_listens_on_the_hosts_loopback6(lab):
    """hako-proxy serves [::1]:PORT, which no DNAT reaches. `run -d -p` returns once
    it listens there, as the DNAT's ports are in place when it returns: the proxy
    touches the container's file then, and hakoctl waits for that (IN_ATTRIB).
    Here the proxy is held back (its lock taken, so that hakoctl starts none)
    until hakoctl has written the file, then started by the test."""
    nets = lab.ctl.runroot / "networks"
    nets.mkdir(parents=True, exist_ok=True)
    lock = os.open(nets / ".proxy.lock", os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(lock, fcntl.LOCK_EX)
    run = subprocess.Popen(lab.ctl.argv("run", "-d", "-p", "8099:80", "-p", "9011:9011/udp",
                                        "--name", "hako-test-quick", "busybox", "sleep", "100"),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    proxy = None
    try:
        wait_for(lambda: [x for x in os.listdir(nets / ".proxy") if x[0] != "."]
                 if (nets / ".proxy").exists() else [], "the container's ports for hako-proxy")
        time.sleep(0.5)  # `run -d` takes some 50 ms: it waits, and nothing listens
        assert run.poll() is None, run.communicate()
        os.close(lock)
        proxy = subprocess.Popen(["nsenter", f"--net=/run/netns/{lab.host}",
                                  os.path.join(os.path.dirname(HAKOCTL), "hako-proxy"),
                                  "--runroot", str(lab.ctl.runroot)])
        out, err = run.communicate(timeout=30)
        assert run.returncode == 0 and "hako-proxy" not in err, err
        listening = in_ns(lab.host, "ss", "-H", "-ln", capture_output=True, text=True,
                          check=True).stdout
        assert re.search(r"^tcp\s+LISTEN.*\[::1\]:8099\s", listening, re.M), listening
        assert re.search(r"^udp\s+UNCONN.*\[::1\]:9011\s", listening, re.M), listening
    finally:
        if run.poll() is None:
            run.kill()
            run.wait()
        lab("rm", "-f", "hako-test-quick")
        if proxy:
            proxy.kill()
            proxy.wait()
    assert lab.ctl.leftovers() == []


def test_dual_stack(lab):
    """IPv6 beside IPv4: addresses, NAT66 out, published ports in, names (AAAA), --ip6."""
    ula = (lab.ctl.store / "networks" / "ula").read_text().strip() \
        if (lab.ctl.store / "networks" / "ula").exists() else None
    out = lab("run", "--rm", "busybox", "sh", "-c", "ip -6 -o addr show eth0; ip -6 route",
              check=True).stdout
    ula = ula or (lab.ctl.store / "networks" / "ula").read_text().strip()
    prefix = ula.replace("::/48", "::")
    assert f"inet6 {prefix}2/64" in out and f"default via {prefix}1 dev eth0" in out, out
    assert lab.leases(family=None) == []
    # out through NAT66: the outside sees the host's address
    server = lab.serve(8086, "2001:db8:1::2")
    try:
        out = lab("run", "--rm", "busybox", "nc", "-w", "3", "2001:db8:1::2", "8086",
                  check=True).stdout
        assert out == "you are 2001:db8:1::1\n", out
    finally:
        server.kill()
        server.wait()
    # in through a published port, the client's address kept; and 127.0.0.1 still
    lab("run", "-d", "-p", "8097:80", "-p", "9009:9009/udp", "-p", "9010:9010", "--name",
        "hako-test-web6", "busybox", "sh", "-c", HTTPD, check=True)
    url = "http://[2001:db8:1::1]:8097/cgi-bin/ip"
    wait_for(lambda: fetch(lab.outside, url) is not None, "the server over IPv6")
    assert fetch(lab.outside, url) == "you are 2001:db8:1::2\n"
    assert fetch(lab.host, "http://127.0.0.1:8097/cgi-bin/ip") is not None
    # from another container through the host's address (hairpin), and from another network
    for net in ("hako", "hako-test-other6"):
        if net != "hako":
            lab("network", "create", "--ipv6", net, check=True)
        out = lab("run", "--rm", "--network", net, "busybox", "wget", "-qO-",
                  "http://[2001:db8:1::1]:8097/cgi-bin/ip", check=True).stdout
        assert out.startswith("you are [fd"), (net, out)
    lab("network", "rm", "hako-test-other6", check=True)
    # the host's ::1, which no DNAT can reach: hako-proxy's, TCP and UDP
    assert fetch(lab.host, "http://[::1]:8097/cgi-bin/ip").startswith("you are fd"), \
        fetch(lab.host, "http://[::1]:8097/cgi-bin/ip")
    (info,) = json.loads(lab("inspect", "hako-test-web6", check=True).stdout)
    # UDP through the DNAT, from outside (IPv4, IPv6: the client's address kept) and
    # through hako-proxy on ::1; TCP there answering once the client has said all (servers
    # in the container's network namespace, the host's python)
    echo = subprocess.Popen(
        ["nsenter", f"--net=/proc/{info['State']['Pid']}/ns/net", "/usr/bin/python3", "-c",
         "import socket, threading\n"
         "s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); s.bind(('::', 9009))\n"
         "t = socket.socket(socket.AF_INET6); t.bind(('::', 9010)); t.listen()\n"
         "def udp():\n"
         "    while True:\n"
         "        d, a = s.recvfrom(100); s.sendto(d.upper() + b' from ' + a[0].encode(), a)\n"
         "threading.Thread(target=udp, daemon=True).start()\n"
         "print('up', flush=True)\n"
         "c, _ = t.accept(); d = b''\n"
         "while (x := c.recv(65536)): d += x\n"
         "c.sendall(d.upper()); c.close()\n"],
        stdout=subprocess.PIPE, text=True)
    ask = ("import socket, sys\n"
           "s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); s.settimeout(5)\n"
           "s.sendto(b'ping', (sys.argv[1], 9009)); print(s.recv(100).decode())\n")
    try:
        assert echo.stdout.readline() == "up\n"
        for ns, to, seen in ((lab.outside, "::ffff:198.51.100.1", "::ffff:198.51.100.2"),
                             (lab.outside, "2001:db8:1::1", "2001:db8:1::2"),
                             (lab.host, "::1", prefix + "1")):
            out = in_ns(ns, "/usr/bin/python3", "-c", ask, to, capture_output=True, text=True,
                        timeout=30).stdout
            assert out == f"PING from {seen}\n", (to, out)
        code = ("import socket\n"
                "c = socket.create_connection(('::1', 9010), timeout=5)\n"
                "c.sendall(b'x' * 1000000); c.shutdown(socket.SHUT_WR); d = b''\n"
                "while (x := c.recv(65536)): d += x\n"
                "print(d == b'X' * 1000000)\n")
        out = in_ns(lab.host, "/usr/bin/python3", "-c", code, capture_output=True, text=True,
                    timeout=30).stdout
        assert out == "True\n", out
    finally:
        echo.kill()
        echo.wait()
    web6 = address6(lab, "hako-test-web6")
    assert web6.startswith(prefix) and web6 in lab.leases(family=6)
    maps = in_ns(lab.host, "nft", "list", "map", "inet", "hako", "ports6", capture_output=True,
                 text=True, check=True).stdout
    assert f"tcp . 8097 : {web6} . 80" in maps, maps
    # its addresses leased again at once (--ip): reached at once, the host's neighbour
    # entries for them still true (the MAC is made of the IPv4 address)
    web4 = address(lab, "hako-test-web6")
    lab("rm", "-f", "hako-test-web6", check=True)
    lab("run", "-d", "-p", "8097:80", "--ip", web4, "--name", "hako-test-web6", "busybox", "sh",
        "-c", HTTPD, check=True)
    assert address6(lab, "hako-test-web6") == web6
    wait_for(lambda: fetch(lab.outside, url) is not None, "the server over IPv6 again", timeout=2)
    lab("rm", "-f", "hako-test-web6", check=True)
    assert fetch(lab.host, "http://[::1]:8097/cgi-bin/ip") is None
    wait_for(lambda: dns_pids(lab.ctl, "proxy") == [], "hako-proxy to exit", timeout=10)
    assert "8097" not in in_ns(lab.host, "nft", "list", "map", "inet", "hako", "ports6",
                               capture_output=True, text=True, check=True).stdout
    # a network of one's own with --ipv6: its /64 of the ULA, names by AAAA, --ip6
    lab("network", "create", "--ipv6", "hako-test-v6", check=True)
    (net,) = json.loads(lab("network", "inspect", "hako-test-v6", check=True).stdout)
    sub6 = net["IPAM"]["Config"][1]["Subnet"]
    assert net["EnableIPv6"] and sub6.startswith(ula[:-6]) and sub6.endswith("::/64"), net
    p6 = sub6[:-3]  # "X:X:X:N::"
    lab("run", "-d", "--network", "hako-test-v6", "--ip6", p6 + "beef", "--name", "hako-test-s6",
        "busybox", "sh", "-c", SERVE, check=True)
    lab("run", "-d", "--network", "hako-test-v6", "--name", "hako-test-c6", "busybox", "sleep",
        "60", check=True)
    assert address6(lab, "hako-test-s6") == p6 + "beef"
    p = lab("exec", "hako-test-c6", "nslookup", "-type=AAAA", "hako-test-s6", check=True)
    assert p6 + "beef" in p.stdout, p.stdout
    out = lab("exec", "hako-test-c6", "nc", "-w", "3", p6 + "beef", "80", check=True).stdout
    assert out == "hello-from-hako-test-s6\n" or "hello-from" in out, out
    hosts = lab("exec", "hako-test-s6", "cat", "/etc/hosts", check=True).stdout
    assert p6 + "beef" in hosts, hosts
    # connect and disconnect a running container: an IPv6 address there too, given back
    lab("network", "create", "--ipv6", "hako-test-v6b", check=True)
    lab("network", "connect", "hako-test-v6b", "hako-test-c6", check=True)
    c6b = address6(lab, "hako-test-c6", "hako-test-v6b")
    out = lab("exec", "hako-test-c6", "ip", "-6", "-o", "addr", "show", "eth1", check=True).stdout
    assert c6b and f"inet6 {c6b}/64" in out, out
    assert lab.leases("hako-test-v6b", 6) == [c6b]
    lab("network", "disconnect", "hako-test-v6b", "hako-test-c6", check=True)
    assert lab.leases("hako-test-v6b", family=None) == []
    lab("network", "rm", "hako-test-v6b", check=True)
    # bad input: an address taken, outside the subnet, on a network with no IPv6
    for args, what in ((["--network", "hako-test-v6", "--ip6", p6 + "beef"], "--ip6 " + p6 + "beef"),
                       (["--network", "hako-test-v6", "--ip6", "fd00:db8:9::5"],
                        "not an address of network hako-test-v6's subnet"),
                       (["--ip6", "nonsense"], '--ip6 "nonsense": not an IPv6 address'),
                       (["--network", "none", "--ip6", p6 + "5"], "--ip6 with --network none")):
        p = lab("run", "--rm", *args, "busybox", "true")
        assert p.returncode == 125 and what in p.stderr, (args, p.stderr)
    lab("network", "create", "hako-test-v4", check=True)
    p = lab("run", "--rm", "--network", "hako-test-v4", "--ip6", p6 + "5", "busybox", "true")
    assert p.returncode == 125 and "has no IPv6 subnet" in p.stderr, p.stderr
    lab("rm", "-f", "hako-test-s6", "hako-test-c6", check=True)
    lab("network", "rm", "hako-test-v6", "hako-test-v4", check=True)
    assert lab.leases(family=None) == [] and lab.leases("hako-test-v6", family=None) == []
    assert lab.ctl.leftovers() == []


def test_mtu_follows_the_uplink(lab):
    tag = lab.host[len("hako-test-h"):]
    in_ns(lab.host, "ip", "link", "set", f"hako-test-a{tag}", "mtu", "1400", check=True)
    in_ns(lab.host, "ip", "route", "add", "default", "via", "198.51.100.2", check=True)
    mtu = "cat /sys/class/net/eth0/mtu"
    assert lab("run", "--rm", "busybox", "sh", "-c", mtu, check=True).stdout == "1400\n"
    lab("network", "create", "-o", "mtu=1280", "hako-test-small", check=True)
    (net,) = json.loads(lab("network", "inspect", "hako-test-small", check=True).stdout)
    assert net["Options"] == {"mtu": "1280"}
    assert lab("run", "--rm", "--network", "hako-test-small", "busybox", "sh", "-c", mtu,
               check=True).stdout == "1280\n"
    lab("network", "rm", "hako-test-small", check=True)


# A resolver on the host's 127.0.0.53, as systemd-resolved's stub: outside.example is
# 198.51.100.2, any other name is not there.
STUB = r"""
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.53", 53)); print("up", flush=True)
while True:
    q, a = s.recvfrom(512)
    i = 12
    labels = []
    while q[i]:
        labels.append(q[i + 1:i + 1 + q[i]].decode()); i += 1 + q[i]
    qtype = q[i + 1] << 8 | q[i + 2]
    end = i + 5
    known = ".".join(labels).lower() == "outside.example"
    flags = b"\x81\x80" if known else b"\x81\x83"
    ans = b"\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04" + bytes([198, 51, 100, 2])
    n = 1 if known and qtype == 1 else 0
    s.sendto(q[:2] + flags + b"\x00\x01" + bytes([0, n]) + b"\x00\x00\x00\x00" + q[12:end]
             + (ans if n else b""), a)
"""


def lookup(lab, ctr, name, qtype="A"):
    """The address (of qtype) a container's resolver gives for name, or None."""
    p = lab("exec", ctr, "nslookup", f"-type={qtype}", name)
    addrs = [x.split()[-1] for x in p.stdout.split("Name:", 1)[-1].splitlines()
             if x.startswith("Address")] if "Name:" in p.stdout else []
    return addrs[0] if p.returncode == 0 and addrs else None


def tcp_query(host, gateway, name):
    """An A query over TCP from the host, as a resolver retries a truncated one: its addresses."""
    code = ("import socket, struct, sys\n"
            "q = b'\\x12\\x34\\x01\\x00\\x00\\x01\\x00\\x00\\x00\\x00\\x00\\x00' + "
            "b''.join(bytes([len(x)]) + x.encode() for x in sys.argv[2].split('.')) + "
            "b'\\x00\\x00\\x01\\x00\\x01'\n"
            "c = socket.create_connection((sys.argv[1], 53), timeout=5)\n"
            "c.sendall(struct.pack('!H', len(q)) + q)\n"
            "n = struct.unpack('!H', c.recv(2))[0]; r = b''\n"
            "while len(r) < n: r += c.recv(n - len(r))\n"
            "print(' '.join(socket.inet_ntoa(r[i:i + 4]) for i in range(len(q) + 12, n, 16)))\n")
    p = in_ns(host, "/usr/bin/python3", "-c", code, gateway, name, capture_output=True,
              text=True, check=True)
    return p.stdout.split()


def test_names_on_networks_of_ones_own(lab, tmp_path):
    resolv = tmp_path / "resolv.conf"
    resolv.write_text("nameserver 127.0.0.53\noptions edns0\n")
    # hakoctl, and the hako-dns it starts, see this as the host's resolv.conf
    lab.prefix = ["unshare", "--mount", "--propagation", "private", "sh", "-c",
                  'mount --bind "$0" /etc/resolv.conf && exec "$@"', str(resolv)]
    stub = subprocess.Popen(["nsenter", f"--net=/run/netns/{lab.host}", "/usr/bin/python3", "-c",
                             STUB], stdout=subprocess.PIPE, text=True)
    try:
        assert stub.stdout.readline() == "up\n"
        lab("network", "create", "hako-test-n1", check=True)
        lab("network", "create", "hako-test-n2", check=True)
        lab("run", "-d", "--network", "hako-test-n1", "--network-alias", "db", "--name",
            "hako-test-a", "busybox", "sleep", "300", check=True)
        lab("run", "-d", "--network", "hako-test-n1", "--name", "hako-test-b", "busybox",
            "sleep", "300", check=True)
        lab("run", "-d", "--network", "hako-test-n2", "--name", "hako-test-d", "busybox",
            "sleep", "300", check=True)
        lab("run", "-d", "--network", "hako-test-n1,hako-test-n2", "--name", "hako-test-e",
            "busybox", "sleep", "300", check=True)
        a = address(lab, "hako-test-a")
        (info,) = json.loads(lab("inspect", "hako-test-a", check=True).stdout)
        assert lab("exec", "hako-test-b", "cat", "/etc/resolv.conf", check=True).stdout \
            .splitlines()[1:] == ["options edns0", "nameserver 10.89.0.1"]
        # by name, alias and short id; another network's names only to its containers
        assert lookup(lab, "hako-test-b", "hako-test-a") == a
        assert lookup(lab, "hako-test-b", "db") == a
        assert lookup(lab, "hako-test-b", info["Id"][:12]) == a
        assert lookup(lab, "hako-test-b", "hako-test-d") is None
        assert lookup(lab, "hako-test-e", "hako-test-d") == address(lab, "hako-test-d")
        assert lookup(lab, "hako-test-e", "db") == a
        # asked across, at another network's gateway: refused
        p = lab("exec", "hako-test-d", "nslookup", "db", "10.89.0.1")
        assert p.returncode != 0 and a not in p.stdout, p.stdout
        # other names: the host's resolver, on its 127.0.0.53
        assert lookup(lab, "hako-test-b", "outside.example") == "198.51.100.2"
        assert lookup(lab, "hako-test-b", "nosuch.example") is None
        # over TCP too
        assert tcp_query(lab.host, "10.89.0.1", "db") == [a]
        # renamed: the new name, not the old one
        lab("rename", "hako-test-a", "hako-test-a2", check=True)
        assert lookup(lab, "hako-test-b", "hako-test-a2") == a
        assert lookup(lab, "hako-test-b", "hako-test-a") is None
        # the default network has no names; connected to one that has, a container gets them
        lab("run", "-d", "--name", "hako-test-c", "busybox", "sleep", "300", check=True)
        lab("network", "connect", "hako-test-n1", "hako-test-c", check=True)
        assert lookup(lab, "hako-test-b", "hako-test-c") == \
            address(lab, "hako-test-c", "hako-test-n1")
        lab("network", "disconnect", "hako-test-n1", "hako-test-c", check=True)
        assert lookup(lab, "hako-test-b", "hako-test-c") is None
        # no lookup fails while containers start and stop on the network
        loop = subprocess.Popen(lab.prefix + lab.ctl.argv(
            "exec", "hako-test-b", "sh", "-c",
            "f=0; for i in $(seq 150); do nslookup db >/dev/null 2>&1 || f=$((f+1)); done; "
            "echo failed=$f"), stdout=subprocess.PIPE, text=True)
        for i in range(6):
            lab("run", "-d", "--network", "hako-test-n1", "--name", f"hako-test-x{i}", "busybox",
                "sleep", "300", check=True)
        lab("rm", "-f", *[f"hako-test-x{i}" for i in range(6)], check=True)
        out, _ = loop.communicate(timeout=120)
        assert out == "failed=0\n", out
        lab("rm", "-f", "hako-test-a2", "hako-test-b", "hako-test-c", "hako-test-d",
            "hako-test-e", check=True)
    finally:
        stub.kill()
        stub.wait()
    # with no container on its networks, hako-dns goes
    wait_for(lambda: dns_pids(lab.ctl) == [], "hako-dns to exit", timeout=10)
    lab("network", "rm", "hako-test-n1", "hako-test-n2", check=True)
    assert os.listdir(lab.ctl.runroot / "networks" / ".dns") == []
    assert lab.ctl.leftovers() == []


def test_publish_all_the_image_exposes(lab):
    lab("run", "--name", "hako-test-base", "--network", "none", "busybox", "true", check=True)
    lab("commit", "--change", "EXPOSE 80", "--change", "EXPOSE 7000/udp", "hako-test-base",
        "hako-test-exposed", check=True)
    lab("rm", "hako-test-base", check=True)
    lab("run", "-d", "-P", "--name", "hako-test-p", "hako-test-exposed", "sh", "-c", HTTPD,
        check=True)
    ports = lab("port", "hako-test-p", check=True).stdout.splitlines()
    assert [x.split(" -> ")[0] for x in ports] == ["80/tcp"] * 2 + ["7000/udp"] * 2, ports
    host_port = int(lab("port", "hako-test-p", "80", check=True).stdout.split("\n")[0].split(":")[1])
    assert 1024 < host_port < 65536
    url = f"http://198.51.100.1:{host_port}/cgi-bin/ip"
    wait_for(lambda: fetch(lab.outside, url) is not None, "the server")
    assert fetch(lab.outside, url) == "you are 198.51.100.2\n"
    p = lab("run", "--rm", "-P", "--network", "none", "hako-test-exposed", "true")
    assert p.returncode == 125 and "-P with --network none" in p.stderr, p.stderr
    lab("rm", "-f", "hako-test-p", check=True)
    lab("rmi", "hako-test-exposed", check=True)
    assert maps_elements(lab) == 0 and lab.leases(family=None) == [] and lab.ctl.leftovers() == []


def test_system_gc_after_kill_9(lab):
    lab("network", "create", "--ipv6", "hako-test-gc", check=True)
    lab("run", "-d", "-p", "8400:80", "--name", "hako-test-keep", "--hostname", "keep", "busybox",
        "sh", "-c", SERVE, check=True)
    keep, keep6 = address(lab, "hako-test-keep"), address6(lab, "hako-test-keep")
    for i, delay in enumerate((0.001, 0.003, 0.006, 0.01, 0.015, 0.02, 0.03, 0.05, 0.08, 0.15)):
        p = subprocess.Popen(lab.ctl.argv("run", "-d", "--network", "hako-test-gc", "-p",
                                          f"{8200 + i}:80", "busybox", "sleep", "30"),
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        p.kill()
        p.wait()
    # and during teardown: an rm killed
    lab("run", "-d", "--network", "hako-test-gc", "-p", "8300:80", "--name", "hako-test-gone",
        "busybox", "sleep", "30", check=True)
    p = subprocess.Popen(lab.ctl.argv("rm", "-f", "hako-test-gone"), stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    time.sleep(0.02)
    p.kill()
    p.wait()
    # what a hakoctl killed between a write's create and its rename leaves (.NAME.tmp), of a
    # container that is gone and of one that lives
    run = lab.ctl.runroot
    keep_id = json.loads(lab("inspect", "hako-test-keep", check=True).stdout)[0]["Id"]
    cut = [run / "ctr" / f".{'d' * 64}.tmp", run / "networks" / ".proxy" / f".{'d' * 64}.tmp",
           run / "networks" / ".dns" / f".{'d' * 64}@hako-test-gc.tmp"]
    kept = run / "networks" / ".proxy" / f".{keep_id}.tmp"
    for f in cut + [kept]:
        f.write_text("")
    out = lab("system", "gc", check=True).stdout
    assert out.startswith("removed: "), out
    assert [f for f in cut if f.exists()] == [] and kept.exists()
    kept.unlink()
    # what lives is as it was (the keeper, and those the killed runs got going): their
    # leases, names, ports and veths; of the rest, nothing
    monitored = b" ".join(open(f"/proc/{pid}/cmdline", "rb").read()
                          for pid in lab.ctl.monitor_pids()).decode()
    live = [c for c in (json.loads(lab("inspect", x, check=True).stdout)[0]
                        for x in lab("ps", "-aq", "--no-trunc", check=True).stdout.split())
            if c["State"]["Running"] or c["Id"] in monitored]  # or created, under its monitor
    on_gc = [c for c in live if c["Name"] != "hako-test-keep"]
    assert lab.leases() == [keep] and lab.leases(family=6) == [keep6]
    for family, key in ((4, "IPAddress"), (6, "GlobalIPv6Address")):
        assert lab.leases("hako-test-gc", family) == sorted(
            c["NetworkSettings"]["Networks"]["hako-test-gc"][key] for c in on_gc)
    # hako-proxy's table: the ports on ::1 of what lives
    assert sorted(os.listdir(lab.ctl.runroot / "networks" / ".proxy")) == \
        sorted(c["Id"] for c in live)
    names = os.listdir(lab.ctl.runroot / "networks" / ".dns")
    assert sorted(x.split("@")[0] for x in names if not x.startswith("gateway@")) == \
        sorted(c["Id"] for c in on_gc)
    published = sorted(int(lab("port", c["Id"], "80", check=True).stdout.split("\n")[0]
                           .split(":")[1]) for c in live)
    for m in ("ports4", "ports6"):
        ports = in_ns(lab.host, "nft", "-j", "list", "map", "inet", "hako", m,
                      capture_output=True, text=True, check=True).stdout
        (elems,) = [x["map"].get("elem", []) for x in json.loads(ports)["nftables"]
                    if "map" in x]
        assert sorted(e[0]["concat"][1] for e in elems) == published, ports
    wait_for(lambda: len([n for n in lab.host_links() if n.startswith("hk")]) == len(live),
             "the veths of what is gone to go")
    assert nc(lab, "hako-test-keep", "127.0.0.1", 80, 5) == "hello-from-keep\n"
    # the containers that were recorded are containers: rm removes them, leaving nothing
    ids = [x for x in lab("ps", "-aq", "--no-trunc", check=True).stdout.split()
           if x != json.loads(lab("inspect", "hako-test-keep").stdout)[0]["Id"]]
    if ids:
        lab("rm", "-f", *ids, check=True)
    lab("rm", "-f", "hako-test-keep", check=True)
    lab("network", "rm", "hako-test-gc", check=True)
    assert lab.leases(family=None) == [] and maps_elements(lab) == 0 and lab.ctl.leftovers() == []


def test_network_of_another_container(lab):
    lab("run", "-d", "--name", "hako-test-web", "--hostname", "web", "busybox", "sh", "-c",
        SERVE, check=True)
    web = address(lab, "hako-test-web")
    out = lab("run", "--rm", "--network", "container:hako-test-web", "busybox", "sh", "-c",
              "nc -w 5 127.0.0.1 80; ip -4 -o addr show eth0; cat /etc/hosts", check=True).stdout
    assert out.startswith("hello-from-web\n") and f"inet {web}/16" in out, out
    assert f"{web}\tweb" in out, out
    lab("run", "-d", "--network", "container:hako-test-web", "--name", "hako-test-side",
        "busybox", "sleep", "300", check=True)
    (info,) = json.loads(lab("inspect", "hako-test-side", check=True).stdout)
    web_id = json.loads(lab("inspect", "hako-test-web", check=True).stdout)[0]["Id"]
    assert info["HostConfig"]["NetworkMode"] == f"container:{web_id}"
    # both started again: the side joins the web's new namespace
    lab("restart", "-t", "0", "hako-test-web", check=True)
    lab("restart", "-t", "0", "hako-test-side", check=True)
    assert nc(lab, "hako-test-side", "127.0.0.1", 80, 5) == "hello-from-web\n"
    for args, what in ((["--network", "container:hako-test-nosuch"], 'no such container'),
                       (["--network", "container:hako-test-web", "-p", "8085:80"],
                        "-p with --network container:hako-test-web"),
                       (["--network", "container:hako-test-web", "--network", "hako"],
                        "are a container's only network"),
                       (["--network", "container:"], "a container's name is missing")):
        p = lab("run", "--rm", *args, "busybox", "true")
        assert p.returncode == 125 and what in p.stderr, (args, p.stderr)
    lab("stop", "-t", "0", "hako-test-web", check=True)
    p = lab("run", "--rm", "--network", "container:hako-test-web", "busybox", "true")
    assert p.returncode == 125 and "is not running" in p.stderr, p.stderr
    lab("rm", "-f", "hako-test-web", "hako-test-side", check=True)
    wait_for(lambda: [n for n in lab.host_links() if n.startswith("hk")] == [], "the veths to go")
    assert lab.leases(family=None) == [] and lab.ctl.leftovers() == []


def test_a_docker_style_forward_drop_policy(lab):
    """Another table's forward chain with policy drop (docker's iptables FORWARD, here in
    nftables' form, and a firewalld-like table beside it): hakoctl says so, touches neither,
    and the containers work once that table lets the bridges through, as docker's
    DOCKER-USER rules would."""
    def nft(*args):
        return in_ns(lab.host, "nft", *args, capture_output=True, text=True, check=True).stdout
    nft("add", "table", "ip", "filter")
    nft("add", "chain", "ip", "filter", "FORWARD",
        "{ type filter hook forward priority 0; policy drop; }")
    nft("add", "table", "inet", "firewalld")
    nft("add", "chain", "inet", "firewalld", "filter_FORWARD",
        "{ type filter hook forward priority 10; policy accept; }")
    theirs = nft("list", "table", "ip", "filter") + nft("list", "table", "inet", "firewalld")
    server = lab.serve()
    try:
        p = lab("network", "reload", check=True)
        assert "the forward chain ip filter FORWARD drops" in p.stderr, p.stderr
        (net,) = json.loads(lab("network", "inspect", "hako", check=True).stdout)
        assert net["ForwardDroppedBy"] == "ip filter FORWARD"
        lab("run", "-d", "-p", "8086:80", "--name", "hako-test-fw", "--hostname", "fw",
            "busybox", "sh", "-c", SERVE, check=True)
        assert nc(lab, "hako-test-fw", "198.51.100.2", 8080) is None
        nft("add", "rule", "ip", "filter", "FORWARD", "iifname", "hako*", "accept")
        nft("add", "rule", "ip", "filter", "FORWARD", "oifname", "hako*", "ct", "state",
            "established,related", "accept")
        nft("add", "rule", "ip", "filter", "FORWARD", "oifname", "hako*", "ct", "status", "dnat",
            "accept")
        theirs = nft("list", "table", "ip", "filter") + nft("list", "table", "inet", "firewalld")
        assert nc(lab, "hako-test-fw", "198.51.100.2", 8080, 5) == "you are 198.51.100.1\n"
        code = ("import socket; c = socket.create_connection(('198.51.100.1', 8086), 5); "
                "print(c.recv(100).decode(), end='')")
        out = in_ns(lab.outside, "/usr/bin/python3", "-c", code, capture_output=True,
                    text=True).stdout
        assert out == "hello-from-fw\n", out
        # neither reload nor gc touch their tables
        lab("network", "reload", check=True)
        lab("system", "gc", check=True)
        assert nft("list", "table", "ip", "filter") + \
            nft("list", "table", "inet", "firewalld") == theirs
        lab("rm", "-f", "hako-test-fw", check=True)
    finally:
        server.kill()
        server.wait()
    assert lab.leases(family=None) == [] and maps_elements(lab) == 0 and lab.ctl.leftovers() == []


def test_parallel_starts_get_addresses_of_their_own(lab):
    lab("network", "create", "--ipv6", "hako-test-par", check=True)
    names = [f"hako-test-par{i}" for i in range(16)]
    procs = [subprocess.Popen(lab.ctl.argv("run", "-d", "--network", "hako-test-par", "--name",
                                           n, "busybox", "sleep", "120"),
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
             for n in names]
    for p in procs:
        assert p.wait(timeout=120) == 0, p.stderr.read()
    addrs = [address(lab, n) for n in names]
    assert len(set(addrs)) == len(names), addrs
    assert lab.leases("hako-test-par") == sorted(addrs)
    addrs6 = [address6(lab, n) for n in names]
    assert len(set(addrs6)) == len(names) and lab.leases("hako-test-par", 6) == sorted(addrs6)
    # every one finds every other by name, IPv4 and IPv6
    assert [lookup(lab, names[0], n) for n in names] == addrs
    assert [lookup(lab, names[-1], n, "AAAA") for n in names] == addrs6
    lab("rm", "-f", *names, check=True)
    lab("network", "rm", "hako-test-par", check=True)
    assert lab.leases("hako-test-par", family=None) == [] and lab.ctl.leftovers() == []
