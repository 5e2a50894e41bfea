/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A container's root filesystem: an overlay of its image's layers (read
 * only, from the store) under its own upper and work dirs.
 */
#pragma once

#include <stddef.h>

#include "error.h"
#include "store.h"

/*
 * Mount the overlay of layers (diff_ids, lowest first) with upper and work
 * dirs below condir (the container's dir in the store) on condir/rootfs.
 */
int hk_rootfs_mount(struct hk_store *s, int condirfd, const char *const *diff_ids, size_t n,
		    struct hk_error *err);
/* Unmount condir/rootfs (detached: a process may still hold it). */
int hk_rootfs_unmount(int condirfd, struct hk_error *err);
