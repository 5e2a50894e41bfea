// SPDX-License-Identifier: GPL-2.0-or-later
/* Volumes and the mounts that ask for them (volume.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "container.h"
#include "fsutil.h"
#include "util.h"
#include "volume.h"

void hk_mount_spec_free(struct hk_mount_spec *m)
{
	free(m->source);
	free(m->destination);
	free(m->tmpfs_opts);
	memset(m, 0, sizeof(*m));
}

static int destination(struct hk_mount_spec *m, const char *dst, const char *spec,
		       struct hk_error *err)
{
	bool dotdot = false;

	for (const char *p = dst; *p && !dotdot; p = strchr(p, '/') ? strchr(p, '/') + 1 : "")
		dotdot = strncmp(p, "..", 2) == 0 && (p[2] == '/' || p[2] == '\0');
	if (dst[0] != '/' || dotdot)
		return hk_error_setx(
		    err, -EINVAL, "\"%s\": the path in the container must be absolute, without ..",
		    spec);
	m->destination = hk_xstrdup(dst);
	return 0;
}

int hk_mount_parse_volume(const char *spec, struct hk_mount_spec *ret, struct hk_error *err)
{
	_cleanup_free_ char *copy = hk_xstrdup(spec);
	char *parts[4] = {0};
	int n = 0, r;

	memset(ret, 0, sizeof(*ret));
	for (char *p = copy, *save = NULL; n < 4 && (p = strtok_r(n ? NULL : p, ":", &save)); n++)
		parts[n] = p;
	if (n == 0 || n > 3)
		return hk_error_setx(err, -EINVAL,
				     "-v \"%s\": HOST:CTR[:OPTIONS], NAME:CTR or /CTR", spec);
	if (n == 1) { /* /CTR: an anonymous volume */
		ret->type = HK_MOUNT_VOLUME;
		return destination(ret, parts[0], spec, err);
	}
	if (n == 3) {
		for (char *o = parts[2], *save = NULL, *t; (t = strtok_r(o, ",", &save));
		     o = NULL) {
			if (strcmp(t, "ro") == 0)
				ret->readonly = true;
			else if (strcmp(t, "rw") != 0 && strcmp(t, "z") != 0 && strcmp(t, "Z") != 0)
				return hk_error_setx(err, -EINVAL,
						     "-v \"%s\": option \"%s\" (ro, rw, z or Z)",
						     spec, t);
		}
	}
	if (parts[0][0] == '/') {
		ret->type = HK_MOUNT_BIND;
	} else if (hk_ctr_name_valid(parts[0])) {
		ret->type = HK_MOUNT_VOLUME;
	} else {
		return hk_error_setx(err, -EINVAL,
				     "-v \"%s\": \"%s\" is neither an absolute host path nor a "
				     "volume name",
				     spec, parts[0]);
	}
	ret->source = hk_xstrdup(parts[0]);
	if ((r = destination(ret, parts[1], spec, err)) < 0)
		hk_mount_spec_free(ret);
	return r;
}

int hk_mount_parse_mount(const char *spec, struct hk_mount_spec *ret, struct hk_error *err)
{
	_cleanup_free_ char *copy = hk_xstrdup(spec);
	const char *type = NULL, *src = NULL, *dst = NULL, *size = NULL, *mode = NULL;
	struct hk_buf opts = HK_BUF_INIT;
	int r;

	memset(ret, 0, sizeof(*ret));
	for (char *o = copy, *save = NULL, *t; (t = strtok_r(o, ",", &save)); o = NULL) {
		char *v = strchr(t, '=');
		if (v)
			*v++ = '\0';
		if (strcmp(t, "type") == 0 && v)
			type = v;
		else if ((strcmp(t, "source") == 0 || strcmp(t, "src") == 0) && v)
			src = v;
		else if ((strcmp(t, "target") == 0 || strcmp(t, "destination") == 0 ||
			  strcmp(t, "dst") == 0) &&
			 v)
			dst = v;
		else if ((strcmp(t, "readonly") == 0 || strcmp(t, "ro") == 0) &&
			 (!v || strcmp(v, "true") == 0 || strcmp(v, "1") == 0))
			ret->readonly = true;
		else if ((strcmp(t, "readonly") == 0 || strcmp(t, "ro") == 0) && v &&
			 (strcmp(v, "false") == 0 || strcmp(v, "0") == 0))
			ret->readonly = false;
		else if (strcmp(t, "tmpfs-size") == 0 && v)
			size = v;
		else if (strcmp(t, "tmpfs-mode") == 0 && v)
			mode = v;
		else
			return hk_error_setx(err, -EINVAL,
					     "--mount \"%s\": \"%s\" is not known here", spec, t);
	}
	if (!type || !dst)
		return hk_error_setx(err, -EINVAL, "--mount \"%s\": type= and target= are needed",
				     spec);
	if (strcmp(type, "bind") == 0 && src && src[0] == '/') {
		ret->type = HK_MOUNT_BIND;
	} else if (strcmp(type, "volume") == 0 && (!src || hk_ctr_name_valid(src))) {
		ret->type = HK_MOUNT_VOLUME;
	} else if (strcmp(type, "tmpfs") == 0 && !src) {
		ret->type = HK_MOUNT_TMPFS;
		hk_buf_addf(&opts, "rw,nosuid,nodev%s%s%s%s", size ? ",size=" : "",
			    size ? size : "", mode ? ",mode=" : "", mode ? mode : "");
		ret->tmpfs_opts = hk_buf_detach(&opts);
	} else {
		return hk_error_setx(err, -EINVAL,
				     "--mount \"%s\": type=bind with an absolute source, "
				     "type=volume with a volume name or none, or type=tmpfs",
				     spec);
	}
	ret->source = src ? hk_xstrdup(src) : NULL;
	if ((r = destination(ret, dst, spec, err)) < 0)
		hk_mount_spec_free(ret);
	return r;
}

int hk_mount_parse_tmpfs(const char *spec, struct hk_mount_spec *ret, struct hk_error *err)
{
	const char *colon = strchr(spec, ':');
	_cleanup_free_ char *dst = hk_xstrdup(spec);
	int r;

	if (colon)
		dst[colon - spec] = '\0';

	memset(ret, 0, sizeof(*ret));
	ret->type = HK_MOUNT_TMPFS;
	/* docker's defaults, and the options given after them */
	ret->tmpfs_opts =
	    hk_xstrdup(colon && colon[1] ? colon + 1 : "rw,noexec,nosuid,size=65536k");
	if ((r = destination(ret, dst, spec, err)) < 0)
		hk_mount_spec_free(ret);
	return r;
}

int hk_volume_get(struct hk_store *s, const char *name, char *ret_name, size_t name_size,
		  bool *ret_created, char *ret_data, size_t data_size, struct hk_error *err)
{
	_cleanup_close_ int vols = -1, dir = -1;
	unsigned char rnd[32];
	char gen[HK_CTR_ID_LEN + 1], now[64], text[256];
	int r;

	*ret_created = false;
	if (!name) {
		if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd))
			return hk_error_set(err, -errno, "getrandom");
		for (size_t i = 0; i < sizeof(rnd); i++)
			snprintf(gen + 2 * i, 3, "%02x", rnd[i]);
		name = gen;
	}
	snprintf(ret_name, name_size, "%s", name);
	snprintf(ret_data, data_size, "%s/volumes/%s/_data", s->root, name);
	if ((r = hk_store_lock(s, err)) < 0)
		return r;
	if ((mkdirat(s->dirfd, "volumes", 0700) < 0 && errno != EEXIST) ||
	    (vols = openat(s->dirfd, "volumes", O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0) {
		r = hk_error_set(err, -errno, "image store: volumes");
		goto out;
	}
	if (mkdirat(vols, name, 0700) < 0) {
		r = errno == EEXIST ? 0 : hk_error_set(err, -errno, "volume \"%s\"", name);
		goto out;
	}
	/* New: its data dir, then its record, which makes it a volume. */
	hk_time_rfc3339(now, sizeof(now));
	snprintf(text, sizeof(text),
		 "{\"Name\": \"%s\", \"CreatedAt\": \"%s\", \"Anonymous\": %s}\n", name, now,
		 name == gen ? "true" : "false");
	if ((dir = openat(vols, name, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0 ||
	    mkdirat(dir, "_data", 0755) < 0) {
		r = hk_error_set(err, -errno, "volume \"%s\"", name);
		hk_rm_rf_at(vols, name);
		goto out;
	}
	if ((r = hk_write_atomic_at(dir, "volume.json", text, strlen(text), err)) < 0) {
		hk_rm_rf_at(vols, name);
		goto out;
	}
	*ret_created = true;
out:
	hk_store_unlock(s);
	return r;
}

int hk_copy_tree(int srcfd, int dstfd, struct hk_error *err)
{
	int dfd = dup(srcfd);
	DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
	int r = 0;

	if (!d) {
		if (dfd >= 0)
			close(dfd);
		return hk_error_set(err, -errno, "copy: opendir");
	}
	for (struct dirent *de; r == 0 && (de = readdir(d));) {
		const char *n = de->d_name;
		struct stat st;

		if (strcmp(n, ".") == 0 || strcmp(n, "..") == 0)
			continue;
		if (fstatat(srcfd, n, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			r = hk_error_set(err, -errno, "copy \"%s\"", n);
			break;
		}
		if (S_ISDIR(st.st_mode)) {
			_cleanup_close_ int from = -1, to = -1;
			if ((mkdirat(dstfd, n, st.st_mode & 07777) < 0 && errno != EEXIST) ||
			    (from = openat(srcfd, n,
					   O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0 ||
			    (to = openat(dstfd, n,
					 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
				r = hk_error_set(err, -errno, "copy \"%s\"", n);
				break;
			}
			r = hk_copy_tree(from, to, err);
		} else if (S_ISLNK(st.st_mode)) {
			char target[4096];
			ssize_t len = readlinkat(srcfd, n, target, sizeof(target) - 1);
			if (len < 0 || (target[len] = '\0', symlinkat(target, dstfd, n) < 0)) {
				r = hk_error_set(err, -errno, "copy \"%s\"", n);
				break;
			}
		} else if (S_ISREG(st.st_mode)) {
			_cleanup_close_ int from =
			    openat(srcfd, n, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
			_cleanup_close_ int to =
			    openat(dstfd, n, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
				   st.st_mode & 07777);
			char buf[65536];
			ssize_t k;
			if (from < 0 || to < 0) {
				r = hk_error_set(err, -errno, "copy \"%s\"", n);
				break;
			}
			while ((k = read(from, buf, sizeof(buf))) > 0)
				if (write(to, buf, (size_t)k) != k) {
					k = -1;
					break;
				}
			if (k < 0) {
				r = hk_error_set(err, -errno, "copy \"%s\"", n);
				break;
			}
		} else {
			continue; /* no device nodes, fifos or sockets into a volume */
		}
		if (fchownat(dstfd, n, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) < 0 ||
		    (!S_ISLNK(st.st_mode) && fchmodat(dstfd, n, st.st_mode & 07777, 0) < 0))
			r = hk_error_set(err, -errno, "copy \"%s\": owner and mode", n);
	}
	closedir(d);
	return r;
}

/* How many containers' records (those being made too) name volume name in their mounts. */
static unsigned count_users(struct hk_store *s, const char *name)
{
	_cleanup_close_ int parent =
	    openat(s->dirfd, "containers", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	unsigned users = 0;
	struct dirent *de;
	int dfd;
	DIR *d;

	if (parent < 0 || (dfd = dup(parent)) < 0)
		return 0;
	if (!(d = fdopendir(dfd))) {
		close(dfd);
		return 0;
	}
	while ((de = readdir(d))) {
		_cleanup_free_ char *text = NULL;
		struct hk_json *rec = NULL, *mounts;
		struct hk_error err = {0};
		char path[300];
		size_t len;

		if (de->d_name[0] == '.' &&
		    strncmp(de->d_name, HK_CTR_NEW, strlen(HK_CTR_NEW)) != 0)
			continue;
		snprintf(path, sizeof(path), "%s/container.json", de->d_name);
		if (hk_read_regular_file_at(parent, path, 1 << 20, &text, &len, &err) < 0 ||
		    hk_json_parse(text, len, &rec, &err) < 0)
			continue;
		mounts = hk_json_get(rec, "Mounts");
		for (size_t i = 0; mounts && mounts->type == HK_JSON_ARRAY && i < mounts->n; i++) {
			const char *v = hk_json_get_string(mounts->items[i], "Name");
			if (v && strcmp(v, name) == 0) {
				users++;
				break;
			}
		}
		hk_json_free(rec);
	}
	closedir(d);
	return users;
}

unsigned hk_volume_users(struct hk_store *s, const char *name)
{
	return count_users(s, name);
}

int hk_volume_remove(struct hk_store *s, const char *name, bool force, struct hk_error *err)
{
	_cleanup_close_ int vols = openat(s->dirfd, "volumes", O_PATH | O_DIRECTORY | O_CLOEXEC);
	unsigned users;
	int r;

	if (!hk_ctr_name_valid(name) || vols < 0 ||
	    faccessat(vols, name, F_OK, AT_SYMLINK_NOFOLLOW) < 0)
		return hk_error_setx(err, -ENOENT, "no such volume: \"%s\"", name);
	if ((r = hk_store_lock(s, err)) < 0)
		return r;
	if (!force && (users = count_users(s, name)) > 0) {
		r = hk_error_setx(err, -EBUSY,
				  "volume \"%s\" is in use by %u container%s: remove %s first",
				  name, users, users == 1 ? "" : "s", users == 1 ? "it" : "them");
	} else if ((r = hk_rm_rf_at(vols, name)) < 0) {
		r = hk_error_set(err, r, "remove volume \"%s\"", name);
	}
	hk_store_unlock(s);
	return r;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(hk_json_get_string(*(struct hk_json *const *)a, "Name"),
		      hk_json_get_string(*(struct hk_json *const *)b, "Name"));
}

int hk_volume_list(struct hk_store *s, struct hk_json **ret, struct hk_error *err)
{
	_cleanup_close_ int vols = openat(s->dirfd, "volumes", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct hk_json *list = hk_json_new(HK_JSON_ARRAY);
	struct dirent *de;
	DIR *d;
	int dfd;

	*ret = list;
	if (vols < 0)
		return errno == ENOENT ? 0 : hk_error_set(err, -errno, "image store: volumes");
	if ((dfd = dup(vols)) < 0 || !(d = fdopendir(dfd))) {
		if (dfd >= 0)
			close(dfd);
		return hk_error_set(err, -errno, "image store: volumes");
	}
	while ((de = readdir(d))) {
		_cleanup_free_ char *text = NULL;
		struct hk_json *v = NULL;
		struct hk_error e = {0};
		char path[300];
		size_t len;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/volume.json", de->d_name);
		if (hk_read_regular_file_at(vols, path, 1 << 16, &text, &len, &e) < 0 ||
		    hk_json_parse(text, len, &v, &e) < 0 || !hk_json_get_string(v, "Name")) {
			hk_json_free(v);
			continue;
		}
		snprintf(path, sizeof(path), "%s/volumes/%s/_data", s->root, de->d_name);
		hk_json_set(v, "Mountpoint", hk_json_new_string(path));
		hk_json_push(list, v);
	}
	closedir(d);
	if (list->n > 1)
		qsort(list->items, list->n, sizeof(*list->items), name_cmp);
	return 0;
}
