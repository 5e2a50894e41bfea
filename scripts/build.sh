#!/bin/sh
# Configure (once) and build hako, the test probe and the built-in busybox bundle.
set -eu
cd "$(dirname "$0")/.."
[ -f build/build.ninja ] || meson setup build >/dev/null
ninja -C build >/dev/null
