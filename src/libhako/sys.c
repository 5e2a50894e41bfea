/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <unistd.h>
#include <linux/magic.h>

#include "log.h"
#include "paths.h"
#include "sys.h"
#include "util.h"

#ifndef MS_NOSYMFOLLOW
#define MS_NOSYMFOLLOW 256
#endif
#ifndef PROC_ROOT_INO
#define PROC_ROOT_INO 1
#endif
#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

struct flag_name {
	unsigned long flag;
	const char *name;
};

static const char *flags_str(unsigned long flags, const struct flag_name *names, size_t n,
			     char *buf, size_t size)
{
	size_t o = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		if (!(flags & names[i].flag))
			continue;
		o += (size_t)snprintf(buf + o, size - o, "%s%s", o ? "|" : "", names[i].name);
		flags &= ~names[i].flag;
		if (o >= size)
			return buf;
	}
	if (flags || !o)
		snprintf(buf + o, size - o, "%s%#lx", o ? "|" : "", flags);
	return buf;
}

const char *hk_clone_flags_str(int flags, char *buf, size_t size)
{
	static const struct flag_name names[] = {
	    {CLONE_NEWUSER, "CLONE_NEWUSER"},	  {CLONE_NEWPID, "CLONE_NEWPID"},
	    {CLONE_NEWNS, "CLONE_NEWNS"},	  {CLONE_NEWUTS, "CLONE_NEWUTS"},
	    {CLONE_NEWIPC, "CLONE_NEWIPC"},	  {CLONE_NEWNET, "CLONE_NEWNET"},
	    {CLONE_NEWCGROUP, "CLONE_NEWCGROUP"}, {CLONE_NEWTIME, "CLONE_NEWTIME"},
	};
	return flags_str((unsigned)flags, names, ARRAY_SIZE(names), buf, size);
}

const char *hk_mount_flags_str(unsigned long flags, char *buf, size_t size)
{
	static const struct flag_name names[] = {
	    {MS_RDONLY, "MS_RDONLY"},
	    {MS_NOSUID, "MS_NOSUID"},
	    {MS_NODEV, "MS_NODEV"},
	    {MS_NOEXEC, "MS_NOEXEC"},
	    {MS_REMOUNT, "MS_REMOUNT"},
	    {MS_BIND, "MS_BIND"},
	    {MS_MOVE, "MS_MOVE"},
	    {MS_REC, "MS_REC"},
	    {MS_PRIVATE, "MS_PRIVATE"},
	    {MS_SLAVE, "MS_SLAVE"},
	    {MS_SHARED, "MS_SHARED"},
	    {MS_UNBINDABLE, "MS_UNBINDABLE"},
	    {MS_STRICTATIME, "MS_STRICTATIME"},
	    {MS_RELATIME, "MS_RELATIME"},
	    {MS_NOATIME, "MS_NOATIME"},
	    {MS_NODIRATIME, "MS_NODIRATIME"},
	    {MS_SYNCHRONOUS, "MS_SYNCHRONOUS"},
	    {MS_DIRSYNC, "MS_DIRSYNC"},
	};
	if (!flags)
		return "0";
	return flags_str(flags, names, ARRAY_SIZE(names), buf, size);
}

/*
 * Narrate the outcome of one call and fill err on failure. The call is only
 * formatted when it failed or --debug is on: narration costs nothing when off.
 */
static int outcome(int r, int e, struct hk_error *err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int outcome(int r, int e, struct hk_error *err, const char *fmt, ...)
{
	char call[PATH_MAX + 512], tmp[128];
	va_list ap;

	if (r >= 0 && !hk_log_debug_enabled)
		return 0;
	va_start(ap, fmt);
	vsnprintf(call, sizeof(call), fmt, ap);
	va_end(ap);
	if (r < 0) {
		hk_debug("%s = -1 (%s)", call, hk_strerror(e, tmp, sizeof(tmp)));
		return hk_error_set(err, -e, "%s", call);
	}
	hk_debug("%s ok", call);
	return 0;
}

int hk_sys_mount(const char *src, const char *dst, const char *type, unsigned long flags,
		 const char *data, struct hk_error *err)
{
	char f[256];
	int r = mount(src, dst, type, flags, data), e = errno;

	return outcome(r, e, err, "mount(\"%s\", \"%s\", \"%s\", %s, \"%s\")", src ? src : "", dst,
		       type ? type : "", hk_mount_flags_str(flags, f, sizeof(f)), data ? data : "");
}

int hk_sys_mount_fd(const char *src, int dst_fd, const char *what, const char *type,
		    unsigned long flags, const char *data, struct hk_error *err)
{
	char f[256], fdpath[32];
	int r = mount(src, hk_fd_path(dst_fd, fdpath), type, flags, data), e = errno;

	return outcome(r, e, err, "mount(\"%s\", \"%s\", \"%s\", %s, \"%s\")", src ? src : "", what,
		       type ? type : "", hk_mount_flags_str(flags, f, sizeof(f)), data ? data : "");
}

int hk_sys_umount2(const char *target, int flags, struct hk_error *err)
{
	int r = umount2(target, flags), e = errno;

	return outcome(r, e, err, "umount2(\"%s\", %s)", target,
		       flags == MNT_DETACH ? "MNT_DETACH" : "0");
}

int hk_sys_pivot_root(const char *new_root, const char *put_old, struct hk_error *err)
{
	int r = (int)syscall(SYS_pivot_root, new_root, put_old), e = errno;

	return outcome(r, e, err, "pivot_root(\"%s\", \"%s\")", new_root, put_old);
}

int hk_sys_chroot(const char *path, struct hk_error *err)
{
	int r = chroot(path), e = errno;

	return outcome(r, e, err, "chroot(\"%s\")", path);
}

int hk_sys_chdir(const char *path, struct hk_error *err)
{
	int r = chdir(path), e = errno;

	return outcome(r, e, err, "chdir(\"%s\")", path);
}

int hk_sys_unshare(int flags, struct hk_error *err)
{
	char f[200];
	int r = unshare(flags), e = errno;

	return outcome(r, e, err, "unshare(%s)", hk_clone_flags_str(flags, f, sizeof(f)));
}

int hk_sys_setns(int fd, int nstype, const char *path, struct hk_error *err)
{
	char f[64];
	int r = setns(fd, nstype), e = errno;

	return outcome(r, e, err, "setns(\"%s\", %s)", path,
		       hk_clone_flags_str(nstype, f, sizeof(f)));
}

int hk_sys_sethostname(const char *name, struct hk_error *err)
{
	int r = sethostname(name, strlen(name)), e = errno;

	return outcome(r, e, err, "sethostname(\"%s\")", name);
}

int hk_sys_setdomainname(const char *name, struct hk_error *err)
{
	int r = setdomainname(name, strlen(name)), e = errno;

	return outcome(r, e, err, "setdomainname(\"%s\")", name);
}

/*
 * The new mount API (fsopen(2), fsmount(2), open_tree(2), mount_setattr(2),
 * move_mount(2)): a mount is made detached, given its flags while nobody can
 * see it, and attached to a destination fd at the end. Each later step acts
 * on the mount's fd, never on a path again (STYLE 13; the CVE-2021-30465
 * class, where a second party swaps the destination for a symlink between a
 * mount and its read-only remount).
 */

void hk_mount_attr_from_flags(unsigned long flags, unsigned long long *ret_set,
			      unsigned long long *ret_clr)
{
	static const struct flag_name bits[] = {
	    {MS_RDONLY, "ro"},	   {MS_NOSUID, "nosuid"},	  {MS_NODEV, "nodev"},
	    {MS_NOEXEC, "noexec"}, {MS_NODIRATIME, "nodiratime"}, {MS_NOSYMFOLLOW, "nosymfollow"},
	};
	static const unsigned long long attrs[] = {
	    MOUNT_ATTR_RDONLY, MOUNT_ATTR_NOSUID,     MOUNT_ATTR_NODEV,
	    MOUNT_ATTR_NOEXEC, MOUNT_ATTR_NODIRATIME, MOUNT_ATTR_NOSYMFOLLOW,
	};
	unsigned long long set = 0, clr = 0;

	for (size_t i = 0; i < ARRAY_SIZE(bits); i++)
		if (flags & bits[i].flag)
			set |= attrs[i];
	/* The access-time mode is a field, not a bit: clear it to set it. */
	if (flags & (MS_NOATIME | MS_STRICTATIME | MS_RELATIME)) {
		clr |= MOUNT_ATTR__ATIME;
		set |= flags & MS_NOATIME	? MOUNT_ATTR_NOATIME
		       : flags & MS_STRICTATIME ? MOUNT_ATTR_STRICTATIME
						: MOUNT_ATTR_RELATIME;
	}
	*ret_set = set;
	if (ret_clr)
		*ret_clr = clr;
}

/* The filesystem's own words for a failed fsconfig(2), if it left any. */
static const char *fs_log(int fsfd, char *buf, size_t size)
{
	ssize_t n = read(fsfd, buf, size - 1);

	if (n <= 2)
		return "";
	buf[n] = '\0';
	if (buf[n - 1] == '\n')
		buf[n - 1] = '\0';
	buf[0] = ':';
	buf[1] = ' '; /* "e message" becomes ": message" */
	return buf;
}

static int fsconfig_options(int fsfd, const char *data, struct hk_error *err)
{
	char opts[PATH_MAX * 2];
	char *o = opts;

	if (snprintf(opts, sizeof(opts), "%s", data) >= (int)sizeof(opts))
		return hk_error_setx(err, -ENAMETOOLONG, "mount options \"%s\": too long", data);
	/* Options are comma-separated; a quoted value (an SELinux context
	 * "s0:c1,c2") may hold commas. */
	while (*o) {
		char *end = o, *eq, *val;
		bool quoted = false;
		int r;

		for (; *end && (quoted || *end != ','); end++)
			if (*end == '"')
				quoted = !quoted;
		if (*end)
			*end++ = '\0';
		eq = strchr(o, '=');
		if (eq) {
			*eq = '\0';
			val = eq + 1;
			if (*val == '"' && strlen(val) >= 2 && val[strlen(val) - 1] == '"') {
				val[strlen(val) - 1] = '\0';
				val++;
			}
			r = fsconfig(fsfd, FSCONFIG_SET_STRING, o, val, 0);
		} else {
			r = *o ? fsconfig(fsfd, FSCONFIG_SET_FLAG, o, NULL, 0) : 0;
		}
		if (r < 0) {
			char log[256];
			int e = errno;
			return hk_error_set(err, -e, "mount option \"%s%s%s\"%s", o, eq ? "=" : "",
					    eq ? eq + 1 : "", fs_log(fsfd, log, sizeof(log)));
		}
		o = end;
	}
	return 0;
}

int hk_sys_fsmount(const char *type, const char *src, const char *data, unsigned long flags,
		   int *ret_mfd, struct hk_error *err)
{
	static const struct flag_name sb_flags[] = {
	    {MS_RDONLY, "ro"},	   {MS_SYNCHRONOUS, "sync"},  {MS_DIRSYNC, "dirsync"},
	    {MS_MANDLOCK, "mand"}, {MS_LAZYTIME, "lazytime"},
	};
	char f[256], log[256];
	unsigned long long attr;
	_cleanup_close_ int fsfd = fsopen(type, FSOPEN_CLOEXEC);
	int mfd = -1, e;

	if (fsfd < 0)
		return outcome(-1, errno, err, "fsopen(\"%s\")", type);
	if (src && *src && fsconfig(fsfd, FSCONFIG_SET_STRING, "source", src, 0) < 0)
		return hk_error_set(err, -errno, "fsconfig(\"%s\", source=\"%s\")", type, src);
	for (size_t i = 0; i < ARRAY_SIZE(sb_flags); i++)
		if ((flags & sb_flags[i].flag) &&
		    fsconfig(fsfd, FSCONFIG_SET_FLAG, sb_flags[i].name, NULL, 0) < 0)
			return hk_error_set(err, -errno, "fsconfig(\"%s\", %s)", type,
					    sb_flags[i].name);
	if (data && *data && fsconfig_options(fsfd, data, err) < 0)
		return hk_error_prefix(err, "%s", type);
	hk_mount_attr_from_flags(flags, &attr, NULL);
	if (fsconfig(fsfd, FSCONFIG_CMD_CREATE, NULL, NULL, 0) == 0)
		mfd = fsmount(fsfd, FSMOUNT_CLOEXEC, (unsigned)attr);
	e = errno;
	if (mfd < 0)
		return hk_error_set(err, -e, "fsmount(\"%s\", \"%s\", %s, \"%s\")%s",
				    src ? src : "", type, hk_mount_flags_str(flags, f, sizeof(f)),
				    data ? data : "", fs_log(fsfd, log, sizeof(log)));
	hk_debug("fsopen(\"%s\") + fsmount(\"%s\", %s, \"%s\") = %d: a detached mount", type,
		 src ? src : "", hk_mount_flags_str(flags, f, sizeof(f)), data ? data : "", mfd);
	*ret_mfd = mfd;
	return 0;
}

int hk_sys_open_tree(int dirfd, const char *path, const char *what, bool recursive, int *ret_mfd,
		     struct hk_error *err)
{
	int fd = open_tree(dirfd, path,
			   OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (recursive ? AT_RECURSIVE : 0) |
			       (*path ? 0 : AT_EMPTY_PATH)),
	    e = errno;

	if (outcome(fd, e, err, "open_tree(\"%s\", OPEN_TREE_CLONE%s)", what,
		    recursive ? "|AT_RECURSIVE" : "") < 0)
		return err->code;
	*ret_mfd = fd;
	return 0;
}

int hk_sys_mount_setattr(int mfd, const char *what, bool recursive, unsigned long long set,
			 unsigned long long clr, unsigned long long propagation,
			 struct hk_error *err)
{
	struct mount_attr attr = {.attr_set = set, .attr_clr = clr, .propagation = propagation};
	char f[64];
	int r = mount_setattr(mfd, "", AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0), &attr,
			      sizeof(attr)),
	    e = errno;

	return outcome(r, e, err, "mount_setattr(\"%s\"%s, set=%#llx, clr=%#llx, %s)", what,
		       recursive ? ", AT_RECURSIVE" : "", set, clr,
		       propagation ? hk_mount_flags_str(propagation, f, sizeof(f)) : "0");
}

int hk_sys_move_mount(int mfd, int dst_fd, const char *what, struct hk_error *err)
{
	int r = move_mount(mfd, "", dst_fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH),
	    e = errno;

	return outcome(r, e, err, "move_mount(detached mount, \"%s\")", what);
}

int hk_proc_open(int *ret_fd, struct hk_error *err)
{
	struct statfs sfs;
	struct stat st;
	int fd,
	    r = hk_sys_fsmount("proc", "proc", NULL, MS_NOSUID | MS_NODEV | MS_NOEXEC, ret_fd, err);

	if (r != -EPERM)
		return r;
	/* A user namespace that does not own its pid namespace may not mount
	 * proc: then the /proc we see, if it is a procfs root itself (not a
	 * bind of some part of one); hk_write_proc() crosses no mount below it. */
	fd = open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fstatfs(fd, &sfs) < 0 || sfs.f_type != PROC_SUPER_MAGIC ||
	    fstat(fd, &st) < 0 || st.st_ino != PROC_ROOT_INO) {
		if (fd >= 0)
			close(fd);
		return hk_error_setx(err, -EPERM,
				     "no procfs to write through: proc cannot be mounted here "
				     "and /proc is not a procfs root");
	}
	hk_debug("proc cannot be mounted here: writing through /proc");
	*ret_fd = fd;
	return 0;
}
