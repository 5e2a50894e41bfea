/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What container.c shares with container-exec.c (exec) and container-ops.c
 * (pause, resume, update, ps, events).
 */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include "cgroup.h"
#include "container.h"
#include "error.h"
#include "spec.h"
#include "state.h"

/* For the create hooks: the spec and the state so far. */
/* What hk_wait_for_ready() needs for the hooks and the seccomp agent. */
struct ready_ctx {
	const struct hk_spec *spec;
	struct hk_state *st;
	bool exec; /* an exec'd process: no create hooks, and the container runs */
	int dirfd; /* create: the state directory, where the network namespace is pinned */
};

/*
 * linux.netDevices at delete (or a failed create): move the devices in
 * devices back out of the namespace pinned in dirfd, under their host names,
 * and unpin it. A device that cannot come back gets a warning.
 */
void hk_net_devices_restore(int dirfd, char *const *devices);

/* Open and lock the state, load it, and compute the status from the kernel. */
int hk_container_load(const char *root, const char *id, int *ret_dirfd, struct hk_state *st,
		      enum hk_status *status, struct hk_error *err);
/* A pidfd for pid, if it is still the process that started at start_time. */
int hk_pidfd_open_checked(pid_t pid, unsigned long long start_time);
/* clone3() with flags and CLONE_PIDFD; returns twice, like fork(2). */
pid_t hk_clone_init(int flags, int *ret_pidfd, struct hk_error *err);
int hk_write_pid_file(const char *path, pid_t pid, struct hk_error *err);
/* The error for a child (what: "container init") gone before READY, with
 * the exit status or signal that ended it. */
int hk_init_died(const struct hk_container *c, const char *what, struct hk_error *err);
/* Wait for the child's READY, passing its pty on and running the create hooks. */
int hk_wait_for_ready(const struct hk_create_opts *o, int sock, struct hk_container *c,
		      const struct ready_ctx *x, struct hk_error *err);
/* The namespaces of pid that differ from ours, as CLONE_NEW* flags. */
int hk_differing_namespaces(pid_t pid);
/* Run fn on the hierarchies of the container's cgroups. */
int hk_with_cgroups(const struct hk_state *st,
		    int (*fn)(const struct hk_cgroup_mount *, size_t, void *, struct hk_error *),
		    void *data, struct hk_error *err);
/* Thaw a paused container (a frozen v1 task does not die until thawed). */
int hk_container_thaw(const struct hk_state *st, struct hk_error *err);
