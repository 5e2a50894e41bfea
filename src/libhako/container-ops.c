/* SPDX-License-Identifier: GPL-2.0-or-later */
/* pause, resume, update, ps and events: what a running container's cgroups do. */
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/sched.h>

#include "cgroup.h"
#include "child.h"
#include "container.h"
#include "hooks.h"
#include "log.h"
#include "namespaces.h"
#include "process.h"
#include "seccomp-filter.h"
#include "signals.h"
#include "spec.h"
#include "state.h"
#include "sync.h"
#include "sys.h"
#include "terminal.h"
#include "util.h"
#include "container-internal.h"

/* Run fn on the hierarchies of the container's cgroups. */
int hk_with_cgroups(const struct hk_state *st,
		    int (*fn)(const struct hk_cgroup_mount *, size_t, void *, struct hk_error *),
		    void *data, struct hk_error *err)
{
	struct hk_cgroup_mount *m = NULL;
	size_t n = 0;
	int r;

	if (hk_cgroup_attach(st->cgroup_paths, &m, &n, err) < 0)
		return err->code;
	r = fn(m, n, data, err);
	hk_cgroup_mounts_free(m, n);
	return r;
}

static int thaw(const struct hk_cgroup_mount *m, size_t n, void *data, struct hk_error *err)
{
	(void)data;
	return hk_cgroup_freeze(m, n, false, err);
}

static int freeze(const struct hk_cgroup_mount *m, size_t n, void *data, struct hk_error *err)
{
	(void)data;
	return hk_cgroup_freeze(m, n, true, err);
}

int hk_container_pause(const char *root, const char *id, bool pause, struct hk_error *err)
{
	_cleanup_close_ int dirfd = -1;
	struct hk_state st;
	enum hk_status status;
	int r;

	if (hk_container_load(root, id, &dirfd, &st, &status, err) < 0)
		return err->code;
	if (status != (pause ? HK_STATUS_RUNNING : HK_STATUS_PAUSED))
		r = hk_error_setx(err, -EINVAL, "container \"%s\" is %s, not %s", id,
				  hk_status_name(status), pause ? "running" : "paused");
	else
		r = hk_with_cgroups(&st, pause ? freeze : thaw, NULL, err);
	if (r >= 0)
		hk_debug("container \"%s\" %s", id, pause ? "paused" : "resumed");
	hk_state_release(&st);
	return r;
}

static int update(const struct hk_cgroup_mount *m, size_t n, void *data, struct hk_error *err)
{
	return hk_cgroup_update(m, n, data, err);
}

int hk_container_update(const char *root, const char *id, const struct hk_resources *r,
			struct hk_error *err)
{
	_cleanup_close_ int dirfd = -1;
	struct hk_state st;
	enum hk_status status;
	int e;

	if (hk_container_load(root, id, &dirfd, &st, &status, err) < 0)
		return err->code;
	if (status == HK_STATUS_STOPPED || status == HK_STATUS_CREATING)
		e = hk_error_setx(err, -EINVAL, "container \"%s\" is %s: nothing to update", id,
				  hk_status_name(status));
	else
		e = hk_with_cgroups(&st, update, (void *)r, err);
	hk_state_release(&st);
	return e;
}

struct pids {
	pid_t *v;
	size_t n;
};

static int list_pids(const struct hk_cgroup_mount *m, size_t n, void *data, struct hk_error *err)
{
	struct pids *p = data;

	return hk_cgroup_pids(m, n, &p->v, &p->n, err);
}

int hk_container_pids(const char *root, const char *id, pid_t **ret, size_t *ret_n,
		      struct hk_error *err)
{
	_cleanup_close_ int dirfd = -1;
	struct hk_state st;
	enum hk_status status;
	struct pids p = {NULL, 0};
	int e = 0;

	if (hk_container_load(root, id, &dirfd, &st, &status, err) < 0)
		return err->code;
	if (status == HK_STATUS_STOPPED)
		e = hk_error_setx(err, -ESRCH, "container not running");
	else
		e = hk_with_cgroups(&st, list_pids, &p, err);
	hk_state_release(&st);
	*ret = p.v;
	*ret_n = p.n;
	return e;
}

struct events {
	const char *id;
	unsigned interval_ms;
	bool once;
	void (*emit)(const char *json, void *data);
	void *data;
	pid_t pid;
	unsigned long long start_time;
};

static void emit_stats(const struct hk_cgroup_mount *m, size_t n, struct events *e)
{
	struct hk_cgroup_stats st;
	struct hk_buf b = HK_BUF_INIT;

	hk_cgroup_stats(m, n, &st);
	hk_buf_adds(&b, "{\"type\":\"stats\",\"id\":");
	hk_buf_add_json_string(&b, e->id);
	hk_buf_adds(&b, ",\"data\":");
	hk_cgroup_stats_json(&st, &b);
	hk_buf_adds(&b, "}");
	e->emit(b.buf, e->data);
	hk_buf_release(&b);
	hk_cgroup_stats_release(&st);
}

static void emit_oom(struct events *e)
{
	struct hk_buf b = HK_BUF_INIT;

	hk_buf_adds(&b, "{\"type\":\"oom\",\"id\":");
	hk_buf_add_json_string(&b, e->id);
	hk_buf_adds(&b, "}");
	e->emit(b.buf, e->data);
	hk_buf_release(&b);
}

/* Stats every interval, and an "oom" event as soon as the OOM killer strikes. */
static int watch(const struct hk_cgroup_mount *m, size_t n, void *data, struct hk_error *err)
{
	struct events *e = data;
	long long ooms = hk_cgroup_oom_kills(m, n);
	unsigned waited = 0;

	(void)err;
	if (e->once) {
		emit_stats(m, n, e);
		return 0;
	}
	while (hk_proc_alive(e->pid, e->start_time)) {
		long long now = hk_cgroup_oom_kills(m, n);
		if (now > ooms) {
			emit_oom(e);
			ooms = now;
		}
		if (waited >= e->interval_ms) {
			emit_stats(m, n, e);
			waited = 0;
		}
		nanosleep(&(struct timespec){0, 100 * 1000 * 1000}, NULL);
		waited += 100;
	}
	/* The last OOM may be what ended it. */
	if (hk_cgroup_oom_kills(m, n) > ooms)
		emit_oom(e);
	return 0;
}

int hk_container_events(const char *root, const char *id, bool once, unsigned interval_ms,
			void (*emit)(const char *json, void *data), void *data,
			struct hk_error *err)
{
	struct hk_state st;
	enum hk_status status;
	struct events e = {id, interval_ms, once, emit, data, 0, 0};
	int r;

	{
		/* Not under the lock: events runs as long as the container does. */
		_cleanup_close_ int dirfd = -1;
		if (hk_container_load(root, id, &dirfd, &st, &status, err) < 0)
			return err->code;
	}
	if (status == HK_STATUS_STOPPED || status == HK_STATUS_CREATING) {
		r = hk_error_setx(err, -ESRCH, "container not running");
	} else {
		e.pid = st.pid;
		e.start_time = st.start_time;
		r = hk_with_cgroups(&st, watch, &e, err);
	}
	hk_state_release(&st);
	return r;
}

int hk_container_thaw(const struct hk_state *st, struct hk_error *err)
{
	return hk_with_cgroups(st, thaw, NULL, err);
}
