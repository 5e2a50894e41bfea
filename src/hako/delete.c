/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stddef.h>
#include <getopt.h>

#include "commands.h"
#include "hako.h"
#include "util.h"

int cmd_delete(const struct hako_globals *g, int argc, char **argv, struct hk_error *err)
{
	static const struct option opts[] = {{"force", no_argument, NULL, 'f'}, {NULL, 0, NULL, 0}};
	_cleanup_(hako_closep) struct hako_container *ct = NULL;
	bool force = false;
	int c, i;

	optind = 1;
	while ((c = getopt_long(argc, argv, "+f", opts, NULL)) != -1) {
		if (c != 'f')
			return hk_error_setx(err, -EINVAL, "delete: unknown option");
		force = true;
	}
	i = hako_want_id(argc, argv, optind, "hako delete [--force] ID", err);
	if (i < 0)
		return i;
	/* As runc: --force of a container that is gone already is no error
	 * (containerd's shim deletes once more when it cleans up). */
	if (hako_open(g->root, argv[i], &ct, err) < 0)
		return err->code;
	if (hako_delete(ct, force, err) < 0)
		return force && err->code == -ENOENT ? 0 : err->code;
	return 0;
}
