#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""hako beside crun and runc, on one busybox bundle, in one run.

Run through bench/run.sh, which puts this process in a private mount
namespace without /sys/fs/cgroup/unified (crun 1.8.1 refuses hybrid hosts).
Every runtime runs in that same namespace. The machine is shared and noisy,
so the runtimes alternate run by run (A B C A B C ...) and the report gives
medians, min-max and ratios; absolute times drift, ratios hold.

What is measured:
  run      `RT run` of /bin/true: wall and CPU (user+sys) time, via hyperfine,
           one run of each command per hyperfine call, round after round;
           peak RSS (ru_maxrss from wait4, through bench/maxrss.c: the largest
           process of the runtime's tree, the container's /bin/true included)
  floor    unshare --fork --pid --mount --uts --ipc --net chroot ROOTFS /bin/true
  harness  /bin/true through the same harness; subtracted from every row
  cycle    create, start, wait for the process to exit, delete
  memory   the smallest linux.resources.memory.limit under which /bin/true
           starts 20 times out of 20 (a bisection, page by page)
  parallel 100 containers run to completion, 2 and then 8 at a time
  list     `RT list` with 500 containers created
"""
import argparse
import concurrent.futures
import datetime
import json
import os
import platform
import re
import resource
import select
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
HAKO = os.path.join(ROOT, "build", "hako")
BASE_ROOTFS = os.path.join(ROOT, "build", "busybox-bundle", "rootfs")
MAXRSS = os.path.join(ROOT, "build", "bench-maxrss")
RUNTIMES = {"hako": HAKO, "crun": shutil.which("crun") or "crun",
            "runc": shutil.which("runc") or "runc"}
PREFIX = f"hako-test-bench-{os.getpid()}"


class Bench:
    def __init__(self, top, quick):
        self.top = top
        self.quick = quick
        self.rootfs = os.path.join(top, "rootfs")
        shutil.copytree(BASE_ROOTFS, self.rootfs, symlinks=True)
        self.n = 0
        # The default `hako spec` config, as the issue asks: pid, mount, uts,
        # ipc and net namespaces, masked paths. ociVersion 1.0.2: crun 1.8.1
        # refuses newer ones.
        spec = subprocess.run([HAKO, "spec", "--bundle", top], check=True)
        del spec
        with open(os.path.join(top, "config.json")) as f:
            self.config = json.load(f)
        os.unlink(os.path.join(top, "config.json"))
        self.config["ociVersion"] = "1.0.2"
        self.config["root"]["path"] = self.rootfs
        self.config["process"]["terminal"] = False
        self.config["process"]["args"] = ["/bin/true"]
        self.bundle = self.make_bundle("default")

    def make_bundle(self, name, memory_limit=None):
        d = os.path.join(self.top, "bundle-" + name)
        os.makedirs(d, exist_ok=True)
        c = json.loads(json.dumps(self.config))
        # No cgroupsPath: each runtime puts each container in a cgroup of its
        # own (named after the id), as it does by default.
        c["linux"].pop("cgroupsPath", None)
        if memory_limit is not None:
            c["linux"].setdefault("resources", {})["memory"] = {"limit": memory_limit}
        with open(os.path.join(d, "config.json"), "w") as f:
            json.dump(c, f)
        return d

    def state_root(self, rt):
        return os.path.join(self.top, "state-" + rt)

    def new_id(self):
        self.n += 1
        return f"{PREFIX}-{self.n}"

    def run_cmd(self, rt, bundle=None, cid=None):
        return [RUNTIMES[rt], "--root", self.state_root(rt), "run", "--bundle",
                bundle or self.bundle, cid or self.new_id()]


def floor_cmd(b):
    return ["unshare", "--fork", "--pid", "--mount", "--uts", "--ipc", "--net", "chroot",
            b.rootfs, "/bin/true"]


def hyperfine_round(cmds):
    """One run of each command, in order, through hyperfine: {name: (wall, cpu)} in ms."""
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        args = ["hyperfine", "--shell=none", "--runs", "1", "--style", "none",
                "--export-json", out.name]
        for argv in cmds.values():
            args.append(" ".join(argv))
        subprocess.run(args, check=True, stdout=subprocess.DEVNULL)
        results = json.load(open(out.name))["results"]
    got = {}
    for name, r in zip(cmds, results):
        if r.get("exit_codes", [0])[0] != 0:
            raise SystemExit(f"{name} failed: {r['command']}")
        got[name] = (r["times"][0] * 1000, (r["user"] + r["system"]) * 1000)
    return got


def maxrss_kib(argv):
    """Peak RSS of argv's process tree (its largest process), through the
    tiny static bench/maxrss.c: a fork from this Python process would count
    Python's own 15 MiB into the child's peak."""
    p = subprocess.run([MAXRSS] + argv, stdout=subprocess.PIPE, text=True)
    if p.returncode != 0:
        raise SystemExit(f"failed: {argv}")
    return int(p.stdout.splitlines()[-1])


def median_range(xs):
    return statistics.median(xs), min(xs), max(xs)


def bench_run(b, rounds):
    names = list(RUNTIMES) + ["floor", "harness"]
    wall = {n: [] for n in names}
    cpu = {n: [] for n in names}
    for i in range(rounds):
        cmds = {rt: b.run_cmd(rt) for rt in RUNTIMES}
        cmds["floor"] = floor_cmd(b)
        cmds["harness"] = ["/bin/true"]
        # Rotate the order too, so that no runtime always runs first.
        order = names[i % len(names):] + names[:i % len(names)]
        got = hyperfine_round({n: cmds[n] for n in order})
        for n in names:
            wall[n].append(got[n][0])
            cpu[n].append(got[n][1])
    rss = {n: [] for n in list(RUNTIMES) + ["floor"]}
    for _ in range(max(3, rounds // 5)):
        for rt in RUNTIMES:
            rss[rt].append(maxrss_kib(b.run_cmd(rt)))
        rss["floor"].append(maxrss_kib(floor_cmd(b)))
    return wall, cpu, rss


def wait_pidfd(pid):
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return
    try:
        select.select([fd], [], [], 10)
    finally:
        os.close(fd)


def bench_cycle(b, rounds):
    """create, start, wait, delete: wall and CPU of the runtime's processes."""
    wall = {rt: [] for rt in RUNTIMES}
    cpu = {rt: [] for rt in RUNTIMES}
    names = list(RUNTIMES)
    for i in range(rounds):
        for rt in names[i % len(names):] + names[:i % len(names)]:
            cid = b.new_id()
            base = [RUNTIMES[rt], "--root", b.state_root(rt)]
            pidfile = os.path.join(b.top, cid + ".pid")
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            t0 = time.perf_counter()
            subprocess.run(base + ["create", "--bundle", b.bundle, "--pid-file", pidfile, cid],
                           check=True, stdout=subprocess.DEVNULL)
            pid = int(open(pidfile).read())
            subprocess.run(base + ["start", cid], check=True)
            wait_pidfd(pid)
            subprocess.run(base + ["delete", cid], check=True)
            t1 = time.perf_counter()
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            os.unlink(pidfile)
            wall[rt].append((t1 - t0) * 1000)
            cpu[rt].append((after.ru_utime - before.ru_utime + after.ru_stime -
                            before.ru_stime) * 1000)
    return wall, cpu


def starts(b, rt, limit, times):
    """Does /bin/true start `times` times out of `times` under this memory limit?"""
    bundle = b.make_bundle(f"mem-{rt}", limit)
    for _ in range(times):
        cid = b.new_id()
        try:
            p = subprocess.run(b.run_cmd(rt, bundle, cid), stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, timeout=20)
            ok = p.returncode == 0
        except subprocess.TimeoutExpired:
            ok = False
        if not ok:
            subprocess.run([RUNTIMES[rt], "--root", b.state_root(rt), "delete", "--force", cid],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            return False
    return True


def bench_memory(b, times):
    """Bisect, in pages, the smallest limit under which /bin/true starts every time."""
    found = {}
    page = os.sysconf("SC_PAGE_SIZE")
    for rt in RUNTIMES:
        lo, hi = 0, (64 << 20) // page  # lo fails (nothing starts in 0), hi must work
        if not starts(b, rt, hi * page, times):
            found[rt] = None
            continue
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if starts(b, rt, mid * page, times):
                hi = mid
            else:
                lo = mid
        found[rt] = hi * page // 1024
    return found


def bench_parallel(b, total, jobs, rounds):
    wall = {rt: [] for rt in RUNTIMES}
    names = list(RUNTIMES)
    for i in range(rounds):
        for rt in names[i % len(names):] + names[:i % len(names)]:
            cmds = [b.run_cmd(rt) for _ in range(total)]
            t0 = time.perf_counter()
            with concurrent.futures.ThreadPoolExecutor(jobs) as pool:
                codes = list(pool.map(lambda c: subprocess.run(c).returncode, cmds))
            wall[rt].append((time.perf_counter() - t0) * 1000)
            if any(codes):
                raise SystemExit(f"{rt}: {sum(1 for c in codes if c)} of {total} runs failed")
    return wall


def bench_list(b, count, rounds):
    ids = {rt: [b.new_id() for _ in range(count)] for rt in RUNTIMES}
    for rt in RUNTIMES:
        base = [RUNTIMES[rt], "--root", b.state_root(rt), "create", "--bundle", b.bundle]
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda cid: subprocess.run(base + [cid], check=True,
                                                     stdout=subprocess.DEVNULL), ids[rt]))
    wall = {rt: [] for rt in RUNTIMES}
    names = list(RUNTIMES)
    try:
        for i in range(rounds):
            order = names[i % len(names):] + names[:i % len(names)]
            got = hyperfine_round({rt: [RUNTIMES[rt], "--root", b.state_root(rt), "list"]
                                   for rt in order})
            for rt in names:
                wall[rt].append(got[rt][0])
    finally:
        for rt in RUNTIMES:
            base = [RUNTIMES[rt], "--root", b.state_root(rt), "delete", "--force"]
            with concurrent.futures.ThreadPoolExecutor(8) as pool:
                list(pool.map(lambda cid: subprocess.run(base + [cid],
                                                         stdout=subprocess.DEVNULL), ids[rt]))
    return wall


def remove_cgroups():
    """Cgroups of this run's containers that a failure left behind."""
    hierarchies = []
    for line in open("/proc/self/mountinfo"):
        fields = line.split()
        fstype = fields[fields.index("-") + 1]
        if fstype in ("cgroup", "cgroup2"):
            hierarchies.append(fields[4])
    for h in hierarchies:
        for top, _, _ in os.walk(h, topdown=False):
            if top.count("/") > 8 or not os.path.basename(top).startswith(PREFIX):
                continue
            try:
                os.rmdir(top)
            except OSError as e:
                print(f"bench: cannot remove {top}: {e}", file=sys.stderr)


def version(rt):
    out = subprocess.run([RUNTIMES[rt], "--version"], capture_output=True, text=True).stdout
    return out.splitlines()[0] if out else "?"


def fmt_ms(m):
    return f"{m[0]:.1f} ({m[1]:.1f}-{m[2]:.1f})"


def report(results, args):
    wall, cpu, rss = results["run"]
    h = statistics.median(wall["harness"])
    hc = statistics.median(cpu["harness"])
    net = {n: [x - h for x in wall[n]] for n in wall}
    netc = {n: [x - hc for x in cpu[n]] for n in cpu}
    crun_w = statistics.median(net["crun"])
    crun_c = statistics.median(netc["crun"])
    floor_w = statistics.median(net["floor"])
    floor_c = statistics.median(netc["floor"])
    lines = []
    add = lines.append
    add(f"Measured {results['date']} on {results['machine']}, "
        f"{args.rounds} alternating rounds{' (quick)' if args.quick else ''}.")
    add(f"Versions: {', '.join(f'{rt}: {version(rt)}' for rt in RUNTIMES)}.")
    add("")
    add("**`run` of /bin/true** on the default `hako spec` config; medians, min-max in "
        f"brackets; the harness's own {h:.1f} ms wall ({hc:.1f} ms CPU) is subtracted.")
    add("")
    add("| runtime | wall ms | CPU ms (user+sys) | peak RSS KiB | wall vs crun | CPU vs crun "
        "| wall vs floor | CPU vs floor |")
    add("|---|---|---|---|---|---|---|---|")
    for n in list(RUNTIMES) + ["floor"]:
        w = median_range(net[n])
        c = median_range(netc[n])
        r = statistics.median(rss[n])
        add(f"| {n} | {fmt_ms(w)} | {fmt_ms(c)} | {r:.0f} | {w[0] / crun_w:.2f}x | "
            f"{c[0] / crun_c:.2f}x | {w[0] / floor_w:.2f}x | {c[0] / floor_c:.2f}x |")
    add("")
    add("**Wall distribution of `run`** (ms, the harness subtracted): a median alone hides "
        "a tail, such as a kernel wait that only some runs hit.")
    add("")
    add("| runtime | min | p10 | p25 | median | p75 | p90 | max |")
    add("|---|---|---|---|---|---|---|---|")
    for n in list(RUNTIMES) + ["floor"]:
        q = statistics.quantiles(net[n], n=20, method="inclusive")
        cells = [min(net[n]), q[1], q[4], statistics.median(net[n]), q[14], q[17], max(net[n])]
        add(f"| {n} | " + " | ".join(f"{x:.1f}" for x in cells) + " |")
    add("")
    cw, cc = results["cycle"]
    add("**create, start, wait, delete** (four runtime calls; wall and CPU of the runtime "
        "processes):")
    add("")
    add("| runtime | wall ms | CPU ms | wall vs crun |")
    add("|---|---|---|---|")
    cref = statistics.median(cw["crun"])
    for rt in RUNTIMES:
        w = median_range(cw[rt])
        add(f"| {rt} | {fmt_ms(w)} | {fmt_ms(median_range(cc[rt]))} | {w[0] / cref:.2f}x |")
    add("")
    add("**The smallest memory limit** under which /bin/true starts 20 times out of 20:")
    add("")
    add("| runtime | limit KiB |")
    add("|---|---|")
    for rt, kib in results["memory"].items():
        add(f"| {rt} | {kib if kib is not None else 'did not start under 64 MiB'} |")
    add("")
    add("**Throughput**: 100 containers run to completion, and `list` with 500 created "
        "(wall ms, medians):")
    add("")
    add("| runtime | 100 runs, 2 at a time | 100 runs, 8 at a time | list of 500 |")
    add("|---|---|---|---|")
    for rt in RUNTIMES:
        p2 = median_range(results["parallel2"][rt])
        p8 = median_range(results["parallel8"][rt])
        ls = median_range(results["list"][rt])
        add(f"| {rt} | {fmt_ms(p2)} | {fmt_ms(p8)} | {fmt_ms(ls)} |")
    return "\n".join(lines)


def write_docs(table):
    path = os.path.join(ROOT, "docs", "benchmarks.md")
    notes_marker = "<!-- notes -->"
    notes = ""
    if os.path.exists(path):
        text = open(path).read()
        if notes_marker in text:
            notes = text[text.index(notes_marker):]
    with open(path, "w") as f:
        f.write("# Benchmarks\n\nWritten by `bench/run.sh` (as root) (see bench/bench.py for "
                "what each figure means).\n\n" + table + "\n\n" +
                (notes or notes_marker + "\n"))
    readme = os.path.join(ROOT, "README.md")
    text = open(readme).read()
    begin, end = "<!-- bench -->", "<!-- /bench -->"
    if begin in text and end in text:
        text = text[:text.index(begin) + len(begin)] + "\n" + table + "\n" + \
            text[text.index(end):]
        open(readme, "w").write(text)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer rounds, to try it out")
    ap.add_argument("--rounds", type=int, default=None)
    ap.add_argument("--no-write", action="store_true", help="print only")
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("bench: run as root (bench/run.sh)")
    args.rounds = args.rounds or (5 if args.quick else 30)
    top = tempfile.mkdtemp(prefix=PREFIX + "-")
    results = {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d"),
               "machine": f"{os.cpu_count()} CPUs, kernel {platform.release()}"}
    try:
        b = Bench(top, args.quick)
        print("run /bin/true ...", file=sys.stderr)
        results["run"] = bench_run(b, args.rounds)
        print("create/start/wait/delete ...", file=sys.stderr)
        results["cycle"] = bench_cycle(b, max(5, args.rounds // 2))
        print("smallest memory limit ...", file=sys.stderr)
        results["memory"] = bench_memory(b, 5 if args.quick else 20)
        print("parallel runs ...", file=sys.stderr)
        total = 20 if args.quick else 100
        results["parallel2"] = bench_parallel(b, total, 2, 1 if args.quick else 3)
        results["parallel8"] = bench_parallel(b, total, 8, 1 if args.quick else 3)
        print("list ...", file=sys.stderr)
        results["list"] = bench_list(b, 50 if args.quick else 500, 5 if args.quick else 15)
    finally:
        shutil.rmtree(top, ignore_errors=True)
        remove_cgroups()
    table = report(results, args)
    print(table)
    if not args.no_write and not args.quick:
        write_docs(table)


if __name__ == "__main__":
    main()
