#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""hakoctl beside podman 4.3 (with crun and with runc), in one run.

Run through bench/run.sh, after bench.py, in the same private mount namespace.
Every engine gets its own store in a temporary directory: hakoctl with
--storage, podman with --root/--runroot (overlay driver, cgroupfs, no
network, no default ulimits because root lacks CAP_SYS_RESOURCE here).

What is measured (medians of alternating rounds, and ratios):
  run      `ENGINE run --rm IMAGE /bin/true`, the image in the store (the
           built-in busybox one), no network (--network none for both); beside it `hako run` of the
           same container: the config.json hakoctl writes, with that image's
           files in a plain directory as its root (and, for scale, `hako
           run` with `hako spec`'s default config, which has no seccomp
           filter)
  images   `ENGINE images` with 50 images in the store
  load     `load` of one-layer images of a Debian rootfs (mmdebstrap): gzip
           and zstd layers in OCI archives, a docker-archive in xz, into an
           empty store each time, beside the single-threaded decompressor
           alone on the same bytes (`gzip -dc`, `zstd -dc`, `xz -dc` to
           /dev/null), in MB/s of the uncompressed tar
  import   `import` of the uncompressed rootfs tar
  detached a `run -d` + `stop -t 0` + `rm` cycle; `ps -a` with 100 exited
           containers; the RSS of the monitor (hako-monitor, conmon) of a
           sleeping container; `exec` of /bin/true in it
  disk     20 containers of one image: the store's size by du, before and after
  network  `run --rm` with no network, on hakoctl's default one and with a
           published port, beside podman's with a published port, in a
           network namespace made for it

`--run-only`, `--load-only` and `--network-only` measure that part alone
and print its table (nothing is written); `--quick` takes 5 rounds.
"""
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
import bench  # noqa: E402

ROOT = bench.ROOT
HAKOCTL = os.path.join(ROOT, "build", "hakoctl")
OVLFLOOR = os.path.join(ROOT, "build", "bench-ovlfloor")
PREFIX = f"hako-test-engine-{os.getpid()}"


class Engines:
    def __init__(self, top):
        self.top = top
        # hakoctl's run dir (bundles, the runtime's state) under /run, as its
        # default /run/hakoctl is: a tmpfs where an init mounts one (here,
        # with none, the root ext4); the stores stay on disk.
        self.run = tempfile.mkdtemp(prefix=PREFIX + "-", dir="/run")
        # podman wants a runroot of at most 50 characters.
        self.podman_run = tempfile.mkdtemp(prefix="hako-test-pe-", dir="/tmp")
        # No default ulimits: podman's nofile=1048576 needs CAP_SYS_RESOURCE,
        # which root lacks here (the test suite's podman config does the same).
        self.conf = os.path.join(top, "containers.conf")
        with open(self.conf, "w") as f:
            f.write('[containers]\nnetns = "none"\ndefault_ulimits = []\n'
                    '[engine]\ncgroup_manager = "cgroupfs"\nevents_logger = "none"\n')

    def hakoctl(self, store, runtime="hako"):
        return [HAKOCTL, "--storage", os.path.join(self.top, store), "--runtime",
                bench.RUNTIMES.get(runtime, runtime), "--runroot", self.run]

    def podman(self, store, runtime="crun"):
        return ["env", "CONTAINERS_CONF=" + self.conf,
                "podman", "--root", os.path.join(self.top, store), "--runroot",
                os.path.join(self.podman_run, store[-8:]), "--storage-driver", "overlay",
                "--cgroup-manager", "cgroupfs", "--events-backend", "none",
                "--runtime", bench.RUNTIMES.get(runtime, runtime)]

    def close(self):
        for store in os.listdir(self.top):
            if store.startswith("podman"):
                subprocess.run(self.podman(store) + ["system", "reset", "-f"],
                               capture_output=True)
        shutil.rmtree(self.podman_run, ignore_errors=True)
        shutil.rmtree(self.run, ignore_errors=True)


def sh(argv, **kw):
    p = subprocess.run(argv, capture_output=True, text=True, **kw)
    if p.returncode != 0:
        raise SystemExit(f"failed ({p.returncode}): {' '.join(argv)}\n{p.stderr}")
    return p.stdout


def timed(argv, stdin=None):
    """Wall ms of one run of argv."""
    import time
    t = time.perf_counter()
    subprocess.run(argv, check=True, stdin=stdin, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    return (time.perf_counter() - t) * 1000


def bench_run(e, rounds):
    busybox = os.path.join(e.top, "busybox.tar")
    sh(e.hakoctl("hk") + ["run", "--rm", "--network", "none", "busybox", "true"])
    sh(e.hakoctl("hk") + ["save", "-o", busybox, "busybox"])
    for store in ("podman-crun", "podman-runc"):
        sh(e.podman(store) + ["load", "-q", "-i", busybox])
    # hako run of the same files, in a plain directory.
    os.makedirs(os.path.join(e.top, "bundle"))
    b = bench.Bench(os.path.join(e.top, "bundle"), False)
    image_id = json.loads(sh(e.hakoctl("hk") + ["inspect", "busybox"]))[0]["Id"]
    cfg = json.loads(open(os.path.join(e.top, "hk", "images", image_id[7:])).read())
    layer = os.path.join(e.top, "hk", "layers", cfg["rootfs"]["diff_ids"][0][7:], "diff")
    shutil.rmtree(b.rootfs)
    shutil.copytree(layer, b.rootfs, symlinks=True)
    # The same container: the config.json hakoctl writes (its seccomp profile,
    # capabilities, rlimits), with that plain directory as its root.
    cfg = hakoctl_config(e, "hk")
    cfg["root"]["path"] = b.rootfs
    cfg["process"]["args"] = ["/bin/true"]
    b.config = cfg
    same = b.make_bundle("hakoctl-config")
    # The overlay floor (bench/ovlfloor.c): the same config, its root the
    # image's layer under a volatile overlay made for each run, as hakoctl
    # makes it, in a dir that is spread over ext4's block groups as the
    # store's containers/ is; nothing else.
    floor_dir, floor_root = os.path.join(e.top, "floor"), os.path.join(e.top, "floor-rootfs")
    os.makedirs(floor_dir)
    os.makedirs(floor_root)
    subprocess.run(["chattr", "+T", floor_dir], capture_output=True)
    b.config = dict(cfg, root=dict(cfg["root"], path=floor_root))
    floor = [OVLFLOOR, layer, floor_dir, floor_root] + b.run_cmd("hako",
                                                                 b.make_bundle("floor"))[:-1]
    ref = "localhost/busybox:latest"
    cmds = {
        "hakoctl": e.hakoctl("hk") + ["run", "--rm", "--network", "none", "busybox",
                                      "/bin/true"],
        "hakoctl --runtime crun": e.hakoctl("hk", "crun") + ["run", "--rm", "--network",
                                                              "none", "busybox", "/bin/true"],
        "podman + crun": e.podman("podman-crun") + ["run", "--rm", "--network", "none", ref,
                                                     "/bin/true"],
        "podman + runc": e.podman("podman-runc", "runc") + ["run", "--rm", "--network", "none",
                                                             ref, "/bin/true"],
    }
    wall = {n: [] for n in list(cmds) + ["hako run", "hako run, `hako spec` config",
                                         "overlay floor", "harness"]}
    cpu = {n: [] for n in wall}
    for _ in range(rounds):
        round_cmds = dict(cmds, **{"hako run": b.run_cmd("hako", same),
                                   "hako run, `hako spec` config": b.run_cmd("hako"),
                                   "overlay floor": floor,
                                   "harness": ["/bin/true"]})
        for n, (w, c) in bench.hyperfine_round(round_cmds).items():
            wall[n].append(w)
            cpu[n].append(c)
    return wall, cpu


def hakoctl_config(e, store):
    """The config.json of `hakoctl run --rm busybox`, read from its bundle while it runs."""
    bundles = os.path.join(e.run, "bundles")
    p = subprocess.Popen(e.hakoctl(store) + ["run", "--rm", "--network", "none", "busybox",
                                             "sleep", "2"])
    try:
        for _ in range(1000):
            for d in os.listdir(bundles) if os.path.isdir(bundles) else []:
                if os.path.exists(os.path.join(bundles, d, "pid")):
                    with open(os.path.join(bundles, d, "config.json")) as f:
                        return json.load(f)
            time.sleep(0.01)
        raise RuntimeError("hakoctl run wrote no bundle")
    finally:
        p.wait()


def bench_images(e, rounds, count=50):
    busybox = os.path.join(e.top, "busybox.tar")
    for i in range(count):
        sh(e.hakoctl("hk") + ["tag", "busybox", f"localhost/hako-test-many{i}:1"])
    sh(e.podman("podman-crun") + ["load", "-q", "-i", busybox])
    for i in range(count):
        sh(e.podman("podman-crun") + ["tag", "localhost/busybox:latest",
                                      f"localhost/hako-test-many{i}:1"])
    # 50 images, not 50 names of one: each gets a config of its own.
    for i in range(count):
        tar = os.path.join(e.top, f"img{i}.tar")
        subprocess.run(["tar", "-cf", tar, "-C", os.path.join(e.top, "bundle", "rootfs"), "."],
                       check=True)
        sh(e.hakoctl("hk-many") + ["import", "-q", "--change", f"ENV N={i}", tar,
                                    f"hako-test-img{i}"])
        sh(e.podman("podman-many") + ["import", "-q", "--change", f"ENV N={i}", tar,
                                       f"hako-test-img{i}"])
        os.unlink(tar)
    cmds = {"hakoctl": e.hakoctl("hk-many") + ["images"],
            "podman": e.podman("podman-many") + ["images"], "harness": ["/bin/true"]}
    wall = {n: [] for n in cmds}
    for _ in range(rounds):
        for n, (w, _c) in bench.hyperfine_round(cmds).items():
            wall[n].append(w)
    return wall


def monitor_rss_kib(cid):
    """VmRSS of the monitor of container cid: the process whose argv[0] is
    hako-monitor or conmon and whose arguments name cid."""
    for p in os.listdir("/proc"):
        try:
            with open(f"/proc/{p}/cmdline", "rb") as f:
                argv = f.read().split(b"\0")
            if os.path.basename(argv[0]) in (b"hako-monitor", b"conmon") and \
                    any(cid.encode() in a for a in argv[1:]):
                with open(f"/proc/{p}/status") as f:
                    return int(next(l for l in f if l.startswith("VmRSS:")).split()[1])
        except (OSError, StopIteration):
            continue
    return None


def bench_containers(e, rounds, count=100):
    """Detached containers: a `run -d` + `stop -t 0` + `rm` cycle; `ps -a`
    with 100 (exited) containers; the RSS of a monitor while its container
    sleeps, hako-monitor beside conmon."""
    busybox = os.path.join(e.top, "busybox.tar")
    engines = {"hakoctl": (e.hakoctl("hk"), "busybox", ["--network", "none"]),
               "podman": (e.podman("podman-crun"), "localhost/busybox:latest",
                          ["--network", "none"])}
    cycle = {n: [] for n in engines}
    for _ in range(rounds):
        for n, (argv, image, net) in engines.items():
            t0 = time.perf_counter()
            cid = sh(argv + ["run", "-d", *net, image, "sleep", "100"]).strip()
            sh(argv + ["stop", "-t", "0", cid])
            sh(argv + ["rm", cid])
            cycle[n].append((time.perf_counter() - t0) * 1000)
    sh(e.podman("podman-ps") + ["load", "-q", "-i", busybox])
    for _ in range(count):
        sh(e.hakoctl("hk-ps") + ["run", "--network", "none", "busybox", "true"])
        sh(e.podman("podman-ps") + ["run", "--network", "none", "localhost/busybox:latest",
                                    "true"])
    cmds = {"hakoctl": e.hakoctl("hk-ps") + ["ps", "-a"],
            "podman": e.podman("podman-ps") + ["ps", "-a"], "harness": ["/bin/true"]}
    ps = {n: [] for n in cmds}
    for _ in range(rounds):
        for n, (w, _c) in bench.hyperfine_round(cmds).items():
            ps[n].append(w)
    rss, cids = {}, {}
    for n, (argv, image, net) in engines.items():
        cids[n] = sh(argv + ["run", "-d", *net, image, "sleep", "100"]).strip()
        time.sleep(0.5)
        rss[n] = monitor_rss_kib(cids[n])
    # exec of /bin/true in those running containers
    cmds = {n: argv + ["exec", cids[n], "/bin/true"] for n, (argv, _i, _n) in engines.items()}
    cmds["harness"] = ["/bin/true"]
    ex = {n: [] for n in cmds}
    for _ in range(rounds):
        for n, (w, _c) in bench.hyperfine_round(cmds).items():
            ex[n].append(w)
    for n, (argv, _i, _n) in engines.items():
        sh(argv + ["rm", "-f", cids[n]])
    return {"cycle": cycle, "ps": ps, "count": count, "rss": rss, "exec": ex}


def bench_network(e, rounds):
    """A container's network: `run --rm` with none, on hakoctl's default
    network, and with a published port, beside podman with a published port
    on its default network; all in a network namespace made for it (the
    bridges and tables are made there, never in the machine's own)."""
    ns = f"hako-test-bench-{os.getpid()}"
    subprocess.run(["ip", "netns", "add", ns], check=True)
    try:
        subprocess.run(["ip", "-n", ns, "link", "set", "lo", "up"], check=True)
        pre = ["nsenter", f"--net=/run/netns/{ns}"]
        busybox = os.path.join(e.top, "busybox-net.tar")
        sh(e.hakoctl("hk-net") + ["run", "--rm", "--network", "none", "busybox", "true"])
        sh(e.hakoctl("hk-net") + ["save", "-o", busybox, "busybox"])
        sh(e.podman("podman-net") + ["load", "-q", "-i", busybox])
        hk = pre + e.hakoctl("hk-net") + ["run", "--rm"]
        cmds = {
            "hakoctl --network none": hk + ["--network", "none", "busybox", "/bin/true"],
            "hakoctl --network hako": hk + ["--network", "hako", "busybox", "/bin/true"],
            "hakoctl -p 8080:80": hk + ["-p", "8080:80", "busybox", "/bin/true"],
            "podman + crun -p 8080:80": pre + e.podman("podman-net") + [
                "run", "--rm", "--network", "bridge", "-p", "8080:80",
                "localhost/busybox:latest", "/bin/true"],
            "harness": pre + ["/bin/true"],
        }
        for argv in cmds.values():  # the bridges and tables made, once
            subprocess.run(argv, capture_output=True)
        if subprocess.run(cmds["podman + crun -p 8080:80"], capture_output=True).returncode:
            del cmds["podman + crun -p 8080:80"]  # its network cannot be made here
        wall = {n: [] for n in cmds}
        for _ in range(rounds):
            for n, (w, _c) in bench.hyperfine_round(cmds).items():
                wall[n].append(w)
        return wall
    finally:
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)


def largest_member(tar_path, out):
    """The biggest file of a tar (an archive's one layer blob), written to out."""
    import tarfile
    with tarfile.open(tar_path) as t:
        m = max((m for m in t.getmembers() if m.isfile()), key=lambda m: m.size)
        with open(out, "wb") as f:
            shutil.copyfileobj(t.extractfile(m), f)


def bench_load(e, rounds):
    """Each compression in the form it travels in: gzip and zstd layers in an
    OCI archive (skopeo's), and a whole docker-archive in xz (the CentOS
    Stream image's form). The decompressor row decompresses the same
    compressed bytes alone."""
    import pathlib
    import imagekit  # tests/integration: the same Debian rootfs as the tests
    top = pathlib.Path(e.top)
    rootfs = imagekit.debian_rootfs(top)
    size = os.path.getsize(rootfs)
    podman = imagekit.Podman(top / "podman-src")
    podman("import", str(rootfs), "localhost/hako-test-deb:1")
    archive = os.path.join(e.top, "deb.tar")
    podman("save", "--format", "docker-archive", "-o", archive, "localhost/hako-test-deb:1")
    podman.close()
    inputs = {}
    for comp in ("gzip", "zstd"):
        path = os.path.join(e.top, f"deb-oci-{comp}.tar")
        sh(["skopeo", "copy", "-q", "--dest-compress-format", comp, "docker-archive:" + archive,
            f"oci-archive:{path}:localhost/hako-test-deb:1"])
        blob = path + ".blob"
        largest_member(path, blob)
        inputs[comp] = (path, blob)
    xz = archive + ".xz"
    with open(archive, "rb") as i, open(xz, "wb") as o:
        subprocess.run(["xz", "-c", "-T1", "-6"], stdin=i, stdout=o, check=True)
    inputs["xz"] = (xz, xz)
    out = {"size": size, "rows": {}}
    # Every store is removed at the end, not between rounds: on ext4, a file
    # made soon after thousands were removed waits while the allocator skips
    # their recently freed inodes, which made each load pay for the removal
    # of the round before (up to 2x on this machine's disk).
    stores = []
    for comp, (path, blob) in inputs.items():
        rows = {"decompressor": [], "hakoctl load": [], "podman load": []}
        for r in range(rounds):
            with open(blob, "rb") as f:
                rows["decompressor"].append(timed([comp, "-dc"], stdin=f))
            store = f"hk-load-{comp}-{r}"
            rows["hakoctl load"].append(timed(e.hakoctl(store) + ["load", "-q", "-i", path]))
            pstore = f"podman-load-{comp}-{r}"
            stores += [store, pstore]
            try:
                rows["podman load"].append(timed(e.podman(pstore) + ["load", "-q", "-i", path]))
            except subprocess.CalledProcessError:
                rows["podman load"] = None  # podman 4.3 cannot load this form
            if rows["podman load"] is None:
                rows["podman load"] = []
                rows["podman refuses"] = True
        out["rows"][comp] = rows
    rows = {"hakoctl import": [], "podman import": [], "tar -xf": []}
    for r in range(rounds):
        store = f"hk-import-{r}"
        rows["hakoctl import"].append(timed(e.hakoctl(store) + ["import", "-q", str(rootfs), "x"]))
        # The files alone: GNU tar into an empty dir, no digest, no store.
        untar = f"tar-{r}"
        os.makedirs(os.path.join(e.top, untar))
        rows["tar -xf"].append(timed(["tar", "-xf", str(rootfs), "-C",
                                      os.path.join(e.top, untar)]))
        stores.append(untar)
        pstore = f"podman-import-{r}"
        stores += [store, pstore]
        rows["podman import"].append(timed(e.podman(pstore) + ["import", "-q", str(rootfs), "x"]))
    out["rows"]["none"] = rows
    for store in stores:
        if store.startswith("podman"):
            subprocess.run(e.podman(store) + ["system", "reset", "-f"], capture_output=True)
        shutil.rmtree(os.path.join(e.top, store), ignore_errors=True)
    return out


def du_kib(path):
    return int(sh(["du", "-sk", "-x", path]).split()[0])


def bench_disk(e, n=20):
    """n containers of the Debian image, kept: the image once, plus uppers."""
    store = os.path.join(e.top, "hk-disk")
    sh(e.hakoctl("hk-disk") + ["load", "-q", "-i", os.path.join(e.top, "deb.tar")])
    before = du_kib(store)
    for i in range(n):
        sh(e.hakoctl("hk-disk") + ["run", "--network", "none", "localhost/hako-test-deb:1",
                                   "/bin/true"])
    after = du_kib(store)
    uppers = sum(du_kib(os.path.join(store, "containers", c, "upper"))
                 for c in os.listdir(os.path.join(store, "containers")) if c[0] != ".")
    return {"image": before, "after": after, "uppers": uppers, "n": n}


def med(xs):
    return statistics.median(xs)


def net(rows):
    """The harness's own time (hyperfine starting /bin/true) taken off every row."""
    h = med(rows.pop("harness"))
    return {n: [x - h for x in v] for n, v in rows.items()}, h


def report_run(run, rounds):
    """The table of `run --rm`."""
    L = []
    add = L.append
    wall, h = net(run[0])
    cpu, hc = net(run[1])
    pod = med(wall["podman + crun"])
    hk = med(wall["hako run"])
    add(f"**hakoctl beside podman 4.3**, {rounds} alternating rounds, medians (min-max).")
    add("")
    add("`ENGINE run --rm IMAGE /bin/true`, the image in the store, no network (wall and CPU "
        f"ms of the whole command; the harness's own {h:.1f} ms wall, {hc:.1f} ms CPU, is "
        "subtracted, as in the runtime table; `hako run` runs the config.json hakoctl writes, "
        "with the image's files in a plain directory):")
    add("")
    add("| command | wall ms | CPU ms | wall vs podman + crun | wall vs hako run |")
    add("|---|---|---|---|---|")
    for n in wall:
        w = bench.median_range(wall[n])
        add(f"| {n} | {bench.fmt_ms(w)} | {bench.fmt_ms(bench.median_range(cpu[n]))} | "
            f"{w[0] / pod:.3f}x | {w[0] / hk:.2f}x |")
    if "overlay floor" in wall:
        fl = med(wall["overlay floor"])
        add("")
        add("The overlay floor (bench/ovlfloor.c) is the least an engine on overlayfs adds to "
            "`hako run`: a mount namespace, the container's dir with its upper and work dirs, "
            "a volatile overlay of the image's layer, and after the runtime, the unmount and the "
            "dir's removal; no record, name, lock or config written. It costs "
            f"{fl - hk:.1f} ms; hakoctl costs {med(wall['hakoctl']) - hk:.1f} ms, "
            f"{med(wall['hakoctl']) - fl:.1f} ms beyond the floor.")
    return "\n".join(L)


def report_load(ld):
    """The table of `load` and `import`."""
    L = []
    add = L.append
    mb = ld["size"] / 1e6
    add(f"`load` of a one-layer image of a Debian rootfs ({mb:.0f} MB uncompressed) into an "
        "empty store: gzip and zstd layers in an OCI archive (skopeo's), a whole "
        "docker-archive in xz (the CentOS Stream form); beside the decompressor alone on the "
        "same compressed bytes (ms, and MB/s of the uncompressed tar):")
    add("")
    add("| compression | decompressor -dc | hakoctl load | podman load | hakoctl vs podman "
        "| hakoctl vs decompressor |")
    add("|---|---|---|---|---|---|")
    for comp in ("gzip", "zstd", "xz"):
        r = ld["rows"][comp]
        d, h = med(r["decompressor"]), med(r["hakoctl load"])
        if r.get("podman refuses"):
            pod, ratio = "refuses the file", "-"
        else:
            p = med(r["podman load"])
            pod, ratio = f"{p:.0f}", f"{h / p:.2f}x"
        add(f"| {comp} | {d:.0f} ({mb / d * 1000:.0f} MB/s) | {h:.0f} ({mb / h * 1000:.0f} MB/s) "
            f"| {pod} | {ratio} | {h / d:.2f}x |")
    r = ld["rows"]["none"]
    h, p = med(r["hakoctl import"]), med(r["podman import"])
    add(f"| none (`import` of the tar) | - | {h:.0f} ({mb / h * 1000:.0f} MB/s) | {p:.0f} "
        f"| {h / p:.2f}x | - |")
    if r.get("tar -xf"):
        t, z = med(r["tar -xf"]), med(ld["rows"]["zstd"]["decompressor"])
        add("")
        add(f"Making the files alone, GNU `tar -xf` of the uncompressed tar into an empty dir "
            f"(no digest, no store), takes {t:.0f} ms ({mb / t * 1000:.0f} MB/s): "
            f"{t / z:.2f}x `zstd -dc`, before any decompression or digest.")
    add("")
    return "\n".join(L)


def report(res, rounds):
    L = [report_run(res["run"], rounds), ""]
    add = L.append
    im, _ = net(res["images"])
    add(f"`images` with 50 images: hakoctl {bench.fmt_ms(bench.median_range(im['hakoctl']))} ms, "
        f"podman {bench.fmt_ms(bench.median_range(im['podman']))} ms "
        f"({med(im['hakoctl']) / med(im['podman']):.2f}x).")
    add("")
    L.append(report_load(res["load"]))
    ct = res["containers"]
    cy = {n: bench.median_range(v) for n, v in ct["cycle"].items()}
    ps, _ = net(ct["ps"])
    psm = {n: bench.median_range(v) for n, v in ps.items()}
    add("Detached containers (medians of the rounds):")
    add("")
    add("| | hakoctl | podman + crun | hakoctl vs podman |")
    add("|---|---|---|---|")
    add(f"| `run -d` + `stop -t 0` + `rm` of `sleep 100`, ms | {bench.fmt_ms(cy['hakoctl'])} | "
        f"{bench.fmt_ms(cy['podman'])} | {cy['hakoctl'][0] / cy['podman'][0]:.3f}x |")
    add(f"| `ps -a` with {ct['count']} containers, ms (harness subtracted) | "
        f"{bench.fmt_ms(psm['hakoctl'])} | {bench.fmt_ms(psm['podman'])} | "
        f"{psm['hakoctl'][0] / psm['podman'][0]:.3f}x |")
    ex, _ = net(ct["exec"])
    exm = {n: bench.median_range(v) for n, v in ex.items()}
    add(f"| `exec CONTAINER /bin/true`, ms (harness subtracted) | {bench.fmt_ms(exm['hakoctl'])} | "
        f"{bench.fmt_ms(exm['podman'])} | {exm['hakoctl'][0] / exm['podman'][0]:.3f}x |")
    r = ct["rss"]
    if r.get("hakoctl") and r.get("podman"):
        add(f"| the monitor's RSS while its container sleeps, KiB (hako-monitor, conmon) | "
            f"{r['hakoctl']} | {r['podman']} | {r['hakoctl'] / r['podman']:.2f}x |")
    add("")
    dk = res["disk"]
    add(f"Disk: the image takes {dk['image'] / 1024:.1f} MiB in the store; after {dk['n']} "
        f"containers of it, {dk['after'] / 1024:.1f} MiB (their upper dirs: "
        f"{dk['uppers']} KiB in all).")
    add("")
    add(report_network(res["network"]))
    return "\n".join(L)


def report_network(rows):
    wall, h = net(rows)
    none = med(wall["hakoctl --network none"])
    pod = med(wall["podman + crun -p 8080:80"]) if "podman + crun -p 8080:80" in wall else None
    L = ["A container's network: `ENGINE run --rm IMAGE /bin/true` in a network namespace made "
         f"for it (ms; the harness's {h:.1f} ms subtracted; the network's setup and teardown "
         "are what a row adds to `--network none`):", "",
         "| command | wall ms | setup + teardown ms | vs podman + crun -p |", "|---|---|---|---|"]
    for n, v in wall.items():
        w = bench.median_range(v)
        L.append(f"| {n} | {bench.fmt_ms(w)} | {w[0] - none:.1f} | "
                 f"{f'{w[0] / pod:.3f}x' if pod else '-'} |")
    if pod is None:
        L.append("| podman + crun -p 8080:80 | could not make its network here | - | - |")
    return "\n".join(L)


def write_docs(table):
    for path, begin, end in ((os.path.join(ROOT, "docs", "benchmarks.md"),
                              "<!-- engine -->", "<!-- /engine -->"),
                             (os.path.join(ROOT, "README.md"),
                              "<!-- bench-engine -->", "<!-- /bench-engine -->")):
        text = open(path).read()
        if begin in text and end in text:
            text = text[:text.index(begin) + len(begin)] + "\n" + table + "\n" + \
                text[text.index(end):]
            open(path, "w").write(text)


def main():
    sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
    quick = "--quick" in sys.argv
    only = {"--network-only": lambda e, n: report_network(bench_network(e, n)),
            "--run-only": lambda e, n: report_run(bench_run(e, n), n),
            "--load-only": lambda e, n: report_load(bench_load(e, n))}
    for flag in set(only) & set(sys.argv):  # this part alone: printed, not written
        top = tempfile.mkdtemp(prefix=PREFIX + "-")
        e = Engines(top)
        try:
            print(only[flag](e, 5 if quick else 20))
        finally:
            e.close()
            shutil.rmtree(top, ignore_errors=True)
            bench.remove_cgroups()
        return
    rounds = 5 if quick else 20
    top = tempfile.mkdtemp(prefix=PREFIX + "-")
    e = Engines(top)
    res = {}
    try:
        print("engine: run ...", file=sys.stderr)
        res["run"] = bench_run(e, rounds)
        print("engine: images ...", file=sys.stderr)
        res["images"] = bench_images(e, rounds)
        print("engine: load and import ...", file=sys.stderr)
        res["load"] = bench_load(e, 3 if quick else 5)
        print("engine: detached containers ...", file=sys.stderr)
        res["containers"] = bench_containers(e, rounds)
        print("engine: disk ...", file=sys.stderr)
        res["disk"] = bench_disk(e)
        print("engine: network ...", file=sys.stderr)
        res["network"] = bench_network(e, rounds)
    finally:
        e.close()
        for m in reversed(open("/proc/self/mountinfo").read().split("\n")):
            f = m.split()
            if len(f) > 4 and f[4].startswith(top):
                subprocess.run(["umount", "-l", f[4]], capture_output=True)
        shutil.rmtree(top, ignore_errors=True)
        bench.remove_cgroups()
    table = report(res, rounds)
    print(table)
    if not quick and "--no-write" not in sys.argv:
        write_docs(table)


if __name__ == "__main__":
    main()
