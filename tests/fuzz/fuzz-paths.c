/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer target: hk_path_open_in_root() against a small hostile rootfs
 * (absolute, relative and escaping symlinks, loops, a file where a directory
 * is expected), with the flags every mount destination uses: the first byte
 * of the input picks HK_RESOLVE_MKDIR, HK_RESOLVE_MKFILE_LAST and
 * HK_RESOLVE_NO_SYMLINKS. The properties: whatever the path, the fd it
 * returns is at or below the root, and nothing is ever created beside the
 * root (its parent holds the root alone); anything else aborts.
 *
 * The tree lives in a private directory under $HAKO_FUZZ_TMP (else /tmp),
 * remade every few thousand inputs (what the create flags made piles up) and
 * removed at exit.
 */
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "paths.h"

static char parent[PATH_MAX], root[PATH_MAX];
static int rootfd = -1;

static int remove_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return type == FTW_DP ? rmdir(path) : unlink(path);
}

/* Remove the root (what the create flags made goes with it). */
static void remove_root(void)
{
	if (rootfd >= 0)
		close(rootfd);
	rootfd = -1;
	if (root[0])
		nftw(root, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void remove_tree(void)
{
	remove_root();
	rmdir(parent);
}

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
	    {"d/new", "../a/missing"},
	    {"d/out", "../../outside-made"},
	};
	const char *tmp = getenv("HAKO_FUZZ_TMP");
	char p[PATH_MAX + 64];

	if (!parent[0]) {
		snprintf(parent, sizeof(parent), "%s/hako-fuzz-root.XXXXXX", tmp ? tmp : "/tmp");
		if (!mkdtemp(parent) || !realpath(parent, p))
			abort();
		snprintf(parent, sizeof(parent), "%s", p); /* absolute, as readlink says */
		atexit(remove_tree);
	}
	snprintf(root, sizeof(root), "%s/root", parent);
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

/* The root's parent holds the root and nothing else. */
static void check_nothing_beside_root(const char *path)
{
	DIR *d = opendir(parent);
	struct dirent *de;

	if (!d)
		abort();
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..") &&
		    strcmp(de->d_name, "root")) {
			fprintf(stderr, "path \"%s\" created \"%s\" beside the root\n", path,
				de->d_name);
			abort();
		}
	closedir(d);
}

/* The fd (closed here) names a place at or below the root, or it escaped. */
static void check_below_root(int fd, const char *path)
{
	char fdpath[32], where[PATH_MAX + 1];
	size_t rl = strlen(root);
	ssize_t n = readlink(hk_fd_path(fd, fdpath), where, sizeof(where) - 1);

	close(fd);
	if (n < 0)
		abort();
	where[n] = '\0';
	if (strncmp(where, root, rl) != 0 || (where[rl] != '\0' && where[rl] != '/')) {
		fprintf(stderr, "path \"%s\" resolved to \"%s\", outside %s\n", path, where, root);
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[PATH_MAX];
	struct hk_error err = {0};
	int fd, flags, r;

	if (rootfd < 0)
		make_root();
	if (size < 1 || size > sizeof(path))
		return 0;
	flags = data[0] & (HK_RESOLVE_MKDIR | HK_RESOLVE_MKFILE_LAST | HK_RESOLVE_NO_SYMLINKS);
	memcpy(path, data + 1, size - 1);
	path[size - 1] = '\0';
	r = hk_path_open_in_root(rootfd, path, flags, &fd, &err);
	if (flags & (HK_RESOLVE_MKDIR | HK_RESOLVE_MKFILE_LAST)) {
		check_nothing_beside_root(path);
		/* What it made goes with the tree, so that every input meets the
		 * same root (and the tree never grows past one input's making). */
		if (r == 0)
			check_below_root(fd, path);
		remove_root();
		return 0;
	}
	if (r < 0)
		return 0;
	check_below_root(fd, path);
	return 0;
}
