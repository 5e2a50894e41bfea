// SPDX-License-Identifier: GPL-2.0-or-later
/* Containers by name (container.h): their records, status and names. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "container.h"
#include "fsutil.h"
#include "log.h"
#include "ports.h"
#include "util.h"

void hk_ctr_free(struct hk_ctr *c)
{
	hk_json_free(c->record);
	free(c->started);
	free(c->finished);
	memset(c, 0, sizeof(*c));
}

void hk_ctr_list_free(struct hk_ctr *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		hk_ctr_free(&v[i]);
	free(v);
}

bool hk_ctr_name_valid(const char *name)
{
	static const char alnum[] =
	    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

	if (!*name || !strchr(alnum, name[0]) || strlen(name) > 128)
		return false;
	for (const char *p = name; *p; p++)
		if (!strchr(alnum, *p) && !strchr("_.-", *p))
			return false;
	return true;
}

/* "adjective_noun", as docker names a container that was given none. */
static void generate_name(char *buf, size_t size)
{
	static const char *const adj[] = {"brave", "calm",  "eager",  "fond",  "gentle", "happy",
					  "jolly", "keen",  "lucid",  "merry", "nimble", "proud",
					  "quiet", "sharp", "tender", "witty"};
	static const char *const noun[] = {"ant",  "bee",  "crane", "dove", "eel",  "fox",
					   "gull", "hare", "ibis",  "jay",  "kiwi", "lynx",
					   "mole", "newt", "owl",   "pike"};
	unsigned char r[3] = {0};

	if (getrandom(r, sizeof(r), 0) != sizeof(r))
		r[0] = (unsigned char)getpid();
	snprintf(buf, size, "%s_%s", adj[r[0] % 16], noun[r[1] % 16]);
}

static int read_json_at(int dirfd, const char *path, struct hk_json **ret, struct hk_error *err)
{
	_cleanup_free_ char *text = NULL;
	size_t len;
	int r;

	if ((r = hk_read_regular_file_at(dirfd, path, 1 << 20, &text, &len, err)) < 0)
		return r;
	return hk_json_parse(text, len, ret, err);
}

/* Fill c (id set) from its dir: the record, then the status. */
static int load_state(int parent, const char *runroot, struct hk_ctr *c, struct hk_error *err)
{
	_cleanup_close_ int dirfd = openat(parent, c->id, O_PATH | O_DIRECTORY | O_CLOEXEC);
	_cleanup_(hk_json_freep) struct hk_json *exit = NULL, *started = NULL;
	int r;

	if (dirfd < 0)
		return hk_error_set(err, -errno, "container %s", c->id);
	if ((r = read_json_at(dirfd, "container.json", &c->record, err)) < 0)
		return hk_error_prefix(err, "container %s", c->id);
	c->name = hk_json_get_string(c->record, "Name");
	if (!c->name)
		return hk_error_setx(err, -EINVAL, "container %s: no name in its record", c->id);
	c->exit_code = -1;
	c->oom_killed = -1;
	if (read_json_at(dirfd, "started.json", &started, err) < 0)
		hk_error_clear(err);
	else if (hk_json_get_string(started, "StartedAt"))
		c->started = hk_xstrdup(hk_json_get_string(started, "StartedAt"));
	if (started && hk_json_get(started, "RestartCount") &&
	    hk_json_get(started, "RestartCount")->type == HK_JSON_NUMBER)
		c->restarts = atoi(hk_json_get(started, "RestartCount")->text);
	c->init = hk_ctr_live_init(runroot, c->id);
	if ((c->watcher = hk_ctr_live_watcher(runroot, c->id)) > 0) {
		/* Its process gone, its watcher not done yet: exited, the code to come. */
		c->status = !c->started	  ? HK_CTR_CREATED
			    : c->init > 0 ? HK_CTR_RUNNING
					  : HK_CTR_EXITED;
		return 0;
	}
	c->status = c->started ? HK_CTR_EXITED : HK_CTR_CREATED;
	if (read_json_at(dirfd, "exit.json", &exit, err) < 0) {
		/* Its watcher died first (killed): is its process still there? */
		hk_error_clear(err);
		if (c->started && c->init > 0)
			c->status = HK_CTR_RUNNING;
		return 0;
	}
	c->init = 0;
	c->status = HK_CTR_EXITED;
	struct hk_json *code = hk_json_get(exit, "ExitCode");
	if (code && code->type == HK_JSON_NUMBER)
		c->exit_code = atoi(code->text);
	if (hk_json_get_string(exit, "FinishedAt"))
		c->finished = hk_xstrdup(hk_json_get_string(exit, "FinishedAt"));
	if (hk_json_get(exit, "OOMKilled") && hk_json_get(exit, "OOMKilled")->type == HK_JSON_BOOL)
		c->oom_killed = hk_json_get(exit, "OOMKilled")->boolean;
	return 0;
}

static int load_one(int parent, const char *runroot, struct hk_ctr *c, struct hk_error *err)
{
	char path[4096];
	int r = load_state(parent, runroot, c, err);

	if (r >= 0 && c->status == HK_CTR_RUNNING) {
		snprintf(path, sizeof(path), "%s/bundles/%s/" HK_CTR_PAUSED, runroot, c->id);
		c->paused = access(path, F_OK) == 0;
	}
	return r;
}

static bool is_id(const char *s)
{
	if (strlen(s) != HK_CTR_ID_LEN)
		return false;
	for (; *s; s++)
		if (!strchr("0123456789abcdef", *s))
			return false;
	return true;
}

static int newest_first(const void *a, const void *b)
{
	const char *x = hk_json_get_string(((const struct hk_ctr *)a)->record, "Created");
	const char *y = hk_json_get_string(((const struct hk_ctr *)b)->record, "Created");

	return strcmp(y ? y : "", x ? x : "");
}

int hk_ctr_list(struct hk_store *s, const char *runroot, struct hk_ctr **ret, size_t *ret_n,
		struct hk_error *err)
{
	_cleanup_close_ int parent =
	    openat(s->dirfd, "containers", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct hk_ctr *v = NULL;
	size_t n = 0;
	struct dirent *de;
	DIR *d;
	int dup_fd;

	*ret = NULL;
	*ret_n = 0;
	if (parent < 0)
		return hk_error_set(err, -errno, "image store: containers");
	if ((dup_fd = dup(parent)) < 0 || !(d = fdopendir(dup_fd))) {
		if (dup_fd >= 0)
			close(dup_fd);
		return hk_error_set(err, -errno, "image store: containers");
	}
	while ((de = readdir(d))) {
		struct hk_ctr c = {0};

		if (!is_id(de->d_name))
			continue;
		memcpy(c.id, de->d_name, HK_CTR_ID_LEN);
		/* A container being made or removed, or of an older hakoctl, is not one yet. */
		if (load_one(parent, runroot, &c, err) < 0) {
			hk_error_clear(err);
			hk_ctr_free(&c);
			continue;
		}
		v = hk_xrealloc(v, (n + 1) * sizeof(*v));
		v[n++] = c;
	}
	closedir(d);
	/* Newest first, as docker lists them (RFC 3339 times in UTC sort as text). */
	if (n > 1)
		qsort(v, n, sizeof(*v), newest_first);
	*ret = v;
	*ret_n = n;
	return 0;
}

int hk_ctr_find(struct hk_store *s, const char *runroot, const char *what, struct hk_ctr *ret,
		struct hk_error *err)
{
	_cleanup_close_ int parent =
	    openat(s->dirfd, "containers", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	char path[300], id[HK_CTR_ID_LEN + 2];
	size_t found = 0, len = strlen(what);
	struct dirent *de;
	ssize_t n;
	DIR *d;
	int dfd;

	memset(ret, 0, sizeof(*ret));
	if (parent < 0)
		return hk_error_set(err, -errno, "image store: containers");
	/* A name first (its entry in the index), then a full id, then a unique id prefix. */
	snprintf(path, sizeof(path), "%s/%s", HK_CTR_NAMES, what);
	if (hk_ctr_name_valid(what) && (n = readlinkat(parent, path, id, sizeof(id) - 1)) > 0) {
		id[n] = '\0';
		found = is_id(id) && faccessat(parent, id, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
	}
	if (!found && len && len <= HK_CTR_ID_LEN && strspn(what, "0123456789abcdef") == len) {
		if ((dfd = dup(parent)) < 0 || !(d = fdopendir(dfd))) {
			if (dfd >= 0)
				close(dfd);
			return hk_error_set(err, -errno, "image store: containers");
		}
		while ((de = readdir(d)))
			if (is_id(de->d_name) && strncmp(de->d_name, what, len) == 0) {
				memcpy(id, de->d_name, HK_CTR_ID_LEN + 1);
				found++;
			}
		closedir(d);
	}
	if (found > 1)
		return hk_error_setx(err, -EINVAL,
				     "\"%s\" is a prefix of %zu container ids: give more", what,
				     found);
	if (!found)
		return hk_error_setx(err, -ENOENT, "no such container: \"%s\"", what);
	memcpy(ret->id, id, HK_CTR_ID_LEN + 1);
	if (load_one(parent, runroot, ret, err) < 0) {
		hk_ctr_free(ret);
		return hk_error_setx(err, -ENOENT, "no such container: \"%s\"", what);
	}
	return 0;
}

/*
 * Under the store's lock: name is container id's, unless a container that
 * is there has it (-EEXIST, err set unless quiet). The index,
 * containers/.names/<name>, is a symlink to the id, claimed by symlinkat(2),
 * which fails on a name that is there; one whose container is gone
 * (removed, or its maker killed) is taken over.
 */
static int claim_name(int names, int parent, const char *name, const char *id, bool quiet,
		      struct hk_error *err)
{
	char owner[HK_CTR_ID_LEN + 2];
	ssize_t n;

	if (symlinkat(id, names, name) == 0)
		return 0;
	if (errno != EEXIST)
		return hk_error_set(err, -errno, "the name \"%s\"", name);
	n = readlinkat(names, name, owner, sizeof(owner) - 1);
	if (n > 0) {
		owner[n] = '\0';
		if (is_id(owner) && faccessat(parent, owner, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
			return quiet
				   ? -EEXIST
				   : hk_error_setx(err, -EEXIST,
						   "the name \"%s\" is in use by container %.12s: "
						   "remove it or give another --name",
						   name, owner);
	}
	/* Its container is gone: the name is free. */
	if (unlinkat(names, name, 0) < 0 && errno != ENOENT)
		return hk_error_set(err, -errno, "the name \"%s\"", name);
	return symlinkat(id, names, name) == 0 ? 0
					       : hk_error_set(err, -errno, "the name \"%s\"", name);
}

int hk_ctr_record(struct hk_store *s, const struct hk_ctr_new *nc, struct hk_error *err)
{
	const char *id = nc->id, *name = nc->name;
	_cleanup_(hk_json_freep) struct hk_json *rec = hk_json_new(HK_JSON_OBJECT);
	_cleanup_close_ int dirfd = -1, parent = -1, names = -1;
	struct hk_buf b = HK_BUF_INIT;
	char gen[64], now[64], dir[128], final[128];
	int r;

	if (name && !hk_ctr_name_valid(name))
		return hk_error_setx(err, -EINVAL,
				     "--name \"%s\": a name is letters, digits and \"_.-\", and "
				     "starts with a letter or digit",
				     name);
	if ((r = hk_store_lock(s, err)) < 0)
		return r;
	parent = openat(s->dirfd, "containers", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (parent < 0 || (mkdirat(parent, HK_CTR_NAMES, 0700) < 0 && errno != EEXIST) ||
	    (names = openat(parent, HK_CTR_NAMES, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0) {
		r = hk_error_set(err, -errno, "image store: containers/%s", HK_CTR_NAMES);
		goto out;
	}
	if (name) {
		if ((r = claim_name(names, parent, name, id, false, err)) < 0)
			goto out;
	} else {
		/* docker's adjective_noun, with a piece of the id once many were taken. */
		r = -EEXIST;
		for (int tries = 0; r == -EEXIST && tries < 32; tries++) {
			generate_name(gen, sizeof(gen));
			if (tries >= 16)
				snprintf(gen + strlen(gen), sizeof(gen) - strlen(gen), "_%.6s", id);
			r = claim_name(names, parent, gen, id, true, err);
		}
		if (r < 0) {
			if (r == -EEXIST)
				r = hk_error_setx(err, -EEXIST,
						  "no free name: give one with --name");
			goto out;
		}
		name = gen;
	}
	hk_time_rfc3339(now, sizeof(now));
	hk_json_set(rec, "Id", hk_json_new_string(id));
	hk_json_set(rec, "Name", hk_json_new_string(name));
	hk_json_set(rec, "Image", hk_json_new_string(nc->image_ref));
	hk_json_set(rec, "ImageID", hk_json_new_string(nc->image_id));
	hk_json_set(rec, "Command", nc->cmd ? hk_json_copy(nc->cmd) : hk_json_new(HK_JSON_ARRAY));
	hk_json_set(rec, "Tty", hk_json_new_bool(nc->tty));
	hk_json_set(rec, "OpenStdin", hk_json_new_bool(nc->open_stdin));
	hk_json_set(rec, "NetworkMode", hk_json_new_string(nc->network ? nc->network : "none"));
	if (nc->network_config)
		hk_json_set(rec, "NetworkConfig", hk_json_copy(nc->network_config));
	hk_json_set(rec, "PortSpecs",
		    nc->ports ? hk_json_new_strv(nc->ports) : hk_json_new(HK_JSON_ARRAY));
	hk_json_set(rec, "Created", hk_json_new_string(now));
	hk_json_set(rec, "AutoRemove", hk_json_new_bool(nc->rm));
	hk_json_set(rec, "LogMaxSize", hk_json_new_int((long long)nc->log_max));
	hk_json_set(rec, "Mounts",
		    nc->mounts ? hk_json_copy(nc->mounts) : hk_json_new(HK_JSON_ARRAY));
	struct hk_json *rp = hk_json_set(rec, "RestartPolicy", hk_json_new(HK_JSON_OBJECT));
	hk_json_set(rp, "Name", hk_json_new_string(nc->restart ? nc->restart : "no"));
	hk_json_set(rp, "MaximumRetryCount", hk_json_new_int(nc->restart_max));
	hk_json_write_pretty(&b, rec);
	snprintf(dir, sizeof(dir), "containers/%s%s", HK_CTR_NEW, id);
	dirfd = openat(s->dirfd, dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	r = dirfd < 0 ? hk_error_set(err, -errno, "container %s", id)
		      : hk_write_atomic_at(dirfd, "container.json", b.buf, b.len, err);
	hk_buf_release(&b);
	/* Whole now, and named: it is there, under the lock the name was checked under. */
	snprintf(final, sizeof(final), "containers/%s", id);
	if (r >= 0 && renameat(s->dirfd, dir, s->dirfd, final) < 0)
		r = hk_error_set(err, -errno, "rename %s to %s", dir, final);
	if (r < 0)
		unlinkat(names, name, 0);
out:
	hk_store_unlock(s);
	return r;
}

int hk_ctr_make_dir(struct hk_store *s, const char *id, int *ret_fd, struct hk_error *err)
{
	char dir[128];
	int fd;

	int r;

	snprintf(dir, sizeof(dir), "containers/%s%s", HK_CTR_NEW, id);
	/* Made and locked under the store's lock: a sweep never sees it unlocked. */
	if ((r = hk_store_lock(s, err)) < 0)
		return r;
	if (mkdirat(s->dirfd, dir, 0700) < 0) {
		r = hk_error_set(err, -errno, "mkdir \"%s/%s\"", s->root, dir);
		hk_store_unlock(s);
		return r;
	}
	fd = openat(s->dirfd, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || flock(fd, LOCK_EX) < 0) {
		r = hk_error_set(err, -errno, "lock \"%s/%s\"", s->root, dir);
		if (fd >= 0)
			close(fd);
		hk_store_unlock(s);
		return r;
	}
	hk_store_unlock(s);
	if (mkdirat(fd, "upper", 0755) < 0 || mkdirat(fd, "work", 0700) < 0) {
		r = hk_error_set(err, -errno, "container dir \"%s/%s\"", s->root, dir);
		close(fd);
		return r;
	}
	*ret_fd = fd;
	return 0;
}

/* Whether containers/ holds anything to sweep: a .rm-, or a .new- not locked. */
static bool sweep_wanted(int parent)
{
	struct dirent *de;
	bool wanted = false;
	int dfd = dup(parent);
	DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;

	if (!d) {
		if (dfd >= 0)
			close(dfd);
		return false;
	}
	rewinddir(d); /* a dup shares its offset with parent */
	while (!wanted && (de = readdir(d))) {
		if (strncmp(de->d_name, HK_CTR_RM, strlen(HK_CTR_RM)) == 0) {
			wanted = true;
		} else if (strncmp(de->d_name, HK_CTR_NEW, strlen(HK_CTR_NEW)) == 0) {
			_cleanup_close_ int fd =
			    openat(parent, de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			wanted = fd >= 0 && flock(fd, LOCK_SH | LOCK_NB) == 0;
		}
	}
	closedir(d);
	return wanted;
}

/* Under the store's lock, so that a .new- is seen locked or its maker is gone. */
/* The names' index entries that point at id (a killed hakoctl may have claimed one). */
static void drop_names_of(int parent, const char *id)
{
	int fd = openat(parent, HK_CTR_NAMES, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	char target[HK_CTR_ID_LEN + 2];
	struct dirent *de;
	DIR *d;

	if (fd < 0 || !(d = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		return;
	}
	while ((de = readdir(d))) {
		ssize_t n = readlinkat(fd, de->d_name, target, sizeof(target) - 1);
		if (n > 0 && (target[n] = '\0', strcmp(target, id) == 0))
			unlinkat(fd, de->d_name, 0);
	}
	closedir(d);
}

static void sweep(int parent, const char *runroot)
{
	char bundles[4096];
	_cleanup_close_ int bfd = -1;
	struct dirent *de;
	DIR *d;
	int dfd;

	if ((dfd = dup(parent)) < 0)
		return;
	if (!(d = fdopendir(dfd))) {
		close(dfd);
		return;
	}
	rewinddir(d); /* sweep_wanted read parent's entries through a dup: same offset */
	snprintf(bundles, sizeof(bundles), "%s/bundles", runroot);
	bfd = open(bundles, O_PATH | O_DIRECTORY | O_CLOEXEC);
	while ((de = readdir(d))) {
		const char *id = NULL;

		if (strncmp(de->d_name, HK_CTR_RM, strlen(HK_CTR_RM)) == 0) {
			id = de->d_name + strlen(HK_CTR_RM);
		} else if (strncmp(de->d_name, HK_CTR_NEW, strlen(HK_CTR_NEW)) == 0) {
			_cleanup_close_ int fd =
			    openat(parent, de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			/* Its maker still at work holds the lock. */
			if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) < 0)
				continue;
			id = de->d_name + strlen(HK_CTR_NEW);
		} else {
			continue;
		}
		hk_debug("sweeping %s, left by a killed hakoctl", de->d_name);
		/* What its bundle says it holds on the network first (the sweeper is
		 * in the host's network namespace). */
		if (bfd >= 0 && is_id(id)) {
			hk_net_release(runroot, id, -1, true);
			hk_rm_rf_at(bfd, id);
		}
		/* Its maker was its watcher from the start. */
		if (is_id(id))
			hk_ctr_unwatch(runroot, id);
		hk_rm_rf_at(parent, de->d_name);
		if (is_id(id))
			drop_names_of(parent, id);
	}
	closedir(d);
}

void hk_ctr_sweep(struct hk_store *s, const char *runroot)
{
	_cleanup_close_ int parent =
	    openat(s->dirfd, "containers", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct hk_error err = {0};

	/* Mostly there is nothing: then no lock is taken. */
	if (parent < 0 || !sweep_wanted(parent) || hk_store_lock(s, &err) < 0)
		return;
	sweep(parent, runroot);
	hk_store_unlock(s);
}

/* The record of id read, changed by fn, and written back, under the store's lock. */
static int update_record(struct hk_store *s, const char *id,
			 int (*fn)(struct hk_json *rec, int parent, void *arg,
				   struct hk_error *err),
			 void *arg, struct hk_error *err)
{
	_cleanup_(hk_json_freep) struct hk_json *rec = NULL;
	_cleanup_close_ int parent = -1, dirfd = -1;
	struct hk_buf b = HK_BUF_INIT;
	int r;

	if ((r = hk_store_lock(s, err)) < 0)
		return r;
	parent = openat(s->dirfd, "containers", O_PATH | O_DIRECTORY | O_CLOEXEC);
	dirfd = parent < 0 ? -1 : openat(parent, id, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0) {
		r = hk_error_set(err, -errno, "container %s", id);
		goto out;
	}
	if ((r = read_json_at(dirfd, "container.json", &rec, err)) < 0 ||
	    (r = fn(rec, parent, arg, err)) < 0)
		goto out;
	hk_json_write_pretty(&b, rec);
	r = hk_write_atomic_at(dirfd, "container.json", b.buf, b.len, err);
out:
	hk_buf_release(&b);
	hk_store_unlock(s);
	return r;
}

struct renaming {
	const char *id, *old_name, *new_name;
	int names;
	bool claimed;
};

static int rename_in(struct hk_json *rec, int parent, void *arg, struct hk_error *err)
{
	struct renaming *rn = arg;
	int r;

	if ((rn->names = openat(parent, HK_CTR_NAMES, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
		return hk_error_set(err, -errno, "containers/%s", HK_CTR_NAMES);
	if ((r = claim_name(rn->names, parent, rn->new_name, rn->id, false, err)) < 0)
		return r;
	rn->claimed = true;
	hk_json_set(rec, "Name", hk_json_new_string(rn->new_name));
	return 0;
}

int hk_ctr_rename(struct hk_store *s, const char *id, const char *old_name, const char *new_name,
		  struct hk_error *err)
{
	struct renaming rn = {id, old_name, new_name, -1, false};
	int r;

	if (!hk_ctr_name_valid(new_name))
		return hk_error_setx(err, -EINVAL,
				     "\"%s\": a name is letters, digits and \"_.-\", and starts "
				     "with a letter or digit",
				     new_name);
	r = update_record(s, id, rename_in, &rn, err);
	if (rn.names >= 0) {
		/* The new name claimed: the old one goes, or, if the record was not
		 * written, the new one. */
		if (r == 0)
			unlinkat(rn.names, old_name, 0);
		else if (rn.claimed)
			unlinkat(rn.names, new_name, 0);
		close(rn.names);
	}
	return r;
}

struct setting {
	const char *key;
	struct hk_json *value;
};

static int set_in(struct hk_json *rec, int parent, void *arg, struct hk_error *err)
{
	struct setting *st = arg;

	(void)parent;
	(void)err;
	hk_json_set(rec, st->key, st->value);
	st->value = NULL;
	return 0;
}

int hk_ctr_set(struct hk_store *s, const char *id, const char *key, struct hk_json *value,
	       struct hk_error *err)
{
	struct setting st = {key, value};
	int r = update_record(s, id, set_in, &st, err);

	hk_json_free(st.value); /* not taken by a record */
	return r;
}
