# The test command: installs what is missing, builds, runs the unit tests
# (TAP, through meson) and the integration tests (pytest, as root), first
# with hako built with ASan and UBSan, then with the normal build (which
# also boots the cgroup v2 lane in qemu).
.PHONY: check build sanitize
build:
	sh scripts/deps.sh test
	sh scripts/build.sh
sanitize: build
	sh scripts/build.sh sanitize
check: sanitize
	meson test -C build --suite unit --print-errorlogs
	meson test -C build-sanitize --suite unit --no-rebuild --print-errorlogs
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 HAKO_BIN=build-sanitize/hako /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/integration
	/usr/bin/python3 -m pytest -q tests/integration
