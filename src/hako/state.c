/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include "commands.h"
#include "hako.h"
#include "util.h"

int cmd_state(const struct hako_globals *g, int argc, char **argv, struct hk_error *err)
{
	int i = hako_want_id(argc, argv, 1, "hako state ID", err);
	char *json;
	_cleanup_(hako_closep) struct hako_container *ct = NULL;

	if (i < 0 || hako_open(g->root, argv[i], &ct, err) < 0 || hako_state(ct, &json, err) < 0)
		return err->code;
	printf("%s\n", json);
	free(json);
	return 0;
}
