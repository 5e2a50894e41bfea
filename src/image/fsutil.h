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
