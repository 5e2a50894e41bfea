/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Resolving a container path ("/dev/pts", a mount destination) inside the
 * rootfs without ever leaving it. The image is untrusted: a symlink in it
 * must not redirect a mount or a write to the host.
 */
#pragma once

#include "error.h"

enum hk_resolve_flags {
	HK_RESOLVE_MKDIR = 1 << 0,	 /* create missing components as directories */
	HK_RESOLVE_MKFILE_LAST = 1 << 1, /* ... but create the last one as an empty file */
	HK_RESOLVE_NO_SYMLINKS = 1 << 2, /* refuse a symlink anywhere on the way (-ELOOP) */
};

/*
 * Open path, as the container sees it, below rootfd, and return an O_PATH fd.
 *
 * The walk holds a file descriptor for each directory and opens the next
 * component with O_NOFOLLOW, so nothing is ever looked up by a host path
 * string that the container could change under us. Symlinks are followed the
 * way the container will see them: an absolute target starts again at the
 * rootfs. A ".." that would climb above the rootfs, in path or in a symlink's
 * target, is refused with -EXDEV and a message that names the symlink. With
 * HK_RESOLVE_NO_SYMLINKS any symlink on the way is refused with -ELOOP: for
 * the places that must be exactly where the config says (where proc and
 * sysfs go, masked and read-only paths).
 * Between clone() and execve() this is safe to call: it does not allocate.
 */
int hk_path_open_in_root(int rootfd, const char *path, int flags, int *ret_fd,
			 struct hk_error *err);

/* "/proc/self/fd/N", the name under which mount(2) reaches an O_PATH fd. */
const char *hk_fd_path(int fd, char buf[static 32]);
