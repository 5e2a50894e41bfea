/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * tmpcopyup: podman mounts a tmpfs over a directory of a read-only image
 * (/tmp, /run, /var/tmp) and asks for what the image had there to be copied
 * into it. The copy walks by file descriptor with O_NOFOLLOW, below the
 * directory the tmpfs covers, and never follows a symlink of the image.
 */
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "copyup.h"
#include "util.h"

#define MAX_DEPTH 64

struct linux_dirent64 {
	unsigned long long d_ino;
	long long d_off;
	unsigned short d_reclen;
	unsigned char d_type;
	char d_name[];
};

static int copy_file(int src, int dst, const char *name, const struct stat *st)
{
	_cleanup_close_ int in = openat(src, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	_cleanup_close_ int out = -1;
	char buf[8192];
	ssize_t n;

	if (in < 0)
		return -errno;
	out = openat(dst, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		     st->st_mode & 07777);
	if (out < 0)
		return -errno;
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)n) != n)
			return -EIO;
	if (n < 0)
		return -errno;
	if (fchown(out, st->st_uid, st->st_gid) < 0 || fchmod(out, st->st_mode & 07777) < 0)
		return -errno;
	return 0;
}

static int copy_entry(int src, int dst, const char *name, int depth)
{
	struct stat st;
	char target[PATH_MAX];
	ssize_t n;

	if (fstatat(src, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	switch (st.st_mode & S_IFMT) {
	case S_IFREG:
		return copy_file(src, dst, name, &st);
	case S_IFLNK:
		n = readlinkat(src, name, target, sizeof(target) - 1);
		if (n < 0)
			return -errno;
		target[n] = '\0';
		if (symlinkat(target, dst, name) < 0 ||
		    fchownat(dst, name, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) < 0)
			return -errno;
		return 0;
	case S_IFDIR: {
		_cleanup_close_ int s = -1, d = -1;
		if (mkdirat(dst, name, 0700) < 0)
			return -errno;
		s = openat(src, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		d = openat(dst, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (s < 0 || d < 0)
			return -errno;
		int r = hk_copy_tree(s, d, depth + 1);
		if (r < 0)
			return r;
		if (fchown(d, st.st_uid, st.st_gid) < 0 || fchmod(d, st.st_mode & 07777) < 0)
			return -errno;
		return 0;
	}
	case S_IFIFO:
		return mknodat(dst, name, st.st_mode, 0) < 0 ? -errno : 0;
	default:
		return 0; /* sockets and devices are not copied */
	}
}

int hk_copy_tree(int src, int dst, int depth)
{
	char buf[4096];
	long n;
	_cleanup_close_ int dir = openat(src, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (depth > MAX_DEPTH)
		return -ELOOP;
	if (dir < 0)
		return -errno;
	while ((n = syscall(SYS_getdents64, dir, buf, sizeof(buf))) > 0) {
		for (long off = 0; off < n;) {
			struct linux_dirent64 *de = (struct linux_dirent64 *)(buf + off);
			off += de->d_reclen;
			if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
				continue;
			int r = copy_entry(dir, dst, de->d_name, depth);
			if (r < 0)
				return r;
		}
	}
	return n < 0 ? -errno : 0;
}
