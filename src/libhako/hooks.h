/* SPDX-License-Identifier: GPL-2.0-or-later */
/* OCI hooks: run one phase's hooks with the state JSON on their stdin. */
#pragma once

#include "error.h"
#include "spec.h"

/*
 * Run the hooks of phase ph in order, stopping at the first that fails. With
 * pidfd >= 0 each hook first joins that process's namespaces in ns_flags (the
 * container's, for createContainer and startContainer).
 */
int hk_hooks_run(const struct hk_spec *spec, enum hk_hook_phase ph, const char *state, int pidfd,
		 int ns_flags, struct hk_error *err);
