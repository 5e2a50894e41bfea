/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unpacking a layer tar into a directory, as overlayfs will stack it.
 *
 * A layer comes from anywhere, so every entry is hostile until checked:
 * absolute names and ".." are refused; an entry is never written through a
 * symlink (umoci's CVE-2021-29136: a symlink, then a file "through" it); a
 * hardlink must name a file of this layer; device nodes are not made (they
 * would be usable on the host, in the store); setuid and setgid bits and
 * file owners are kept only when we are root; overlayfs's own xattrs found
 * in the tar are dropped. Symlinks themselves are made as they are, whatever
 * they point at: nothing here follows them, and in the container they
 * resolve inside its root. Each refusal names the entry.
 *
 * Whiteouts are turned into overlayfs's form: ".wh.NAME" becomes a 0:0
 * character device NAME, ".wh..wh..opq" the xattr trusted.overlay.opaque=y
 * on its directory.
 */
#pragma once

#include <stdint.h>

#include "decode.h"
#include "error.h"

struct hk_unpack_stats {
	uint64_t entries;
	uint64_t skipped_devices;
};

/*
 * Read a tar from src (a decoder, or a pipe ahead of one) and unpack it into
 * the empty directory dirfd, then read src to its end (so that a decoder's
 * digests cover the whole stream).
 */
int hk_unpack_tar(struct hk_source src, int dirfd, struct hk_unpack_stats *stats,
		  struct hk_error *err);
