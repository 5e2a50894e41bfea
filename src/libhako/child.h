/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The container init between clone3() and execve(): the classic tutorial's
 * steps in order. It inherits the parsed spec as a copy of the parent's
 * memory and reports failure to the parent as one fixed-size sync message.
 */
#pragma once

#include <stdbool.h>

#include "cgroup.h"
#include "namespaces.h"
#include "seccomp-filter.h"
#include "spec.h"

struct hk_child_args {
	const struct hk_spec *spec;
	const struct hk_ns_plan *plan;
	int sync_fd;   /* our end of the socketpair to the runtime */
	int exec_fifo; /* create: the exec fifo, open for reading and writing */
	bool no_pivot;
	unsigned preserve_fds;
	/* Read by the parent, so the child need not allocate: */
	const struct hk_cgroup_mount *cgroups; /* with the container's paths */
	size_t n_cgroups;
	bool cgroups_optional; /* rootless without limits: may fail to join */
	const int *bind_fds;   /* per mount: its source, cloned by the runtime, or -1 */
	int cap_last;	       /* the running kernel's last capability */
	const char *keyring;   /* "_ses.<id>", or NULL for --no-new-keyring */
	unsigned lsms;	       /* HK_LSM_* enabled on the host */
	/* exec: the running init's pidfd and the namespaces to join through it;
	 * exec_pidfd is -1 for create. */
	int exec_pidfd;
	int exec_ns_flags;
	int exec_root; /* exec: the init's root to chroot into, or -1 (see hk_mount_chroot()) */
	const struct hk_seccomp_prog *seccomp; /* compiled by the parent */
};

/* Set up the container and execve() its process. Never returns. */
_Noreturn void hk_child_main(const struct hk_child_args *a);
