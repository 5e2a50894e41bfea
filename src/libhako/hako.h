/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libhako's public face: containers as handles.
 *
 * A handle names one container under a state root. hako_create() makes the
 * container and gives its handle; hako_open() gives the handle of one that
 * exists (opening does no I/O: the first operation says "does not exist").
 * Each operation takes the container's lock itself, so handles in two
 * processes on one container are safe. A process made by hako_exec(), or the
 * init of a container created in the foreground, is a hako_process to wait
 * for.
 *
 * Every call leaves its caller as it found it: namespaces, signal mask, cwd,
 * umask and fds (what a foreground run or exec blocks, with
 * hk_signals_block_forwarded(), is the caller's to restore). Errors are
 * negative errnos with err filled in, as everywhere in libhako.
 *
 *	struct hako_container *c;
 *	if (hako_create(&opts, &c, NULL, &err) < 0 || hako_start(c, &err) < 0) ...
 *	hako_kill(c, SIGTERM, false, &err);
 *	hako_delete(c, true, &err);
 *	hako_close(c);
 */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include "container.h"
#include "error.h"
#include "spec.h"
#include "state.h"

struct hako_container;
struct hako_process;

/* Create the container o describes; ret_init (may be NULL) gets its init. */
int hako_create(const struct hk_create_opts *o, struct hako_container **ret,
		struct hako_process **ret_init, struct hk_error *err);
/* A handle on the container id under root (NULL: /run/hako). */
int hako_open(const char *root, const char *id, struct hako_container **ret, struct hk_error *err);
void hako_close(struct hako_container *c);
const char *hako_container_id(const struct hako_container *c);

/* Every container under root, in id order (see hk_container_list()). */
int hako_list(const char *root, bool ids_only,
	      void (*visit)(const char *id, const struct hk_state *st, enum hk_status status,
			    void *data),
	      void *data, struct hk_error *err);

int hako_start(struct hako_container *c, struct hk_error *err);
int hako_kill(struct hako_container *c, int sig, bool all, struct hk_error *err);
int hako_delete(struct hako_container *c, bool force, struct hk_error *err);
/* The OCI state, as pretty JSON. */
int hako_state(struct hako_container *c, char **ret_json, struct hk_error *err);
int hako_pause(struct hako_container *c, bool pause, struct hk_error *err);
int hako_update(struct hako_container *c, const struct hk_resources *r, struct hk_error *err);
int hako_pids(struct hako_container *c, pid_t **ret, size_t *ret_n, struct hk_error *err);
int hako_events(struct hako_container *c, bool once, unsigned interval_ms,
		void (*emit)(const char *json, void *data), void *data, struct hk_error *err);

/* A new process in the running container (o's root and id are the handle's). */
int hako_exec(struct hako_container *c, const struct hk_exec_opts *o, struct hako_process **ret,
	      struct hk_error *err);
/*
 * Wait for p to exit, proxying its pty and forwarding the blocked signals
 * to it; its status as a shell gives it (the code, or 128 + signal).
 */
int hako_wait(struct hako_process *p);
pid_t hako_process_pid(const struct hako_process *p);
void hako_process_free(struct hako_process *p);

static inline void hako_closep(struct hako_container **c)
{
	hako_close(*c);
}

static inline void hako_process_freep(struct hako_process **p)
{
	hako_process_free(*p);
}
