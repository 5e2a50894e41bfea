/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Reading image archives into the store, in one streaming pass:
 *
 * - docker save output with manifest.json (docker-archive, v1.1 and v1.2,
 *   and docker 25's, whose layers are OCI blobs);
 * - the legacy docker save layout with no manifest.json: "repositories" and
 *   <id>/json, <id>/layer.tar, each layer's json naming its parent (the
 *   CentOS Stream container image is such a file);
 * - OCI image layouts in a tar (oci-archive) or a directory: index.json,
 *   blobs/sha256/<hex>, an index per platform.
 *
 * The whole archive and each layer in it may be compressed with anything
 * decode.h knows. A layer is unpacked into a staging dir while it is read
 * (so an archive whose manifest comes last, as docker's does, needs no
 * second pass) and committed, under its diff_id, once the manifest and
 * config name it and the digests agree. A load that fails leaves nothing.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "json.h"
#include "store.h"

struct hk_load_opts {
	const char *platform; /* "os/arch[/variant]"; this machine's when NULL */
	bool quiet;
	int progress_fd;      /* -1: none */
	uint64_t max_bytes;   /* the cap on any one decompressed stream */
	const char *ref_name; /* an OCI layout: only the image of this ref.name */
};

/* What a load made: each image's id and the names it got. */
struct hk_loaded {
	char id[HK_DIGEST_MAX];
	char **names;
};

/* Load the image archive read from fd (a file, a pipe, stdin). */
int hk_image_load(struct hk_store *s, int fd, const char *what, const struct hk_load_opts *o,
		  struct hk_loaded **ret, size_t *ret_n, struct hk_error *err);
/* Load an OCI image layout directory (o->ref_name picks one of its images). */
int hk_image_load_oci_dir(struct hk_store *s, const char *dir, const struct hk_load_opts *o,
			  struct hk_loaded **ret, size_t *ret_n, struct hk_error *err);
void hk_loaded_free(struct hk_loaded *l, size_t n);

/*
 * Import a rootfs tar (docker export, a busybox rootfs, mmdebstrap's output)
 * as a one-layer image. config is the image config to give it (without
 * rootfs, which is filled in); ret_id gets the image's id.
 */
int hk_image_import(struct hk_store *s, int fd, const char *what, struct hk_json *config,
		    const struct hk_load_opts *o, char *ret_id, struct hk_error *err);

/* This machine's platform as OCI names it ("linux/amd64"). */
const char *hk_platform_default(void);
