// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * config.json from an image and docker's flags (bundle.h). The order of
 * precedence is docker's: the flag, then the image config, then the
 * runtime's default.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "bundle.h"
#include "paths.h"
#include "seccomp-default.h"
#include "spec.h"
#include "util.h"

/* podman's default capabilities (containers.conf), docker's less AUDIT_WRITE, MKNOD, NET_RAW. */
static const char *const default_caps[] = {
    "CAP_CHOWN",   "CAP_DAC_OVERRIDE",	   "CAP_FOWNER",     "CAP_FSETID",
    "CAP_KILL",	   "CAP_NET_BIND_SERVICE", "CAP_SETFCAP",    "CAP_SETGID",
    "CAP_SETPCAP", "CAP_SETUID",	   "CAP_SYS_CHROOT", NULL,
};

static const struct hk_json *image_cfg(const struct hk_bundle_opts *o, const char *key)
{
	return hk_json_get(hk_json_get(o->image, "config"), key);
}

static const char *image_string(const struct hk_bundle_opts *o, const char *key)
{
	return hk_json_get_string(hk_json_get(o->image, "config"), key);
}

static struct hk_json *strv_of(const struct hk_json *a)
{
	struct hk_json *v = hk_json_new(HK_JSON_ARRAY);

	for (size_t i = 0; a && a->type == HK_JSON_ARRAY && i < a->n; i++)
		if (a->items[i]->type == HK_JSON_STRING)
			hk_json_push(v, hk_json_new_string(a->items[i]->text));
	return v;
}

/* process.args: docker's rule. --entrypoint replaces the image's and drops its Cmd. */
static int set_args(const struct hk_bundle_opts *o, struct hk_json *p, struct hk_error *err)
{
	struct hk_json *args = hk_json_new(HK_JSON_ARRAY), *tail;

	if (o->entrypoint) {
		if (*o->entrypoint)
			hk_json_push(args, hk_json_new_string(o->entrypoint));
	} else {
		hk_json_free(args);
		args = strv_of(image_cfg(o, "Entrypoint"));
	}
	if (o->args && o->args[0])
		tail = hk_json_new_strv((const char *const *)o->args);
	else if (o->entrypoint)
		tail = hk_json_new(HK_JSON_ARRAY);
	else
		tail = strv_of(image_cfg(o, "Cmd"));
	for (size_t i = 0; i < tail->n; i++)
		hk_json_push(args, hk_json_new_string(tail->items[i]->text));
	hk_json_free(tail);
	if (args->n == 0) {
		hk_json_free(args);
		return hk_error_setx(err, -EINVAL,
				     "no command: the image has no Cmd or Entrypoint, so give one "
				     "after the image name");
	}
	hk_json_set(p, "args", args);
	return 0;
}

/* Put KEY=VALUE in env, replacing KEY's earlier value. */
static void env_put(struct hk_json *env, const char *kv)
{
	size_t k = strcspn(kv, "=");

	for (size_t i = 0; i < env->n; i++)
		if (strncmp(env->items[i]->text, kv, k) == 0 && env->items[i]->text[k] == '=') {
			hk_json_remove(env, i);
			break;
		}
	hk_json_push(env, hk_json_new_string(kv));
}

static void set_env(const struct hk_bundle_opts *o, struct hk_json *p, const char *hostname)
{
	struct hk_json *env = strv_of(image_cfg(o, "Env"));
	char buf[300];
	bool has_path = false;

	for (size_t i = 0; i < env->n; i++)
		has_path |= strncmp(env->items[i]->text, "PATH=", 5) == 0;
	if (!has_path)
		env_put(env, "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
	snprintf(buf, sizeof(buf), "HOSTNAME=%s", hostname);
	env_put(env, buf);
	if (o->tty)
		env_put(env, "TERM=xterm");
	for (char **e = o->env; e && *e; e++) {
		if (strchr(*e, '=')) {
			env_put(env, *e);
		} else if (getenv(*e)) { /* -e NAME: the value from our environment */
			struct hk_buf b = HK_BUF_INIT;
			hk_buf_addf(&b, "%s=%s", *e, getenv(*e));
			env_put(env, b.buf);
			hk_buf_release(&b);
		}
	}
	hk_json_set(p, "env", env);
}

/*
 * Look name up in the rootfs's /etc/passwd or /etc/group (which), inside the
 * root: the file and every symlink on its way are the image's, never the host's.
 */
static bool numeric(const char *s);

static int lookup(int rootfd, const char *file, const char *name, unsigned *ret_id,
		  unsigned *ret_gid, char ***ret_groups_of, struct hk_error *err)
{
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *text = NULL;
	int r;

	if ((r = hk_path_open_in_root(rootfd, file, 0, &fd, err)) < 0)
		return r;
	{
		char path[32];
		if ((r = hk_read_regular_file_at(AT_FDCWD, hk_fd_path(fd, path), 4 << 20, &text,
						 NULL, err)) < 0)
			return hk_error_prefix(err, "%s", file);
	}
	for (char *save = NULL, *line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *f[5] = {0};
		size_t n = 0;

		for (char *s2 = line; n < 5; n++) {
			f[n] = s2;
			if (!(s2 = strchr(s2, ':'))) {
				n++;
				break;
			}
			*s2++ = '\0';
		}
		if (n < 4)
			continue;
		if (ret_groups_of) {
			/* group: name:x:gid:member,member */
			for (char *sv = NULL, *m = strtok_r(f[3], ",", &sv); m;
			     m = strtok_r(NULL, ",", &sv))
				if (strcmp(m, name) == 0) {
					size_t k = hk_strv_len(*ret_groups_of);
					*ret_groups_of =
					    hk_xrealloc(*ret_groups_of, (k + 2) * sizeof(char *));
					(*ret_groups_of)[k] = hk_xstrdup(f[2]);
					(*ret_groups_of)[k + 1] = NULL;
				}
			continue;
		}
		if (strcmp(f[0], name) != 0 && !(numeric(name) && strcmp(f[2], name) == 0))
			continue;
		*ret_id = (unsigned)strtoul(f[2], NULL, 10);
		if (ret_gid)
			*ret_gid = (unsigned)strtoul(f[3], NULL, 10);
		return 0;
	}
	return ret_groups_of ? 0 : -ENOENT;
}

static bool numeric(const char *s)
{
	return *s && strspn(s, "0123456789") == strlen(s);
}

int hk_resolve_user(int rootfd, const char *user, unsigned *ret_uid, unsigned *ret_gid,
		    char ***ret_extra, struct hk_error *err)
{
	char spec[256], *group;
	unsigned uid = 0, gid = 0;
	_cleanup_(hk_strv_freep) char **extra = NULL;
	int r;

	snprintf(spec, sizeof(spec), "%s", user);
	if ((group = strchr(spec, ':')))
		*group++ = '\0';
	if (numeric(spec)) {
		/* A uid: its passwd entry's group if it has one, else 0, as docker. */
		uid = (unsigned)strtoul(spec, NULL, 10);
		if (lookup(rootfd, "/etc/passwd", spec, &uid, &gid, NULL, err) < 0)
			hk_error_clear(err);
	} else {
		r = lookup(rootfd, "/etc/passwd", spec, &uid, &gid, NULL, err);
		if (r < 0)
			return r == -ENOENT ? hk_error_setx(err, -ENOENT,
							    "unable to find user %s: no matching "
							    "entries in passwd file",
							    spec)
					    : hk_error_prefix(err, "user %s", spec);
		hk_error_clear(err);
		if (lookup(rootfd, "/etc/group", spec, NULL, NULL, &extra, err) < 0)
			hk_error_clear(err);
	}
	if (group && numeric(group)) {
		gid = (unsigned)strtoul(group, NULL, 10);
	} else if (group) {
		r = lookup(rootfd, "/etc/group", group, &gid, NULL, NULL, err);
		if (r < 0)
			return r == -ENOENT ? hk_error_setx(err, -ENOENT,
							    "unable to find group %s: no matching "
							    "entries in group file",
							    group)
					    : hk_error_prefix(err, "group %s", group);
	}
	*ret_uid = uid;
	*ret_gid = gid;
	if (ret_extra) {
		*ret_extra = extra;
		extra = NULL;
	}
	return 0;
}

/* --user or the image's User. */
static int set_user(const struct hk_bundle_opts *o, int rootfd, struct hk_json *p,
		    struct hk_error *err)
{
	const char *image_user = image_string(o, "User");
	const char *spec = o->user ? o->user : image_user ? image_user : "";
	_cleanup_(hk_strv_freep) char **extra = NULL;
	struct hk_json *user;
	unsigned uid, gid;
	int r;

	if (!*spec)
		return 0;
	if ((r = hk_resolve_user(rootfd, spec, &uid, &gid, &extra, err)) < 0)
		return r;
	user = hk_json_child(p, "user", HK_JSON_OBJECT);
	hk_json_set(user, "uid", hk_json_new_int(uid));
	hk_json_set(user, "gid", hk_json_new_int(gid));
	if (extra && extra[0]) {
		struct hk_json *a = hk_json_set(user, "additionalGids", hk_json_new(HK_JSON_ARRAY));
		for (char **g = extra; *g; g++)
			hk_json_push(a, hk_json_new_int(strtoll(*g, NULL, 10)));
	}
	return 0;
}

static bool in_strv(char **v, const char *cap)
{
	for (; v && *v; v++) {
		const char *c = strncasecmp(*v, "CAP_", 4) == 0 ? *v + 4 : *v;
		if (strcasecmp(c, "ALL") == 0 || strcasecmp(c, cap + 4) == 0)
			return true;
	}
	return false;
}

static int set_caps(const struct hk_bundle_opts *o, struct hk_json *p, bool root,
		    struct hk_error *err)
{
	static const char *const sets[] = {"bounding", "effective", "permitted"};
	struct hk_json *caps = hk_json_set(p, "capabilities", hk_json_new(HK_JSON_OBJECT));
	struct hk_json *set = hk_json_new(HK_JSON_ARRAY);

	for (char **c = o->cap_add; c && *c; c++) {
		char name[64];
		snprintf(name, sizeof(name), "%s%s", strncasecmp(*c, "CAP_", 4) ? "CAP_" : "", *c);
		for (char *q = name; *q; q++)
			*q = (char)toupper((unsigned char)*q);
		if (strcmp(name, "CAP_ALL") != 0 && hk_cap_from_name(name) < 0) {
			hk_json_free(set);
			return hk_error_setx(err, -EINVAL, "--cap-add %s: unknown capability", *c);
		}
	}
	for (unsigned n = 0; n < hk_cap_count; n++) {
		const char *name = hk_cap_names[n];
		bool on = o->privileged || in_strv(o->cap_add, name);

		/* "all" is all that we have: one outside our bounding set cannot be given. */
		if (prctl(PR_CAPBSET_READ, hk_cap_from_name(name), 0, 0, 0) != 1)
			continue;
		for (size_t i = 0; !on && default_caps[i]; i++)
			on = strcmp(default_caps[i], name) == 0;
		if (on && !o->privileged && in_strv(o->cap_drop, name) &&
		    !in_strv(o->cap_add, name))
			on = false;
		if (on)
			hk_json_push(set, hk_json_new_string(name));
	}
	/* A user other than root starts with none in effect, as with docker. */
	for (size_t i = 0; i < ARRAY_SIZE(sets); i++)
		hk_json_set(caps, sets[i],
			    i > 0 && !root ? hk_json_new(HK_JSON_ARRAY) : hk_json_copy(set));
	hk_json_free(set);
	return 0;
}

int hk_parse_size(const char *s, long long *ret)
{
	char *end;
	double v;
	long long mult = 1;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || v < 0)
		return -EINVAL;
	switch (tolower((unsigned char)*end)) {
	case '\0':
	case 'b':
		break;
	case 'k':
		mult = 1LL << 10;
		break;
	case 'm':
		mult = 1LL << 20;
		break;
	case 'g':
		mult = 1LL << 30;
		break;
	default:
		return -EINVAL;
	}
	if (*end && end[1] && !(tolower((unsigned char)end[1]) == 'b' && !end[2]))
		return -EINVAL;
	*ret = (long long)(v * (double)mult);
	return 0;
}

static const struct {
	const char *name, *type;
} ulimit_names[] = {
    {"as", "RLIMIT_AS"},
    {"core", "RLIMIT_CORE"},
    {"cpu", "RLIMIT_CPU"},
    {"data", "RLIMIT_DATA"},
    {"fsize", "RLIMIT_FSIZE"},
    {"locks", "RLIMIT_LOCKS"},
    {"memlock", "RLIMIT_MEMLOCK"},
    {"msgqueue", "RLIMIT_MSGQUEUE"},
    {"nice", "RLIMIT_NICE"},
    {"nofile", "RLIMIT_NOFILE"},
    {"nproc", "RLIMIT_NPROC"},
    {"rss", "RLIMIT_RSS"},
    {"rtprio", "RLIMIT_RTPRIO"},
    {"rttime", "RLIMIT_RTTIME"},
    {"sigpending", "RLIMIT_SIGPENDING"},
    {"stack", "RLIMIT_STACK"},
};

static int set_ulimits(const struct hk_bundle_opts *o, struct hk_json *p, struct hk_error *err)
{
	struct hk_json *rl = hk_json_child(p, "rlimits", HK_JSON_ARRAY);

	for (char **u = o->ulimits; u && *u; u++) {
		char name[32];
		long long soft, hard;
		const char *eq = strchr(*u, '='), *type = NULL;
		char *colon;

		if (!eq || (size_t)(eq - *u) >= sizeof(name))
			goto bad;
		snprintf(name, sizeof(name), "%.*s", (int)(eq - *u), *u);
		for (size_t i = 0; i < ARRAY_SIZE(ulimit_names); i++)
			if (strcmp(ulimit_names[i].name, name) == 0)
				type = ulimit_names[i].type;
		if (!type)
			goto bad;
		soft = strtoll(eq + 1, &colon, 10);
		hard = *colon == ':' ? strtoll(colon + 1, NULL, 10) : soft;
		if (soft < 0 || hard < soft)
			goto bad;
		for (size_t i = 0; i < rl->n; i++)
			if (strcmp(hk_json_get(rl->items[i], "type")->text, type) == 0)
				hk_json_remove(rl, i--);
		struct hk_json *r = hk_json_push(rl, hk_json_new(HK_JSON_OBJECT));
		hk_json_set(r, "type", hk_json_new_string(type));
		hk_json_set(r, "soft", hk_json_new_int(soft));
		hk_json_set(r, "hard", hk_json_new_int(hard));
		continue;
	bad:
		return hk_error_setx(err, -EINVAL,
				     "--ulimit \"%s\": expected NAME=SOFT[:HARD], NAME "
				     "one of nofile, nproc, core, stack, ...",
				     *u);
	}
	return 0;
}

static void set_resources(const struct hk_bundle_opts *o, struct hk_json *lx)
{
	struct hk_json *res = hk_json_child(lx, "resources", HK_JSON_OBJECT);

	if (o->memory > 0) {
		struct hk_json *m = hk_json_child(res, "memory", HK_JSON_OBJECT);
		hk_json_set(m, "limit", hk_json_new_int(o->memory));
		if (o->memory_swap)
			hk_json_set(m, "swap", hk_json_new_int(o->memory_swap));
	}
	if (o->cpus > 0) {
		struct hk_json *c = hk_json_child(res, "cpu", HK_JSON_OBJECT);
		hk_json_set(c, "period", hk_json_new_int(100000));
		hk_json_set(c, "quota", hk_json_new_int((long long)(o->cpus * 100000)));
	}
	if (o->pids_limit)
		hk_json_set(hk_json_child(res, "pids", HK_JSON_OBJECT), "limit",
			    hk_json_new_int(o->pids_limit));
}

/* Take the namespace of type kind out of linux.namespaces (--network host). */
static void drop_namespace(struct hk_json *lx, const char *kind)
{
	struct hk_json *ns = hk_json_get(lx, "namespaces");

	for (size_t i = 0; ns && i < ns->n; i++) {
		const struct hk_json *t = hk_json_get(ns->items[i], "type");
		if (t && strcmp(t->text, kind) == 0)
			hk_json_remove(ns, i--);
	}
}

static void drop_key(struct hk_json *v, const char *key)
{
	for (size_t i = 0; v && i < v->n; i++)
		if (strcmp(v->keys[i], key) == 0)
			hk_json_remove(v, i--);
}

/*
 * --device HOST[:CTR][:PERMS]: the host's device node made in the container
 * (linux.devices) and let through the device cgroup (its allow rule).
 */
static int set_devices(const struct hk_bundle_opts *o, struct hk_json *lx, struct hk_error *err)
{
	for (char **d = o->devices; d && *d; d++) {
		_cleanup_free_ char *spec = hk_xstrdup(*d);
		char *host = spec, *ctr = NULL, *perms = "rwm", *colon;
		struct hk_json *dev, *rule;
		struct stat st;

		if ((colon = strchr(host, ':'))) {
			*colon = '\0';
			ctr = colon + 1;
			if ((colon = strchr(ctr, ':'))) {
				*colon = '\0';
				perms = colon + 1;
			} else if (ctr[0] != '/') { /* HOST:PERMS */
				perms = ctr;
				ctr = NULL;
			}
		}
		if (!ctr || !*ctr)
			ctr = host;
		if (host[0] != '/' || ctr[0] != '/' || !*perms ||
		    strspn(perms, "rwm") != strlen(perms))
			return hk_error_setx(err, -EINVAL,
					     "--device \"%s\": HOST[:CONTAINER][:PERMS], absolute "
					     "paths, PERMS of r, w and m",
					     *d);
		if (stat(host, &st) < 0)
			return hk_error_set(err, -errno, "--device \"%s\"", host);
		if (!S_ISCHR(st.st_mode) && !S_ISBLK(st.st_mode))
			return hk_error_setx(err, -EINVAL, "--device \"%s\": not a device node",
					     host);
		dev = hk_json_push(hk_json_child(lx, "devices", HK_JSON_ARRAY),
				   hk_json_new(HK_JSON_OBJECT));
		hk_json_set(dev, "path", hk_json_new_string(ctr));
		hk_json_set(dev, "type", hk_json_new_string(S_ISCHR(st.st_mode) ? "c" : "b"));
		hk_json_set(dev, "major", hk_json_new_int(major(st.st_rdev)));
		hk_json_set(dev, "minor", hk_json_new_int(minor(st.st_rdev)));
		hk_json_set(dev, "fileMode", hk_json_new_int(st.st_mode & 0777));
		hk_json_set(dev, "uid", hk_json_new_int(0));
		hk_json_set(dev, "gid", hk_json_new_int(0));
		rule = hk_json_push(hk_json_child(hk_json_child(lx, "resources", HK_JSON_OBJECT),
						  "devices", HK_JSON_ARRAY),
				    hk_json_new(HK_JSON_OBJECT));
		hk_json_set(rule, "allow", hk_json_new_bool(true));
		hk_json_set(rule, "type", hk_json_new_string(S_ISCHR(st.st_mode) ? "c" : "b"));
		hk_json_set(rule, "major", hk_json_new_int(major(st.st_rdev)));
		hk_json_set(rule, "minor", hk_json_new_int(minor(st.st_rdev)));
		hk_json_set(rule, "access", hk_json_new_string(perms));
	}
	return 0;
}

int hk_bundle_config(const struct hk_bundle_opts *o, int rootfd, struct hk_json **ret,
		     struct hk_error *err)
{
	_cleanup_(hk_json_freep) struct hk_json *c = hk_spec_default_tree(false, 0, 0);
	struct hk_json *p = hk_json_get(c, "process"), *lx = hk_json_get(c, "linux");
	const char *wd = image_string(o, "WorkingDir");
	const char *hostname = o->hostname ? o->hostname : "hako";
	int r;

	/* 1.0.2: what every runtime in the field takes (crun 1.8 refuses later ones). */
	hk_json_set(c, "ociVersion", hk_json_new_string("1.0.2"));
	hk_json_set(p, "terminal", hk_json_new_bool(o->tty));
	hk_json_set(c, "hostname", hk_json_new_string(hostname));
	hk_json_set(hk_json_get(c, "root"), "readonly", hk_json_new_bool(o->read_only));
	hk_json_set(p, "noNewPrivileges", hk_json_new_bool(o->no_new_privileges));
	hk_json_set(p, "cwd",
		    hk_json_new_string(o->workdir && *o->workdir ? o->workdir
				       : wd && *wd		 ? wd
								 : "/"));
	if ((r = set_args(o, p, err)) < 0)
		return r;
	set_env(o, p, hostname);
	if ((r = set_user(o, rootfd, p, err)) < 0 ||
	    (r = set_caps(o, p, hk_json_get(hk_json_get(p, "user"), "uid")->text[0] == '0', err)) <
		0 ||
	    (r = set_ulimits(o, p, err)) < 0)
		return r;
	set_resources(o, lx);
	if ((r = set_devices(o, lx, err)) < 0)
		return r;
	if (o->network && strcmp(o->network, "host") == 0)
		drop_namespace(lx, "network");
	if (o->privileged) {
		drop_key(lx, "maskedPaths");
		drop_key(lx, "readonlyPaths");
	}
	if (!o->privileged && !(o->seccomp && strcmp(o->seccomp, "unconfined") == 0)) {
		struct hk_json *profile = NULL;
		if ((r = hk_seccomp_profile(o->seccomp, &profile, err)) < 0)
			return r;
		hk_json_set(lx, "seccomp", profile);
	}
	*ret = TAKE_PTR(c);
	return 0;
}
