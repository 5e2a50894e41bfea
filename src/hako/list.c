/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "hako.h"
#include "util.h"

struct listing {
	bool json, first;
};

static void print_one(const char *id, const struct hk_state *st, enum hk_status status, void *data)
{
	struct listing *l = data;

	if (!st) {
		printf("%s\n", id);
	} else if (l->json) {
		_cleanup_free_ char *s = hk_state_to_json(st, status, false);
		printf("%s%s", l->first ? "" : ",", s);
	} else {
		bool alive = status == HK_STATUS_CREATED || status == HK_STATUS_RUNNING ||
			     status == HK_STATUS_PAUSED;
		printf("%-20s %-8d %-10s %-40s %-30s %s\n", id, alive ? (int)st->pid : 0,
		       hk_status_name(status), st->bundle ? st->bundle : "",
		       st->created ? st->created : "", "root");
	}
	l->first = false;
}

int cmd_list(const struct hako_globals *g, int argc, char **argv, struct hk_error *err)
{
	static const struct option opts[] = {{"format", required_argument, NULL, 'f'},
					     {"quiet", no_argument, NULL, 'q'},
					     {NULL, 0, NULL, 0}};
	struct listing l = {.json = false, .first = true};
	bool quiet = false;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "+f:q", opts, NULL)) != -1) {
		if (c == 'q')
			quiet = true;
		else if (c == 'f' && (!strcmp(optarg, "json") || !strcmp(optarg, "table")))
			l.json = !strcmp(optarg, "json");
		else
			return hk_error_setx(err, -EINVAL,
					     "list: expected --format table|json or -q");
	}
	if (l.json && !quiet)
		printf("[");
	else if (!quiet)
		printf("%-20s %-8s %-10s %-40s %-30s %s\n", "ID", "PID", "STATUS", "BUNDLE",
		       "CREATED", "OWNER");
	if (hako_list(g->root, quiet, print_one, &l, err) < 0)
		return err->code;
	if (l.json && !quiet)
		printf("]\n");
	return 0;
}
