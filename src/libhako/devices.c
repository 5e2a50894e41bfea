/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "log.h"
#include "mount.h"
#include "paths.h"
#include "sys.h"
#include "util.h"

/* The nodes every container gets in its /dev (config.md, "Default Devices"). */
static const struct hk_device default_devices[] = {
    {"/dev/null", 'c', 1, 3, true, 0666, 0, 0},	   {"/dev/zero", 'c', 1, 5, true, 0666, 0, 0},
    {"/dev/full", 'c', 1, 7, true, 0666, 0, 0},	   {"/dev/random", 'c', 1, 8, true, 0666, 0, 0},
    {"/dev/urandom", 'c', 1, 9, true, 0666, 0, 0}, {"/dev/tty", 'c', 5, 0, true, 0666, 0, 0},
};

static int create_device(int rootfd, const struct hk_device *d, bool in_userns,
			 struct hk_error *err)
{
	char parent[PATH_MAX], fdpath[32];
	const char *name;
	_cleanup_close_ int dirfd = -1, fd = -1;
	mode_t type = d->type == 'b' ? S_IFBLK : d->type == 'p' ? S_IFIFO : S_IFCHR;
	mode_t mode = d->has_mode ? d->mode : 0666;

	snprintf(parent, sizeof(parent), "%s", d->path);
	*strrchr(parent, '/') = '\0';
	name = strrchr(d->path, '/') + 1;
	if (!*name || !strcmp(name, "..") || !strcmp(name, "."))
		return hk_error_setx(err, -EINVAL, "device path \"%s\" is invalid", d->path);
	if (hk_path_open_in_root(rootfd, *parent ? parent : "/", HK_RESOLVE_MKDIR, &dirfd, err) < 0)
		return hk_error_prefix(err, "device \"%s\"", d->path);
	/* An O_PATH fd is not enough for mknodat(): reopen the directory itself. */
	fd = openat(AT_FDCWD, hk_fd_path(dirfd, fdpath), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return hk_error_set(err, -errno, "open \"%s\"", parent);
	unlinkat(fd, name, 0);
	if (!in_userns) {
		if (mknodat(fd, name, type | mode, makedev(d->major, d->minor)) < 0)
			return hk_error_set(err, -errno, "mknod \"%s\"", d->path);
		hk_debug("mknod(\"%s\", %c %lld:%lld) ok", d->path, d->type, (long long)d->major,
			 (long long)d->minor);
		if (fchmodat(fd, name, mode, 0) < 0 ||
		    fchownat(fd, name, d->uid, d->gid, AT_SYMLINK_NOFOLLOW) < 0)
			return hk_error_set(err, -errno, "chmod/chown \"%s\"", d->path);
		return 0;
	}
	/* A user namespace may not mknod(2): bind the host's node instead. */
	{
		_cleanup_close_ int target = -1;
		int f =
		    openat(fd, name, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (f < 0)
			return hk_error_set(err, -errno, "create \"%s\"", d->path);
		close(f);
		target = openat(fd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (target < 0)
			return hk_error_set(err, -errno, "open \"%s\"", d->path);
		return hk_sys_mount_fd(d->path, target, d->path, NULL, MS_BIND, NULL, err);
	}
}

static bool dev_is_mounted(const struct hk_spec *spec)
{
	for (size_t i = 0; i < spec->n_mounts; i++)
		if (strcmp(spec->mounts[i].destination, "/dev") == 0 &&
		    !(spec->mounts[i].flags & MS_BIND))
			return true;
	return false;
}

int hk_devices_setup(const struct hk_spec *spec, int rootfd, bool in_userns, struct hk_error *err)
{
	static const char *const links[][2] = {
	    {"/proc/self/fd", "fd"},
	    {"/proc/self/fd/0", "stdin"},
	    {"/proc/self/fd/1", "stdout"},
	    {"/proc/self/fd/2", "stderr"},
	};
	_cleanup_close_ int devfd = -1, dev = -1;
	char fdpath[32];

	/* Only a /dev that the config gave a fresh filesystem is ours to fill. */
	if (dev_is_mounted(spec)) {
		for (size_t i = 0; i < ARRAY_SIZE(default_devices); i++)
			if (create_device(rootfd, &default_devices[i], in_userns, err) < 0)
				return err->code;
		if (hk_path_open_in_root(rootfd, "/dev", 0, &devfd, err) < 0)
			return err->code;
		dev =
		    openat(AT_FDCWD, hk_fd_path(devfd, fdpath), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dev < 0)
			return hk_error_set(err, -errno, "open /dev");
		for (size_t i = 0; i < ARRAY_SIZE(links); i++)
			if (symlinkat(links[i][0], dev, links[i][1]) < 0 && errno != EEXIST)
				return hk_error_set(err, -errno, "symlink /dev/%s", links[i][1]);
		if (faccessat(dev, "pts/ptmx", F_OK, AT_SYMLINK_NOFOLLOW) == 0) {
			unlinkat(dev, "ptmx", 0);
			if (symlinkat("pts/ptmx", dev, "ptmx") < 0)
				return hk_error_set(err, -errno, "symlink /dev/ptmx");
		}
		hk_debug("symlink /dev/fd, /dev/stdin, /dev/stdout, /dev/stderr, /dev/ptmx ok");
	}
	for (size_t i = 0; i < spec->n_devices; i++)
		if (create_device(rootfd, &spec->devices[i], in_userns, err) < 0)
			return hk_error_prefix(err, "linux.devices");
	return 0;
}
