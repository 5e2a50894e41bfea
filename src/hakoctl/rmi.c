// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Taking images out: rmi, prune, and system df. All under the store's lock,
 * so that a load committing layers and an rmi collecting them never
 * interleave: a layer goes when no image config in the store names it.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "container.h"
#include "fsutil.h"
#include "ref.h"
#include "util.h"

struct use {
	struct hk_store *s;
	const char *id; /* the image asked about */
	unsigned containers;
};

static void count_container(const char *cid, void *data)
{
	struct use *u = data;
	_cleanup_free_ char *image = NULL;
	struct hk_error err = {0};
	char path[300];

	snprintf(path, sizeof(path), "containers/%s/image", cid);
	if (hk_read_file_at(u->s->dirfd, path, 128, &image, NULL, &err) == 0 &&
	    strncmp(image, u->id, strlen(u->id)) == 0)
		u->containers++;
}

/* Call fn for each name in the store's subdirectory dir. */
static void each_entry(struct hk_store *s, const char *dir, void (*fn)(const char *, void *),
		       void *data)
{
	int fd = openat(s->dirfd, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;

	if (!d) {
		if (fd >= 0)
			close(fd);
		return;
	}
	for (struct dirent *de; (de = readdir(d));)
		if (de->d_name[0] != '.' ||
		    /* A container being made uses its image already. */
		    (fn == count_container &&
		     strncmp(de->d_name, HK_CTR_NEW, strlen(HK_CTR_NEW)) == 0))
			fn(de->d_name, data);
	closedir(d);
}

/* How many containers (running or not) were made from image id. */
static unsigned containers_of(struct hk_store *s, const char *id)
{
	struct use u = {s, id, 0};

	each_entry(s, "containers", count_container, &u);
	return u.containers;
}

struct layer_use {
	struct hk_store *s;
	char **used; /* diff_ids named by some image */
	size_t n;
	unsigned removed;
	unsigned long long freed;
};

static void note_image_layers(const char *hex, void *data)
{
	struct layer_use *lu = data;
	_cleanup_(hk_json_freep) struct hk_json *cfg = NULL;
	_cleanup_free_ const char **ids = NULL;
	struct hk_error err = {0};
	size_t n;

	if (hk_store_image_config(lu->s, hex, &cfg, &err) < 0 ||
	    hk_image_diff_ids(cfg, &ids, &n, &err) < 0)
		return;
	for (size_t i = 0; i < n; i++) {
		lu->used = hk_xrealloc(lu->used, (lu->n + 1) * sizeof(char *));
		lu->used[lu->n++] = hk_xstrdup(ids[i] + 7);
	}
}

static void drop_unused_layer(const char *hex, void *data)
{
	struct layer_use *lu = data;
	_cleanup_close_ int layers = -1;
	char sha[300];

	for (size_t i = 0; i < lu->n; i++)
		if (strcmp(lu->used[i], hex) == 0)
			return;
	snprintf(sha, sizeof(sha), "sha256:%s", hex);
	lu->freed += hk_store_layer_size(lu->s, sha);
	layers = openat(lu->s->dirfd, "layers", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (hk_rm_rf_at(layers, hex) == 0)
		lu->removed++;
}

/* Under the lock: remove every layer that no image names. */
static void collect_layers(struct hk_store *s, unsigned *ret_removed, unsigned long long *ret_freed)
{
	struct layer_use lu = {.s = s};

	each_entry(s, "images", note_image_layers, &lu);
	each_entry(s, "layers", drop_unused_layer, &lu);
	for (size_t i = 0; i < lu.n; i++)
		free(lu.used[i]);
	free(lu.used);
	if (ret_removed)
		*ret_removed = lu.removed;
	if (ret_freed)
		*ret_freed = lu.freed;
}

static size_t names_of(const struct hk_json *names, const char *id)
{
	size_t n = 0;

	for (size_t i = 0; i < names->n; i++)
		n += hk_names_point_at(names, i, id);
	return n;
}

static void drop_names(struct hk_json *names, const char *id, const char *only)
{
	size_t k = 0;

	for (size_t i = 0; i < names->n; i++) {
		bool drop =
		    hk_names_point_at(names, i, id) && (!only || strcmp(names->keys[i], only) == 0);
		if (drop) {
			printf("Untagged: %s\n", names->keys[i]);
			hk_json_free(names->items[i]);
			free(names->keys[i]);
			continue;
		}
		names->items[k] = names->items[i];
		names->keys[k++] = names->keys[i];
	}
	names->n = k;
}

static int remove_one(struct hk_store *s, struct hk_json *names, const char *arg, bool force,
		      struct hk_error *err)
{
	char id[HK_DIGEST_MAX];
	const char *by_name = NULL;
	unsigned users;
	int r;

	if ((r = hk_store_resolve(s, arg, id, err)) < 0)
		return r;
	/* By name, with other names left: only that name goes. */
	if (hk_names_find(names, arg, &by_name, err) < 0 ||
	    strcmp(hk_json_get_string(names, by_name), id) != 0)
		by_name = NULL;
	hk_error_clear(err);
	if (by_name && names_of(names, id) > 1) {
		drop_names(names, id, by_name);
		return 0;
	}
	if (!by_name && names_of(names, id) > 1 && !force)
		return hk_error_setx(err, -EBUSY,
				     "image %.19s has several names: remove them one by one, or "
				     "use --force",
				     id);
	users = containers_of(s, id);
	if (users && !force)
		return hk_error_setx(err, -EBUSY,
				     "image %s is in use by %u container(s): remove them first, "
				     "or use --force to untag it",
				     arg, users);
	drop_names(names, id, NULL);
	if (!users) {
		_cleanup_close_ int images =
		    openat(s->dirfd, "images", O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (unlinkat(images, id + 7, 0) < 0 && errno != ENOENT)
			return hk_error_set(err, -errno, "remove image %s", id);
		printf("Deleted: %s\n", id);
	}
	return 0;
}

int ctl_rmi(const struct ctl_globals *g, int argc, char **argv, struct hk_error *err)
{
	_cleanup_(hk_json_freep) struct hk_json *names = NULL;
	bool force = false;
	struct hk_store s;
	int r, i = 1;

	if (i < argc && (!strcmp(argv[i], "-f") || !strcmp(argv[i], "--force"))) {
		force = true;
		i++;
	}
	if (i >= argc)
		return hk_error_setx(err, -EINVAL, "expected [-f] IMAGE...");
	if ((r = ctl_store_open(g, &s, err)) < 0)
		return r;
	if ((r = hk_store_lock(&s, err)) < 0 || (r = hk_store_names(&s, &names, err)) < 0)
		goto out;
	for (; i < argc && r >= 0; i++)
		r = remove_one(&s, names, argv[i], force, err);
	if (r >= 0 && (r = hk_store_save_names(&s, names, err)) >= 0)
		collect_layers(&s, NULL, NULL);
out:
	hk_store_unlock(&s);
	hk_store_close(&s);
	return r < 0 ? r : 0;
}

struct prune {
	struct hk_store *s;
	const struct hk_json *names;
	unsigned removed;
};

static void prune_image(const char *hex, void *data)
{
	struct prune *p = data;
	char id[300];
	_cleanup_close_ int images = -1;

	snprintf(id, sizeof(id), "sha256:%s", hex);
	if (names_of(p->names, id) || containers_of(p->s, id))
		return;
	images = openat(p->s->dirfd, "images", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (unlinkat(images, hex, 0) == 0) {
		printf("Deleted: %s\n", id);
		p->removed++;
	}
}

int ctl_prune(const struct ctl_globals *g, int argc, char **argv, struct hk_error *err)
{
	_cleanup_(hk_json_freep) struct hk_json *names = NULL;
	struct hk_store s;
	unsigned layers = 0;
	unsigned long long freed = 0;
	char size[32];
	int r;

	(void)argv;
	if (argc > 2)
		return hk_error_setx(err, -EINVAL, "expected no arguments");
	if ((r = ctl_store_open(g, &s, err)) < 0)
		return r;
	if ((r = hk_store_lock(&s, err)) >= 0 && (r = hk_store_names(&s, &names, err)) >= 0) {
		struct prune p = {&s, names, 0};
		each_entry(&s, "images", prune_image, &p);
		collect_layers(&s, &layers, &freed);
		ctl_human_size(freed, size, sizeof(size));
		printf("%u images and %u layers removed, %s\n", p.removed, layers, size);
	}
	hk_store_unlock(&s);
	hk_store_close(&s);
	return r < 0 ? r : 0;
}

struct df {
	struct hk_store *s;
	unsigned n;
	unsigned long long bytes;
};

static void df_layer(const char *hex, void *data)
{
	struct df *d = data;
	char sha[300];

	snprintf(sha, sizeof(sha), "sha256:%s", hex);
	d->n++;
	d->bytes += hk_store_layer_size(d->s, sha);
}

static void df_count(const char *name, void *data)
{
	(void)name;
	((struct df *)data)->n++;
}

int ctl_system(const struct ctl_globals *g, int argc, char **argv, struct hk_error *err)
{
	struct df layers = {0}, images = {0}, containers = {0};
	struct hk_store s;
	char size[32];
	int r;

	if (argc == 2 && strcmp(argv[1], "gc") == 0)
		return ctl_system_gc(g, err);
	if (argc != 2 || strcmp(argv[1], "df") != 0)
		return hk_error_setx(err, -EINVAL, "expected: system df, or system gc");
	if ((r = ctl_store_open(g, &s, err)) < 0)
		return r;
	layers.s = &s;
	each_entry(&s, "layers", df_layer, &layers);
	each_entry(&s, "images", df_count, &images);
	each_entry(&s, "containers", df_count, &containers);
	ctl_human_size(layers.bytes, size, sizeof(size));
	printf("%-12s %-8s %s\n", "TYPE", "TOTAL", "SIZE");
	printf("%-12s %-8u %s\n", "Images", images.n, size);
	printf("%-12s %-8u %s\n", "Layers", layers.n, size);
	printf("%-12s %-8u\n", "Containers", containers.n);
	hk_store_close(&s);
	return 0;
}
