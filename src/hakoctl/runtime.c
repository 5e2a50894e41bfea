// SPDX-License-Identifier: GPL-2.0-or-later
/* The OCI runtime's command line, as hakoctl drives it (runtime.h). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "json.h"
#include "log.h"
#include "runtime.h"
#include "selfexe.h"
#include "signals.h"

extern char **environ;

const char *ctl_run_dir(const struct ctl_globals *g)
{
	return g->runroot ? g->runroot : "/run/hakoctl";
}

char *ctl_beside_self(const char *name)
{
	char self[PATH_MAX], *slash;
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 32);

	if (n > 0 && strlen(name) < 32) {
		self[n] = '\0';
		if ((slash = strrchr(self, '/'))) {
			strcpy(slash + 1, name);
			if (access(self, X_OK) == 0)
				return hk_xstrdup(self);
		}
	}
	return hk_xstrdup(name); /* looked for in PATH */
}

char *ctl_runtime_path(const char *runtime)
{
	if (strchr(runtime, '/'))
		return hk_xstrdup(runtime);
	if (strcmp(runtime, "hako") == 0)
		return ctl_beside_self("hako");
	return hk_xstrdup(runtime); /* looked for in PATH */
}

/*
 * hako re-executes itself from a sealed memfd copy before a command that
 * puts a process of its own into a container (run, create, exec;
 * CVE-2019-5736): an execve, and a start over, on every container. Handed
 * such a copy, it finds the seals and goes on. The copy in *ret_fd, or -1
 * for another runtime or command, which are run as they are.
 */
static int sealed_runtime(const char *rt, const char *cmd, int *ret_fd, struct hk_error *err)
{
	const char *base = strrchr(rt, '/');
	_cleanup_close_ int exe = -1;

	*ret_fd = -1;
	if (!base || strcmp(base + 1, "hako") != 0 ||
	    (strcmp(cmd, "run") != 0 && strcmp(cmd, "create") != 0 && strcmp(cmd, "exec") != 0))
		return 0;
	if ((exe = open(rt, O_RDONLY | O_CLOEXEC)) < 0)
		return hk_error_set(err, -errno, "the runtime \"%s\"", rt);
	return hk_exe_sealed_copy(exe, ret_fd, err);
}

/* What rt_sigaction(2) takes: the kernel's struct sigaction, not libc's. */
struct kernel_sigaction {
	void (*handler)(int);
	unsigned long flags;
	void (*restorer)(void);
	sigset_t mask;
};

/*
 * The runtime's process, its fds 0 to 3 from fds (-1: ours), executed from
 * exe (with execveat, so that its name is the copy's, "memfd:hako") or found
 * by path in PATH. vfork, as posix_spawn does, which cannot execute an fd:
 * a fork would copy our page tables for nothing. Until it executes, the
 * child runs on our stack, in our memory: it makes raw system calls only
 * (no libc state, no sanitizer's interceptor, touched), and every signal is
 * blocked, so that no handler of ours runs there. Its errno comes back in
 * child_errno, which we read once it has executed or exited.
 */
static int spawn(int exe, const char *path, char *const *argv, const int fds[4],
		 const sigset_t *mask, pid_t *ret_pid)
{
	volatile int child_errno = 0;
	sigset_t all, old;
	pid_t pid;
	int e;

	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, &old);
	if ((pid = vfork()) == 0) {
		const sigset_t *start = mask ? mask : &old;
		struct kernel_sigaction dfl = {.handler = SIG_DFL};
		long r = 0;

		/* An fd already in its place is only kept open through exec. */
		for (int fd = 0; fd < 4 && r >= 0; fd++)
			if (fds[fd] >= 0)
				r = fds[fd] == fd ? syscall(SYS_fcntl, fd, F_SETFD, 0)
						  : syscall(SYS_dup2, fds[fd], fd);
		/*
		 * Every signal to its default: an ignored one (the monitor
		 * ignores SIGPIPE, SIGHUP and SIGINT) would stay ignored through
		 * exec, into the container, where `yes | head` would never end.
		 * (SIGKILL and SIGSTOP refuse, and are default.)
		 */
		for (int sig = 1; sig < NSIG && r >= 0; sig++)
			if (sig != SIGKILL && sig != SIGSTOP)
				r = syscall(SYS_rt_sigaction, sig, &dfl, NULL, NSIG / 8);
		if (r >= 0) {
			syscall(SYS_rt_sigprocmask, SIG_SETMASK, start, NULL, NSIG / 8);
			if (exe >= 0)
				syscall(SYS_execveat, exe, "", argv, environ, AT_EMPTY_PATH);
			else
				execvpe(path, argv, environ);
		}
		child_errno = errno;
		syscall(SYS_exit, 127);
	}
	e = errno;
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (pid < 0)
		return -e;
	if (child_errno) {
		waitpid(pid, NULL, 0);
		return -child_errno;
	}
	*ret_pid = pid;
	return 0;
}

int ctl_runtime_spawn(const struct ctl_globals *g, const struct ctl_spawn *sp, pid_t *ret_pid,
		      struct hk_error *err)
{
	_cleanup_free_ char *rt = ctl_runtime_path(g->runtime);
	const char *base = strrchr(rt, '/') ? strrchr(rt, '/') + 1 : rt;
	_cleanup_free_ const char **argv = NULL;
	_cleanup_close_ int sealed = -1, devnull = -1;
	int fds[4] = {-1, -1, -1, sp->log_fd};
	char root[PATH_MAX];
	size_t nargs = 0;
	size_t n = 0;
	int r;

	/* The runtime's state root: one per runtime, <run dir>/<its name>. */
	snprintf(root, sizeof(root), "%s/%s", ctl_run_dir(g), base);
	if ((r = hk_mkdir_p(root, 0700, err)) < 0)
		return r;
	while (sp->args[nargs])
		nargs++;
	argv = hk_xmalloc((nargs + 16) * sizeof(*argv));
	argv[n++] = rt;
	if (g->debug)
		argv[n++] = "--debug";
	argv[n++] = "--root";
	argv[n++] = root;
	if (sp->log_fd >= 0) {
		argv[n++] = "--log";
		argv[n++] = "/proc/self/fd/3";
		argv[n++] = "--log-format";
		argv[n++] = "json";
	}
	for (const char *const *a = sp->args; *a; a++)
		argv[n++] = *a;
	argv[n] = NULL;
	hk_debug("running %s %s %s", rt, sp->args[0], sp->args[1] ? sp->args[1] : "");
	if ((r = sealed_runtime(rt, sp->args[0], &sealed, err)) < 0)
		return r;
	for (int fd = 0; fd < 3; fd++) {
		if (sp->fds[fd] == CTL_FD_NULL) {
			if (devnull < 0 && (devnull = open("/dev/null", O_RDWR | O_CLOEXEC)) < 0)
				return hk_error_set(err, -errno, "/dev/null");
			fds[fd] = devnull;
		} else if (sp->fds[fd] >= 0) {
			fds[fd] = sp->fds[fd];
		}
	}
	if ((r = spawn(sealed, rt, (char *const *)argv, fds, sp->mask, ret_pid)) < 0)
		return hk_error_set(err, r, "the runtime \"%s\"", rt);
	return 0;
}

int ctl_runtime_call(const struct ctl_globals *g, const char *const *args, bool quiet,
		     struct hk_error *err)
{
	struct ctl_spawn sp = {
	    .args = args,
	    .fds = {CTL_FD_NULL, quiet ? CTL_FD_NULL : CTL_FD_INHERIT,
		    quiet ? CTL_FD_NULL : CTL_FD_INHERIT},
	    .log_fd = -1,
	};
	pid_t pid;
	int r, status;

	if ((r = ctl_runtime_spawn(g, &sp, &pid, err)) < 0)
		return r;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return hk_error_set(err, -errno, "waitpid");
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int ctl_runtime_output(const struct ctl_globals *g, const char *const *args, struct hk_buf *out,
		       struct hk_error *err)
{
	int p[2], r, status;
	char buf[8192];
	ssize_t n;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) < 0)
		return hk_error_set(err, -errno, "pipe");
	struct ctl_spawn sp = {.args = args, .fds = {CTL_FD_NULL, p[1], CTL_FD_NULL}, .log_fd = -1};
	r = ctl_runtime_spawn(g, &sp, &pid, err);
	close(p[1]);
	if (r < 0) {
		close(p[0]);
		return r;
	}
	while ((n = read(p[0], buf, sizeof(buf))) > 0 || (n < 0 && errno == EINTR))
		if (n > 0)
			hk_buf_add(out, buf, (size_t)n);
	close(p[0]);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return hk_error_set(err, -errno, "waitpid");
	hk_buf_adds(out, "");
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static void log_line(struct ctl_runtime_log *l, char *line)
{
	struct hk_error err = {0};
	struct hk_json *v = NULL;
	const char *lvl, *msg;

	if (hk_json_parse(line, strlen(line), &v, &err) < 0)
		return;
	lvl = hk_json_get_string(v, "level");
	msg = hk_json_get_string(v, "msg");
	if (lvl && msg) {
		if (strcmp(lvl, "error") == 0 || strcmp(lvl, "fatal") == 0) {
			free(l->last_error);
			l->last_error = hk_xstrdup(msg);
		} else if (l->debug) {
			fprintf(stderr, "runtime: %s\n", msg);
		}
	}
	hk_json_free(v);
}

bool ctl_runtime_log_read(struct ctl_runtime_log *l)
{
	char buf[8192], *nl;
	ssize_t n;

	while ((n = read(l->fd, buf, sizeof(buf))) > 0) {
		hk_buf_add(&l->pending, buf, (size_t)n);
		while ((nl = memchr(l->pending.buf, '\n', l->pending.len))) {
			size_t len = (size_t)(nl - l->pending.buf) + 1;
			*nl = '\0';
			log_line(l, l->pending.buf);
			memmove(l->pending.buf, l->pending.buf + len, l->pending.len - len + 1);
			l->pending.len -= len;
		}
	}
	return n != 0;
}

void ctl_runtime_log_release(struct ctl_runtime_log *l)
{
	if (l->fd >= 0)
		close(l->fd);
	l->fd = -1;
	hk_buf_release(&l->pending);
	free(l->last_error);
	l->last_error = NULL;
}

int ctl_exit_code_for(const char *msg)
{
	if (strstr(msg, "no such file or directory") || strstr(msg, "not found"))
		return 127;
	if (strstr(msg, "permission denied") || strstr(msg, "exec format error") ||
	    strstr(msg, "is a directory"))
		return 126;
	return 125;
}

/*
 * What the watch saw: the container's pidfd (>= 0), -1 while its pid file
 * is not there yet, -2 when it is gone already (its pid taken back, ESRCH).
 */
static int ctr_watch_seen(struct ctl_ctr_watch *w)
{
	_cleanup_free_ char *text = NULL;
	struct hk_error err = {0};
	long long pid;
	size_t len;

	/* Read whole: a runtime that writes it in place may not have yet. */
	if (!hk_inotify_saw(w->ino, strrchr(w->pidf, '/') + 1, IN_ALL_EVENTS) ||
	    hk_read_regular_file_at(AT_FDCWD, w->pidf, 32, &text, &len, &err) < 0)
		return -1;
	text[strcspn(text, "\n")] = '\0';
	if (hk_parse_int64(text, &pid) < 0 || pid <= 0 || pid > INT_MAX)
		return -1;
	int fd = (int)syscall(SYS_pidfd_open, (pid_t)pid, 0);
	return fd >= 0 ? fd : errno == ESRCH ? -2 : -1;
}

/*
 * Wait for the runtime, passing on the signals sent to us (not those of the
 * tty); with w, watching for its container's end.
 */
static int wait_runtime(pid_t pid, int sfd, struct ctl_runtime_log *l, struct ctl_ctr_watch *w)
{
	int pidfd = (int)syscall(SYS_pidfd_open, pid, 0), status;
	struct pollfd p[5] = {{pidfd, POLLIN, 0},
			      {sfd, POLLIN, 0},
			      {l->fd, POLLIN, 0},
			      {w ? w->ino : -1, POLLIN, 0},
			      {-1, POLLIN, 0}};

	while (pidfd >= 0) {
		if (poll(p, 5, -1) < 0 && errno != EINTR)
			break;
		if (p[2].revents && !ctl_runtime_log_read(l))
			p[2].fd = -1;
		if (p[3].revents) {
			int fd = ctr_watch_seen(w);
			if (fd != -1)
				p[3].fd = -1; /* seen */
			if (fd >= 0)
				p[4].fd = fd;
			else if (fd == -2)
				w->gone(w->data);
		}
		/* Its end: seen, or certain once the runtime's has come (in this round, maybe). */
		if (p[4].fd >= 0 && (p[4].revents || p[0].revents)) {
			w->gone(w->data);
			close(p[4].fd);
			p[4].fd = -1;
		}
		if (p[0].revents)
			break;
		if (p[1].revents & POLLIN) {
			struct signalfd_siginfo si;
			if (read(sfd, &si, sizeof(si)) == sizeof(si) && si.ssi_signo != SIGCHLD &&
			    si.ssi_code != SI_KERNEL)
				kill(pid, (int)si.ssi_signo);
		}
	}
	if (pidfd >= 0)
		close(pidfd);
	if (p[4].fd >= 0)
		close(p[4].fd);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return 125;
	ctl_runtime_log_read(
	    l); /* what came last, without waiting: a leaked writer may hold the pipe */
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

int ctl_foreground(const struct ctl_globals *g, const char *const *args, bool with_stdin,
		   const char *pidf, struct ctl_ctr_watch *w, struct ctl_runtime_log *log,
		   int *ret_r, struct hk_error *err)
{
	_cleanup_close_ int sfd = -1;
	sigset_t old, mask;
	int logp[2], status = 125;
	pid_t pid;

	hk_signals_block_forwarded(&old);
	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	sigprocmask(SIG_BLOCK, NULL, &mask);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (pipe2(logp, O_CLOEXEC | O_NONBLOCK) < 0) {
		*ret_r = hk_error_set(err, -errno, "pipe");
	} else {
		log->fd = logp[0];
		struct ctl_spawn sp = {
		    .args = args,
		    .fds = {with_stdin ? CTL_FD_INHERIT : CTL_FD_NULL, CTL_FD_INHERIT,
			    CTL_FD_INHERIT},
		    .log_fd = logp[1],
		    .mask = &old,
		};
		*ret_r = ctl_runtime_spawn(g, &sp, &pid, err);
		close(logp[1]);
		if (*ret_r >= 0)
			status = wait_runtime(pid, sfd, log, w);
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (*ret_r >= 0 && access(pidf, F_OK) < 0)
		/* It never started: the runtime said why on our stderr, and in its log. */
		status = log->last_error ? ctl_exit_code_for(log->last_error) : 125;
	return status;
}
