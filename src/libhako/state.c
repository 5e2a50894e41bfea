/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>

#include "json.h"
#include "state.h"
#include "util.h"

const char *hk_status_name(enum hk_status s)
{
	static const char *const names[] = {"creating", "created", "running",
					    "paused",	"stopped", "error"};

	return names[s];
}

int hk_id_validate(const char *id, struct hk_error *err)
{
	size_t n = strlen(id);

	if (n == 0 || n > 1024 || strcmp(id, ".") == 0 || strcmp(id, "..") == 0 ||
	    strspn(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_+-.") != n) {
		/* Quoted with escapes: the id goes into logs, where a raw newline or
		 * terminal escape would forge or hide lines. */
		char shown[256];
		size_t o = 0;

		for (const char *c = id; *c && o + 8 < sizeof(shown); c++) {
			unsigned char u = (unsigned char)*c;
			if (u >= 0x20 && u < 0x7f && u != '"' && u != '\\')
				shown[o++] = (char)u;
			else
				o += (size_t)snprintf(shown + o, sizeof(shown) - o, "\\x%02x", u);
		}
		shown[o] = '\0';
		return hk_error_setx(err, -EINVAL, "invalid container id \"%s%s\"", shown,
				     id[0] && strlen(id) > o ? "..." : "");
	}
	return 0;
}

/* The directory fd is the one at path (same inode), not removed or replaced. */
static bool still_at_path(int fd, const char *path)
{
	struct stat a, b;

	return fstat(fd, &a) == 0 && a.st_nlink > 0 && lstat(path, &b) == 0 &&
	       a.st_dev == b.st_dev && a.st_ino == b.st_ino;
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
	/* We may have waited for the lock while another command removed this
	 * directory, and a new container of the same id may have been made:
	 * the directory we locked must still be the one at the path, or we
	 * would act on, and remove, the new container's. */
	if (!still_at_path(fd, path)) {
		close(fd);
		return hk_error_setx(err, -ENOENT, "container \"%s\" does not exist", id);
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
	add_strv(&b, "net_devices", st->net_devices);
	hk_buf_addf(&b, "\"annotations\":%s}\n", st->annotations ? st->annotations : "{}");
	r = hk_write_atomic_at(dirfd, "state.json", b.buf, b.len, err);
	hk_buf_release(&b);
	if (r < 0 || st->created)
		return r;
	/* While create runs, the pid and the cgroups go into a second, plain
	 * record too: if state.json is later damaged, delete --force still finds
	 * the init and the cgroups to remove (see hk_state_load()). */
	hk_buf_addf(&b, "%d %llu\n", (int)st->pid, st->start_time);
	for (size_t i = 0; st->cgroup_dirs && st->cgroup_dirs[i]; i++)
		hk_buf_addf(&b, "%s\n", st->cgroup_dirs[i]);
	r = hk_write_atomic_at(dirfd, HK_STATE_RECOVERY, b.buf, b.len, err);
	hk_buf_release(&b);
	return r;
}

/* What the recovery record says: the init and the cgroup directories. */
static void load_recovery(int dirfd, struct hk_state *st)
{
	_cleanup_free_ char *text = NULL;
	struct hk_error ignored;
	char *line, *save = NULL;
	size_t n = 0;
	int pid;

	if (hk_read_regular_file_at(dirfd, HK_STATE_RECOVERY, 1 << 20, &text, NULL, &ignored) < 0 ||
	    sscanf(text, "%d %llu", &pid, &st->start_time) != 2)
		return;
	st->pid = pid;
	st->cgroup_dirs = calloc(strlen(text) + 1, sizeof(char *));
	if (!st->cgroup_dirs)
		abort();
	strtok_r(text, "\n", &save);
	while ((line = strtok_r(NULL, "\n", &save)))
		if (line[0] == '/')
			st->cgroup_dirs[n++] = hk_xstrdup(line);
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
	st->id = hk_xstrdup(id);
	r = hk_read_regular_file_at(dirfd, "state.json", 1 << 20, &text, &len, err);
	if (r == -ENOENT)
		return -ENOENT;
	if (r < 0 || hk_json_parse(text, len, &doc, err) < 0 || doc->type != HK_JSON_OBJECT ||
	    !hk_json_get(doc, "pid")) {
		char why[sizeof(err->msg)];

		snprintf(why, sizeof(why), "%s", r < 0 || !doc ? err->msg : "not a state object");
		/* Damaged: what the recovery record knows, for delete --force. */
		st->damaged = true;
		load_recovery(dirfd, st);
		return hk_error_setx(err, -EUCLEAN,
				     "container \"%s\": state.json is corrupt (%s); "
				     "delete --force removes it",
				     id, why);
	}
	v = hk_json_get(doc, "pid");
	st->pid = v && v->type == HK_JSON_NUMBER ? (pid_t)atoi(v->text) : 0;
	v = hk_json_get(doc, "start_time");
	st->start_time = v && v->type == HK_JSON_NUMBER ? strtoull(v->text, NULL, 10) : 0;
	st->bundle = dup_member(doc, "bundle");
	st->rootfs = dup_member(doc, "rootfs");
	/* Saved as "" until the init is ready: a create killed before that left
	 * a container that is still "creating", not "created". */
	st->created = dup_member(doc, "created");
	if (st->created && !*st->created) {
		free(st->created);
		st->created = NULL;
	}
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
	st->net_devices = dup_strv(doc, "net_devices");
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
	hk_strv_free(st->net_devices);
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

/*
 * "created" is a container whose init still waits for start's byte: its
 * exec fifo has a reader (the init's fd, close-on-exec) and holds no byte.
 * Once start has written (the init does not read it), or once the init has
 * executed its process (no reader left: the open fails with ENXIO), it is
 * "running", whether or not start lived to remove the fifo. No moment is
 * "created" for a process that was let go.
 */
static bool waiting_for_start(int dirfd)
{
	_cleanup_close_ int fd =
	    openat(dirfd, HK_EXEC_FIFO, O_WRONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;
	int queued = 0;

	return fd >= 0 && fstat(fd, &st) == 0 && S_ISFIFO(st.st_mode) &&
	       ioctl(fd, FIONREAD, &queued) == 0 && queued == 0;
}

enum hk_status hk_state_status(int dirfd, const struct hk_state *st)
{
	if (st->damaged)
		return HK_STATUS_ERROR;
	if (!st->created)
		return HK_STATUS_CREATING;
	if (!hk_proc_alive(st->pid, st->start_time))
		return HK_STATUS_STOPPED;
	if (waiting_for_start(dirfd))
		return HK_STATUS_CREATED;
	return HK_STATUS_RUNNING;
}

int hk_state_remove(int dirfd, const char *root, const char *id, struct hk_error *err)
{
	char path[PATH_MAX];
	_cleanup_close_ int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d;
	struct dirent *de;

	/* Emptied through the fd we locked, never by a path that may now name
	 * another container's directory. */
	if (fd < 0)
		return hk_error_set(err, -errno, "open the state of \"%s\"", id);
	d = fdopendir(TAKE_FD(fd));
	if (!d)
		return hk_error_set(err, -errno, "open the state of \"%s\"", id);
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..") &&
		    unlinkat(dirfd, de->d_name, 0) < 0 && errno == EISDIR)
			unlinkat(dirfd, de->d_name, AT_REMOVEDIR); /* a damaged state */
	closedir(d);
	/* rmdir takes a path: only while it still names our directory (the lock
	 * we hold keeps any other command from removing or replacing it). */
	snprintf(path, sizeof(path), "%s/%s", root, id);
	if (!still_at_path(dirfd, path))
		return 0;
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
