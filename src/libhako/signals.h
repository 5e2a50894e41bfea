/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <signal.h>

/* "KILL", "SIGKILL", "sigkill", "9" or "SIGRTMIN+3" to a signal number, or -EINVAL. */
int hk_signal_parse(const char *s);

/*
 * The signals a foreground `run` forwards to its container: all but SIGCHLD.
 * Block them before the container is created, so that none sent between its
 * start and the wait is lost (or kills the runtime instead).
 */
void hk_signals_block_forwarded(sigset_t *ret_old);
/*
 * Read one signal from sfd and pass it to the process behind pidfd. With a
 * pty master, SIGWINCH instead copies our terminal's size to the container's.
 */
void hk_signals_forward_one(int sfd, int pidfd, int master);
