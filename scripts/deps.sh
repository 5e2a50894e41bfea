#!/bin/sh
# Install the Debian packages hako needs to build and test, only those missing.
set -eu
pkgs="gcc libc6-dev meson ninja-build pkg-config busybox-static python3 python3-pytest iproute2"
missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
	echo "installing:$missing"
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
fi
