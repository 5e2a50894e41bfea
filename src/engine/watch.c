// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A container's watch (container.h): who watches it, whether it and its
 * process live, and the records of its start and its end. This part is
 * linked into hako-monitor too, which needs nothing else of the engine.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "container.h"
#include "fsutil.h"
#include "util.h"

/* A small file (a pid, /proc/<pid>/stat) into buf, NUL-terminated; false if not there. */
static bool read_small(const char *path, char *buf, size_t size)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0 || (n = read(fd, buf, size - 1)) <= 0)
		return false;
	buf[n] = '\0';
	return true;
}

/* What /proc/<pid>/stat says after the command's name: " S ppid ...", in buf; NULL if gone. */
static const char *proc_stat(pid_t pid, char *buf, size_t size)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (!read_small(path, buf, size))
		return NULL;
	return strrchr(buf, ')') ? strrchr(buf, ')') + 1 : NULL;
}

/* A process's start time (field 22 of its stat), which tells a reused pid; 0 if gone. */
static unsigned long long start_time(pid_t pid)
{
	char buf[1024];
	const char *p = proc_stat(pid, buf, sizeof(buf));

	/* p is at the space before field 3. */
	for (int field = 3; field < 22 && p; field++)
		p = strchr(p + 1, ' ');
	return p ? strtoull(p, NULL, 10) : 0;
}

int hk_ctr_watch(const char *runroot, const char *id, pid_t pid, struct hk_error *err)
{
	char dir[4096], text[64];
	_cleanup_close_ int fd = -1;
	int r;

	snprintf(dir, sizeof(dir), "%s/ctr", runroot);
	if ((r = hk_mkdir_p(dir, 0700, err)) < 0)
		return r;
	fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return hk_error_set(err, -errno, "open \"%s\"", dir);
	snprintf(text, sizeof(text), "%d %llu\n", (int)pid, start_time(pid));
	return hk_write_atomic_at(fd, id, text, strlen(text), err);
}

void hk_ctr_unwatch(const char *runroot, const char *id)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/ctr/%s", runroot, id);
	unlink(path);
}

pid_t hk_ctr_live_watcher(const char *runroot, const char *id)
{
	char path[4096], buf[64];
	unsigned long long start;
	int pid;

	snprintf(path, sizeof(path), "%s/ctr/%s", runroot, id);
	if (!read_small(path, buf, sizeof(buf)) || sscanf(buf, "%d %llu", &pid, &start) != 2 ||
	    pid <= 0)
		return 0;
	return start && start_time(pid) == start ? pid : 0;
}

int hk_ctr_record_start(int condirfd, unsigned restarts, struct hk_error *err)
{
	char now[64], text[160];

	hk_time_rfc3339(now, sizeof(now));
	snprintf(text, sizeof(text), "{\"StartedAt\": \"%s\", \"RestartCount\": %u}\n", now,
		 restarts);
	if (unlinkat(condirfd, "exit.json", 0) < 0 && errno != ENOENT)
		return hk_error_set(err, -errno, "remove exit.json");
	/* Started by hand: a stop by hand before it no longer holds back --restart. */
	if (restarts == 0 && unlinkat(condirfd, "stopped", 0) < 0 && errno != ENOENT)
		return hk_error_set(err, -errno, "remove the stop mark");
	return hk_write_atomic_at(condirfd, "started.json", text, strlen(text), err);
}

pid_t hk_ctr_live_init(const char *runroot, const char *id)
{
	char path[4096], buf[1024];
	const char *st;
	int pid;

	snprintf(path, sizeof(path), "%s/bundles/%s/pid", runroot, id);
	if (!read_small(path, buf, sizeof(buf)) || (pid = atoi(buf)) <= 0 ||
	    !(st = proc_stat(pid, buf, sizeof(buf))))
		return 0;
	/* Its state: Z is a zombie, X dead. */
	return st[0] == ' ' && st[1] != 'Z' && st[1] != 'X' ? pid : 0;
}

int hk_ctr_mark_paused(const char *runroot, const char *id, bool on, struct hk_error *err)
{
	char path[4096];
	int fd;

	snprintf(path, sizeof(path), "%s/bundles/%s/" HK_CTR_PAUSED, runroot, id);
	if (!on)
		return unlink(path) < 0 && errno != ENOENT
			   ? hk_error_set(err, -errno, "remove %s", path)
			   : 0;
	if ((fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600)) < 0)
		return hk_error_set(err, -errno, "%s", path);
	close(fd);
	return 0;
}

int hk_ctr_record_exit(int condirfd, int code, int oom_killed, struct hk_error *err)
{
	char now[64], text[256];

	hk_time_rfc3339(now, sizeof(now));
	snprintf(text, sizeof(text), "{\"ExitCode\": %d, \"FinishedAt\": \"%s\"%s}\n", code, now,
		 oom_killed < 0 ? ""
		 : oom_killed	? ", \"OOMKilled\": true"
				: ", \"OOMKilled\": false");
	return hk_write_atomic_at(condirfd, "exit.json", text, strlen(text), err);
}

/*
 * What container id leaves elsewhere: the index entry of its name (if it is
 * still id's), and with volumes its anonymous volumes.
 */
static void forget(int containers_fd, const char *id, bool volumes)
{
	char path[300], target[HK_CTR_ID_LEN + 2];
	_cleanup_free_ char *text = NULL;
	_cleanup_(hk_json_freep) struct hk_json *rec = NULL;
	struct hk_error err = {0};
	const struct hk_json *mounts;
	const char *name;
	size_t len;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/container.json", id);
	if (hk_read_regular_file_at(containers_fd, path, 1 << 20, &text, &len, &err) < 0 ||
	    hk_json_parse(text, len, &rec, &err) < 0)
		return;
	if ((name = hk_json_get_string(rec, "Name"))) {
		snprintf(path, sizeof(path), "%s/%s", HK_CTR_NAMES, name);
		n = readlinkat(containers_fd, path, target, sizeof(target) - 1);
		if (n > 0 && (target[n] = '\0', strcmp(target, id) == 0))
			unlinkat(containers_fd, path, 0);
	}
	mounts = hk_json_get(rec, "Mounts");
	if (!volumes || !mounts || mounts->type != HK_JSON_ARRAY)
		return;
	_cleanup_close_ int vols =
	    openat(containers_fd, "../volumes", O_PATH | O_DIRECTORY | O_CLOEXEC);
	for (size_t i = 0; vols >= 0 && i < mounts->n; i++) {
		const struct hk_json *anon = hk_json_get(mounts->items[i], "Anonymous");
		const char *vol = hk_json_get_string(mounts->items[i], "Name");
		if (vol && anon && anon->type == HK_JSON_BOOL && anon->boolean && !strchr(vol, '/'))
			hk_rm_rf_at(vols, vol);
	}
}

int hk_ctr_remove_dir(int containers_fd, const char *id, bool volumes)
{
	char gone[128];
	int r;

	forget(containers_fd, id, volumes);
	snprintf(gone, sizeof(gone), "%s%s", HK_CTR_RM, id);

	if (renameat(containers_fd, id, containers_fd, gone) < 0)
		return errno == ENOENT ? 0 : -errno;
	/* A sweep may take it at the same time: what is gone is gone. */
	r = hk_rm_rf_at(containers_fd, gone);
	return r == -ENOENT ? 0 : r;
}
