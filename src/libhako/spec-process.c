/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The process object of config.json, also given alone to `exec --process`:
 * what to run, as whom, with which limits, capabilities, scheduling and
 * security labels.
 */
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#include "spec-internal.h"
#include "spec.h"
#include "util.h"

static const struct {
	const char *name;
	int resource;
} rlimit_names[] = {
    {"RLIMIT_AS", RLIMIT_AS},
    {"RLIMIT_CORE", RLIMIT_CORE},
    {"RLIMIT_CPU", RLIMIT_CPU},
    {"RLIMIT_DATA", RLIMIT_DATA},
    {"RLIMIT_FSIZE", RLIMIT_FSIZE},
    {"RLIMIT_LOCKS", RLIMIT_LOCKS},
    {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK},
    {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE},
    {"RLIMIT_NICE", RLIMIT_NICE},
    {"RLIMIT_NOFILE", RLIMIT_NOFILE},
    {"RLIMIT_NPROC", RLIMIT_NPROC},
    {"RLIMIT_RSS", RLIMIT_RSS},
    {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},
    {"RLIMIT_RTTIME", RLIMIT_RTTIME},
    {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
    {"RLIMIT_STACK", RLIMIT_STACK},
};

static int parse_rlimits(struct spec_ctx *c, struct hk_process *pr, const struct hk_json *proc)
{
	int r;
	struct hk_json *a = spec_get_typed(c, proc, "rlimits", "process", HK_JSON_ARRAY, &r);

	if (!a)
		return r;
	pr->rlimits = calloc(a->n ? a->n : 1, sizeof(*pr->rlimits));
	for (size_t i = 0; i < a->n; i++) {
		struct hk_json *v = a->items[i];
		struct hk_rlimit *rl = &pr->rlimits[pr->n_rlimits++];
		_cleanup_free_ char *type = NULL;
		long long soft = 0, hard = 0;
		char p[64];
		size_t k;

		snprintf(p, sizeof(p), "process.rlimits[%zu]", i);
		if (spec_want_type(c, v, p, HK_JSON_OBJECT) < 0 ||
		    spec_get_string(c, v, "type", p, &type) < 0 ||
		    spec_get_int(c, v, "soft", p, 0, UINT64_MAX, &soft) < 0 ||
		    spec_get_int(c, v, "hard", p, 0, UINT64_MAX, &hard) < 0)
			return -EINVAL;
		if (!type)
			return spec_bad(c, v, p, "\"type\" is required");
		for (k = 0; k < ARRAY_SIZE(rlimit_names); k++)
			if (strcmp(rlimit_names[k].name, type) == 0)
				break;
		if (k == ARRAY_SIZE(rlimit_names))
			return spec_bad(c, v, p, "unknown rlimit type \"%s\"", type);
		for (size_t j = 0; j + 1 < pr->n_rlimits; j++)
			if (pr->rlimits[j].resource == rlimit_names[k].resource)
				return spec_bad(c, v, p, "\"%s\" is given twice", type);
		rl->resource = rlimit_names[k].resource;
		rl->soft = (uint64_t)soft;
		rl->hard = (uint64_t)hard;
	}
	return 0;
}

static int parse_caps(struct spec_ctx *c, struct hk_process *pr, const struct hk_json *proc)
{
	static const char *const sets[HK_CAP_SET_COUNT] = {"bounding", "effective", "permitted",
							   "inheritable", "ambient"};
	int r;
	struct hk_json *caps =
	    spec_get_typed(c, proc, "capabilities", "process", HK_JSON_OBJECT, &r);

	if (!caps)
		return r;
	pr->has_capabilities = true;
	for (int s = 0; s < HK_CAP_SET_COUNT; s++) {
		char p[64];
		struct hk_json *a;

		snprintf(p, sizeof(p), "process.capabilities");
		a = spec_get_typed(c, caps, sets[s], p, HK_JSON_ARRAY, &r);
		if (r < 0)
			return r;
		for (size_t i = 0; a && i < a->n; i++) {
			int cap;
			snprintf(p, sizeof(p), "process.capabilities.%s[%zu]", sets[s], i);
			if (spec_want_type(c, a->items[i], p, HK_JSON_STRING) < 0)
				return -EINVAL;
			cap = hk_cap_from_name(a->items[i]->text);
			if (cap < 0)
				return spec_bad(c, a->items[i], p, "unknown capability \"%s\"",
						a->items[i]->text);
			pr->caps[s] |= 1ULL << cap;
		}
	}
	return 0;
}

static int parse_user(struct spec_ctx *c, struct hk_process *pr, const struct hk_json *proc)
{
	int r;
	struct hk_json *u = spec_get_typed(c, proc, "user", "process", HK_JSON_OBJECT, &r);
	struct hk_json *g;
	long long v;

	if (!u)
		return r;
	if ((r = spec_get_int(c, u, "uid", "process.user", 0, UINT32_MAX - 1, &v)) < 0)
		return r;
	if (r)
		pr->uid = (uid_t)v;
	if ((r = spec_get_int(c, u, "gid", "process.user", 0, UINT32_MAX - 1, &v)) < 0)
		return r;
	if (r)
		pr->gid = (gid_t)v;
	if ((r = spec_get_int(c, u, "umask", "process.user", 0, 0777, &v)) < 0)
		return r;
	if (r) {
		pr->has_umask = true;
		pr->umask = (mode_t)v;
	}
	g = spec_get_typed(c, u, "additionalGids", "process.user", HK_JSON_ARRAY, &r);
	if (r < 0)
		return r;
	if (g && g->n > 65536)
		return spec_bad(c, g, "process.user.additionalGids", "more than 65536 groups");
	pr->additional_gids = calloc(g && g->n ? g->n : 1, sizeof(gid_t));
	for (size_t i = 0; g && i < g->n; i++) {
		char p[64];
		snprintf(p, sizeof(p), "process.user.additionalGids[%zu]", i);
		if (spec_to_int(c, g->items[i], p, 0, UINT32_MAX - 1, &v) < 0)
			return -EINVAL;
		pr->additional_gids[pr->n_additional_gids++] = (gid_t)v;
	}
	return 0;
}

/* By number: the policy (SCHED_*), the flag's bit (SCHED_FLAG_*), the class (IOPRIO_CLASS_*). */
static const char *const sched_policies[] = {
    "SCHED_OTHER", "SCHED_FIFO", "SCHED_RR",	   "SCHED_BATCH",
    "SCHED_ISO",   "SCHED_IDLE", "SCHED_DEADLINE",
};
static const char *const sched_flags[] = {
    "SCHED_FLAG_RESET_ON_FORK",	 "SCHED_FLAG_RECLAIM",	   "SCHED_FLAG_DL_OVERRUN",
    "SCHED_FLAG_KEEP_POLICY",	 "SCHED_FLAG_KEEP_PARAMS", "SCHED_FLAG_UTIL_CLAMP_MIN",
    "SCHED_FLAG_UTIL_CLAMP_MAX",
};
static const char *const io_classes[] = {
    [1] = "IOPRIO_CLASS_RT",
    [2] = "IOPRIO_CLASS_BE",
    [3] = "IOPRIO_CLASS_IDLE",
};

/* process.scheduler: sched_setattr(2)'s fields, by their names in sched(7). */
static int parse_scheduler(struct spec_ctx *c, struct hk_process *pr, const struct hk_json *proc)
{
	static const char path[] = "process.scheduler";
	int r;
	struct hk_json *o = spec_get_typed(c, proc, "scheduler", "process", HK_JSON_OBJECT, &r);
	struct hk_scheduler *sc = &pr->scheduler;
	_cleanup_free_ char *policy = NULL;
	_cleanup_strv_free_ char **flags = NULL;
	long long nice = 0, prio = 0, runtime = 0, deadline = 0, period = 0;
	int k;

	if (!o)
		return r;
	if (spec_get_string(c, o, "policy", path, &policy) < 0 ||
	    spec_get_int(c, o, "nice", path, -20, 19, &nice) < 0 ||
	    spec_get_int(c, o, "priority", path, 0, 99, &prio) < 0 ||
	    spec_get_strv(c, o, "flags", path, &flags) < 0 ||
	    spec_get_int(c, o, "runtime", path, 0, INT64_MAX, &runtime) < 0 ||
	    spec_get_int(c, o, "deadline", path, 0, INT64_MAX, &deadline) < 0 ||
	    spec_get_int(c, o, "period", path, 0, INT64_MAX, &period) < 0)
		return -EINVAL;
	if (!policy)
		return spec_bad(c, o, path, "\"policy\" is required");
	if ((k = spec_name_index(sched_policies, ARRAY_SIZE(sched_policies), policy)) < 0)
		return spec_bad(c, hk_json_get(o, "policy"), "process.scheduler.policy",
				"unknown policy \"%s\"", policy);
	sc->policy = (uint32_t)k;
	for (size_t i = 0; flags && flags[i]; i++) {
		if ((k = spec_name_index(sched_flags, ARRAY_SIZE(sched_flags), flags[i])) < 0)
			return spec_bad(c, hk_json_get(o, "flags"), "process.scheduler.flags",
					"unknown flag \"%s\"", flags[i]);
		sc->flags |= 1ULL << k;
	}
	sc->nice = (int32_t)nice;
	sc->priority = (uint32_t)prio;
	sc->runtime = (uint64_t)runtime;
	sc->deadline = (uint64_t)deadline;
	sc->period = (uint64_t)period;
	pr->has_scheduler = true;
	return 0;
}

static int parse_io_priority(struct spec_ctx *c, struct hk_process *pr, const struct hk_json *proc)
{
	static const char path[] = "process.ioPriority";
	int r;
	struct hk_json *o = spec_get_typed(c, proc, "ioPriority", "process", HK_JSON_OBJECT, &r);
	_cleanup_free_ char *class = NULL;
	long long level = -1;
	int k;

	if (!o)
		return r;
	if (spec_get_string(c, o, "class", path, &class) < 0 ||
	    spec_get_int(c, o, "priority", path, 0, 7, &level) < 0)
		return -EINVAL;
	if (!class)
		return spec_bad(c, o, path, "\"class\" is required");
	if ((k = spec_name_index(io_classes, ARRAY_SIZE(io_classes), class)) < 0)
		return spec_bad(c, hk_json_get(o, "class"), "process.ioPriority.class",
				"unknown class \"%s\"", class);
	/* The idle class has no levels (ioprio_set(2)): its priority may be left out. */
	if (level < 0 && strcmp(class, "IOPRIO_CLASS_IDLE") == 0)
		level = 0;
	if (level < 0)
		return spec_bad(c, o, path, "\"priority\" is required for %s", class);
	/* IOPRIO_PRIO_VALUE(class, data) of linux/ioprio.h */
	pr->io_priority = (int)(k << 13 | (int)level);
	pr->has_io_priority = true;
	return 0;
}

static int parse_exec_cpu_affinity(struct spec_ctx *c, struct hk_process *pr,
				   const struct hk_json *proc)
{
	static const char path[] = "process.execCPUAffinity";
	int r;
	struct hk_json *o =
	    spec_get_typed(c, proc, "execCPUAffinity", "process", HK_JSON_OBJECT, &r);
	char **lists[] = {&pr->exec_cpus_initial, &pr->exec_cpus_final};
	static const char *const keys[] = {"initial", "final"};
	cpu_set_t set;

	if (!o)
		return r;
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		if (spec_get_string(c, o, keys[i], path, lists[i]) < 0)
			return -EINVAL;
		/* "If omitted or empty": the container's own cpus. */
		if (*lists[i] && !**lists[i]) {
			free(*lists[i]);
			*lists[i] = NULL;
		}
		if (*lists[i] && hk_parse_cpu_list(*lists[i], &set) < 0)
			return spec_bad(c, hk_json_get(o, keys[i]), path,
					"\"%s\" is not a cpu list like \"0-3,7\" below %d",
					*lists[i], CPU_SETSIZE);
	}
	return 0;
}

/* The members of a process object, in config.json or in `exec --process`. */
static int parse_process_fields(struct spec_ctx *c, struct hk_process *pr,
				const struct hk_json *proc)
{
	struct hk_json *cs;
	long long v;
	int r;

	if (spec_get_bool(c, proc, "terminal", "process", &pr->terminal) < 0 ||
	    spec_get_strv(c, proc, "args", "process", &pr->args) < 0 ||
	    spec_get_strv(c, proc, "env", "process", &pr->env) < 0 ||
	    spec_get_string(c, proc, "cwd", "process", &pr->cwd) < 0 ||
	    spec_get_bool(c, proc, "noNewPrivileges", "process", &pr->no_new_privileges) < 0 ||
	    spec_get_string(c, proc, "apparmorProfile", "process", &pr->apparmor_profile) < 0 ||
	    spec_get_string(c, proc, "selinuxLabel", "process", &pr->selinux_label) < 0 ||
	    parse_user(c, pr, proc) < 0 || parse_rlimits(c, pr, proc) < 0 ||
	    parse_caps(c, pr, proc) < 0 || parse_scheduler(c, pr, proc) < 0 ||
	    parse_io_priority(c, pr, proc) < 0 || parse_exec_cpu_affinity(c, pr, proc) < 0)
		return -EINVAL;
	if ((r = spec_get_int(c, proc, "oomScoreAdj", "process", -1000, 1000, &v)) < 0)
		return r;
	if (r) {
		pr->has_oom_score_adj = true;
		pr->oom_score_adj = (int)v;
	}
	cs = spec_get_typed(c, proc, "consoleSize", "process", HK_JSON_OBJECT, &r);
	if (r < 0)
		return r;
	if (cs) {
		if (spec_get_int(c, cs, "height", "process.consoleSize", 0, 65535, &v) < 0)
			return -EINVAL;
		pr->console_height = (unsigned)v;
		if (spec_get_int(c, cs, "width", "process.consoleSize", 0, 65535, &v) < 0)
			return -EINVAL;
		pr->console_width = (unsigned)v;
	}
	if (!pr->args || !pr->args[0])
		return spec_bad(c, proc, "process.args", "at least one argument is required");
	if (!pr->cwd)
		return spec_bad(c, proc, "process.cwd", "is required");
	if (pr->cwd[0] != '/')
		return spec_bad(c, hk_json_get(proc, "cwd"), "process.cwd",
				"\"%s\" is not an absolute path", pr->cwd);
	if (!pr->env)
		pr->env = calloc(1, sizeof(char *));
	return 0;
}

int spec_parse_process(struct spec_ctx *c, struct hk_spec *s, const struct hk_json *root)
{
	int r;
	struct hk_json *proc = spec_get_typed(c, root, "process", "", HK_JSON_OBJECT, &r);

	if (!proc)
		return r;
	s->has_process = true;
	return parse_process_fields(c, &s->process, proc);
}

void hk_process_release(struct hk_process *p)
{
	free(p->additional_gids);
	hk_strv_free(p->args);
	hk_strv_free(p->env);
	free(p->cwd);
	free(p->rlimits);
	free(p->exec_cpus_initial);
	free(p->exec_cpus_final);
	free(p->apparmor_profile);
	free(p->selinux_label);
	memset(p, 0, sizeof(*p));
}

int hk_process_parse(const char *text, size_t len, const char *file, struct hk_process *ret,
		     struct hk_error *err)
{
	struct spec_ctx c = {file, err};
	struct hk_json *doc = NULL;
	int r;

	memset(ret, 0, sizeof(*ret));
	if (memchr(text, '\0', len))
		return hk_error_setx(err, -EINVAL, "%s: contains a NUL byte", file);
	if (hk_json_parse(text, len, &doc, err) < 0) {
		char where[HK_ERROR_MSG_MAX];
		memcpy(where, err->msg, sizeof(where));
		return hk_error_setx(err, -EINVAL, "%s:%.900s", file, where);
	}
	r = spec_want_type(&c, doc, "process", HK_JSON_OBJECT);
	if (r == 0)
		r = parse_process_fields(&c, ret, doc);
	hk_json_free(doc);
	if (r < 0)
		hk_process_release(ret);
	return r;
}
