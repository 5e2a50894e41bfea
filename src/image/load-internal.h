/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Between load.c (reading the entries of an archive: small files kept,
 * layers staged) and formats.c (what the manifests make of them).
 */
#pragma once

#include "load.h"
#include "decode.h"

struct hk_entry_file {
	char *name;
	char *data;
	size_t len;
};

struct hk_entry_layer {
	char *name;
	char stage[16];		     /* its staging dir, below the load's */
	char digest[HK_DIGEST_MAX];  /* of the entry's bytes, as stored */
	char diff_id[HK_DIGEST_MAX]; /* of the uncompressed tar */
	uint64_t size;		     /* of the uncompressed tar */
	bool used;
};

struct hk_entry_link {
	char *name, *target;
};

struct hk_collected {
	struct hk_entry_file *files;
	size_t n_files;
	struct hk_entry_layer *layers;
	size_t n_layers;
	struct hk_entry_link *links;
	size_t n_links;
};

/* An image found by formats.c: its config, its layers, its names. */
struct hk_found_image {
	char *config;
	size_t config_len;
	struct hk_entry_layer **layers;
	size_t n_layers;
	char **names;
};

/* The small file named name (following the archive's symlinks), or NULL. */
const struct hk_entry_file *hk_collected_file(const struct hk_collected *c, const char *name);
struct hk_entry_layer *hk_collected_layer(const struct hk_collected *c, const char *name);
/* Parse a small file as JSON, refusing duplicate keys; errors name it. */
int hk_collected_json(const struct hk_collected *c, const char *name, struct hk_json **ret,
		      struct hk_error *err);

/* The images the archive's manifests describe (formats.c). */
int hk_formats_find(const struct hk_collected *c, const struct hk_load_opts *o,
		    struct hk_found_image **ret, size_t *ret_n, struct hk_error *err);
void hk_found_images_free(struct hk_found_image *v, size_t n);
