/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/nsfs.h>

#include "log.h"
#include "namespaces.h"
#include "sys.h"
#include "util.h"

int hk_ns_prepare(const struct hk_spec *spec, struct hk_ns_plan *plan, struct hk_error *err)
{
	bool join_user = spec->ns[HK_NS_USER].enabled && spec->ns[HK_NS_USER].path;

	memset(plan, 0, sizeof(*plan));
	for (int k = 0; k < HK_NS_COUNT; k++)
		plan->join_fd[k] = -1;
	for (int k = 0; k < HK_NS_COUNT; k++) {
		const struct hk_namespace *ns = &spec->ns[k];
		int type;

		if (!ns->enabled)
			continue;
		if (!ns->path) {
			/* time: created by the runtime for its children (see header).
			 * cgroup: unshared by the child once it sits in its cgroup, so that
			 * the namespace's root is the container's cgroup. With a joined user
			 * namespace, the child creates the rest after setns(), so they
			 * belong to that user namespace. */
			if (k == HK_NS_TIME)
				continue;
			/* A new pid namespace comes from clone3() so the init is PID 1. */
			if (k == HK_NS_PID) {
				plan->clone_flags |= CLONE_NEWPID;
				continue;
			}
			if (k == HK_NS_CGROUP)
				plan->new_cgroupns = true;
			else if (join_user)
				plan->unshare_flags |= hk_ns_table[k].clone_flag;
			else
				plan->clone_flags |= hk_ns_table[k].clone_flag;
			continue;
		}
		plan->join_fd[k] = open(ns->path, O_RDONLY | O_CLOEXEC);
		if (plan->join_fd[k] < 0) {
			hk_error_set(err, -errno, "linux.namespaces: %s namespace path \"%s\"",
				     hk_ns_table[k].spec_name, ns->path);
			hk_ns_plan_release(plan);
			return err->code;
		}
		/* A wrong kind of namespace file would make setns() join the wrong thing. */
		type = ioctl(plan->join_fd[k], NS_GET_NSTYPE);
		if (type != hk_ns_table[k].clone_flag) {
			hk_error_setx(err, -EINVAL,
				      "linux.namespaces: \"%s\" is not a %s namespace", ns->path,
				      hk_ns_table[k].spec_name);
			hk_ns_plan_release(plan);
			return err->code;
		}
	}
	return 0;
}

void hk_ns_plan_release(struct hk_ns_plan *plan)
{
	for (int k = 0; k < HK_NS_COUNT; k++)
		if (plan->join_fd[k] >= 0) {
			close(plan->join_fd[k]);
			plan->join_fd[k] = -1;
		}
}

static int write_time_offsets(const struct hk_spec *spec, struct hk_error *err)
{
	char buf[128];
	int n;

	/* Offsets can only be written before the first process enters the
	 * namespace: time_namespaces(7). The init born next is that process. */
	n = snprintf(buf, sizeof(buf), "monotonic %lld %lld\nboottime %lld %lld\n",
		     (long long)spec->monotonic.secs, (long long)spec->monotonic.nanosecs,
		     (long long)spec->boottime.secs, (long long)spec->boottime.nanosecs);
	hk_debug("write(\"/proc/self/timens_offsets\", \"%.*s\")", n - 1, buf);
	if (hk_write_file("/proc/self/timens_offsets", buf, (size_t)n, err) < 0)
		return hk_error_prefix(err, "linux.timeOffsets");
	return 0;
}

/* Save the caller's namespace of kind (for its children) before changing it. */
static int save_children_ns(const char *kind, int *fd, struct hk_error *err)
{
	char path[64];

	if (*fd >= 0)
		return 0;
	snprintf(path, sizeof(path), "/proc/self/ns/%s_for_children", kind);
	*fd = open(path, O_RDONLY | O_CLOEXEC);
	return *fd < 0 ? hk_error_set(err, -errno, "open \"%s\"", path) : 0;
}

int hk_ns_children_enter(const struct hk_spec *spec, const struct hk_ns_plan *plan, int pidfd,
			 int flags, struct hk_ns_children *saved, struct hk_error *err)
{
	static const int kinds[] = {HK_NS_PID, HK_NS_TIME};

	/* exec: the running init's, both at once through its pidfd. */
	if (pidfd >= 0) {
		flags &= CLONE_NEWPID | CLONE_NEWTIME;
		if (!flags)
			return 0;
		if (((flags & CLONE_NEWPID) && save_children_ns("pid", &saved->pid, err) < 0) ||
		    ((flags & CLONE_NEWTIME) && save_children_ns("time", &saved->time, err) < 0))
			return err->code;
		if (setns(pidfd, flags) < 0)
			return hk_error_set(err, -errno, "setns(pidfd, pid and time namespaces)");
		return 0;
	}
	/* create: the config's, joined by path, or a new time namespace with
	 * its offsets (a new pid namespace comes from clone3 itself). */
	for (size_t i = 0; i < ARRAY_SIZE(kinds); i++) {
		int k = kinds[i], *fd = k == HK_NS_PID ? &saved->pid : &saved->time;

		if (!spec->ns[k].enabled)
			continue;
		if (plan->join_fd[k] >= 0) {
			if (save_children_ns(hk_ns_table[k].proc_name, fd, err) < 0 ||
			    hk_sys_setns(plan->join_fd[k], hk_ns_table[k].clone_flag,
					 spec->ns[k].path, err) < 0)
				return err->code;
			continue;
		}
		if (k == HK_NS_TIME) {
			if (save_children_ns("time", fd, err) < 0 ||
			    hk_sys_unshare(hk_ns_table[k].clone_flag, err) < 0)
				return err->code;
			if (spec->has_time_offsets && write_time_offsets(spec, err) < 0)
				return err->code;
		}
	}
	return 0;
}

void hk_ns_children_leave(struct hk_ns_children *saved)
{
	/* Back to what we saved; there is no failing here that a caller could
	 * mend, and our own namespaces always take us back. */
	if (saved->pid >= 0 && setns(saved->pid, CLONE_NEWPID) < 0)
		hk_warn("setns back to our pid namespace: %m");
	if (saved->time >= 0 && setns(saved->time, CLONE_NEWTIME) < 0)
		hk_warn("setns back to our time namespace: %m");
	hk_ns_children_drop(saved);
}

void hk_ns_children_drop(struct hk_ns_children *saved)
{
	if (saved->pid >= 0)
		close(saved->pid);
	if (saved->time >= 0)
		close(saved->time);
	*saved = (struct hk_ns_children)HK_NS_CHILDREN_INIT;
}

static void format_map(const struct hk_idmap *m, size_t n, char *buf, size_t size)
{
	size_t o = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < n && o < size; i++)
		o += (size_t)snprintf(buf + o, size - o, "%u %u %u\n", m[i].container_id,
				      m[i].host_id, m[i].size);
}

/* newuidmap(1)/newgidmap(1): the setuid helpers for a user allowed by /etc/subuid. */
static int run_map_helper(const char *helper, pid_t pid, const struct hk_idmap *m, size_t n,
			  struct hk_error *err)
{
	char args[341 * 3][16], pidstr[16];
	char *argv[341 * 3 + 3];
	size_t a = 0;
	int status;
	pid_t child;

	snprintf(pidstr, sizeof(pidstr), "%d", (int)pid);
	argv[a++] = (char *)helper;
	argv[a++] = pidstr;
	for (size_t i = 0; i < n; i++) {
		snprintf(args[3 * i], 16, "%u", m[i].container_id);
		snprintf(args[3 * i + 1], 16, "%u", m[i].host_id);
		snprintf(args[3 * i + 2], 16, "%u", m[i].size);
		argv[a++] = args[3 * i];
		argv[a++] = args[3 * i + 1];
		argv[a++] = args[3 * i + 2];
	}
	argv[a] = NULL;
	child = fork();
	if (child < 0)
		return hk_error_set(err, -errno, "fork %s", helper);
	if (child == 0) {
		execvp(helper, argv);
		_exit(127);
	}
	if (waitpid(child, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return hk_error_setx(err, -EPERM, "%s %s failed", helper, pidstr);
	hk_debug("%s %s ok", helper, pidstr);
	return 0;
}

static bool helper_exists(const char *helper)
{
	char path[64];

	snprintf(path, sizeof(path), "/usr/bin/%s", helper);
	return access(path, X_OK) == 0;
}

static int write_map(pid_t pid, const char *file, const struct hk_idmap *m, size_t n,
		     const char *helper, struct hk_error *err)
{
	char path[64], buf[341 * 36];

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
	format_map(m, n, buf, sizeof(buf));
	if (hk_write_file(path, buf, strlen(buf), err) == 0) {
		hk_debug("write(\"%s\", \"%.*s\") ok", path, (int)strlen(buf) - 1, buf);
		return 0;
	}
	if (err->code != -EPERM)
		return err->code;
	/*
	 * Without CAP_SETGID an unprivileged user may map just its own gid, and
	 * only once setgroups(2) is denied in the namespace (user_namespaces(7)).
	 */
	if (strcmp(file, "gid_map") == 0 && n == 1 && m[0].size == 1 && m[0].host_id == getegid()) {
		snprintf(path, sizeof(path), "/proc/%d/setgroups", (int)pid);
		if (hk_write_file(path, "deny", 4, err) < 0)
			return err->code;
		hk_debug("write(\"%s\", \"deny\") ok", path);
		snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
		if (hk_write_file(path, buf, strlen(buf), err) < 0)
			return err->code;
		hk_debug("write(\"%s\", \"%.*s\") ok", path, (int)strlen(buf) - 1, buf);
		return 0;
	}
	/* Otherwise only the setuid helpers may map, for ids in /etc/subuid. */
	if (helper_exists(helper))
		return run_map_helper(helper, pid, m, n, err);
	return err->code;
}

int hk_ns_write_id_maps(const struct hk_spec *spec, pid_t pid, struct hk_error *err)
{
	if (!hk_ns_makes_user(spec))
		return 0;
	if (write_map(pid, "uid_map", spec->uid_mappings, spec->n_uid_mappings, "newuidmap", err) <
	    0)
		return hk_error_prefix(err, "linux.uidMappings");
	if (write_map(pid, "gid_map", spec->gid_mappings, spec->n_gid_mappings, "newgidmap", err) <
	    0)
		return hk_error_prefix(err, "linux.gidMappings");
	return 0;
}

int hk_ns_join_and_unshare(const struct hk_spec *spec, const struct hk_ns_plan *plan,
			   struct hk_error *err)
{
	/* HK_NS_USER comes first in the table: joining it gives the capabilities
	 * needed to join the others (user_namespaces(7)). */
	for (int k = 0; k < HK_NS_COUNT; k++) {
		if (k == HK_NS_PID || k == HK_NS_TIME || plan->join_fd[k] < 0)
			continue;
		if (hk_sys_setns(plan->join_fd[k], hk_ns_table[k].clone_flag, spec->ns[k].path,
				 err) < 0)
			return err->code;
	}
	if (plan->unshare_flags && hk_sys_unshare(plan->unshare_flags, err) < 0)
		return err->code;
	return 0;
}

int hk_ns_unshare_cgroup(const struct hk_ns_plan *plan, struct hk_error *err)
{
	if (plan->new_cgroupns && hk_sys_unshare(CLONE_NEWCGROUP, err) < 0)
		return err->code;
	return 0;
}
