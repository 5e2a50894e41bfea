#!/bin/sh
# Build the libFuzzer targets in tests/fuzz with clang, ASan and UBSan, and
# run each for SECONDS (default 60) on its checked-in corpus. New inputs go
# to a scratch copy; a crash leaves its input in build-fuzz/ and fails.
set -eu
cd "$(dirname "$0")/.."
secs=${1:-60}
out=build-fuzz
mkdir -p $out
cflags="-g -O1 -std=gnu11 -D_GNU_SOURCE -DHAKO_VERSION=\"fuzz\" -Isrc/libhako
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined"
lib="src/libhako/spec.c src/libhako/spec-linux.c src/libhako/spec-process.c src/libhako/spec-resources.c
	src/libhako/spec-seccomp.c src/libhako/caps.c src/libhako/json.c src/libhako/error.c
	src/libhako/log.c src/libhako/util.c src/libhako/paths.c"
total=0
for target in spec paths; do
	# shellcheck disable=SC2086
	clang $cflags -o $out/fuzz-$target tests/fuzz/fuzz-$target.c $lib
	rm -rf $out/corpus-$target
	cp -r tests/fuzz/corpus/$target $out/corpus-$target
	log=$out/fuzz-$target.log
	status=0
	HAKO_FUZZ_TMP=$out $out/fuzz-$target -max_total_time="$secs" -max_len=65536 -timeout=10 \
		-rss_limit_mb=4096 -artifact_prefix=$out/crash-$target- \
		$out/corpus-$target tests/fuzz/corpus/$target >"$log" 2>&1 || status=$?
	rm -rf $out/hako-fuzz-root.* # the paths target's tree, should it have crashed
	if [ $status -ne 0 ]; then
		tail -40 "$log"
		echo "fuzz-$target: crashed; the input is in $out/crash-$target-*"
		exit 1
	fi
	runs=$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "$log")
	echo "fuzz-$target: ${runs:-0} executions in ${secs}s, no crash"
	total=$((total + ${runs:-0}))
done
echo "fuzz: $total executions, 0 crashes"
