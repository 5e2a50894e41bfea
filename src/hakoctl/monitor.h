/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The monitor of a detached container (monitor.c). */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include "commands.h"

/*
 * Start the monitor of container id, whose bundle is ready and whose rootfs
 * is mounted in our mount namespace; it creates the container with the
 * runtime. ret_pid: the container's process. On failure ret_code is the
 * status for it (docker's 125, 126 or 127) and err says why.
 */
int ctl_monitor_launch(const struct ctl_globals *g, struct hk_store *s, const char *id,
		       pid_t *ret_pid, int *ret_code, struct hk_error *err);

/* A detached container's log is rotated past this size (--log-opt max-size). */
#define CTL_LOG_MAX_DEFAULT (10ULL * 1000 * 1000)

/*
 * Start a created container (its monitor is there): started.json, then
 * `RUNTIME start`. If that fails, the container is killed, and its monitor
 * records the end.
 */
int ctl_container_start(const struct ctl_globals *g, int dirfd, const char *id,
			struct hk_error *err);

/*
 * Bring an exited container up again: in a mount namespace of our own, its
 * overlay and its bundle from the config.json kept in the store, then its
 * monitor, and with start start it. Prints its id; docker's status, or -errno with err
 * set when it did not get as far as its monitor.
 */
int ctl_container_up(const struct ctl_globals *g, const char *id, bool start, struct hk_error *err);

/*
 * In a mount namespace of this process's own (call it in a child): the
 * overlay of stopped container id, read only or (write) with its upper dir,
 * and fn with its root.
 */
int ctl_container_mounted(const struct ctl_globals *g, const char *id, bool write,
			  int (*fn)(int rootfd, void *arg, struct hk_error *err), void *arg,
			  struct hk_error *err);
