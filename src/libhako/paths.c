/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <unistd.h>
#include <linux/magic.h>
#include <linux/openat2.h>

#include "paths.h"
#include "util.h"

#define MAX_SYMLINKS 40 /* as the kernel's path walk, see path_resolution(7) */

const char *hk_fd_path(int fd, char buf[static 32])
{
	snprintf(buf, 32, "/proc/self/fd/%d", fd);
	return buf;
}

/*
 * Reopen the already-resolved prefix done (relative, no symlinks in it) from
 * the root. openat2(RESOLVE_NO_SYMLINKS) fails if the container swapped a
 * component for a symlink since we walked it; without openat2 (before Linux
 * 5.6) a walk with O_NOFOLLOW gives the same guarantee.
 */
static int reopen_prefix(int rootfd, const char *done)
{
	struct open_how how = {
	    .flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
	    .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};
	char buf[PATH_MAX];
	int fd;

	fd = (int)syscall(SYS_openat2, rootfd, *done ? done : ".", &how, sizeof(how));
	if (fd >= 0 || errno != ENOSYS)
		return fd;
	fd = openat(rootfd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	snprintf(buf, sizeof(buf), "%s", done);
	for (char *save = NULL, *c = strtok_r(buf, "/", &save); fd >= 0 && c;
	     c = strtok_r(NULL, "/", &save)) {
		int next = openat(fd, c, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		close(fd);
		fd = next;
	}
	return fd;
}

static int create_missing(int dirfd, const char *name, bool as_file)
{
	if (as_file) {
		int fd =
		    openat(dirfd, name, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
		if (fd < 0)
			return errno == EEXIST ? 0 : -errno;
		close(fd);
		return 0;
	}
	if (mkdirat(dirfd, name, 0755) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

static int walk_in_root(int rootfd, const char *path, int flags, int *ret_fd, struct hk_error *err);

static bool is_procfs(int fd)
{
	struct statfs sfs;

	return fstatfs(fd, &sfs) == 0 && sfs.f_type == PROC_SUPER_MAGIC;
}

int hk_path_open_in_root(int rootfd, const char *path, int flags, int *ret_fd, struct hk_error *err)
{
	/*
	 * The fast way first: one openat2(RESOLVE_BENEATH) does in the kernel
	 * what the walk below does by hand, for a path that exists and has no
	 * absolute symlink or ".." out of the root. Anything else (a missing
	 * component to create, a symlink to re-root, an error to explain) takes
	 * the walk.
	 */
	struct open_how how = {
	    .flags = O_PATH | O_CLOEXEC,
	    .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS |
		       (flags & HK_RESOLVE_NO_SYMLINKS ? RESOLVE_NO_SYMLINKS : 0),
	};
	int fd =
	    (int)syscall(SYS_openat2, rootfd, path[0] == '/' ? path + 1 : path, &how, sizeof(how));

	if (fd >= 0 && path[strspn(path, "/")]) {
		*ret_fd = fd;
		return 0;
	}
	if (fd >= 0)
		close(fd);
	return walk_in_root(rootfd, path, flags, ret_fd, err);
}

static int walk_in_root(int rootfd, const char *path, int flags, int *ret_fd, struct hk_error *err)
{
	char todo[PATH_MAX], done[PATH_MAX] = "", tmp[PATH_MAX];
	int dirfd, links = 0;
	char *p = todo;

	if (snprintf(todo, sizeof(todo), "%s", path) >= (int)sizeof(todo))
		return hk_error_setx(err, -ENAMETOOLONG, "path \"%s\": too long", path);
	dirfd = openat(rootfd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		return hk_error_set(err, -errno, "open the rootfs");

	for (;;) {
		char *comp, *next;
		bool last;
		struct stat st;
		int fd;

		while (*p == '/')
			p++;
		if (!*p)
			break;
		comp = p;
		next = strchr(p, '/');
		if (next)
			*next++ = '\0';
		else
			next = p + strlen(p);
		while (*next == '/')
			next++;
		p = next;
		last = *p == '\0';

		if (strcmp(comp, ".") == 0)
			continue;
		if (strcmp(comp, "..") == 0) {
			char *slash = strrchr(done, '/');
			if (!*done) {
				close(dirfd);
				return hk_error_setx(
				    err, -EXDEV, "path \"%s\": \"..\" points outside the rootfs",
				    path);
			}
			if (slash)
				*slash = '\0';
			else
				done[0] = '\0';
			close(dirfd);
			dirfd = reopen_prefix(rootfd, done);
			if (dirfd < 0)
				return hk_error_set(err, -errno, "path \"%s\": reopen \"/%s\"",
						    path, done);
			continue;
		}

		fd = openat(dirfd, comp, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0 && errno == ENOENT &&
		    (flags & (HK_RESOLVE_MKDIR | HK_RESOLVE_MKFILE_LAST))) {
			int r =
			    create_missing(dirfd, comp, last && (flags & HK_RESOLVE_MKFILE_LAST));
			if (r < 0) {
				close(dirfd);
				return hk_error_set(err, r, "path \"%s\": create \"%s/%s\"", path,
						    done, comp);
			}
			fd = openat(dirfd, comp, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		}
		if (fd < 0 || fstat(fd, &st) < 0) {
			int e = errno;
			close(dirfd);
			if (fd >= 0)
				close(fd);
			return hk_error_set(err, -e, "path \"%s\": open \"/%s%s%s\"", path, done,
					    *done ? "/" : "", comp);
		}

		if (S_ISLNK(st.st_mode) && (flags & HK_RESOLVE_NO_SYMLINKS)) {
			close(fd);
			close(dirfd);
			return hk_error_setx(err, -ELOOP,
					     "path \"%s\": \"/%s%s%s\" is a symlink, which is not "
					     "followed here",
					     path, done, *done ? "/" : "", comp);
		}
		if (S_ISLNK(st.st_mode)) {
			char target[PATH_MAX];
			ssize_t n = readlinkat(fd, "", target, sizeof(target) - 1);
			close(fd);
			if (n < 0 || ++links > MAX_SYMLINKS) {
				int e = n < 0 ? errno : ELOOP;
				close(dirfd);
				return hk_error_set(err, -e, "path \"%s\": symlink \"/%s%s%s\"",
						    path, done, *done ? "/" : "", comp);
			}
			target[n] = '\0';
			/* procfs's own symlinks are relative ("self" -> "1"); an absolute
			 * or "socket:[N]" target there is a magic link (fd/N, cwd, exe,
			 * root), which jumps to whatever it names, on the host too. */
			if (is_procfs(dirfd) && (target[0] == '/' || strchr(target, ':'))) {
				close(dirfd);
				return hk_error_setx(
				    err, -ELOOP,
				    "path \"%s\": \"/%s%s%s\" is a /proc magic link, "
				    "which is not followed",
				    path, done, *done ? "/" : "", comp);
			}
			/* Check the symlink's target lexically from where it stands. */
			if (target[0] != '/') {
				int depth = 0;
				for (char *d = done; *d; d++)
					depth += (d == done || d[-1] == '/') && *d != '/';
				snprintf(tmp, sizeof(tmp), "%s", target);
				for (char *save = NULL, *c = strtok_r(tmp, "/", &save); c;
				     c = strtok_r(NULL, "/", &save)) {
					if (strcmp(c, "..") == 0)
						depth--;
					else if (strcmp(c, ".") != 0)
						depth++;
					if (depth < 0) {
						close(dirfd);
						return hk_error_setx(
						    err, -EXDEV,
						    "path \"%s\": symlink \"/%s%s%s\" -> \"%s\" "
						    "points outside the rootfs",
						    path, done, *done ? "/" : "", comp, target);
					}
				}
			}
			if (snprintf(tmp, sizeof(tmp), "%s/%s", target, p) >= (int)sizeof(tmp)) {
				close(dirfd);
				return hk_error_setx(err, -ENAMETOOLONG, "path \"%s\": too long",
						     path);
			}
			memcpy(todo, tmp, sizeof(todo));
			p = todo;
			if (target[0] == '/') {
				done[0] = '\0';
				close(dirfd);
				dirfd = openat(rootfd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
			}
			continue;
		}
		if (!last && !S_ISDIR(st.st_mode)) {
			close(fd);
			close(dirfd);
			return hk_error_setx(err, -ENOTDIR,
					     "path \"%s\": \"/%s%s%s\" is not a directory", path,
					     done, *done ? "/" : "", comp);
		}
		if (strlen(done) + strlen(comp) + 2 >= sizeof(done)) {
			close(fd);
			close(dirfd);
			return hk_error_setx(err, -ENAMETOOLONG, "path \"%s\": too long", path);
		}
		if (*done)
			strcat(done, "/");
		strcat(done, comp);
		close(dirfd);
		dirfd = fd;
	}
	*ret_fd = dirfd;
	return 0;
}
