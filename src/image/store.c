// SPDX-License-Identifier: GPL-2.0-or-later
/* The image store (store.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "decode.h"
#include "fsutil.h"
#include "log.h"
#include "paths.h"
#include "ref.h"
#include "store.h"
#include "util.h"

#define MAX_CONFIG (16 << 20)

static const char *hex_of(const char *digest)
{
	return strncmp(digest, "sha256:", 7) == 0 ? digest + 7 : digest;
}

static bool is_hex64(const char *s)
{
	return strlen(s) == 64 && strspn(s, "0123456789abcdef") == 64;
}

/*
 * Staging areas of loads that died: their lock file is no longer held. A
 * load puts its lock file in place already locked (made as an O_TMPFILE,
 * locked, then linked in) before it makes tmp/X, so an unlocked tmp/X.lock,
 * or a tmp/X without one, is a dead load's: a kill -9 can fall between any
 * two of these steps.
 */
static void clear_stale_staging(int tmpfd)
{
	DIR *dir = fdopendir(dup(tmpfd));
	char base[300], lock[310];

	if (!dir)
		return;
	for (struct dirent *de; (de = readdir(dir));) {
		size_t n = strlen(de->d_name);
		int fd;

		if (de->d_name[0] == '.')
			continue;
		snprintf(base, sizeof(base), "%.*s",
			 n > 5 && strcmp(de->d_name + n - 5, ".lock") == 0 ? (int)(n - 5) : (int)n,
			 de->d_name);
		snprintf(lock, sizeof(lock), "%s.lock", base);
		fd = openat(tmpfd, lock, O_RDWR | O_CLOEXEC);
		if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) < 0) {
			close(fd); /* its load is running */
			continue;
		}
		hk_debug("removing the staging of a load that died: tmp/%s", base);
		hk_rm_rf_at(tmpfd, base);
		if (fd >= 0) {
			unlinkat(tmpfd, lock, 0);
			close(fd);
		}
	}
	closedir(dir);
}

int hk_store_open(const char *root, struct hk_store *s, struct hk_error *err)
{
	static const char *const dirs[] = {"layers", "images", "tmp", "containers"};
	_cleanup_close_ int tmpfd = -1;
	int r;

	*s = (struct hk_store){.dirfd = -1, .lockfd = -1, .stagefd = -1, .stage_lockfd = -1};
	if ((r = hk_mkdir_p(root, 0700, err)) < 0)
		return hk_error_prefix(err, "image store");
	s->dirfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (s->dirfd < 0)
		return hk_error_set(err, -errno, "image store \"%s\"", root);
	s->root = hk_xstrdup(root);
	for (size_t i = 0; i < ARRAY_SIZE(dirs); i++) {
		if (mkdirat(s->dirfd, dirs[i], 0700) == 0) {
			/*
			 * Containers come and go, each a few dirs, and a load's
			 * staging dir holds a whole layer's tree: spread over
			 * ext4's block groups, away from what other programs
			 * make and remove, they do not land where every new
			 * inode is searched for past all the recently freed ones
			 * (ext4 without a journal reuses none for a while:
			 * recently_deleted()).
			 */
			if (strcmp(dirs[i], "containers") == 0 || strcmp(dirs[i], "tmp") == 0)
				hk_dir_mark_topdir(s->dirfd, dirs[i]);
		} else if (errno != EEXIST) {
			return hk_error_set(err, -errno, "image store: mkdir \"%s/%s\"", root,
					    dirs[i]);
		}
	}
	s->lockfd = openat(s->dirfd, "lock", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (s->lockfd < 0)
		return hk_error_set(err, -errno, "image store: \"%s/lock\"", root);
	tmpfd = openat(s->dirfd, "tmp", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (tmpfd >= 0)
		clear_stale_staging(tmpfd);
	return 0;
}

static void drop_stage(struct hk_store *s)
{
	_cleanup_close_ int tmpfd = -1;
	char lock[80];

	if (s->stage_lockfd < 0)
		return;
	tmpfd = openat(s->dirfd, "tmp", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (s->stagefd >= 0)
		close(s->stagefd);
	hk_rm_rf_at(tmpfd, s->stage);
	snprintf(lock, sizeof(lock), "%s.lock", s->stage);
	unlinkat(tmpfd, lock, 0);
	close(s->stage_lockfd);
	s->stagefd = s->stage_lockfd = -1;
}

void hk_store_close(struct hk_store *s)
{
	drop_stage(s);
	if (s->lockfd >= 0)
		close(s->lockfd);
	if (s->dirfd >= 0)
		close(s->dirfd);
	free(s->root);
	*s = (struct hk_store){.dirfd = -1, .lockfd = -1, .stagefd = -1, .stage_lockfd = -1};
}

int hk_store_lock(struct hk_store *s, struct hk_error *err)
{
	if (s->locked++)
		return 0;
	while (flock(s->lockfd, LOCK_EX) < 0)
		if (errno != EINTR) {
			s->locked = 0;
			return hk_error_set(err, -errno, "lock the image store");
		}
	return 0;
}

void hk_store_unlock(struct hk_store *s)
{
	if (s->locked && --s->locked == 0)
		flock(s->lockfd, LOCK_UN);
}

static int make_stage(struct hk_store *s, struct hk_error *err)
{
	_cleanup_close_ int tmpfd = openat(s->dirfd, "tmp", O_PATH | O_DIRECTORY | O_CLOEXEC);
	unsigned char rnd[8];
	char lock[80], fdp[32];

	if (tmpfd < 0 || getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd))
		return hk_error_set(err, -errno, "image store: staging");
	snprintf(s->stage, sizeof(s->stage), "load-%d-%02x%02x%02x%02x%02x%02x%02x%02x",
		 (int)getpid(), rnd[0], rnd[1], rnd[2], rnd[3], rnd[4], rnd[5], rnd[6], rnd[7]);
	snprintf(lock, sizeof(lock), "%s.lock", s->stage);
	/*
	 * The lock first, and locked before anyone can see it (see
	 * clear_stale_staging()): a nameless file, locked, then linked in.
	 */
	s->stage_lockfd = openat(tmpfd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (s->stage_lockfd < 0 || flock(s->stage_lockfd, LOCK_EX) < 0 ||
	    linkat(AT_FDCWD, hk_fd_path(s->stage_lockfd, fdp), tmpfd, lock, AT_SYMLINK_FOLLOW) <
		0 ||
	    mkdirat(tmpfd, s->stage, 0700) < 0)
		return hk_error_set(err, -errno, "image store: staging \"tmp/%s\"", s->stage);
	s->stagefd = openat(tmpfd, s->stage, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (s->stagefd < 0)
		return hk_error_set(err, -errno, "image store: staging \"tmp/%s\"", s->stage);
	return 0;
}

int hk_store_stage_layer(struct hk_store *s, char *ret_name, size_t size, int *ret_fd,
			 struct hk_error *err)
{
	_cleanup_close_ int fd = -1;
	int r;

	if (s->stagefd < 0 && (r = make_stage(s, err)) < 0)
		return r;
	snprintf(ret_name, size, "%u", s->staged++);
	if (mkdirat(s->stagefd, ret_name, 0700) < 0 ||
	    (fd = openat(s->stagefd, ret_name, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0 ||
	    mkdirat(fd, "diff", 0755) < 0)
		return hk_error_set(err, -errno, "image store: staging a layer");
	*ret_fd = openat(fd, "diff", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (*ret_fd < 0)
		return hk_error_set(err, -errno, "image store: staging a layer");
	return 0;
}

int hk_store_commit_layer(struct hk_store *s, const char *name, const char *diff_id, uint64_t size,
			  struct hk_error *err)
{
	_cleanup_close_ int fd = -1, layers = -1;
	char target[80], text[32];
	int r;

	if (!is_hex64(hex_of(diff_id)))
		return hk_error_setx(err, -EINVAL, "layer \"%s\": not a sha256 digest", diff_id);
	fd = openat(s->stagefd, name, O_PATH | O_DIRECTORY | O_CLOEXEC);
	layers = openat(s->dirfd, "layers", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || layers < 0)
		return hk_error_set(err, -errno, "image store: commit layer %s", diff_id);
	snprintf(text, sizeof(text), "%" PRIu64 "\n", size);
	if ((r = hk_write_atomic_at(fd, "size", text, strlen(text), err)) < 0)
		return r;
	snprintf(target, sizeof(target), "%s", hex_of(diff_id));
	if (renameat(s->stagefd, name, layers, target) == 0) {
		hk_debug("layer %s committed", diff_id);
		return 0;
	}
	if (errno != EEXIST && errno != ENOTEMPTY)
		return hk_error_set(err, -errno, "image store: commit layer %s", diff_id);
	hk_debug("layer %s is in the store already: the staged copy is dropped", diff_id);
	hk_rm_rf_at(s->stagefd, name);
	return 0;
}

bool hk_store_has_layer(struct hk_store *s, const char *diff_id)
{
	const char *hex = hex_of(diff_id);
	char path[128];

	if (!is_hex64(hex))
		return false;
	snprintf(path, sizeof(path), "layers/%s/size", hex);
	return faccessat(s->dirfd, path, F_OK, 0) == 0;
}

uint64_t hk_store_layer_size(struct hk_store *s, const char *diff_id)
{
	_cleanup_free_ char *text = NULL;
	struct hk_error err = {0};
	char path[128];

	snprintf(path, sizeof(path), "layers/%s/size", hex_of(diff_id));
	if (hk_read_file_at(s->dirfd, path, 32, &text, NULL, &err) < 0)
		return 0;
	return strtoull(text, NULL, 10);
}

int hk_image_diff_ids(const struct hk_json *cfg, const char ***ret, size_t *ret_n,
		      struct hk_error *err)
{
	const struct hk_json *ids = hk_json_get(hk_json_get(cfg, "rootfs"), "diff_ids");
	const char **v;

	if (!ids || ids->type != HK_JSON_ARRAY)
		return hk_error_setx(err, -EINVAL, "image config: no rootfs.diff_ids");
	v = hk_xmalloc((ids->n + 1) * sizeof(*v));
	for (size_t i = 0; i < ids->n; i++) {
		if (ids->items[i]->type != HK_JSON_STRING ||
		    !is_hex64(hex_of(ids->items[i]->text))) {
			free(v);
			return hk_error_setx(
			    err, -EINVAL, "image config: rootfs.diff_ids[%zu]: not a sha256 digest",
			    i);
		}
		v[i] = ids->items[i]->text;
	}
	v[ids->n] = NULL;
	*ret = v;
	*ret_n = ids->n;
	return 0;
}

int hk_store_put_image(struct hk_store *s, const char *config, size_t len, char *ret_id,
		       struct hk_error *err)
{
	_cleanup_(hk_json_freep) struct hk_json *cfg = NULL;
	_cleanup_free_ const char **ids = NULL;
	_cleanup_close_ int images = -1;
	const char *dup;
	size_t n;
	int r;

	if ((r = hk_json_parse(config, len, &cfg, err)) < 0)
		return hk_error_prefix(err, "image config");
	if ((dup = hk_json_duplicate_key(cfg)))
		return hk_error_setx(err, -EINVAL, "image config: duplicate key \"%s\"", dup);
	if (cfg->type != HK_JSON_OBJECT)
		return hk_error_setx(err, -EINVAL, "image config: not a JSON object");
	if ((r = hk_image_diff_ids(cfg, &ids, &n, err)) < 0)
		return r;
	for (size_t i = 0; i < n; i++)
		if (!hk_store_has_layer(s, ids[i]))
			return hk_error_setx(err, -ENOENT,
					     "image config: layer %s is not in the store", ids[i]);
	hk_sha256_digest(config, len, ret_id);
	images = openat(s->dirfd, "images", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (images < 0)
		return hk_error_set(err, -errno, "image store: images");
	return hk_write_atomic_at(images, hex_of(ret_id), config, len, err);
}

int hk_store_image_config(struct hk_store *s, const char *id, struct hk_json **ret,
			  struct hk_error *err)
{
	_cleanup_free_ char *text = NULL;
	char path[128];
	size_t len;
	int r;

	snprintf(path, sizeof(path), "images/%s", hex_of(id));
	if ((r = hk_read_regular_file_at(s->dirfd, path, MAX_CONFIG, &text, &len, err)) < 0)
		return hk_error_prefix(err, "image %s", id);
	if ((r = hk_json_parse(text, len, ret, err)) < 0)
		return hk_error_prefix(err, "image %s: config", id);
	return 0;
}

int hk_store_names(struct hk_store *s, struct hk_json **ret, struct hk_error *err)
{
	_cleanup_free_ char *text = NULL;
	size_t len;
	int r;

	r = hk_read_regular_file_at(s->dirfd, "names.json", MAX_CONFIG, &text, &len, err);
	if (r == -ENOENT) {
		hk_error_clear(err);
		*ret = hk_json_new(HK_JSON_OBJECT);
		return 0;
	}
	if (r < 0 || (r = hk_json_parse(text, len, ret, err)) < 0)
		return hk_error_prefix(err, "image store: names.json");
	if ((*ret)->type != HK_JSON_OBJECT) {
		hk_json_free(*ret);
		return hk_error_setx(err, -EINVAL, "image store: names.json: not an object");
	}
	return 0;
}

int hk_store_save_names(struct hk_store *s, const struct hk_json *names, struct hk_error *err)
{
	struct hk_buf b = HK_BUF_INIT;
	int r;

	hk_json_write_pretty(&b, names);
	r = hk_write_atomic_at(s->dirfd, "names.json", b.buf, b.len, err);
	hk_buf_release(&b);
	return r;
}

int hk_store_tag(struct hk_store *s, const char *ref, const char *id, struct hk_error *err)
{
	_cleanup_(hk_json_freep) struct hk_json *names = NULL;
	int r;

	if ((r = hk_store_names(s, &names, err)) < 0)
		return r;
	hk_json_set(names, ref, hk_json_new_string(id));
	return hk_store_save_names(s, names, err);
}

/* A unique image whose id starts with prefix (hex), as docker allows. */
static int resolve_prefix(struct hk_store *s, const char *prefix, char *ret_id,
			  struct hk_error *err)
{
	_cleanup_close_ int fd = openat(s->dirfd, "images", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	size_t n = strlen(prefix), found = 0;
	DIR *dir;

	if (fd < 0 || !(dir = fdopendir(fd)))
		return hk_error_set(err, -errno, "image store: images");
	fd = -1;
	for (struct dirent *de; (de = readdir(dir));)
		if (is_hex64(de->d_name) && strncmp(de->d_name, prefix, n) == 0 && found++ == 0)
			snprintf(ret_id, HK_DIGEST_MAX, "sha256:%s", de->d_name);
	closedir(dir);
	if (found > 1)
		return hk_error_setx(err, -EINVAL, "image id prefix \"%s\" is ambiguous", prefix);
	return found ? 0 : -ENOENT;
}

int hk_store_resolve(struct hk_store *s, const char *name, char *ret_id, struct hk_error *err)
{
	_cleanup_(hk_json_freep) struct hk_json *names = NULL;
	const char *hex = hex_of(name), *ref;
	char full[300];
	int r;

	if (strlen(hex) >= 3 && strspn(hex, "0123456789abcdef") == strlen(hex) &&
	    (r = resolve_prefix(s, hex, ret_id, err)) != -ENOENT)
		return r;
	/*
	 * NAME@sha256:<hex>: the store keeps no registry manifests, so the digest
	 * is taken as the image's own (its config's), the id `images` shows.
	 */
	if (strstr(name, "@sha256:") &&
	    hk_ref_normalize(name, "docker.io", full, sizeof(full), err) == 0) {
		hex = strstr(name, "@sha256:") + 8;
		r = resolve_prefix(s, hex, ret_id, err);
		if (r == -ENOENT)
			return hk_error_setx(err, -ENOENT, "%s: image not known", name);
		return r;
	}
	if ((r = hk_store_names(s, &names, err)) < 0)
		return r;
	if ((r = hk_names_find(names, name, &ref, err)) == -ENOENT)
		return hk_error_setx(err, -ENOENT, "%s: image not known", name);
	if (r < 0)
		return r;
	snprintf(ret_id, HK_DIGEST_MAX, "%s", hk_json_get_string(names, ref));
	return 0;
}

int hk_names_find(const struct hk_json *names, const char *name, const char **ret_ref,
		  struct hk_error *err)
{
	char full[300];
	int r;

	for (int i = 0; i < 2; i++) {
		/* A short name: podman's short-name lookup, local first. */
		const char *domain = i == 0 ? "localhost" : "docker.io";

		if (i == 1 && hk_ref_has_domain(name))
			break;
		if ((r = hk_ref_normalize(name, domain, full, sizeof(full), err)) < 0)
			return r;
		for (size_t k = 0; k < names->n; k++)
			if (names->items[k]->type == HK_JSON_STRING &&
			    strcmp(names->keys[k], full) == 0) {
				*ret_ref = names->keys[k];
				return 0;
			}
	}
	return -ENOENT;
}

bool hk_names_point_at(const struct hk_json *names, size_t i, const char *id)
{
	return names->items[i]->type == HK_JSON_STRING && strcmp(names->items[i]->text, id) == 0;
}
