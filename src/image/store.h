/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The image store, under /var/lib/hako (hakoctl --storage moves it):
 *
 *   lock                 flock()ed while the store's records change
 *   layers/<hex>/diff    an unpacked layer, named by its diff_id (the sha256
 *   layers/<hex>/size    of its uncompressed tar): the same layer in two
 *                        images, at any place in their stacks, is one dir
 *   images/<hex>         an image config, named by its own sha256 (the image
 *                        id); its rootfs.diff_ids name its layers
 *   names.json           reference -> image id
 *   tmp/<load>.lock      held by a running load; its staging dir tmp/<load>/
 *   containers/<id>/     a container's upper and work dirs and bundle
 *
 * Everything becomes visible by rename(2) under the lock, so a kill -9 at
 * any moment leaves either the old store or the new one, and at worst a
 * staging dir, which the next open removes once its owner's lock is gone.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "error.h"
#include "json.h"

#define HK_STORE_DEFAULT "/var/lib/hako"
#define HK_DIGEST_MAX	 72 /* "sha256:" + 64 hex + NUL */

struct hk_store {
	char *root;
	int dirfd;
	int lockfd;
	int locked;
	/* A load's staging area: tmp/<stage>/ and its held tmp/<stage>.lock. */
	char stage[64];
	int stagefd, stage_lockfd;
	unsigned staged;
};

/* Open (making it on first use) the store at root, and clear stale staging. */
int hk_store_open(const char *root, struct hk_store *ret, struct hk_error *err);
/* Close it; a staging area still there (a failed load) is removed. */
void hk_store_close(struct hk_store *s);
/* The store's lock, exclusive; nested calls count. */
int hk_store_lock(struct hk_store *s, struct hk_error *err);
void hk_store_unlock(struct hk_store *s);

/*
 * A new, empty staging directory for one layer ("tmp/<load>/<n>", with
 * "diff" inside): ret_name is its name below the staging area, ret_fd an fd
 * of its diff dir.
 */
int hk_store_stage_layer(struct hk_store *s, char *ret_name, size_t size, int *ret_fd,
			 struct hk_error *err);
/*
 * Under the lock: make the staged layer name the layer diff_id, unless the
 * store has it already (then the staged copy is dropped).
 */
int hk_store_commit_layer(struct hk_store *s, const char *name, const char *diff_id, uint64_t size,
			  struct hk_error *err);
bool hk_store_has_layer(struct hk_store *s, const char *diff_id);
/* The size of a layer's unpacked tar, 0 when unknown. */
uint64_t hk_store_layer_size(struct hk_store *s, const char *diff_id);

/*
 * Under the lock: store an image config (checked: JSON, no duplicate keys,
 * rootfs.diff_ids all in the store); ret_id is its "sha256:<hex>".
 */
int hk_store_put_image(struct hk_store *s, const char *config, size_t len, char *ret_id,
		       struct hk_error *err);
/* The config of image id, parsed. */
int hk_store_image_config(struct hk_store *s, const char *id, struct hk_json **ret,
			  struct hk_error *err);
/* Its layers' diff_ids, lowest first (pointers into cfg). */
int hk_image_diff_ids(const struct hk_json *cfg, const char ***ret, size_t *ret_n,
		      struct hk_error *err);

/* names.json, read (an empty object when missing) and written atomically. */
int hk_store_names(struct hk_store *s, struct hk_json **ret, struct hk_error *err);
int hk_store_save_names(struct hk_store *s, const struct hk_json *names, struct hk_error *err);
/*
 * The reference in names that name (as typed) stands for: its full form, a
 * short name tried under localhost/ first, then docker.io, as podman's
 * short names. ret_ref points at the key in names. -ENOENT when none is
 * there, -EINVAL (err set) when name breaks the grammar.
 */
int hk_names_find(const struct hk_json *names, const char *name, const char **ret_ref,
		  struct hk_error *err);
/* Whether member i of names points at image id. */
bool hk_names_point_at(const struct hk_json *names, size_t i, const char *id);
/* Under the lock: point the full reference ref at image id. */
int hk_store_tag(struct hk_store *s, const char *ref, const char *id, struct hk_error *err);

/*
 * Find an image: a reference (as typed; short names are tried under
 * localhost/ and docker.io), "sha256:<hex>", or a unique prefix of an id of
 * at least 3 hex digits. ret_id gets "sha256:<hex>".
 */
int hk_store_resolve(struct hk_store *s, const char *name, char *ret_id, struct hk_error *err);
