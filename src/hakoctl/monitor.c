// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * hako-monitor: conmon's job, for a container that outlives the hakoctl
 * that started it (run -d, create, start). hakoctl executes it in the mount
 * namespace that holds the container's rootfs. It is a program of its own,
 * static and small, linked with none of hakoctl's image libraries, as it
 * lives as long as its container (see bench/ for its RSS beside conmon's).
 * It
 *
 * 1. becomes a session of its own and the child subreaper: once the
 *    runtime's `create` exits, the container's process is its child;
 * 2. runs `RUNTIME create` with the container's stdout and stderr on pipes
 *    of its own, and tells the hakoctl that launched it "ok PID" or
 *    "error STATUS MESSAGE" through fd 3;
 * 3. writes what comes through the pipes to the container's log, a line
 *    each with its time and stream (the CRI log format, as podman's
 *    k8s-file), rotated at its size cap;
 * 4. listens on the container's attach socket (attach.h): what the
 *    container writes goes to every client there too, and what a client
 *    types to the container's stdin (-i, a pipe of ours) or terminal (-t:
 *    the pty's master, which the runtime hands over through a console
 *    socket of ours, as runc's --console-socket);
 * 5. when the container's process exits: its exit code in exit.json,
 *    `RUNTIME delete`, the bundle removed, and with --rm the container.
 *
 * While it lives it is the container's watcher (container.h), which is how
 * ps tells running from exited. When it exits, the container's mount
 * namespace goes with it, and the overlay with that.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "attach.h"
#include "commands.h"
#include "container.h"
#include "fsutil.h"
#include "log.h"
#include "network.h"
#include "ports.h"
#include "runtime.h"
#include "util.h"

#define LINE_MAX_PARTIAL (16 * 1024) /* a longer line is logged in "P" parts */

struct logfile {
	int dirfd; /* the container's dir */
	int fd;
	unsigned long long size, max;
};

struct stream {
	int fd;
	const char *name;
	char kind; /* CTL_ATTACH_STDOUT or _STDERR */
	struct hk_buf partial;
};

#define ATTACH_CLIENTS 8

/* The attach socket and what it reaches: the container's stdin or terminal. */
struct attach {
	bool tty, open_stdin; /* -t, -i */
	int listen;	      /* the socket, or -1 */
	int clients[ATTACH_CLIENTS];
	int in;		       /* its stdin pipe, or its terminal's master; -1 */
	struct hk_buf pending; /* what a client sent that `in` has not taken yet */
	pid_t pid;	       /* its process, for signals */
};

static void attach_send(struct attach *a, char kind, const void *data, size_t len)
{
	for (int i = 0; i < ATTACH_CLIENTS; i++)
		if (a->clients[i] >= 0 &&
		    ctl_attach_send(a->clients[i], kind, data, len, MSG_DONTWAIT) < 0 &&
		    errno != EAGAIN && errno != ENOBUFS) {
			close(a->clients[i]);
			a->clients[i] = -1;
		}
}

static void attach_accept(struct attach *a)
{
	int fd = accept4(a->listen, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC), size = 1 << 20;

	if (fd < 0)
		return;
	for (int i = 0; i < ATTACH_CLIENTS; i++)
		if (a->clients[i] < 0) {
			setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
			a->clients[i] = fd;
			return;
		}
	close(fd); /* too many */
}

/* What clients sent for the container's stdin, as much as it takes now. */
static void attach_write_in(struct attach *a)
{
	ssize_t n;

	if (!a->pending.len)
		return;
	n = a->in >= 0 ? write(a->in, a->pending.buf, a->pending.len) : -1;
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n < 0) /* its stdin is closed: what is left goes nowhere */
		n = (ssize_t)a->pending.len;
	memmove(a->pending.buf, a->pending.buf + n, a->pending.len - (size_t)n);
	a->pending.len -= (size_t)n;
}

/* One message of client i. */
static void attach_receive(struct attach *a, int i)
{
	static char msg[1 + CTL_ATTACH_DATA_MAX];
	ssize_t n = recv(a->clients[i], msg, sizeof(msg), MSG_DONTWAIT);
	uint16_t size[2];
	int sig;

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		close(a->clients[i]);
		a->clients[i] = -1;
		return;
	}
	if (msg[0] == CTL_ATTACH_STDIN && a->in >= 0) {
		hk_buf_add(&a->pending, msg + 1, (size_t)n - 1);
		attach_write_in(a);
	} else if (msg[0] == CTL_ATTACH_WINSIZE && a->tty && a->in >= 0 && n == 1 + sizeof(size)) {
		memcpy(size, msg + 1, sizeof(size));
		struct winsize ws = {.ws_row = size[0], .ws_col = size[1]};
		ioctl(a->in, TIOCSWINSZ, &ws);
	} else if (msg[0] == CTL_ATTACH_SIGNAL && a->pid > 0 && n == 1 + sizeof(sig)) {
		memcpy(&sig, msg + 1, sizeof(sig));
		if (sig > 0 && sig < NSIG)
			kill(a->pid, sig);
	}
}

/* The end of a life: its code to the clients, who are let go, and its stdin closed. */
static void attach_end(struct attach *a, int code)
{
	char text[16];

	snprintf(text, sizeof(text), "%d", code);
	attach_send(a, CTL_ATTACH_EXIT, text, strlen(text));
	for (int i = 0; i < ATTACH_CLIENTS; i++)
		if (a->clients[i] >= 0) {
			close(a->clients[i]);
			a->clients[i] = -1;
		}
	if (a->in >= 0)
		close(a->in);
	a->in = -1;
	a->pending.len = 0;
}

/* The socket, before the container is created (so that start -a misses nothing). */
static void attach_listen(struct attach *a, int dirfd)
{
	struct sockaddr_un sa;
	socklen_t len = ctl_unix_address(dirfd, CTL_ATTACH_SOCKET, &sa);

	unlinkat(dirfd, CTL_ATTACH_SOCKET, 0);
	a->listen = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (a->listen < 0 || bind(a->listen, (struct sockaddr *)&sa, len) < 0 ||
	    listen(a->listen, ATTACH_CLIENTS) < 0) {
		hk_warn("the attach socket: %s (attach will not work)", strerror(errno));
		if (a->listen >= 0)
			close(a->listen);
		a->listen = -1;
	}
}

/* Rename ctr.log to ctr.log.1 (replacing it) and start a new one. */
static void log_rotate(struct logfile *lf)
{
	int fd;

	if (renameat(lf->dirfd, "ctr.log", lf->dirfd, "ctr.log.1") < 0)
		return;
	fd =
	    openat(lf->dirfd, "ctr.log", O_WRONLY | O_APPEND | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return;
	close(lf->fd);
	lf->fd = fd;
	lf->size = 0;
}

/* The records of one read, written with one write(2), all with the time they came. */
struct batch {
	struct hk_buf b;
	char now[64];
};

static void log_flush(struct logfile *lf, struct batch *bt)
{
	if (bt->b.len && hk_write_nosigpipe(lf->fd, bt->b.buf, bt->b.len) == (ssize_t)bt->b.len)
		lf->size += bt->b.len;
	bt->b.len = 0;
}

static void log_record(struct logfile *lf, struct batch *bt, const char *stream, const char *text,
		       size_t len, bool full)
{
	size_t rec = strlen(bt->now) + strlen(stream) + 4 + len + 1;

	/* Past the cap: what is batched is written, and the log rotated, before this one. */
	if (lf->max && lf->size + bt->b.len + rec > lf->max && lf->size + bt->b.len > 0) {
		log_flush(lf, bt);
		log_rotate(lf);
	}
	hk_buf_addf(&bt->b, "%s %s %c ", bt->now, stream, full ? 'F' : 'P');
	hk_buf_add(&bt->b, text, len);
	hk_buf_adds(&bt->b, "\n");
}

/* What the stream has: whole lines logged, a long unfinished one in parts. */
static void stream_read(struct logfile *lf, struct stream *st, struct attach *a)
{
	char buf[CTL_ATTACH_DATA_MAX], *nl;
	ssize_t n = read(st->fd, buf, sizeof(buf));
	struct batch bt = {HK_BUF_INIT, ""};
	size_t at = 0;

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	hk_time_rfc3339(bt.now, sizeof(bt.now));
	if (n <= 0) {
		if (st->partial.len)
			log_record(lf, &bt, st->name, st->partial.buf, st->partial.len, true);
		log_flush(lf, &bt);
		hk_buf_release(&bt.b);
		hk_buf_release(&st->partial);
		close(st->fd);
		st->fd = -1;
		return;
	}
	attach_send(a, st->kind, buf, (size_t)n);
	hk_buf_add(&st->partial, buf, (size_t)n);
	while ((nl = memchr(st->partial.buf + at, '\n', st->partial.len - at))) {
		size_t len = (size_t)(nl - st->partial.buf) - at;
		log_record(lf, &bt, st->name, st->partial.buf + at, len, true);
		at += len + 1;
	}
	memmove(st->partial.buf, st->partial.buf + at, st->partial.len - at);
	st->partial.len -= at;
	if (st->partial.len >= LINE_MAX_PARTIAL) {
		log_record(lf, &bt, st->name, st->partial.buf, st->partial.len, false);
		st->partial.len = 0;
	}
	log_flush(lf, &bt);
	hk_buf_release(&bt.b);
}

static int read_pid_file(const char *path, pid_t *ret)
{
	char buf[32];
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0 || (n = read(fd, buf, sizeof(buf) - 1)) <= 0)
		return -ENOENT;
	buf[n] = '\0';
	*ret = (pid_t)atoi(buf);
	return *ret > 0 ? 0 : -EINVAL;
}

static void remove_bundle(const struct ctl_globals *g, const char *id)
{
	char path[PATH_MAX];
	_cleanup_close_ int fd = -1;

	snprintf(path, sizeof(path), "%s/bundles", ctl_run_dir(g));
	if ((fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC)) >= 0)
		hk_rm_rf_at(fd, id);
}

/*
 * The host's network namespace, when the container has one of its own on a
 * network (hakoctl hands it over as fd 4): its ports are taken back there.
 */
static int host_netns = -1;

/* What it holds on the network, given back (its veth pair went with its namespace). */
static void release_network(const struct ctl_globals *g, const char *id)
{
	hk_net_release(ctl_run_dir(g), id, host_netns, false);
}

/*
 * The dir of pid's memory cgroup, where the kernel counts the OOM kills in
 * it: the v1 memory controller's, or the v2 one's. "" when there is none.
 */
static void memcg_of(pid_t pid, char *buf, size_t size)
{
	char path[64], line[4096];
	FILE *f;

	buf[0] = '\0';
	snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)pid);
	if (!(f = fopen(path, "re")))
		return;
	while (fgets(line, sizeof(line), f)) {
		char *ctrls = strchr(line, ':'), *cg = ctrls ? strchr(ctrls + 1, ':') : NULL;
		if (!cg)
			continue;
		*cg++ = '\0';
		cg[strcspn(cg, "\n")] = '\0';
		ctrls++;
		if (strcmp(ctrls, "memory") == 0 || strstr(ctrls, "memory,") ||
		    strstr(ctrls, ",memory")) {
			snprintf(buf, size, "/sys/fs/cgroup/memory%s", cg);
			break;
		}
		if (!*ctrls && access("/sys/fs/cgroup/cgroup.controllers", F_OK) == 0)
			snprintf(buf, size, "/sys/fs/cgroup%s", cg);
	}
	fclose(f);
}

/* Whether the OOM killer killed in that cgroup: its oom_kill count (v1 and v2 alike). */
static int oom_killed(const char *memcg)
{
	char path[PATH_MAX + 32], line[256];
	unsigned long long n;
	int found = -1;
	FILE *f;

	if (!*memcg)
		return -1;
	snprintf(path, sizeof(path), "%s/memory.events", memcg);
	if (!(f = fopen(path, "re"))) {
		snprintf(path, sizeof(path), "%s/memory.oom_control", memcg);
		if (!(f = fopen(path, "re")))
			return -1;
	}
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "oom_kill %llu", &n) == 1)
			found = n > 0;
	fclose(f);
	return found;
}

/* The end of a container: its exit recorded, the runtime's state and the bundle gone. */
static void finish(const struct ctl_globals *g, int dirfd, const char *id, int code,
		   const char *memcg, bool remove)
{
	struct hk_error err = {0};
	const char *del[] = {"delete", "--force", id, NULL};

	unlinkat(dirfd, CTL_ATTACH_SOCKET, 0);
	/* Before the runtime's delete, which removes the cgroup. */
	if (hk_ctr_record_exit(dirfd, code, oom_killed(memcg), &err) < 0)
		hk_warn("%s", err.msg);
	hk_error_clear(&err);
	ctl_runtime_call(g, del, true, &err);
	release_network(g, id);
	remove_bundle(g, id);
	if (remove) {
		_cleanup_close_ int parent = openat(dirfd, "..", O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (parent >= 0)
			hk_ctr_remove_dir(parent, id, true);
	}
	hk_ctr_unwatch(ctl_run_dir(g), id);
}

/*
 * Until the container's process exits: its output to the log and to the
 * attached clients, what they send to it. Its exit code.
 */
static int watch(struct logfile *lf, struct stream *out, struct stream *err_, struct attach *a,
		 int sfd, pid_t pid)
{
	enum { OUT, ERR, SIG, LISTEN, IN, CLIENTS, N = CLIENTS + ATTACH_CLIENTS };
	int code = -1;

	/* After the exit, what is left in the pipes, for a moment at most. */
	while (code < 0 || out->fd >= 0 || err_->fd >= 0) {
		struct pollfd p[N] = {
		    [OUT] = {out->fd, POLLIN, 0},
		    [ERR] = {err_->fd, POLLIN, 0},
		    [SIG] = {sfd, POLLIN, 0},
		    [LISTEN] = {a->listen, POLLIN, 0},
		    [IN] = {a->pending.len ? a->in : -1, POLLOUT, 0},
		};
		/* While it has not taken what came, no more is read from the clients. */
		for (int i = 0; i < ATTACH_CLIENTS; i++)
			p[CLIENTS + i] =
			    (struct pollfd){a->clients[i], a->pending.len ? 0 : POLLIN, 0};
		int n = poll(p, N, code >= 0 ? 1000 : -1);

		if ((n < 0 && errno != EINTR) || n == 0)
			break;
		if (p[OUT].revents)
			stream_read(lf, out, a);
		if (p[ERR].revents)
			stream_read(lf, err_, a);
		if (p[IN].revents)
			attach_write_in(a);
		for (int i = 0; i < ATTACH_CLIENTS; i++)
			if (p[CLIENTS + i].revents && a->clients[i] == p[CLIENTS + i].fd)
				attach_receive(a, i);
		if (p[LISTEN].revents)
			attach_accept(a);
		if (p[SIG].revents) {
			struct signalfd_siginfo si;
			pid_t w;
			int status;

			while (read(sfd, &si, sizeof(si)) == sizeof(si))
				;
			while ((w = waitpid(-1, &status, WNOHANG)) > 0)
				if (w == pid)
					code = WIFEXITED(status) ? WEXITSTATUS(status)
								 : 128 + WTERMSIG(status);
		}
	}
	return code;
}

/*
 * With -t: a socket for the runtime's --console-socket, at
 * /proc/<us>/fd/<dirfd>/console (short, wherever the store is); listening
 * in ret_fd, its path in path.
 */
static int console_listen(int dirfd, char *path, size_t size, int *ret_fd, struct hk_error *err)
{
	struct sockaddr_un sa;
	socklen_t len = ctl_unix_address(dirfd, "console", &sa);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	unlinkat(dirfd, "console", 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, len) < 0 || listen(fd, 1) < 0) {
		int r = hk_error_set(err, -errno, "the console socket");
		if (fd >= 0)
			close(fd);
		return r;
	}
	snprintf(path, size, "/proc/%d/fd/%d/console", (int)getpid(), dirfd);
	*ret_fd = fd;
	return 0;
}

/* The pty master the runtime sent to the console socket, or -1. */
static int console_receive(int listen_fd)
{
	_cleanup_close_ int conn = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
	char name[64];
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} control;
	struct iovec iov = {.iov_base = name, .iov_len = sizeof(name)};
	struct msghdr mh = {.msg_iov = &iov,
			    .msg_iovlen = 1,
			    .msg_control = control.buf,
			    .msg_controllen = sizeof(control.buf)};
	struct cmsghdr *c;
	int fd = -1;

	if (conn < 0 || recvmsg(conn, &mh, MSG_CMSG_CLOEXEC) < 0)
		return -1;
	for (c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
			memcpy(&fd, CMSG_DATA(c), sizeof(int));
	return fd;
}

/*
 * One life of the container: `RUNTIME create` with its stdout and stderr on
 * new pipes of ours (out, errs get their read ends), its stdin on one more
 * with -i, or with -t its terminal's master for all three (out and a->in).
 * ret_pid: its process. On failure, ret_code and ret_msg (in rlog) say why,
 * and what it said on stderr is in the log.
 */
static int create_once(const struct ctl_globals *g, const char *id, struct logfile *lf,
		       struct stream *out, struct stream *errs, struct attach *a,
		       struct ctl_runtime_log *rlog, pid_t *ret_pid, int *ret_code,
		       struct hk_error *err)
{
	char bundle[PATH_MAX], pidf[PATH_MAX + 8], console[64];
	int po[2] = {-1, -1}, pe[2] = {-1, -1}, pl[2] = {-1, -1}, pi[2] = {-1, -1}, status, r;
	_cleanup_close_ int cs = -1;
	pid_t rt;

	if (pipe2(po, O_CLOEXEC) < 0 || pipe2(pe, O_CLOEXEC) < 0 ||
	    pipe2(pl, O_CLOEXEC | O_NONBLOCK) < 0 ||
	    (a->open_stdin && !a->tty && pipe2(pi, O_CLOEXEC) < 0)) {
		r = hk_error_set(err, -errno, "pipe");
		goto fail;
	}
	if (a->tty && (r = console_listen(lf->dirfd, console, sizeof(console), &cs, err)) < 0)
		goto fail;
	out->fd = po[0];
	errs->fd = pe[0];
	a->in = pi[1];
	ctl_runtime_log_release(rlog);
	rlog->fd = pl[0];
	snprintf(bundle, sizeof(bundle), "%s/bundles/%s", ctl_run_dir(g), id);
	snprintf(pidf, sizeof(pidf), "%s/pid", bundle);
	unlink(pidf);
	const char *args[] = {"create", "--bundle", bundle, "--pid-file", pidf,
			      id,	NULL,	    NULL,   NULL};
	if (a->tty) {
		args[5] = "--console-socket";
		args[6] = console;
		args[7] = id;
	}
	struct ctl_spawn sp = {
	    .args = args, .fds = {pi[0] >= 0 ? pi[0] : CTL_FD_NULL, po[1], pe[1]}, .log_fd = pl[1]};
	r = ctl_runtime_spawn(g, &sp, &rt, err);
	close(po[1]);
	close(pe[1]);
	close(pl[1]);
	if (pi[0] >= 0)
		close(pi[0]);
	fcntl(po[0], F_SETFL, O_NONBLOCK);
	fcntl(pe[0], F_SETFL, O_NONBLOCK);
	if (a->in >= 0)
		fcntl(a->in, F_SETFL, O_NONBLOCK);
	if (r < 0)
		goto out;
	while (waitpid(rt, &status, 0) < 0 && errno == EINTR)
		;
	ctl_runtime_log_read(rlog);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0 && read_pid_file(pidf, ret_pid) == 0) {
		a->pid = *ret_pid;
		if (a->tty) {
			/* Its terminal is all its stdio: read from the master, as stdout. */
			int master = console_receive(cs);
			if (master < 0) {
				r = hk_error_setx(err, -EIO, "the runtime sent no terminal");
				goto out;
			}
			fcntl(master, F_SETFL, O_NONBLOCK);
			close(out->fd);
			out->fd = master;
			a->in = fcntl(master, F_DUPFD_CLOEXEC, 3);
		}
		r = 0;
		goto out;
	}
	*ret_code = rlog->last_error ? ctl_exit_code_for(rlog->last_error) : 125;
	/* What it said on stderr goes to the log too (what is there now). */
	for (struct pollfd p = {pe[0], POLLIN, 0}; errs->fd >= 0 && poll(&p, 1, 0) == 1;)
		stream_read(lf, errs, a);
	r = hk_error_setx(err, -EIO, "%s",
			  rlog->last_error ? rlog->last_error : "the runtime could not create it");
out:
	if (cs >= 0)
		unlinkat(lf->dirfd, "console", 0);
	return r;
fail:
	for (int *fds[] = {po, pe, pl, pi}, i = 0; i < 4; i++)
		for (int j = 0; j < 2; j++)
			if (fds[i][j] >= 0)
				close(fds[i][j]);
	return r;
}

/* --restart: whether this exit is followed by another life. */
static bool restart_wanted(const struct hk_json *rec, int dirfd, int code, unsigned restarts)
{
	const struct hk_json *p = hk_json_get(rec, "RestartPolicy");
	const char *name = hk_json_get_string(p, "Name");
	const struct hk_json *max = hk_json_get(p, "MaximumRetryCount");

	/* Stopped, killed or removed by hand: never (docker's rule for every policy). */
	if (!name || strcmp(name, "no") == 0 || faccessat(dirfd, "stopped", F_OK, 0) == 0)
		return false;
	if (strcmp(name, "on-failure") == 0)
		return code != 0 && (!max || max->type != HK_JSON_NUMBER || atoi(max->text) <= 0 ||
				     restarts < (unsigned)atoi(max->text));
	return true; /* always, unless-stopped */
}

/*
 * docker's backoff: 100 ms, doubled at each restart up to a minute, from
 * 100 ms again once a life lasted 10 s. Slept in steps, so that a stop in
 * between is seen. False when it was stopped meanwhile.
 */
static bool backoff(int dirfd, unsigned *delay_ms, double lived)
{
	if (lived >= 10 || *delay_ms == 0)
		*delay_ms = 100;
	else if (*delay_ms < 60000)
		*delay_ms = *delay_ms * 2 > 60000 ? 60000 : *delay_ms * 2;
	for (unsigned slept = 0; slept < *delay_ms; slept += 50) {
		if (faccessat(dirfd, "stopped", F_OK, 0) == 0)
			return false;
		usleep(50 * 1000);
	}
	return faccessat(dirfd, "stopped", F_OK, 0) != 0;
}

static double monotonic(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int monitor(const struct ctl_globals *g, const char *id, struct hk_error *err)
{
	const int report = 3;
	_cleanup_(hk_json_freep) struct hk_json *rec = NULL;
	_cleanup_free_ char *text = NULL;
	struct ctl_runtime_log rlog = {.fd = -1, .pending = HK_BUF_INIT};
	struct stream out = {.fd = -1, .name = "stdout", .kind = CTL_ATTACH_STDOUT};
	struct stream errs = {.fd = -1, .name = "stderr", .kind = CTL_ATTACH_STDERR};
	struct attach a = {.listen = -1, .in = -1, .pending = HK_BUF_INIT};
	struct logfile lf = {.dirfd = -1, .fd = -1};
	char dir[PATH_MAX], memcg[PATH_MAX] = "";
	int sfd, r, code = 125;
	unsigned restarts = 0, delay = 0;
	const struct hk_json *max;
	sigset_t mask;
	struct stat st;
	pid_t pid;
	size_t len;
	bool rm;

	/* Our report pipe is for the hakoctl that launched us, not for the runtime. */
	fcntl(report, F_SETFD, FD_CLOEXEC);
	setsid();
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	snprintf(dir, sizeof(dir), "%s/containers/%s", g->storage, id);
	lf.dirfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (lf.dirfd < 0) {
		r = hk_error_set(err, -errno, "container %s", dir);
		goto fail;
	}
	if ((r = hk_read_regular_file_at(lf.dirfd, "container.json", 1 << 20, &text, &len, err)) <
		0 ||
	    (r = hk_json_parse(text, len, &rec, err)) < 0)
		goto out;
	rm = hk_json_get(rec, "AutoRemove") && hk_json_get(rec, "AutoRemove")->boolean;
	a.tty = hk_json_get(rec, "Tty") && hk_json_get(rec, "Tty")->boolean;
	a.open_stdin = hk_json_get(rec, "OpenStdin") && hk_json_get(rec, "OpenStdin")->boolean;
	for (int i = 0; i < ATTACH_CLIENTS; i++)
		a.clients[i] = -1;
	max = hk_json_get(rec, "LogMaxSize");
	lf.max = max && max->type == HK_JSON_NUMBER ? strtoull(max->text, NULL, 10) : 0;
	lf.fd = openat(lf.dirfd, "ctr.log", O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (lf.fd < 0 || fstat(lf.fd, &st) < 0) {
		r = hk_error_set(err, -errno, "the log of %s", id);
		goto out;
	}
	lf.size = (unsigned long long)st.st_size;
	if ((r = hk_ctr_watch(ctl_run_dir(g), id, getpid(), err)) < 0)
		goto out;
	attach_listen(&a, lf.dirfd);
	if ((r = create_once(g, id, &lf, &out, &errs, &a, &rlog, &pid, &code, err)) < 0) {
		/* Its end recorded first: what the launcher says next is true. */
		finish(g, lf.dirfd, id, code, "", rm);
		dprintf(report, "error %d %s\n", code, err->msg);
		close(report);
		r = 0;
		goto out;
	}
	dprintf(report, "ok %d\n", (int)pid);
	close(report);
	for (;;) {
		double born = monotonic();
		const char *del[] = {"delete", "--force", id, NULL};

		memcg_of(pid, memcg, sizeof(memcg));
		code = watch(&lf, &out, &errs, &a, sfd, pid);
		if (!restart_wanted(rec, lf.dirfd, code, restarts))
			break;
		/* The end of this life, as inspect shows it, then the next one. */
		hk_ctr_record_exit(lf.dirfd, code, -1, err);
		hk_error_clear(err);
		attach_end(&a, code);
		ctl_runtime_call(g, del, true, err);
		hk_error_clear(err);
		if (!backoff(lf.dirfd, &delay, monotonic() - born))
			break;
		restarts++;
		const char *start[] = {"start", id, NULL};
		if (create_once(g, id, &lf, &out, &errs, &a, &rlog, &pid, &code, err) < 0 ||
		    hk_ctr_record_start(lf.dirfd, restarts, err) < 0 ||
		    ctl_runtime_call(g, start, true, err) != 0) {
			hk_warn("restart %u of %.12s: %s", restarts, id, err->msg);
			memcg[0] = '\0';
			break;
		}
	}
	finish(g, lf.dirfd, id, code, memcg, rm);
	r = 0;
out:
	if (out.fd >= 0)
		close(out.fd);
	if (errs.fd >= 0)
		close(errs.fd);
	/* Told once the end is recorded: what they look at next is true. */
	attach_end(&a, code);
	hk_buf_release(&a.pending);
	if (a.listen >= 0)
		close(a.listen);
	hk_buf_release(&out.partial);
	hk_buf_release(&errs.partial);
	ctl_runtime_log_release(&rlog);
	if (lf.fd >= 0)
		close(lf.fd);
	if (lf.dirfd >= 0)
		close(lf.dirfd);
fail:
	if (r < 0)
		dprintf(report, "error 125 %s\n", err->msg);
	return r;
}

/* hako-monitor --storage DIR --runroot DIR --runtime RUNTIME [--debug] ID */
int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"storage", required_argument, NULL, 's'},
	    {"runroot", required_argument, NULL, 'R'},
	    {"runtime", required_argument, NULL, 'r'},
	    {"debug", no_argument, NULL, 'd'},
	    {"host-netns-fd", required_argument, NULL, 'n'},
	    {NULL, 0, NULL, 0},
	};
	struct ctl_globals g = {.runtime = "hako"};
	struct hk_error err = {0};
	int c;

	while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1)
		switch (c) {
		case 's':
			g.storage = optarg;
			break;
		case 'R':
			g.runroot = optarg;
			break;
		case 'r':
			g.runtime = optarg;
			break;
		case 'd':
			g.debug = true;
			break;
		case 'n':
			host_netns = atoi(optarg);
			fcntl(host_netns, F_SETFD, FD_CLOEXEC);
			break;
		default:
			return 125;
		}
	hk_log_set_name("hako-monitor");
	hk_log_setup(2, HK_LOG_TEXT, g.debug);
	if (argc - optind != 1 || !g.storage) {
		fprintf(stderr, "usage: hako-monitor --storage DIR [--runroot DIR] [--runtime "
				"RUNTIME] ID (it is started by hakoctl)\n");
		return 125;
	}
	return monitor(&g, argv[optind], &err) < 0 ? 125 : 0;
}
