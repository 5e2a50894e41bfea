/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Cgroups: the container gets its own cgroup on every mounted hierarchy:
 * each cgroup v1 controller, named v1 hierarchies (name=systemd) and the
 * cgroup2 mount. This covers v1, v2 and hybrid hosts (v1 controllers plus a
 * unified mount, which is what crun refuses). Limits come later.
 */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include "error.h"
#include "spec.h"

struct hk_cgroup_mount {
	char *mountpoint;     /* /sys/fs/cgroup/memory */
	char *controllers;    /* "memory", "cpu,cpuacct", "name=systemd"; NULL for cgroup2 */
	char *root;	      /* the mount's root inside the hierarchy, usually "/" */
	char *path;	      /* the container's cgroup here, after hk_cgroup_plan() */
	char *v2_controllers; /* cgroup2: its cgroup.controllers ("cpu io memory ...") */
};

/* The cgroup hierarchies mounted on this host, from /proc/self/mountinfo. */
int hk_cgroup_mounts(struct hk_cgroup_mount **ret, size_t *ret_n, struct hk_error *err);
void hk_cgroup_mounts_free(struct hk_cgroup_mount *m, size_t n);

/*
 * Before clone: every hierarchy on this host, each with the path of the
 * container's cgroup on it (from linux.cgroupsPath, or hako/<id>).
 */
int hk_cgroup_plan(const struct hk_spec *spec, const char *id, struct hk_cgroup_mount **ret,
		   size_t *ret_n, struct hk_error *err);

/*
 * Create the container's cgroup on every hierarchy, apply the device rules,
 * and move pid in. ret_dirs gets the directories created, parents first,
 * also on failure: the caller removes them after it has killed pid.
 * rootless skips a hierarchy we may not write, unless the config asks for
 * something there (as runc does).
 */
int hk_cgroup_enter(const struct hk_cgroup_mount *mounts, size_t n_mounts,
		    const struct hk_spec *spec, pid_t pid, bool rootless, char ***ret_dirs,
		    struct hk_error *err);
/* How many processes the OOM killer ended in the container's memory cgroup. */
long long hk_cgroup_oom_kills(const struct hk_cgroup_mount *mounts, size_t n);
/* Send sig to every process in the container's cgroup. */
int hk_cgroup_kill_all(char *const *dirs, int sig, struct hk_error *err);
/* Remove dirs, deepest first; retries while the kernel still frees the cgroup. */
int hk_cgroup_remove(char *const *dirs, struct hk_error *err);
