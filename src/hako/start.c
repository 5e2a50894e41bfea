/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stddef.h>
#include "commands.h"
#include "hako.h"
#include "util.h"

int cmd_start(const struct hako_globals *g, int argc, char **argv, struct hk_error *err)
{
	int i = hako_want_id(argc, argv, 1, "hako start ID", err);

	if (i < 0)
		return i;
	_cleanup_(hako_closep) struct hako_container *c = NULL;

	if (hako_open(g->root, argv[i], &c, err) < 0)
		return err->code;
	return hako_start(c, err);
}
