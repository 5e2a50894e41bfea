/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cgroup.h"
#include "copyup.h"
#include "log.h"
#include "mount.h"
#include "paths.h"
#include "sys.h"
#include "util.h"

#define PROPAGATION_FLAGS (MS_SHARED | MS_SLAVE | MS_PRIVATE | MS_UNBINDABLE)
/* What a bind mount cannot take at once and needs a remount for. */
#define REMOUNT_FLAGS                                                                              \
	(MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME | MS_NODIRATIME | MS_RELATIME | \
	 MS_STRICTATIME | MS_SYNCHRONOUS | MS_DIRSYNC | MS_MANDLOCK | MS_NOSYMFOLLOW)
#ifndef MS_NOSYMFOLLOW
#define MS_NOSYMFOLLOW 256
#endif

struct mount_attr_arg {
	unsigned long long attr_set, attr_clr, propagation, userns_fd;
};

/*
 * pivot_root(2) refuses a new root whose parent mount is shared. Walk up from
 * the rootfs to the mount it sits on (mount(2) with MS_PRIVATE fails with
 * EINVAL on a directory that is no mount point) and make that one private.
 */
static int make_parent_mount_private(const char *root_path, struct hk_error *err)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s", root_path);
	for (char *slash; (slash = strrchr(path, '/'));) {
		if (slash == path)
			slash[1] = '\0';
		else
			*slash = '\0';
		if (mount(NULL, path, NULL, MS_PRIVATE, NULL) == 0) {
			hk_debug("mount(\"\", \"%s\", \"\", MS_PRIVATE, \"\") ok", path);
			return 0;
		}
		if (errno != EINVAL)
			return hk_error_set(err, -errno, "make \"%s\" private", path);
		if (slash == path)
			break;
	}
	return hk_error_setx(err, -EINVAL, "no mount point above rootfs \"%s\"", root_path);
}

int hk_mount_prepare_rootfs(const struct hk_spec *spec, struct hk_error *err)
{
	unsigned long prop = spec->rootfs_propagation ? spec->rootfs_propagation : MS_PRIVATE;

	/* By default nothing we mount may propagate back to the host: make the
	 * whole tree private. A config may ask for slave (host mounts reach us)
	 * or shared (ours reach the host too, under the host's shared mounts). */
	if (hk_sys_mount(NULL, "/", NULL, MS_REC | prop, NULL, err) < 0)
		return err->code;
	if ((prop & MS_SHARED) && make_parent_mount_private(spec->root_path, err) < 0)
		return hk_error_prefix(err, "linux.rootfsPropagation");
	/* pivot_root(2) needs new_root to be a mount point: bind it onto itself. */
	if (hk_sys_mount(spec->root_path, spec->root_path, NULL, MS_BIND | MS_REC, NULL, err) < 0)
		return hk_error_prefix(err, "rootfs");
	return 0;
}

/* Reapply flags that a bind ignores, keeping the ones the kernel locked. */
static unsigned long locked_flags(int fd)
{
	struct statvfs sv;
	unsigned long keep = 0;

	/* In a user namespace, nosuid/nodev/noexec/ro inherited from the host are
	 * locked and a remount that drops them fails: keep what is set now. */
	if (fstatvfs(fd, &sv) == 0) {
		if (sv.f_flag & ST_NOSUID)
			keep |= MS_NOSUID;
		if (sv.f_flag & ST_NODEV)
			keep |= MS_NODEV;
		if (sv.f_flag & ST_NOEXEC)
			keep |= MS_NOEXEC;
	}
	return keep;
}

static int remount(int fd, const char *what, unsigned long flags, struct hk_error *err)
{
	return hk_sys_mount_fd(NULL, fd, what, NULL,
			       MS_REMOUNT | MS_BIND | (flags & REMOUNT_FLAGS) | locked_flags(fd),
			       NULL, err);
}

/*
 * The container's cgroups, by bind mounts of its own directories: the child
 * builds its filesystem before the runtime puts it in those cgroups (so that
 * the mounts are not charged to its memory limit), so a fresh cgroup mount,
 * which shows the mounter's cgroup namespace, cannot be used. A bind of the
 * directory shows the same subtree a cgroup namespace mount would.
 *
 * Bind one: the cgroup directory src on dest (resolved below rootfd, made if
 * missing), then remounted with flags. Rootless, a hierarchy we may not
 * write has no cgroup of ours: dest is left as it is.
 */
static int bind_cgroup(int rootfd, const char *src, const char *dest, unsigned long flags,
		       struct hk_error *err)
{
	_cleanup_close_ int fd = -1, top = -1;

	if (access(src, F_OK) < 0) {
		hk_debug("no cgroup \"%s\": %s left as it is", src, dest);
		return 0;
	}
	if (hk_path_open_in_root(rootfd, dest, HK_RESOLVE_MKDIR, &fd, err) < 0 ||
	    hk_sys_mount_fd(src, fd, dest, NULL, MS_BIND | MS_REC, NULL, err) < 0 ||
	    hk_path_open_in_root(rootfd, dest, 0, &top, err) < 0)
		return err->code;
	return remount(top, dest, flags | MS_NOSUID | MS_NODEV | MS_NOEXEC, err);
}

/* cgroup mounts: on a v2 host the one cgroup; else a tmpfs with each v1
 * hierarchy (read-only) and the v2 one of a hybrid host below it. */
static int mount_cgroups(int rootfd, int fd, const struct hk_mount *m,
			 const struct hk_cgroup_mount *cg, size_t n, struct hk_error *err)
{
	int r;

	if (n == 1 && !cg[0].controllers)
		return bind_cgroup(rootfd, cg[0].path, m->destination, m->flags, err);
	r = hk_sys_mount_fd("tmpfs", fd, m->destination, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
			    "mode=755", err);
	for (size_t i = 0; i < n && r >= 0; i++) {
		char dest[PATH_MAX];

		snprintf(dest, sizeof(dest), "%s/%s", m->destination,
			 strrchr(cg[i].mountpoint, '/') + 1);
		r = bind_cgroup(rootfd, cg[i].path, dest, m->flags | MS_RDONLY, err);
	}
	if (r >= 0 && (m->flags & MS_RDONLY)) {
		_cleanup_close_ int top = -1;
		r = hk_path_open_in_root(rootfd, m->destination, 0, &top, err);
		if (r >= 0)
			r = remount(top, m->destination, m->flags, err);
	}
	return r;
}

/* tmpcopyup: the tmpfs starts with a copy of the directory it covers. */
static int mount_tmpfs_copyup(int rootfd, int fd, const struct hk_mount *m, unsigned long flags,
			      struct hk_error *err)
{
	_cleanup_close_ int below = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC), top = -1,
			    dst = -1;
	int r;

	if (below < 0)
		return hk_error_set(err, -errno, "tmpcopyup: open \"%s\"", m->destination);
	/* Writable until the copy is done; the flags asked for come after it. */
	r = hk_sys_mount_fd(m->source, fd, m->destination, "tmpfs", flags & ~MS_RDONLY, m->data,
			    err);
	if (r < 0)
		return r;
	if (hk_path_open_in_root(rootfd, m->destination, 0, &top, err) < 0)
		return err->code;
	dst = openat(top, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dst < 0)
		return hk_error_set(err, -errno, "tmpcopyup: open the tmpfs on \"%s\"",
				    m->destination);
	r = hk_copy_tree(below, dst, 0);
	if (r < 0)
		return hk_error_set(err, r, "tmpcopyup: copy what \"%s\" held into its tmpfs",
				    m->destination);
	hk_debug("tmpcopyup: the tmpfs on \"%s\" holds a copy of what it covers", m->destination);
	if ((flags & MS_RDONLY) && remount(top, m->destination, flags, err) < 0)
		return err->code;
	return 0;
}

/* copy-symlink: a bind of a symlink (/etc/localtime) puts that symlink in place. */
static int copy_symlink(int rootfd, const struct hk_mount *m, struct hk_error *err)
{
	char target[PATH_MAX], parent[PATH_MAX];
	const char *name = strrchr(m->destination, '/') + 1;
	_cleanup_close_ int dirfd = -1;
	ssize_t n = readlink(m->source, target, sizeof(target) - 1);

	if (n < 0)
		return hk_error_set(err, -errno, "copy-symlink: readlink \"%s\"", m->source);
	target[n] = '\0';
	snprintf(parent, sizeof(parent), "%.*s", (int)(name - m->destination), m->destination);
	if (!*name || hk_path_open_in_root(rootfd, parent, HK_RESOLVE_MKDIR, &dirfd, err) < 0)
		return hk_error_prefix(err, "copy-symlink \"%s\"", m->destination);
	{
		_cleanup_close_ int dir = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dir < 0 || (unlinkat(dir, name, 0) < 0 && errno != ENOENT) ||
		    symlinkat(target, dir, name) < 0)
			return hk_error_set(err, -errno, "copy-symlink: symlink \"%s\" -> \"%s\"",
					    m->destination, target);
	}
	hk_debug("copy-symlink: \"%s\" -> \"%s\"", m->destination, target);
	return 0;
}

int hk_mount_apply(int rootfd, const struct hk_mount *m, const struct hk_cgroup_mount *cg,
		   size_t n_cg, struct hk_error *err)
{
	_cleanup_close_ int fd = -1, top = -1;
	bool bind = m->flags & MS_BIND;
	int resolve = HK_RESOLVE_MKDIR;
	unsigned long flags = m->flags & ~(MS_BIND | MS_REC | MS_REMOUNT);
	struct stat st;
	int r;

	if (bind && m->copy_symlink && lstat(m->source, &st) == 0 && S_ISLNK(st.st_mode))
		return copy_symlink(rootfd, m, err);
	/* A bind of a file needs a file to mount on, not a directory. */
	if (bind) {
		if (stat(m->source, &st) < 0)
			return hk_error_set(err, -errno, "mount source \"%s\"", m->source);
		if (!S_ISDIR(st.st_mode))
			resolve |= HK_RESOLVE_MKFILE_LAST;
	}
	if (hk_path_open_in_root(rootfd, m->destination, resolve, &fd, err) < 0)
		return hk_error_prefix(err, "mount destination");

	if (strcmp(m->type, "cgroup") == 0 && !bind) {
		r = mount_cgroups(rootfd, fd, m, cg, n_cg, err);
	} else if (bind) {
		r = hk_sys_mount_fd(m->source, fd, m->destination, NULL,
				    MS_BIND | (m->flags & MS_REC), NULL, err);
	} else if (m->tmpcopyup && strcmp(m->type, "tmpfs") == 0) {
		r = mount_tmpfs_copyup(rootfd, fd, m, flags, err);
	} else {
		r = hk_sys_mount_fd(m->source, fd, m->destination, m->type, flags, m->data, err);
		/* Without a network namespace of its own a user namespace may not mount
		 * sysfs: bind the host's read-only instead, as runc does. */
		if (r == -EPERM && strcmp(m->type, "sysfs") == 0) {
			r = hk_sys_mount_fd("/sys", fd, m->destination, NULL, MS_BIND | MS_REC,
					    NULL, err);
			flags |= MS_RDONLY;
			bind = true;
		}
	}
	if (r < 0)
		return r;

	/* The O_PATH fd still names what is under the new mount; reopen the top. */
	if (hk_path_open_in_root(rootfd, m->destination, 0, &top, err) < 0)
		return err->code;
	if (bind && (flags & REMOUNT_FLAGS) && remount(top, m->destination, flags, err) < 0)
		return err->code;
	if (m->propagation &&
	    hk_sys_mount_fd(NULL, top, m->destination, NULL, m->propagation, NULL, err) < 0)
		return err->code;
	if (m->rec_attr_set || m->rec_attr_clr) {
		struct mount_attr_arg attr = {m->rec_attr_set, m->rec_attr_clr, 0, 0};
		if (syscall(SYS_mount_setattr, top, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr,
			    sizeof(attr)) < 0)
			return hk_error_set(err, -errno, "mount_setattr(\"%s\", AT_RECURSIVE)",
					    m->destination);
		hk_debug("mount_setattr(\"%s\", AT_RECURSIVE, set=%#x, clr=%#x) ok", m->destination,
			 m->rec_attr_set, m->rec_attr_clr);
	}
	return 0;
}

int hk_mount_mask_paths(const struct hk_spec *spec, int rootfd, struct hk_error *err)
{
	for (char **p = spec->masked_paths; p && *p; p++) {
		_cleanup_close_ int fd = -1;
		struct stat st;
		int r = hk_path_open_in_root(rootfd, *p, 0, &fd, err);

		if (r == -ENOENT)
			continue;
		if (r < 0 || fstat(fd, &st) < 0)
			return hk_error_prefix(err, "linux.maskedPaths");
		/* The host's /dev/null, opened before pivot_root: the container's own
		 * /dev/null could be a symlink it planted (CVE-2025-31133). */
		if (S_ISDIR(st.st_mode))
			r = hk_sys_mount_fd("tmpfs", fd, *p, "tmpfs", MS_RDONLY, "size=0", err);
		else
			r = hk_sys_mount_fd("/dev/null", fd, *p, NULL, MS_BIND, NULL, err);
		if (r < 0)
			return hk_error_prefix(err, "linux.maskedPaths");
	}
	for (char **p = spec->readonly_paths; p && *p; p++) {
		_cleanup_close_ int fd = -1, top = -1;
		int r = hk_path_open_in_root(rootfd, *p, 0, &fd, err);

		if (r == -ENOENT)
			continue;
		if (r < 0 || hk_sys_mount_fd(*p, fd, *p, NULL, MS_BIND | MS_REC, NULL, err) < 0 ||
		    hk_path_open_in_root(rootfd, *p, 0, &top, err) < 0 ||
		    remount(top, *p, MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, err) < 0)
			return hk_error_prefix(err, "linux.readonlyPaths");
	}
	return 0;
}

int hk_mount_switch_root(const struct hk_spec *spec, bool no_pivot, struct hk_error *err)
{
	if (hk_sys_chdir(spec->root_path, err) < 0)
		return err->code;
	if (no_pivot) {
		/* For a ramfs root, where pivot_root(2) is refused: move the rootfs
		 * over / and chroot into it. The old root stays reachable to anyone
		 * who escapes the chroot, which is why pivot_root is the default. */
		if (hk_sys_mount(spec->root_path, "/", NULL, MS_MOVE, NULL, err) < 0 ||
		    hk_sys_chroot(".", err) < 0)
			return err->code;
		return hk_sys_chdir("/", err);
	}
	/* pivot_root(".", ".") stacks the old root on top of the new one, so no
	 * directory is needed for it (pivot_root(2), NOTES). Then make it a slave
	 * so that detaching it cannot propagate to the host, and detach it. */
	if (hk_sys_pivot_root(".", ".", err) < 0 ||
	    hk_sys_mount(NULL, ".", NULL, MS_SLAVE | MS_REC, NULL, err) < 0 ||
	    hk_sys_umount2(".", MNT_DETACH, err) < 0 || hk_sys_chdir("/", err) < 0)
		return err->code;
	/* The new root was kept private for pivot_root: now share it as asked. */
	if ((spec->rootfs_propagation & MS_SHARED) &&
	    hk_sys_mount(NULL, "/", NULL, MS_SHARED | MS_REC, NULL, err) < 0)
		return hk_error_prefix(err, "linux.rootfsPropagation");
	return 0;
}

int hk_mount_finish_root(const struct hk_spec *spec, struct hk_error *err)
{
	_cleanup_close_ int fd = -1;

	if (!spec->root_readonly)
		return 0;
	fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return hk_error_set(err, -errno, "open \"/\"");
	/* By path: the container may have no /proc for a /proc/self/fd path, and
	 * after pivot_root "/" can only be the new root. */
	return hk_sys_mount(NULL, "/", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | locked_flags(fd),
			    NULL, err);
}
