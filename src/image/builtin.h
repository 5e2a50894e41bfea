/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The built-in image "busybox" (localhost/busybox:latest), made on first use
 * from Debian's busybox-static, so that a new user has something to run
 * without a download: /bin/busybox and a symlink per applet, /etc/passwd
 * and /etc/group with root and nobody, and the usual empty directories.
 */
#pragma once

#include "store.h"

#define HK_BUILTIN_NAME	   "localhost/busybox:latest"
#define HK_BUILTIN_BUSYBOX "/bin/busybox"

/* Make the built-in image (when missing) and put its id in ret_id. */
int hk_builtin_image(struct hk_store *s, char *ret_id, struct hk_error *err);
/* Whether name asks for the built-in image ("busybox", "busybox:latest", ...). */
bool hk_builtin_wanted(const char *name);
