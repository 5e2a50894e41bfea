#!/bin/sh
# Make the built-in busybox image as an OCI bundle: a rootfs holding Debian's
# static busybox (one binary, every applet a symlink to it) and the test
# probe, and the config.json that `hako spec` writes, set up to run a command.
# usage: mkbundle.sh OUTDIR HAKO PROBE
set -eu
out=$(realpath -m "$1") hako=$(realpath "$2") probe=$(realpath "$3")
busybox=/bin/busybox
[ -x "$busybox" ] || { echo "mkbundle: $busybox is missing: apt-get install busybox-static" >&2; exit 1; }
tmp=$out.tmp.$$
rm -rf "$tmp"
mkdir -p "$tmp/rootfs"
cd "$tmp/rootfs"
mkdir -p bin sbin usr/bin usr/sbin etc proc sys dev tmp root home var/tmp run mnt
chmod 1777 tmp var/tmp
cp "$busybox" bin/busybox
for applet in $(bin/busybox --list); do
	[ "$applet" = busybox ] || ln -sf busybox "bin/$applet"
done
cp "$probe" bin/hako-probe
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' > etc/passwd
printf 'root:x:0:\ntty:x:5:\nnogroup:x:65534:\n' > etc/group
cd "$tmp"
"$hako" spec
rm -rf "$out"
mv "$tmp" "$out"
