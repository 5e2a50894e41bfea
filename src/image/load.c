// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Reading an image archive (load.h): every entry once, in the order the
 * archive has them. Small files (manifests, configs, "repositories") are kept
 * in memory; a layer is unpacked into a staging dir as it streams by, its
 * digests taken on the way. formats.c then reads the manifests, and what they
 * name is committed under the store's lock.
 */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "load-internal.h"
#include "pipe.h"
#include "log.h"
#include "unpack.h"
#include "util.h"

#define MAX_SMALL_FILE (16 << 20)

/* An entry's bytes, with what was peeked at put back in front. */
/* A bar for one layer on a terminal: bytes read of the entry, and the rate. */
struct bar {
	int fd;
	const char *name;
	uint64_t done;
	double t0, last;
};

struct entry_source {
	struct archive *a; /* the outer archive, or NULL for fd */
	int fd;
	const unsigned char *prefix;
	size_t prefix_len;
	uint64_t total; /* the entry's size, 0 when not known (a pipe) */
	struct bar *bar;
};

static double now(void);
static void bar_draw(const struct entry_source *es, double t);

static ssize_t entry_read(void *ctx, void *buf, size_t n, struct hk_error *err)
{
	struct entry_source *es = ctx;
	ssize_t r;

	if (es->prefix_len) {
		size_t k = es->prefix_len < n ? es->prefix_len : n;
		memcpy(buf, es->prefix, k);
		es->prefix += k;
		es->prefix_len -= k;
		return (ssize_t)k;
	}
	if (es->a) {
		r = archive_read_data(es->a, buf, n);
		if (r < 0)
			return err->code
				   ? err->code
				   : hk_error_setx(err, -EIO, "%s", archive_error_string(es->a));
	} else {
		do
			r = read(es->fd, buf, n);
		while (r < 0 && errno == EINTR);
		if (r < 0)
			return hk_error_set(err, -errno, "read");
	}
	if (es->bar && r > 0) {
		double t = now();
		es->bar->done += (uint64_t)r;
		if (t - es->bar->last > 0.1) {
			es->bar->last = t;
			bar_draw(es, t);
		}
	}
	return r;
}

static void bar_draw(const struct entry_source *es, double t)
{
	const struct bar *b = es->bar;
	double mb = (double)b->done / 1e6, rate = t > b->t0 ? mb / (t - b->t0) : 0;
	char bar[31];
	size_t fill = es->total ? (size_t)(30.0 * (double)b->done / (double)es->total) : 0;

	memset(bar, ' ', 30);
	memset(bar, '=', fill > 30 ? 30 : fill);
	bar[30] = '\0';
	if (es->total)
		dprintf(b->fd, "\r\033[K%-24.24s [%s] %7.1f/%.1f MB %6.1f MB/s", b->name, bar, mb,
			(double)es->total / 1e6, rate);
	else
		dprintf(b->fd, "\r\033[K%-24.24s %7.1f MB %6.1f MB/s", b->name, mb, rate);
}

/* Progress: a line per layer, or on a terminal one line redrawn. */
struct progress {
	const struct hk_load_opts *o;
	bool tty;
};

static void progress_layer(const struct progress *p, const struct hk_entry_layer *l,
			   enum hk_compression c, uint64_t in, double secs)
{
	if (!p->o || p->o->quiet || p->o->progress_fd < 0)
		return;
	dprintf(p->o->progress_fd, "%sLayer %.19s  %8.1f MB  %-12s %7.1f MB/s\n",
		p->tty ? "\r\033[K" : "", l->diff_id, (double)l->size / 1e6, hk_compression_name(c),
		secs > 0 ? (double)in / 1e6 / secs : 0.0);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static ssize_t decoder_read(void *ctx, void *buf, size_t n, struct hk_error *err)
{
	return hk_decoder_read(ctx, buf, n, err);
}

/* The unpacker's side of the pipe, hashing what it reads: the diff_id. */
struct hashed {
	struct hk_source src;
	struct hk_sha256 *sha;
};

static ssize_t hashed_read(void *ctx, void *buf, size_t n, struct hk_error *err)
{
	struct hashed *h = ctx;
	ssize_t got = h->src.read(h->src.ctx, buf, n, err);

	if (got > 0)
		hk_sha256_update(h->sha, buf, (size_t)got);
	return got;
}

/*
 * Unpack one layer from es into a new staging dir. One core decompresses
 * (and hashes the compressed blob); the other hashes the tar that comes out
 * and makes its files. The decompressor is what a load waits for, so it does
 * nothing else.
 */
static int stage_layer(struct hk_store *s, struct entry_source *es, const char *name,
		       const struct hk_load_opts *o, struct hk_entry_layer *l, struct hk_error *err)
{
	struct hk_source src = {entry_read, es};
	_cleanup_(hk_decoder_freep) struct hk_decoder *dec =
	    hk_decoder_new(src, o->max_bytes, true);
	struct hk_unpack_stats stats = {0};
	struct progress p = {o, o->progress_fd >= 0 && isatty(o->progress_fd)};
	_cleanup_close_ int fd = -1;
	double t0 = now();
	struct bar bar = {o->progress_fd, name, 0, t0, t0};
	struct hashed h;
	struct hk_pipe *pipe;
	int r;

	memset(l, 0, sizeof(*l));
	l->name = hk_xstrdup(name);
	if ((r = hk_store_stage_layer(s, l->stage, sizeof(l->stage), &fd, err)) < 0)
		return r;
	hk_debug("unpacking layer %s into staging dir %s", name, l->stage);
	if (p.tty && !o->quiet)
		es->bar = &bar;
	pipe = hk_pipe_start((struct hk_source){decoder_read, dec});
	h = (struct hashed){hk_pipe_source(pipe), hk_sha256_new()};
	r = hk_unpack_tar((struct hk_source){hashed_read, &h}, fd, &stats, err);
	hk_pipe_finish(pipe);
	hk_sha256_final(h.sha, l->diff_id);
	es->bar = NULL;
	if (r < 0)
		return hk_error_prefix(err, "layer \"%s\"", name);
	/* Uncompressed, the blob is the tar. */
	if (hk_decoder_compression(dec) == HK_COMPRESSION_NONE)
		memcpy(l->digest, l->diff_id, sizeof(l->digest));
	else
		hk_decoder_in_digest(dec, l->digest);
	l->size = hk_decoder_out_bytes(dec);
	if (stats.skipped_devices)
		hk_warn("layer \"%s\": %llu device nodes not made", name,
			(unsigned long long)stats.skipped_devices);
	progress_layer(&p, l, hk_decoder_compression(dec), hk_decoder_in_bytes(dec), now() - t0);
	return 0;
}

static bool has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* "blobs/sha256/<hex>": the hex, which the content must hash to. */
static const char *blob_hex(const char *name)
{
	const char *p = strstr(name, "blobs/sha256/");

	return p && (p == name || p[-1] == '/') ? p + strlen("blobs/sha256/") : NULL;
}

static int read_small(struct hk_source src, const char *name, struct hk_entry_file *f,
		      struct hk_error *err)
{
	struct hk_buf b = HK_BUF_INIT;
	char buf[64 * 1024];
	ssize_t n;

	while ((n = src.read(src.ctx, buf, sizeof(buf), err)) > 0) {
		if (b.len + (size_t)n > MAX_SMALL_FILE) {
			hk_buf_release(&b);
			return hk_error_setx(err, -EFBIG, "\"%s\": more than %d bytes", name,
					     MAX_SMALL_FILE);
		}
		hk_buf_add(&b, buf, (size_t)n);
	}
	if (n < 0) {
		hk_buf_release(&b);
		return hk_error_prefix(err, "\"%s\"", name);
	}
	f->name = hk_xstrdup(name);
	f->len = b.len;
	f->data = hk_buf_detach(&b);
	return 0;
}

static void *grow(void *v, size_t n, size_t size)
{
	return hk_xrealloc(v, (n + 1) * size);
}

/* The names of the small files of the formats (load.h). */
static bool small_by_name(const char *name)
{
	const char *base = strrchr(name, '/') ? strrchr(name, '/') + 1 : name;

	return has_suffix(name, ".json") || strcmp(base, "json") == 0 ||
	       strcmp(base, "VERSION") == 0 || strcmp(base, "repositories") == 0 ||
	       strcmp(base, "oci-layout") == 0;
}

/*
 * One regular entry. Small files (manifests, configs) are known by name;
 * layers by name and then content: docker writes "<id>/layer.tar", podman
 * "<digest>.tar", OCI "blobs/sha256/<digest>", which may be a JSON blob too,
 * told by its first byte. Anything else (a rootfs given to load) is skipped.
 */
static int collect_entry(struct hk_store *s, struct hk_collected *c, const char *name,
			 struct entry_source *es, const struct hk_load_opts *o,
			 struct hk_error *err)
{
	struct hk_source src = {entry_read, es};
	unsigned char peek[1];
	const char *hex = blob_hex(name);
	bool layer = false;
	ssize_t n;
	int r;

	if (!small_by_name(name)) {
		if (!hex && !has_suffix(name, ".tar"))
			return 0;
		if ((n = entry_read(es, peek, 1, err)) < 0)
			return hk_error_prefix(err, "\"%s\"", name);
		es->prefix = peek;
		es->prefix_len = (size_t)n;
		layer = n == 1 && peek[0] != '{' && peek[0] != '[';
	}
	if (layer) {
		c->layers = grow(c->layers, c->n_layers, sizeof(*c->layers));
		struct hk_entry_layer *l = &c->layers[c->n_layers++];
		if ((r = stage_layer(s, es, name, o, l, err)) < 0)
			return r;
		if (hex && strcmp(l->digest + 7, hex) != 0)
			return hk_error_setx(err, -EINVAL,
					     "\"%s\": digest does not match: its content is %s",
					     name, l->digest);
		return 0;
	}
	c->files = grow(c->files, c->n_files, sizeof(*c->files));
	if ((r = read_small(src, name, &c->files[c->n_files], err)) < 0)
		return r;
	c->n_files++;
	if (hex) {
		char d[HK_DIGEST_MAX];
		const struct hk_entry_file *f = &c->files[c->n_files - 1];

		hk_sha256_digest(f->data, f->len, d);
		if (strcmp(d + 7, hex) != 0)
			return hk_error_setx(err, -EINVAL,
					     "\"%s\": digest does not match: its content is %s",
					     name, d);
	}
	return 0;
}

/* "./a/b" and "a//b" as "a/b": archive tools differ in how they spell names. */
static void clean_entry_name(const char *raw, char *out, size_t size)
{
	size_t len = 0;

	for (const char *p = raw; *p && len + 1 < size;) {
		if (p[0] == '.' && p[1] == '/') {
			p += 2;
			continue;
		}
		if (*p == '/' && (len == 0 || out[len - 1] == '/')) {
			p++;
			continue;
		}
		out[len++] = *p++;
	}
	while (len && out[len - 1] == '/')
		len--;
	out[len] = '\0';
}

/* A symlink in the archive (docker 25 links <id>/layer.tar to its blob). */
static void collect_link(struct hk_collected *c, const char *name, const char *target)
{
	char full[4096], *slash;

	if (target[0] == '/')
		return;
	snprintf(full, sizeof(full), "%s", name);
	slash = strrchr(full, '/');
	for (*(slash ? slash + 1 : full) = '\0'; strncmp(target, "../", 3) == 0; target += 3) {
		size_t n = strlen(full);
		if (n && full[n - 1] == '/')
			full[n - 1] = '\0';
		slash = strrchr(full, '/');
		*(slash ? slash + 1 : full) = '\0';
	}
	strncat(full, target, sizeof(full) - strlen(full) - 1);
	c->links = grow(c->links, c->n_links, sizeof(*c->links));
	c->links[c->n_links].name = hk_xstrdup(name);
	c->links[c->n_links++].target = hk_xstrdup(full);
}

struct outer_reader {
	struct hk_decoder *dec;
	struct hk_error *err;
	char buf[128 * 1024];
};

static la_ssize_t outer_read(struct archive *a, void *data, const void **ret)
{
	struct outer_reader *rd = data;
	ssize_t n = hk_decoder_read(rd->dec, rd->buf, sizeof(rd->buf), rd->err);

	if (n < 0) {
		archive_set_error(a, EIO, "%s", rd->err->msg);
		return -1;
	}
	*ret = rd->buf;
	return n;
}

static int collect_tar(struct hk_store *s, int fd, const char *what, struct hk_collected *c,
		       const struct hk_load_opts *o, struct hk_error *err)
{
	struct entry_source fds = {.fd = fd};
	_cleanup_(hk_decoder_freep) struct hk_decoder *dec =
	    hk_decoder_new((struct hk_source){entry_read, &fds}, o->max_bytes, false);
	_cleanup_free_ struct outer_reader *rd = hk_xmalloc(sizeof(*rd));
	struct archive *a = archive_read_new();
	struct archive_entry *e;
	char name[4096];
	int r = 0, ar;

	rd->dec = dec;
	rd->err = err;
	archive_read_support_format_tar(a);
	archive_read_support_format_gnutar(a);
	if (archive_read_open(a, rd, NULL, outer_read, NULL) != ARCHIVE_OK)
		goto bad;
	while ((ar = archive_read_next_header(a, &e)) == ARCHIVE_OK || ar == ARCHIVE_WARN) {
		struct entry_source es = {.a = a, .total = (uint64_t)archive_entry_size(e)};

		clean_entry_name(archive_entry_pathname(e) ? archive_entry_pathname(e) : "", name,
				 sizeof(name));
		if (archive_entry_filetype(e) == AE_IFLNK)
			collect_link(c, name, archive_entry_symlink(e));
		else if (archive_entry_filetype(e) == AE_IFREG &&
			 (r = collect_entry(s, c, name, &es, o, err)) < 0)
			goto out;
	}
	if (ar != ARCHIVE_EOF)
		goto bad;
	r = hk_decoder_drain(dec, err);
	goto out;
bad:
	r = err->code
		? err->code
		: hk_error_setx(err, -EINVAL, "not a tar archive: %s", archive_error_string(a));
out:
	archive_read_free(a);
	return r < 0 ? hk_error_prefix(err, "%s", what) : 0;
}

/* name, with the archive's symlinks followed (at most 8 of them). */
static const char *follow_links(const struct hk_collected *c, const char *name)
{
	for (int hops = 0; hops < 8; hops++) {
		const char *next = NULL;

		for (size_t i = 0; i < c->n_links && !next; i++)
			if (strcmp(c->links[i].name, name) == 0)
				next = c->links[i].target;
		if (!next)
			return name;
		name = next;
	}
	return NULL;
}

const struct hk_entry_file *hk_collected_file(const struct hk_collected *c, const char *name)
{
	name = follow_links(c, name);
	for (size_t i = 0; name && i < c->n_files; i++)
		if (strcmp(c->files[i].name, name) == 0)
			return &c->files[i];
	return NULL;
}

struct hk_entry_layer *hk_collected_layer(const struct hk_collected *c, const char *name)
{
	name = follow_links(c, name);
	for (size_t i = 0; name && i < c->n_layers; i++)
		if (strcmp(c->layers[i].name, name) == 0)
			return &c->layers[i];
	return NULL;
}

int hk_collected_json(const struct hk_collected *c, const char *name, struct hk_json **ret,
		      struct hk_error *err)
{
	const struct hk_entry_file *f = hk_collected_file(c, name);
	const char *dup;
	int r;

	if (!f)
		return hk_error_setx(err, -ENOENT, "\"%s\": not in the archive", name);
	if ((r = hk_json_parse(f->data, f->len, ret, err)) < 0)
		return hk_error_prefix(err, "\"%s\"", name);
	if ((dup = hk_json_duplicate_key(*ret))) {
		r = hk_error_setx(err, -EINVAL, "\"%s\": duplicate key \"%s\"", name, dup);
		hk_json_free(*ret);
		*ret = NULL;
		return r;
	}
	return 0;
}

static void collected_release(struct hk_collected *c)
{
	for (size_t i = 0; i < c->n_files; i++) {
		free(c->files[i].name);
		free(c->files[i].data);
	}
	for (size_t i = 0; i < c->n_layers; i++)
		free(c->layers[i].name);
	for (size_t i = 0; i < c->n_links; i++) {
		free(c->links[i].name);
		free(c->links[i].target);
	}
	free(c->files);
	free(c->layers);
	free(c->links);
}

/* Under the lock: the layers the images use, then the images, then names. */
static int commit(struct hk_store *s, struct hk_found_image *imgs, size_t n, struct hk_loaded **ret,
		  size_t *ret_n, struct hk_error *err)
{
	struct hk_loaded *out = calloc(n, sizeof(*out));
	int r;

	if (!out)
		abort();
	if ((r = hk_store_lock(s, err)) < 0)
		goto fail;
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < imgs[i].n_layers; j++) {
			struct hk_entry_layer *l = imgs[i].layers[j];
			if (!l->used &&
			    (r = hk_store_commit_layer(s, l->stage, l->diff_id, l->size, err)) < 0)
				goto unlock;
			l->used = true;
		}
	for (size_t i = 0; i < n; i++) {
		if ((r = hk_store_put_image(s, imgs[i].config, imgs[i].config_len, out[i].id,
					    err)) < 0)
			goto unlock;
		for (char **name = imgs[i].names; name && *name; name++)
			if ((r = hk_store_tag(s, *name, out[i].id, err)) < 0)
				goto unlock;
		out[i].names = hk_strv_dup(imgs[i].names ? imgs[i].names : (char *[]){NULL});
	}
	hk_store_unlock(s);
	*ret = out;
	*ret_n = n;
	return 0;
unlock:
	hk_store_unlock(s);
fail:
	hk_loaded_free(out, n);
	return r;
}

static int load_collected(struct hk_store *s, struct hk_collected *c, const struct hk_load_opts *o,
			  struct hk_loaded **ret, size_t *ret_n, struct hk_error *err)
{
	struct hk_found_image *imgs = NULL;
	size_t n = 0;
	int r;

	if ((r = hk_formats_find(c, o, &imgs, &n, err)) < 0)
		return r;
	r = commit(s, imgs, n, ret, ret_n, err);
	hk_found_images_free(imgs, n);
	return r;
}

int hk_image_load(struct hk_store *s, int fd, const char *what, const struct hk_load_opts *o,
		  struct hk_loaded **ret, size_t *ret_n, struct hk_error *err)
{
	struct hk_collected c = {0};
	int r;

	if ((r = collect_tar(s, fd, what, &c, o, err)) >= 0)
		r = load_collected(s, &c, o, ret, ret_n, err);
	if (r < 0 && !strstr(err->msg, what))
		hk_error_prefix(err, "%s", what);
	collected_release(&c);
	return r;
}

/* An OCI layout directory: index.json and every blob, as if they were entries. */
static int collect_dir(struct hk_store *s, int layoutfd, struct hk_collected *c,
		       const struct hk_load_opts *o, struct hk_error *err)
{
	static const char *const top[] = {"oci-layout", "index.json"};
	_cleanup_close_ int blobs = -1;
	DIR *dir;
	int r = 0;

	for (size_t i = 0; i < ARRAY_SIZE(top); i++) {
		struct entry_source es = {.fd = openat(layoutfd, top[i], O_RDONLY | O_CLOEXEC)};
		if (es.fd < 0)
			return hk_error_set(err, -errno, "\"%s\"", top[i]);
		r = collect_entry(s, c, top[i], &es, o, err);
		close(es.fd);
		if (r < 0)
			return r;
	}
	blobs = openat(layoutfd, "blobs/sha256", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (blobs < 0 || !(dir = fdopendir(blobs)))
		return hk_error_set(err, -errno, "\"blobs/sha256\"");
	blobs = -1;
	for (struct dirent *de; r >= 0 && (de = readdir(dir));) {
		char name[300];
		struct entry_source es;

		if (de->d_name[0] == '.')
			continue;
		snprintf(name, sizeof(name), "blobs/sha256/%s", de->d_name);
		es = (struct entry_source){
		    .fd = openat(dirfd(dir), de->d_name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)};
		if (es.fd < 0) {
			r = hk_error_set(err, -errno, "\"%s\"", name);
			break;
		}
		{
			struct stat st;
			if (fstat(es.fd, &st) == 0)
				es.total = (uint64_t)st.st_size;
		}
		r = collect_entry(s, c, name, &es, o, err);
		close(es.fd);
	}
	closedir(dir);
	return r;
}

int hk_image_load_oci_dir(struct hk_store *s, const char *path, const struct hk_load_opts *o,
			  struct hk_loaded **ret, size_t *ret_n, struct hk_error *err)
{
	struct hk_collected c = {0};
	struct hk_load_opts oo = *o;
	_cleanup_close_ int dirfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int r;

	if (dirfd < 0)
		return hk_error_set(err, -errno, "oci:%s", path);
	if ((r = collect_dir(s, dirfd, &c, &oo, err)) >= 0)
		r = load_collected(s, &c, &oo, ret, ret_n, err);
	if (r < 0)
		hk_error_prefix(err, "oci:%s", path);
	collected_release(&c);
	return r;
}

void hk_loaded_free(struct hk_loaded *l, size_t n)
{
	for (size_t i = 0; l && i < n; i++)
		hk_strv_free(l[i].names);
	free(l);
}

int hk_image_import(struct hk_store *s, int fd, const char *what, struct hk_json *config,
		    const struct hk_load_opts *o, char *ret_id, struct hk_error *err)
{
	struct entry_source es = {.fd = fd};
	struct hk_entry_layer l;
	struct stat st;
	struct hk_buf b = HK_BUF_INIT;
	struct hk_json *rootfs;
	int r;

	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
		es.total = (uint64_t)st.st_size;
	if ((r = stage_layer(s, &es, what, o, &l, err)) < 0) {
		free(l.name);
		return r;
	}
	free(l.name);
	rootfs = hk_json_child(config, "rootfs", HK_JSON_OBJECT);
	hk_json_set(rootfs, "type", hk_json_new_string("layers"));
	hk_json_push(hk_json_child(rootfs, "diff_ids", HK_JSON_ARRAY),
		     hk_json_new_string(l.diff_id));
	hk_json_write(&b, config);
	if ((r = hk_store_lock(s, err)) >= 0) {
		if ((r = hk_store_commit_layer(s, l.stage, l.diff_id, l.size, err)) >= 0)
			r = hk_store_put_image(s, b.buf, b.len, ret_id, err);
		hk_store_unlock(s);
	}
	hk_buf_release(&b);
	return r;
}

const char *hk_platform_default(void)
{
	static const struct {
		const char *machine, *arch;
	} archs[] = {
	    {"x86_64", "linux/amd64"},	  {"aarch64", "linux/arm64"},	{"armv7l", "linux/arm/v7"},
	    {"i686", "linux/386"},	  {"ppc64le", "linux/ppc64le"}, {"s390x", "linux/s390x"},
	    {"riscv64", "linux/riscv64"},
	};
	struct utsname u;

	if (uname(&u) == 0)
		for (size_t i = 0; i < ARRAY_SIZE(archs); i++)
			if (strcmp(u.machine, archs[i].machine) == 0)
				return archs[i].arch;
	return "linux/amd64";
}
