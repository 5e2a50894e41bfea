/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Containers by name: hakoctl's records of the containers it made, with no
 * daemon. Each lives in two places:
 *
 *   <store>/containers/<id>/        what outlives a reboot
 *       container.json              name, image, command, created, --rm
 *       upper/ work/                the overlay's own dirs
 *       ctr.log                     stdout and stderr, a line each:
 *                                   "<RFC 3339 time> stdout|stderr F|P text"
 *       config.json                 the bundle's, kept to start it again
 *       started.json                once started: the time, the restarts
 *       stopped                     stopped by hand: no --restart then
 *       exit.json                   once it has exited: code, time
 *   <runroot>/bundles/<id>/paused   paused (hakoctl pause): goes with the
 *                                   bundle when the container ends
 *   <runroot>/ctr/<id>              while something watches it: the pid of
 *                                   its watcher (the monitor of a detached
 *                                   container, or the hakoctl of a
 *                                   foreground run) and that pid's start time
 *
 * A container's status comes from these: a live watcher says running, or
 * created before started.json; else exit.json says exited. With none, its
 * watcher was killed: it runs if the process in its bundle's pid file does
 * (unwatched: stop, kill and rm -f still work, through the runtime), or has
 * exited with an unknown code. exit.json is removed when it starts again.
 */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include "error.h"
#include "json.h"
#include "store.h"

#define HK_CTR_ID_LEN 64
/*
 * A container is made in containers/.new-<id>/, flock()ed by its maker, and
 * renamed to containers/<id>/ once its record is written (under the store's
 * lock, with its name checked unique); it is removed by a rename to
 * containers/.rm-<id>/ first. So a kill -9 at any moment leaves either a
 * whole container or one of these, which the next hakoctl sweeps away
 * (hk_ctr_sweep).
 */
#define HK_CTR_NEW ".new-"
#define HK_CTR_RM  ".rm-"
/* The names' index: containers/.names/<name>, a symlink to the id. */
#define HK_CTR_NAMES ".names"

enum hk_ctr_status {
	HK_CTR_CREATED,
	HK_CTR_RUNNING,
	HK_CTR_EXITED,
};

struct hk_ctr {
	char id[HK_CTR_ID_LEN + 1];
	struct hk_json *record; /* container.json */
	const char *name;	/* in record */
	enum hk_ctr_status status;
	pid_t watcher;	/* while running (or created, under its monitor) */
	pid_t init;	/* the container's process, while it runs */
	int exit_code;	/* when exited; -1 unknown */
	char *started;	/* once started: RFC 3339, or NULL */
	char *finished; /* when exited: RFC 3339, or NULL */
	int oom_killed; /* when exited: 1, 0, or -1 unknown */
	int restarts;	/* by its monitor, for --restart */
	bool paused;	/* running, and frozen by hakoctl pause */
};

void hk_ctr_free(struct hk_ctr *c);

/* Whether name is a valid container name: [a-zA-Z0-9][a-zA-Z0-9_.-]*. */
bool hk_ctr_name_valid(const char *name);

/* What container.json says of a new container. */
struct hk_ctr_new {
	const char *id, *name, *image_ref, *image_id;
	const struct hk_json *cmd; /* process.args */
	bool rm;		   /* AutoRemove */
	bool tty, open_stdin;	   /* Tty (-t), OpenStdin (-i): for its monitor */
	const char *network;	   /* NetworkMode: none, host, hako */
	const char *const *ports;  /* PortSpecs: its -p, as given (NULL-ended), or NULL */
	const struct hk_json *network_config; /* NetworkConfig: --ip, --dns... or NULL */
	unsigned long long log_max;	      /* LogMaxSize: ctr.log is rotated past it; 0: never */
	const char *restart; /* RestartPolicy.Name: no, on-failure, always, unless-stopped */
	int restart_max;     /* RestartPolicy.MaximumRetryCount (on-failure:N) */
	const struct hk_json *mounts; /* Mounts: its volumes, binds and tmpfs */
};

/*
 * Under the store's lock: write container.json of a new container (its dir
 * exists), with its name, or a generated one when name is NULL. A name in
 * use, or not valid, is refused.
 */
int hk_ctr_record(struct hk_store *s, const struct hk_ctr_new *n, struct hk_error *err);
/*
 * The dir of a new container, containers/.new-<id>/ (with upper/ and work/),
 * flock()ed: ret_fd, an fd of it, holds the lock until closed.
 * hk_ctr_record renames it to containers/<id>/.
 */
int hk_ctr_make_dir(struct hk_store *s, const char *id, int *ret_fd, struct hk_error *err);

/* All containers of the store, with their status (runroot: the run dir). */
int hk_ctr_list(struct hk_store *s, const char *runroot, struct hk_ctr **ret, size_t *ret_n,
		struct hk_error *err);
void hk_ctr_list_free(struct hk_ctr *v, size_t n);

/*
 * Remove container id's dir from containers (an fd of the store's
 * containers/): renamed to .rm-<id> first, so that what is left by a kill
 * is never a container half there. Its name goes from the index; with
 * volumes, its anonymous volumes go too (rm -v, --rm).
 */
int hk_ctr_remove_dir(int containers_fd, const char *id, bool volumes);

/*
 * Sweep what killed hakoctls left in containers/: a .new-<id> whose maker
 * is gone (its flock is free) and a .rm-<id>. runroot's bundles/<id> of
 * each goes too.
 */
void hk_ctr_sweep(struct hk_store *s, const char *runroot);

/* Under the store's lock: container id (named old_name) is new_name from now on. */
/* Set key of container id's record to value (taken, even on failure). */
int hk_ctr_set(struct hk_store *s, const char *id, const char *key, struct hk_json *value,
	       struct hk_error *err);
int hk_ctr_rename(struct hk_store *s, const char *id, const char *old_name, const char *new_name,
		  struct hk_error *err);

/* One container by its name, its id or a unique prefix of its id. */
int hk_ctr_find(struct hk_store *s, const char *runroot, const char *what, struct hk_ctr *ret,
		struct hk_error *err);

/* The watcher record: written by the monitor (or a foreground run). */
int hk_ctr_watch(const char *runroot, const char *id, pid_t pid, struct hk_error *err);
void hk_ctr_unwatch(const char *runroot, const char *id);
/* The watcher's pid while it lives (the same process: its start time is kept), else 0. */
pid_t hk_ctr_live_watcher(const char *runroot, const char *id);
/*
 * The container's process, from the pid file the runtime wrote in its
 * bundle, while it lives (a zombie, or a pid no longer there, is 0). The
 * bundle goes when the container is done with, so a reused pid is not taken
 * for it.
 */
pid_t hk_ctr_live_init(const char *runroot, const char *id);
/* The mark of a pause, in the bundle: set (on) or dropped. */
#define HK_CTR_PAUSED "paused"
int hk_ctr_mark_paused(const char *runroot, const char *id, bool on, struct hk_error *err);

/*
 * exit.json, written once the container's process has exited with code;
 * oom_killed: whether the kernel's OOM killer killed in its cgroup, or -1
 * when that is not known.
 */
int hk_ctr_record_exit(int condirfd, int code, int oom_killed, struct hk_error *err);
/*
 * started.json, written as it starts (and exit.json, of a life before,
 * removed); restarts: how many times its monitor restarted it (--restart),
 * 0 for a start by hand, which also drops the mark of a stop by hand
 * ("stopped", which keeps the monitor from restarting it).
 */
int hk_ctr_record_start(int condirfd, unsigned restarts, struct hk_error *err);
