/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * events: the container's cgroup statistics as JSON, in runc's shape; once
 * with --stats, else every --interval (default 5s) with "oom" events as they
 * happen, until the container stops.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "hako.h"
#include "util.h"

static void print_line(const char *json, void *data)
{
	(void)data;
	printf("%s\n", json);
	fflush(stdout);
}

/* "5s", "500ms", "1m" or plain seconds, to milliseconds. */
static int parse_interval(const char *s, unsigned *ret)
{
	char *end;
	double v = strtod(s, &end);
	double scale = !*end || !strcmp(end, "s") ? 1000
		       : !strcmp(end, "ms")	  ? 1
		       : !strcmp(end, "m")	  ? 60000
						  : -1;

	if (end == s || scale < 0 || v <= 0 || v * scale > 86400000)
		return -EINVAL;
	*ret = (unsigned)(v * scale);
	return 0;
}

int cmd_events(const struct hako_globals *g, int argc, char **argv, struct hk_error *err)
{
	static const struct option opts[] = {{"stats", no_argument, NULL, 's'},
					     {"interval", required_argument, NULL, 'i'},
					     {NULL, 0, NULL, 0}};
	_cleanup_(hako_closep) struct hako_container *ct = NULL;
	bool stats = false;
	unsigned interval = 5000;
	int c, i;

	optind = 1;
	while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		if (c == 's')
			stats = true;
		else if (c == 'i' && parse_interval(optarg, &interval) == 0)
			continue;
		else
			return hk_error_setx(
			    err, -EINVAL,
			    c == 'i' ? "events: bad --interval \"%s\""
				     : "usage: hako events [--stats] [--interval 5s] ID%s",
			    c == 'i' ? optarg : "");
	}
	i = hako_want_id(argc, argv, optind, "hako events [--stats] [--interval 5s] ID", err);
	if (i < 0)
		return i;
	if (hako_open(g->root, argv[i], &ct, err) < 0)
		return err->code;
	return hako_events(ct, stats, interval, print_line, NULL, err);
}
