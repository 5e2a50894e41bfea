/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <dirent.h>
#include <elf.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/sysmacros.h>
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

/* struct sched_attr of sched_setattr(2); glibc 2.36 has no wrapper. */
struct hk_sched_attr {
	uint32_t size;
	uint32_t sched_policy;
	uint64_t sched_flags;
	int32_t sched_nice;
	uint32_t sched_priority;
	uint64_t sched_runtime, sched_deadline, sched_period;
	uint32_t sched_util_min, sched_util_max;
};

int hk_process_set_scheduling(const struct hk_process *p, struct hk_error *err)
{
	if (p->has_scheduler) {
		const struct hk_scheduler *sc = &p->scheduler;
		struct hk_sched_attr attr = {
		    .size = sizeof(attr),
		    .sched_policy = sc->policy,
		    .sched_flags = sc->flags,
		    .sched_nice = sc->nice,
		    .sched_priority = sc->priority,
		    .sched_runtime = sc->runtime,
		    .sched_deadline = sc->deadline,
		    .sched_period = sc->period,
		};
		if (syscall(SYS_sched_setattr, 0, &attr, 0) < 0) {
			/* A real-time policy in a cgroup v1 cpu cgroup needs a budget there. */
			bool rt = sc->policy == SCHED_FIFO || sc->policy == SCHED_RR;
			return hk_error_set(
			    err, -errno,
			    "process.scheduler: sched_setattr(policy %u, nice %d, "
			    "priority %u, flags %#llx)%s",
			    sc->policy, sc->nice, sc->priority, (unsigned long long)sc->flags,
			    errno == EPERM && rt ? " (a real-time policy needs "
						   "linux.resources.cpu.realtimeRuntime)"
						 : "");
		}
		hk_debug("sched_setattr(policy %u, nice %d, priority %u) ok", sc->policy, sc->nice,
			 sc->priority);
	}
	if (p->has_io_priority) {
		/* IOPRIO_WHO_PROCESS 0: us; our children inherit it. */
		if (syscall(SYS_ioprio_set, 1, 0, p->io_priority) < 0)
			return hk_error_set(err, -errno, "process.ioPriority: ioprio_set(%#x)",
					    (unsigned)p->io_priority);
		hk_debug("ioprio_set(IOPRIO_WHO_PROCESS, 0, %#x) ok", (unsigned)p->io_priority);
	}
	return 0;
}

void hk_process_drop_unknown_caps(struct hk_process *p, int last_cap)
{
	uint64_t known = last_cap >= 63 ? ~0ULL : (1ULL << (last_cap + 1)) - 1, unknown = 0;

	if (!p->has_capabilities)
		return;
	for (int s = 0; s < HK_CAP_SET_COUNT; s++) {
		unknown |= p->caps[s] & ~known;
		p->caps[s] &= known;
	}
	for (int cap = last_cap + 1; cap < 64; cap++)
		if (unknown & (1ULL << cap))
			hk_warn("process.capabilities: %s is not known to the running kernel "
				"(its last is %d): skipped",
				(unsigned)cap < hk_cap_count ? hk_cap_names[cap] : "?", last_cap);
}

int hk_process_set_oom_score_adj(const struct hk_process *p, int procfd, struct hk_error *err)
{
	char buf[16];

	if (!p->has_oom_score_adj)
		return 0;
	snprintf(buf, sizeof(buf), "%d", p->oom_score_adj);
	/* Lowering it needs CAP_SYS_RESOURCE (proc(5)). */
	if (hk_write_proc(procfd, "self/oom_score_adj", buf, strlen(buf), err) < 0)
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

int hk_process_drop_bounding(const struct hk_process *p, int last_cap, struct hk_error *err)
{
	if (!p->has_capabilities)
		return 0;
	for (int cap = 0; cap <= last_cap; cap++)
		if (!(p->caps[HK_CAP_BOUNDING] & (1ULL << cap)) &&
		    prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL)
			return hk_error_set(err, -errno, "prctl(PR_CAPBSET_DROP, %d)", cap);
	hk_debug("bounding set = %#llx ok", (unsigned long long)p->caps[HK_CAP_BOUNDING]);
	return 0;
}

int hk_process_set_user_and_caps(const struct hk_process *p, int last_cap, struct hk_error *err)
{
	/* Keep the permitted set across setuid(2), then shrink it by hand. */
	if (p->has_capabilities && prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
		return hk_error_set(err, -errno, "prctl(PR_SET_KEEPCAPS)");
	if (p->keep_original_groups) {
		/* run.oci.keep_original_groups: ours, then additionalGids. */
		int n = getgroups(0, NULL);
		_cleanup_free_ gid_t *g =
		    calloc((size_t)(n > 0 ? n : 0) + p->n_additional_gids + 1, sizeof(gid_t));
		if (n < 0 || !g || (n = getgroups(n, g)) < 0)
			return hk_error_set(err, -errno, "getgroups");
		memcpy(g + n, p->additional_gids, p->n_additional_gids * sizeof(gid_t));
		if (setgroups((size_t)n + p->n_additional_gids, g) < 0 && errno != EPERM)
			return hk_error_set(err, -errno, "setgroups");
	} else if (setgroups(p->n_additional_gids, p->additional_gids) < 0 && errno != EPERM) {
		return hk_error_set(err, -errno, "setgroups");
	}
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

/* FD_CLOEXEC on every fd from first on, as /proc/self/fd lists them (getdents64
 * into a buffer of ours: no allocation). */
static int cloexec_listed_fds(unsigned first, struct hk_error *err)
{
	char buf[4096];
	int dir = open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	long n;

	if (dir < 0)
		return hk_error_set(err, -errno,
				    "open \"/proc/self/fd\" to close the inherited fds");
	while ((n = syscall(SYS_getdents64, dir, buf, sizeof(buf))) > 0) {
		for (long o = 0; o < n;) {
			struct dirent64 *de = (struct dirent64 *)(buf + o);
			char *end;
			long fd = strtol(de->d_name, &end, 10);

			o += de->d_reclen;
			if (*end || end == de->d_name || fd < (long)first || fd == dir)
				continue;
			if (fcntl((int)fd, F_SETFD, FD_CLOEXEC) < 0 && errno != EBADF) {
				int e = errno;
				close(dir);
				return hk_error_set(err, -e, "fcntl(%ld, F_SETFD, FD_CLOEXEC)", fd);
			}
		}
	}
	close(dir);
	if (n < 0)
		return hk_error_set(err, -errno, "list \"/proc/self/fd\"");
	hk_debug("FD_CLOEXEC on every fd from %u, through /proc/self/fd", first);
	return 0;
}

int hk_process_close_fds(unsigned preserve_fds, struct hk_error *err)
{
	unsigned first = 3 + preserve_fds;

	/* Any fd the caller let us inherit is the host's: never hand it on. */
	if (syscall(SYS_close_range, first, ~0U, CLOSE_RANGE_CLOEXEC) == 0) {
		hk_debug("close_range(%u, ~0, CLOSE_RANGE_CLOEXEC) ok", first);
		return 0;
	}
	/* The container's seccomp filter (loaded before us without
	 * no_new_privs) may deny close_range, as older Docker-style profiles
	 * do: mark the fds one by one, as /proc/self/fd lists them. */
	hk_debug("close_range: %s: marking the fds through /proc/self/fd", strerror(errno));
	return cloexec_listed_fds(first, err);
}

void hk_process_reserve_home(struct hk_process *p)
{
	size_t n = 0;

	for (; p->env && p->env[n]; n++)
		if (strncmp(p->env[n], "HOME=", 5) == 0)
			return;
	p->env = hk_xrealloc(p->env, (n + 2) * sizeof(char *));
	p->env[n] = p->env[n + 1] = NULL;
	p->needs_home = true;
}

/* The home field of uid's line in passwd(5) text, into home; false if none. */
static bool passwd_home(const char *line, uid_t uid, char *home, size_t size)
{
	const char *f[7];
	int k = 0;
	unsigned long id;
	char *end;

	f[k++] = line;
	for (const char *c = line; *c && k < 7; c++)
		if (*c == ':')
			f[k++] = c + 1;
	if (k < 7)
		return false;
	errno = 0;
	id = strtoul(f[2], &end, 10);
	if (errno || end == f[2] || *end != ':' || id != (unsigned long)uid)
		return false;
	snprintf(home, size, "%.*s", (int)(f[6] - 1 - f[5]), f[5]);
	return home[0] != '\0';
}

void hk_process_set_home(const struct hk_process *p)
{
	static char env[PATH_MAX + 8];
	char home[PATH_MAX] = "/", chunk[4096], line[4096];
	size_t used = 0, n = 0;
	bool found = false;
	struct stat st;
	int fd;
	ssize_t got;

	if (!p->needs_home)
		return;
	/* The container's /etc/passwd, which the image wrote: a regular file
	 * only (a FIFO there must not hang us), lines past 4 KiB skipped. */
	fd = open("/etc/passwd", O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
		while (!found && (got = read(fd, chunk, sizeof(chunk))) > 0) {
			for (ssize_t i = 0; i < got && !found; i++) {
				if (chunk[i] != '\n') {
					if (used + 1 < sizeof(line))
						line[used] = chunk[i];
					used++;
					continue;
				}
				if (used + 1 < sizeof(line)) {
					line[used] = '\0';
					found = passwd_home(line, p->uid, home, sizeof(home));
				}
				used = 0;
			}
		}
		if (!found && used && used + 1 < sizeof(line)) {
			line[used] = '\0';
			found = passwd_home(line, p->uid, home, sizeof(home));
		}
	}
	if (fd >= 0)
		close(fd);
	if (!found)
		snprintf(home, sizeof(home), "/");
	snprintf(env, sizeof(env), "HOME=%s", home);
	while (p->env[n])
		n++;
	p->env[n] = env;
	hk_debug("process.env: %s (from /etc/passwd for uid %u)", env, (unsigned)p->uid);
}

void hk_process_chown_stdio(const struct hk_process *p)
{
	for (int fd = 0; fd < 3; fd++) {
		struct stat st;
		bool pty;

		if (fstat(fd, &st) < 0 || (st.st_uid == p->uid && st.st_gid == p->gid))
			continue;
		/* UNIX98 pty slaves are majors 136 to 143 (devices.txt). */
		pty = S_ISCHR(st.st_mode) && major(st.st_rdev) >= 136 && major(st.st_rdev) <= 143;
		if (!S_ISFIFO(st.st_mode) && !S_ISSOCK(st.st_mode) && !pty)
			continue;
		/* An id not mapped in our user namespace, or an owner we may not
		 * change: leave it, as runc does. */
		if (fchown(fd, p->uid, p->gid) < 0)
			hk_debug("fchown(stdio %d, %u, %u): %s: left as it is", fd,
				 (unsigned)p->uid, (unsigned)p->gid, strerror(errno));
		else
			hk_debug("fchown(stdio %d, %u, %u) ok", fd, (unsigned)p->uid,
				 (unsigned)p->gid);
	}
}

/* The PT_INTERP path of the ELF file fd (whose first n bytes are in head), into path. */
static bool elf_interpreter(int fd, const unsigned char *head, size_t n, char *path, size_t size)
{
	bool is64 = n > EI_CLASS && head[EI_CLASS] == ELFCLASS64;
	size_t ehsize = is64 ? sizeof(Elf64_Ehdr) : sizeof(Elf32_Ehdr);
	unsigned long long phoff, off, len;
	unsigned phnum, phentsize;

	if (n < ehsize)
		return false;
	if (is64) {
		const Elf64_Ehdr *eh = (const Elf64_Ehdr *)head;
		phoff = eh->e_phoff, phnum = eh->e_phnum, phentsize = eh->e_phentsize;
	} else {
		const Elf32_Ehdr *eh = (const Elf32_Ehdr *)head;
		phoff = eh->e_phoff, phnum = eh->e_phnum, phentsize = eh->e_phentsize;
	}
	if (phentsize < (is64 ? sizeof(Elf64_Phdr) : sizeof(Elf32_Phdr)) || phnum > 256)
		return false;
	for (unsigned i = 0; i < phnum; i++) {
		Elf64_Phdr ph64;
		Elf32_Phdr ph32;
		unsigned type;

		if (pread(fd, is64 ? (void *)&ph64 : (void *)&ph32,
			  is64 ? sizeof(ph64) : sizeof(ph32),
			  (off_t)(phoff + (unsigned long long)i * phentsize)) <= 0)
			return false;
		type = is64 ? ph64.p_type : ph32.p_type;
		if (type != PT_INTERP)
			continue;
		off = is64 ? ph64.p_offset : ph32.p_offset;
		len = is64 ? ph64.p_filesz : ph32.p_filesz;
		if (len == 0 || len >= size ||
		    pread(fd, path, (size_t)len, (off_t)off) != (ssize_t)len)
			return false;
		path[len] = '\0';
		return true;
	}
	return false;
}

const char *hk_process_explain_enoent(const char *exe, char *buf, size_t size)
{
	unsigned char head[512];
	char interp[PATH_MAX] = "";
	const char *kind = NULL;
	int fd = open(exe, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, head, sizeof(head) - 1) : -1;

	buf[0] = '\0';
	if (n >= 4 && memcmp(head, ELFMAG, SELFMAG) == 0) {
		if (elf_interpreter(fd, head, (size_t)n, interp, sizeof(interp)))
			kind = "ELF interpreter";
	} else if (n >= 3 && head[0] == '#' && head[1] == '!') {
		char *p = (char *)head + 2, *end;
		head[n] = '\0';
		p += strspn(p, " \t");
		end = p + strcspn(p, " \t\n");
		snprintf(interp, sizeof(interp), "%.*s", (int)(end - p), p);
		kind = "\"#!\" interpreter";
	}
	if (fd >= 0)
		close(fd);
	if (kind && interp[0] && access(interp, F_OK) < 0)
		snprintf(buf, size, ": its %s \"%s\" is not in the container", kind, interp);
	return buf;
}
