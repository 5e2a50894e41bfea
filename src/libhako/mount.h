/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The container's filesystem, in the container child: propagation, the
 * rootfs bind, the config's mounts, /dev, masked and read-only paths and
 * pivot_root(2). Every destination is resolved with hk_path_open_in_root().
 */
#pragma once

#include <stdbool.h>

#include "cgroup.h"
#include "error.h"
#include "spec.h"

/* Make every mount private (or the config's rootfsPropagation), then bind the rootfs on itself. */
int hk_mount_prepare_rootfs(const struct hk_spec *spec, struct hk_error *err);
/*
 * In the runtime, before the init exists: a detached copy (open_tree) of the
 * source of each bind mount, made with the runtime's privileges, for an init
 * in a new user namespace that may not reach the source itself (a file in a
 * root-only directory). *ret gets one fd per mount, -1 where there is none;
 * hk_mount_close_sources() closes them.
 */
int hk_mount_open_sources(const struct hk_spec *spec, int **ret, struct hk_error *err);
void hk_mount_close_sources(int *fds, size_t n);
/*
 * Apply spec->mounts[i] below rootfd; cg are the container's cgroups, for
 * type "cgroup". src_mfd >= 0 is its source from hk_mount_open_sources(),
 * taken over (closed) here.
 */
int hk_mount_apply(int rootfd, const struct hk_mount *m, int src_mfd,
		   const struct hk_cgroup_mount *cg, size_t n_cg, struct hk_error *err);
/* maskedPaths and readonlyPaths. */
int hk_mount_mask_paths(const struct hk_spec *spec, int rootfd, struct hk_error *err);
/* Switch to the rootfs: pivot_root and detach the old root, or chroot with no_pivot. */
int hk_mount_switch_root(const struct hk_spec *spec, bool no_pivot, struct hk_error *err);
/* Without a mount namespace: chroot into root (the old root stays reachable). */
int hk_mount_chroot(const char *root, struct hk_error *err);
/* After switching: make / read-only when root.readonly says so. */
int hk_mount_finish_root(const struct hk_spec *spec, struct hk_error *err);

/* /dev: default nodes, config devices, standard symlinks. */
int hk_devices_setup(const struct hk_spec *spec, int rootfd, bool in_userns, struct hk_error *err);
