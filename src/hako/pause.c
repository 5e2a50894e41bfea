/* SPDX-License-Identifier: GPL-2.0-or-later */
/* pause and resume: freeze and thaw every process of a container. */
#include <getopt.h>

#include "commands.h"
#include "hako.h"
#include "util.h"

static int pause_or_resume(const struct hako_globals *g, const char *id, bool pause,
			   struct hk_error *err)
{
	_cleanup_(hako_closep) struct hako_container *ct = NULL;

	if (hako_open(g->root, id, &ct, err) < 0)
		return err->code;
	return hako_pause(ct, pause, err);
}

int cmd_pause(const struct hako_globals *g, int argc, char **argv, struct hk_error *err)
{
	int i = hako_want_id(argc, argv, 1, "hako pause ID", err);

	return i < 0 ? i : pause_or_resume(g, argv[i], true, err);
}

int cmd_resume(const struct hako_globals *g, int argc, char **argv, struct hk_error *err)
{
	int i = hako_want_id(argc, argv, 1, "hako resume ID", err);

	return i < 0 ? i : pause_or_resume(g, argv[i], false, err);
}
