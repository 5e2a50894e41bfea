/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Linux security modules: the AppArmor profile and SELinux labels a config
 * asks for, applied when that LSM is enabled on the host.
 */
#pragma once

#include <stdbool.h>

#include "error.h"
#include "spec.h"

enum {
	HK_LSM_APPARMOR = 1 << 0,
	HK_LSM_SELINUX = 1 << 1,
};

/*
 * In the runtime, before clone: *ret_lsms gets the LSMs (HK_LSM_* bits) that
 * can label processes on this host, looked up only when the config has a
 * label. Check the labels of p against them, and add linux.mountLabel to the
 * options of the mounts that take one. A profile without AppArmor, or a
 * process label without SELinux, is refused: a confinement asked for is never
 * dropped in silence. Without SELinux a mount label is not applied (said
 * under --debug), as runc does.
 */
int hk_lsm_prepare(struct hk_spec *spec, const struct hk_process *p, unsigned *ret_lsms,
		   struct hk_error *err);

/* In the container, before execve: the labels the next execve(2) takes,
 * written through procfd, a procfs root (hk_proc_open()). No allocation. */
int hk_lsm_set_exec_labels(const struct hk_process *p, unsigned lsms, int procfd,
			   struct hk_error *err);
