// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The overlay (rootfs.h). mount(2) takes its options in one page, which is
 * why docker stops at 128 layers and podman at what 4 KiB of lowerdir
 * names holds. The new mount API passes each option on its own: since
 * Linux 6.8 "lowerdir+" adds one layer per fsconfig(2) call, so an image may
 * have as many layers as overlayfs stacks (500). Each path is given as
 * /proc/self/fd/N of an O_PATH fd of the layer's dir, short whatever the
 * store's path. Older kernels get mount(2) with the layers' names relative
 * to the store's layers dir, which holds about 58 of them.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/mount.h>

#include "log.h"
#include "paths.h"
#include "rootfs.h"
#include "util.h"

static int fsconfig_str(int fsfd, const char *key, const char *value)
{
	return (int)syscall(SYS_fsconfig, fsfd, FSCONFIG_SET_STRING, key, value, 0);
}

static int layer_fd(struct hk_store *s, const char *diff_id, struct hk_error *err)
{
	char path[128];
	int fd;

	snprintf(path, sizeof(path), "layers/%s/diff", diff_id + 7);
	fd = openat(s->dirfd, path, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return hk_error_set(err, -errno, "layer %s", diff_id);
	return fd;
}

/* mount(2), for kernels before lowerdir+: names relative to layers/, from there. */
static int mount_legacy(struct hk_store *s, int condirfd, int targetfd, const char *const *ids,
			size_t n, bool throwaway, struct hk_error *err)
{
	_cleanup_close_ int cwd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	_cleanup_close_ int layers = openat(s->dirfd, "layers", O_PATH | O_DIRECTORY | O_CLOEXEC);
	struct hk_buf opts = HK_BUF_INIT;
	char c[32], target[64];
	int r = 0;

	hk_buf_adds(&opts, "lowerdir=");
	for (size_t i = n; i-- > 0;)
		hk_buf_addf(&opts, "%s%s/diff", i == n - 1 ? "" : ":", ids[i] + 7);
	hk_buf_addf(&opts, ",upperdir=%s/upper,workdir=%s/work%s", hk_fd_path(condirfd, c),
		    hk_fd_path(condirfd, c), throwaway ? ",volatile" : "");
	snprintf(target, sizeof(target), "%s/rootfs", hk_fd_path(targetfd, c));
	if (opts.len >= 4096)
		r = hk_error_setx(err, -E2BIG,
				  "%zu layers: this kernel has no \"lowerdir+\" (Linux 6.8), and "
				  "mount(2) takes one page of options",
				  n);
	else if (fchdir(layers) < 0 || mount("overlay", target, "overlay", 0, opts.buf) < 0)
		r = hk_error_set(err, -errno, "mount the overlay of %zu layers", n);
	if (fchdir(cwd) < 0 && r == 0)
		r = hk_error_set(err, -errno, "fchdir back");
	hk_buf_release(&opts);
	return r;
}

int hk_rootfs_mount(struct hk_store *s, int condirfd, int targetfd, const char *const *ids,
		    size_t n, bool throwaway, struct hk_error *err)
{
	_cleanup_close_ int fsfd = -1, mfd = -1;
	char path[32];
	int r;

	fsfd = (int)syscall(SYS_fsopen, "overlay", FSOPEN_CLOEXEC);
	if (fsfd < 0)
		return hk_error_set(err, -errno, "fsopen overlay");
	/* The top layer first: overlayfs lists lower dirs from the top down. */
	for (size_t i = n; i-- > 0;) {
		_cleanup_close_ int fd = layer_fd(s, ids[i], err);
		if (fd < 0)
			return fd;
		if (fsconfig_str(fsfd, "lowerdir+", hk_fd_path(fd, path)) < 0) {
			if (errno == EINVAL && i == n - 1) {
				hk_debug("overlay: no lowerdir+ here, mount(2) with lowerdir=");
				return mount_legacy(s, condirfd, targetfd, ids, n, throwaway, err);
			}
			return hk_error_set(err, -errno, "overlay: lowerdir+ layer %zu (%s)", i,
					    ids[i]);
		}
	}
	{
		_cleanup_close_ int up =
		    openat(condirfd, "upper", O_PATH | O_DIRECTORY | O_CLOEXEC);
		_cleanup_close_ int wk = openat(condirfd, "work", O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (up < 0 || wk < 0)
			return hk_error_set(err, -errno, "overlay: upper and work dirs");
		if (fsconfig_str(fsfd, "upperdir", hk_fd_path(up, path)) < 0 ||
		    fsconfig_str(fsfd, "workdir", hk_fd_path(wk, path)) < 0)
			return hk_error_set(err, -errno, "overlay: upperdir and workdir");
	}
	if (throwaway && syscall(SYS_fsconfig, fsfd, FSCONFIG_SET_FLAG, "volatile", NULL, 0) < 0)
		return hk_error_set(err, -errno, "overlay: volatile");
	if (syscall(SYS_fsconfig, fsfd, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
		return hk_error_set(err, -errno, "overlay of %zu layers", n);
	mfd = (int)syscall(SYS_fsmount, fsfd, FSMOUNT_CLOEXEC, 0);
	if (mfd < 0)
		return hk_error_set(err, -errno, "fsmount overlay");
	r = (int)syscall(SYS_move_mount, mfd, "", targetfd, "rootfs", MOVE_MOUNT_F_EMPTY_PATH);
	if (r < 0)
		return hk_error_set(err, -errno, "move_mount the overlay onto rootfs");
	hk_debug("overlay of %zu layers mounted on the container's rootfs%s", n,
		 throwaway ? " (volatile: never synced, the container is thrown away)" : "");
	return 0;
}

int hk_rootfs_mount_ro(struct hk_store *s, int condirfd, int targetfd, const char *const *ids,
		       size_t n, struct hk_error *err)
{
	_cleanup_close_ int fsfd = -1, mfd = -1, up = -1;
	char path[32];

	fsfd = (int)syscall(SYS_fsopen, "overlay", FSOPEN_CLOEXEC);
	if (fsfd < 0)
		return hk_error_set(err, -errno, "fsopen overlay");
	/* The upper dir as the top layer, no upper of its own: read only. */
	up = openat(condirfd, "upper", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (up < 0 || fsconfig_str(fsfd, "lowerdir+", hk_fd_path(up, path)) < 0)
		return hk_error_set(err, -errno, "overlay: the upper dir as a layer");
	for (size_t i = n; i-- > 0;) {
		_cleanup_close_ int fd = layer_fd(s, ids[i], err);
		if (fd < 0)
			return fd;
		if (fsconfig_str(fsfd, "lowerdir+", hk_fd_path(fd, path)) < 0)
			return hk_error_set(err, -errno, "overlay: lowerdir+ layer %zu (%s)", i,
					    ids[i]);
	}
	if (syscall(SYS_fsconfig, fsfd, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
		return hk_error_set(err, -errno, "overlay of %zu layers", n + 1);
	mfd = (int)syscall(SYS_fsmount, fsfd, FSMOUNT_CLOEXEC, MOUNT_ATTR_RDONLY);
	if (mfd < 0)
		return hk_error_set(err, -errno, "fsmount overlay");
	if (syscall(SYS_move_mount, mfd, "", targetfd, "rootfs", MOVE_MOUNT_F_EMPTY_PATH) < 0)
		return hk_error_set(err, -errno, "move_mount the overlay onto rootfs");
	return 0;
}
