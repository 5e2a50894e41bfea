/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <stdarg.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/resource.h>
#include <unistd.h>

#include "log.h"
#include "spec-internal.h"
#include "spec.h"
#include "util.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif
#ifndef MS_NOSYMFOLLOW
#define MS_NOSYMFOLLOW 256
#endif
#define HK_MOUNT_ATTR_RDONLY 0x01
#define HK_MOUNT_ATTR_NOSUID 0x02
#define HK_MOUNT_ATTR_NODEV  0x04
#define HK_MOUNT_ATTR_NOEXEC 0x08

const struct hk_ns_info hk_ns_table[HK_NS_COUNT] = {
    [HK_NS_USER] = {"user", "user", CLONE_NEWUSER},
    [HK_NS_PID] = {"pid", "pid", CLONE_NEWPID},
    [HK_NS_MOUNT] = {"mount", "mnt", CLONE_NEWNS},
    [HK_NS_UTS] = {"uts", "uts", CLONE_NEWUTS},
    [HK_NS_IPC] = {"ipc", "ipc", CLONE_NEWIPC},
    [HK_NS_NET] = {"network", "net", CLONE_NEWNET},
    [HK_NS_CGROUP] = {"cgroup", "cgroup", CLONE_NEWCGROUP},
    [HK_NS_TIME] = {"time", "time", CLONE_NEWTIME},
};

/* ---- typed access with file:line:col and JSON path in every error ---- */

int spec_bad(struct spec_ctx *c, const struct hk_json *v, const char *path, const char *fmt, ...)
{
	char what[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return hk_error_setx(c->err, -EINVAL, "%s:%u:%u: %s: %s", c->file, v ? v->line : 1,
			     v ? v->col : 1, path, what);
}

int spec_want_type(struct spec_ctx *c, const struct hk_json *v, const char *path,
		   enum hk_json_type t)
{
	static const char *const article[] = {"null",	  "a boolean", "a number",
					      "a string", "an array",  "an object"};
	if (v->type == t)
		return 0;
	return spec_bad(c, v, path, "expected %s, got %s", article[t], hk_json_type_name(v->type));
}

int spec_get_string(struct spec_ctx *c, const struct hk_json *obj, const char *key,
		    const char *path, char **ret)
{
	struct hk_json *v = hk_json_get(obj, key);
	char p[256];

	if (!v)
		return 0;
	snprintf(p, sizeof(p), "%s.%s", path, key);
	if (spec_want_type(c, v, p, HK_JSON_STRING) < 0)
		return -EINVAL;
	free(*ret);
	*ret = hk_xstrdup(v->text);
	return 1;
}

int spec_get_bool(struct spec_ctx *c, const struct hk_json *obj, const char *key, const char *path,
		  bool *ret)
{
	struct hk_json *v = hk_json_get(obj, key);
	char p[256];

	if (!v)
		return 0;
	snprintf(p, sizeof(p), "%s.%s", path, key);
	if (spec_want_type(c, v, p, HK_JSON_BOOL) < 0)
		return -EINVAL;
	*ret = v->boolean;
	return 1;
}

int spec_name_index(const char *const *names, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (names[i] && !strcmp(names[i], s))
			return (int)i;
	return -1;
}

/* An integer in [min, max]; fractions and exponents are refused. */
int spec_to_int(struct spec_ctx *c, const struct hk_json *v, const char *p, long long min,
		unsigned long long max, long long *ret)
{
	char *end;

	if (spec_want_type(c, v, p, HK_JSON_NUMBER) < 0)
		return -EINVAL;
	errno = 0;
	if (v->text[0] == '-') {
		long long x = strtoll(v->text, &end, 10);
		if (*end || errno || x < min)
			return spec_bad(c, v, p, "expected an integer from %lld to %llu, got %s",
					min, max, v->text);
		*ret = x;
	} else {
		unsigned long long x = strtoull(v->text, &end, 10);
		if (*end || errno || x > max)
			return spec_bad(c, v, p, "expected an integer from %lld to %llu, got %s",
					min, max, v->text);
		*ret = (long long)x;
	}
	return 0;
}

int spec_get_int(struct spec_ctx *c, const struct hk_json *obj, const char *key, const char *path,
		 long long min, unsigned long long max, long long *ret)
{
	struct hk_json *v = hk_json_get(obj, key);
	char p[256];

	if (!v)
		return 0;
	snprintf(p, sizeof(p), "%s.%s", path, key);
	if (spec_to_int(c, v, p, min, max, ret) < 0)
		return -EINVAL;
	return 1;
}

struct hk_json *spec_get_typed(struct spec_ctx *c, const struct hk_json *obj, const char *key,
			       const char *path, enum hk_json_type t, int *r)
{
	struct hk_json *v = hk_json_get(obj, key);
	char p[256];

	*r = 0;
	if (!v || (v->type == HK_JSON_NULL && t != HK_JSON_NULL))
		return NULL;
	snprintf(p, sizeof(p), "%s.%s", path, key);
	if (spec_want_type(c, v, p, t) < 0) {
		*r = -EINVAL;
		return NULL;
	}
	return v;
}

/* A string array into a NULL-terminated strv. */
int spec_get_strv(struct spec_ctx *c, const struct hk_json *obj, const char *key, const char *path,
		  char ***ret)
{
	int r;
	struct hk_json *a = spec_get_typed(c, obj, key, path, HK_JSON_ARRAY, &r);
	char **v;

	if (!a)
		return r;
	v = hk_xmalloc((a->n + 1) * sizeof(char *));
	for (size_t i = 0; i < a->n; i++) {
		char p[256];
		snprintf(p, sizeof(p), "%s.%s[%zu]", path, key, i);
		if (spec_want_type(c, a->items[i], p, HK_JSON_STRING) < 0) {
			v[i] = NULL;
			hk_strv_free(v);
			return -EINVAL;
		}
		v[i] = hk_xstrdup(a->items[i]->text);
	}
	v[a->n] = NULL;
	hk_strv_free(*ret);
	*ret = v;
	return 1;
}

/* ---- mounts ---- */

struct mount_opt {
	const char *name;
	unsigned long set, clear;
	unsigned long propagation;
	unsigned rec_set, rec_clr;
};

static const struct mount_opt mount_opts[] = {
    {"ro", MS_RDONLY, 0, 0, 0, 0},
    {"rw", 0, MS_RDONLY, 0, 0, 0},
    {"nosuid", MS_NOSUID, 0, 0, 0, 0},
    {"suid", 0, MS_NOSUID, 0, 0, 0},
    {"nodev", MS_NODEV, 0, 0, 0, 0},
    {"dev", 0, MS_NODEV, 0, 0, 0},
    {"noexec", MS_NOEXEC, 0, 0, 0, 0},
    {"exec", 0, MS_NOEXEC, 0, 0, 0},
    {"sync", MS_SYNCHRONOUS, 0, 0, 0, 0},
    {"async", 0, MS_SYNCHRONOUS, 0, 0, 0},
    {"dirsync", MS_DIRSYNC, 0, 0, 0, 0},
    {"remount", MS_REMOUNT, 0, 0, 0, 0},
    {"mand", MS_MANDLOCK, 0, 0, 0, 0},
    {"nomand", 0, MS_MANDLOCK, 0, 0, 0},
    {"atime", 0, MS_NOATIME, 0, 0, 0},
    {"noatime", MS_NOATIME, 0, 0, 0, 0},
    {"diratime", 0, MS_NODIRATIME, 0, 0, 0},
    {"nodiratime", MS_NODIRATIME, 0, 0, 0, 0},
    {"relatime", MS_RELATIME, 0, 0, 0, 0},
    {"norelatime", 0, MS_RELATIME, 0, 0, 0},
    {"strictatime", MS_STRICTATIME, 0, 0, 0, 0},
    {"nostrictatime", 0, MS_STRICTATIME, 0, 0, 0},
    {"silent", MS_SILENT, 0, 0, 0, 0},
    {"loud", 0, MS_SILENT, 0, 0, 0},
    {"iversion", MS_I_VERSION, 0, 0, 0, 0},
    {"noiversion", 0, MS_I_VERSION, 0, 0, 0},
    {"lazytime", MS_LAZYTIME, 0, 0, 0, 0},
    {"nolazytime", 0, MS_LAZYTIME, 0, 0, 0},
    {"nosymfollow", MS_NOSYMFOLLOW, 0, 0, 0, 0},
    {"symfollow", 0, MS_NOSYMFOLLOW, 0, 0, 0},
    {"bind", MS_BIND, 0, 0, 0, 0},
    {"rbind", MS_BIND | MS_REC, 0, 0, 0, 0},
    {"private", 0, 0, MS_PRIVATE, 0, 0},
    {"rprivate", 0, 0, MS_PRIVATE | MS_REC, 0, 0},
    {"shared", 0, 0, MS_SHARED, 0, 0},
    {"rshared", 0, 0, MS_SHARED | MS_REC, 0, 0},
    {"slave", 0, 0, MS_SLAVE, 0, 0},
    {"rslave", 0, 0, MS_SLAVE | MS_REC, 0, 0},
    {"unbindable", 0, 0, MS_UNBINDABLE, 0, 0},
    {"runbindable", 0, 0, MS_UNBINDABLE | MS_REC, 0, 0},
    {"rro", 0, 0, 0, HK_MOUNT_ATTR_RDONLY, 0},
    {"rrw", 0, 0, 0, 0, HK_MOUNT_ATTR_RDONLY},
    {"rnosuid", 0, 0, 0, HK_MOUNT_ATTR_NOSUID, 0},
    {"rsuid", 0, 0, 0, 0, HK_MOUNT_ATTR_NOSUID},
    {"rnodev", 0, 0, 0, HK_MOUNT_ATTR_NODEV, 0},
    {"rdev", 0, 0, 0, 0, HK_MOUNT_ATTR_NODEV},
    {"rnoexec", 0, 0, 0, HK_MOUNT_ATTR_NOEXEC, 0},
    {"rexec", 0, 0, 0, 0, HK_MOUNT_ATTR_NOEXEC},
};

/* Options that engines give the runtime, not the kernel. 0, or -1 if refused. */
static int parse_runtime_option(struct hk_mount *m, const char *opt)
{
	if (strcmp(opt, "tmpcopyup") == 0)
		m->tmpcopyup = true;
	else if (strcmp(opt, "notmpcopyup") == 0)
		m->tmpcopyup = false;
	else if (strcmp(opt, "copy-symlink") == 0)
		m->copy_symlink = true;
	else if (strcmp(opt, "idmap") == 0 || strcmp(opt, "ridmap") == 0 ||
		 strncmp(opt, "idmap=", 6) == 0)
		return -1;
	else
		return 1;
	return 0;
}

static void parse_mount_option(struct hk_mount *m, const char *opt, struct hk_buf *data)
{
	for (size_t i = 0; i < ARRAY_SIZE(mount_opts); i++) {
		const struct mount_opt *o = &mount_opts[i];
		if (strcmp(o->name, opt) != 0)
			continue;
		m->flags = (m->flags & ~o->clear) | o->set;
		if (o->propagation)
			m->propagation = o->propagation;
		m->rec_attr_set = (m->rec_attr_set & ~o->rec_clr) | o->rec_set;
		m->rec_attr_clr = (m->rec_attr_clr & ~o->rec_set) | o->rec_clr;
		return;
	}
	/* Anything else is for the filesystem itself, as mount(8) passes it. */
	if (data->len)
		hk_buf_adds(data, ",");
	hk_buf_adds(data, opt);
}

static int parse_mounts(struct spec_ctx *c, struct hk_spec *s, const struct hk_json *root)
{
	int r;
	struct hk_json *a = spec_get_typed(c, root, "mounts", "", HK_JSON_ARRAY, &r);

	if (!a)
		return r;
	s->mounts = calloc(a->n ? a->n : 1, sizeof(*s->mounts));
	if (!s->mounts)
		abort();
	for (size_t i = 0; i < a->n; i++) {
		struct hk_mount *m = &s->mounts[s->n_mounts++];
		struct hk_json *v = a->items[i];
		struct hk_buf data = HK_BUF_INIT;
		_cleanup_strv_free_ char **opts = NULL;
		char p[64];

		snprintf(p, sizeof(p), "mounts[%zu]", i);
		if (spec_want_type(c, v, p, HK_JSON_OBJECT) < 0)
			return -EINVAL;
		if (spec_get_string(c, v, "destination", p, &m->destination) < 0 ||
		    spec_get_string(c, v, "source", p, &m->source) < 0 ||
		    spec_get_string(c, v, "type", p, &m->type) < 0 ||
		    spec_get_strv(c, v, "options", p, &opts) < 0)
			return -EINVAL;
		if (!m->destination)
			return spec_bad(c, v, p, "\"destination\" is required");
		if (m->destination[0] != '/')
			return spec_bad(c, v, p, "destination \"%s\" is not an absolute path",
					m->destination);
		for (char **o = opts; o && *o; o++) {
			int r = parse_runtime_option(m, *o);
			if (r < 0) {
				hk_buf_release(&data);
				return spec_bad(
				    c, v, p,
				    "option \"%s\": idmapped mounts are not supported by "
				    "this version of hako",
				    *o);
			}
			if (r > 0)
				parse_mount_option(m, *o, &data);
		}
		m->data = data.len ? hk_buf_detach(&data) : NULL;
		hk_buf_release(&data);
		if (!m->type)
			m->type = hk_xstrdup(m->flags & MS_BIND ? "bind" : "none");
		if (strcmp(m->type, "bind") == 0)
			m->flags |= MS_BIND;
		if ((m->flags & MS_BIND) && !m->source)
			return spec_bad(c, v, p, "a bind mount needs a \"source\"");
		if (!m->source)
			m->source = hk_xstrdup(m->type);
	}
	return 0;
}

/* ---- lx ---- */

static int parse_namespaces(struct spec_ctx *c, struct hk_spec *s, const struct hk_json *lx)
{
	int r;
	struct hk_json *a = spec_get_typed(c, lx, "namespaces", "linux", HK_JSON_ARRAY, &r);

	if (!a)
		return r;
	for (size_t i = 0; i < a->n; i++) {
		struct hk_json *v = a->items[i];
		_cleanup_free_ char *type = NULL, *path = NULL;
		char p[64];
		int k;

		snprintf(p, sizeof(p), "linux.namespaces[%zu]", i);
		if (spec_want_type(c, v, p, HK_JSON_OBJECT) < 0 ||
		    spec_get_string(c, v, "type", p, &type) < 0 ||
		    spec_get_string(c, v, "path", p, &path) < 0)
			return -EINVAL;
		if (!type)
			return spec_bad(c, v, p, "\"type\" is required");
		for (k = 0; k < HK_NS_COUNT; k++)
			if (strcmp(hk_ns_table[k].spec_name, type) == 0)
				break;
		if (k == HK_NS_COUNT)
			return spec_bad(c, v, p, "unsupported namespace type \"%s\"", type);
		if (s->ns[k].enabled)
			return spec_bad(c, v, p, "namespace \"%s\" given twice", type);
		if (path && path[0] != '/')
			return spec_bad(c, v, p, "namespace path \"%s\" is not absolute", path);
		s->ns[k].enabled = true;
		s->ns[k].path = (path && *path) ? TAKE_PTR(path) : NULL;
	}
	return 0;
}

static int parse_idmaps(struct spec_ctx *c, const struct hk_json *lx, const char *key,
			struct hk_idmap **ret, size_t *ret_n)
{
	int r;
	struct hk_json *a = spec_get_typed(c, lx, key, "linux", HK_JSON_ARRAY, &r);

	if (!a)
		return r;
	if (a->n > 340) /* the kernel's limit on lines in uid_map */
		return spec_bad(c, a, key, "more than 340 mappings");
	*ret = calloc(a->n ? a->n : 1, sizeof(**ret));
	for (size_t i = 0; i < a->n; i++) {
		struct hk_json *v = a->items[i];
		long long cid = -1, hid = -1, size = -1;
		char p[64];

		snprintf(p, sizeof(p), "linux.%s[%zu]", key, i);
		if (spec_want_type(c, v, p, HK_JSON_OBJECT) < 0 ||
		    spec_get_int(c, v, "containerID", p, 0, UINT32_MAX - 1, &cid) < 0 ||
		    spec_get_int(c, v, "hostID", p, 0, UINT32_MAX - 1, &hid) < 0 ||
		    spec_get_int(c, v, "size", p, 1, UINT32_MAX, &size) < 0)
			return -EINVAL;
		if (cid < 0 || hid < 0 || size < 0)
			return spec_bad(c, v, p, "containerID, hostID and size are required");
		(*ret)[(*ret_n)++] =
		    (struct hk_idmap){(uint32_t)cid, (uint32_t)hid, (uint32_t)size};
	}
	return 0;
}

static int parse_devices(struct spec_ctx *c, struct hk_spec *s, const struct hk_json *lx)
{
	int r;
	struct hk_json *a = spec_get_typed(c, lx, "devices", "linux", HK_JSON_ARRAY, &r);

	if (!a)
		return r;
	s->devices = calloc(a->n ? a->n : 1, sizeof(*s->devices));
	for (size_t i = 0; i < a->n; i++) {
		struct hk_json *v = a->items[i];
		struct hk_device *d = &s->devices[s->n_devices++];
		_cleanup_free_ char *type = NULL;
		long long x = 0, major = 0, minor = 0;
		char p[64];

		snprintf(p, sizeof(p), "linux.devices[%zu]", i);
		if (spec_want_type(c, v, p, HK_JSON_OBJECT) < 0 ||
		    spec_get_string(c, v, "path", p, &d->path) < 0 ||
		    spec_get_string(c, v, "type", p, &type) < 0 ||
		    spec_get_int(c, v, "major", p, 0, 0xfff, &major) < 0 ||
		    spec_get_int(c, v, "minor", p, 0, 0xfffff, &minor) < 0)
			return -EINVAL;
		d->major = major;
		d->minor = minor;
		if (!d->path || d->path[0] != '/')
			return spec_bad(c, v, p, "\"path\" must be an absolute path");
		if (!type || strlen(type) != 1 || !strchr("cbup", type[0]))
			return spec_bad(c, v, p, "\"type\" must be one of c, b, u, p");
		d->type = type[0];
		if ((r = spec_get_int(c, v, "fileMode", p, 0, 07777, &x)) < 0)
			return r;
		d->has_mode = r > 0;
		d->mode = (mode_t)x;
		if (spec_get_int(c, v, "uid", p, 0, UINT32_MAX - 1, &x) > 0)
			d->uid = (uid_t)x;
		if (spec_get_int(c, v, "gid", p, 0, UINT32_MAX - 1, &x) > 0)
			d->gid = (gid_t)x;
	}
	return 0;
}

/* An optional integer member into an hk_opt. */
int spec_get_opt(struct spec_ctx *c, const struct hk_json *obj, const char *key, const char *path,
		 long long min, unsigned long long max, struct hk_opt *ret)
{
	long long x;
	int r;
	struct hk_json *v = hk_json_get(obj, key);

	if (v && v->type == HK_JSON_NULL)
		return 0;
	r = spec_get_int(c, obj, key, path, min, max, &x);
	if (r > 0)
		*ret = (struct hk_opt){true, x};
	return r;
}

int spec_get_opt_bool(struct spec_ctx *c, const struct hk_json *obj, const char *key,
		      const char *path, struct hk_opt *ret)
{
	bool b;
	int r = spec_get_bool(c, obj, key, path, &b);

	if (r > 0)
		*ret = (struct hk_opt){true, b};
	return r;
}

static int parse_time_offsets(struct spec_ctx *c, struct hk_spec *s, const struct hk_json *lx)
{
	int r;
	struct hk_json *t = spec_get_typed(c, lx, "timeOffsets", "linux", HK_JSON_OBJECT, &r);
	static const char *const clocks[] = {"monotonic", "boottime"};

	if (!t)
		return r;
	s->has_time_offsets = true;
	for (int i = 0; i < 2; i++) {
		struct hk_time_offset *o = i == 0 ? &s->monotonic : &s->boottime;
		struct hk_json *v =
		    spec_get_typed(c, t, clocks[i], "linux.timeOffsets", HK_JSON_OBJECT, &r);
		char p[64];
		long long x;

		if (r < 0)
			return r;
		if (!v)
			continue;
		snprintf(p, sizeof(p), "linux.timeOffsets.%s", clocks[i]);
		if (spec_get_int(c, v, "secs", p, INT64_MIN / 2, INT64_MAX / 2, &x) < 0)
			return -EINVAL;
		o->secs = x;
		x = 0;
		if (spec_get_int(c, v, "nanosecs", p, 0, 999999999, &x) < 0)
			return -EINVAL;
		o->nanosecs = x;
	}
	return 0;
}

static unsigned long parse_propagation(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(mount_opts); i++)
		if (mount_opts[i].propagation && strcmp(mount_opts[i].name, name) == 0)
			return mount_opts[i].propagation;
	return 0;
}

/*
 * Only sysctls of a namespace the container has are allowed (runc's rule):
 * the System V IPC and mqueue ones with an ipc namespace, net.* with a
 * network namespace, kernel.domainname with a uts namespace. The rest are
 * the host's.
 */
static int sysctl_namespace(const char *key, const struct hk_spec *s)
{
	static const char *const ipc[] = {"kernel.msgmax", "kernel.msgmnb",	    "kernel.msgmni",
					  "kernel.sem",	   "kernel.shmall",	    "kernel.shmmax",
					  "kernel.shmmni", "kernel.shm_rmid_forced"};

	for (size_t i = 0; i < ARRAY_SIZE(ipc); i++)
		if (strcmp(key, ipc[i]) == 0)
			return s->ns[HK_NS_IPC].enabled ? 0 : -1;
	if (strncmp(key, "fs.mqueue.", 10) == 0)
		return s->ns[HK_NS_IPC].enabled ? 0 : -1;
	if (strncmp(key, "net.", 4) == 0)
		return s->ns[HK_NS_NET].enabled ? 0 : -1;
	if (strcmp(key, "kernel.domainname") == 0)
		return s->ns[HK_NS_UTS].enabled ? 0 : -1;
	return -1;
}

static int parse_sysctl(struct spec_ctx *c, struct hk_spec *s, const struct hk_json *lx)
{
	int r;
	struct hk_json *o = spec_get_typed(c, lx, "sysctl", "linux", HK_JSON_OBJECT, &r);

	if (!o)
		return r;
	s->sysctl = hk_xmalloc((o->n + 1) * sizeof(char *));
	for (size_t i = 0; i < o->n; i++) {
		struct hk_buf b = HK_BUF_INIT;
		char p[300];

		snprintf(p, sizeof(p), "linux.sysctl.%s", o->keys[i]);
		s->sysctl[i] = NULL;
		if (spec_want_type(c, o->items[i], p, HK_JSON_STRING) < 0)
			return -EINVAL;
		if (strchr(o->keys[i], '/') || strstr(o->keys[i], ".."))
			return spec_bad(c, o->items[i], p, "invalid sysctl name");
		if (sysctl_namespace(o->keys[i], s) < 0)
			return spec_bad(c, o->items[i], p,
					"not in a namespace of the container's own: it would "
					"change the host");
		hk_buf_addf(&b, "%s=%s", o->keys[i], o->items[i]->text);
		s->sysctl[i] = hk_buf_detach(&b);
		s->sysctl[i + 1] = NULL;
	}
	s->sysctl[o->n] = NULL;
	return 0;
}

/* A name the kernel takes for an interface (its dev_valid_name()); ':' is
 * not one of them, so "host:container" names a move unambiguously. */
static bool valid_ifname(const char *n)
{
	return *n && strlen(n) < IFNAMSIZ && strcmp(n, ".") && strcmp(n, "..") &&
	       !strpbrk(n, "/: \t\n\r\v\f");
}

/* linux.netDevices (1.3): {"host name": {"name": "name in the container"}}. */
static int parse_net_devices(struct spec_ctx *c, struct hk_spec *s, const struct hk_json *lx)
{
	int r;
	struct hk_json *o = spec_get_typed(c, lx, "netDevices", "linux", HK_JSON_OBJECT, &r);

	if (!o)
		return r;
	if (o->n && !s->ns[HK_NS_NET].enabled)
		return spec_bad(c, o, "linux.netDevices",
				"moving devices needs a network namespace of the container's");
	s->net_devices = hk_xmalloc((o->n + 1) * sizeof(char *));
	memset(s->net_devices, 0, (o->n + 1) * sizeof(char *));
	for (size_t i = 0; i < o->n; i++) {
		_cleanup_free_ char *name = NULL;
		char p[300];

		snprintf(p, sizeof(p), "linux.netDevices.%s", o->keys[i]);
		if (spec_want_type(c, o->items[i], p, HK_JSON_OBJECT) < 0 ||
		    spec_get_string(c, o->items[i], "name", p, &name) < 0)
			return -EINVAL;
		if (!name || !*name) {
			free(name);
			name = hk_xstrdup(o->keys[i]);
		}
		if (!valid_ifname(o->keys[i]))
			return spec_bad(c, o->items[i], p, "not a network interface name");
		if (!valid_ifname(name))
			return spec_bad(c, o->items[i], p, "\"%s\" is not a network interface name",
					name);
		for (size_t k = 0; k < i; k++)
			if (!strcmp(strchr(s->net_devices[k], ':') + 1, name))
				return spec_bad(c, o->items[i], p, "a second device called \"%s\"",
						name);
		s->net_devices[i] = hk_xmalloc(strlen(o->keys[i]) + strlen(name) + 2);
		sprintf(s->net_devices[i], "%s:%s", o->keys[i], name);
	}
	return 0;
}

const char *const hk_hook_phase_names[HK_HOOK_PHASES] = {
    "prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop",
};

static int parse_hooks(struct spec_ctx *c, struct hk_spec *s, const struct hk_json *root)
{
	int r;
	struct hk_json *o = spec_get_typed(c, root, "hooks", "", HK_JSON_OBJECT, &r);

	if (!o)
		return r;
	for (int ph = 0; ph < HK_HOOK_PHASES; ph++) {
		struct hk_json *a =
		    spec_get_typed(c, o, hk_hook_phase_names[ph], "hooks", HK_JSON_ARRAY, &r);
		if (r < 0)
			return r;
		if (!a)
			continue;
		s->hooks[ph] = calloc(a->n ? a->n : 1, sizeof(struct hk_hook));
		for (size_t i = 0; i < a->n; i++) {
			struct hk_hook *h = &s->hooks[ph][s->n_hooks[ph]++];
			long long timeout = 0;
			char p[64];
			snprintf(p, sizeof(p), "hooks.%s[%zu]", hk_hook_phase_names[ph], i);
			if (spec_want_type(c, a->items[i], p, HK_JSON_OBJECT) < 0 ||
			    spec_get_string(c, a->items[i], "path", p, &h->path) < 0 ||
			    spec_get_strv(c, a->items[i], "args", p, &h->args) < 0 ||
			    spec_get_strv(c, a->items[i], "env", p, &h->env) < 0 ||
			    spec_get_int(c, a->items[i], "timeout", p, 1, 86400, &timeout) < 0)
				return -EINVAL;
			if (!h->path || h->path[0] != '/')
				return spec_bad(c, a->items[i], p,
						"\"path\" must be an absolute path");
			h->timeout = (int)timeout;
		}
	}
	return 0;
}

/* A node list ("0-3,7") into a set_mempolicy(2) mask. */
static int parse_nodes(const char *text, unsigned long *mask, size_t bits)
{
	const char *p = text;

	while (*p) {
		char *end;
		unsigned long a = strtoul(p, &end, 10), b = a;

		if (end == p)
			return -EINVAL;
		if (*end == '-') {
			p = end + 1;
			b = strtoul(p, &end, 10);
			if (end == p || b < a)
				return -EINVAL;
		}
		if (b >= bits)
			return -ERANGE;
		for (unsigned long n = a; n <= b; n++)
			mask[n / (8 * sizeof(long))] |= 1UL << (n % (8 * sizeof(long)));
		if (*end == ',')
			end++;
		else if (*end)
			return -EINVAL;
		p = end;
	}
	return 0;
}

/* linux.memoryPolicy (runtime-spec 1.3): set_mempolicy(2)'s mode, nodes and flags. */
static int parse_memory_policy(struct spec_ctx *c, struct hk_spec *s, const struct hk_json *lx)
{
	/* Indexed by the kernel's numbers (linux/mempolicy.h). */
	static const char *const modes[] = {
	    "MPOL_DEFAULT",
	    "MPOL_PREFERRED",
	    "MPOL_BIND",
	    "MPOL_INTERLEAVE",
	    "MPOL_LOCAL",
	    "MPOL_PREFERRED_MANY",
	    "MPOL_WEIGHTED_INTERLEAVE",
	};
	static const char *const flag_names[] = {"MPOL_F_NUMA_BALANCING", "MPOL_F_RELATIVE_NODES",
						 "MPOL_F_STATIC_NODES"};
	static const char path[] = "linux.memoryPolicy";
	int r, k;
	struct hk_json *o = spec_get_typed(c, lx, "memoryPolicy", "linux", HK_JSON_OBJECT, &r);
	_cleanup_free_ char *mode = NULL, *nodes = NULL;
	_cleanup_strv_free_ char **flags = NULL;

	if (!o)
		return r;
	if (spec_get_string(c, o, "mode", path, &mode) < 0 ||
	    spec_get_string(c, o, "nodes", path, &nodes) < 0 ||
	    spec_get_strv(c, o, "flags", path, &flags) < 0)
		return -EINVAL;
	if (!mode)
		return spec_bad(c, o, path, "\"mode\" is required");
	if ((k = spec_name_index(modes, ARRAY_SIZE(modes), mode)) < 0)
		return spec_bad(c, hk_json_get(o, "mode"), "linux.memoryPolicy.mode",
				"unknown mode \"%s\"", mode);
	s->mempolicy_mode = k;
	for (char **f = flags; f && *f; f++) {
		if ((k = spec_name_index(flag_names, ARRAY_SIZE(flag_names), *f)) < 0)
			return spec_bad(c, hk_json_get(o, "flags"), "linux.memoryPolicy.flags",
					"unknown flag \"%s\"", *f);
		s->mempolicy_mode |= 1 << (13 + k); /* MPOL_F_NUMA_BALANCING is 1 << 13 */
	}
	if (nodes && *nodes && (r = parse_nodes(nodes, s->mempolicy_nodes, HK_MEMPOLICY_NODES)) < 0)
		return spec_bad(c, hk_json_get(o, "nodes"), "linux.memoryPolicy.nodes",
				r == -ERANGE ? "\"%s\": a node past %d"
					     : "\"%s\": not a node list "
					       "(\"0-3,7\")",
				nodes, HK_MEMPOLICY_NODES - 1);
	s->has_mempolicy = true;
	return 0;
}

/* linux.personality: the execution domain; no flags are defined yet. */
static int parse_personality(struct spec_ctx *c, struct hk_spec *s, const struct hk_json *lx)
{
	static const char path[] = "linux.personality";
	int r;
	struct hk_json *o = spec_get_typed(c, lx, "personality", "linux", HK_JSON_OBJECT, &r);
	_cleanup_free_ char *domain = NULL;
	_cleanup_strv_free_ char **flags = NULL;

	if (!o)
		return r;
	if (spec_get_string(c, o, "domain", path, &domain) < 0 ||
	    spec_get_strv(c, o, "flags", path, &flags) < 0)
		return -EINVAL;
	if (!domain)
		return spec_bad(c, o, path, "\"domain\" is required");
	if (strcmp(domain, "LINUX") == 0)
		s->personality = PER_LINUX;
	else if (strcmp(domain, "LINUX32") == 0)
		s->personality = PER_LINUX32;
	else
		return spec_bad(c, hk_json_get(o, "domain"), "linux.personality.domain",
				"unknown domain \"%s\" (LINUX or LINUX32)", domain);
	if (flags && flags[0])
		return spec_bad(c, hk_json_get(o, "flags"), "linux.personality.flags",
				"unknown flag \"%s\": the runtime spec defines none", flags[0]);
	s->has_personality = true;
	return 0;
}

/*
 * The run.oci.* annotations that engines give runtimes (crun's names):
 *   run.oci.keep_original_groups=1          keep the caller's supplementary
 *                                           groups, additionalGids added
 *   run.oci.seccomp_fail_unknown_syscall=1  an unknown syscall name in
 *                                           linux.seccomp is an error
 * Any other run.oci.* is said under --debug and not used.
 */
static int parse_annotations(struct spec_ctx *c, struct hk_spec *s)
{
	for (size_t i = 0; s->annotations && i < s->annotations->n; i++) {
		const char *key = s->annotations->keys[i];
		const struct hk_json *v = s->annotations->items[i];
		char p[300];
		bool on;

		snprintf(p, sizeof(p), "annotations.%.250s", key);
		if (spec_want_type(c, v, p, HK_JSON_STRING) < 0)
			return -EINVAL;
		if (strncmp(key, "run.oci.", 8) != 0)
			continue;
		on = strcmp(v->text, "1") == 0 || strcmp(v->text, "true") == 0;
		if (strcmp(key, "run.oci.keep_original_groups") == 0)
			s->process.keep_original_groups = on;
		else if (strcmp(key, "run.oci.seccomp_fail_unknown_syscall") == 0)
			s->seccomp.fail_unknown = on;
		else
			hk_debug("annotation %s is not used by hako", key);
	}
	return 0;
}

static int parse_linux(struct spec_ctx *c, struct hk_spec *s, const struct hk_json *root)
{
	int r;
	struct hk_json *lx = spec_get_typed(c, root, "linux", "", HK_JSON_OBJECT, &r);
	_cleanup_free_ char *prop = NULL;
	struct hk_json *rdt;

	if (!lx)
		return r;
	/* Intel RDT is the resctrl filesystem's: say whether this host has one. */
	rdt = hk_json_get(lx, "intelRdt");
	if (rdt && rdt->type != HK_JSON_NULL)
		return spec_bad(c, rdt, "linux.intelRdt", "%s",
				access("/sys/fs/resctrl/info", F_OK) < 0
				    ? "needs the resctrl filesystem (Intel RDT or AMD QoS) at "
				      "/sys/fs/resctrl, which this host does not have"
				    : "resctrl is not supported by this version of hako");
	if (parse_namespaces(c, s, lx) < 0 ||
	    parse_idmaps(c, lx, "uidMappings", &s->uid_mappings, &s->n_uid_mappings) < 0 ||
	    parse_idmaps(c, lx, "gidMappings", &s->gid_mappings, &s->n_gid_mappings) < 0 ||
	    parse_devices(c, s, lx) < 0 || spec_parse_resources(c, s, lx) < 0 ||
	    spec_parse_seccomp(c, &s->seccomp, lx) < 0 || parse_time_offsets(c, s, lx) < 0 ||
	    parse_sysctl(c, s, lx) < 0 || parse_personality(c, s, lx) < 0 ||
	    parse_memory_policy(c, s, lx) < 0 || parse_net_devices(c, s, lx) < 0 ||
	    spec_get_string(c, lx, "mountLabel", "linux", &s->mount_label) < 0 ||
	    spec_get_string(c, lx, "cgroupsPath", "linux", &s->cgroups_path) < 0 ||
	    spec_get_strv(c, lx, "maskedPaths", "linux", &s->masked_paths) < 0 ||
	    spec_get_strv(c, lx, "readonlyPaths", "linux", &s->readonly_paths) < 0 ||
	    spec_get_string(c, lx, "rootfsPropagation", "linux", &prop) < 0)
		return -EINVAL;
	for (int k = 0; k < 2; k++) {
		char **v = k ? s->readonly_paths : s->masked_paths;
		const char *key = k ? "readonlyPaths" : "maskedPaths";
		for (size_t i = 0; v && v[i]; i++)
			if (v[i][0] != '/')
				return spec_bad(c, hk_json_get(lx, key), "linux",
						"%s[%zu]: \"%s\" is not an absolute path", key, i,
						v[i]);
	}
	if (prop) {
		s->rootfs_propagation = parse_propagation(prop);
		if (!s->rootfs_propagation)
			return spec_bad(c, hk_json_get(lx, "rootfsPropagation"),
					"linux.rootfsPropagation", "unknown propagation \"%s\"",
					prop);
	}
	return 0;
}

/* ---- cross-field checks ---- */

static int validate(struct spec_ctx *c, struct hk_spec *s, const struct hk_json *root)
{
	const struct hk_json *lx = hk_json_get(root, "linux");
	bool userns = s->ns[HK_NS_USER].enabled;

	if ((s->n_uid_mappings || s->n_gid_mappings) && !userns)
		return spec_bad(c, lx, "linux.uidMappings",
				"id mappings need a user namespace in linux.namespaces");
	if (userns && !s->ns[HK_NS_USER].path && (!s->n_uid_mappings || !s->n_gid_mappings))
		return spec_bad(c, lx, "linux.namespaces",
				"a new user namespace needs uidMappings and gidMappings");
	if (s->has_time_offsets && (!s->ns[HK_NS_TIME].enabled || s->ns[HK_NS_TIME].path))
		return spec_bad(c, lx, "linux.timeOffsets", "offsets need a new time namespace");
	/* A joined uts namespace takes it too (podman names a pod's). */
	if (s->hostname && *s->hostname && !s->ns[HK_NS_UTS].enabled)
		return spec_bad(c, hk_json_get(root, "hostname"), "hostname",
				"setting the hostname needs a uts namespace");
	return 0;
}

static int check_version(struct spec_ctx *c, const struct hk_json *root, const char *version,
			 unsigned *ret_minor)
{
	unsigned major, minor;

	/* 1.0.0 through 1.3.x, with any pre-release suffix ("1.0.2-dev"); a
	 * later 1.x is read as 1.3 (what it adds is refused where hako sees it). */
	if (sscanf(version, "%u.%u.", &major, &minor) != 2 || major != 1)
		return spec_bad(c, hk_json_get(root, "ociVersion"), "ociVersion",
				"unsupported version \"%s\" (hako supports 1.0.0 to 1.3.x)",
				version);
	if (minor > 3)
		hk_debug("ociVersion \"%s\" is later than 1.3.x, which hako implements", version);
	*ret_minor = minor;
	return 0;
}

int hk_spec_parse(const char *text, size_t len, const char *file, const char *bundle,
		  struct hk_spec **ret, struct hk_error *err)
{
	_cleanup_(hk_spec_freep) struct hk_spec *s = calloc(1, sizeof(*s));
	struct spec_ctx c = {.file = file, .err = err};
	struct hk_json *root_obj;
	_cleanup_free_ char *root_path = NULL;
	int r;

	if (memchr(text, '\0', len))
		return hk_error_setx(err, -EINVAL, "%s: contains a NUL byte", file);
	if (hk_json_parse(text, len, &s->doc, err) < 0) {
		char where[HK_ERROR_MSG_MAX];
		memcpy(where, err->msg, sizeof(where));
		return hk_error_setx(err, -EINVAL, "%s:%.900s", file, where);
	}
	if (spec_want_type(&c, s->doc, "(top level)", HK_JSON_OBJECT) < 0)
		return -EINVAL;
	if (spec_get_string(&c, s->doc, "ociVersion", "", &s->oci_version) < 0)
		return -EINVAL;
	if (!s->oci_version)
		return spec_bad(&c, s->doc, "ociVersion", "is required");
	if (check_version(&c, s->doc, s->oci_version, &s->oci_minor) < 0)
		return -EINVAL;
	root_obj = spec_get_typed(&c, s->doc, "root", "", HK_JSON_OBJECT, &r);
	if (r < 0)
		return r;
	if (!root_obj)
		return spec_bad(&c, s->doc, "root", "is required on Linux");
	if (spec_get_string(&c, root_obj, "path", "root", &root_path) < 0 ||
	    spec_get_bool(&c, root_obj, "readonly", "root", &s->root_readonly) < 0)
		return -EINVAL;
	if (!root_path || !*root_path)
		return spec_bad(&c, root_obj, "root.path", "is required");
	if (spec_get_string(&c, s->doc, "hostname", "", &s->hostname) < 0 ||
	    spec_get_string(&c, s->doc, "domainname", "", &s->domainname) < 0)
		return -EINVAL;
	if (parse_hooks(&c, s, s->doc) < 0)
		return -EINVAL;
	s->annotations = spec_get_typed(&c, s->doc, "annotations", "", HK_JSON_OBJECT, &r);
	if (r < 0)
		return r;
	if (spec_parse_process(&c, s, s->doc) < 0 || parse_mounts(&c, s, s->doc) < 0 ||
	    parse_linux(&c, s, s->doc) < 0 || parse_annotations(&c, s) < 0 ||
	    validate(&c, s, s->doc) < 0)
		return -EINVAL;

	s->bundle = hk_xstrdup(bundle);
	if (root_path[0] == '/') {
		s->root_path = TAKE_PTR(root_path);
	} else {
		struct hk_buf b = HK_BUF_INIT;
		hk_buf_addf(&b, "%s/%s", bundle, root_path);
		s->root_path = hk_buf_detach(&b);
	}
	*ret = TAKE_PTR(s);
	return 0;
}

int hk_spec_load(const char *bundle, const char *config, struct hk_spec **ret, struct hk_error *err)
{
	char abs_bundle[PATH_MAX], path[PATH_MAX + 16];
	_cleanup_free_ char *text = NULL;
	size_t len;

	if (!realpath(bundle, abs_bundle))
		return hk_error_set(err, -errno, "bundle \"%s\"", bundle);
	snprintf(path, sizeof(path), "%s/%s", abs_bundle, config ? config : "config.json");
	/* 16 MiB is far beyond any real config; it bounds hostile input. */
	if (hk_read_regular_file_at(AT_FDCWD, path, 16 << 20, &text, &len, err) < 0)
		return err->code;
	return hk_spec_parse(text, len, path, abs_bundle, ret, err);
}

void hk_spec_free(struct hk_spec *s)
{
	if (!s)
		return;
	free(s->oci_version);
	free(s->bundle);
	free(s->root_path);
	free(s->hostname);
	free(s->domainname);
	hk_process_release(&s->process);
	for (size_t i = 0; i < s->n_mounts; i++) {
		free(s->mounts[i].destination);
		free(s->mounts[i].source);
		free(s->mounts[i].type);
		free(s->mounts[i].data);
	}
	free(s->mounts);
	for (int i = 0; i < HK_NS_COUNT; i++)
		free(s->ns[i].path);
	free(s->uid_mappings);
	free(s->gid_mappings);
	for (size_t i = 0; i < s->n_devices; i++)
		free(s->devices[i].path);
	free(s->devices);
	free(s->device_rules);
	hk_resources_release(&s->resources);
	hk_seccomp_release(&s->seccomp);
	for (int ph = 0; ph < HK_HOOK_PHASES; ph++) {
		for (size_t i = 0; i < s->n_hooks[ph]; i++) {
			free(s->hooks[ph][i].path);
			hk_strv_free(s->hooks[ph][i].args);
			hk_strv_free(s->hooks[ph][i].env);
		}
		free(s->hooks[ph]);
	}
	free(s->cgroups_path);
	free(s->mount_label);
	hk_strv_free(s->masked_paths);
	hk_strv_free(s->readonly_paths);
	hk_strv_free(s->sysctl);
	hk_strv_free(s->net_devices);
	hk_json_free(s->doc);
	free(s);
}
