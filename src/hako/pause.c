/* SPDX-License-Identifier: GPL-2.0-or-later */
/* pause and resume: freeze and thaw every process of a container. */
#include <getopt.h>

#include "commands.h"
#include "container.h"

int cmd_pause(const struct hako_globals *g, int argc, char **argv, struct hk_error *err)
{
	int i = hako_want_id(argc, argv, 1, "hako pause ID", err);

	return i < 0 ? i : hk_container_pause(g->root, argv[i], true, err);
}

int cmd_resume(const struct hako_globals *g, int argc, char **argv, struct hk_error *err)
{
	int i = hako_want_id(argc, argv, 1, "hako resume ID", err);

	return i < 0 ? i : hk_container_pause(g->root, argv[i], false, err);
}
