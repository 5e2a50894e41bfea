/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>

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

unsigned long spec_parse_propagation(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(mount_opts); i++)
		if (mount_opts[i].propagation && strcmp(mount_opts[i].name, name) == 0)
			return mount_opts[i].propagation;
	return 0;
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
	    spec_parse_linux(&c, s, s->doc) < 0 || parse_annotations(&c, s) < 0 ||
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
