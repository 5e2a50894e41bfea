/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Namespaces: which to create with clone3(), which to join by path with
 * setns(2) (what nsenter(1) does), user namespace id maps and time namespace
 * offsets.
 */
#pragma once

#include <sys/types.h>

#include "error.h"
#include "spec.h"

struct hk_ns_plan {
	int join_fd[HK_NS_COUNT]; /* open fds of namespaces joined by path, or -1 */
	int clone_flags;	  /* new namespaces created by clone3() itself */
	int unshare_flags;	  /* new namespaces the child unshares itself */
	bool new_cgroupns;	  /* unshared by the child once it sits in its cgroups */
};

/*
 * Open the namespaces to join and decide how to create the others. The
 * runtime itself joins or creates the pid and time namespaces, which only
 * apply to children (pid_namespaces(7), time_namespaces(7)), so that the
 * container init is born inside them.
 */
int hk_ns_prepare(const struct hk_spec *spec, struct hk_ns_plan *plan, struct hk_error *err);
void hk_ns_plan_release(struct hk_ns_plan *plan);
/* In the runtime, before clone: join or create pid and time namespaces. */
int hk_ns_enter_for_children(const struct hk_spec *spec, const struct hk_ns_plan *plan,
			     struct hk_error *err);
/* In the runtime, after clone: write /proc/<pid>/uid_map and gid_map. */
int hk_ns_write_id_maps(const struct hk_spec *spec, pid_t pid, struct hk_error *err);

/* Does the container get a new user namespace, whose maps the runtime writes? */
static inline bool hk_ns_makes_user(const struct hk_spec *spec)
{
	return spec->ns[HK_NS_USER].enabled && !spec->ns[HK_NS_USER].path;
}
/* In the child: join the namespaces given by path (user first), then unshare the rest. */
int hk_ns_join_and_unshare(const struct hk_spec *spec, const struct hk_ns_plan *plan,
			   struct hk_error *err);

/* In the child, once the runtime has put it in its cgroups: a new cgroup
 * namespace, whose root is the container's cgroup, if the plan has one. */
int hk_ns_unshare_cgroup(const struct hk_ns_plan *plan, struct hk_error *err);
