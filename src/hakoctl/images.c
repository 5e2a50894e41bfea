// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The images in the store: images, inspect, history, tag, rmi, prune and
 * system df. Listing reads names.json and each image's config, nothing more,
 * so it stays fast with many images.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "commands.h"
#include "container.h"
#include "fsutil.h"
#include "ref.h"
#include "util.h"

/* Every image id in the store ("sha256:<hex>"), in directory order. */
static char **image_ids(struct hk_store *s)
{
	_cleanup_close_ int fd = openat(s->dirfd, "images", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	char **v = hk_xmalloc(sizeof(char *));
	size_t n = 0;
	DIR *dir;

	v[0] = NULL;
	if (fd < 0 || !(dir = fdopendir(fd)))
		return v;
	fd = -1;
	for (struct dirent *de; (de = readdir(dir));) {
		if (strlen(de->d_name) != 64)
			continue;
		v = hk_xrealloc(v, (n + 2) * sizeof(char *));
		v[n] = hk_xmalloc(72);
		snprintf(v[n++], 72, "sha256:%s", de->d_name);
		v[n] = NULL;
	}
	closedir(dir);
	return v;
}

static unsigned long long image_size(struct hk_store *s, const struct hk_json *cfg)
{
	_cleanup_free_ const char **ids = NULL;
	struct hk_error err = {0};
	unsigned long long total = 0;
	size_t n;

	if (hk_image_diff_ids(cfg, &ids, &n, &err) < 0)
		return 0;
	for (size_t i = 0; i < n; i++)
		total += hk_store_layer_size(s, ids[i]);
	return total;
}

struct row {
	const char *repo_tag; /* the full reference, or NULL: <none> */
	const char *id;
};

static void print_row(struct hk_store *s, const struct row *r, const struct hk_json *cfg,
		      bool quiet, bool no_trunc, bool json, bool first)
{
	char repo[300], size[32], ago[64];
	const char *tag = "<none>";

	if (quiet) {
		printf("%.*s\n", no_trunc ? 71 : 12, no_trunc ? r->id : r->id + 7);
		return;
	}
	snprintf(repo, sizeof(repo), "<none>");
	if (r->repo_tag)
		hk_ref_split(r->repo_tag, repo, sizeof(repo), &tag);
	ctl_human_size(image_size(s, cfg), size, sizeof(size));
	if (json) {
		struct hk_buf b = HK_BUF_INIT;
		hk_buf_addf(&b, "%s\n  {\"Id\": ", first ? "" : ",");
		hk_buf_add_json_string(&b, r->id + 7);
		hk_buf_adds(&b, ", \"Names\": [");
		if (r->repo_tag)
			hk_buf_add_json_string(&b, r->repo_tag);
		hk_buf_addf(&b, "], \"Size\": %llu, \"Created\": ", image_size(s, cfg));
		hk_buf_add_json_string(&b, hk_json_get_string(cfg, "created")
					       ? hk_json_get_string(cfg, "created")
					       : "");
		hk_buf_adds(&b, "}");
		fputs(b.buf, stdout);
		hk_buf_release(&b);
		return;
	}
	ctl_human_ago(hk_json_get_string(cfg, "created"), ago, sizeof(ago));
	printf("%-40s %-10s %-12.*s  %-15s %s\n", repo, tag, no_trunc ? 71 : 12,
	       no_trunc ? r->id : r->id + 7, ago, size);
}

struct listed {
	const char *id;
	struct hk_json *cfg; /* NULL: unreadable, listed last and not shown */
};

static int newest_first(const void *a, const void *b)
{
	const struct listed *x = a, *y = b;
	const char *cx = x->cfg ? hk_json_get_string(x->cfg, "created") : NULL;
	const char *cy = y->cfg ? hk_json_get_string(y->cfg, "created") : NULL;

	if (!x->cfg || !y->cfg)
		return !x->cfg - !y->cfg;
	/* RFC 3339 in UTC ("...Z") sorts as text. */
	return strcmp(cy ? cy : "", cx ? cx : "");
}

int ctl_images(const struct ctl_globals *g, int argc, char **argv, struct hk_error *err)
{
	static const struct option opts[] = {
	    {"quiet", no_argument, NULL, 'q'},
	    {"digests", no_argument, NULL, 'D'},
	    {"no-trunc", no_argument, NULL, 'n'},
	    {"format", required_argument, NULL, 'f'},
	    {NULL, 0, NULL, 0},
	};
	_cleanup_(hk_json_freep) struct hk_json *names = NULL;
	_cleanup_(hk_strv_freep) char **ids = NULL;
	bool quiet = false, no_trunc = false, json = false, first = true;
	struct listed *imgs = NULL;
	struct hk_store s;
	size_t n;
	int c, r;

	optind = 0;
	while ((c = getopt_long(argc, argv, "+qa", opts, NULL)) != -1)
		switch (c) {
		case 'q':
			quiet = true;
			break;
		case 'D':
		case 'n':
			no_trunc = true;
			break;
		case 'a':
			break;
		case 'f':
			if ((r = ctl_parse_format(optarg, &json, err)) < 0)
				return r;
			break;
		default:
			return hk_error_setx(err, -EINVAL, "see hakoctl images --help");
		}
	if ((r = ctl_store_open(g, &s, err)) < 0)
		return r;
	if ((r = hk_store_names(&s, &names, err)) < 0)
		goto out;
	ids = image_ids(&s);
	n = hk_strv_len(ids);
	imgs = calloc(n + 1, sizeof(*imgs));
	for (size_t i = 0; i < n; i++) {
		imgs[i].id = ids[i];
		if (hk_store_image_config(&s, ids[i], &imgs[i].cfg, err) < 0)
			hk_error_clear(err);
	}
	/* Newest first, as docker and podman list them. */
	qsort(imgs, n, sizeof(*imgs), newest_first);
	if (json)
		printf("[");
	else if (!quiet)
		printf("%-40s %-10s %-12s  %-15s %s\n", "REPOSITORY", "TAG", "IMAGE ID", "CREATED",
		       "SIZE");
	for (size_t k = 0; k < n && imgs[k].cfg; k++) {
		bool named = false;

		for (size_t i = 0; i < names->n; i++)
			if (hk_names_point_at(names, i, imgs[k].id)) {
				print_row(&s, &(struct row){names->keys[i], imgs[k].id},
					  imgs[k].cfg, quiet, no_trunc, json, first);
				first = false;
				named = true;
				if (quiet)
					break;
			}
		if (!named) {
			print_row(&s, &(struct row){NULL, imgs[k].id}, imgs[k].cfg, quiet, no_trunc,
				  json, first);
			first = false;
		}
	}
	for (size_t i = 0; i < n; i++)
		hk_json_free(imgs[i].cfg);
	free(imgs);
	if (json)
		printf("\n]\n");
out:
	hk_store_close(&s);
	return r < 0 ? r : 0;
}

int ctl_inspect(const struct ctl_globals *g, int argc, char **argv, struct hk_error *err)
{
	_cleanup_(hk_json_freep) struct hk_json *names = NULL;
	struct hk_store s;
	struct hk_buf b = HK_BUF_INIT;
	int r;

	if (argc < 2)
		return hk_error_setx(err, -EINVAL, "expected IMAGE...");
	if ((r = ctl_store_open(g, &s, err)) < 0)
		return r;
	if ((r = hk_store_names(&s, &names, err)) < 0)
		goto out;
	hk_buf_adds(&b, "[");
	for (int i = 1; i < argc; i++) {
		_cleanup_(hk_json_freep) struct hk_json *cfg = NULL;
		_cleanup_(hk_json_freep) struct hk_json *o = hk_json_new(HK_JSON_OBJECT);
		char id[HK_DIGEST_MAX];
		struct hk_json *tags, *layers;
		struct hk_ctr c;

		/* A container first, as docker's inspect: then an image. */
		if ((r = hk_ctr_find(&s, ctl_run_dir(g), argv[i], &c, err)) == 0) {
			struct hk_json *cj = ctl_container_json(g, &s, &c);
			hk_ctr_free(&c);
			if (i > 1)
				hk_buf_adds(&b, ",");
			hk_json_write_pretty(&b, cj);
			hk_json_free(cj);
			continue;
		}
		if (r != -ENOENT)
			goto out;
		hk_error_clear(err);
		if ((r = hk_store_resolve(&s, argv[i], id, err)) < 0 ||
		    (r = hk_store_image_config(&s, id, &cfg, err)) < 0)
			goto out;
		hk_json_set(o, "Id", hk_json_new_string(id));
		tags = hk_json_child(o, "RepoTags", HK_JSON_ARRAY);
		for (size_t j = 0; j < names->n; j++)
			if (hk_names_point_at(names, j, id))
				hk_json_push(tags, hk_json_new_string(names->keys[j]));
		hk_json_set(o, "Size", hk_json_new_int((long long)image_size(&s, cfg)));
		layers = hk_json_get(hk_json_get(cfg, "rootfs"), "diff_ids");
		hk_json_set(o, "Layers", hk_json_new(HK_JSON_ARRAY));
		for (size_t j = 0; layers && j < layers->n; j++)
			hk_json_push(hk_json_get(o, "Layers"),
				     hk_json_new_string(layers->items[j]->text));
		/* The config itself, moved into the answer. */
		hk_json_set(o, "Config", TAKE_PTR(cfg));
		if (i > 1)
			hk_buf_adds(&b, ",");
		hk_json_write_pretty(&b, o);
	}
	hk_buf_adds(&b, "]\n");
	fputs(b.buf, stdout);
out:
	hk_buf_release(&b);
	hk_store_close(&s);
	return r < 0 ? r : 0;
}

int ctl_history(const struct ctl_globals *g, int argc, char **argv, struct hk_error *err)
{
	_cleanup_(hk_json_freep) struct hk_json *cfg = NULL;
	bool no_trunc = argc > 2 && strcmp(argv[1], "--no-trunc") == 0;
	const struct hk_json *h;
	char id[HK_DIGEST_MAX];
	struct hk_store s;
	int r;

	if (argc != 2 + no_trunc)
		return hk_error_setx(err, -EINVAL, "expected [--no-trunc] IMAGE");
	if ((r = ctl_store_open(g, &s, err)) < 0)
		return r;
	if ((r = hk_store_resolve(&s, argv[argc - 1], id, err)) < 0 ||
	    (r = hk_store_image_config(&s, id, &cfg, err)) < 0)
		goto out;
	printf("%-25s %-60s %s\n", "CREATED", "CREATED BY", "COMMENT");
	h = hk_json_get(cfg, "history");
	for (size_t i = h && h->type == HK_JSON_ARRAY ? h->n : 0; i-- > 0;) {
		const char *by = hk_json_get_string(h->items[i], "created_by"),
			   *comment = hk_json_get_string(h->items[i], "comment");
		char ago[64];

		ctl_human_ago(hk_json_get_string(h->items[i], "created"), ago, sizeof(ago));
		printf("%-25s %-60.*s %s\n", ago, no_trunc ? 4096 : 60, by ? by : "",
		       comment ? comment : "");
	}
out:
	hk_store_close(&s);
	return r < 0 ? r : 0;
}

int ctl_tag(const struct ctl_globals *g, int argc, char **argv, struct hk_error *err)
{
	char id[HK_DIGEST_MAX], full[300];
	struct hk_store s;
	int r;

	if (argc < 3)
		return hk_error_setx(err, -EINVAL, "expected IMAGE NAME[:TAG]...");
	if ((r = ctl_store_open(g, &s, err)) < 0)
		return r;
	if ((r = hk_store_lock(&s, err)) < 0)
		goto out;
	if ((r = hk_store_resolve(&s, argv[1], id, err)) >= 0)
		for (int i = 2; i < argc && r >= 0; i++)
			if ((r = hk_ref_normalize(argv[i], "localhost", full, sizeof(full), err)) >=
			    0)
				r = hk_store_tag(&s, full, id, err);
	hk_store_unlock(&s);
out:
	hk_store_close(&s);
	return r < 0 ? r : 0;
}
