/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The lifecycle of a container (runtime.md): create, start, kill, delete,
 * state, and run's wait. This is the parent side; child.c is the other.
 */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include "error.h"
#include "spec.h"
#include "state.h"

struct hk_create_opts {
	const char *root; /* state root, /run/hako by default */
	const char *id;
	const char *bundle;
	const char *pid_file;
	const char *console_socket;
	bool no_pivot;
	bool no_new_keyring; /* keep the runtime's session keyring */
	unsigned preserve_fds;
	const char *apparmor, *process_label; /* --apparmor, --process-label */
	bool keep_terminal;		      /* run in the foreground: hand the pty master back */
	bool rootless;			      /* skip the cgroups we may not write (--rootless) */
};

struct hk_container {
	pid_t pid;
	int pidfd;
	int master; /* the pty master when keep_terminal, else -1 */
};

/*
 * Create the container: on return its init waits on the exec fifo. On
 * failure nothing is left: no state directory, cgroup, mount or process.
 */
int hk_container_create(const struct hk_create_opts *o, struct hk_container *ret,
			struct hk_error *err);
/* Release a created container's init to execve() its process. */
int hk_container_start(const char *root, const char *id, struct hk_error *err);
/* Send sig to the init, or with all to every process in its cgroup. */
int hk_container_kill(const char *root, const char *id, int sig, bool all, struct hk_error *err);
/* Remove a stopped (or with force, any) container and all it had. */
int hk_container_delete(const char *root, const char *id, bool force, struct hk_error *err);
/* exec: a new process in a running container, as runc exec. */
struct hk_exec_opts {
	const char *root;
	const char *id;
	const char *process_file; /* --process: the whole process as JSON */
	char **args;		  /* else: these args, on the config's process */
	char **env;		  /* -e KEY=VALUE, added or replacing */
	const char *cwd;	  /* --cwd */
	const char *user;	  /* -u UID[:GID] */
	char **caps;		  /* --cap CAP_X, added */
	bool tty, no_new_privs;
	const char *console_socket;
	const char *pid_file;
	unsigned preserve_fds;
	const char *apparmor, *process_label; /* --apparmor, --process-label */
	bool keep_terminal;		      /* in the foreground: hand the pty master back */
};
int hk_container_exec(const struct hk_exec_opts *o, struct hk_container *ret, struct hk_error *err);

/* pause (freeze every process) or resume a running container. */
int hk_container_pause(const char *root, const char *id, bool pause, struct hk_error *err);
/* New limits for a created or running container. */
int hk_container_update(const char *root, const char *id, const struct hk_resources *r,
			struct hk_error *err);
/* The processes in a container's cgroup. */
int hk_container_pids(const char *root, const char *id, pid_t **ret, size_t *ret_n,
		      struct hk_error *err);
/*
 * events: with once, one stats event; else stats every interval_ms and an
 * "oom" event when the OOM killer strikes, until the container stops. Each
 * event is one line of JSON given to emit.
 */
int hk_container_events(const char *root, const char *id, bool once, unsigned interval_ms,
			void (*emit)(const char *json, void *data), void *data,
			struct hk_error *err);
/* The status from the kernel: hk_state_status(), and "paused" from the freezer. */
enum hk_status hk_container_status(int dirfd, const struct hk_state *st);
/*
 * Every container under root, in id order: visit gets its id, its state and
 * status (with ids_only, the id alone: st is NULL). A state that cannot be
 * read at the moment is left out.
 */
int hk_container_list(const char *root, bool ids_only,
		      void (*visit)(const char *id, const struct hk_state *st,
				    enum hk_status status, void *data),
		      void *data, struct hk_error *err);
/* The OCI state of a container, as pretty JSON. */
int hk_container_state(const char *root, const char *id, char **ret_json, struct hk_error *err);
/*
 * Wait for the init to exit, forwarding to it the signals the runtime has
 * blocked (see hk_signals_block_forwarded()). Returns its exit status as a shell does: the code, or
 * 128 + signal.
 */
int hk_container_wait(const struct hk_container *c);
void hk_container_release(struct hk_container *c);
