/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * linux.seccomp: compiled to a BPF program by the runtime before clone3(),
 * loaded by the container's init just before execve().
 */
#pragma once

#include <stddef.h>

#include "error.h"
#include "spec.h"

struct sock_filter;

/* The cache of compiled profiles, in the state root (a tmpfs: one boot). */
#define HK_SECCOMP_CACHE ".seccomp-cache"

struct hk_seccomp_prog {
	struct sock_filter *insns;
	size_t n;	/* 0: no filter */
	unsigned flags; /* SECCOMP_FILTER_FLAG_* */
	bool notify;	/* loading it gives a listener fd (SECCOMP_FILTER_FLAG_NEW_LISTENER) */
};

/*
 * Compile sc. With cache_dir, a profile compiled before is read back from
 * there instead (libseccomp takes tens of milliseconds for a default-deny
 * profile of 300 syscalls); the cache file holds the profile's full text and
 * is used only when that text matches exactly.
 */
int hk_seccomp_compile(const struct hk_seccomp *sc, const char *cache_dir,
		       struct hk_seccomp_prog *ret, struct hk_error *err);
void hk_seccomp_prog_release(struct hk_seccomp_prog *p);
/*
 * In the init: install the filter. No allocation. For a filter with
 * SCMP_ACT_NOTIFY rules, *ret_listener gets the notification fd (else -1).
 */
int hk_seccomp_load(const struct hk_seccomp_prog *p, int *ret_listener, struct hk_error *err);
/*
 * In the runtime: hand the listener fd to the seccomp agent at
 * linux.seccomp.listenerPath, with the container process state (config-linux.md,
 * "The Container Process State"): state is the container's state as JSON and
 * pid the process that loaded the filter.
 */
int hk_seccomp_send_listener(const struct hk_seccomp *sc, int fd, const char *state, pid_t pid,
			     struct hk_error *err);
