#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""hakoctl's networks at scale, in network namespaces made for it (a "host",
where hakoctl runs, and an "outside" joined to it by a veth, with the
documentation range 198.51.100.0/24), as the test suite's lab:

  ports   what publishing a port costs as hakoctl's maps grow: the 1st, the
          1,000th, the 10,000th, and a 1,000-port range (bench-nftports,
          through net/nft.c's code);
  conns   new connections a second from outside through a published port,
          with 1 and with 10,000 ports published;
  iperf3  host to container TCP throughput beside the host's loopback;
  dns     100 containers started in parallel on a network of one's own, then
          every one's name asked of hako-dns from one of them (10 rounds):
          p50, p99, failures.

Prints a table, and with --write puts it in docs/benchmarks.md and README.md
(between <!-- bench-netscale --> marks). Run as root by bench/run.sh, or
alone: /usr/bin/python3 bench/netscale.py [--write]."""
import json
import os
import shutil
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.join(ROOT, "build")
HAKOCTL = os.path.join(BUILD, "hakoctl")
TAG = os.getpid() % 10000
HOST, OUTSIDE = f"hako-test-bh{TAG}", f"hako-test-bo{TAG}"


def sh(*argv, **kw):
    return subprocess.run(argv, check=True, capture_output=True, text=True, **kw).stdout


def in_ns(ns, *argv, **kw):
    return sh("nsenter", f"--net=/run/netns/{ns}", *argv, **kw)


class Lab:
    def __init__(self):
        self.top = tempfile.mkdtemp(prefix="hako-test-netscale-")
        self.run = tempfile.mkdtemp(prefix="hako-test-netscale-", dir="/run")
        sh("ip", "netns", "add", HOST)
        sh("ip", "netns", "add", OUTSIDE)
        sh("ip", "link", "add", f"hako-test-a{TAG}", "netns", HOST, "type", "veth", "peer",
           "name", f"hako-test-b{TAG}", "netns", OUTSIDE)
        for ns, dev, addr in ((HOST, f"hako-test-a{TAG}", "198.51.100.1/24"),
                              (OUTSIDE, f"hako-test-b{TAG}", "198.51.100.2/24")):
            sh("ip", "-n", ns, "addr", "add", addr, "dev", dev)
            sh("ip", "-n", ns, "link", "set", dev, "up")
            sh("ip", "-n", ns, "link", "set", "lo", "up")

    def ctl(self, *args):
        return in_ns(HOST, HAKOCTL, "--storage", os.path.join(self.top, "store"), "--runroot",
                     self.run, *args)

    def pid(self, name):
        return json.loads(self.ctl("inspect", name))[0]["State"]["Pid"]

    def close(self):
        try:
            ids = self.ctl("ps", "-aq").split()
            if ids:
                self.ctl("rm", "-f", *ids)
        finally:
            subprocess.run(["ip", "netns", "del", OUTSIDE], capture_output=True)
            subprocess.run(["ip", "netns", "del", HOST], capture_output=True)
            shutil.rmtree(self.top, ignore_errors=True)
            shutil.rmtree(self.run, ignore_errors=True)


def bench_ports():
    return json.loads(sh(os.path.join(BUILD, "bench-nftports"), os.path.join(BUILD, "hako-nft")))


def conns(lab, seconds):
    out = in_ns(OUTSIDE, os.path.join(BUILD, "bench-tcpconn"), "connect", "198.51.100.1", "8080",
                str(seconds)).split()
    return float(out[0]), int(out[1])


def bench_conns(lab, seconds):
    tool = os.path.join(BUILD, "bench-tcpconn")
    lab.ctl("run", "-d", "--name", "bench-srv", "-p", "8080:9000", "-v", f"{tool}:/tcpconn:ro",
            "busybox", "/tcpconn", "serve", "9000")
    time.sleep(0.5)
    conns(lab, 1)  # warm
    # Alternating: with 1 port published, then 10,000 (9,999 more, a range: one container,
    # one transaction), and back, so that what the rounds leave (conntrack's entries) weighs
    # on both alike.
    one, many = [], []
    for _ in range(3):
        one.append(conns(lab, seconds)[0])
        lab.ctl("run", "-d", "--name", "bench-many", "-p", "20000-29998:20000-29998",
                "busybox", "sleep", "1000")
        many.append(conns(lab, seconds)[0])
        lab.ctl("rm", "-f", "bench-many")
    return statistics.median(one), statistics.median(many)


def iperf(client_ns_argv, server_ns_argv, addr):
    srv = subprocess.Popen(server_ns_argv + ["iperf3", "-s", "-1", "-B", addr],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            p = subprocess.run(client_ns_argv + ["iperf3", "-c", addr, "-t", "3", "-J"],
                               capture_output=True, text=True)
            try:
                return json.loads(p.stdout)["end"]["sum_received"]["bits_per_second"] / 1e9
            except (ValueError, KeyError):
                time.sleep(0.1)  # the server not up yet
        raise SystemExit(f"iperf3 to {addr}: {p.stderr}")
    finally:
        srv.kill()
        srv.wait()


def bench_iperf(lab):
    if not shutil.which("iperf3"):
        return None
    lab.ctl("run", "-d", "--name", "bench-iperf", "busybox", "sleep", "1000")
    addr = json.loads(lab.ctl("inspect", "bench-iperf"))[0]["NetworkSettings"]["IPAddress"]
    host = ["nsenter", f"--net=/run/netns/{HOST}"]
    ctr = ["nsenter", f"--net=/proc/{lab.pid('bench-iperf')}/ns/net"]
    loop = iperf(host, host, "127.0.0.1")
    to_ctr = iperf(host, ctr, addr)
    return loop, to_ctr


def query(name, qid):
    q = struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0)
    q += b"".join(bytes([len(x)]) + x.encode() for x in name.split(".")) + b"\0\0\1\0\1"
    return q


DNS_CLIENT = r"""
import socket, struct, sys, time, json
names = sys.argv[2:]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(2)
lat, failed = [], 0
for r in range(10):
    for i, name in enumerate(names):
        q = struct.pack("!HHHHHH", i, 0x0100, 1, 0, 0, 0)
        q += b"".join(bytes([len(x)]) + x.encode() for x in name.split(".")) + b"\0\0\1\0\1"
        t = time.perf_counter()
        s.sendto(q, (sys.argv[1], 53))
        try:
            a = s.recv(512)
        except socket.timeout:
            failed += 1
            continue
        lat.append((time.perf_counter() - t) * 1000)
        if a[3] & 15 or struct.unpack("!H", a[6:8])[0] < 1:
            failed += 1
lat.sort()
print(json.dumps({"p50": lat[len(lat) // 2], "p99": lat[int(len(lat) * 0.99)],
                  "n": len(lat) + failed, "failed": failed}))
"""


def bench_dns(lab, n):
    lab.ctl("network", "create", "bench-net")
    t = time.perf_counter()
    procs = []
    for i in range(n):
        procs.append(subprocess.Popen(
            ["nsenter", f"--net=/run/netns/{HOST}", HAKOCTL, "--storage",
             os.path.join(lab.top, "store"), "--runroot", lab.run, "run", "-d", "--network",
             "bench-net", "--name", f"bench-d{i}", "busybox", "sleep", "1000"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        if len(procs) >= 8:
            procs.pop(0).wait()
    for p in procs:
        p.wait()
    started = time.perf_counter() - t
    pid = lab.pid("bench-d0")
    gw = json.loads(lab.ctl("network", "inspect", "bench-net"))[0]["IPAM"]["Config"][0]["Gateway"]
    out = sh("nsenter", f"--net=/proc/{pid}/ns/net", "/usr/bin/python3", "-c", DNS_CLIENT, gw,
             *[f"bench-d{i}" for i in range(n)])
    res = json.loads(out)
    res["start_s"] = started
    return res


def main():
    quick = "--quick" in sys.argv
    lab = Lab()
    try:
        lab.ctl("run", "--rm", "busybox", "true")  # the bridge, the table
        ports = bench_ports()
        one, many = bench_conns(lab, 1 if quick else 3)
        perf = bench_iperf(lab)
        dns = bench_dns(lab, 20 if quick else 100)
    finally:
        lab.close()
    rows = [
        "| what | measured | target |",
        "|---|---|---|",
        f"| publishing the 1st port, the 1,000th, the 10,000th (ms, medians of 10) | "
        f"{ports['first10']:.3f}, {ports['around1000']:.3f}, {ports['around10000']:.3f} | "
        f"the 1,000th as the 1st, under 1 |",
        f"| a 1,000-port range, one transaction (ms) | {ports['range1000']:.2f} | under 20 |",
        f"| new connections a second through a published port, with 1 and with 10,000 published "
        f"| {one:.0f}, {many:.0f} ({many / one:.2f}x) | within 10% |",
    ]
    if perf:
        rows.append(f"| host to container TCP (iperf3, Gbit/s), beside the host's loopback | "
                    f"{perf[1]:.1f} of {perf[0]:.1f} ({perf[1] / perf[0]:.0%}) | at least 85% |")
    else:
        rows.append("| host to container TCP | iperf3 is not installed | at least 85% |")
    rows.append(f"| {dns['n'] // 10} containers started in parallel ({dns['start_s']:.1f} s), "
                f"every name asked 10 times from one of them: hako-dns p50, p99 (ms), failures | "
                f"{dns['p50']:.3f}, {dns['p99']:.3f}, {dns['failed']} of {dns['n']} | "
                f"p99 under 1, none |")
    table = ("**hakoctl's networks at scale** (`bench/netscale.py`, in network namespaces made "
             "for it):\n\n" + "\n".join(rows) + "\n")
    print(table)
    if "--write" in sys.argv and not quick:
        for path in (os.path.join(ROOT, "README.md"), os.path.join(ROOT, "docs", "benchmarks.md")):
            text = open(path).read()
            a, b = "<!-- bench-netscale -->", "<!-- /bench-netscale -->"
            if a in text:
                text = text[:text.index(a) + len(a)] + "\n" + table + text[text.index(b):]
            else:
                text += f"\n{a}\n{table}{b}\n"
            open(path, "w").write(text)


if __name__ == "__main__":
    main()
