#!/bin/sh
# Configure (once) and build hako, the test probe and the built-in busybox
# bundle. With "sanitize": build-sanitize/ holds hako and the unit tests
# built with ASan and UBSan (the static probe and bundle come from build/).
set -eu
cd "$(dirname "$0")/.."
if [ "${1:-}" = sanitize ]; then
	[ -f build-sanitize/build.ninja ] ||
		meson setup build-sanitize -Db_sanitize=address,undefined -Db_lundef=false \
			-Dstatic=false >/dev/null
	ninja -C build-sanitize hako hakoctl hako-monitor hako-nft hako-dns hako-proxy test-json test-spec test-paths test-image >/dev/null
	exit 0
fi
[ -f build/build.ninja ] || meson setup build >/dev/null
ninja -C build >/dev/null
