/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "paths.h"
#include "tap.h"
#include "util.h"

/* Where does fd point, relative to root? */
static const char *where(int fd, const char *root, char *buf)
{
	char link[64], full[PATH_MAX];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, full, sizeof(full) - 1);
	full[n > 0 ? n : 0] = '\0';
	snprintf(buf, PATH_MAX, "%s",
		 strncmp(full, root, strlen(root)) == 0 ? full + strlen(root) : full);
	return buf;
}

int main(void)
{
	char root[] = "/tmp/hako-test-paths-XXXXXX", cmd[PATH_MAX], buf[PATH_MAX];
	struct hk_error err = {0};
	int rootfd, fd = -1;

	if (!mkdtemp(root))
		return 1;
	snprintf(
	    cmd, sizeof(cmd),
	    "cd %s && mkdir -p etc var/run real && ln -s /real abs && ln -s ../real etc/rel && "
	    "ln -s ../../../../tmp esc && ln -s loop1 loop2 && ln -s loop2 loop1 && touch file",
	    root);
	if (system(cmd) != 0)
		return 1;
	rootfd = open(root, O_PATH | O_DIRECTORY);

	ok(hk_path_open_in_root(rootfd, "/etc", 0, &fd, &err) == 0 &&
	       strcmp(where(fd, root, buf), "/etc") == 0,
	   "plain path");
	ok(hk_path_open_in_root(rootfd, "/abs", 0, &fd, &err) == 0 &&
	       strcmp(where(fd, root, buf), "/real") == 0,
	   "absolute symlink stays in the root (%s)", buf);
	ok(hk_path_open_in_root(rootfd, "/etc/../etc/rel", 0, &fd, &err) == 0 &&
	       strcmp(where(fd, root, buf), "/real") == 0,
	   "relative symlink (%s)", buf);
	ok(hk_path_open_in_root(rootfd, "/esc", 0, &fd, &err) == -EXDEV &&
	       strstr(err.msg, "points outside the rootfs"),
	   "escaping symlink refused: %s", err.msg);
	ok(hk_path_open_in_root(rootfd, "/../etc", 0, &fd, &err) == -EXDEV,
	   "\"..\" above the root refused");
	ok(hk_path_open_in_root(rootfd, "/loop1", 0, &fd, &err) == -ELOOP, "symlink loop refused");
	ok(hk_path_open_in_root(rootfd, "/file/x", 0, &fd, &err) == -ENOTDIR,
	   "file as directory refused");
	ok(hk_path_open_in_root(rootfd, "/abs/new/dir", HK_RESOLVE_MKDIR, &fd, &err) == 0 &&
	       strcmp(where(fd, root, buf), "/real/new/dir") == 0,
	   "missing directories created inside the root (%s)", buf);
	ok(hk_path_open_in_root(rootfd, "/etc/hosts", HK_RESOLVE_MKDIR | HK_RESOLVE_MKFILE_LAST,
				&fd, &err) == 0,
	   "missing file created");
	ok(hk_path_open_in_root(rootfd, "/nope", 0, &fd, &err) == -ENOENT, "missing path: ENOENT");
	snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
	if (system(cmd) != 0)
		return 1;
	tap_done();
}
