# The test command: installs what is missing, builds, runs the unit tests
# (TAP, through meson) and the integration tests (pytest, as root).
.PHONY: check build
build:
	sh scripts/deps.sh
	sh scripts/build.sh
check: build
	meson test -C build --suite unit --print-errorlogs
	/usr/bin/python3 -m pytest -q tests/integration
