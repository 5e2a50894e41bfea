/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Cgroups: the container gets its own cgroup on every mounted hierarchy:
 * each cgroup v1 controller, named v1 hierarchies (name=systemd) and the
 * cgroup2 mount. This covers v1, v2 and hybrid hosts (v1 controllers plus a
 * unified mount, which is what crun refuses). Limits come later.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"
#include "spec.h"
#include "util.h"

struct hk_cgroup_mount {
	char *mountpoint;     /* /sys/fs/cgroup/memory */
	char *controllers;    /* "memory", "cpu,cpuacct", "name=systemd"; NULL for cgroup2 */
	char *root;	      /* the mount's root inside the hierarchy, usually "/" */
	char *path;	      /* the container's cgroup here, after hk_cgroup_plan() */
	char *v2_controllers; /* cgroup2: its cgroup.controllers ("cpu io memory ...") */
	bool device_program;  /* cgroup2 enforces device rules (no v1 devices here) */
};

/* The cgroup hierarchies mounted on this host, from /proc/self/mountinfo. */
int hk_cgroup_mounts(struct hk_cgroup_mount **ret, size_t *ret_n, struct hk_error *err);
void hk_cgroup_mounts_free(struct hk_cgroup_mount *m, size_t n);

/*
 * Before clone: every hierarchy on this host, each with the path of the
 * container's cgroup on it (from linux.cgroupsPath, or hako/<id>).
 */
/*
 * The parent of containers without a cgroupsPath: "hako", or the
 * environment's HAKO_CGROUP_PARENT when that is one directory name (a test
 * suite's own, so that another hako user's containers do not share it).
 */
const char *hk_cgroup_default_parent(void);
int hk_cgroup_plan(const struct hk_spec *spec, const char *id, struct hk_cgroup_mount **ret,
		   size_t *ret_n, struct hk_error *err);

/*
 * Create the container's cgroup on every hierarchy and apply its limits and
 * device rules; hk_cgroup_join() moves the process in later. ret_dirs gets
 * the directories created, parents first, also on failure: the caller
 * removes them once the process is gone. ret_paths gets the container's
 * cgroup on each hierarchy, to join. rootless skips a hierarchy we may not
 * write, unless the config asks for something there (as runc does).
 */
int hk_cgroup_make(const struct hk_cgroup_mount *mounts, size_t n_mounts,
		   const struct hk_spec *spec, bool rootless, char ***ret_dirs, char ***ret_paths,
		   struct hk_error *err);

/*
 * After create: the hierarchies of the paths a container joined (the state's
 * cgroup_paths), each with its path, for the commands below.
 */
int hk_cgroup_attach(char *const *paths, struct hk_cgroup_mount **ret, size_t *ret_n,
		     struct hk_error *err);
/* exec: move pid into each of the container's cgroups (the state's cgroup_paths). */
int hk_cgroup_join(char *const *paths, pid_t pid, struct hk_error *err);
/*
 * For an init that moves itself in (see child.c): open each path's `tasks`
 * (v1) or cgroup.procs (v2) and pass it over sock as HK_SYNC_CGROUP, the
 * path in the message. optional: a file we may not open is skipped
 * (rootless without limits).
 */
#define HK_CGROUP_JOIN_MAX 32
int hk_cgroup_send_join_fds(int sock, char *const *paths, bool optional, struct hk_error *err);
/* pause/resume: freeze or thaw every process, and wait until it is done. */
int hk_cgroup_freeze(const struct hk_cgroup_mount *m, size_t n, bool frozen, struct hk_error *err);
bool hk_cgroup_frozen(const struct hk_cgroup_mount *m, size_t n);
/* update: apply new limits (the same checks and translations as create). */
int hk_cgroup_update(const struct hk_cgroup_mount *m, size_t n, const struct hk_resources *r,
		     struct hk_error *err);
/* events --stats: what the kernel counts for the container, in runc's shape. */
struct hk_cgroup_stats {
	bool has_cpu, has_memory, has_pids, has_swap;
	uint64_t cpu_total, cpu_user, cpu_kernel; /* ns */
	uint64_t *cpu_percpu;			  /* ns, v1 only */
	size_t n_percpu;
	uint64_t periods, throttled_periods, throttled_time;
	uint64_t mem_usage, mem_max, mem_limit, mem_failcnt;
	uint64_t swap_usage, swap_max, swap_limit;
	char *mem_raw; /* memory.stat as "key value" lines */
	uint64_t pids_current, pids_limit;
	long long oom_kills;
};
int hk_cgroup_stats(const struct hk_cgroup_mount *m, size_t n, struct hk_cgroup_stats *ret);
void hk_cgroup_stats_release(struct hk_cgroup_stats *st);
/* runc's "data" object of a stats event. */
void hk_cgroup_stats_json(const struct hk_cgroup_stats *st, struct hk_buf *b);

/* The processes in the container's cgroup. */
int hk_cgroup_pids(const struct hk_cgroup_mount *m, size_t n, pid_t **ret, size_t *ret_n,
		   struct hk_error *err);
/* How many processes the OOM killer ended in the container's memory cgroup. */
long long hk_cgroup_oom_kills(const struct hk_cgroup_mount *mounts, size_t n);
/* Send sig to every process in the container's cgroup. */
int hk_cgroup_kill_all(char *const *dirs, int sig, struct hk_error *err);
/* Remove dirs, deepest first; retries while the kernel still frees the cgroup. */
int hk_cgroup_remove(char *const *dirs, struct hk_error *err);
