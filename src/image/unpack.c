// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Layer unpacking (unpack.h). libarchive parses the tar formats (ustar, pax,
 * GNU, with xattrs); it is fed by our own decoder and never writes a file
 * itself: each entry is made here, below a parent directory that was opened
 * inside the layer with no symlink on the way (hk_path_open_in_root with
 * HK_RESOLVE_NO_SYMLINKS), with O_NOFOLLOW and *at() calls on that fd.
 */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "paths.h"
#include "unpack.h"
#include "log.h"
#include "fsutil.h"
#include "util.h"

#define WHITEOUT_PREFIX ".wh."
#define WHITEOUT_OPAQUE ".wh..wh..opq"

struct reader {
	struct hk_source src;
	struct hk_error *err;
	char buf[128 * 1024];
};

static la_ssize_t read_cb(struct archive *a, void *data, const void **ret)
{
	struct reader *rd = data;
	ssize_t n = rd->src.read(rd->src.ctx, rd->buf, sizeof(rd->buf), rd->err);

	if (n < 0) {
		archive_set_error(a, EIO, "%s", rd->err->msg);
		return -1;
	}
	*ret = rd->buf;
	return n;
}

/*
 * The entry's name, made relative and checked: "./a/b" and "a/b/" become
 * "a/b"; the root itself becomes ""; absolute names and ".." are refused.
 */
static int clean_name(const char *raw, char *out, size_t size, struct hk_error *err)
{
	size_t len = 0;

	if (raw[0] == '/')
		return hk_error_setx(err, -EPERM, "entry \"%s\": an absolute path", raw);
	for (const char *p = raw; *p;) {
		const char *e = strchrnul(p, '/');
		size_t n = (size_t)(e - p);

		if (n == 2 && p[0] == '.' && p[1] == '.')
			return hk_error_setx(err, -EPERM, "entry \"%s\": \"..\" in the path", raw);
		if (n && !(n == 1 && p[0] == '.')) {
			if (len + n + 2 > size)
				return hk_error_setx(err, -ENAMETOOLONG,
						     "entry \"%.64s...\": too long", raw);
			if (len)
				out[len++] = '/';
			memcpy(out + len, p, n);
			len += n;
		}
		p = *e ? e + 1 : e;
	}
	out[len] = '\0';
	return 0;
}

/* Split "a/b/c" into its parent "a/b" (in place) and its name "c". */
static const char *split_last(char *path)
{
	char *slash = strrchr(path, '/');

	if (!slash) {
		memmove(path + 1, path, strlen(path) + 1);
		path[0] = '\0';
		return path + 1;
	}
	*slash = '\0';
	return slash + 1;
}

struct unpack {
	int rootfd;
	struct hk_unpack_stats *stats;
	bool root; /* we may chown and keep set-id bits */
	char parent[4096];
	int parentfd; /* an O_PATH fd of parent, kept while entries share it */
};

/* The parent directory of an entry, inside the layer, with no symlink on the way. */
static int open_parent(struct unpack *u, const char *entry, const char *parent,
		       struct hk_error *err)
{
	int fd, r;

	if (u->parentfd >= 0 && strcmp(parent, u->parent) == 0)
		return u->parentfd;
	if (u->parentfd >= 0)
		close(u->parentfd);
	u->parentfd = -1;
	if (!*parent)
		fd = openat(u->rootfd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	else if ((r = hk_path_open_in_root(u->rootfd, parent,
					   HK_RESOLVE_MKDIR | HK_RESOLVE_NO_SYMLINKS, &fd, err)) <
		 0) {
		if (r == -ELOOP)
			return hk_error_setx(err, -ELOOP,
					     "entry \"%s\": its directory \"%s\" is (or goes "
					     "through) a symlink; refusing to write through it",
					     entry, parent);
		return hk_error_prefix(err, "entry \"%s\"", entry);
	}
	if (fd < 0)
		return hk_error_set(err, -errno, "entry \"%s\"", entry);
	snprintf(u->parent, sizeof(u->parent), "%s", parent);
	u->parentfd = fd;
	return fd;
}

/* Make room for a new entry: a later entry replaces an earlier one. */
static int remove_old(int dirfd, const char *name, bool keep_dir)
{
	struct stat st;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (S_ISDIR(st.st_mode)) {
		if (keep_dir)
			return 0;
		return hk_rm_rf_at(dirfd, name);
	}
	return unlinkat(dirfd, name, 0) < 0 ? -errno : 0;
}

static int copy_data(struct archive *a, int fd, la_int64_t entry_size, const char *entry,
		     struct hk_error *err)
{
	const void *buf;
	size_t size;
	la_int64_t offset, written = 0;
	int r;

	while ((r = archive_read_data_block(a, &buf, &size, &offset)) == ARCHIVE_OK) {
		/* Sparse files: a hole is a seek, as tar itself extracts them. */
		if (offset > written && lseek(fd, offset, SEEK_SET) < 0)
			return hk_error_set(err, -errno, "entry \"%s\"", entry);
		for (size_t done = 0; done < size;) {
			ssize_t n = write(fd, (const char *)buf + done, size - done);
			if (n < 0)
				return hk_error_set(err, -errno, "write entry \"%s\"", entry);
			done += (size_t)n;
		}
		written = offset + (la_int64_t)size;
	}
	if (r != ARCHIVE_EOF)
		return err->code ? err->code
				 : hk_error_setx(err, -EIO, "entry \"%s\": %s", entry,
						 archive_error_string(a));
	/* A sparse file that ends in a hole. */
	if (written < entry_size && ftruncate(fd, entry_size) < 0)
		return hk_error_set(err, -errno, "entry \"%s\"", entry);
	return 0;
}

/*
 * Extended attributes of the entry dirfd/file, but never overlayfs's own.
 * The path goes through dirfd's magic link, which names the directory
 * already opened inside the layer, and lsetxattr(2) does not follow the
 * last component, so a symlink gets the xattr itself.
 */
static int set_xattrs(struct archive_entry *e, int dirfd, const char *file, const char *entry,
		      struct hk_error *err)
{
	const char *name;
	const void *value;
	size_t size;
	char path[PATH_MAX], fdp[32];

	archive_entry_xattr_reset(e);
	while (archive_entry_xattr_next(e, &name, &value, &size) == ARCHIVE_OK) {
		if (strncmp(name, "trusted.overlay.", 16) == 0 ||
		    strncmp(name, "user.overlay.", 13) == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", hk_fd_path(dirfd, fdp), file);
		if (lsetxattr(path, name, value, size, 0) < 0 && errno != ENOTSUP)
			return hk_error_set(err, -errno, "entry \"%s\": xattr %s", entry, name);
	}
	return 0;
}

/*
 * Owner, mode and time. made says the entry was just created with its mode
 * (the umask is 0 while we unpack): then only set-id bits, which chown
 * clears, need a chmod after it.
 */
static int set_meta(struct unpack *u, struct archive_entry *e, int dirfd, const char *name,
		    bool made, const char *entry, struct hk_error *err)
{
	mode_t mode = archive_entry_perm(e);
	struct timespec ts[2] = {{.tv_nsec = UTIME_OMIT}, {archive_entry_mtime(e), 0}};
	bool link = archive_entry_filetype(e) == AE_IFLNK;

	if (u->root && fchownat(dirfd, name, (uid_t)archive_entry_uid(e),
				(gid_t)archive_entry_gid(e), AT_SYMLINK_NOFOLLOW) < 0)
		return hk_error_set(err, -errno, "entry \"%s\": chown", entry);
	if (!u->root)
		mode &= ~(mode_t)(S_ISUID | S_ISGID);
	/* chown clears set-id bits, so the mode comes after it. */
	if (!link && !(made && !(mode & (S_ISUID | S_ISGID))) && fchmodat(dirfd, name, mode, 0) < 0)
		return hk_error_set(err, -errno, "entry \"%s\": chmod", entry);
	if (archive_entry_mtime_is_set(e))
		utimensat(dirfd, name, ts, AT_SYMLINK_NOFOLLOW);
	return 0;
}

static int make_whiteout(struct unpack *u, int dirfd, const char *name, const char *entry,
			 struct hk_error *err)
{
	int r;

	if (strcmp(name, WHITEOUT_OPAQUE) == 0) {
		char path[32];

		/* setxattr(2) follows the magic link to the directory itself. */
		if (setxattr(hk_fd_path(dirfd, path), "trusted.overlay.opaque", "y", 1, 0) < 0)
			return hk_error_set(err, -errno, "entry \"%s\": opaque directory", entry);
		return 0;
	}
	name += strlen(WHITEOUT_PREFIX);
	/* Other ".wh..wh." names are aufs's bookkeeping, not whiteouts. */
	if (strncmp(name, WHITEOUT_PREFIX, strlen(WHITEOUT_PREFIX)) == 0)
		return 0;
	if (!*name || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return hk_error_setx(err, -EPERM, "entry \"%s\": a whiteout of \"%s\"", entry,
				     *name ? name : "nothing");
	if ((r = remove_old(dirfd, name, false)) < 0)
		return hk_error_set(err, r, "entry \"%s\"", entry);
	(void)u;
	if (mknodat(dirfd, name, S_IFCHR | 0, makedev(0, 0)) < 0)
		return hk_error_set(err, -errno, "entry \"%s\": whiteout", entry);
	return 0;
}

static int make_hardlink(struct unpack *u, struct archive_entry *e, int dirfd, const char *name,
			 const char *entry, struct hk_error *err)
{
	char target[4096];
	_cleanup_close_ int tfd = -1;
	const char *tname;
	int r;

	if ((r = clean_name(archive_entry_hardlink(e), target, sizeof(target), err)) < 0)
		return hk_error_prefix(err, "hardlink \"%s\"", entry);
	tname = split_last(target);
	if ((r = hk_path_open_in_root(u->rootfd, *target ? target : ".", HK_RESOLVE_NO_SYMLINKS,
				      &tfd, err)) < 0)
		return hk_error_prefix(err, "entry \"%s\": hardlink target", entry);
	if (linkat(tfd, tname, dirfd, name, 0) < 0)
		return hk_error_set(err, -errno,
				    "entry \"%s\": hardlink to \"%s\" (not a file of this layer)",
				    entry, archive_entry_hardlink(e));
	return 0;
}

static int make_entry(struct unpack *u, struct archive *a, struct archive_entry *e,
		      const char *entry, char *path, struct hk_error *err)
{
	mode_t type = archive_entry_filetype(e);
	const char *name;
	bool made = false;
	int dirfd, r;

	if (!*path) /* the root: only its metadata */
		return set_meta(u, e, u->rootfd, ".", false, entry, err);
	name = split_last(path);
	if ((dirfd = open_parent(u, entry, path, err)) < 0)
		return dirfd;
	if (strncmp(name, WHITEOUT_PREFIX, strlen(WHITEOUT_PREFIX)) == 0)
		return make_whiteout(u, dirfd, name, entry, err);
	if (archive_entry_hardlink(e))
		type = 0;
	if ((r = remove_old(dirfd, name, type == AE_IFDIR)) < 0)
		return hk_error_set(err, r, "entry \"%s\"", entry);
	switch (type) {
	case 0:
		return make_hardlink(u, e, dirfd, name, entry, err);
	case AE_IFDIR:
		made = mkdirat(dirfd, name, archive_entry_perm(e) & 01777) == 0;
		if (!made && errno != EEXIST)
			return hk_error_set(err, -errno, "entry \"%s\": mkdir", entry);
		break;
	case AE_IFREG: {
		_cleanup_close_ int fd =
		    openat(dirfd, name, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC,
			   archive_entry_perm(e) & 0777);
		if (fd < 0)
			return hk_error_set(err, -errno, "entry \"%s\": create", entry);
		if ((r = copy_data(a, fd, archive_entry_size(e), entry, err)) < 0)
			return r;
		made = true;
		break;
	}
	case AE_IFLNK:
		if (symlinkat(archive_entry_symlink(e), dirfd, name) < 0)
			return hk_error_set(err, -errno, "entry \"%s\": symlink", entry);
		break;
	case AE_IFIFO:
		if (mknodat(dirfd, name, S_IFIFO | (archive_entry_perm(e) & 0777), 0) < 0)
			return hk_error_set(err, -errno, "entry \"%s\": fifo", entry);
		made = true;
		break;
	case AE_IFCHR:
	case AE_IFBLK:
		u->stats->skipped_devices++;
		hk_debug("entry \"%s\": a device node, not made (the runtime makes /dev)", entry);
		return 0;
	default:
		return hk_error_setx(err, -EPERM, "entry \"%s\": a file type tar cannot hold",
				     entry);
	}
	if ((r = set_xattrs(e, dirfd, name, entry, err)) < 0)
		return r;
	return set_meta(u, e, dirfd, name, made, entry, err);
}

int hk_unpack_tar(struct hk_source src, int dirfd, struct hk_unpack_stats *stats,
		  struct hk_error *err)
{
	struct unpack u = {.rootfd = dirfd, .stats = stats, .root = geteuid() == 0, .parentfd = -1};
	_cleanup_free_ struct reader *rd = hk_xmalloc(sizeof(*rd));
	struct archive *a = archive_read_new();
	struct archive_entry *e;
	char path[4096];
	mode_t old_umask;
	int r = 0, ar;

	rd->src = src;
	rd->err = err;
	/* Entries are made with their own modes; the caller's umask comes back after. */
	old_umask = umask(0);
	archive_read_support_format_tar(a);
	archive_read_support_format_gnutar(a);
	if (archive_read_open(a, rd, NULL, read_cb, NULL) != ARCHIVE_OK) {
		r = err->code
			? err->code
			: hk_error_setx(err, -EINVAL, "not a tar: %s", archive_error_string(a));
		goto out;
	}
	while ((ar = archive_read_next_header(a, &e)) == ARCHIVE_OK || ar == ARCHIVE_WARN) {
		const char *entry = archive_entry_pathname(e);

		if (!entry) {
			r = hk_error_setx(err, -EINVAL, "an entry with no name");
			goto out;
		}
		if ((r = clean_name(entry, path, sizeof(path), err)) < 0 ||
		    (r = make_entry(&u, a, e, entry, path, err)) < 0)
			goto out;
		stats->entries++;
	}
	if (ar != ARCHIVE_EOF) {
		r = err->code ? err->code
			      : hk_error_setx(err, -EINVAL, "not a valid tar: %s",
					      archive_error_string(a));
		goto out;
	}
	/* What follows the tar's end (its padding) is hashed too. */
	while ((r = (int)src.read(src.ctx, rd->buf, sizeof(rd->buf), err)) > 0)
		;
out:
	umask(old_umask);
	if (u.parentfd >= 0)
		close(u.parentfd);
	archive_read_free(a);
	return r < 0 ? r : 0;
}
