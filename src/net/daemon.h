/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What hakoctl's two small daemons of a run dir share, hako-dns (dns.c)
 * and hako-proxy (proxy.c): one of each serves a run dir at a time, the
 * one holding its lock file (networks/.NAME.lock, which holds its pid),
 * and each leaves once it has had nothing to serve for IDLE_EXIT_MS.
 * They are static programs of their own, with none of libhako: this is
 * all they have in common.
 */
#pragma once

#include <dirent.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <time.h>
#include <unistd.h>

#define IDLE_EXIT_MS 2000 /* with nothing to serve, so long */

static inline long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Each file of runroot's dir (networks/.dns, networks/.proxy) apply()d. */
static inline void daemon_scan(const char *runroot, const char *dir,
			       void (*apply)(const char *file))
{
	char path[4096];
	struct dirent *de;
	DIR *d;

	snprintf(path, sizeof(path), "%s/%s", runroot, dir);
	if (!(d = opendir(path)))
		return;
	while ((de = readdir(d)))
		apply(de->d_name);
	closedir(d);
}

/* runroot's networks/.NAME.lock, held while serving: its fd, or -1 when another holds it. */
static inline int daemon_lock(const char *runroot, const char *name)
{
	char path[4096];
	int fd;

	snprintf(path, sizeof(path), "%s/networks/.%s.lock", runroot, name);
	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0)
		return -1;
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		close(fd);
		return -1;
	}
	if (ftruncate(fd, 0) == 0)
		dprintf(fd, "%d\n", (int)getpid());
	return fd;
}

/*
 * Whether to leave, with nothing to serve (busy() false) for IDLE_EXIT_MS:
 * then its lock is let go and its dir looked at once more (scan()), for a
 * hakoctl that found the lock held before that did not start another.
 * 1: leave; -1: go round again (something came, the lock is ours again);
 * 0: serve.
 */
static inline int daemon_idle(const char *runroot, const char *name, int *lock,
			      long long *idle_since, bool (*busy)(void), void (*scan)(void))
{
	if (busy()) {
		*idle_since = -1;
		return 0;
	}
	if (*idle_since < 0)
		*idle_since = now_ms();
	if (now_ms() - *idle_since <= IDLE_EXIT_MS)
		return 0;
	close(*lock);
	scan();
	if (!busy() || (*lock = daemon_lock(runroot, name)) < 0)
		return 1;
	*idle_since = -1;
	return -1;
}

/* The files inotify (in) names, each apply()d, or all scan()ned again if it lost some. */
static inline void daemon_events(int in, void (*apply)(const char *file), void (*scan)(void))
{
	char ev[16384] __attribute__((aligned(__alignof__(struct inotify_event))));
	ssize_t n;

	while ((n = read(in, ev, sizeof(ev))) > 0)
		for (char *e = ev; e < ev + n;) {
			struct inotify_event *ie = (struct inotify_event *)e;
			if (ie->mask & IN_Q_OVERFLOW)
				scan();
			else if (ie->len)
				apply(ie->name);
			e += sizeof(*ie) + ie->len;
		}
}
