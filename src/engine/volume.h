/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Volumes: directories that outlive containers, in the store as docker lays
 * them out, <store>/volumes/<name>/_data, with volume.json beside (its
 * name, when it was made, and whether it is anonymous: made for one
 * container by `-v /path`, and removed with it by rm -v or --rm).
 *
 * A container's mounts are in its container.json ("Mounts"), which is how a
 * volume in use is told from one that is not.
 */
#pragma once

#include <stdbool.h>

#include "error.h"
#include "json.h"
#include "store.h"

/* What -v, --mount and --tmpfs ask for. */
enum hk_mount_type {
	HK_MOUNT_BIND,
	HK_MOUNT_VOLUME,
	HK_MOUNT_TMPFS,
};

struct hk_mount_spec {
	enum hk_mount_type type;
	char *source;	   /* a host path (bind), a volume name (NULL: anonymous), unused (tmpfs) */
	char *destination; /* in the container, absolute */
	bool readonly;
	char *tmpfs_opts; /* "size=64m,mode=1777" */
};

void hk_mount_spec_free(struct hk_mount_spec *m);

/* -v HOST:CTR[:ro|rw|z|Z], -v NAME:CTR[:...], -v /CTR (anonymous). */
int hk_mount_parse_volume(const char *spec, struct hk_mount_spec *ret, struct hk_error *err);
/* --mount type=bind|volume|tmpfs,source=...,target=...[,readonly][,tmpfs-size=N][,tmpfs-mode=M] */
int hk_mount_parse_mount(const char *spec, struct hk_mount_spec *ret, struct hk_error *err);
/* --tmpfs CTR[:OPTIONS] */
int hk_mount_parse_tmpfs(const char *spec, struct hk_mount_spec *ret, struct hk_error *err);

/*
 * The volume name (made when it is not there; a NULL name makes an anonymous
 * one, whose name is returned in ret_name). ret_created says whether it is
 * new (and empty: the image's files are copied in, as docker does). ret_data
 * gets the host path of its _data.
 */
int hk_volume_get(struct hk_store *s, const char *name, char *ret_name, size_t name_size,
		  bool *ret_created, char *ret_data, size_t data_size, struct hk_error *err);

/* Copy the tree below srcfd (a directory) into dstfd: files, dirs, symlinks, owners, modes. */
int hk_copy_tree(int srcfd, int dstfd, struct hk_error *err);

/* How many containers' records name volume name in their mounts. */
unsigned hk_volume_users(struct hk_store *s, const char *name);

/* Remove volume name (refused while a container uses it, unless force). */
int hk_volume_remove(struct hk_store *s, const char *name, bool force, struct hk_error *err);

/* All volumes: their volume.json, in name order. */
int hk_volume_list(struct hk_store *s, struct hk_json **ret, struct hk_error *err);
