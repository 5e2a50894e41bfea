/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The attach socket of a detached container: containers/<id>/attach, a
 * SOCK_SEQPACKET socket that its monitor listens on while it lives, for
 * `hakoctl attach` and `start -a`. Each message is a byte that says what
 * it is, then its payload:
 *
 *   monitor -> client  'o' DATA        what the container wrote to stdout
 *                                      (or to its terminal, with -t)
 *                      'e' DATA        what it wrote to stderr
 *                      'x' CODE        it exited with CODE (in decimal); the
 *                                      monitor closes the connection then
 *   client -> monitor  'i' DATA        for its stdin (-i), or its terminal
 *                      'w' ROWS COLS   the client's terminal size (uint16_t each)
 *                      's' SIGNO       a signal for its process (an int)
 *
 * The monitor never waits for a client: what a client too slow to take it
 * would hold up is not sent to that client (the log has it all).
 */
#pragma once

#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/un.h>

#define CTL_ATTACH_SOCKET   "attach"
#define CTL_ATTACH_DATA_MAX 65536 /* the most DATA in one message */

enum ctl_attach_kind {
	CTL_ATTACH_STDOUT = 'o',
	CTL_ATTACH_STDERR = 'e',
	CTL_ATTACH_EXIT = 'x',
	CTL_ATTACH_STDIN = 'i',
	CTL_ATTACH_WINSIZE = 'w',
	CTL_ATTACH_SIGNAL = 's',
};

/* One message: its kind byte, then data (flags: sendmsg's). */
static inline ssize_t ctl_attach_send(int fd, char kind, const void *data, size_t len, int flags)
{
	struct iovec iov[2] = {{&kind, 1}, {(void *)data, len}};
	struct msghdr mh = {.msg_iov = iov, .msg_iovlen = 2};

	return sendmsg(fd, &mh, flags | MSG_NOSIGNAL);
}

/*
 * The address of socket name in the dir of dirfd, through /proc/self/fd:
 * short enough for sun_path wherever the store is. Returns its length.
 */
static inline socklen_t ctl_unix_address(int dirfd, const char *name, struct sockaddr_un *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	snprintf(sa->sun_path, sizeof(sa->sun_path), "/proc/self/fd/%d/%s", dirfd, name);
	return (socklen_t)sizeof(*sa);
}

/* hakoctl's side (attach.c): attach, start -a. */
#include <stdbool.h>

#include "error.h"

struct ctl_detach_keys {
	char keys[8];
	size_t n;
};
/* docker's: ctrl-p ctrl-q */
#define CTL_DETACH_KEYS_DEFAULT                                                                    \
	{                                                                                          \
		{0x10, 0x11}, 2                                                                    \
	}
/* --detach-keys: "ctrl-p,ctrl-q", "ctrl-a,d"... */
int ctl_parse_detach_keys(const char *arg, struct ctl_detach_keys *k, struct hk_error *err);

struct ctl_attach_opts {
	bool tty;	 /* its terminal: ours in raw mode, and its size passed on */
	bool with_stdin; /* what we read goes to it */
	bool sig_proxy;	 /* without tty: the signals we get go to it */
	struct ctl_detach_keys keys;
};

/* A connection to the attach socket in dirfd (container name, for errors). */
int ctl_attach_connect(int dirfd, const char *name, struct hk_error *err);

#define CTL_ATTACH_DETACHED (-2)
/*
 * Until the container exits (its exit code) or the detach keys are typed
 * (CTL_ATTACH_DETACHED); -1 when the monitor went away without a word.
 */
int ctl_attach_session(int sock, const struct ctl_attach_opts *o);
/* What hakoctl exits with after a session that ended with code. */
int ctl_attach_end(int code, const char *name, struct hk_error *err);
