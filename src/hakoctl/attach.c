// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * hakoctl attach [--no-stdin] [--detach-keys KEYS] [--sig-proxy=false]
 * CONTAINER: our terminal on a detached container's, through the attach
 * socket of its monitor (attach.h). What it writes comes to our stdout and
 * stderr; what we type goes to its stdin when it was made with -i, or to
 * its terminal with -t, where our terminal is put in raw mode and its size
 * passed on. The detach keys (ctrl-p ctrl-q) leave it running; otherwise we
 * end with it, with its exit status. Without -t, the signals sent to us go
 * to it (docker's --sig-proxy).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <termios.h>
#include <unistd.h>

#include "attach.h"
#include "commands.h"
#include "container.h"
#include "monitor.h"
#include "util.h"

int ctl_attach_connect(int dirfd, const char *name, struct hk_error *err)
{
	struct sockaddr_un sa;
	socklen_t len = ctl_unix_address(dirfd, CTL_ATTACH_SOCKET, &sa);
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return hk_error_set(err, -errno, "socket");
	if (connect(fd, (struct sockaddr *)&sa, len) < 0) {
		int r = -errno;
		close(fd);
		if (r == -ENOENT || r == -ECONNREFUSED)
			return hk_error_setx(
			    err, -EINVAL, "container \"%s\" is not running: start it first", name);
		return hk_error_set(err, r, "the attach socket of \"%s\"", name);
	}
	return fd;
}

int ctl_parse_detach_keys(const char *arg, struct ctl_detach_keys *k, struct hk_error *err)
{
	static const char ctrl[] = "@abcdefghijklmnopqrstuvwxyz[\\]^_";
	_cleanup_free_ char *copy = hk_xstrdup(arg);
	char *save = NULL;
	const char *at;

	k->n = 0;
	for (char *key = strtok_r(copy, ",", &save); key; key = strtok_r(NULL, ",", &save)) {
		if (k->n < sizeof(k->keys) && strlen(key) == 1)
			k->keys[k->n++] = key[0];
		else if (k->n < sizeof(k->keys) && strncmp(key, "ctrl-", 5) == 0 &&
			 strlen(key) == 6 && (at = strchr(ctrl, key[5])))
			k->keys[k->n++] = (char)(at - ctrl);
		else
			return hk_error_setx(
			    err, -EINVAL,
			    "--detach-keys \"%s\": up to %zu keys such as ctrl-p,ctrl-q "
			    "(a character, or ctrl- and one of a-z @ [ \\ ] ^ _), "
			    "separated by commas",
			    arg, sizeof(k->keys));
	}
	if (!k->n)
		return hk_error_setx(err, -EINVAL, "--detach-keys \"%s\": no keys", arg);
	return 0;
}

static void send_message(int sock, char kind, const void *data, size_t len)
{
	while (ctl_attach_send(sock, kind, data, len, 0) < 0 && errno == EINTR)
		;
}

static void send_winsize(int sock)
{
	struct winsize ws;
	uint16_t size[2];

	if (ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) < 0)
		return;
	size[0] = ws.ws_row;
	size[1] = ws.ws_col;
	send_message(sock, CTL_ATTACH_WINSIZE, size, sizeof(size));
}

static void write_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		p += n;
		len -= (size_t)n;
	}
}

/*
 * What we typed, to the container, but the detach keys: held back while
 * they match, and let through when a key does not. True when they all came.
 */
static bool send_input(int sock, const struct ctl_detach_keys *k, size_t *matched, const char *in,
		       size_t len)
{
	char out[CTL_ATTACH_DATA_MAX];
	size_t n = 0;

	for (size_t i = 0; i < len; i++) {
		if (k->n && in[i] == k->keys[*matched]) {
			if (++*matched == k->n)
				return true;
			continue;
		}
		/* Not the keys after all: what was held back goes first. */
		if (*matched) {
			memcpy(out + n, k->keys, *matched);
			n += *matched;
			*matched = 0;
			if (k->n && in[i] == k->keys[0]) {
				*matched = 1;
				continue;
			}
		}
		out[n++] = in[i];
		if (n >= sizeof(out) - sizeof(k->keys)) {
			send_message(sock, CTL_ATTACH_STDIN, out, n);
			n = 0;
		}
	}
	if (n)
		send_message(sock, CTL_ATTACH_STDIN, out, n);
	return false;
}

int ctl_attach_session(int sock, const struct ctl_attach_opts *o)
{
	static const int proxied[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};
	static char msg[1 + CTL_ATTACH_DATA_MAX];
	struct termios saved, raw;
	sigset_t mask, old;
	bool is_raw = false, in_open = o->with_stdin;
	size_t matched = 0;
	int sfd, code = -1;

	sigemptyset(&mask);
	if (o->tty)
		sigaddset(&mask, SIGWINCH);
	else if (o->sig_proxy)
		for (size_t i = 0; i < sizeof(proxied) / sizeof(proxied[0]); i++)
			sigaddset(&mask, proxied[i]);
	sigprocmask(SIG_BLOCK, &mask, &old);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (o->tty && isatty(STDIN_FILENO)) {
		send_winsize(sock);
		if (o->with_stdin && tcgetattr(STDIN_FILENO, &saved) == 0) {
			raw = saved;
			cfmakeraw(&raw);
			is_raw = tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0;
		}
	}
	for (;;) {
		struct pollfd p[3] = {
		    {sock, POLLIN, 0}, {in_open ? STDIN_FILENO : -1, POLLIN, 0}, {sfd, POLLIN, 0}};
		ssize_t n;

		if (poll(p, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[2].revents) {
			struct signalfd_siginfo si;
			while (read(sfd, &si, sizeof(si)) == sizeof(si)) {
				int sig = (int)si.ssi_signo;
				if (sig == SIGWINCH)
					send_winsize(sock);
				else
					send_message(sock, CTL_ATTACH_SIGNAL, &sig, sizeof(sig));
			}
		}
		if (p[1].revents) {
			char in[CTL_ATTACH_DATA_MAX / 2];
			n = read(STDIN_FILENO, in, sizeof(in));
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				in_open = false; /* our stdin ended; its stays open, as docker's */
			else if (send_input(sock, &o->keys, &matched, in, (size_t)n)) {
				code = CTL_ATTACH_DETACHED;
				break;
			}
		}
		if (p[0].revents) {
			n = recv(sock, msg, sizeof(msg), 0);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				break; /* its monitor is gone */
			if (msg[0] == CTL_ATTACH_STDOUT)
				write_all(STDOUT_FILENO, msg + 1, (size_t)n - 1);
			else if (msg[0] == CTL_ATTACH_STDERR)
				write_all(STDERR_FILENO, msg + 1, (size_t)n - 1);
			else if (msg[0] == CTL_ATTACH_EXIT) {
				msg[n] = '\0';
				code = atoi(msg + 1);
				break;
			}
		}
	}
	if (is_raw)
		tcsetattr(STDIN_FILENO, TCSANOW, &saved);
	if (sfd >= 0)
		close(sfd);
	sigprocmask(SIG_SETMASK, &old, NULL);
	return code;
}

int ctl_attach(const struct ctl_globals *g, int argc, char **argv, struct hk_error *err)
{
	static const struct option opts[] = {
	    {"no-stdin", no_argument, NULL, 'n'},
	    {"detach-keys", required_argument, NULL, 'k'},
	    {"sig-proxy", optional_argument, NULL, 's'},
	    {NULL, 0, NULL, 0},
	};
	struct ctl_attach_opts o = {.sig_proxy = true, .keys = CTL_DETACH_KEYS_DEFAULT};
	bool no_stdin = false;
	_cleanup_close_ int dirfd = -1, sock = -1;
	struct hk_ctr c = {0};
	struct hk_store s;
	char dir[128];
	int ch, r;

	optind = 0;
	while ((ch = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		switch (ch) {
		case 'n':
			no_stdin = true;
			break;
		case 'k':
			if ((r = ctl_parse_detach_keys(optarg, &o.keys, err)) < 0)
				return r;
			break;
		case 's':
			if (optarg && strcmp(optarg, "true") != 0 && strcmp(optarg, "false") != 0)
				return hk_error_setx(err, -EINVAL, "--sig-proxy=true|false");
			o.sig_proxy = !optarg || strcmp(optarg, "true") == 0;
			break;
		default:
			return hk_error_setx(err, -EINVAL, "see hakoctl attach --help");
		}
	}
	if (argc - optind != 1)
		return hk_error_setx(err, -EINVAL, "attach: expected one CONTAINER");
	if ((r = ctl_store_open(g, &s, err)) < 0)
		return r;
	if ((r = hk_ctr_find(&s, ctl_run_dir(g), argv[optind], &c, err)) < 0)
		goto out;
	if (c.status != HK_CTR_RUNNING) {
		r = hk_error_setx(err, -EINVAL, "container \"%s\" is not running: start it first",
				  c.name);
		goto out;
	}
	snprintf(dir, sizeof(dir), "containers/%s", c.id);
	if ((dirfd = openat(s.dirfd, dir, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0) {
		r = hk_error_set(err, -errno, "container \"%s\"", c.name);
		goto out;
	}
	if ((r = sock = ctl_attach_connect(dirfd, c.name, err)) < 0)
		goto out;
	o.tty = hk_json_get(c.record, "Tty") && hk_json_get(c.record, "Tty")->boolean;
	o.with_stdin = !no_stdin && hk_json_get(c.record, "OpenStdin") &&
		       hk_json_get(c.record, "OpenStdin")->boolean;
	hk_store_close(&s);
	r = ctl_attach_end(ctl_attach_session(sock, &o), c.name, err);
	hk_ctr_free(&c);
	return r;
out:
	hk_ctr_free(&c);
	hk_store_close(&s);
	return r;
}

int ctl_attach_end(int code, const char *name, struct hk_error *err)
{
	if (code == CTL_ATTACH_DETACHED)
		return 0;
	if (code < 0)
		return hk_error_setx(err, -EIO, "the monitor of \"%s\" went away", name);
	return code;
}
