/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A container's state lives in <root>/<id>/: state.json (written atomically:
 * a temporary file, then rename(2)), the exec fifo while the container is
 * "created", and a lock taken with flock(2) by every command that changes it.
 * The status is not trusted from the file: it is computed from the kernel's
 * truth, the process and its start time in /proc/<pid>/stat.
 */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include "error.h"

enum hk_status {
	HK_STATUS_CREATING,
	HK_STATUS_CREATED,
	HK_STATUS_RUNNING,
	HK_STATUS_PAUSED,
	HK_STATUS_STOPPED,
	HK_STATUS_ERROR, /* state.json is damaged: only delete --force applies */
};

struct hk_state {
	char *id;
	pid_t pid;
	unsigned long long start_time; /* field 22 of /proc/<pid>/stat */
	char *bundle;
	char *rootfs;
	char *created;	     /* RFC 3339 */
	char *annotations;   /* JSON object text, or NULL */
	char **cgroup_dirs;  /* host directories to remove on delete, deepest last */
	char **net_devices;  /* linux.netDevices moved in, "host name:name inside" */
	char **cgroup_paths; /* the container's cgroup on each hierarchy it joined */
	bool later_hooks;    /* the config has startContainer, poststart or poststop hooks */
	bool memory_limit;   /* the config limits memory: start looks for an OOM kill */
	bool damaged;	     /* state.json is not what hako wrote: pid and cgroup_dirs come
				from the recovery record, if any */
};

#define HK_EXEC_FIFO "exec.fifo"
/* The container's network namespace, bound here while it holds host devices. */
#define HK_NETNS_PIN "netns"
/* "PID START_TIME\n" and a cgroup directory a line, written while creating. */
#define HK_STATE_RECOVERY "recovery"

const char *hk_status_name(enum hk_status s);
/* Refuse ids that are not [A-Za-z0-9_+.-]+ (runc's rule), "." and "..". */
int hk_id_validate(const char *id, struct hk_error *err);

/* Create <root>/<id>, locked; "container with id exists: ID" if it is there. */
int hk_state_create_dir(const char *root, const char *id, int *ret_dirfd, struct hk_error *err);
/* Open <root>/<id> and lock it; "container \"ID\" does not exist" otherwise. */
int hk_state_open_dir(const char *root, const char *id, int *ret_dirfd, struct hk_error *err);
int hk_state_save(int dirfd, const struct hk_state *st, struct hk_error *err);
/* Load state.json; -ENOENT (with no message) while the container is creating.
 * A damaged one (not a regular file, not a state object) gives -EUCLEAN, with
 * st->damaged set and what the recovery record knows in st. */
int hk_state_load(int dirfd, const char *id, struct hk_state *ret, struct hk_error *err);
void hk_state_release(struct hk_state *st);
enum hk_status hk_state_status(int dirfd, const struct hk_state *st);
/* Remove <root>/<id>, locked as dirfd, and everything in it. */
int hk_state_remove(int dirfd, const char *root, const char *id, struct hk_error *err);
/* The ids under root, sorted; an absent root is an empty list. */
int hk_state_list(const char *root, char ***ret_ids, struct hk_error *err);
/* The OCI state document (runtime.md "State") as JSON text. */
char *hk_state_to_json(const struct hk_state *st, enum hk_status status, bool pretty);

/* Start time of pid from /proc, or -errno. */
int hk_proc_start_time(pid_t pid, unsigned long long *ret);
/* True when pid is alive (not a zombie) and has the given start time. */
bool hk_proc_alive(pid_t pid, unsigned long long start_time);
