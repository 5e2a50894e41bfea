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
/*
 * The pid and time namespaces apply to the caller's children only, so the
 * runtime itself enters the container's before clone3, and must leave them
 * after: a library call leaves its caller as it found it (a hook it forks
 * later is the host's). One pair serves create and exec:
 * hk_ns_children_enter() saves the caller's in *saved (HK_NS_CHILDREN_INIT
 * first), then for create (pidfd -1) joins the config's by path or makes a
 * new time namespace with its offsets; for exec joins the running init's
 * (flags: CLONE_NEWPID and/or CLONE_NEWTIME) through its pidfd.
 * hk_ns_children_leave() goes back, also after a failed enter.
 */
struct hk_ns_children {
	int pid, time; /* the caller's, for its children; -1: not changed */
};
#define HK_NS_CHILDREN_INIT                                                                        \
	{                                                                                          \
		-1, -1                                                                             \
	}
int hk_ns_children_enter(const struct hk_spec *spec, const struct hk_ns_plan *plan, int pidfd,
			 int flags, struct hk_ns_children *saved, struct hk_error *err);
void hk_ns_children_leave(struct hk_ns_children *saved);
/* In the child of clone3: close the saved fds without going back. They are
 * the host's namespaces, not to be held by a container's process. */
void hk_ns_children_drop(struct hk_ns_children *saved);
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
