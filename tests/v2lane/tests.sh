#!/bin/sh
# The cgroup v2 lane: hako's cgroup tests on a pure cgroup v2 kernel, run by
# tests/v2lane/init in a qemu guest, as TAP. Each test names itself with
# `t NAME` and ends with `ok` or `fail WHY` ("not ok N - NAME # WHY"); the
# host's pytest reads the TAP.
HAKO=/usr/bin/hako
ROOT=/run/hako
ROOTFS=/lane/rootfs
CG=/sys/fs/cgroup
n=0
failed=0
current=""

t() { current=$1; n=$((n + 1)); }
ok() { echo "ok $n - $current"; }
fail() { echo "not ok $n - $current # $*"; failed=$((failed + 1)); }

# bundle NAME ARGS-JSON RESOURCES-JSON [DEVICES-JSON]: a bundle from the base
# config, with process.args, linux.resources and linux.devices replaced.
bundle() {
	b=/tmp/bundle-$1
	mkdir -p $b
	sed -e "s#@ARGS@#$2#" -e "s#@RESOURCES@#$3#" -e "s#@ROOTFS@#$ROOTFS#" \
		-e "s#@DEVICES@#${4:-[]}#" \
		/lane/config.json.in > $b/config.json
	echo $b
}

expect_eq() { [ "$1" = "$2" ] || { fail "expected \"$2\", got \"$1\""; return 1; }; }

t "run /bin/true, and its cgroup goes away"
b=$(bundle true '"/bin/true"' '{}')
if $HAKO --root $ROOT run --bundle $b c1 && [ ! -e $CG/hako/c1 ]; then ok; else fail "run failed or $CG/hako/c1 left"; fi

t "memory limit and swap (memory.swap.max is swap minus limit)"
b=$(bundle mem '"/bin/sh","-c","cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/memory.swap.max"' \
	'{"memory":{"limit":33554432,"swap":67108864}}')
out=$($HAKO --root $ROOT run --bundle $b c2 | tr '\n' ' ')
expect_eq "$out" "33554432 33554432 " && ok

t "cpu shares become cpu.weight; quota and period cpu.max"
b=$(bundle cpu '"/bin/sh","-c","cat /sys/fs/cgroup/cpu.weight /sys/fs/cgroup/cpu.max"' \
	'{"cpu":{"shares":1024,"quota":50000,"period":100000}}')
out=$($HAKO --root $ROOT run --bundle $b c3 | tr '\n' ' ')
expect_eq "$out" "39 50000 100000 " && ok

t "pids limit and cpuset"
b=$(bundle pids '"/bin/sh","-c","cat /sys/fs/cgroup/pids.max /sys/fs/cgroup/cpuset.cpus"' \
	'{"pids":{"limit":20},"cpu":{"cpus":"0"}}')
out=$($HAKO --root $ROOT run --bundle $b c4 | tr '\n' ' ')
expect_eq "$out" "20 0 " && ok

t "unified key/values"
b=$(bundle unified '"/bin/cat","/sys/fs/cgroup/memory.high"' '{"unified":{"memory.high":"50003968"}}')
out=$($HAKO --root $ROOT run --bundle $b c5)
expect_eq "$out" "50003968" && ok

t "blkio weight becomes io weight"
b=$(bundle io '"/bin/sh","-c","cat /sys/fs/cgroup/io.bfq.weight 2>/dev/null || cat /sys/fs/cgroup/io.weight"' \
	'{"blockIO":{"weight":500}}')
out=$($HAKO --root $ROOT run --bundle $b c6 2>&1 | head -1)
case "$out" in
"default 4950" | "default 500" | "500") ok ;;
*) fail "io weight: $out" ;;
esac

t "a v1-only knob is refused, naming it and cgroup v2"
b=$(bundle swappiness '"/bin/true"' '{"memory":{"swappiness":10}}')
out=$($HAKO --root $ROOT run --bundle $b c7 2>&1)
case "$out" in
*"linux.resources.memory.swappiness"*"cgroup v2"*) [ ! -e $ROOT/c7 ] && ok || fail "state left" ;;
*) fail "$out" ;;
esac

t "network classID is refused on a cgroup v2 host"
b=$(bundle net '"/bin/true"' '{"network":{"classID":5}}')
out=$($HAKO --root $ROOT run --bundle $b c8 2>&1)
case "$out" in
*"net_cls"*"cgroup v2 host"*) ok ;;
*) fail "$out" ;;
esac

t "OOM kill exits 137"
b=$(bundle oom '"/bin/hako-probe","alloc","64"' '{"memory":{"limit":16777216,"swap":16777216}}')
$HAKO --root $ROOT run --bundle $b c9 >/dev/null 2>&1
expect_eq "$?" "137" && ok

t "a limit too small to start says so"
b=$(bundle tiny '"/bin/true"' '{"memory":{"limit":8192}}')
out=$($HAKO --root $ROOT run --bundle $b c10 2>&1)
case "$out" in
*"too small"*) ok ;;
*) fail "$out" ;;
esac

t "pause and resume through cgroup.freeze"
b=$(bundle sleep '"/bin/sleep","60"' '{}')
$HAKO --root $ROOT run -d --bundle $b c11
$HAKO --root $ROOT pause c11
s1=$($HAKO --root $ROOT state c11 | grep -c '"paused"')
f=$(cat $CG/hako/c11/cgroup.freeze)
$HAKO --root $ROOT resume c11
s2=$($HAKO --root $ROOT state c11 | grep -c '"running"')
expect_eq "$s1$f$s2" "111" && ok

t "update and events --stats"
$HAKO --root $ROOT update --memory 64m --pids-limit 7 c11
m=$(cat $CG/hako/c11/memory.max)
p=$(cat $CG/hako/c11/pids.max)
ev=$($HAKO --root $ROOT events --stats c11)
case "$m $p $ev" in
"67108864 7 "*'"memory"'*'"pids":{"current":1'*) ok ;;
*) fail "$m $p $ev" ;;
esac

t "ps lists the container's process"
out=$($HAKO --root $ROOT ps --format json c11)
case "$out" in
"["[0-9]*"]") ok ;;
*) fail "$out" ;;
esac
$HAKO --root $ROOT delete --force c11

t "the cgroup namespace shows the container's cgroup as /"
b=$(bundle cgns '"/bin/cat","/proc/self/cgroup"' '{}')
out=$($HAKO --root $ROOT run --bundle $b c12)
expect_eq "$out" "0::/" && ok

kmsg='[{"path":"/dev/hako-kmsg","type":"c","major":1,"minor":11}]'
# Writing /dev/kmsg needs no capability (reading it needs CAP_SYSLOG).
probe='"/bin/sh","-c","echo x > /dev/null \&\& if echo hako-v2lane 2>/dev/null > /dev/hako-kmsg; then echo open; else echo denied; fi"'

t "device rules through eBPF: the default devices work, others are denied"
b=$(bundle dev1 "$probe" '{"devices":[{"allow":false,"access":"rwm"}]}' "$kmsg")
out=$($HAKO --root $ROOT run --bundle $b c13 2>&1)
expect_eq "$out" "denied" && ok

t "device rules through eBPF: a later allow rule opens a device"
b=$(bundle dev2 "$probe" '{"devices":[{"allow":false,"access":"rwm"},{"allow":true,"type":"c","major":1,"minor":11,"access":"w"}]}' "$kmsg")
out=$($HAKO --root $ROOT run --bundle $b c14 2>&1)
expect_eq "$out" "open" && ok

t "device rules through eBPF: the default hako spec config runs"
b=$(bundle dev3 '"/bin/sh","-c","echo x > /dev/null \&\& echo fine"' '{"devices":[{"allow":false,"access":"rwm"}]}')
out=$($HAKO --root $ROOT run --bundle $b c15 2>&1)
expect_eq "$out" "fine" && ok

t "no kernel module loading without CAP_SYS_MODULE"
b=$(bundle mod '"/bin/hako-probe","try","module"' '{}')
out=$($HAKO --root $ROOT run --bundle $b c16 2>&1)
expect_eq "$out" "refused: Operation not permitted" && ok

t "blockIO per-device weight and throttles on a loop device (io.weight, io.max)"
if [ ! -f /lane/loop.ko ] || ! insmod /lane/loop.ko 2>/dev/null && [ ! -e /dev/loop0 ]; then
	echo "ok $((n)) - $current # SKIP no loop driver"
else
	dd if=/dev/zero of=/tmp/disk bs=1M count=4 2>/dev/null
	losetup /dev/loop0 /tmp/disk
	dev=$(cat /sys/block/loop0/dev)
	maj=${dev%:*}
	min=${dev#*:}
	b=$(bundle io2 '"/bin/sh","-c","grep '"$dev"' /sys/fs/cgroup/io.weight /sys/fs/cgroup/io.max"' \
		'{"blockIO":{"weightDevice":[{"major":'$maj',"minor":'$min',"weight":500}],"throttleReadBpsDevice":[{"major":'$maj',"minor":'$min',"rate":1048576}],"throttleWriteIOPSDevice":[{"major":'$maj',"minor":'$min',"rate":300}]}}')
	# Without BFQ or io.cost the device takes no weight: named clearly.
	out=$($HAKO --root $ROOT run --bundle $b c20 2>&1)
	case "$out" in
	*"device $dev takes no weight: it needs the BFQ scheduler, or io.cost"*)
		echo "$dev enable=1" > /sys/fs/cgroup/io.cost.qos
		out=$($HAKO --root $ROOT run --bundle $b c20 2>&1 | tr '\n' ' ')
		expect_eq "$out" "/sys/fs/cgroup/io.weight:$dev 4950 /sys/fs/cgroup/io.max:$dev rbps=1048576 wbps=max riops=max wiops=300 " && ok
		;;
	*) fail "without io.cost: $out" ;;
	esac
	losetup -d /dev/loop0
fi

t "network classID and priorities on a v1 net_cls,net_prio hierarchy beside cgroup2"
mkdir -p /run/netcls
if ! mount -t cgroup -o net_cls,net_prio cgroup /run/netcls 2>/dev/null; then
	echo "ok $((n)) - $current # SKIP net_cls and net_prio cannot be mounted"
else
	b=$(bundle net '"/bin/sleep","30"' '{"network":{"classID":1048577,"priorities":[{"name":"lo","priority":5}]}}')
	$HAKO --root $ROOT run -d --bundle $b c21
	out="$(cat /run/netcls/hako/c21/net_cls.classid) $(grep '^lo ' /run/netcls/hako/c21/net_prio.ifpriomap)"
	$HAKO --root $ROOT delete --force c21
	left=$(ls -d /run/netcls/hako/c21 2>/dev/null)
	umount /run/netcls
	expect_eq "$out$left" "1048577 lo 5" && ok
fi

# with_profile BUNDLE PROFILE: set process.apparmorProfile.
with_profile() { sed -i "s#\"cwd\"#\"apparmorProfile\":\"$2\",\"cwd\"#" $1/config.json; }

t "AppArmor: process.apparmorProfile is applied at execve"
if [ "$(cat /sys/module/apparmor/parameters/enabled 2>/dev/null)" != Y ]; then
	echo "ok $((n)) - $current # SKIP AppArmor is not enabled in this kernel"
else
	b=$(bundle aa1 '"/bin/cat","/proc/self/attr/current"' '{}')
	with_profile $b unconfined
	out=$($HAKO --root $ROOT run --bundle $b c17 2>&1)
	expect_eq "$out" "unconfined" && ok
fi

t "AppArmor: a profile the kernel does not have is a clear error"
if [ "$(cat /sys/module/apparmor/parameters/enabled 2>/dev/null)" != Y ]; then
	echo "ok $((n)) - $current # SKIP AppArmor is not enabled in this kernel"
else
	b=$(bundle aa2 '"/bin/true"' '{}')
	with_profile $b hako-test-no-such-profile
	out=$($HAKO --root $ROOT run --bundle $b c18 2>&1)
	case "$out" in
	*'process.apparmorProfile "hako-test-no-such-profile"'*) ok ;;
	*) fail "got: $out" ;;
	esac
fi

t "AppArmor: a confining profile is enforced in the container"
if [ "$(cat /sys/module/apparmor/parameters/enabled 2>/dev/null)" != Y ] ||
	[ ! -f /lane/hako-test-deny.bin ]; then
	echo "ok $((n)) - $current # SKIP no AppArmor here, or no compiled profile"
elif ! cat /lane/hako-test-deny.bin > /sys/kernel/security/apparmor/.load; then
	fail "the guest kernel refused the compiled profile"
else
	b=$(bundle aa3 '"/bin/sh","-c","cat /proc/self/attr/current; cat /etc/group >/dev/null 2>\&1 || echo denied; cat /etc/passwd >/dev/null \&\& echo allowed"' '{}')
	with_profile $b hako-test-deny
	out=$($HAKO --root $ROOT run --bundle $b c19 2>&1 | tr '\n' ' ')
	expect_eq "$out" "hako-test-deny (enforce) denied allowed " && ok
fi

t "nothing is left behind"
left=$(ls $ROOT 2>/dev/null; ls -d $CG/hako 2>/dev/null)
expect_eq "$left" "" && ok

echo "1..$n"
echo "v2lane: $((n - failed)) passed, $failed failed"
