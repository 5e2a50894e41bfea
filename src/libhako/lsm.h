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

/* The LSMs that can label processes on this host, as HK_LSM_* bits. */
unsigned hk_lsm_enabled(void);

/*
 * In the runtime, before clone: check the labels of p against the host, and
 * add linux.mountLabel to the options of the mounts that take one. Without
 * AppArmor a profile is not applied, and without SELinux neither is a mount
 * label (both said under --debug); a process label is refused.
 */
int hk_lsm_prepare(struct hk_spec *spec, const struct hk_process *p, unsigned lsms,
		   struct hk_error *err);

/* In the container, before execve: the labels the next execve(2) takes. No allocation. */
int hk_lsm_set_exec_labels(const struct hk_process *p, unsigned lsms, struct hk_error *err);
