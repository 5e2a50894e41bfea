/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <limits.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "log.h"
#include "paths.h"
#include "sys.h"
#include "util.h"

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
