/* SPDX-License-Identifier: GPL-2.0-or-later */
/* linux.seccomp of config.json, parsed; seccomp-filter.c compiles it. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "spec-internal.h"
#include "spec.h"
#include "util.h"

static int seccomp_action(struct spec_ctx *c, const struct hk_json *v, const char *p,
			  enum hk_seccomp_action *ret)
{
	static const char *const names[] = {
	    [HK_SCMP_KILL] = "SCMP_ACT_KILL",
	    [HK_SCMP_KILL_PROCESS] = "SCMP_ACT_KILL_PROCESS",
	    [HK_SCMP_KILL_THREAD] = "SCMP_ACT_KILL_THREAD",
	    [HK_SCMP_TRAP] = "SCMP_ACT_TRAP",
	    [HK_SCMP_ERRNO] = "SCMP_ACT_ERRNO",
	    [HK_SCMP_TRACE] = "SCMP_ACT_TRACE",
	    [HK_SCMP_ALLOW] = "SCMP_ACT_ALLOW",
	    [HK_SCMP_LOG] = "SCMP_ACT_LOG",
	    [HK_SCMP_NOTIFY] = "SCMP_ACT_NOTIFY",
	};

	int i;

	if (!v)
		return spec_bad(c, NULL, p, "an action is required");
	if (spec_want_type(c, v, p, HK_JSON_STRING) < 0)
		return -EINVAL;
	i = spec_name_index(names, ARRAY_SIZE(names), v->text);
	if (i < 0)
		return spec_bad(c, v, p, "unknown action \"%s\"", v->text);
	*ret = (enum hk_seccomp_action)i;
	return 0;
}

static int parse_seccomp_args(struct spec_ctx *c, struct hk_seccomp_rule *rule,
			      const struct hk_json *a, const char *path)
{
	static const char *const ops[] = {
	    [HK_SCMP_NE] = "SCMP_CMP_NE",
	    [HK_SCMP_LT] = "SCMP_CMP_LT",
	    [HK_SCMP_LE] = "SCMP_CMP_LE",
	    [HK_SCMP_EQ] = "SCMP_CMP_EQ",
	    [HK_SCMP_GE] = "SCMP_CMP_GE",
	    [HK_SCMP_GT] = "SCMP_CMP_GT",
	    [HK_SCMP_MASKED_EQ] = "SCMP_CMP_MASKED_EQ",
	};

	rule->args = calloc(a->n ? a->n : 1, sizeof(*rule->args));
	for (size_t i = 0; i < a->n; i++) {
		struct hk_seccomp_arg *arg = &rule->args[rule->n_args++];
		_cleanup_free_ char *op = NULL;
		long long index = -1, value = 0, two = 0;
		char p[160];
		int k;

		snprintf(p, sizeof(p), "%s.args[%zu]", path, i);
		if (spec_want_type(c, a->items[i], p, HK_JSON_OBJECT) < 0 ||
		    spec_get_int(c, a->items[i], "index", p, 0, 5, &index) < 0 ||
		    spec_get_int(c, a->items[i], "value", p, 0, UINT64_MAX, &value) < 0 ||
		    spec_get_int(c, a->items[i], "valueTwo", p, 0, UINT64_MAX, &two) < 0 ||
		    spec_get_string(c, a->items[i], "op", p, &op) < 0)
			return -EINVAL;
		if (index < 0 || !op)
			return spec_bad(c, a->items[i], p, "\"index\" and \"op\" are required");
		k = spec_name_index(ops, ARRAY_SIZE(ops), op);
		if (k < 0)
			return spec_bad(c, a->items[i], p, "unknown op \"%s\"", op);
		*arg = (struct hk_seccomp_arg){(unsigned)index, (uint64_t)value, (uint64_t)two,
					       (enum hk_seccomp_op)k};
	}
	return 0;
}

int spec_parse_seccomp(struct spec_ctx *c, struct hk_seccomp *sc, const struct hk_json *lx)
{
	static const char p[] = "linux.seccomp";
	int r;
	struct hk_json *o = spec_get_typed(c, lx, "seccomp", "linux", HK_JSON_OBJECT, &r);
	struct hk_json *a;
	_cleanup_strv_free_ char **flags = NULL;

	if (!o)
		return r;
	sc->present = true;
	sc->json = o;
	if (seccomp_action(c, hk_json_get(o, "defaultAction"), "linux.seccomp.defaultAction",
			   &sc->default_action) < 0 ||
	    spec_get_opt(c, o, "defaultErrnoRet", p, 0, 4095, &sc->default_errno_ret) < 0 ||
	    spec_get_strv(c, o, "architectures", p, &sc->architectures) < 0 ||
	    spec_get_strv(c, o, "flags", p, &flags) < 0 ||
	    spec_get_string(c, o, "listenerPath", p, &sc->listener_path) < 0 ||
	    spec_get_string(c, o, "listenerMetadata", p, &sc->listener_metadata) < 0)
		return -EINVAL;
	for (char **f = flags; f && *f; f++) {
		if (!strcmp(*f, "SECCOMP_FILTER_FLAG_TSYNC"))
			sc->flag_tsync = true;
		else if (!strcmp(*f, "SECCOMP_FILTER_FLAG_LOG"))
			sc->flag_log = true;
		else if (!strcmp(*f, "SECCOMP_FILTER_FLAG_SPEC_ALLOW"))
			sc->flag_spec_allow = true;
		else
			return spec_bad(c, hk_json_get(o, "flags"), "linux.seccomp.flags",
					"unknown flag \"%s\"", *f);
	}
	a = spec_get_typed(c, o, "syscalls", p, HK_JSON_ARRAY, &r);
	if (r < 0)
		return r;
	sc->rules = calloc(a && a->n ? a->n : 1, sizeof(*sc->rules));
	for (size_t i = 0; a && i < a->n; i++) {
		struct hk_seccomp_rule *rule = &sc->rules[sc->n_rules++];
		struct hk_json *args;
		char q[64];

		snprintf(q, sizeof(q), "linux.seccomp.syscalls[%zu]", i);
		if (spec_want_type(c, a->items[i], q, HK_JSON_OBJECT) < 0 ||
		    spec_get_strv(c, a->items[i], "names", q, &rule->names) < 0)
			return -EINVAL;
		if (!rule->names || !rule->names[0])
			return spec_bad(c, a->items[i], q,
					"\"names\" must list at least one syscall");
		{
			char ap[80];
			snprintf(ap, sizeof(ap), "%s.action", q);
			if (seccomp_action(c, hk_json_get(a->items[i], "action"), ap,
					   &rule->action) < 0)
				return -EINVAL;
		}
		if (spec_get_opt(c, a->items[i], "errnoRet", q, 0, 4095, &rule->errno_ret) < 0)
			return -EINVAL;
		args = spec_get_typed(c, a->items[i], "args", q, HK_JSON_ARRAY, &r);
		if (r < 0 || (args && parse_seccomp_args(c, rule, args, q) < 0))
			return -EINVAL;
		if (rule->action == HK_SCMP_NOTIFY) {
			sc->notify = true;
			/* The init calls these after it loaded the filter, to hand
			 * the listener over: no agent could answer yet. */
			for (char **n = rule->names; *n; n++)
				if (strcmp(*n, "write") == 0 || strcmp(*n, "sendmsg") == 0)
					return spec_bad(c, a->items[i], q,
							"SCMP_ACT_NOTIFY cannot be used for "
							"\"%s\": the runtime needs it to hand "
							"the listener over",
							*n);
		}
	}
	if (sc->default_action == HK_SCMP_NOTIFY)
		return spec_bad(c, hk_json_get(o, "defaultAction"), "linux.seccomp.defaultAction",
				"SCMP_ACT_NOTIFY would stop the runtime itself: use it in "
				"syscalls only");
	if (sc->notify && !sc->listener_path)
		return spec_bad(c, o, p, "SCMP_ACT_NOTIFY needs \"listenerPath\"");
	if (sc->listener_metadata && !sc->listener_path)
		return spec_bad(c, hk_json_get(o, "listenerMetadata"), "linux.seccomp",
				"\"listenerMetadata\" needs \"listenerPath\"");
	if (sc->listener_path && sc->listener_path[0] != '/')
		return spec_bad(c, hk_json_get(o, "listenerPath"), "linux.seccomp.listenerPath",
				"\"%s\" is not an absolute path", sc->listener_path);
	return 0;
}

void hk_seccomp_release(struct hk_seccomp *sc)
{
	for (size_t i = 0; i < sc->n_rules; i++) {
		hk_strv_free(sc->rules[i].names);
		free(sc->rules[i].args);
	}
	free(sc->rules);
	hk_strv_free(sc->architectures);
	free(sc->listener_path);
	free(sc->listener_metadata);
	memset(sc, 0, sizeof(*sc));
}
