// SPDX-License-Identifier: GPL-2.0-or-later
/* Handing a container to its monitor, and starting it (monitor.h). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "commands.h"
#include "container.h"
#include "monitor.h"
#include "runtime.h"
#include "util.h"

int ctl_monitor_launch(const struct ctl_globals *g, struct hk_store *s, const char *id,
		       pid_t *ret_pid, int *ret_code, struct hk_error *err)
{
	_cleanup_free_ char *exe = ctl_beside_self("hako-monitor");
	char reply[4096];
	int rep[2];
	size_t got = 0;
	ssize_t n;
	pid_t child;
	const char *argv[12] = {exe,	     "--storage", s->root, "--runroot", ctl_run_dir(g),
				"--runtime", g->runtime};
	int argc = 7;

	if (g->debug)
		argv[argc++] = "--debug";
	/* The host's network namespace, when we left it for the container's. */
	if (ctl_host_netns >= 0) {
		argv[argc++] = "--host-netns-fd";
		argv[argc++] = "4";
	}
	argv[argc++] = id;
	argv[argc] = NULL;
	*ret_code = 125;
	if (pipe2(rep, O_CLOEXEC) < 0)
		return hk_error_set(err, -errno, "pipe");
	child = fork();
	if (child < 0) {
		close(rep[0]);
		close(rep[1]);
		return hk_error_set(err, -errno, "fork the monitor");
	}
	if (child == 0) {
		sigset_t all;
		int null = open("/dev/null", O_RDWR | O_CLOEXEC);

		/* Out of the way first: either could be 3 or 4. */
		int report = fcntl(rep[1], F_DUPFD, 10);
		int hostns = ctl_host_netns >= 0 ? fcntl(ctl_host_netns, F_DUPFD, 10) : -1;

		if (null < 0 || report < 0 || dup2(report, 3) < 0 || dup2(null, 0) < 0 ||
		    dup2(null, 1) < 0 || dup2(null, 2) < 0 ||
		    (ctl_host_netns >= 0 && (hostns < 0 || dup2(hostns, 4) < 0)))
			_exit(125);
		sigemptyset(&all);
		sigprocmask(SIG_SETMASK, &all, NULL);
		/* Nothing of our caller's: a pipe it reads to its end must not wait for the
		 * monitor. */
		syscall(SYS_close_range, ctl_host_netns >= 0 ? 5 : 4, ~0U, 0);
		execvp(exe, (char *const *)argv);
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

	if ((r = hk_ctr_record_start(dirfd, 0, err)) < 0 ||
	    (r = ctl_runtime_call(g, start, false, err)) < 0)
		return r;
	if (r != 0) {
		ctl_runtime_call(g, kill_it, true, err);
		hk_error_clear(err);
		return hk_error_setx(err, -EIO, "the runtime could not start container %.12s", id);
	}
	return 0;
}
