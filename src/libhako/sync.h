/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Messages between the runtime (parent) and the container init (child) over
 * a SOCK_SEQPACKET socketpair: each message is one fixed-size record, so the
 * child can send its error without allocating, and an optional file
 * descriptor rides along with SCM_RIGHTS (the pty master).
 *
 *   parent -> child   HK_SYNC_MAPPED a new user namespace's ids are mapped
 *   parent -> child   HK_SYNC_CGROUP a cgroup's tasks file (with fd, its
 *                                    path as the message), for the init to
 *                                    write "0" into once its filesystem is
 *                                    built; GO follows the last one
 *   parent -> child   HK_SYNC_GO     go on (exec: in the cgroups already)
 *   child  -> parent  HK_SYNC_PTY    here is the terminal's master (with fd)
 *   child  -> parent  HK_SYNC_READY  set up; now waiting on the exec fifo
 *   child  -> parent  HK_SYNC_ERROR  a step failed; the message says which
 *   child  -> parent  HK_SYNC_BUILT  the filesystem is built and I am in
 *                                    my cgroups, pivot_root comes next:
 *                                    run the create hooks, send GO again
 *   child  -> parent  HK_SYNC_SECCOMP the seccomp listener (with fd), for
 *                                    the agent at linux.seccomp.listenerPath
 */
#pragma once

#include "error.h"

enum hk_sync_type {
	HK_SYNC_GO = 1,
	HK_SYNC_PTY,
	HK_SYNC_READY,
	HK_SYNC_ERROR,
	HK_SYNC_BUILT,
	HK_SYNC_SECCOMP,
	HK_SYNC_CGROUP,
	HK_SYNC_MAPPED,
};

struct hk_sync_msg {
	int type;
	struct hk_error err;
};

/* Send one message; pass_fd >= 0 is sent along. Safe after clone(). -EPIPE
 * when the peer is gone. */
int hk_sync_send(int sock, int type, const struct hk_error *payload, int pass_fd);
/*
 * Receive one message. ret_fd (may be NULL) gets a passed fd or -1. When the
 * peer closed the socket without a word, -EPIPE.
 */
int hk_sync_recv(int sock, struct hk_sync_msg *msg, int *ret_fd);
