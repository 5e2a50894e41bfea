/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The process settings applied last in the container child, then execve(). */
#pragma once

#include <stddef.h>

#include "error.h"
#include "spec.h"

int hk_process_set_rlimits(const struct hk_process *p, struct hk_error *err);
/* process.scheduler and process.ioPriority, for this process and its children. */
int hk_process_set_scheduling(const struct hk_process *p, struct hk_error *err);
/* In the runtime: clear, with a warning, the capabilities the kernel does not know. */
void hk_process_drop_unknown_caps(struct hk_process *p, int last_cap);
/* Through procfd, a procfs root (hk_proc_open()); nothing to do without oomScoreAdj. */
int hk_process_set_oom_score_adj(const struct hk_process *p, int procfd, struct hk_error *err);
/*
 * The bounding set first (each drop makes new credentials: the init does it
 * before it joins its cgroups, so they are not charged to the container).
 */
int hk_process_drop_bounding(const struct hk_process *p, int last_cap, struct hk_error *err);
/* Then groups, gid, uid and the other four capability sets, in the order that keeps them. */
/*
 * HOME, as runc and crun set it (engines rely on it): in the runtime, before
 * clone, env gets a free slot when it has no HOME; in the container, before
 * the user switch, the slot gets "HOME=" and the home of process.user.uid in
 * the container's /etc/passwd, or "/" for a uid it does not list. No
 * allocation in the container.
 */
void hk_process_reserve_home(struct hk_process *p);
void hk_process_set_home(const struct hk_process *p);
/* stdio (a pipe, a socket or the pty) belongs to process.user, so that a
 * non-root process can open /dev/stdout; a file given as stdio is left as it is. */
void hk_process_chown_stdio(const struct hk_process *p);
/*
 * Why execve(exe) failed with ENOENT although exe is there: its ELF
 * interpreter (PT_INTERP) or its "#!" interpreter is missing from the
 * container (": its ELF interpreter \"/lib64/ld-linux-x86-64.so.2\" is not
 * in the container"), else "". In buf; no allocation.
 */
const char *hk_process_explain_enoent(const char *exe, char *buf, size_t size);
int hk_process_set_user_and_caps(const struct hk_process *p, int last_cap, struct hk_error *err);
/* The running kernel's highest capability number (/proc/sys/kernel/cap_last_cap). */
int hk_process_cap_last(void);
/*
 * Find args[0] as execvp(3) would, using PATH from the process's env, inside
 * the container. "executable file not found in $PATH" as runc says it.
 */
int hk_process_find_executable(const struct hk_process *p, char *buf, size_t size,
			       struct hk_error *err);
/* Mark every fd from 3 + preserve_fds on close-on-exec (CVE-2024-21626). */
int hk_process_close_fds(unsigned preserve_fds, struct hk_error *err);
