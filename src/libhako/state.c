/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>

#include "json.h"
#include "state.h"
#include "util.h"

const char *hk_status_name(enum hk_status s)
{
	static const char *const names[] = {"creating", "created", "running", "paused", "stopped"};

	return names[s];
}

int hk_id_validate(const char *id, struct hk_error *err)
{
	size_t n = strlen(id);

	if (n == 0 || n > 1024 || strcmp(id, ".") == 0 || strcmp(id, "..") == 0 ||
	    strspn(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_+-.") != n)
		return hk_error_setx(err, -EINVAL, "invalid container id \"%s\"", id);
	return 0;
}

static int lock_dir(int fd, const char *id, struct hk_error *err)
{
	if (flock(fd, LOCK_EX) < 0)
		return hk_error_set(err, -errno, "lock container \"%s\"", id);
	return 0;
}

int hk_state_create_dir(const char *root, const char *id, int *ret_dirfd, struct hk_error *err)
{
	char path[PATH_MAX];
	int fd;

	if (hk_id_validate(id, err) < 0)
		return err->code;
	if (hk_mkdir_p(root, 0700, err) < 0)
		return hk_error_prefix(err, "state root");
	snprintf(path, sizeof(path), "%s/%s", root, id);
	if (mkdir(path, 0700) < 0) {
		if (errno == EEXIST)
			return hk_error_setx(err, -EEXIST, "container with id exists: %s", id);
		return hk_error_set(err, -errno, "mkdir \"%s\"", path);
	}
	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return hk_error_set(err, -errno, "open \"%s\"", path);
	if (lock_dir(fd, id, err) < 0) {
		close(fd);
		return err->code;
	}
	*ret_dirfd = fd;
	return 0;
}

int hk_state_open_dir(const char *root, const char *id, int *ret_dirfd, struct hk_error *err)
{
	char path[PATH_MAX];
	int fd;

	if (hk_id_validate(id, err) < 0)
		return err->code;
	snprintf(path, sizeof(path), "%s/%s", root, id);
	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return hk_error_setx(err, -ENOENT, "container \"%s\" does not exist", id);
		return hk_error_set(err, -errno, "open \"%s\"", path);
	}
	if (lock_dir(fd, id, err) < 0) {
		close(fd);
		return err->code;
	}
	*ret_dirfd = fd;
	return 0;
}

static void add_member(struct hk_buf *b, const char *key, const char *value)
{
	hk_buf_add_json_string(b, key);
	hk_buf_adds(b, ":");
	hk_buf_add_json_string(b, value ? value : "");
	hk_buf_adds(b, ",");
}

static void add_strv(struct hk_buf *b, const char *key, char *const *v)
{
	hk_buf_addf(b, "\"%s\":[", key);
	for (size_t i = 0; v && v[i]; i++) {
		if (i)
			hk_buf_adds(b, ",");
		hk_buf_add_json_string(b, v[i]);
	}
	hk_buf_adds(b, "],");
}

static char **dup_strv(const struct hk_json *o, const char *key)
{
	const struct hk_json *v = hk_json_get(o, key);
	bool array = v && v->type == HK_JSON_ARRAY;
	char **ret = calloc(array ? v->n + 1 : 1, sizeof(char *));

	for (size_t i = 0, k = 0; array && i < v->n; i++)
		if (v->items[i]->type == HK_JSON_STRING)
			ret[k++] = hk_xstrdup(v->items[i]->text);
	return ret;
}

int hk_state_save(int dirfd, const struct hk_state *st, struct hk_error *err)
{
	struct hk_buf b = HK_BUF_INIT;
	int r;

	hk_buf_adds(&b, "{");
	add_member(&b, "id", st->id);
	hk_buf_addf(&b, "\"pid\":%d,\"start_time\":%llu,", (int)st->pid, st->start_time);
	add_member(&b, "bundle", st->bundle);
	add_member(&b, "rootfs", st->rootfs);
	add_member(&b, "created", st->created);
	hk_buf_addf(&b, "\"later_hooks\":%s,", st->later_hooks ? "true" : "false");
	hk_buf_addf(&b, "\"memory_limit\":%s,", st->memory_limit ? "true" : "false");
	add_strv(&b, "cgroup_dirs", st->cgroup_dirs);
	add_strv(&b, "cgroup_paths", st->cgroup_paths);
	hk_buf_addf(&b, "\"annotations\":%s}\n", st->annotations ? st->annotations : "{}");
	r = hk_write_atomic_at(dirfd, "state.json", b.buf, b.len, err);
	hk_buf_release(&b);
	return r;
}

static char *dup_member(const struct hk_json *o, const char *key)
{
	const struct hk_json *v = hk_json_get(o, key);

	return v && v->type == HK_JSON_STRING ? hk_xstrdup(v->text) : NULL;
}

int hk_state_load(int dirfd, const char *id, struct hk_state *st, struct hk_error *err)
{
	_cleanup_free_ char *text = NULL;
	_cleanup_(hk_json_freep) struct hk_json *doc = NULL;
	const struct hk_json *v;
	size_t len;
	int r;

	memset(st, 0, sizeof(*st));
	r = hk_read_file_at(dirfd, "state.json", 1 << 20, &text, &len, err);
	if (r == -ENOENT) {
		st->id = hk_xstrdup(id);
		return -ENOENT;
	}
	if (r < 0)
		return hk_error_prefix(err, "container \"%s\"", id);
	if (hk_json_parse(text, len, &doc, err) < 0 || doc->type != HK_JSON_OBJECT)
		return hk_error_setx(err, -EINVAL, "container \"%s\": state.json is corrupt", id);
	st->id = hk_xstrdup(id);
	v = hk_json_get(doc, "pid");
	st->pid = v && v->type == HK_JSON_NUMBER ? (pid_t)atoi(v->text) : 0;
	v = hk_json_get(doc, "start_time");
	st->start_time = v && v->type == HK_JSON_NUMBER ? strtoull(v->text, NULL, 10) : 0;
	st->bundle = dup_member(doc, "bundle");
	st->rootfs = dup_member(doc, "rootfs");
	st->created = dup_member(doc, "created");
	v = hk_json_get(doc, "later_hooks");
	st->later_hooks = v && v->type == HK_JSON_BOOL && v->boolean;
	v = hk_json_get(doc, "memory_limit");
	st->memory_limit = v && v->type == HK_JSON_BOOL && v->boolean;
	v = hk_json_get(doc, "annotations");
	if (v) {
		struct hk_buf b = HK_BUF_INIT;
		hk_json_write(&b, v);
		st->annotations = hk_buf_detach(&b);
	}
	st->cgroup_dirs = dup_strv(doc, "cgroup_dirs");
	st->cgroup_paths = dup_strv(doc, "cgroup_paths");
	return 0;
}

void hk_state_release(struct hk_state *st)
{
	free(st->id);
	free(st->bundle);
	free(st->rootfs);
	free(st->created);
	free(st->annotations);
	hk_strv_free(st->cgroup_dirs);
	hk_strv_free(st->cgroup_paths);
	memset(st, 0, sizeof(*st));
}

int hk_proc_start_time(pid_t pid, unsigned long long *ret)
{
	char path[64], buf[1024], *p;
	_cleanup_close_ int fd = -1;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	if (n <= 0)
		return -EIO;
	buf[n] = '\0';
	/* The command name may hold spaces and ')': fields start after the last ')'. */
	p = strrchr(buf, ')');
	if (!p || p[1] != ' ')
		return -EIO;
	p += 2;
	if (*p == 'Z' || *p == 'X')
		return -ESRCH; /* a zombie has stopped */
	/* Field 3 is the state; the start time is field 22. */
	for (int field = 3; field < 22; field++) {
		p = strchr(p, ' ');
		if (!p)
			return -EIO;
		p++;
	}
	*ret = strtoull(p, NULL, 10);
	return 0;
}

bool hk_proc_alive(pid_t pid, unsigned long long start_time)
{
	unsigned long long now;

	if (pid <= 0 || hk_proc_start_time(pid, &now) < 0)
		return false;
	return now == start_time;
}

enum hk_status hk_state_status(int dirfd, const struct hk_state *st)
{
	if (!st->created)
		return HK_STATUS_CREATING;
	if (!hk_proc_alive(st->pid, st->start_time))
		return HK_STATUS_STOPPED;
	/* The init waits on the exec fifo until `start` opens it and removes it. */
	if (faccessat(dirfd, HK_EXEC_FIFO, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
		return HK_STATUS_CREATED;
	return HK_STATUS_RUNNING;
}

int hk_state_remove(const char *root, const char *id, struct hk_error *err)
{
	char path[PATH_MAX];
	_cleanup_close_ int fd = -1;
	DIR *d;
	struct dirent *de;

	snprintf(path, sizeof(path), "%s/%s", root, id);
	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : hk_error_set(err, -errno, "open \"%s\"", path);
	d = fdopendir(TAKE_FD(fd));
	if (!d)
		return hk_error_set(err, -errno, "open \"%s\"", path);
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			unlinkat(dirfd(d), de->d_name, 0);
	closedir(d);
	if (rmdir(path) < 0 && errno != ENOENT)
		return hk_error_set(err, -errno, "remove \"%s\"", path);
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int hk_state_list(const char *root, char ***ret_ids, struct hk_error *err)
{
	DIR *d = opendir(root);
	struct dirent *de;
	char **ids = NULL;
	size_t n = 0;

	if (!d) {
		if (errno != ENOENT)
			return hk_error_set(err, -errno, "open \"%s\"", root);
		*ret_ids = calloc(1, sizeof(char *));
		return 0;
	}
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' || de->d_type != DT_DIR)
			continue;
		ids = hk_xrealloc(ids, (n + 2) * sizeof(char *));
		ids[n++] = hk_xstrdup(de->d_name);
	}
	closedir(d);
	if (!ids)
		ids = hk_xmalloc(sizeof(char *));
	ids[n] = NULL;
	qsort(ids, n, sizeof(char *), cmp_str);
	*ret_ids = ids;
	return 0;
}

char *hk_state_to_json(const struct hk_state *st, enum hk_status status, bool pretty)
{
	struct hk_buf b = HK_BUF_INIT;
	const char *nl = pretty ? "\n  " : "", *sp = pretty ? " " : "";
	bool alive = status == HK_STATUS_CREATED || status == HK_STATUS_RUNNING ||
		     status == HK_STATUS_PAUSED || (status == HK_STATUS_CREATING && st->pid > 0);

	hk_buf_addf(&b, "{%s\"ociVersion\":%s\"1.2.0\",%s\"id\":%s", nl, sp, nl, sp);
	hk_buf_add_json_string(&b, st->id);
	hk_buf_addf(&b, ",%s\"pid\":%s%d,%s\"status\":%s\"%s\",%s\"bundle\":%s", nl, sp,
		    alive ? (int)st->pid : 0, nl, sp, hk_status_name(status), nl, sp);
	hk_buf_add_json_string(&b, st->bundle ? st->bundle : "");
	hk_buf_addf(&b, ",%s\"rootfs\":%s", nl, sp);
	hk_buf_add_json_string(&b, st->rootfs ? st->rootfs : "");
	hk_buf_addf(&b, ",%s\"created\":%s", nl, sp);
	hk_buf_add_json_string(&b, st->created ? st->created : "");
	hk_buf_addf(&b, ",%s\"owner\":%s\"\",%s\"annotations\":%s%s%s}", nl, sp, nl, sp,
		    st->annotations ? st->annotations : "{}", pretty ? "\n" : "");
	return hk_buf_detach(&b);
}
