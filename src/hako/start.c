/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stddef.h>
#include "commands.h"
#include "container.h"

int cmd_start(const struct hako_globals *g, int argc, char **argv, struct hk_error *err)
{
	int i = hako_want_id(argc, argv, 1, "hako start ID", err);

	if (i < 0)
		return i;
	return hk_container_start(g->root, argv[i], err);
}
