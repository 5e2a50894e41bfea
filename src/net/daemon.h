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

#include <fcntl.h>
#include <stdio.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#define IDLE_EXIT_MS 2000 /* with nothing to serve, so long */

static inline long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
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
