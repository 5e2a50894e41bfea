// SPDX-License-Identifier: GPL-2.0-or-later
/* Writing images out (save.h). */
#include <archive.h>
#include <archive_entry.h>
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
#include "util.h"

/* A tar being written: to fd, hashed on the way. */
struct sink {
	int fd;
	struct hk_sha256 *hash;
	unsigned long long bytes;
};

static la_ssize_t sink_write(struct archive *a, void *data, const void *buf, size_t n)
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
			archive_set_error(a, errno, "write");
			return -1;
		}
	}
	if (s->hash)
		hk_sha256_update(s->hash, buf, n);
	s->bytes += n;
	return (la_ssize_t)n;
}

static struct archive *tar_writer(struct sink *s)
{
	struct archive *a = archive_write_new();

	archive_write_set_format_pax_restricted(a);
	/* No padding to 10 KiB records: the tar ends where its data ends. */
	archive_write_set_bytes_per_block(a, 0);
	archive_write_open2(a, s, NULL, sink_write, NULL, NULL);
	return a;
}

struct hardlink {
	dev_t dev;
	ino_t ino;
	char *path;
};

struct walk {
	struct archive *a;
	struct hardlink *links;
	size_t n_links;
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

static void copy_xattrs(struct archive_entry *e, int dirfd, const char *name)
{
	char path[PATH_MAX], fdp[32], list[8192], value[65536];
	ssize_t n;

	snprintf(path, sizeof(path), "%s/%s", hk_fd_path(dirfd, fdp), name);
	n = llistxattr(path, list, sizeof(list));
	for (char *k = list; n > 0 && k < list + n; k += strlen(k) + 1) {
		ssize_t vn;
		if (strncmp(k, "trusted.overlay.", 16) == 0)
			continue;
		vn = lgetxattr(path, k, value, sizeof(value));
		if (vn >= 0)
			archive_entry_xattr_add_entry(e, k, value, (size_t)vn);
	}
}

static bool is_opaque(int dirfd, const char *name)
{
	char path[PATH_MAX], fdp[32], v[4];

	snprintf(path, sizeof(path), "%s/%s", hk_fd_path(dirfd, fdp), name);
	return lgetxattr(path, "trusted.overlay.opaque", v, sizeof(v)) == 1 && v[0] == 'y';
}

static int write_header(struct walk *w, struct archive_entry *e, const char *rel)
{
	if (archive_write_header(w->a, e) != ARCHIVE_OK)
		return hk_error_setx(w->err, -EIO, "layer entry \"%s\": %s", rel,
				     archive_error_string(w->a));
	return 0;
}

static int write_tree(struct walk *w, int dirfd, const char *prefix);

static int write_one(struct walk *w, int dirfd, const char *name, const char *rel)
{
	struct archive_entry *e;
	struct stat st;
	int r = 0;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return hk_error_set(w->err, -errno, "layer entry \"%s\"", rel);
	e = archive_entry_new();
	if (S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0)) {
		/* overlayfs's whiteout back to the image form: .wh.NAME */
		char wh[PATH_MAX];
		const char *slash = strrchr(rel, '/');
		snprintf(wh, sizeof(wh), "%.*s.wh.%s", slash ? (int)(slash - rel + 1) : 0, rel, name);
		archive_entry_set_pathname(e, wh);
		archive_entry_set_filetype(e, AE_IFREG);
		archive_entry_set_perm(e, 0644);
		archive_entry_set_mtime(e, st.st_mtime, 0);
		r = write_header(w, e, rel);
		archive_entry_free(e);
		return r;
	}
	archive_entry_copy_stat(e, &st);
	archive_entry_set_pathname(e, rel);
	copy_xattrs(e, dirfd, name);
	if (S_ISLNK(st.st_mode)) {
		char target[PATH_MAX];
		ssize_t n = readlinkat(dirfd, name, target, sizeof(target) - 1);
		if (n < 0) {
			archive_entry_free(e);
			return hk_error_set(w->err, -errno, "layer entry \"%s\"", rel);
		}
		target[n] = '\0';
		archive_entry_set_symlink(e, target);
	}
	if (S_ISREG(st.st_mode) && st.st_nlink > 1) {
		for (size_t i = 0; i < w->n_links; i++)
			if (w->links[i].dev == st.st_dev && w->links[i].ino == st.st_ino) {
				archive_entry_set_hardlink(e, w->links[i].path);
				archive_entry_set_size(e, 0);
				r = write_header(w, e, rel);
				archive_entry_free(e);
				return r;
			}
		w->links = hk_xrealloc(w->links, (w->n_links + 1) * sizeof(*w->links));
		w->links[w->n_links++] = (struct hardlink){st.st_dev, st.st_ino, hk_xstrdup(rel)};
	}
	if (!S_ISREG(st.st_mode))
		archive_entry_set_size(e, 0);
	if ((r = write_header(w, e, rel)) < 0) {
		archive_entry_free(e);
		return r;
	}
	archive_entry_free(e);
	if (S_ISREG(st.st_mode)) {
		_cleanup_close_ int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		char buf[128 * 1024];
		ssize_t n;

		if (fd < 0)
			return hk_error_set(w->err, -errno, "layer entry \"%s\"", rel);
		while ((n = read(fd, buf, sizeof(buf))) > 0)
			if (archive_write_data(w->a, buf, (size_t)n) < 0)
				return hk_error_setx(w->err, -EIO, "layer entry \"%s\": %s", rel,
						     archive_error_string(w->a));
		if (n < 0)
			return hk_error_set(w->err, -errno, "read layer entry \"%s\"", rel);
	}
	if (S_ISDIR(st.st_mode)) {
		_cleanup_close_ int sub = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (sub < 0)
			return hk_error_set(w->err, -errno, "layer entry \"%s\"", rel);
		if (is_opaque(dirfd, name)) {
			char opq[PATH_MAX];
			struct archive_entry *o = archive_entry_new();
			snprintf(opq, sizeof(opq), "%s/.wh..wh..opq", rel);
			archive_entry_set_pathname(o, opq);
			archive_entry_set_filetype(o, AE_IFREG);
			archive_entry_set_perm(o, 0644);
			r = write_header(w, o, opq);
			archive_entry_free(o);
			if (r < 0)
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

/* The layer diff_id as a tar in a temporary file; ret_digest is its sha256. */
static int layer_tar(struct hk_store *s, const char *diff_id, int *ret_fd, char *ret_digest,
		     unsigned long long *ret_size, struct hk_error *err)
{
	char path[128];
	_cleanup_close_ int diff = -1, tmp = -1;
	struct sink sink;
	struct walk w = {.err = err};
	int r;

	snprintf(path, sizeof(path), "layers/%s/diff", diff_id + 7);
	diff = openat(s->dirfd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	tmp = openat(s->dirfd, "tmp", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (diff < 0 || tmp < 0)
		return hk_error_set(err, -errno, "layer %s", diff_id);
	sink = (struct sink){tmp, hk_sha256_new(), 0};
	w.a = tar_writer(&sink);
	r = write_tree(&w, diff, "");
	if (archive_write_close(w.a) != ARCHIVE_OK && r >= 0)
		r = hk_error_setx(err, -EIO, "layer %s: %s", diff_id, archive_error_string(w.a));
	archive_write_free(w.a);
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

static int add_file(struct archive *a, const char *name, const char *data, size_t len,
		    struct hk_error *err)
{
	struct archive_entry *e = archive_entry_new();
	int r = 0;

	archive_entry_set_pathname(e, name);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0644);
	archive_entry_set_size(e, (la_int64_t)len);
	if (archive_write_header(a, e) != ARCHIVE_OK ||
	    (len && archive_write_data(a, data, len) < 0))
		r = hk_error_setx(err, -EIO, "write \"%s\": %s", name, archive_error_string(a));
	archive_entry_free(e);
	return r;
}

static int add_fd(struct archive *a, const char *name, int fd, unsigned long long size,
		  struct hk_error *err)
{
	struct archive_entry *e = archive_entry_new();
	char buf[128 * 1024];
	ssize_t n;
	int r = 0;

	archive_entry_set_pathname(e, name);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0644);
	archive_entry_set_size(e, (la_int64_t)size);
	if (archive_write_header(a, e) != ARCHIVE_OK)
		r = hk_error_setx(err, -EIO, "write \"%s\": %s", name, archive_error_string(a));
	archive_entry_free(e);
	if (r < 0 || lseek(fd, 0, SEEK_SET) < 0)
		return r < 0 ? r : hk_error_set(err, -errno, "%s", name);
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		if (archive_write_data(a, buf, (size_t)n) < 0)
			return hk_error_setx(err, -EIO, "write \"%s\": %s", name,
					     archive_error_string(a));
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

int hk_image_save(struct hk_store *s, const char *id, char *const *refs,
		  enum hk_save_format format, int fd, struct hk_error *err)
{
	_cleanup_(hk_json_freep) struct hk_json *cfg = NULL;
	_cleanup_free_ const char **ids = NULL;
	struct sink out = {fd, NULL, 0};
	struct archive *a = NULL;
	struct hk_json *diff_ids, *layers = hk_json_new(HK_JSON_ARRAY);
	struct hk_buf b = HK_BUF_INIT;
	char cfg_digest[HK_DIGEST_MAX], name[160];
	size_t n;
	int r;

	if ((r = hk_store_image_config(s, id, &cfg, err)) < 0 ||
	    (r = hk_image_diff_ids(cfg, &ids, &n, err)) < 0)
		goto out;
	a = tar_writer(&out);
	if (format == HK_SAVE_OCI_ARCHIVE &&
	    (r = add_file(a, "oci-layout", "{\"imageLayoutVersion\":\"1.0.0\"}", 30, err)) < 0)
		goto out;
	diff_ids = hk_json_new(HK_JSON_ARRAY);
	for (size_t i = 0; i < n; i++) {
		_cleanup_close_ int tfd = -1;
		char digest[HK_DIGEST_MAX];
		unsigned long long size = 0;

		if ((r = layer_tar(s, ids[i], &tfd, digest, &size, err)) < 0) {
			hk_json_free(diff_ids);
			goto out;
		}
		hk_json_push(diff_ids, hk_json_new_string(digest));
		if (format == HK_SAVE_OCI_ARCHIVE) {
			snprintf(name, sizeof(name), "blobs/sha256/%s", digest + 7);
			hk_json_push(layers, descriptor("application/vnd.oci.image.layer.v1.tar",
							digest, size));
		} else {
			snprintf(name, sizeof(name), "%s/layer.tar", digest + 7);
			hk_json_push(layers, hk_json_new_string(name));
		}
		if ((r = add_fd(a, name, tfd, size, err)) < 0) {
			hk_json_free(diff_ids);
			goto out;
		}
	}
	hk_json_set(hk_json_child(cfg, "rootfs", HK_JSON_OBJECT), "diff_ids", diff_ids);
	hk_json_write(&b, cfg);
	hk_sha256_digest(b.buf, b.len, cfg_digest);
	if (format == HK_SAVE_OCI_ARCHIVE) {
		_cleanup_(hk_json_freep) struct hk_json *m = hk_json_new(HK_JSON_OBJECT);
		_cleanup_(hk_json_freep) struct hk_json *index = hk_json_new(HK_JSON_OBJECT);
		struct hk_buf mb = HK_BUF_INIT, ib = HK_BUF_INIT;
		char m_digest[HK_DIGEST_MAX];
		struct hk_json *md;

		snprintf(name, sizeof(name), "blobs/sha256/%s", cfg_digest + 7);
		if ((r = add_file(a, name, b.buf, b.len, err)) < 0)
			goto out;
		hk_json_set(m, "schemaVersion", hk_json_new_int(2));
		hk_json_set(m, "mediaType",
			    hk_json_new_string("application/vnd.oci.image.manifest.v1+json"));
		hk_json_set(m, "config", descriptor("application/vnd.oci.image.config.v1+json",
						    cfg_digest, b.len));
		hk_json_set(m, "layers", TAKE_PTR(layers));
		hk_json_write(&mb, m);
		hk_sha256_digest(mb.buf, mb.len, m_digest);
		snprintf(name, sizeof(name), "blobs/sha256/%s", m_digest + 7);
		r = add_file(a, name, mb.buf, mb.len, err);
		hk_json_set(index, "schemaVersion", hk_json_new_int(2));
		md = hk_json_push(hk_json_child(index, "manifests", HK_JSON_ARRAY),
				  descriptor("application/vnd.oci.image.manifest.v1+json", m_digest,
					     mb.len));
		if (refs && refs[0])
			hk_json_set(hk_json_child(md, "annotations", HK_JSON_OBJECT),
				    "org.opencontainers.image.ref.name", hk_json_new_string(refs[0]));
		hk_json_write(&ib, index);
		if (r >= 0)
			r = add_file(a, "index.json", ib.buf, ib.len, err);
		hk_buf_release(&mb);
		hk_buf_release(&ib);
	} else {
		_cleanup_(hk_json_freep) struct hk_json *m = hk_json_new(HK_JSON_ARRAY);
		struct hk_json *e = hk_json_push(m, hk_json_new(HK_JSON_OBJECT));
		struct hk_buf mb = HK_BUF_INIT;

		snprintf(name, sizeof(name), "%s.json", cfg_digest + 7);
		if ((r = add_file(a, name, b.buf, b.len, err)) < 0)
			goto out;
		hk_json_set(e, "Config", hk_json_new_string(name));
		hk_json_set(e, "RepoTags", hk_json_new_strv((const char *const *)refs));
		hk_json_set(e, "Layers", TAKE_PTR(layers));
		hk_json_write(&mb, m);
		r = add_file(a, "manifest.json", mb.buf, mb.len, err);
		hk_buf_release(&mb);
	}
	if (r >= 0 && archive_write_close(a) != ARCHIVE_OK)
		r = hk_error_setx(err, -EIO, "write: %s", archive_error_string(a));
out:
	hk_json_free(layers);
	hk_buf_release(&b);
	if (a)
		archive_write_free(a);
	return r;
}
