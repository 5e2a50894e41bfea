/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Terminals: a pty for process.terminal, handed over --console-socket or proxied. */
#pragma once

#include <stdbool.h>

#include "error.h"

/*
 * In the container child (after pivot_root): open /dev/ptmx of the
 * container's devpts, make the pty its controlling terminal and stdio, and
 * with console, bind the pty over /dev/console (the init's; not for exec).
 * Returns the master fd.
 */
int hk_terminal_setup_child(unsigned rows, unsigned cols, bool console, int *ret_master,
			    struct hk_error *err);
/* Send the master fd over the unix socket at path (runc's --console-socket). */
int hk_terminal_send_to_socket(const char *path, int master, struct hk_error *err);
/*
 * Copy between our stdio and master until the master hangs up, with our
 * terminal (if stdin is one) in raw mode and its size passed on. Signals
 * read from sfd go to the process behind pidfd, as hk_container_wait() does.
 */
void hk_terminal_proxy(int master, int pidfd, int sfd);
