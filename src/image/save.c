// SPDX-License-Identifier: GPL-2.0-or-later
/* Writing images out (save.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "decode.h"
#include "paths.h"
#include "save.h"
#include "tarwrite.h"
#include "util.h"

/* A tar being written: to fd, hashed on the way. */
struct sink {
	int fd;
	struct hk_sha256 *hash;
	unsigned long long bytes;
};

static int sink_write(void *data, const void *buf, size_t n)
{
	struct sink *s = data;
	ssize_t w;

	for (size_t done = 0; done < n; done += (size_t)w) {
		w = write(s->fd, (const char *)buf + done, n - done);
		if (w < 0) {
			if (errno == EINTR) {
				w = 0;
				continue;
			}
			return -errno;
		}
	}
	if (s->hash)
		hk_sha256_update(s->hash, buf, n);
	s->bytes += n;
	return 0;
}

struct hardlink {
	dev_t dev;
	ino_t ino;
	char *path;
};

struct walk {
	struct hk_tar *t;
	struct hardlink *links;
	size_t n_links;
	dev_t dev; /* not 0: the one filesystem written; below a mount point, nothing */
	struct hk_error *err;
};

static int name_cmp(const void *x, const void *y)
{
	return strcmp(*(char *const *)x, *(char *const *)y);
}

/* The entries of a directory, sorted, so the same layer gives the same tar. */
static char **sorted_names(int dirfd)
{
	DIR *d = fdopendir(dup(dirfd));
	char **v = hk_xmalloc(sizeof(char *));
	size_t n = 0;

	v[0] = NULL;
	if (!d)
		return v;
	for (struct dirent *de; (de = readdir(d));) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		v = hk_xrealloc(v, (n + 2) * sizeof(char *));
		v[n++] = hk_xstrdup(de->d_name);
		v[n] = NULL;
	}
	closedir(d);
	qsort(v, n, sizeof(char *), name_cmp);
	return v;
}

/* The entry's xattrs but overlayfs's own; freed with free_xattrs(). */
struct xattrs {
	struct hk_tar_xattr v[32];
	size_t n;
	char names[8192];
};

static void read_xattrs(int dirfd, const char *name, struct xattrs *x)
{
	char path[PATH_MAX], fdp[32], value[65536];
	ssize_t n;

	x->n = 0;
	snprintf(path, sizeof(path), "%s/%s", hk_fd_path(dirfd, fdp), name);
	n = llistxattr(path, x->names, sizeof(x->names));
	for (char *k = x->names; n > 0 && k < x->names + n && x->n < ARRAY_SIZE(x->v);
	     k += strlen(k) + 1) {
		ssize_t vn;
		if (strncmp(k, "trusted.overlay.", 16) == 0)
			continue;
		vn = lgetxattr(path, k, value, sizeof(value));
		if (vn < 0)
			continue;
		x->v[x->n].name = k;
		x->v[x->n].value = memcpy(hk_xmalloc((size_t)vn + 1), value, (size_t)vn);
		x->v[x->n++].size = (size_t)vn;
	}
}

static void free_xattrs(struct xattrs *x)
{
	for (size_t i = 0; i < x->n; i++)
		free((void *)x->v[i].value);
	x->n = 0;
}

static bool is_opaque(int dirfd, const char *name)
{
	char path[PATH_MAX], fdp[32], v[4];

	snprintf(path, sizeof(path), "%s/%s", hk_fd_path(dirfd, fdp), name);
	return lgetxattr(path, "trusted.overlay.opaque", v, sizeof(v)) == 1 && v[0] == 'y';
}

/* An empty regular file entry: a whiteout, an opaque marker. */
static int write_marker(struct walk *w, const char *path, int64_t mtime)
{
	struct hk_tar_entry e = {.name = path, .mode = S_IFREG | 0644, .mtime = mtime};

	return hk_tar_header(w->t, &e, w->err);
}

static int write_tree(struct walk *w, int dirfd, const char *prefix);

static int write_one(struct walk *w, int dirfd, const char *name, const char *rel)
{
	struct hk_tar_entry e = {.name = rel};
	struct xattrs *x;
	char target[PATH_MAX];
	struct stat st;
	int r = 0;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return hk_error_set(w->err, -errno, "layer entry \"%s\"", rel);
	if (w->dev && st.st_dev != w->dev) {
		/* A mount point (a running container's /proc): an empty dir, as docker's export. */
		if (!S_ISDIR(st.st_mode))
			return 0;
		e.mode = S_IFDIR | 0755;
		e.mtime = st.st_mtime;
		return hk_tar_header(w->t, &e, w->err);
	}
	if (S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0)) {
		/* overlayfs's whiteout back to the image form: .wh.NAME */
		char wh[PATH_MAX];
		const char *slash = strrchr(rel, '/');
		snprintf(wh, sizeof(wh), "%.*s.wh.%s", slash ? (int)(slash - rel + 1) : 0, rel,
			 name);
		return write_marker(w, wh, st.st_mtime);
	}
	e.mode = st.st_mode;
	e.uid = st.st_uid;
	e.gid = st.st_gid;
	e.mtime = st.st_mtime;
	e.devmajor = major(st.st_rdev);
	e.devminor = minor(st.st_rdev);
	if (S_ISLNK(st.st_mode)) {
		ssize_t n = readlinkat(dirfd, name, target, sizeof(target) - 1);
		if (n < 0)
			return hk_error_set(w->err, -errno, "layer entry \"%s\"", rel);
		target[n] = '\0';
		e.link = target;
	}
	if (S_ISREG(st.st_mode)) {
		e.size = (uint64_t)st.st_size;
		for (size_t i = 0; st.st_nlink > 1 && i < w->n_links; i++)
			if (w->links[i].dev == st.st_dev && w->links[i].ino == st.st_ino) {
				e.link = w->links[i].path;
				e.hardlink = 1;
				return hk_tar_header(w->t, &e, w->err);
			}
		if (st.st_nlink > 1) {
			w->links = hk_xrealloc(w->links, (w->n_links + 1) * sizeof(*w->links));
			w->links[w->n_links++] =
			    (struct hardlink){st.st_dev, st.st_ino, hk_xstrdup(rel)};
		}
	}
	x = hk_xmalloc(sizeof(*x));
	read_xattrs(dirfd, name, x);
	e.xattrs = x->v;
	e.n_xattrs = x->n;
	r = hk_tar_header(w->t, &e, w->err);
	free_xattrs(x);
	free(x);
	if (r < 0)
		return r;
	if (S_ISREG(st.st_mode)) {
		_cleanup_close_ int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		char buf[128 * 1024];
		uint64_t left = e.size;
		ssize_t n = 0;

		if (fd < 0)
			return hk_error_set(w->err, -errno, "layer entry \"%s\"", rel);
		while (left && (n = read(fd, buf, left < sizeof(buf) ? left : sizeof(buf))) > 0) {
			if ((r = hk_tar_data(w->t, buf, (size_t)n, w->err)) < 0)
				return r;
			left -= (uint64_t)n;
		}
		if (n < 0 || left)
			return hk_error_set(w->err, n < 0 ? -errno : -EIO,
					    "read layer entry \"%s\"%s", rel,
					    n < 0 ? "" : ": it shrank while being read");
	}
	if (S_ISDIR(st.st_mode)) {
		_cleanup_close_ int sub =
		    openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (sub < 0)
			return hk_error_set(w->err, -errno, "layer entry \"%s\"", rel);
		if (is_opaque(dirfd, name)) {
			char opq[PATH_MAX];
			snprintf(opq, sizeof(opq), "%s/.wh..wh..opq", rel);
			if ((r = write_marker(w, opq, st.st_mtime)) < 0)
				return r;
		}
		return write_tree(w, sub, rel);
	}
	return 0;
}

static int write_tree(struct walk *w, int dirfd, const char *prefix)
{
	_cleanup_(hk_strv_freep) char **names = sorted_names(dirfd);
	char rel[PATH_MAX];
	int r;

	for (char **n = names; *n; n++) {
		snprintf(rel, sizeof(rel), "%s%s%s", prefix, *prefix ? "/" : "", *n);
		if ((r = write_one(w, dirfd, *n, rel)) < 0)
			return r;
	}
	return 0;
}

int hk_tar_write_tree(int dirfd, int fd, bool one_file_system, struct hk_error *err)
{
	struct sink sink = {fd, NULL, 0};
	struct hk_tar tar = {sink_write, &sink, 0, 0};
	struct walk w = {.t = &tar, .err = err};
	struct stat st;
	int r;

	if (one_file_system) {
		if (fstat(dirfd, &st) < 0)
			return hk_error_set(err, -errno, "fstat");
		w.dev = st.st_dev;
	}
	if ((r = write_tree(&w, dirfd, "")) >= 0)
		r = hk_tar_finish(&tar, err);
	for (size_t i = 0; i < w.n_links; i++)
		free(w.links[i].path);
	free(w.links);
	return r;
}

/* The layer diff_id as a tar in a temporary file; ret_digest is its sha256. */
static int layer_tar(struct hk_store *s, const char *diff_id, int *ret_fd, char *ret_digest,
		     unsigned long long *ret_size, struct hk_error *err)
{
	char path[128];
	_cleanup_close_ int diff = -1, tmp = -1;
	struct sink sink;
	struct hk_tar tar;
	struct walk w = {.err = err};
	int r;

	snprintf(path, sizeof(path), "layers/%s/diff", diff_id + 7);
	diff = openat(s->dirfd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	tmp = openat(s->dirfd, "tmp", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (diff < 0 || tmp < 0)
		return hk_error_set(err, -errno, "layer %s", diff_id);
	sink = (struct sink){tmp, hk_sha256_new(), 0};
	tar = (struct hk_tar){sink_write, &sink, 0, 0};
	w.t = &tar;
	if ((r = write_tree(&w, diff, "")) >= 0)
		r = hk_tar_finish(&tar, err);
	hk_sha256_final(sink.hash, ret_digest);
	for (size_t i = 0; i < w.n_links; i++)
		free(w.links[i].path);
	free(w.links);
	if (r < 0)
		return r;
	*ret_size = sink.bytes;
	*ret_fd = TAKE_FD(tmp);
	return 0;
}

static int add_file(struct hk_tar *t, const char *name, const char *data, size_t len,
		    struct hk_error *err)
{
	struct hk_tar_entry e = {.name = name, .mode = S_IFREG | 0644, .size = len};
	int r = hk_tar_header(t, &e, err);

	return r < 0 || !len ? r : hk_tar_data(t, data, len, err);
}

static int add_fd(struct hk_tar *t, const char *name, int fd, unsigned long long size,
		  struct hk_error *err)
{
	struct hk_tar_entry e = {.name = name, .mode = S_IFREG | 0644, .size = size};
	char buf[128 * 1024];
	ssize_t n = 0;
	int r;

	if ((r = hk_tar_header(t, &e, err)) < 0)
		return r;
	if (lseek(fd, 0, SEEK_SET) < 0)
		return hk_error_set(err, -errno, "%s", name);
	while (size && (n = read(fd, buf, size < sizeof(buf) ? size : sizeof(buf))) > 0) {
		if ((r = hk_tar_data(t, buf, (size_t)n, err)) < 0)
			return r;
		size -= (unsigned long long)n;
	}
	return n < 0 ? hk_error_set(err, -errno, "%s", name) : 0;
}

static struct hk_json *descriptor(const char *media_type, const char *digest,
				  unsigned long long size)
{
	struct hk_json *d = hk_json_new(HK_JSON_OBJECT);

	hk_json_set(d, "mediaType", hk_json_new_string(media_type));
	hk_json_set(d, "digest", hk_json_new_string(digest));
	hk_json_set(d, "size", hk_json_new_int((long long)size));
	return d;
}

/* A JSON value as a file of the archive; ret_digest (may be NULL) gets its digest. */
static int add_json(struct hk_tar *t, const char *name_fmt, const struct hk_json *v,
		    char *ret_digest, size_t *ret_len, struct hk_error *err)
{
	struct hk_buf b = HK_BUF_INIT;
	char digest[HK_DIGEST_MAX], name[160];
	int r;

	hk_json_write(&b, v);
	hk_sha256_digest(b.buf, b.len, digest);
	snprintf(name, sizeof(name), name_fmt, digest + 7);
	r = add_file(t, name, b.buf, b.len, err);
	if (ret_digest)
		memcpy(ret_digest, digest, HK_DIGEST_MAX);
	if (ret_len)
		*ret_len = b.len;
	hk_buf_release(&b);
	return r;
}

/*
 * Each layer written again from the store, as format names it; the new
 * diff_ids go into cfg, and layers gets the manifest's entries for them.
 */
static int add_layers(struct hk_store *s, struct hk_tar *t, struct hk_json *cfg,
		      enum hk_save_format format, struct hk_json *layers, struct hk_error *err)
{
	_cleanup_free_ const char **ids = NULL;
	struct hk_json *diff_ids;
	size_t n;
	int r;

	if ((r = hk_image_diff_ids(cfg, &ids, &n, err)) < 0)
		return r;
	diff_ids = hk_json_new(HK_JSON_ARRAY);
	for (size_t i = 0; i < n && r >= 0; i++) {
		_cleanup_close_ int tfd = -1;
		char digest[HK_DIGEST_MAX], name[160];
		unsigned long long size = 0;

		if ((r = layer_tar(s, ids[i], &tfd, digest, &size, err)) < 0)
			break;
		hk_json_push(diff_ids, hk_json_new_string(digest));
		if (format == HK_SAVE_OCI_ARCHIVE) {
			snprintf(name, sizeof(name), "blobs/sha256/%s", digest + 7);
			hk_json_push(layers, descriptor("application/vnd.oci.image.layer.v1.tar",
							digest, size));
		} else {
			snprintf(name, sizeof(name), "%s/layer.tar", digest + 7);
			hk_json_push(layers, hk_json_new_string(name));
		}
		r = add_fd(t, name, tfd, size, err);
	}
	/* The config's rootfs names the layers as written (freed with cfg on failure). */
	hk_json_set(hk_json_child(cfg, "rootfs", HK_JSON_OBJECT), "diff_ids", diff_ids);
	return r;
}

/* oci-archive: the config and manifest as blobs, and index.json naming it. */
static int add_oci_index(struct hk_tar *t, const struct hk_json *cfg, struct hk_json *layers,
			 char *const *refs, struct hk_error *err)
{
	_cleanup_(hk_json_freep) struct hk_json *m = hk_json_new(HK_JSON_OBJECT);
	_cleanup_(hk_json_freep) struct hk_json *index = hk_json_new(HK_JSON_OBJECT);
	char cfg_digest[HK_DIGEST_MAX], m_digest[HK_DIGEST_MAX];
	size_t cfg_len, m_len;
	struct hk_json *md;
	int r;

	if ((r = add_json(t, "blobs/sha256/%s", cfg, cfg_digest, &cfg_len, err)) < 0) {
		hk_json_free(layers);
		return r;
	}
	hk_json_set(m, "schemaVersion", hk_json_new_int(2));
	hk_json_set(m, "mediaType",
		    hk_json_new_string("application/vnd.oci.image.manifest.v1+json"));
	hk_json_set(m, "config",
		    descriptor("application/vnd.oci.image.config.v1+json", cfg_digest, cfg_len));
	hk_json_set(m, "layers", layers);
	if ((r = add_json(t, "blobs/sha256/%s", m, m_digest, &m_len, err)) < 0)
		return r;
	hk_json_set(index, "schemaVersion", hk_json_new_int(2));
	md =
	    hk_json_push(hk_json_child(index, "manifests", HK_JSON_ARRAY),
			 descriptor("application/vnd.oci.image.manifest.v1+json", m_digest, m_len));
	if (refs && refs[0])
		hk_json_set(hk_json_child(md, "annotations", HK_JSON_OBJECT),
			    "org.opencontainers.image.ref.name", hk_json_new_string(refs[0]));
	return add_json(t, "index.json", index, NULL, NULL, err);
}

/* docker-archive: the config as <digest>.json, and manifest.json naming it. */
static int add_docker_manifest(struct hk_tar *t, const struct hk_json *cfg, struct hk_json *layers,
			       char *const *refs, struct hk_error *err)
{
	_cleanup_(hk_json_freep) struct hk_json *m = hk_json_new(HK_JSON_ARRAY);
	struct hk_json *e = hk_json_push(m, hk_json_new(HK_JSON_OBJECT));
	char cfg_digest[HK_DIGEST_MAX], name[160];
	int r;

	if ((r = add_json(t, "%s.json", cfg, cfg_digest, NULL, err)) < 0) {
		hk_json_free(layers);
		return r;
	}
	snprintf(name, sizeof(name), "%s.json", cfg_digest + 7);
	hk_json_set(e, "Config", hk_json_new_string(name));
	hk_json_set(e, "RepoTags", hk_json_new_strv((const char *const *)refs));
	hk_json_set(e, "Layers", layers);
	return add_json(t, "manifest.json", m, NULL, NULL, err);
}

int hk_image_save(struct hk_store *s, const char *id, char *const *refs, enum hk_save_format format,
		  int fd, struct hk_error *err)
{
	_cleanup_(hk_json_freep) struct hk_json *cfg = NULL;
	struct hk_json *layers = hk_json_new(HK_JSON_ARRAY);
	struct sink out = {fd, NULL, 0};
	struct hk_tar tar = {sink_write, &out, 0, 0};
	int r;

	if ((r = hk_store_image_config(s, id, &cfg, err)) < 0)
		goto fail;
	if (format == HK_SAVE_OCI_ARCHIVE &&
	    (r = add_file(&tar, "oci-layout", "{\"imageLayoutVersion\":\"1.0.0\"}", 30, err)) < 0)
		goto fail;
	if ((r = add_layers(s, &tar, cfg, format, layers, err)) < 0)
		goto fail;
	/* The manifest takes the layers' entries over. */
	r = format == HK_SAVE_OCI_ARCHIVE ? add_oci_index(&tar, cfg, layers, refs, err)
					  : add_docker_manifest(&tar, cfg, layers, refs, err);
	return r < 0 ? r : hk_tar_finish(&tar, err);
fail:
	hk_json_free(layers);
	return r;
}
