# The test command: installs what is missing, builds, runs the unit tests
# (TAP, through meson), the fuzzers for a bounded time (FUZZ_SECONDS each),
# and the integration tests (pytest, as root), first with hako built with
# ASan and UBSan, then with the normal build (which also boots the cgroup v2
# lane in qemu).
FUZZ_SECONDS ?= 60
.PHONY: check build sanitize fuzz
build:
	sh scripts/deps.sh test
	sh scripts/build.sh
sanitize: build
	sh scripts/build.sh sanitize
check: sanitize
	meson test -C build --suite unit --print-errorlogs
	meson test -C build-sanitize --suite unit --no-rebuild --print-errorlogs
	sh scripts/fuzz.sh $(FUZZ_SECONDS)
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 HAKO_BIN=build-sanitize/hako HAKOCTL_BIN=build-sanitize/hakoctl /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/integration
	/usr/bin/python3 -m pytest -q tests/integration
fuzz:
	sh scripts/fuzz.sh $(FUZZ_SECONDS)
