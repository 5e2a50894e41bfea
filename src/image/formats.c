// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * What an archive's manifests say (load-internal.h): which configs and
 * which layers, in which order, make which images, and what they are called.
 * Three layouts, tried in this order:
 *
 * 1. manifest.json (docker save since 1.10): [{"Config", "RepoTags",
 *    "Layers"}], layers named by their path in the archive.
 * 2. index.json (OCI image layout): descriptors to manifests, or to indexes
 *    that hold a manifest per platform; every blob named by its digest.
 * 3. "repositories" and <id>/json (docker save before 1.10, still written
 *    by some): each layer's json names its parent; the top layer's json is
 *    the image's config, in the old form with no rootfs, which is made here.
 *
 * Every config's rootfs.diff_ids must match the layers' actual digests.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "load-internal.h"
#include "log.h"
#include "ref.h"
#include "util.h"

#define MAX_CHAIN 1000 /* layers in a legacy parent chain */

static void add_name(struct hk_found_image *img, const char *ref, const char *domain)
{
	char full[300];
	struct hk_error err = {0};
	size_t n = hk_strv_len(img->names);

	if (hk_ref_normalize(ref, domain, full, sizeof(full), &err) < 0) {
		hk_warn("%s: the name is not used", err.msg);
		return;
	}
	img->names = hk_xrealloc(img->names, (n + 2) * sizeof(char *));
	img->names[n] = hk_xstrdup(full);
	img->names[n + 1] = NULL;
}

/* The layers' diff_ids must be the config's rootfs.diff_ids, in order. */
static int check_diff_ids(const struct hk_found_image *img, const char *what, struct hk_error *err)
{
	_cleanup_(hk_json_freep) struct hk_json *cfg = NULL;
	_cleanup_free_ const char **ids = NULL;
	size_t n;
	int r;

	if ((r = hk_json_parse(img->config, img->config_len, &cfg, err)) < 0 ||
	    (r = hk_image_diff_ids(cfg, &ids, &n, err)) < 0)
		return hk_error_prefix(err, "%s", what);
	if (n != img->n_layers)
		return hk_error_setx(err, -EINVAL,
				     "%s: the config names %zu layers, the manifest %zu", what, n,
				     img->n_layers);
	for (size_t i = 0; i < n; i++)
		if (strcmp(ids[i], img->layers[i]->diff_id) != 0)
			return hk_error_setx(err, -EINVAL,
					     "%s: layer %zu (\"%s\"): digest does not match: the "
					     "config says %s, the content is %s",
					     what, i, img->layers[i]->name, ids[i],
					     img->layers[i]->diff_id);
	return 0;
}

static int take_layer(const struct hk_collected *c, struct hk_found_image *img, const char *name,
		      const char *what, struct hk_error *err)
{
	struct hk_entry_layer *l = hk_collected_layer(c, name);

	if (!l)
		return hk_error_setx(err, -ENOENT, "%s: layer \"%s\" is not in the archive", what,
				     name);
	img->layers = hk_xrealloc(img->layers, (img->n_layers + 1) * sizeof(*img->layers));
	img->layers[img->n_layers++] = l;
	return 0;
}

static void set_config(struct hk_found_image *img, const char *data, size_t len)
{
	img->config = hk_xmalloc(len + 1);
	memcpy(img->config, data, len);
	img->config[len] = '\0';
	img->config_len = len;
}

static struct hk_found_image *new_image(struct hk_found_image **v, size_t *n)
{
	*v = hk_xrealloc(*v, (*n + 1) * sizeof(**v));
	memset(&(*v)[*n], 0, sizeof(**v));
	return &(*v)[(*n)++];
}

/* A config named by its digest ("<hex>.json", "blobs/sha256/<hex>") must hash to it. */
static int check_config_name(const char *name, const struct hk_entry_file *f, struct hk_error *err)
{
	const char *base = strrchr(name, '/') ? strrchr(name, '/') + 1 : name;
	char d[HK_DIGEST_MAX];

	if (strspn(base, "0123456789abcdef") != 64)
		return 0;
	hk_sha256_digest(f->data, f->len, d);
	if (strncmp(d + 7, base, 64) != 0)
		return hk_error_setx(err, -EINVAL,
				     "\"%s\": digest does not match: its content is %s", name, d);
	return 0;
}

static int docker_archive(const struct hk_collected *c, struct hk_found_image **ret, size_t *ret_n,
			  struct hk_error *err)
{
	_cleanup_(hk_json_freep) struct hk_json *m = NULL;
	int r;

	if ((r = hk_collected_json(c, "manifest.json", &m, err)) < 0)
		return r;
	if (m->type != HK_JSON_ARRAY || m->n == 0)
		return hk_error_setx(err, -EINVAL, "manifest.json: not a list of images");
	for (size_t i = 0; i < m->n; i++) {
		const struct hk_json *e = m->items[i], *layers = hk_json_get(e, "Layers"),
				     *tags = hk_json_get(e, "RepoTags");
		const char *cname = hk_json_get_string(e, "Config");
		const struct hk_entry_file *cf = cname ? hk_collected_file(c, cname) : NULL;
		struct hk_found_image *img;

		if (!cname || !layers || layers->type != HK_JSON_ARRAY)
			return hk_error_setx(err, -EINVAL,
					     "manifest.json: image %zu: no Config or Layers", i);
		if (!cf)
			return hk_error_setx(err, -ENOENT,
					     "manifest.json: config \"%s\" is not in the archive",
					     cname);
		if ((r = check_config_name(cname, cf, err)) < 0)
			return r;
		img = new_image(ret, ret_n);
		set_config(img, cf->data, cf->len);
		for (size_t j = 0; j < layers->n; j++) {
			if (layers->items[j]->type != HK_JSON_STRING)
				return hk_error_setx(err, -EINVAL, "manifest.json: Layers[%zu]", j);
			if ((r = take_layer(c, img, layers->items[j]->text, "manifest.json", err)) <
			    0)
				return r;
		}
		for (size_t j = 0; tags && tags->type == HK_JSON_ARRAY && j < tags->n; j++)
			if (tags->items[j]->type == HK_JSON_STRING)
				add_name(img, tags->items[j]->text, "docker.io");
		if ((r = check_diff_ids(img, cname, err)) < 0)
			return r;
	}
	return 0;
}

/* ---- OCI image layout ---- */

static bool platform_matches(const struct hk_json *desc, const char *want)
{
	const struct hk_json *p = hk_json_get(desc, "platform");
	char have[128];

	if (!p)
		return true; /* no platform: for every one */
	snprintf(have, sizeof(have), "%s/%s%s%s",
		 hk_json_get_string(p, "os") ? hk_json_get_string(p, "os") : "",
		 hk_json_get_string(p, "architecture") ? hk_json_get_string(p, "architecture") : "",
		 hk_json_get_string(p, "variant") ? "/" : "",
		 hk_json_get_string(p, "variant") ? hk_json_get_string(p, "variant") : "");
	/* "linux/arm64" matches "linux/arm64/v8": a variant asked for must be the same. */
	return strncmp(have, want, strlen(want)) == 0 &&
	       (have[strlen(want)] == '\0' || have[strlen(want)] == '/');
}

static int blob_json(const struct hk_collected *c, const struct hk_json *desc, struct hk_json **ret,
		     char *name, size_t size, struct hk_error *err)
{
	const char *digest = hk_json_get_string(desc, "digest");

	if (!digest || strncmp(digest, "sha256:", 7) != 0 || strlen(digest) != 71)
		return hk_error_setx(err, -EINVAL, "a descriptor with no sha256 digest");
	snprintf(name, size, "blobs/sha256/%s", digest + 7);
	return hk_collected_json(c, name, ret, err);
}

static bool is_index(const struct hk_json *desc)
{
	const char *mt = hk_json_get_string(desc, "mediaType");

	return mt && (strcmp(mt, "application/vnd.oci.image.index.v1+json") == 0 ||
		      strcmp(mt, "application/vnd.docker.distribution.manifest.list.v2+json") == 0);
}

static int oci_manifest(const struct hk_collected *c, const struct hk_json *desc, const char *ref,
			struct hk_found_image **ret, size_t *ret_n, struct hk_error *err)
{
	_cleanup_(hk_json_freep) struct hk_json *m = NULL;
	const struct hk_json *layers, *config;
	const struct hk_entry_file *cf;
	struct hk_found_image *img;
	char name[128], cname[128];
	int r;

	if ((r = blob_json(c, desc, &m, name, sizeof(name), err)) < 0)
		return r;
	config = hk_json_get(m, "config");
	layers = hk_json_get(m, "layers");
	if (!config || !layers || layers->type != HK_JSON_ARRAY)
		return hk_error_setx(err, -EINVAL, "manifest \"%s\": no config or layers", name);
	if (!hk_json_get_string(config, "digest") ||
	    strlen(hk_json_get_string(config, "digest")) != 71)
		return hk_error_setx(err, -EINVAL, "manifest \"%s\": config: no sha256 digest",
				     name);
	snprintf(cname, sizeof(cname), "blobs/sha256/%s", hk_json_get_string(config, "digest") + 7);
	if (!(cf = hk_collected_file(c, cname)))
		return hk_error_setx(err, -ENOENT,
				     "manifest \"%s\": config \"%s\" is not in the archive", name,
				     cname);
	img = new_image(ret, ret_n);
	set_config(img, cf->data, cf->len);
	for (size_t i = 0; i < layers->n; i++) {
		const char *d = hk_json_get_string(layers->items[i], "digest");
		char lname[128];

		if (!d || strncmp(d, "sha256:", 7) != 0 || strlen(d) != 71)
			return hk_error_setx(err, -EINVAL,
					     "manifest \"%s\": layers[%zu]: no sha256 digest", name,
					     i);
		snprintf(lname, sizeof(lname), "blobs/sha256/%s", d + 7);
		if ((r = take_layer(c, img, lname, name, err)) < 0)
			return r;
	}
	if (ref)
		add_name(img, ref, "docker.io");
	return check_diff_ids(img, cname, err);
}

/*
 * The name an index gives an image: containerd's full name, or the OCI
 * ref.name when it is a whole reference. A bare tag ("1", "latest", as
 * skopeo writes for oci:DIR:TAG) names no repository, so it names nothing.
 */
static const char *oci_name(const struct hk_json *ann)
{
	const char *name = hk_json_get_string(ann, "io.containerd.image.name");

	if (name)
		return name;
	name = hk_json_get_string(ann, "org.opencontainers.image.ref.name");
	return name && (strchr(name, '/') || strchr(name, ':')) ? name : NULL;
}

static int oci_index(const struct hk_collected *c, const struct hk_json *index, int depth,
		     const char *ref, const struct hk_load_opts *o, struct hk_found_image **ret,
		     size_t *ret_n, struct hk_error *err)
{
	const char *platform = o->platform ? o->platform : hk_platform_default();
	const struct hk_json *ms = hk_json_get(index, "manifests");
	size_t before = *ret_n;
	int r;

	if (!ms || ms->type != HK_JSON_ARRAY)
		return hk_error_setx(err, -EINVAL, "an index with no manifests");
	if (depth > 4)
		return hk_error_setx(err, -ELOOP, "indexes nested too deep");
	for (size_t i = 0; i < ms->n; i++) {
		const struct hk_json *d = ms->items[i], *ann = hk_json_get(d, "annotations");
		const char *name = depth > 0 ? ref : oci_name(ann); /* a platform's: the index's */

		if (depth == 0 && o->ref_name &&
		    !(hk_json_get_string(ann, "org.opencontainers.image.ref.name") &&
		      strcmp(hk_json_get_string(ann, "org.opencontainers.image.ref.name"),
			     o->ref_name) == 0))
			continue;
		if (is_index(d)) {
			_cleanup_(hk_json_freep) struct hk_json *sub = NULL;
			char bname[128];
			if ((r = blob_json(c, d, &sub, bname, sizeof(bname), err)) < 0 ||
			    (r = oci_index(c, sub, depth + 1, name, o, ret, ret_n, err)) < 0)
				return r;
			continue;
		}
		if (depth > 0 && (!platform_matches(d, platform) || *ret_n > before))
			continue;
		if ((r = oci_manifest(c, d, name, ret, ret_n, err)) < 0)
			return r;
	}
	if (depth > 0 && *ret_n == before)
		return hk_error_setx(err, -ENOENT, "no image for platform %s in the index",
				     platform);
	if (depth == 0 && *ret_n == before)
		return hk_error_setx(err, -ENOENT, "no image%s%s in the index",
				     o->ref_name ? " named " : "", o->ref_name ? o->ref_name : "");
	return 0;
}

/* ---- the legacy layout: repositories and <id>/json ---- */

/* The history entry of a legacy layer: what made it, from its json. */
static struct hk_json *legacy_history(const struct hk_json *lj)
{
	struct hk_json *h = hk_json_new(HK_JSON_OBJECT);
	const struct hk_json *cmd = hk_json_get(hk_json_get(lj, "container_config"), "Cmd");
	struct hk_buf b = HK_BUF_INIT;

	if (hk_json_get_string(lj, "created"))
		hk_json_set(h, "created", hk_json_new_string(hk_json_get_string(lj, "created")));
	for (size_t i = 0; cmd && cmd->type == HK_JSON_ARRAY && i < cmd->n; i++)
		if (cmd->items[i]->type == HK_JSON_STRING)
			hk_buf_addf(&b, "%s%s", i ? " " : "", cmd->items[i]->text);
	if (b.len)
		hk_json_set(h, "created_by", hk_json_new_string(b.buf));
	hk_buf_release(&b);
	return h;
}

/* The image made of the chain that ends in layer top. */
static int legacy_image(const struct hk_collected *c, const char *top, struct hk_found_image **ret,
			size_t *ret_n, struct hk_error *err)
{
	static const char *const keep[] = {"architecture",     "os",	  "config",
					   "container_config", "created", "author",
					   "docker_version",   "variant"};
	_cleanup_(hk_json_freep) struct hk_json *cfg = hk_json_new(HK_JSON_OBJECT);
	_cleanup_(hk_json_freep) struct hk_json *topj = NULL;
	char *chain[MAX_CHAIN];
	size_t n = 0;
	struct hk_found_image *img;
	struct hk_json *ids, *history;
	struct hk_buf b = HK_BUF_INIT;
	int r = 0;

	for (const char *id = top; id; n++) {
		_cleanup_(hk_json_freep) struct hk_json *lj = NULL;
		char name[300];

		if (n == MAX_CHAIN)
			return hk_error_setx(err, -ELOOP,
					     "layer %s: a parent chain of more than %d", top,
					     MAX_CHAIN);
		if (strchr(id, '/') || strstr(id, ".."))
			return hk_error_setx(err, -EINVAL, "layer id \"%s\": not an id", id);
		snprintf(name, sizeof(name), "%s/json", id);
		if ((r = hk_collected_json(c, name, &lj, err)) < 0)
			goto out;
		chain[n] = hk_xstrdup(id);
		id = hk_json_get_string(lj, "parent");
		for (size_t i = 0; id && i <= n; i++)
			if (strcmp(chain[i], id) == 0) {
				n++;
				r = hk_error_setx(err, -ELOOP, "layer %s: its parent chain loops",
						  id);
				goto out;
			}
		if (n == 0) {
			topj = TAKE_PTR(lj);
			id = hk_json_get_string(topj, "parent");
		}
	}
	for (size_t i = 0; i < ARRAY_SIZE(keep); i++)
		if (hk_json_get(topj, keep[i]))
			hk_json_set(cfg, keep[i], hk_json_copy(hk_json_get(topj, keep[i])));
	ids =
	    hk_json_child(hk_json_child(cfg, "rootfs", HK_JSON_OBJECT), "diff_ids", HK_JSON_ARRAY);
	hk_json_set(hk_json_get(cfg, "rootfs"), "type", hk_json_new_string("layers"));
	history = hk_json_child(cfg, "history", HK_JSON_ARRAY);
	img = new_image(ret, ret_n);
	for (size_t i = n; i-- > 0;) { /* lowest first */
		_cleanup_(hk_json_freep) struct hk_json *lj = NULL;
		char name[300];

		snprintf(name, sizeof(name), "%s/layer.tar", chain[i]);
		if ((r = take_layer(c, img, name, "repositories", err)) < 0)
			goto out;
		hk_json_push(ids, hk_json_new_string(img->layers[img->n_layers - 1]->diff_id));
		snprintf(name, sizeof(name), "%s/json", chain[i]);
		if (hk_collected_json(c, name, &lj, err) == 0)
			hk_json_push(history, legacy_history(lj));
	}
	hk_json_write(&b, cfg);
	img->config = hk_buf_detach(&b);
	img->config_len = strlen(img->config);
out:
	for (size_t i = 0; i < n; i++)
		free(chain[i]);
	return r;
}

static int legacy_archive(const struct hk_collected *c, struct hk_found_image **ret, size_t *ret_n,
			  struct hk_error *err)
{
	_cleanup_(hk_json_freep) struct hk_json *repos = NULL;
	int r;

	if ((r = hk_collected_json(c, "repositories", &repos, err)) < 0)
		return r;
	for (size_t i = 0; i < repos->n && repos->type == HK_JSON_OBJECT; i++) {
		const struct hk_json *tags = repos->items[i];

		for (size_t j = 0; j < tags->n && tags->type == HK_JSON_OBJECT; j++) {
			char ref[300];
			struct hk_found_image *img = NULL;

			if (tags->items[j]->type != HK_JSON_STRING)
				return hk_error_setx(err, -EINVAL, "repositories: %s:%s: not an id",
						     repos->keys[i], tags->keys[j]);
			/* Two tags of one top layer are one image. */
			for (size_t k = 0; k < *ret_n && !img; k++)
				if ((*ret)[k].n_layers &&
				    strncmp((*ret)[k].layers[(*ret)[k].n_layers - 1]->name,
					    tags->items[j]->text,
					    strlen(tags->items[j]->text)) == 0)
					img = &(*ret)[k];
			if (!img) {
				if ((r = legacy_image(c, tags->items[j]->text, ret, ret_n, err)) <
				    0)
					return r;
				img = &(*ret)[*ret_n - 1];
			}
			snprintf(ref, sizeof(ref), "%s:%s", repos->keys[i], tags->keys[j]);
			add_name(img, ref, "docker.io");
		}
	}
	if (*ret_n == 0)
		return hk_error_setx(err, -ENOENT, "repositories: names no image");
	return 0;
}

int hk_formats_find(const struct hk_collected *c, const struct hk_load_opts *o,
		    struct hk_found_image **ret, size_t *ret_n, struct hk_error *err)
{
	int r;

	*ret = NULL;
	*ret_n = 0;
	if (hk_collected_file(c, "manifest.json")) {
		hk_debug("docker-archive: manifest.json");
		r = docker_archive(c, ret, ret_n, err);
	} else if (hk_collected_file(c, "index.json")) {
		_cleanup_(hk_json_freep) struct hk_json *index = NULL;
		hk_debug("OCI image layout: index.json");
		if ((r = hk_collected_json(c, "index.json", &index, err)) >= 0)
			r = oci_index(c, index, 0, NULL, o, ret, ret_n, err);
		if (r < 0 && !strstr(err->msg, "index.json"))
			hk_error_prefix(err, "index.json");
	} else if (hk_collected_file(c, "repositories")) {
		hk_debug("legacy docker-archive: repositories and <id>/json, no manifest.json");
		r = legacy_archive(c, ret, ret_n, err);
	} else {
		return hk_error_setx(err, -EINVAL,
				     "not an image archive: no manifest.json, index.json or "
				     "repositories in it (a rootfs tar is imported with hakoctl "
				     "import)");
	}
	if (r < 0) {
		hk_found_images_free(*ret, *ret_n);
		*ret = NULL;
		*ret_n = 0;
	}
	return r;
}

void hk_found_images_free(struct hk_found_image *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++) {
		free(v[i].config);
		free(v[i].layers);
		hk_strv_free(v[i].names);
	}
	free(v);
}
