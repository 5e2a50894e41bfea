/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * OCI hooks (config.md "POSIX-platform Hooks"): programs the runtime runs at
 * points of the lifecycle, with the container's state as JSON on stdin. A
 * hook that fails or outlives its timeout fails the operation; what it wrote
 * becomes part of the error.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "hooks.h"
#include "log.h"
#include "util.h"

/* Fork, join the namespaces, exec the hook with the state on stdin. */
static pid_t spawn_hook(const struct hk_hook *h, int pidfd, int ns_flags, int in, int out)
{
	pid_t pid = fork();

	if (pid != 0)
		return pid;
	if (pidfd >= 0 && ns_flags && setns(pidfd, ns_flags) < 0) {
		dprintf(out, "setns into the container: %s", strerror(errno));
		_exit(126);
	}
	if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0)
		_exit(126);
	syscall(SYS_close_range, 3, ~0U, 0);
	{
		/* A hook without env gets the runtime's, as runc and crun do: a hook
		 * that runs a program by name finds it on the runtime's PATH. */
		char *just_path[] = {h->path, NULL};
		execve(h->path, h->args && h->args[0] ? h->args : just_path,
		       h->env ? h->env : environ);
	}
	dprintf(1, "exec: %s", strerror(errno));
	_exit(127);
}

static int run_one(const struct hk_hook *h, const char *what, const char *state, int pidfd,
		   int ns_flags, struct hk_error *err)
{
	int in[2], out[2], status = 0;
	char output[512] = "";
	size_t got = 0;
	long long deadline = h->timeout ? hk_now_ms() + h->timeout * 1000LL : -1;
	_cleanup_close_ int child_fd = -1;
	bool timed_out = false;
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, in) < 0)
		return hk_error_set(err, -errno, "%s: socketpair", what);
	if (pipe2(out, O_CLOEXEC) < 0) {
		close(in[0]);
		close(in[1]);
		return hk_error_set(err, -errno, "%s: pipe", what);
	}
	pid = spawn_hook(h, pidfd, ns_flags, in[1], out[1]);
	close(in[1]);
	close(out[1]);
	if (pid < 0) {
		close(in[0]);
		close(out[0]);
		return hk_error_set(err, -errno, "%s: fork", what);
	}
	hk_debug("%s: running \"%s\" (pid %d)", what, h->path, (int)pid);
	/* MSG_NOSIGNAL: a hook that does not read its stdin must not kill us. */
	send(in[0], state, strlen(state), MSG_NOSIGNAL);
	close(in[0]);
	child_fd = (int)syscall(SYS_pidfd_open, pid, 0);
	for (int open_out = 1; open_out;) {
		struct pollfd fds[2] = {{out[0], POLLIN, 0}, {child_fd, POLLIN, 0}};
		long long left = deadline < 0 ? -1 : deadline - hk_now_ms();
		int n;
		if (deadline >= 0 && left <= 0) {
			timed_out = true;
			break;
		}
		n = poll(fds, 2, (int)left);
		if (n < 0 && errno != EINTR)
			break;
		if (fds[0].revents & (POLLIN | POLLHUP)) {
			char buf[256];
			ssize_t r = read(out[0], buf, sizeof(buf));
			if (r <= 0)
				open_out = 0;
			for (ssize_t i = 0; i < r && got + 1 < sizeof(output); i++)
				output[got++] = buf[i];
		} else if (fds[1].revents & POLLIN) {
			break; /* exited; a grandchild may keep the pipe open */
		}
	}
	close(out[0]);
	if (timed_out)
		kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	output[got] = '\0';
	while (got && (output[got - 1] == '\n' || output[got - 1] == ' '))
		output[--got] = '\0';
	if (timed_out)
		return hk_error_setx(err, -ETIMEDOUT, "%s \"%s\": timed out after %d s", what,
				     h->path, h->timeout);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return hk_error_setx(err, -ECANCELED, "%s \"%s\" failed (%s %d)%s%s", what, h->path,
				     WIFEXITED(status) ? "exit status" : "signal",
				     WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status),
				     *output ? ": " : "", output);
	hk_debug("%s \"%s\" ok", what, h->path);
	return 0;
}

int hk_hooks_run(const struct hk_spec *spec, enum hk_hook_phase ph, const char *state, int pidfd,
		 int ns_flags, struct hk_error *err)
{
	for (size_t i = 0; i < spec->n_hooks[ph]; i++) {
		char what[64];
		snprintf(what, sizeof(what), "hooks.%s[%zu]", hk_hook_phase_names[ph], i);
		if (run_one(&spec->hooks[ph][i], what, state, pidfd, ns_flags, err) < 0)
			return err->code;
	}
	return 0;
}
