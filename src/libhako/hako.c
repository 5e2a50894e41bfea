// SPDX-License-Identifier: GPL-2.0-or-later
/* The handle API (hako.h), over container.c's calls by root and id. */
#include <errno.h>
#include <stdlib.h>

#include "hako.h"
#include "util.h"

#define DEFAULT_ROOT "/run/hako"

struct hako_container {
	char *root, *id;
};

struct hako_process {
	struct hk_container proc;
};

static struct hako_container *handle(const char *root, const char *id)
{
	struct hako_container *c = hk_xmalloc(sizeof(*c));

	c->root = hk_xstrdup(root ? root : DEFAULT_ROOT);
	c->id = hk_xstrdup(id);
	return c;
}

static struct hako_process *process(const struct hk_container *proc)
{
	struct hako_process *p = hk_xmalloc(sizeof(*p));

	p->proc = *proc;
	return p;
}

int hako_create(const struct hk_create_opts *o, struct hako_container **ret,
		struct hako_process **ret_init, struct hk_error *err)
{
	struct hk_container init;
	int r = hk_container_create(o, &init, err);

	if (r < 0)
		return r;
	*ret = handle(o->root, o->id);
	if (ret_init)
		*ret_init = process(&init);
	else
		hk_container_release(&init);
	return 0;
}

int hako_open(const char *root, const char *id, struct hako_container **ret, struct hk_error *err)
{
	if (!id || !*id)
		return hk_error_setx(err, -EINVAL, "a container id is needed");
	*ret = handle(root, id);
	return 0;
}

void hako_close(struct hako_container *c)
{
	if (!c)
		return;
	free(c->root);
	free(c->id);
	free(c);
}

const char *hako_container_id(const struct hako_container *c)
{
	return c->id;
}

int hako_list(const char *root, bool ids_only,
	      void (*visit)(const char *id, const struct hk_state *st, enum hk_status status,
			    void *data),
	      void *data, struct hk_error *err)
{
	return hk_container_list(root ? root : DEFAULT_ROOT, ids_only, visit, data, err);
}

int hako_start(struct hako_container *c, struct hk_error *err)
{
	return hk_container_start(c->root, c->id, err);
}

int hako_kill(struct hako_container *c, int sig, bool all, struct hk_error *err)
{
	return hk_container_kill(c->root, c->id, sig, all, err);
}

int hako_delete(struct hako_container *c, bool force, struct hk_error *err)
{
	return hk_container_delete(c->root, c->id, force, err);
}

int hako_state(struct hako_container *c, char **ret_json, struct hk_error *err)
{
	return hk_container_state(c->root, c->id, ret_json, err);
}

int hako_pause(struct hako_container *c, bool pause, struct hk_error *err)
{
	return hk_container_pause(c->root, c->id, pause, err);
}

int hako_update(struct hako_container *c, const struct hk_resources *r, struct hk_error *err)
{
	return hk_container_update(c->root, c->id, r, err);
}

int hako_pids(struct hako_container *c, pid_t **ret, size_t *ret_n, struct hk_error *err)
{
	return hk_container_pids(c->root, c->id, ret, ret_n, err);
}

int hako_events(struct hako_container *c, bool once, unsigned interval_ms,
		void (*emit)(const char *json, void *data), void *data, struct hk_error *err)
{
	return hk_container_events(c->root, c->id, once, interval_ms, emit, data, err);
}

int hako_exec(struct hako_container *c, const struct hk_exec_opts *o, struct hako_process **ret,
	      struct hk_error *err)
{
	struct hk_exec_opts oo = *o;
	struct hk_container proc;
	int r;

	oo.root = c->root;
	oo.id = c->id;
	if ((r = hk_container_exec(&oo, &proc, err)) < 0)
		return r;
	*ret = process(&proc);
	return 0;
}

int hako_wait(struct hako_process *p)
{
	return hk_container_wait(&p->proc);
}

pid_t hako_process_pid(const struct hako_process *p)
{
	return p->proc.pid;
}

void hako_process_free(struct hako_process *p)
{
	if (!p)
		return;
	hk_container_release(&p->proc);
	free(p);
}
