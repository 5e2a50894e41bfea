/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer target: hk_path_open_in_root() against a small hostile rootfs
 * (absolute, relative and escaping symlinks, loops, a file where a directory
 * is expected). The property: whatever the path, the fd it returns is at or
 * below the root; anything else aborts.
 */
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "paths.h"

static char root[PATH_MAX];
static int rootfd = -1;

static void make_root(void)
{
	static const char *const dirs[] = {"a", "a/b", "a/b/c", "etc", "proc", "d"};
	static const char *const links[][2] = {
	    {"abs", "/a/b"},
	    {"up", "../../../.."},
	    {"a/b/rel", "../../etc"},
	    {"a/esc", "../../.."},
	    {"loop1", "loop2"},
	    {"loop2", "loop1"},
	    {"self", "."},
	    {"a/b/c/top", "/"},
	    {"host", "/proc/self/cwd"},
	    {"d/deep", "../a/b/c"},
	    {"etc/passwd", "../../../etc/passwd"},
	};
	char p[PATH_MAX + 64];

	snprintf(root, sizeof(root), "/tmp/hako-fuzz-root.%d", (int)getpid());
	mkdir(root, 0755);
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", root, dirs[i]);
		mkdir(p, 0755);
	}
	for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", root, links[i][0]);
		symlink(links[i][1], p);
	}
	snprintf(p, sizeof(p), "%s/file", root);
	close(open(p, O_CREAT | O_WRONLY, 0644));
	rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[PATH_MAX], fdpath[32], where[PATH_MAX + 1];
	struct hk_error err = {0};
	size_t rl = strlen(root);
	ssize_t n;
	int fd;

	if (rootfd < 0)
		make_root();
	if (size >= sizeof(path))
		return 0;
	memcpy(path, data, size);
	path[size] = '\0';
	if (hk_path_open_in_root(rootfd, path, 0, &fd, &err) < 0)
		return 0;
	n = readlink(hk_fd_path(fd, fdpath), where, sizeof(where) - 1);
	close(fd);
	if (n < 0)
		abort();
	where[n] = '\0';
	/* At or below the root, or it escaped. */
	if (strncmp(where, root, rl) != 0 || (where[rl] != '\0' && where[rl] != '/')) {
		fprintf(stderr, "path \"%s\" resolved to \"%s\", outside %s\n", path, where, root);
		abort();
	}
	return 0;
}
