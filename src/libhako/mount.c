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
#ifndef MS_NOSYMFOLLOW
#define MS_NOSYMFOLLOW 256
#endif

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
	/* Unbindable would refuse the bind of the rootfs below: private until
	 * the root is switched, unbindable after (hk_mount_switch_root()). */
	if (hk_sys_mount(NULL, "/", NULL, MS_REC | (prop & MS_UNBINDABLE ? MS_PRIVATE : prop), NULL,
			 err) < 0)
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

/*
 * Every mount below is made detached (fsmount(2) or open_tree(2)), given its
 * flags while nobody can see it, and attached by move_mount(2) onto the O_PATH
 * fd of its resolved destination. Propagation is set on the mount's fd after
 * that. No step resolves the destination path a second time: a second party
 * (a volume another container shares) that swaps a directory for a symlink
 * between two steps cannot redirect the mount or leave it writable.
 */

/* The per-mount flags of a bind (a detached copy): those a bind cannot take at once. */
static int set_flags(int mfd, const char *what, unsigned long flags, struct hk_error *err)
{
	unsigned long long set, clr;

	hk_mount_attr_from_flags(flags, &set, &clr);
	if (!set && !clr)
		return 0;
	return hk_sys_mount_setattr(mfd, what, false, set, clr, 0, err);
}

/* Propagation on an attached mount: private, then slave, then shared ("slave and shared"). */
static int set_propagation(int mfd, const char *what, unsigned long prop, struct hk_error *err)
{
	static const unsigned long order[] = {MS_PRIVATE, MS_SLAVE, MS_SHARED, MS_UNBINDABLE};

	for (size_t i = 0; i < ARRAY_SIZE(order); i++)
		if ((prop & order[i]) &&
		    hk_sys_mount_setattr(mfd, what, prop & MS_REC, 0, 0, order[i], err) < 0)
			return err->code;
	return 0;
}

/* A detached copy of the host path src, with its flags set. */
static int clone_bind(const char *src, bool recursive, unsigned long flags, int *ret_mfd,
		      struct hk_error *err)
{
	_cleanup_close_ int mfd = -1;

	if (hk_sys_open_tree(AT_FDCWD, src, src, recursive, &mfd, err) < 0 ||
	    set_flags(mfd, src, flags, err) < 0)
		return err->code;
	*ret_mfd = TAKE_FD(mfd);
	return 0;
}

/* A bind that copy-symlink turns into a symlink: no mount to clone. */
static bool is_copied_symlink(const struct hk_mount *m)
{
	struct stat st;

	return m->copy_symlink && lstat(m->source, &st) == 0 && S_ISLNK(st.st_mode);
}

int hk_mount_open_sources(const struct hk_spec *spec, int **ret, struct hk_error *err)
{
	int *fds = hk_xmalloc((spec->n_mounts + 1) * sizeof(*fds));

	for (size_t i = 0; i < spec->n_mounts; i++) {
		const struct hk_mount *m = &spec->mounts[i];

		fds[i] = -1;
		if (!(m->flags & MS_BIND) || is_copied_symlink(m))
			continue;
		if (hk_sys_open_tree(AT_FDCWD, m->source, m->source, m->flags & MS_REC, &fds[i],
				     err) < 0) {
			hk_mount_close_sources(fds, i);
			return hk_error_prefix(err, "mounts[%zu]: mount source", i);
		}
	}
	*ret = fds;
	return 0;
}

void hk_mount_close_sources(int *fds, size_t n)
{
	for (size_t i = 0; fds && i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	free(fds);
}

/*
 * The container's cgroups, by bind mounts of its own directories: the child
 * builds its filesystem before it enters those cgroups (so that the mounts
 * are not charged to its memory limit), so a fresh cgroup mount,
 * which shows the mounter's cgroup namespace, cannot be used. A bind of the
 * directory shows the same subtree a cgroup namespace mount would.
 *
 * Bind one: the cgroup directory src onto dest_fd. Rootless, a hierarchy we
 * may not write has no cgroup of ours: dest is left as it is.
 */
static int bind_cgroup(const char *src, int dest_fd, const char *dest, unsigned long flags,
		       struct hk_error *err)
{
	_cleanup_close_ int mfd = -1;

	if (access(src, F_OK) < 0) {
		hk_debug("no cgroup \"%s\": %s left as it is", src, dest);
		return 0;
	}
	if (clone_bind(src, true, flags | MS_NOSUID | MS_NODEV | MS_NOEXEC, &mfd, err) < 0)
		return err->code;
	return hk_sys_move_mount(mfd, dest_fd, dest, err);
}

/* cgroup mounts: on a v2 host the one cgroup; else a tmpfs with each v1
 * hierarchy (read-only) and the v2 one of a hybrid host below it. */
static int mount_cgroups(int fd, const struct hk_mount *m, const struct hk_cgroup_mount *cg,
			 size_t n, struct hk_error *err)
{
	_cleanup_close_ int tmpfs = -1;

	if (n == 1 && !cg[0].controllers)
		return bind_cgroup(cg[0].path, fd, m->destination, m->flags, err);
	/* The tmpfs is attached first, writable, so that its directories can be
	 * made; they are reached from its own root fd, never by path. */
	if (hk_sys_fsmount("tmpfs", "tmpfs", "mode=755", MS_NOSUID | MS_NODEV | MS_NOEXEC, &tmpfs,
			   err) < 0 ||
	    hk_sys_move_mount(tmpfs, fd, m->destination, err) < 0)
		return err->code;
	for (size_t i = 0; i < n; i++) {
		const char *name = strrchr(cg[i].mountpoint, '/') + 1;
		char dest[PATH_MAX];
		_cleanup_close_ int sub = -1;

		snprintf(dest, sizeof(dest), "%s/%s", m->destination, name);
		if (mkdirat(tmpfs, name, 0755) < 0 && errno != EEXIST)
			return hk_error_set(err, -errno, "mkdir \"%s\"", dest);
		sub = openat(tmpfs, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (sub < 0)
			return hk_error_set(err, -errno, "open \"%s\"", dest);
		if (bind_cgroup(cg[i].path, sub, dest, m->flags | MS_RDONLY, err) < 0)
			return err->code;
	}
	return set_flags(tmpfs, m->destination, m->flags & MS_RDONLY, err);
}

/* tmpcopyup: a detached tmpfs filled with a copy of the directory fd it will cover. */
static int tmpfs_copyup(int fd, const struct hk_mount *m, unsigned long flags, int *ret_mfd,
			struct hk_error *err)
{
	_cleanup_close_ int below = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC), mfd = -1,
			    dst = -1;
	int r;

	if (below < 0)
		return hk_error_set(err, -errno, "tmpcopyup: open \"%s\"", m->destination);
	/* Writable until the copy is done; a read-only mount comes after it. */
	if (hk_sys_fsmount("tmpfs", m->source, m->data, flags & ~MS_RDONLY, &mfd, err) < 0)
		return err->code;
	dst = openat(mfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dst < 0)
		return hk_error_set(err, -errno, "tmpcopyup: open the tmpfs for \"%s\"",
				    m->destination);
	r = hk_copy_tree(below, dst, 0);
	if (r < 0)
		return hk_error_set(err, r, "tmpcopyup: copy what \"%s\" held into its tmpfs",
				    m->destination);
	hk_debug("tmpcopyup: the tmpfs for \"%s\" holds a copy of what it covers", m->destination);
	if (set_flags(mfd, m->destination, flags & MS_RDONLY, err) < 0)
		return err->code;
	*ret_mfd = TAKE_FD(mfd);
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

static bool is_root(int rootfd, int fd)
{
	struct stat a, b;

	return fstat(rootfd, &a) == 0 && fstat(fd, &b) == 0 && a.st_dev == b.st_dev &&
	       a.st_ino == b.st_ino;
}

/* proc and sysfs are the kernel's own views: they go only onto a plain directory. */
static bool is_kernel_view(const struct hk_mount *m)
{
	return !(m->flags & MS_BIND) &&
	       (strcmp(m->type, "proc") == 0 || strcmp(m->type, "sysfs") == 0);
}

/* The detached mount for m (not a cgroup one); fd is its resolved destination. */
/*
 * A tmpfs over a directory the image has takes that directory's mode, as
 * runc and crun do (a mode= of the config's comes later and wins); over one
 * we made, tmpfs's own 1777.
 */
static const char *tmpfs_data(int fd, const struct hk_mount *m, bool existed, char *buf,
			      size_t size)
{
	struct stat st;

	if (strcmp(m->type, "tmpfs") != 0 || !existed || fstat(fd, &st) < 0 || !S_ISDIR(st.st_mode))
		return m->data;
	snprintf(buf, size, "mode=%04o%s%s", (unsigned)(st.st_mode & 07777),
		 m->data && *m->data ? "," : "", m->data ? m->data : "");
	return buf;
}

static int make_mount(int fd, const struct hk_mount *m, int *src_mfd, bool existed, int *ret_mfd,
		      struct hk_error *err)
{
	char data[PATH_MAX * 2];
	unsigned long flags =
	    m->flags & ~(MS_BIND | MS_REC | MS_REMOUNT | MS_SILENT | MS_I_VERSION);
	_cleanup_close_ int mfd = -1;
	int r;

	if ((m->flags & MS_BIND) && *src_mfd >= 0) {
		if (set_flags(*src_mfd, m->source, flags, err) < 0)
			return err->code;
		*ret_mfd = TAKE_FD(*src_mfd);
		return 0;
	}
	if (m->flags & MS_BIND)
		return clone_bind(m->source, m->flags & MS_REC, flags, ret_mfd, err);
	if (m->tmpcopyup && strcmp(m->type, "tmpfs") == 0)
		return tmpfs_copyup(fd, m, flags, ret_mfd, err);
	r = hk_sys_fsmount(m->type, m->source, tmpfs_data(fd, m, existed, data, sizeof(data)),
			   flags, ret_mfd, err);
	if (r != -EPERM || strcmp(m->type, "sysfs") != 0)
		return r;
	/* Without a network namespace of its own a user namespace may not mount
	 * sysfs: bind the host's read-only instead (every submount too), as runc
	 * does. */
	if (clone_bind("/sys", true, flags, &mfd, err) < 0 ||
	    hk_sys_mount_setattr(mfd, "/sys", true, MOUNT_ATTR_RDONLY, 0, 0, err) < 0)
		return err->code;
	*ret_mfd = TAKE_FD(mfd);
	return 0;
}

int hk_mount_apply(int rootfd, const struct hk_mount *m, int src_mfd,
		   const struct hk_cgroup_mount *cg, size_t n_cg, struct hk_error *err)
{
	_cleanup_close_ int fd = -1, mfd = -1, src = src_mfd;
	bool bind = m->flags & MS_BIND, existed = false;
	int resolve = HK_RESOLVE_MKDIR;
	struct stat st;

	if (bind && src < 0 && is_copied_symlink(m))
		return copy_symlink(rootfd, m, err);
	/* A bind of a file needs a file to mount on, not a directory. */
	if (bind) {
		if ((src >= 0 ? fstat(src, &st) : stat(m->source, &st)) < 0)
			return hk_error_set(err, -errno, "mount source \"%s\"", m->source);
		if (!S_ISDIR(st.st_mode))
			resolve |= HK_RESOLVE_MKFILE_LAST;
	}
	/* An image's /proc -> /tmp/p puts the real proc where no mask covers it
	 * (the masks are resolved where the config says): no symlinks for the
	 * kernel's views, and a directory at the end, as runc checks. */
	if (is_kernel_view(m))
		resolve |= HK_RESOLVE_NO_SYMLINKS;
	if (!bind && strcmp(m->type, "tmpfs") == 0) {
		_cleanup_close_ int probe = -1;
		struct hk_error ignored;
		existed = hk_path_open_in_root(rootfd, m->destination, 0, &probe, &ignored) == 0;
	}
	if (hk_path_open_in_root(rootfd, m->destination, resolve, &fd, err) < 0)
		return hk_error_prefix(err, "mount destination");
	/* A symlink swapped in (a volume another party writes) can point a
	 * destination at the root itself: never mount over the container's root. */
	if (is_root(rootfd, fd) && m->destination[strspn(m->destination, "/")])
		return hk_error_setx(err, -ELOOP, "mount destination \"%s\" resolves to the root",
				     m->destination);
	if (is_kernel_view(m) && (fstat(fd, &st) < 0 || !S_ISDIR(st.st_mode)))
		return hk_error_setx(err, -ENOTDIR,
				     "mount destination \"%s\": %s goes only onto a directory",
				     m->destination, m->type);

	if (strcmp(m->type, "cgroup") == 0 && !bind)
		return mount_cgroups(fd, m, cg, n_cg, err);
	if (make_mount(fd, m, &src, existed, &mfd, err) < 0)
		return err->code;
	if ((m->rec_attr_set || m->rec_attr_clr) &&
	    hk_sys_mount_setattr(mfd, m->destination, true, m->rec_attr_set, m->rec_attr_clr, 0,
				 err) < 0)
		return err->code;
	if (hk_sys_move_mount(mfd, fd, m->destination, err) < 0)
		return err->code;
	return set_propagation(mfd, m->destination, m->propagation, err);
}

/*
 * maskedPaths and readonlyPaths name places in the container's own
 * filesystem, its /proc and /sys included: each is resolved below the root
 * with no symlink on the way (a symlink would let the image point the mask
 * somewhere harmless). A path that does not exist is skipped; one that cannot
 * be resolved fails create.
 */
static int open_listed_path(int rootfd, const char *path, const char *key, int *ret_fd,
			    struct hk_error *err)
{
	int r = hk_path_open_in_root(rootfd, path, HK_RESOLVE_NO_SYMLINKS, ret_fd, err);

	if (r == -ENOENT) {
		hk_debug("%s: \"%s\" does not exist in the container", key, path);
		return 0;
	}
	if (r < 0)
		return hk_error_prefix(err, "%s", key);
	return 1;
}

int hk_mount_mask_paths(const struct hk_spec *spec, int rootfd, struct hk_error *err)
{
	for (char **p = spec->masked_paths; p && *p; p++) {
		_cleanup_close_ int fd = -1;
		struct stat st;
		int r = open_listed_path(rootfd, *p, "linux.maskedPaths", &fd, err);

		if (r < 0)
			return r;
		if (r == 0)
			continue;
		if (fstat(fd, &st) < 0)
			return hk_error_set(err, -errno, "linux.maskedPaths: stat \"%s\"", *p);
		/* The host's /dev/null, opened before pivot_root: the container's own
		 * /dev/null could be a symlink it planted (CVE-2025-31133). */
		if (S_ISDIR(st.st_mode))
			r = hk_sys_mount_fd("tmpfs", fd, *p, "tmpfs", MS_RDONLY, "size=0", err);
		else
			r = hk_sys_mount_fd("/dev/null", fd, *p, NULL, MS_BIND, NULL, err);
		if (r < 0)
			return hk_error_prefix(err, "linux.maskedPaths");
	}
	/* The container's own path (not the host's) onto itself, read-only with
	 * every submount: a binfmt_misc under /proc/sys must not stay writable. */
	for (char **p = spec->readonly_paths; p && *p; p++) {
		_cleanup_close_ int fd = -1, mfd = -1;
		int r = open_listed_path(rootfd, *p, "linux.readonlyPaths", &fd, err);

		if (r < 0)
			return r;
		if (r == 0)
			continue;
		if (hk_sys_open_tree(fd, "", *p, true, &mfd, err) < 0 ||
		    hk_sys_mount_setattr(mfd, *p, true, MOUNT_ATTR_RDONLY, 0, 0, err) < 0 ||
		    hk_sys_move_mount(mfd, fd, *p, err) < 0)
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
	/* The new root was kept private for pivot_root and the rootfs bind: now
	 * share it, or make it unbindable, as asked. */
	if ((spec->rootfs_propagation & (MS_SHARED | MS_UNBINDABLE)) &&
	    hk_sys_mount(NULL, "/", NULL,
			 (spec->rootfs_propagation & (MS_SHARED | MS_UNBINDABLE)) | MS_REC, NULL,
			 err) < 0)
		return hk_error_prefix(err, "linux.rootfsPropagation");
	return 0;
}

int hk_mount_chroot(const char *root, struct hk_error *err)
{
	if (hk_sys_chdir(root, err) < 0 || hk_sys_chroot(".", err) < 0)
		return err->code;
	return hk_sys_chdir("/", err);
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
