// SPDX-License-Identifier: GPL-2.0-or-later
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fsutil.h"
#include "log.h"
#include "util.h"

static int rm_tree(int parentfd, const char *name, dev_t dev)
{
	struct stat st;
	DIR *dir;
	int fd, r = 0;

	if (unlinkat(parentfd, name, 0) == 0 || errno == ENOENT)
		return 0;
	if (errno != EISDIR && errno != EPERM)
		return -errno;
	fd = openat(parentfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || (dev && st.st_dev != dev)) {
		close(fd);
		return -EBUSY;
	}
	if (!(dir = fdopendir(fd))) {
		close(fd);
		return -errno;
	}
	for (struct dirent *de; (de = readdir(dir));) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		int q = rm_tree(dirfd(dir), de->d_name, st.st_dev);
		if (q < 0 && !r)
			r = q;
	}
	closedir(dir);
	if (r == 0 && unlinkat(parentfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
		r = -errno;
	return r;
}

int hk_rm_rf_at(int dirfd, const char *name)
{
	/* "." and ".." would be the directory itself or its parent: never. */
	if (!*name || strcmp(name, ".") == 0 || strcmp(name, "..") == 0 || strchr(name, '/'))
		return -EINVAL;
	return rm_tree(dirfd, name, 0);
}

void hk_dir_mark_topdir(int dirfd, const char *name)
{
	_cleanup_close_ int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int flags;

	if (fd >= 0 && ioctl(fd, FS_IOC_GETFLAGS, &flags) == 0 && !(flags & FS_TOPDIR_FL)) {
		flags |= FS_TOPDIR_FL;
		if (ioctl(fd, FS_IOC_SETFLAGS, &flags) == 0)
			hk_debug("chattr +T %s: the dirs made in it are spread over the filesystem",
				 name);
	}
}
