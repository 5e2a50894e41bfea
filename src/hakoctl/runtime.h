/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The OCI runtime, driven through its command line as podman drives crun:
 * `RUNTIME --root <run dir>/<its name> [--debug] [--log /proc/self/fd/3
 * --log-format json] COMMAND ARGS...`. Its JSON log comes back through a
 * pipe: under --debug its narration is shown as it comes, and its last
 * error gives docker's exit status when a container could not start.
 */
#pragma once

#include <signal.h>
#include <stdbool.h>
#include <sys/types.h>

#include "commands.h"
#include "util.h"

/* The runtime's binary: a path, or a name; "hako" is first looked for beside us. */
char *ctl_runtime_path(const char *runtime);
/* The program name beside our own binary, when it is there; else name, for PATH. */
char *ctl_beside_self(const char *name);

/* What the runtime's fds 0, 1 and 2 are: ours, /dev/null, or an fd of ours. */
#define CTL_FD_INHERIT (-1)
#define CTL_FD_NULL    (-2)

struct ctl_spawn {
	const char *const *args; /* after the global flags: "create", "--bundle", ... */
	int fds[3];		 /* CTL_FD_INHERIT, CTL_FD_NULL or an fd */
	int log_fd;		 /* the write end of a log pipe (--log), or -1 */
	const sigset_t *mask;	 /* the signal mask it starts with, or NULL: ours */
};

/* Start the runtime; ret_pid is its pid, for the caller to wait for. */
int ctl_runtime_spawn(const struct ctl_globals *g, const struct ctl_spawn *sp, pid_t *ret_pid,
		      struct hk_error *err);

/*
 * Run the runtime with args and wait: its exit status, or -errno with err
 * set when it could not be run. Its output goes to ours, or with quiet
 * nowhere.
 */
int ctl_runtime_call(const struct ctl_globals *g, const char *const *args, bool quiet,
		     struct hk_error *err);

/* The same, its standard output into out (its stderr nowhere). */
int ctl_runtime_output(const struct ctl_globals *g, const char *const *args, struct hk_buf *out,
		       struct hk_error *err);

/* The read end of a runtime's log pipe, and what it said. */
struct ctl_runtime_log {
	int fd; /* non-blocking */
	bool debug;
	struct hk_buf pending;
	char *last_error;
};

/* Read what is there; false at the end of the pipe. */
bool ctl_runtime_log_read(struct ctl_runtime_log *l);
void ctl_runtime_log_release(struct ctl_runtime_log *l);

/* docker's status for a command that did not start, from the runtime's error. */
int ctl_exit_code_for(const char *msg);

/*
 * The container's process, watched for in the foreground (a run): the
 * runtime writes its pid to a file, which an inotify watch on the file's
 * dir sees; then a pidfd of it. When it has exited, gone(data) runs, while
 * the runtime may still be tidying up its own state (its cgroups, its
 * state dir): the container's files go beside that, on another CPU.
 */
struct ctl_ctr_watch {
	const char *pidf; /* the pid file's path, which the runtime writes */
	void (*gone)(void *data);
	void *data;
	int ino; /* an inotify fd watching pidf's dir, from before the runtime starts */
};

/*
 * The runtime in the foreground (run, exec): our stdin only with_stdin,
 * the signals sent to us passed on (not the terminal's, which reach it
 * too), its log read as it comes. The status: the process's, or, when it
 * never started (no pid file at pidf), docker's 127, 126 or 125 from the
 * runtime's last error. ret_r < 0 (err set) when the runtime could not be
 * run at all. With w, w->gone runs as soon as the container's process has
 * exited.
 */
int ctl_foreground(const struct ctl_globals *g, const char *const *args, bool with_stdin,
		   const char *pidf, struct ctl_ctr_watch *w, struct ctl_runtime_log *log,
		   int *ret_r, struct hk_error *err);
