/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A container's root filesystem: an overlay of its image's layers (read
 * only, from the store) under its own upper and work dirs.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "error.h"
#include "store.h"

/*
 * Mount the overlay of layers (diff_ids, lowest first) with the upper and
 * work dirs below condir (the container's dir in the store) on
 * target/rootfs. The caller picks the mount namespace it is made in.
 *
 * A throwaway container's (--rm) overlay is "volatile" (Linux 5.10), as
 * podman mounts them: overlayfs then never syncs the store's filesystem,
 * which it otherwise does at every unmount, for a container whose files
 * are removed the moment it exits. (After a crash such an upper dir cannot
 * be mounted again; it is only ever removed.)
 */
int hk_rootfs_mount(struct hk_store *s, int condirfd, int targetfd, const char *const *diff_ids,
		    size_t n, bool throwaway, struct hk_error *err);

/*
 * The same files, read only: the upper dir as the top layer of an overlay
 * with no upper dir of its own (linux 6.8's lowerdir+), for export.
 */
int hk_rootfs_mount_ro(struct hk_store *s, int condirfd, int targetfd, const char *const *diff_ids,
		       size_t n, struct hk_error *err);
