// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The monitor: conmon's job, for a container that outlives the hakoctl that
 * started it (run -d, create, start). It is hakoctl itself, executed again
 * as `hakoctl monitor ID` in the mount namespace that holds the container's
 * rootfs, so that it holds only what it needs (see bench/ for its RSS
 * beside conmon's). It
 *
 * 1. becomes a session of its own and the child subreaper: once the
 *    runtime's `create` exits, the container's process is its child;
 * 2. runs `RUNTIME create` with the container's stdout and stderr on pipes
 *    of its own, and tells the hakoctl that launched it "ok PID" or
 *    "error STATUS MESSAGE" through fd 3;
 * 3. writes what comes through the pipes to the container's log, a line
 *    each with its time and stream (the CRI log format, as podman's
 *    k8s-file), rotated at its size cap;
 * 4. when the container's process exits: its exit code in exit.json,
 *    `RUNTIME delete`, the bundle removed, and with --rm the container.
 *
 * While it lives it is the container's watcher (container.h), which is how
 * ps tells running from exited. When it exits, the container's mount
 * namespace goes with it, and the overlay with that.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "commands.h"
#include "container.h"
#include "fsutil.h"
#include "log.h"
#include "monitor.h"
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
	struct hk_buf partial;
};

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

static void log_record(struct logfile *lf, const char *stream, const char *text, size_t len,
		       bool full)
{
	struct hk_buf b = HK_BUF_INIT;
	char now[64];

	hk_time_rfc3339(now, sizeof(now));
	hk_buf_addf(&b, "%s %s %c ", now, stream, full ? 'F' : 'P');
	hk_buf_add(&b, text, len);
	hk_buf_adds(&b, "\n");
	if (lf->max && lf->size + b.len > lf->max && lf->size > 0)
		log_rotate(lf);
	if (hk_write_nosigpipe(lf->fd, b.buf, b.len) == (ssize_t)b.len)
		lf->size += b.len;
	hk_buf_release(&b);
}

/* What the stream has: whole lines logged, a long unfinished one in parts. */
static void stream_read(struct logfile *lf, struct stream *st)
{
	char buf[65536], *nl;
	ssize_t n = read(st->fd, buf, sizeof(buf));

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		if (st->partial.len)
			log_record(lf, st->name, st->partial.buf, st->partial.len, true);
		hk_buf_release(&st->partial);
		close(st->fd);
		st->fd = -1;
		return;
	}
	hk_buf_add(&st->partial, buf, (size_t)n);
	while ((nl = memchr(st->partial.buf, '\n', st->partial.len))) {
		size_t len = (size_t)(nl - st->partial.buf);
		log_record(lf, st->name, st->partial.buf, len, true);
		memmove(st->partial.buf, nl + 1, st->partial.len - len - 1);
		st->partial.len -= len + 1;
	}
	if (st->partial.len >= LINE_MAX_PARTIAL) {
		log_record(lf, st->name, st->partial.buf, st->partial.len, false);
		st->partial.len = 0;
	}
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

/* The end of a container: its exit recorded, the runtime's state and the bundle gone. */
static void finish(const struct ctl_globals *g, struct hk_store *s, int dirfd, const char *id,
		   int code, bool remove)
{
	struct hk_error err = {0};
	const char *del[] = {"delete", "--force", id, NULL};

	if (hk_ctr_record_exit(dirfd, code, &err) < 0)
		hk_warn("%s", err.msg);
	hk_error_clear(&err);
	ctl_runtime_call(g, del, true, &err);
	remove_bundle(g, id);
	if (remove) {
		_cleanup_close_ int parent =
		    openat(s->dirfd, "containers", O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (parent >= 0)
			hk_rm_rf_at(parent, id);
	}
	hk_ctr_unwatch(ctl_run_dir(g), id);
}

/* Until the container's process exits: its output to the log. Its exit code. */
static int watch(struct logfile *lf, struct stream *out, struct stream *err_, int sfd, pid_t pid)
{
	int code = -1;

	/* After the exit, what is left in the pipes, for a moment at most. */
	while (code < 0 || out->fd >= 0 || err_->fd >= 0) {
		struct pollfd p[3] = {
		    {out->fd, POLLIN, 0}, {err_->fd, POLLIN, 0}, {sfd, POLLIN, 0}};
		int n = poll(p, 3, code >= 0 ? 1000 : -1);

		if ((n < 0 && errno != EINTR) || n == 0)
			break;
		if (p[0].revents)
			stream_read(lf, out);
		if (p[1].revents)
			stream_read(lf, err_);
		if (p[2].revents) {
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

int ctl_monitor(const struct ctl_globals *g, int argc, char **argv, struct hk_error *err)
{
	const int report = 3;
	_cleanup_(hk_json_freep) struct hk_json *rec = NULL;
	_cleanup_free_ char *text = NULL;
	struct ctl_runtime_log rlog = {.fd = -1, .pending = HK_BUF_INIT};
	struct stream out = {.fd = -1, .name = "stdout"}, errs = {.fd = -1, .name = "stderr"};
	struct logfile lf = {.dirfd = -1, .fd = -1};
	char dir[128], bundle[PATH_MAX], pidf[PATH_MAX + 8];
	int po[2], pe[2], pl[2], sfd, status, r, code;
	const struct hk_json *max;
	sigset_t mask;
	struct hk_store s;
	struct stat st;
	pid_t rt, pid;
	size_t len;
	bool rm;

	if (argc != 2)
		return hk_error_setx(err, -EINVAL, "monitor ID: for hakoctl's own use");
	const char *id = argv[1];
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
	if ((r = ctl_store_open(g, &s, err)) < 0)
		goto fail;
	snprintf(dir, sizeof(dir), "containers/%s", id);
	lf.dirfd = openat(s.dirfd, dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (lf.dirfd < 0) {
		r = hk_error_set(err, -errno, "container %s", id);
		goto close;
	}
	if ((r = hk_read_regular_file_at(lf.dirfd, "container.json", 1 << 20, &text, &len, err)) <
		0 ||
	    (r = hk_json_parse(text, len, &rec, err)) < 0)
		goto close;
	rm = hk_json_get(rec, "AutoRemove") && hk_json_get(rec, "AutoRemove")->boolean;
	max = hk_json_get(rec, "LogMaxSize");
	lf.max = max && max->type == HK_JSON_NUMBER ? strtoull(max->text, NULL, 10) : 0;
	lf.fd = openat(lf.dirfd, "ctr.log", O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (lf.fd < 0 || fstat(lf.fd, &st) < 0) {
		r = hk_error_set(err, -errno, "the log of %s", id);
		goto close;
	}
	lf.size = (unsigned long long)st.st_size;
	if ((r = hk_ctr_watch(ctl_run_dir(g), id, getpid(), err)) < 0)
		goto close;
	if (pipe2(po, O_CLOEXEC) < 0 || pipe2(pe, O_CLOEXEC) < 0 ||
	    pipe2(pl, O_CLOEXEC | O_NONBLOCK) < 0) {
		r = hk_error_set(err, -errno, "pipe");
		goto unwatch;
	}
	out.fd = po[0];
	errs.fd = pe[0];
	rlog.fd = pl[0];
	snprintf(bundle, sizeof(bundle), "%s/bundles/%s", ctl_run_dir(g), id);
	snprintf(pidf, sizeof(pidf), "%s/pid", bundle);
	const char *args[] = {"create", "--bundle", bundle, "--pid-file", pidf, id, NULL};
	struct ctl_spawn sp = {.args = args, .fds = {CTL_FD_NULL, po[1], pe[1]}, .log_fd = pl[1]};
	r = ctl_runtime_spawn(g, &sp, &rt, err);
	close(po[1]);
	close(pe[1]);
	close(pl[1]);
	if (r < 0)
		goto unwatch;
	while (waitpid(rt, &status, 0) < 0 && errno == EINTR)
		;
	ctl_runtime_log_read(&rlog);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || read_pid_file(pidf, &pid) < 0) {
		const char *msg =
		    rlog.last_error ? rlog.last_error : "the runtime could not create it";
		code = rlog.last_error ? ctl_exit_code_for(rlog.last_error) : 125;
		/* What it said on stderr goes to the log too (what is there now). */
		fcntl(pe[0], F_SETFL, O_NONBLOCK);
		for (struct pollfd p = {pe[0], POLLIN, 0}; errs.fd >= 0 && poll(&p, 1, 0) == 1;)
			stream_read(&lf, &errs);
		dprintf(report, "error %d %s\n", code, msg);
		close(report);
		finish(g, &s, lf.dirfd, id, code, rm);
		r = 0;
		goto out;
	}
	dprintf(report, "ok %d\n", (int)pid);
	close(report);
	fcntl(po[0], F_SETFL, O_NONBLOCK);
	fcntl(pe[0], F_SETFL, O_NONBLOCK);
	code = watch(&lf, &out, &errs, sfd, pid);
	finish(g, &s, lf.dirfd, id, code, rm);
	r = 0;
	goto out;
unwatch:
	hk_ctr_unwatch(ctl_run_dir(g), id);
close:
out:
	if (out.fd >= 0)
		close(out.fd);
	if (errs.fd >= 0)
		close(errs.fd);
	hk_buf_release(&out.partial);
	hk_buf_release(&errs.partial);
	ctl_runtime_log_release(&rlog);
	if (lf.fd >= 0)
		close(lf.fd);
	if (lf.dirfd >= 0)
		close(lf.dirfd);
	hk_store_close(&s);
fail:
	if (r < 0)
		dprintf(report, "error 125 %s\n", err->msg);
	return r;
}

int ctl_monitor_launch(const struct ctl_globals *g, struct hk_store *s, const char *id,
		       pid_t *ret_pid, int *ret_code, struct hk_error *err)
{
	char exe[PATH_MAX], reply[4096];
	int rep[2];
	size_t got = 0;
	ssize_t n;
	pid_t child;

	*ret_code = 125;
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return hk_error_set(err, -errno, "readlink /proc/self/exe");
	exe[n] = '\0';
	if (pipe2(rep, O_CLOEXEC) < 0)
		return hk_error_set(err, -errno, "pipe");
	const char *argv[] = {exe,	   "--storage", s->root,   "--runroot", ctl_run_dir(g),
			      "--runtime", g->runtime,	"monitor", id,		NULL};
	child = fork();
	if (child < 0) {
		close(rep[0]);
		close(rep[1]);
		return hk_error_set(err, -errno, "fork the monitor");
	}
	if (child == 0) {
		sigset_t all;
		int null = open("/dev/null", O_RDWR | O_CLOEXEC);

		if (null < 0 || dup2(rep[1], 3) < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 ||
		    dup2(null, 2) < 0)
			_exit(125);
		sigemptyset(&all);
		sigprocmask(SIG_SETMASK, &all, NULL);
		/* Nothing of our caller's: a pipe it reads to its end must not wait for the
		 * monitor. */
		syscall(SYS_close_range, 4, ~0U, 0);
		execv(exe, (char *const *)argv);
		_exit(125);
	}
	close(rep[1]);
	while (got < sizeof(reply) - 1 &&
	       ((n = read(rep[0], reply + got, sizeof(reply) - 1 - got)) > 0 ||
		(n < 0 && errno == EINTR)))
		if (n > 0)
			got += (size_t)n;
	close(rep[0]);
	reply[got] = '\0';
	if (got && reply[got - 1] == '\n')
		reply[got - 1] = '\0';
	int pid = 0, code = 0, off = 0;
	if (sscanf(reply, "ok %d", &pid) == 1 && pid > 0) {
		*ret_pid = pid;
		*ret_code = 0;
		return 0;
	}
	if (sscanf(reply, "error %d %n", &code, &off) == 1 && off > 0) {
		*ret_code = code;
		return hk_error_setx(err, -EIO, "%s", reply + off);
	}
	/* It died before it could say (and before it cleaned up): reap it. */
	waitpid(child, NULL, 0);
	*ret_code = -1;
	return hk_error_setx(err, -EIO, "the monitor of %.12s exited without a word", id);
}

int ctl_container_start(const struct ctl_globals *g, int dirfd, const char *id,
			struct hk_error *err)
{
	const char *start[] = {"start", id, NULL};
	const char *kill_it[] = {"kill", id, "KILL", NULL};
	int r;

	if ((r = hk_ctr_record_start(dirfd, err)) < 0 ||
	    (r = ctl_runtime_call(g, start, false, err)) < 0)
		return r;
	if (r != 0) {
		ctl_runtime_call(g, kill_it, true, err);
		hk_error_clear(err);
		return hk_error_setx(err, -EIO, "the runtime could not start container %.12s", id);
	}
	return 0;
}
