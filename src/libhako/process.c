/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/capability.h>
#include <linux/close_range.h>

#include "log.h"
#include "process.h"
#include "util.h"

int hk_process_set_rlimits(const struct hk_process *p, struct hk_error *err)
{
	for (size_t i = 0; i < p->n_rlimits; i++) {
		struct rlimit rl = {p->rlimits[i].soft, p->rlimits[i].hard};
		if (setrlimit(p->rlimits[i].resource, &rl) < 0)
			return hk_error_set(
			    err, -errno,
			    "process.rlimits[%zu]: setrlimit(%d, soft=%llu, hard=%llu)", i,
			    p->rlimits[i].resource, (unsigned long long)rl.rlim_cur,
			    (unsigned long long)rl.rlim_max);
		hk_debug("setrlimit(%d, %llu, %llu) ok", p->rlimits[i].resource,
			 (unsigned long long)rl.rlim_cur, (unsigned long long)rl.rlim_max);
	}
	return 0;
}

int hk_process_set_oom_score_adj(const struct hk_process *p, struct hk_error *err)
{
	char buf[16];

	if (!p->has_oom_score_adj)
		return 0;
	snprintf(buf, sizeof(buf), "%d", p->oom_score_adj);
	/* Lowering it needs CAP_SYS_RESOURCE (proc(5)). */
	if (hk_write_proc("/proc/self/oom_score_adj", "/proc/self/oom_score_adj", buf, strlen(buf),
			  err) < 0)
		return hk_error_prefix(err, "process.oomScoreAdj %d", p->oom_score_adj);
	hk_debug("write(\"/proc/self/oom_score_adj\", \"%s\") ok", buf);
	return 0;
}

static int capset_all(const struct hk_process *p, struct hk_error *err)
{
	struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct d[2];

	for (int i = 0; i < 2; i++) {
		d[i].effective = (uint32_t)(p->caps[HK_CAP_EFFECTIVE] >> (32 * i));
		d[i].permitted = (uint32_t)(p->caps[HK_CAP_PERMITTED] >> (32 * i));
		d[i].inheritable = (uint32_t)(p->caps[HK_CAP_INHERITABLE] >> (32 * i));
	}
	if (syscall(SYS_capset, &h, d) < 0)
		return hk_error_set(err, -errno, "process.capabilities: capset");
	hk_debug("capset(effective=%#llx, permitted=%#llx, inheritable=%#llx) ok",
		 (unsigned long long)p->caps[HK_CAP_EFFECTIVE],
		 (unsigned long long)p->caps[HK_CAP_PERMITTED],
		 (unsigned long long)p->caps[HK_CAP_INHERITABLE]);
	return 0;
}

int hk_process_cap_last(void)
{
	char buf[16] = "";
	_cleanup_close_ int fd = open("/proc/sys/kernel/cap_last_cap", O_RDONLY | O_CLOEXEC);
	long long v;

	/* The running kernel may know fewer capabilities than this build. */
	if (fd < 0 || read(fd, buf, sizeof(buf) - 1) <= 0)
		return CAP_LAST_CAP;
	buf[strcspn(buf, "\n")] = '\0';
	if (hk_parse_int64(buf, &v) < 0 || v < 0 || v > 63)
		return CAP_LAST_CAP;
	return (int)v;
}

int hk_process_set_user_and_caps(const struct hk_process *p, int last_cap, struct hk_error *err)
{
	/* Keep the permitted set across setuid(2), then shrink it by hand. */
	if (p->has_capabilities) {
		if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
			return hk_error_set(err, -errno, "prctl(PR_SET_KEEPCAPS)");
		for (int cap = 0; cap <= last_cap; cap++)
			if (!(p->caps[HK_CAP_BOUNDING] & (1ULL << cap)) &&
			    prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL)
				return hk_error_set(err, -errno, "prctl(PR_CAPBSET_DROP, %d)", cap);
		hk_debug("bounding set = %#llx ok", (unsigned long long)p->caps[HK_CAP_BOUNDING]);
	}
	if (setgroups(p->n_additional_gids, p->additional_gids) < 0 && errno != EPERM)
		return hk_error_set(err, -errno, "setgroups");
	if (setresgid(p->gid, p->gid, p->gid) < 0)
		return hk_error_set(err, -errno, "setresgid(%u)", (unsigned)p->gid);
	if (setresuid(p->uid, p->uid, p->uid) < 0)
		return hk_error_set(err, -errno, "setresuid(%u)", (unsigned)p->uid);
	hk_debug("setresgid(%u) setresuid(%u) with %zu groups ok", (unsigned)p->gid,
		 (unsigned)p->uid, p->n_additional_gids);
	if (!p->has_capabilities)
		return 0;
	if (capset_all(p, err) < 0)
		return err->code;
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		return hk_error_set(err, -errno, "prctl(PR_CAP_AMBIENT_CLEAR_ALL)");
	for (int cap = 0; cap <= last_cap; cap++)
		if ((p->caps[HK_CAP_AMBIENT] & (1ULL << cap)) &&
		    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) < 0)
			hk_debug("ambient capability %d not raised (%d)", cap, errno);
	prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
	return 0;
}

static bool is_executable(const char *path, struct hk_error *err)
{
	struct stat st;

	if (stat(path, &st) < 0) {
		hk_error_set(err, -errno, "exec: \"%s\"", path);
		return false;
	}
	if (S_ISDIR(st.st_mode) || access(path, X_OK) < 0) {
		hk_error_set(err, -EACCES, "exec: \"%s\"", path);
		return false;
	}
	return true;
}

int hk_process_find_executable(const struct hk_process *p, char *buf, size_t size,
			       struct hk_error *err)
{
	const char *arg0 = p->args[0],
		   *path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

	if (strchr(arg0, '/')) {
		snprintf(buf, size, "%s", arg0);
		return is_executable(buf, err) ? 0 : err->code;
	}
	for (char **e = p->env; e && *e; e++)
		if (strncmp(*e, "PATH=", 5) == 0)
			path = *e + 5;
	for (const char *dir = path; dir;) {
		const char *end = strchr(dir, ':');
		size_t len = end ? (size_t)(end - dir) : strlen(dir);
		struct stat st;

		snprintf(buf, size, "%.*s/%s", (int)len, len ? dir : ".", arg0);
		if (stat(buf, &st) == 0 && !S_ISDIR(st.st_mode) && access(buf, X_OK) == 0)
			return 0;
		dir = end ? end + 1 : NULL;
	}
	return hk_error_setx(err, -ENOENT, "exec: \"%s\": executable file not found in $PATH",
			     arg0);
}

int hk_process_close_fds(unsigned preserve_fds, struct hk_error *err)
{
	unsigned first = 3 + preserve_fds;

	/* Any fd the caller let us inherit is the host's: never hand it on. */
	if (syscall(SYS_close_range, first, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
		return hk_error_set(err, -errno, "close_range(%u, ~0, CLOSE_RANGE_CLOEXEC)", first);
	hk_debug("close_range(%u, ~0, CLOSE_RANGE_CLOEXEC) ok", first);
	return 0;
}
