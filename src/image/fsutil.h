/* SPDX-License-Identifier: GPL-2.0-or-later */
/* File tree helpers for the image store. */
#pragma once

/*
 * Remove name below dirfd and everything in it, as rm -rf, without following
 * a symlink and without crossing into another mount (a container's rootfs
 * still mounted below fails with -EBUSY). Missing is not an error; name
 * must be one name in dirfd (not "." or "..", no slash).
 */
int hk_rm_rf_at(int dirfd, const char *name);

/*
 * Mark the dir name below dirfd as the top of unrelated subtrees (chattr +T,
 * FS_TOPDIR_FL): ext4's Orlov allocator then spreads the dirs made in it
 * over its block groups, instead of packing them beside their parent.
 * Best effort: a filesystem without the flag is left as it is.
 */
void hk_dir_mark_topdir(int dirfd, const char *name);
