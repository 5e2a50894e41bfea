/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cgroup.h"
#include "log.h"
#include "util.h"

void hk_cgroup_mounts_free(struct hk_cgroup_mount *m, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(m[i].mountpoint);
		free(m[i].controllers);
		free(m[i].root);
		free(m[i].path);
	}
	free(m);
}

/* Pick the controllers ("cpu,cpuacct" or "name=systemd") out of super options. */
static char *v1_controllers(const char *opts)
{
	struct hk_buf b = HK_BUF_INIT;
	_cleanup_free_ char *copy = hk_xstrdup(opts);

	for (char *save = NULL, *o = strtok_r(copy, ",", &save); o;
	     o = strtok_r(NULL, ",", &save)) {
		if (!strcmp(o, "rw") || !strcmp(o, "ro") || !strncmp(o, "release_agent=", 14) ||
		    !strcmp(o, "clone_children") || !strcmp(o, "noprefix") || !strcmp(o, "xattr") ||
		    !strcmp(o, "nsdelegate") || !strcmp(o, "cpuset_v2_mode"))
			continue;
		if (b.len)
			hk_buf_adds(&b, ",");
		hk_buf_adds(&b, o);
	}
	return hk_buf_detach(&b);
}

int hk_cgroup_mounts(struct hk_cgroup_mount **ret, size_t *ret_n, struct hk_error *err)
{
	_cleanup_free_ char *text = NULL;
	struct hk_cgroup_mount *m = NULL;
	size_t n = 0;

	if (hk_read_file_at(AT_FDCWD, "/proc/self/mountinfo", 4 << 20, &text, NULL, err) < 0)
		return err->code;
	/* Fields: id parent major:minor root mountpoint opts [tags] - fstype source superopts */
	for (char *save = NULL, *line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char root[PATH_MAX], mnt[PATH_MAX], fstype[64], superopts[1024];
		char *dash = strstr(line, " - ");
		if (!dash || sscanf(line, "%*s %*s %*s %4095s %4095s", root, mnt) != 2 ||
		    sscanf(dash + 3, "%63s %*s %1023s", fstype, superopts) != 2)
			continue;
		if (strcmp(fstype, "cgroup") != 0 && strcmp(fstype, "cgroup2") != 0)
			continue;
		m = hk_xrealloc(m, (n + 1) * sizeof(*m));
		m[n].mountpoint = hk_xstrdup(mnt);
		m[n].root = hk_xstrdup(root);
		m[n].controllers = strcmp(fstype, "cgroup") == 0 ? v1_controllers(superopts) : NULL;
		m[n].path = NULL;
		n++;
	}
	*ret = m;
	*ret_n = n;
	return 0;
}

static bool has_controller(const struct hk_cgroup_mount *m, const char *name)
{
	size_t len = strlen(name);

	for (const char *p = m->controllers; p && *p;) {
		if (strncmp(p, name, len) == 0 && (p[len] == ',' || p[len] == '\0'))
			return true;
		p = strchr(p, ',');
		p = p ? p + 1 : NULL;
	}
	return false;
}

static char *own_path(const struct hk_cgroup_mount *m)
{
	_cleanup_free_ char *text = NULL;
	struct hk_error ignored;

	if (hk_read_file_at(AT_FDCWD, "/proc/self/cgroup", 1 << 20, &text, NULL, &ignored) < 0)
		return hk_xstrdup("/");
	for (char *save = NULL, *line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *ctrl = strchr(line, ':'), *path;
		if (!ctrl || !(path = strchr(ctrl + 1, ':')))
			continue;
		*path++ = '\0';
		ctrl++;
		if (m->controllers ? strcmp(ctrl, m->controllers) == 0 : *ctrl == '\0')
			return hk_xstrdup(path);
	}
	return hk_xstrdup("/");
}

/* A new v1 cpuset cgroup is empty: copy cpus and mems from its parent. */
static int cpuset_inherit(const char *dir, struct hk_error *err)
{
	static const char *const files[] = {"cpuset.cpus", "cpuset.mems"};
	char parent[PATH_MAX], path[PATH_MAX + 32];

	snprintf(parent, sizeof(parent), "%s", dir);
	*strrchr(parent, '/') = '\0';
	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		_cleanup_free_ char *value = NULL;
		snprintf(path, sizeof(path), "%s/%s", parent, files[i]);
		if (hk_read_file_at(AT_FDCWD, path, 65536, &value, NULL, err) < 0)
			return err->code;
		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		if (hk_write_file(path, value, strlen(value), err) < 0)
			return err->code;
	}
	return 0;
}

/*
 * mkdir -p that records each directory it created, so delete removes exactly
 * those. With shared_parents it also records the parents that existed (the
 * default "hako/"): removing those is tried, and skipped while they are busy.
 */
static int mkdir_tracked(const char *base, const char *rel, bool cpuset, bool shared_parents,
			 char ***dirs, size_t *n, struct hk_error *err)
{
	char path[PATH_MAX];
	size_t blen = strlen(base);
	int vanished = 0;

	if (snprintf(path, sizeof(path), "%s/%s", base, rel) >= (int)sizeof(path))
		return hk_error_setx(err, -ENAMETOOLONG, "cgroup path \"%s\" is too long", rel);
	for (char *p = path + blen + 1;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char saved = *p;
		bool made;
		*p = '\0';
		made = mkdir(path, 0755) == 0;
		if (!made && errno == ENOENT && vanished++ < 3) {
			/* Another container's delete removed the shared parent: again. */
			*p = saved;
			p = path + blen;
			continue;
		}
		if (!made && errno != EEXIST)
			return hk_error_set(err, -errno, "create cgroup \"%s\"", path);
		if (made)
			hk_debug("mkdir(\"%s\") ok", path);
		if (made || (shared_parents && saved)) {
			*dirs = hk_xrealloc(*dirs, (*n + 2) * sizeof(char *));
			(*dirs)[(*n)++] = hk_xstrdup(path);
			(*dirs)[*n] = NULL;
		}
		if (made && cpuset && cpuset_inherit(path, err) < 0)
			return err->code;
		*p = saved;
		if (!saved)
			break;
	}
	return 0;
}

static void device_rule_str(const struct hk_device_rule *r, char *buf, size_t size)
{
	char major[24] = "*", minor[24] = "*";

	if (r->type == 'a') {
		snprintf(buf, size, "a");
		return;
	}
	if (r->major >= 0)
		snprintf(major, sizeof(major), "%lld", (long long)r->major);
	if (r->minor >= 0)
		snprintf(minor, sizeof(minor), "%lld", (long long)r->minor);
	snprintf(buf, size, "%c %s:%s %s", r->type, major, minor, r->access);
}

/*
 * The devices every container may use, whatever the config says (as runc
 * allows them): mknod of anything, and the nodes created in /dev.
 */
static const struct hk_device_rule default_device_rules[] = {
    {true, 'c', -1, -1, "m"}, {true, 'b', -1, -1, "m"},	   {true, 'c', 1, 3, "rwm"},
    {true, 'c', 1, 5, "rwm"}, {true, 'c', 1, 7, "rwm"},	   {true, 'c', 1, 8, "rwm"},
    {true, 'c', 1, 9, "rwm"}, {true, 'c', 5, 0, "rwm"},	   {true, 'c', 5, 1, "rwm"},
    {true, 'c', 5, 2, "rwm"}, {true, 'c', 136, -1, "rwm"},
};

static int apply_device_rules(const struct hk_spec *spec, const char *dir, struct hk_error *err)
{
	char allow[PATH_MAX * 2 + 32], deny[PATH_MAX * 2 + 32], rule[80];

	if (!spec->n_device_rules)
		return 0;
	snprintf(allow, sizeof(allow), "%s/devices.allow", dir);
	snprintf(deny, sizeof(deny), "%s/devices.deny", dir);
	for (size_t i = 0; i < spec->n_device_rules + ARRAY_SIZE(default_device_rules); i++) {
		const struct hk_device_rule *r =
		    i < spec->n_device_rules ? &spec->device_rules[i]
					     : &default_device_rules[i - spec->n_device_rules];
		device_rule_str(r, rule, sizeof(rule));
		hk_debug("write(\"%s\", \"%s\")", r->allow ? allow : deny, rule);
		if (hk_write_file(r->allow ? allow : deny, rule, strlen(rule), err) < 0)
			return hk_error_prefix(err, "linux.resources.devices");
	}
	return 0;
}

/*
 * The container's cgroup on hierarchy m. OCI: an absolute cgroupsPath is
 * taken from the hierarchy's root; a relative one, like runc, below the
 * runtime's own cgroup; none gives hako/<id>.
 */
static int container_path(const struct hk_cgroup_mount *m, const char *path, const char *id,
			  char **ret, struct hk_error *err)
{
	_cleanup_free_ char *own = NULL;
	char rel[PATH_MAX];
	int n;

	if (!path || !*path)
		n = snprintf(rel, sizeof(rel), "hako/%s", id);
	else if (path[0] == '/')
		n = snprintf(rel, sizeof(rel), "%s", path + 1);
	else {
		own = own_path(m);
		n = snprintf(rel, sizeof(rel), "%s/%s", strcmp(own, "/") ? own + 1 : "", path);
	}
	if (n >= (int)sizeof(rel))
		return hk_error_setx(err, -ENAMETOOLONG, "linux.cgroupsPath is too long");
	/* Strip a trailing slash; the hierarchy root itself is no container's own. */
	for (size_t l = strlen(rel); l && rel[l - 1] == '/';)
		rel[--l] = '\0';
	if (!*rel || strstr(rel, ".."))
		return hk_error_setx(err, -EINVAL, "linux.cgroupsPath \"%s\" is not allowed", path);
	{
		struct hk_buf b = HK_BUF_INIT;
		hk_buf_addf(&b, "%s/%s", m->mountpoint, rel[0] == '/' ? rel + 1 : rel);
		*ret = hk_buf_detach(&b);
	}
	return 0;
}

int hk_cgroup_plan(const struct hk_spec *spec, const char *id, struct hk_cgroup_mount **ret,
		   size_t *ret_n, struct hk_error *err)
{
	struct hk_cgroup_mount *m = NULL;
	size_t n = 0;

	if (hk_cgroup_mounts(&m, &n, err) < 0)
		return err->code;
	for (size_t i = 0; i < n; i++)
		if (container_path(&m[i], spec->cgroups_path, id, &m[i].path, err) < 0) {
			hk_cgroup_mounts_free(m, n);
			return err->code;
		}
	*ret = m;
	*ret_n = n;
	return 0;
}

/* Create and join the container's cgroup on hierarchy m. */
static int enter_one(const struct hk_cgroup_mount *m, const struct hk_spec *spec,
		     const char *pidstr, bool default_path, char ***dirs, size_t *n_dirs,
		     struct hk_error *err)
{
	char procs[PATH_MAX + 16];

	if (mkdir_tracked(m->mountpoint, m->path + strlen(m->mountpoint) + 1,
			  has_controller(m, "cpuset"), default_path, dirs, n_dirs, err) < 0)
		return err->code;
	if (has_controller(m, "devices") && apply_device_rules(spec, m->path, err) < 0)
		return err->code;
	snprintf(procs, sizeof(procs), "%s/cgroup.procs", m->path);
	if (hk_write_file(procs, pidstr, strlen(pidstr), err) < 0)
		return hk_error_prefix(err, "join cgroup");
	hk_debug("write(\"%s\", \"%s\") ok", procs, pidstr);
	return 0;
}

int hk_cgroup_enter(const struct hk_cgroup_mount *mounts, size_t n_mounts,
		    const struct hk_spec *spec, pid_t pid, bool rootless, char ***ret_dirs,
		    struct hk_error *err)
{
	size_t n_dirs = 0;
	char **dirs = calloc(1, sizeof(char *));
	bool have_devices = false, default_path = !spec->cgroups_path || !*spec->cgroups_path;
	char pidstr[32];
	int r = 0;

	snprintf(pidstr, sizeof(pidstr), "%d", (int)pid);
	for (size_t i = 0; i < n_mounts && r >= 0; i++) {
		bool devices = has_controller(&mounts[i], "devices");

		r = enter_one(&mounts[i], spec, pidstr, default_path, &dirs, &n_dirs, err);
		if (r == -EACCES || r == -EPERM || r == -EROFS) {
			/* Rootless: a cgroup we may not write is no error, unless the
			 * config asked for something in it. */
			if (rootless && !(devices && spec->n_device_rules)) {
				hk_debug("rootless: no cgroup on %s: %s", mounts[i].mountpoint,
					 err->msg);
				r = 0;
				continue;
			}
		}
		if (r >= 0 && devices)
			have_devices = true;
	}
	if (r >= 0 && spec->n_device_rules && !have_devices)
		r = hk_error_setx(
		    err, -EOPNOTSUPP,
		    "linux.resources.devices: this host has no cgroup v1 devices "
		    "controller, and cgroup v2 device programs are not supported yet");
	if (r < 0) {
		struct hk_error ignored;
		hk_cgroup_remove(dirs, &ignored);
		hk_strv_free(dirs);
		return r;
	}
	*ret_dirs = dirs;
	return 0;
}

int hk_cgroup_kill_all(char *const *dirs, int sig, struct hk_error *err)
{
	/* The deepest directory of the first hierarchy holds every process. */
	for (size_t i = 0; dirs && dirs[i]; i++) {
		char path[PATH_MAX + 16];
		_cleanup_free_ char *pids = NULL;

		if (dirs[i + 1] && strncmp(dirs[i + 1], dirs[i], strlen(dirs[i])) == 0)
			continue; /* a parent of the next one */
		snprintf(path, sizeof(path), "%s/cgroup.procs", dirs[i]);
		if (hk_read_file_at(AT_FDCWD, path, 4 << 20, &pids, NULL, err) < 0)
			continue;
		for (char *save = NULL, *p = strtok_r(pids, "\n", &save); p;
		     p = strtok_r(NULL, "\n", &save))
			kill((pid_t)atoi(p), sig);
		return 0;
	}
	return 0;
}

int hk_cgroup_remove(char *const *dirs, struct hk_error *err)
{
	size_t n = hk_strv_len(dirs);
	int r = 0;

	for (size_t i = n; i-- > 0;) {
		size_t len = strlen(dirs[i]);
		/* A parent ("hako/") we created may be shared by other containers now. */
		bool parent =
		    i + 1 < n && strncmp(dirs[i + 1], dirs[i], len) == 0 && dirs[i + 1][len] == '/';

		/* rmdir fails with EBUSY until the kernel has freed the last task. */
		for (int tries = 0;; tries++) {
			if (rmdir(dirs[i]) == 0) {
				hk_debug("rmdir(\"%s\") ok", dirs[i]);
				break;
			}
			if (errno == ENOENT || (parent && (errno == EBUSY || errno == ENOTEMPTY)))
				break;
			if (errno != EBUSY || tries >= 200) {
				r = hk_error_set(err, -errno, "remove cgroup \"%s\"", dirs[i]);
				break;
			}
			nanosleep(&(struct timespec){0, 5 * 1000 * 1000}, NULL);
		}
	}
	return r;
}
