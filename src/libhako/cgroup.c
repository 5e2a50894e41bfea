/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cgroup-internal.h"
#include "cgroup.h"
#include "log.h"
#include "sync.h"
#include "util.h"

void hk_cgroup_mounts_free(struct hk_cgroup_mount *m, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(m[i].mountpoint);
		free(m[i].controllers);
		free(m[i].root);
		free(m[i].path);
		free(m[i].v2_controllers);
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
		m[n].v2_controllers = NULL;
		m[n].device_program = false;
		if (!m[n].controllers) {
			/* What the unified hierarchy offers (all of it, or on a hybrid
			 * host what v1 left over, often just hugetlb). */
			char file[PATH_MAX + 32];
			struct hk_error ignored;
			snprintf(file, sizeof(file), "%s/cgroup.controllers", mnt);
			if (hk_read_file_at(AT_FDCWD, file, 4096, &m[n].v2_controllers, NULL,
					    &ignored) < 0)
				m[n].v2_controllers = hk_xstrdup("");
		}
		n++;
	}
	/* Without a v1 devices hierarchy, device rules go to cgroup2 as eBPF. */
	{
		bool v1_devices = false;
		for (size_t k = 0; k < n; k++)
			v1_devices |= m[k].controllers && hk_cgroup_has(&m[k], "devices");
		for (size_t k = 0; k < n; k++)
			m[k].device_program = !m[k].controllers && !v1_devices;
	}
	*ret = m;
	*ret_n = n;
	return 0;
}

/*
 * The devices every container may use, whatever the config says (as runc
 * allows them): mknod of anything, and the nodes created in /dev.
 */
const struct hk_device_rule hk_cgroup_default_devices[] = {
    {true, 'c', -1, -1, "m"}, {true, 'b', -1, -1, "m"},	   {true, 'c', 1, 3, "rwm"},
    {true, 'c', 1, 5, "rwm"}, {true, 'c', 1, 7, "rwm"},	   {true, 'c', 1, 8, "rwm"},
    {true, 'c', 1, 9, "rwm"}, {true, 'c', 5, 0, "rwm"},	   {true, 'c', 5, 1, "rwm"},
    {true, 'c', 5, 2, "rwm"}, {true, 'c', 136, -1, "rwm"},
};

const size_t hk_cgroup_n_default_devices = ARRAY_SIZE(hk_cgroup_default_devices);

bool hk_cgroup_has(const struct hk_cgroup_mount *m, const char *name)
{
	size_t len = strlen(name);
	const char *list = m->controllers ? m->controllers : m->v2_controllers;
	char sep = m->controllers ? ',' : ' ';

	for (const char *p = list; p && *p;) {
		if (strncmp(p, name, len) == 0 &&
		    (p[len] == sep || p[len] == '\0' || p[len] == '\n'))
			return true;
		p = strchr(p, sep);
		p = p ? p + 1 : NULL;
	}
	return false;
}

static const struct hk_cgroup_ops *ops(const struct hk_cgroup_mount *m)
{
	return m->controllers ? &hk_cgroup_v1_ops : &hk_cgroup_v2_ops;
}

int hk_cgroup_write(const struct hk_cgroup_mount *m, const char *file, const char *what,
		    struct hk_error *err, const char *fmt, ...)
{
	char path[PATH_MAX + 64], value[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(value, sizeof(value), fmt, ap);
	va_end(ap);
	snprintf(path, sizeof(path), "%s/%s", m->path, file);
	if (hk_write_file(path, value, strlen(value), err) < 0) {
		if (err->code == -ENOENT)
			return hk_error_setx(err, -ENOENT,
					     "%s: %s has no %s (kernel or controller "
					     "without this knob)",
					     what, ops(m)->name, file);
		return hk_error_prefix(err, "%s", what);
	}
	hk_debug("write(\"%s\", \"%s\") ok", path, value);
	return 0;
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

/*
 * A new v1 cpuset cgroup is empty: copy cpus and mems from its parent. Also
 * done for a cgroup that exists, since a shared parent may have been made a
 * moment ago by another container that has not filled it in yet.
 */
static int cpuset_ensure(const char *dir, struct hk_error *err)
{
	static const char *const files[] = {"cpuset.cpus", "cpuset.mems"};
	char parent[PATH_MAX], path[PATH_MAX + 32];

	snprintf(parent, sizeof(parent), "%s", dir);
	*strrchr(parent, '/') = '\0';
	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		_cleanup_free_ char *value = NULL;
		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		if (hk_read_file_at(AT_FDCWD, path, 65536, &value, NULL, err) < 0)
			return err->code;
		if (strspn(value, " \n") != strlen(value))
			continue;
		free(value);
		value = NULL;
		snprintf(path, sizeof(path), "%s/%s", parent, files[i]);
		if (hk_read_file_at(AT_FDCWD, path, 65536, &value, NULL, err) < 0)
			return err->code;
		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		if (hk_write_file(path, value, strlen(value), err) < 0)
			return err->code;
		hk_debug("write(\"%s\", \"%.*s\") ok", path, (int)strcspn(value, "\n"), value);
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
	int vanished = 0, r;

	if (snprintf(path, sizeof(path), "%s/%s", base, rel) >= (int)sizeof(path))
		return hk_error_setx(err, -ENAMETOOLONG, "cgroup path \"%s\" is too long", rel);
	for (char *p = path + blen + 1;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char saved = *p;
		bool made;
		*p = '\0';
		made = mkdir(path, 0755) == 0;
		if (!made && errno != EEXIST && errno != ENOENT)
			return hk_error_set(err, -errno, "create cgroup \"%s\"", path);
		if (made)
			hk_debug("mkdir(\"%s\") ok", path);
		if (made || (shared_parents && saved && errno == EEXIST)) {
			*dirs = hk_xrealloc(*dirs, (*n + 2) * sizeof(char *));
			(*dirs)[(*n)++] = hk_xstrdup(path);
			(*dirs)[*n] = NULL;
		}
		r = made || errno == EEXIST ? 0 : -ENOENT;
		if (r == 0 && cpuset)
			r = cpuset_ensure(path, err);
		/* A cgroup being removed answers ENODEV, a removed one ENOENT. */
		if ((r == -ENOENT || r == -ENODEV) && vanished++ < 5) {
			/* Another container's delete removed the shared parent: again. */
			*p = saved;
			p = path + blen;
			continue;
		}
		if (r < 0)
			return r == -ENOENT || r == -ENODEV
				   ? hk_error_set(err, r, "create cgroup \"%s\"", path)
				   : r;
		*p = saved;
		if (!saved)
			break;
	}
	return 0;
}

const char *hk_cgroup_default_parent(void)
{
	const char *p = getenv("HAKO_CGROUP_PARENT");

	/* One directory name below each hierarchy's root, or hako's own. */
	if (!p || !*p || strchr(p, '/') || !strcmp(p, ".") || !strcmp(p, "..") || strlen(p) > 64)
		return "hako";
	return p;
}

/*
 * The container's cgroup on hierarchy m. OCI: an absolute cgroupsPath is
 * taken from the hierarchy's root; a relative one, like runc, below the
 * runtime's own cgroup; none gives hako/<id> (HAKO_CGROUP_PARENT/<id>).
 */
static int container_path(const struct hk_cgroup_mount *m, const char *path, const char *id,
			  char **ret, struct hk_error *err)
{
	_cleanup_free_ char *own = NULL;
	char rel[PATH_MAX];
	int n;

	if (!path || !*path)
		n = snprintf(rel, sizeof(rel), "%s/%s", hk_cgroup_default_parent(), id);
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

/* Move pid (as text) into the cgroup at path. */
static int join(const char *path, const char *pidstr, struct hk_error *err)
{
	char procs[PATH_MAX + 16];

	snprintf(procs, sizeof(procs), "%s/cgroup.procs", path);
	if (hk_write_file(procs, pidstr, strlen(pidstr), err) < 0)
		return hk_error_prefix(err, "join cgroup");
	hk_debug("write(\"%s\", \"%s\") ok", procs, pidstr);
	return 0;
}

/* Create the container's cgroup on hierarchy m, set its limits, move pid in. */
static int make_one(const struct hk_cgroup_mount *m, const struct hk_spec *spec, bool default_path,
		    char ***dirs, size_t *n_dirs, struct hk_error *err)
{
	/* Only a v1 cpuset starts empty; v2's cpuset.cpus is inherited. */
	if (mkdir_tracked(m->mountpoint, m->path + strlen(m->mountpoint) + 1,
			  m->controllers && hk_cgroup_has(m, "cpuset"), default_path, dirs, n_dirs,
			  err) < 0)
		return err->code;
	/* Limits before the process: nothing it does escapes them. */
	return ops(m)->apply(m, spec, &spec->resources, err);
}

int hk_cgroup_write_pids(const struct hk_cgroup_mount *m, const struct hk_resources *r,
			 struct hk_error *err)
{
	if (r->pids_limit.v > 0)
		return hk_cgroup_write(m, "pids.max", "linux.resources.pids.limit", err, "%" PRId64,
				       r->pids_limit.v);
	return hk_cgroup_write(m, "pids.max", "linux.resources.pids.limit", err, "max");
}

/*
 * The file through which a process moves itself into the cgroup at path:
 * on cgroup v1 `tasks`, where writing "0" moves the writing thread alone and
 * the kernel skips the global lock that a move through cgroup.procs takes
 * (whose first writer waits for an RCU grace period, 5 to 20 ms on an idle
 * machine); the init is single-threaded, so its one thread is the process.
 * cgroup v2 has no `tasks`: there, cgroup.procs.
 */
static int open_join_file(const char *path, char file[static PATH_MAX + 16], int *ret,
			  struct hk_error *err)
{
	int fd;

	snprintf(file, PATH_MAX + 16, "%s/tasks", path);
	fd = open(file, O_WRONLY | O_NOCTTY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT) {
		snprintf(file, PATH_MAX + 16, "%s/cgroup.procs", path);
		fd = open(file, O_WRONLY | O_NOCTTY | O_CLOEXEC);
	}
	if (fd < 0)
		return hk_error_set(err, -errno, "join cgroup: open \"%s\"", file);
	hk_debug("open(\"%s\") ok: for the init to write \"0\" into", file);
	*ret = fd;
	return 0;
}

int hk_cgroup_send_join_fds(int sock, char *const *paths, bool optional, struct hk_error *err)
{
	size_t n = 0;

	for (size_t i = 0; paths && paths[i]; i++) {
		struct hk_error name = {0};
		char file[PATH_MAX + 16];
		int fd = -1, r;

		if (open_join_file(paths[i], file, &fd, err) < 0) {
			if (optional && (err->code == -EACCES || err->code == -EPERM)) {
				hk_debug("rootless: %s", err->msg);
				continue;
			}
			return err->code;
		}
		if (++n > HK_CGROUP_JOIN_MAX) {
			close(fd);
			return hk_error_setx(err, -E2BIG, "join cgroup: more than %d hierarchies",
					     HK_CGROUP_JOIN_MAX);
		}
		/* The path rides along, for the init's error messages. */
		snprintf(name.msg, sizeof(name.msg), "%.*s", (int)sizeof(name.msg) - 1, file);
		r = hk_sync_send(sock, HK_SYNC_CGROUP, &name, fd);
		close(fd);
		if (r < 0)
			return hk_error_set(err, r, "join cgroup: pass \"%s\" to the init", file);
	}
	return 0;
}

int hk_cgroup_join(char *const *paths, pid_t pid, struct hk_error *err)
{
	char pidstr[16];

	snprintf(pidstr, sizeof(pidstr), "%d", (int)pid);
	for (size_t i = 0; paths && paths[i]; i++)
		if (join(paths[i], pidstr, err) < 0)
			return err->code;
	return 0;
}

/* The host's shape, for errors: "cgroup v1", "cgroup v2" or "hybrid". */
static const char *host_shape(const struct hk_cgroup_mount *m, size_t n)
{
	bool v1 = false, v2 = false;

	for (size_t i = 0; i < n; i++) {
		if (!m[i].controllers)
			v2 = true;
		else if (strncmp(m[i].controllers, "name=", 5) != 0)
			v1 = true;
	}
	return v1 && v2 ? "a hybrid host (cgroup v1 controllers and a cgroup v2 mount)"
	       : v2	? "a cgroup v2 host"
			: "a cgroup v1 host";
}

/*
 * Every limit the config sets needs a hierarchy with its controller: say
 * which, and what this host is, rather than drop the limit.
 */
static int check_controllers(const struct hk_cgroup_mount *m, size_t n,
			     const struct hk_resources *r, size_t n_device_rules,
			     struct hk_error *err)
{
	bool io = r->blkio_weight.set || r->blkio_leaf_weight.set || r->n_blkio_weight_devices;
	const struct {
		bool wanted;
		const char *what, *v1, *v2; /* the controller's names (NULL: none) */
	} needs[] = {
	    {r->mem_limit.set || r->mem_reservation.set || r->mem_swap.set || r->mem_kernel.set ||
		 r->mem_kernel_tcp.set || r->mem_swappiness.set || r->mem_disable_oom_killer.set ||
		 r->mem_use_hierarchy.set,
	     "linux.resources.memory", "memory", "memory"},
	    {r->cpu_shares.set || r->cpu_quota.set || r->cpu_period.set || r->cpu_burst.set ||
		 r->cpu_rt_runtime.set || r->cpu_rt_period.set || r->cpu_idle.set,
	     "linux.resources.cpu", "cpu", "cpu"},
	    {r->cpus || r->mems, "linux.resources.cpu.cpus/mems", "cpuset", "cpuset"},
	    {r->pids_limit.set, "linux.resources.pids", "pids", "pids"},
	    {io, "linux.resources.blockIO", "blkio", "io"},
	    {r->n_hugepages > 0, "linux.resources.hugepageLimits", "hugetlb", "hugetlb"},
	    {r->net_class_id.set, "linux.resources.network.classID", "net_cls", NULL},
	    {r->n_net_prios > 0, "linux.resources.network.priorities", "net_prio", NULL},
	    {n_device_rules > 0, "linux.resources.devices", "devices", NULL},
	};
	bool have_v2 = false;

	for (int t = 0; t < HK_THROTTLE_COUNT; t++)
		io |= r->n_throttle[t] > 0;
	for (size_t k = 0; k < ARRAY_SIZE(needs); k++) {
		bool found = false;
		if (!needs[k].wanted)
			continue;
		for (size_t i = 0; i < n && !found; i++)
			found = m[i].controllers ? hk_cgroup_has(&m[i], needs[k].v1)
				: needs[k].v2
				    ? hk_cgroup_has(&m[i], needs[k].v2)
				    : !strcmp(needs[k].v1, "devices") && m[i].device_program;
		if (found)
			continue;
		if (!needs[k].v2)
			return hk_error_setx(err, -EOPNOTSUPP,
					     "%s: needs the cgroup v1 %s controller, which %s does "
					     "not have%s",
					     needs[k].what, needs[k].v1, host_shape(m, n),
					     " (cgroup v2 has no such controller)");
		return hk_error_setx(err, -EOPNOTSUPP, "%s: %s has no %s controller mounted",
				     needs[k].what, host_shape(m, n), needs[k].v1);
	}
	for (size_t i = 0; i < n; i++)
		have_v2 |= !m[i].controllers;
	if (r->unified && r->unified[0] && !have_v2)
		return hk_error_setx(err, -EOPNOTSUPP,
				     "linux.resources.unified: needs cgroup v2, and %s has none",
				     host_shape(m, n));
	return 0;
}

int hk_cgroup_make(const struct hk_cgroup_mount *mounts, size_t n_mounts,
		   const struct hk_spec *spec, bool rootless, char ***ret_dirs, char ***ret_paths,
		   struct hk_error *err)
{
	size_t n_dirs = 0, n_paths = 0;
	char **dirs = calloc(1, sizeof(char *)), **paths = calloc(n_mounts + 1, sizeof(char *));
	bool default_path = !spec->cgroups_path || !*spec->cgroups_path;
	int r = check_controllers(mounts, n_mounts, &spec->resources, spec->n_device_rules, err);

	for (size_t i = 0; i < n_mounts && r >= 0; i++) {
		size_t before = n_dirs;
		r = make_one(&mounts[i], spec, default_path, &dirs, &n_dirs, err);
		/* Rootless: a cgroup we may not write is no error, unless the config
		 * asked for a limit (or device rules). Forget the shared parents it
		 * found there: they are not ours to remove. */
		if ((r == -EACCES || r == -EPERM || r == -EROFS) && rootless &&
		    !spec->resources.any && !spec->n_device_rules) {
			hk_debug("rootless: no cgroup on %s: %s", mounts[i].mountpoint, err->msg);
			while (n_dirs > before) {
				free(dirs[--n_dirs]);
				dirs[n_dirs] = NULL;
			}
			r = 0;
			continue;
		}
		if (r >= 0)
			paths[n_paths++] = hk_xstrdup(mounts[i].path);
	}
	/* Also on failure: the caller removes them, once the process that may
	 * have joined some is gone. */
	*ret_dirs = dirs;
	*ret_paths = paths;
	return r;
}

long long hk_cgroup_oom_kills(const struct hk_cgroup_mount *mounts, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char path[PATH_MAX + 32];
		_cleanup_free_ char *text = NULL;
		struct hk_error ignored;
		const char *kills;

		if (!hk_cgroup_has(&mounts[i], "memory"))
			continue;
		/* v1 counts in memory.oom_control, v2 in memory.events. */
		snprintf(path, sizeof(path), "%s/%s", mounts[i].path,
			 mounts[i].controllers ? "memory.oom_control" : "memory.events");
		if (hk_read_file_at(AT_FDCWD, path, 4096, &text, NULL, &ignored) < 0)
			return 0;
		kills = strstr(text, "oom_kill ");
		return kills ? atoll(kills + 9) : 0;
	}
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
			/* A shared parent is removed by whoever leaves it empty. */
			if (errno == ENOENT || parent)
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

int hk_cgroup_attach(char *const *paths, struct hk_cgroup_mount **ret, size_t *ret_n,
		     struct hk_error *err)
{
	struct hk_cgroup_mount *m = NULL;
	size_t n = 0, k = 0;

	if (hk_cgroup_mounts(&m, &n, err) < 0)
		return err->code;
	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(m[i].mountpoint);
		for (size_t j = 0; paths && paths[j]; j++)
			if (strncmp(paths[j], m[i].mountpoint, len) == 0 && paths[j][len] == '/') {
				m[i].path = hk_xstrdup(paths[j]);
				break;
			}
		if (!m[i].path) {
			free(m[i].mountpoint);
			free(m[i].controllers);
			free(m[i].root);
			free(m[i].v2_controllers);
			continue;
		}
		m[k++] = m[i];
	}
	*ret = m;
	*ret_n = k;
	return 0;
}

/* The hierarchy that freezes: the v1 freezer, else cgroup v2. */
static const struct hk_cgroup_mount *freezer(const struct hk_cgroup_mount *m, size_t n)
{
	const struct hk_cgroup_mount *v2 = NULL;

	for (size_t i = 0; i < n; i++) {
		if (m[i].controllers && hk_cgroup_has(&m[i], "freezer"))
			return &m[i];
		if (!m[i].controllers)
			v2 = &m[i];
	}
	return v2;
}

bool hk_cgroup_frozen(const struct hk_cgroup_mount *m, size_t n)
{
	const struct hk_cgroup_mount *f = freezer(m, n);

	return f && ops(f)->frozen(f);
}

int hk_cgroup_freeze(const struct hk_cgroup_mount *m, size_t n, bool frozen, struct hk_error *err)
{
	const struct hk_cgroup_mount *f = freezer(m, n);

	if (!f)
		return hk_error_setx(err, -EOPNOTSUPP,
				     "%s: the container has no freezer cgroup (v1 freezer or v2)",
				     frozen ? "pause" : "resume");
	if (ops(f)->freeze(f, frozen, err) < 0)
		return err->code;
	/* Freezing takes a moment (v1 says FREEZING, v2 "frozen 0"): wait. */
	for (int tries = 0; ops(f)->frozen(f) != frozen; tries++) {
		if (tries >= 1000) {
			if (frozen)
				ops(f)->freeze(f, false, err);
			return hk_error_setx(err, -ETIMEDOUT, "%s: the cgroup did not %s in 5 s",
					     frozen ? "pause" : "resume",
					     frozen ? "freeze" : "thaw");
		}
		nanosleep(&(struct timespec){0, 5 * 1000 * 1000}, NULL);
	}
	return 0;
}

int hk_cgroup_update(const struct hk_cgroup_mount *m, size_t n, const struct hk_resources *r,
		     struct hk_error *err)
{
	struct hk_spec none = {0};

	if (check_controllers(m, n, r, 0, err) < 0)
		return err->code;
	for (size_t i = 0; i < n; i++)
		if (ops(&m[i])->apply(&m[i], &none, r, err) < 0)
			return err->code;
	return 0;
}

int hk_cgroup_pids(const struct hk_cgroup_mount *m, size_t n, pid_t **ret, size_t *ret_n,
		   struct hk_error *err)
{
	char path[PATH_MAX + 32];
	_cleanup_free_ char *text = NULL;
	pid_t *pids = NULL;
	size_t k = 0;

	if (!n)
		return hk_error_setx(err, -ENOENT, "the container has no cgroup");
	/* Any hierarchy holds every process; prefer one that is not name=systemd. */
	snprintf(path, sizeof(path), "%s/cgroup.procs", m[0].path);
	if (hk_read_file_at(AT_FDCWD, path, 4 << 20, &text, NULL, err) < 0)
		return err->code;
	for (char *save = NULL, *p = strtok_r(text, "\n", &save); p;
	     p = strtok_r(NULL, "\n", &save)) {
		pids = hk_xrealloc(pids, (k + 1) * sizeof(*pids));
		pids[k++] = (pid_t)atoi(p);
	}
	*ret = pids;
	*ret_n = k;
	return 0;
}

char *hk_cgroup_read(const struct hk_cgroup_mount *m, const char *file)
{
	char path[PATH_MAX + 64];
	char *text = NULL;
	struct hk_error ignored;

	snprintf(path, sizeof(path), "%s/%s", m->path, file);
	if (hk_read_file_at(AT_FDCWD, path, 1 << 20, &text, NULL, &ignored) < 0)
		return NULL;
	return text;
}

uint64_t hk_cgroup_read_u64(const struct hk_cgroup_mount *m, const char *file, bool *ok)
{
	_cleanup_free_ char *text = hk_cgroup_read(m, file);

	if (ok)
		*ok = text != NULL;
	if (!text)
		return 0;
	if (strncmp(text, "max", 3) == 0)
		return UINT64_MAX;
	return strtoull(text, NULL, 10);
}

uint64_t hk_cgroup_read_key(const struct hk_cgroup_mount *m, const char *file, const char *key)
{
	_cleanup_free_ char *text = hk_cgroup_read(m, file);
	size_t len = strlen(key);

	for (char *p = text; p && *p;) {
		if (strncmp(p, key, len) == 0 && p[len] == ' ')
			return strtoull(p + len + 1, NULL, 10);
		p = strchr(p, '\n');
		p = p ? p + 1 : NULL;
	}
	return 0;
}

int hk_cgroup_stats(const struct hk_cgroup_mount *m, size_t n, struct hk_cgroup_stats *ret)
{
	*ret = (struct hk_cgroup_stats){0};
	for (size_t i = 0; i < n; i++) {
		ops(&m[i])->stats(&m[i], ret);
		/* pids has the same files in both versions. */
		if (hk_cgroup_has(&m[i], "pids") && !ret->has_pids) {
			ret->pids_current =
			    hk_cgroup_read_u64(&m[i], "pids.current", &ret->has_pids);
			ret->pids_limit = hk_cgroup_read_u64(&m[i], "pids.max", NULL);
		}
	}
	ret->oom_kills = hk_cgroup_oom_kills(m, n);
	return 0;
}

void hk_cgroup_stats_release(struct hk_cgroup_stats *st)
{
	free(st->cpu_percpu);
	free(st->mem_raw);
	*st = (struct hk_cgroup_stats){0};
}

static void add_u64(struct hk_buf *b, const char *key, uint64_t v, bool comma)
{
	hk_buf_addf(b, "\"%s\":%llu%s", key, (unsigned long long)v, comma ? "," : "");
}

/* runc's {"limit", "usage", "max", "failcnt"} object, and a comma. */
static void add_usage(struct hk_buf *b, const char *key, uint64_t limit, uint64_t usage,
		      uint64_t max, uint64_t failcnt)
{
	hk_buf_addf(b, "\"%s\":{", key);
	add_u64(b, "limit", limit, true);
	add_u64(b, "usage", usage, true);
	add_u64(b, "max", max, true);
	add_u64(b, "failcnt", failcnt, false);
	hk_buf_adds(b, "},");
}

void hk_cgroup_stats_json(const struct hk_cgroup_stats *st, struct hk_buf *b)
{
	hk_buf_adds(b, "{");
	if (st->has_cpu) {
		hk_buf_adds(b, "\"cpu\":{\"usage\":{");
		add_u64(b, "total", st->cpu_total, true);
		hk_buf_adds(b, "\"percpu\":[");
		for (size_t i = 0; i < st->n_percpu; i++)
			hk_buf_addf(b, "%s%llu", i ? "," : "",
				    (unsigned long long)st->cpu_percpu[i]);
		hk_buf_adds(b, "],");
		add_u64(b, "kernel", st->cpu_kernel, true);
		add_u64(b, "user", st->cpu_user, false);
		hk_buf_adds(b, "},\"throttling\":{");
		add_u64(b, "periods", st->periods, true);
		add_u64(b, "throttled_periods", st->throttled_periods, true);
		add_u64(b, "throttled_time", st->throttled_time, false);
		hk_buf_adds(b, "}},");
	}
	if (st->has_memory) {
		hk_buf_adds(b, "\"memory\":{");
		add_usage(b, "usage", st->mem_limit, st->mem_usage, st->mem_max, st->mem_failcnt);
		if (st->has_swap)
			add_usage(b, "swap", st->swap_limit, st->swap_usage, st->swap_max, 0);
		hk_buf_adds(b, "\"raw\":{");
		{
			bool first = true;
			for (char *p = st->mem_raw; p && *p;) {
				char *nl = strchr(p, '\n'), *sp = strchr(p, ' ');
				if (sp && (!nl || sp < nl)) {
					hk_buf_addf(b, "%s\"%.*s\":%llu", first ? "" : ",",
						    (int)(sp - p), p, strtoull(sp + 1, NULL, 10));
					first = false;
				}
				p = nl ? nl + 1 : NULL;
			}
		}
		hk_buf_adds(b, "}},");
	}
	if (st->has_pids) {
		hk_buf_adds(b, "\"pids\":{");
		add_u64(b, "current", st->pids_current, true);
		add_u64(b, "limit", st->pids_limit == UINT64_MAX ? 0 : st->pids_limit, false);
		hk_buf_adds(b, "},");
	}
	hk_buf_addf(b, "\"oom_kills\":%lld}", st->oom_kills);
}
