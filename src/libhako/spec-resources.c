/* SPDX-License-Identifier: GPL-2.0-or-later */
/* linux.resources of config.json (and of `update --resources`). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "spec-internal.h"
#include "spec.h"
#include "util.h"

static int parse_device_rules(struct spec_ctx *c, struct hk_spec *s, const struct hk_json *res)
{
	int r;
	struct hk_json *a = spec_get_typed(c, res, "devices", "linux.resources", HK_JSON_ARRAY, &r);

	if (!a)
		return r;
	s->device_rules = calloc(a->n ? a->n : 1, sizeof(*s->device_rules));
	for (size_t i = 0; i < a->n; i++) {
		struct hk_json *v = a->items[i];
		struct hk_device_rule *d = &s->device_rules[s->n_device_rules++];
		_cleanup_free_ char *type = NULL, *access = NULL;
		long long major = -1, minor = -1;
		char p[64];

		snprintf(p, sizeof(p), "linux.resources.devices[%zu]", i);
		if (spec_want_type(c, v, p, HK_JSON_OBJECT) < 0 ||
		    spec_get_bool(c, v, "allow", p, &d->allow) < 0 ||
		    spec_get_string(c, v, "type", p, &type) < 0 ||
		    spec_get_string(c, v, "access", p, &access) < 0 ||
		    spec_get_int(c, v, "major", p, -1, 0xfff, &major) < 0 ||
		    spec_get_int(c, v, "minor", p, -1, 0xfffff, &minor) < 0)
			return -EINVAL;
		d->major = major;
		d->minor = minor;
		if (!hk_json_get(v, "allow"))
			return spec_bad(c, v, p, "\"allow\" is required");
		d->type = type ? type[0] : 'a';
		if (type && (strlen(type) != 1 || !strchr("acb", type[0])))
			return spec_bad(c, v, p, "\"type\" must be one of a, c, b");
		snprintf(d->access, sizeof(d->access), "%s", access ? access : "rwm");
		if (access && (strlen(access) > 3 || strspn(access, "rwm") != strlen(access)))
			return spec_bad(c, v, p, "\"access\" must be made of r, w and m");
	}
	return 0;
}

static int parse_memory(struct spec_ctx *c, struct hk_resources *r, const struct hk_json *res)
{
	static const char p[] = "linux.resources.memory";
	int e;
	bool check = false;
	struct hk_json *m = spec_get_typed(c, res, "memory", "linux.resources", HK_JSON_OBJECT, &e);

	if (!m)
		return e;
	if (spec_get_opt(c, m, "limit", p, -1, INT64_MAX, &r->mem_limit) < 0 ||
	    spec_get_opt(c, m, "reservation", p, -1, INT64_MAX, &r->mem_reservation) < 0 ||
	    spec_get_opt(c, m, "swap", p, -1, INT64_MAX, &r->mem_swap) < 0 ||
	    spec_get_opt(c, m, "kernel", p, -1, INT64_MAX, &r->mem_kernel) < 0 ||
	    spec_get_opt(c, m, "kernelTCP", p, -1, INT64_MAX, &r->mem_kernel_tcp) < 0 ||
	    spec_get_opt(c, m, "swappiness", p, 0, 100, &r->mem_swappiness) < 0 ||
	    spec_get_opt_bool(c, m, "disableOOMKiller", p, &r->mem_disable_oom_killer) < 0 ||
	    spec_get_opt_bool(c, m, "useHierarchy", p, &r->mem_use_hierarchy) < 0 ||
	    spec_get_bool(c, m, "checkBeforeUpdate", p, &check) < 0)
		return -EINVAL;
	if (check)
		return spec_bad(c, hk_json_get(m, "checkBeforeUpdate"), p,
				"checkBeforeUpdate is not supported by this version of hako");
	return 0;
}

static int parse_cpu(struct spec_ctx *c, struct hk_resources *r, const struct hk_json *res)
{
	static const char p[] = "linux.resources.cpu";
	int e;
	struct hk_json *v = spec_get_typed(c, res, "cpu", "linux.resources", HK_JSON_OBJECT, &e);

	if (!v)
		return e;
	if (spec_get_opt(c, v, "shares", p, 0, UINT32_MAX, &r->cpu_shares) < 0 ||
	    spec_get_opt(c, v, "quota", p, -1, INT64_MAX, &r->cpu_quota) < 0 ||
	    spec_get_opt(c, v, "burst", p, 0, INT64_MAX, &r->cpu_burst) < 0 ||
	    spec_get_opt(c, v, "period", p, 0, INT64_MAX, &r->cpu_period) < 0 ||
	    spec_get_opt(c, v, "realtimeRuntime", p, -1, INT64_MAX, &r->cpu_rt_runtime) < 0 ||
	    spec_get_opt(c, v, "realtimePeriod", p, 0, INT64_MAX, &r->cpu_rt_period) < 0 ||
	    spec_get_opt(c, v, "idle", p, -1, 1, &r->cpu_idle) < 0 ||
	    spec_get_string(c, v, "cpus", p, &r->cpus) < 0 ||
	    spec_get_string(c, v, "mems", p, &r->mems) < 0)
		return -EINVAL;
	/* A cpuset is written to the kernel as it is: allow only its syntax. */
	if ((r->cpus && strspn(r->cpus, "0123456789,-") != strlen(r->cpus)) ||
	    (r->mems && strspn(r->mems, "0123456789,-") != strlen(r->mems)))
		return spec_bad(c, v, p, "cpus and mems are lists like \"0-2,4\"");
	return 0;
}

/* An array of {major, minor, ...} objects; rate for the throttles, weights else. */
static int parse_blkio_devs(struct spec_ctx *c, const struct hk_json *bio, const char *key,
			    bool throttle, struct hk_blkio_dev **ret, size_t *ret_n)
{
	int e;
	struct hk_json *a =
	    spec_get_typed(c, bio, key, "linux.resources.blockIO", HK_JSON_ARRAY, &e);

	if (!a)
		return e;
	*ret = calloc(a->n ? a->n : 1, sizeof(**ret));
	for (size_t i = 0; i < a->n; i++) {
		struct hk_json *v = a->items[i];
		struct hk_blkio_dev *d = &(*ret)[(*ret_n)++];
		long long major = -1, minor = -1, rate = 0;
		char p[128];

		snprintf(p, sizeof(p), "linux.resources.blockIO.%s[%zu]", key, i);
		if (spec_want_type(c, v, p, HK_JSON_OBJECT) < 0 ||
		    spec_get_int(c, v, "major", p, 0, 0xfff, &major) < 0 ||
		    spec_get_int(c, v, "minor", p, 0, 0xfffff, &minor) < 0)
			return -EINVAL;
		if (major < 0 || minor < 0)
			return spec_bad(c, v, p, "\"major\" and \"minor\" are required");
		d->major = major;
		d->minor = minor;
		if (throttle) {
			if (spec_get_int(c, v, "rate", p, 0, INT64_MAX, &rate) < 0)
				return -EINVAL;
			d->rate = (uint64_t)rate;
		} else if (spec_get_opt(c, v, "weight", p, 10, 1000, &d->weight) < 0 ||
			   spec_get_opt(c, v, "leafWeight", p, 10, 1000, &d->leaf_weight) < 0) {
			return -EINVAL;
		}
	}
	return 0;
}

static int parse_block_io(struct spec_ctx *c, struct hk_resources *r, const struct hk_json *res)
{
	static const char p[] = "linux.resources.blockIO";
	static const char *const throttles[] = {"throttleReadBpsDevice", "throttleWriteBpsDevice",
						"throttleReadIOPSDevice",
						"throttleWriteIOPSDevice"};
	int e;
	struct hk_json *v =
	    spec_get_typed(c, res, "blockIO", "linux.resources", HK_JSON_OBJECT, &e);

	if (!v)
		return e;
	if (spec_get_opt(c, v, "weight", p, 10, 1000, &r->blkio_weight) < 0 ||
	    spec_get_opt(c, v, "leafWeight", p, 10, 1000, &r->blkio_leaf_weight) < 0 ||
	    parse_blkio_devs(c, v, "weightDevice", false, &r->blkio_weight_devices,
			     &r->n_blkio_weight_devices) < 0)
		return -EINVAL;
	for (int t = 0; t < HK_THROTTLE_COUNT; t++)
		if (parse_blkio_devs(c, v, throttles[t], true, &r->throttle[t], &r->n_throttle[t]) <
		    0)
			return -EINVAL;
	return 0;
}

static int parse_hugepages(struct spec_ctx *c, struct hk_resources *r, const struct hk_json *res)
{
	int e;
	struct hk_json *a =
	    spec_get_typed(c, res, "hugepageLimits", "linux.resources", HK_JSON_ARRAY, &e);

	if (!a)
		return e;
	r->hugepage_sizes = calloc(a->n + 1, sizeof(char *));
	r->hugepage_limits = calloc(a->n ? a->n : 1, sizeof(uint64_t));
	for (size_t i = 0; i < a->n; i++) {
		struct hk_json *v = a->items[i];
		_cleanup_free_ char *size = NULL;
		long long limit = -1;
		char p[64];

		snprintf(p, sizeof(p), "linux.resources.hugepageLimits[%zu]", i);
		if (spec_want_type(c, v, p, HK_JSON_OBJECT) < 0 ||
		    spec_get_string(c, v, "pageSize", p, &size) < 0 ||
		    spec_get_int(c, v, "limit", p, 0, INT64_MAX, &limit) < 0)
			return -EINVAL;
		if (!size || limit < 0)
			return spec_bad(c, v, p, "\"pageSize\" and \"limit\" are required");
		/* "2MB", "1GB", "64KB": it becomes part of a file name. */
		if (strspn(size, "0123456789") == 0 ||
		    (strcmp(size + strspn(size, "0123456789"), "KB") &&
		     strcmp(size + strspn(size, "0123456789"), "MB") &&
		     strcmp(size + strspn(size, "0123456789"), "GB")))
			return spec_bad(c, v, p, "pageSize \"%s\" is not like \"2MB\"", size);
		r->hugepage_sizes[i] = TAKE_PTR(size);
		r->hugepage_limits[i] = (uint64_t)limit;
		r->n_hugepages++;
	}
	return 0;
}

static int parse_network(struct spec_ctx *c, struct hk_resources *r, const struct hk_json *res)
{
	static const char p[] = "linux.resources.network";
	int e;
	struct hk_json *v =
	    spec_get_typed(c, res, "network", "linux.resources", HK_JSON_OBJECT, &e);
	struct hk_json *a;

	if (!v)
		return e;
	if (spec_get_opt(c, v, "classID", p, 0, UINT32_MAX, &r->net_class_id) < 0)
		return -EINVAL;
	a = spec_get_typed(c, v, "priorities", p, HK_JSON_ARRAY, &e);
	if (!a)
		return e;
	r->net_prio_names = calloc(a->n + 1, sizeof(char *));
	r->net_prio_values = calloc(a->n ? a->n : 1, sizeof(uint32_t));
	for (size_t i = 0; i < a->n; i++) {
		_cleanup_free_ char *name = NULL;
		long long prio = -1;
		char q[64];

		snprintf(q, sizeof(q), "%s.priorities[%zu]", p, i);
		if (spec_want_type(c, a->items[i], q, HK_JSON_OBJECT) < 0 ||
		    spec_get_string(c, a->items[i], "name", q, &name) < 0 ||
		    spec_get_int(c, a->items[i], "priority", q, 0, UINT32_MAX, &prio) < 0)
			return -EINVAL;
		if (!name || prio < 0 || !*name || strpbrk(name, " \n/"))
			return spec_bad(c, a->items[i], q,
					"a \"name\" and a \"priority\" are required");
		r->net_prio_names[i] = TAKE_PTR(name);
		r->net_prio_values[i] = (uint32_t)prio;
		r->n_net_prios++;
	}
	return 0;
}

static int parse_unified(struct spec_ctx *c, struct hk_resources *r, const struct hk_json *res)
{
	int e;
	struct hk_json *o =
	    spec_get_typed(c, res, "unified", "linux.resources", HK_JSON_OBJECT, &e);

	if (!o)
		return e;
	r->unified = calloc(o->n + 1, sizeof(char *));
	for (size_t i = 0; i < o->n; i++) {
		struct hk_buf b = HK_BUF_INIT;
		char p[300];

		snprintf(p, sizeof(p), "linux.resources.unified.%s", o->keys[i]);
		if (spec_want_type(c, o->items[i], p, HK_JSON_STRING) < 0)
			return -EINVAL;
		/* A file name in the container's cgroup: "memory.high", not a path. */
		if (!*o->keys[i] || strchr(o->keys[i], '/') || o->keys[i][0] == '.' ||
		    !strchr(o->keys[i], '.'))
			return spec_bad(c, o->items[i], p, "not a cgroup v2 file name");
		hk_buf_addf(&b, "%s=%s", o->keys[i], o->items[i]->text);
		r->unified[i] = hk_buf_detach(&b);
	}
	return 0;
}

/* Everything in linux.resources but devices. */
static int parse_resource_limits(struct spec_ctx *c, struct hk_resources *r,
				 const struct hk_json *res)
{
	static const char *const known[] = {"devices", "memory",  "cpu",
					    "pids",    "blockIO", "hugepageLimits",
					    "network", "unified", "rdma"};
	struct hk_json *pids;
	int e;

	for (size_t i = 0; i < res->n; i++) {
		size_t k = 0;
		while (k < ARRAY_SIZE(known) && strcmp(known[k], res->keys[i]))
			k++;
		if (res->items[i]->type == HK_JSON_NULL)
			continue;
		/* Never silently drop a limit. */
		if (k == ARRAY_SIZE(known) || !strcmp(res->keys[i], "rdma"))
			return spec_bad(c, res->items[i], "linux.resources",
					"\"%s\" limits are not supported by this version of hako",
					res->keys[i]);
	}
	if (parse_memory(c, r, res) < 0 || parse_cpu(c, r, res) < 0 ||
	    parse_block_io(c, r, res) < 0 || parse_hugepages(c, r, res) < 0 ||
	    parse_network(c, r, res) < 0 || parse_unified(c, r, res) < 0)
		return -EINVAL;
	pids = spec_get_typed(c, res, "pids", "linux.resources", HK_JSON_OBJECT, &e);
	if (e < 0 || (pids && spec_get_opt(c, pids, "limit", "linux.resources.pids", INT64_MIN,
					   INT64_MAX, &r->pids_limit) < 0))
		return -EINVAL;
	r->any = r->mem_limit.set || r->mem_reservation.set || r->mem_swap.set ||
		 r->mem_kernel.set || r->mem_kernel_tcp.set || r->mem_swappiness.set ||
		 r->mem_disable_oom_killer.set || r->mem_use_hierarchy.set || r->cpu_shares.set ||
		 r->cpu_quota.set || r->cpu_burst.set || r->cpu_period.set ||
		 r->cpu_rt_runtime.set || r->cpu_rt_period.set || r->cpu_idle.set || r->cpus ||
		 r->mems || r->pids_limit.set || r->blkio_weight.set || r->blkio_leaf_weight.set ||
		 r->n_blkio_weight_devices || r->n_hugepages || r->net_class_id.set ||
		 r->n_net_prios || (r->unified && r->unified[0]);
	for (int t = 0; t < HK_THROTTLE_COUNT; t++)
		r->any |= r->n_throttle[t] > 0;
	return 0;
}

int spec_parse_resources(struct spec_ctx *c, struct hk_spec *s, const struct hk_json *lx)
{
	int r;
	struct hk_json *res = spec_get_typed(c, lx, "resources", "linux", HK_JSON_OBJECT, &r);

	if (!res)
		return r;
	if (parse_resource_limits(c, &s->resources, res) < 0)
		return -EINVAL;
	return parse_device_rules(c, s, res);
}

void hk_resources_release(struct hk_resources *r)
{
	free(r->cpus);
	free(r->mems);
	free(r->blkio_weight_devices);
	for (int t = 0; t < HK_THROTTLE_COUNT; t++)
		free(r->throttle[t]);
	hk_strv_free(r->hugepage_sizes);
	free(r->hugepage_limits);
	hk_strv_free(r->net_prio_names);
	free(r->net_prio_values);
	hk_strv_free(r->unified);
	*r = (struct hk_resources){0};
}

int hk_resources_parse(const char *text, size_t len, const char *file, struct hk_resources *ret,
		       struct hk_error *err)
{
	struct spec_ctx c = {file, err};
	struct hk_json *doc = NULL;
	int r;

	*ret = (struct hk_resources){0};
	if (memchr(text, '\0', len))
		return hk_error_setx(err, -EINVAL, "%s: contains a NUL byte", file);
	if (hk_json_parse(text, len, &doc, err) < 0) {
		char where[HK_ERROR_MSG_MAX];
		memcpy(where, err->msg, sizeof(where));
		return hk_error_setx(err, -EINVAL, "%s:%.900s", file, where);
	}
	if (spec_want_type(&c, doc, "resources", HK_JSON_OBJECT) < 0)
		r = -EINVAL;
	else
		r = parse_resource_limits(&c, ret, doc);
	hk_json_free(doc);
	if (r < 0)
		hk_resources_release(ret);
	return r;
}
