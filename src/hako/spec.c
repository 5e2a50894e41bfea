/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "spec.h"
#include "util.h"

int cmd_spec(const struct hako_globals *g, int argc, char **argv, struct hk_error *err)
{
	static const struct option opts[] = {{"bundle", required_argument, NULL, 'b'},
					     {"rootless", no_argument, NULL, 'r'},
					     {NULL, 0, NULL, 0}};
	const char *bundle = ".";
	bool rootless = false;
	_cleanup_free_ char *text = NULL;
	_cleanup_close_ int dirfd = -1, fd = -1;
	int c;

	(void)g;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+b:", opts, NULL)) != -1) {
		if (c == 'b')
			bundle = optarg;
		else if (c == 'r')
			rootless = true;
		else
			return hk_error_setx(err, -EINVAL,
					     "usage: hako spec [--bundle DIR] [--rootless]");
	}
	dirfd = open(bundle, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		return hk_error_set(err, -errno, "bundle \"%s\"", bundle);
	fd = openat(dirfd, "config.json", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0 && errno == EEXIST)
		return hk_error_setx(err, -EEXIST, "File config.json exists. Remove it first.");
	if (fd < 0)
		return hk_error_set(err, -errno, "create \"%s/config.json\"", bundle);
	text = hk_spec_default(rootless, getuid(), getgid());
	if (write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		return hk_error_set(err, -errno, "write \"%s/config.json\"", bundle);
	return 0;
}
