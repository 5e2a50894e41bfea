#!/bin/sh
# Install the Debian packages hako needs to build (and, with "test", to run
# the whole test suite), only those missing.
#   scripts/deps.sh          gcc, meson, busybox-static, libarchive, ...
#   scripts/deps.sh test     also qemu and Debian's cloud kernel, for the
#                            cgroup v2 lane (tests/v2lane); podman, conmon
#                            and containerd (with gRPC for the CRI test);
#                            clang for the fuzzers; apparmor_parser, to
#                            compile the guest's test profile
set -eu
pkgs="gcc libc6-dev meson ninja-build pkg-config libseccomp-dev busybox-static python3 python3-pytest iproute2"
# hakoctl's libraries: tar, the decompressors, SHA-256.
pkgs="$pkgs libarchive-dev zlib1g-dev liblzma-dev libzstd-dev libbz2-dev libssl-dev"
# hakoctl's networks: nftables (hako-nft), and nft for the tests' checks.
pkgs="$pkgs libnftables-dev"
if [ "${1:-}" = test ]; then
	# Images no one here wrote: mmdebstrap, skopeo, umoci, and the compressors.
	pkgs="$pkgs mmdebstrap skopeo umoci zstd xz-utils bzip2 gzip nftables"
	pkgs="$pkgs cpio qemu-system-x86 linux-image-cloud-amd64 podman conmon uidmap fuse-overlayfs containerd clang libclang-rt-14-dev man-db python3-grpcio python3-protobuf protobuf-compiler apparmor"
fi
missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
	echo "installing:$missing"
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
