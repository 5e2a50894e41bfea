#!/bin/sh
# Benchmarks beside crun and runc: installs what it needs (Debian's crun, runc
# and hyperfine), builds hako, and runs bench/bench.py in a private mount
# namespace without the cgroup2 mount at /sys/fs/cgroup/unified, where crun
# 1.8.1 runs on this hybrid host. An empty tmpfs covers the mount point rather
# than nothing: crun then writes its idea of a cgroup there, into a tmpfs that
# goes away with the namespace, not into the host's /sys/fs/cgroup.
# Writes docs/benchmarks.md and the tables in README.md.
#   bench/run.sh            # as root: the full run, a few minutes
#   bench/run.sh --quick    # fewer rounds, to try it out
set -eu
cd "$(dirname "$0")/.."
need=""
for p in crun runc hyperfine podman mmdebstrap iperf3; do
	command -v "$p" >/dev/null 2>&1 || need="$need $p"
done
if [ -n "$need" ]; then
	apt-get install -y $need >/dev/null
fi
sh scripts/deps.sh
sh scripts/build.sh
gcc -O2 -static -o build/bench-maxrss bench/maxrss.c
gcc -O2 -static -o build/bench-tcpconn bench/tcpconn.c
gcc -O2 -static -o build/bench-ovlfloor bench/ovlfloor.c
exec unshare --mount --propagation private sh -c '
	if mountpoint -q /sys/fs/cgroup/unified; then
		umount /sys/fs/cgroup/unified
		mount -t tmpfs -o size=512m,nr_inodes=0,mode=755 hako-bench-no-cgroup2 /sys/fs/cgroup/unified
	fi
	/usr/bin/python3 bench/bench.py "$@"
	/usr/bin/python3 bench/engine.py "$@"
	exec /usr/bin/python3 bench/netscale.py --write "$@"' bench "$@"
