#!/bin/sh
# The cgroup v2 lane: boot Debian's cloud kernel in qemu (TCG: a KVM guest
# hangs here) from an initramfs with hako, busybox, a busybox rootfs and
# tests/v2lane/tests.sh, and print the guest's console (TAP lines included).
#   scripts/v2lane.sh [OUTDIR]
set -eu
cd "$(dirname "$0")/.."
out=${1:-build/v2lane}
kernel=$(ls /boot/vmlinuz-*-cloud-amd64 2>/dev/null | sort -V | tail -1)
if [ -z "$kernel" ] || ! command -v qemu-system-x86_64 >/dev/null; then
	echo "v2lane: needs linux-image-cloud-amd64 and qemu-system-x86 (scripts/deps.sh)" >&2
	exit 77
fi
rm -rf "$out/stage"
mkdir -p "$out/stage/bin" "$out/stage/usr/bin" "$out/stage/lane" "$out/stage/lib64" \
	"$out/stage/lib/x86_64-linux-gnu" "$out/stage/proc" "$out/stage/sys" "$out/stage/dev" \
	"$out/stage/run" "$out/stage/tmp"
stage=$out/stage
cp /bin/busybox "$stage/bin/busybox"
cp tests/v2lane/init "$stage/init"
cp tests/v2lane/tests.sh "$stage/lane/tests.sh"
chmod 755 "$stage/init"
cp build/hako "$stage/usr/bin/hako"
# hako's shared libraries, where the dynamic loader looks for them.
for lib in $(ldd build/hako | awk '/=> \//{print $3} /^\t\/lib/{print $1}'); do
	mkdir -p "$stage$(dirname "$lib")"
	cp -L "$lib" "$stage$lib"
done
cp -a build/busybox-bundle/rootfs "$stage/lane/rootfs"
# The loop driver (a module in the cloud kernel), for a block device to put
# per-device io limits on.
loop=$(find "/lib/modules/$(basename "$kernel" | sed 's/^vmlinuz-//')" -name loop.ko 2>/dev/null |
	head -1)
[ -z "$loop" ] || cp "$loop" "$stage/lane/loop.ko"
# The AppArmor test profile, compiled here (-Q: not loaded into this kernel);
# the guest loads it. Without apparmor_parser that test is skipped.
if command -v apparmor_parser >/dev/null; then
	apparmor_parser -Q -o "$stage/lane/hako-test-deny.bin" \
		tests/v2lane/hako-test-deny.apparmor 2>/dev/null || true
fi
# The base config: process.args, linux.resources and linux.devices become
# placeholders.
/usr/bin/python3 - "$stage/lane/config.json.in" <<'PY'
import json, sys
c = json.load(open("build/busybox-bundle/config.json"))
c["root"]["path"] = "@ROOTFS@"
c["process"]["terminal"] = False
c["process"]["args"] = "@ARGS@"
c["linux"]["resources"] = "@RESOURCES@"
c["linux"]["devices"] = "@DEVICES@"
text = json.dumps(c).replace('"@ARGS@"', '[@ARGS@]')
for key in ("@RESOURCES@", "@DEVICES@"):
    text = text.replace(f'"{key}"', key)
open(sys.argv[1], "w").write(text)
PY
(cd "$stage" && find . | cpio --quiet -o -H newc) | gzip -1 > "$out/initramfs.gz"
exec timeout 900 qemu-system-x86_64 -accel tcg -cpu max -m 1024 -smp 2 -nographic \
	-no-reboot -kernel "$kernel" -initrd "$out/initramfs.gz" \
	-append "console=ttyS0 rdinit=/init panic=-1 quiet loglevel=3"
