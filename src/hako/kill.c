/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stddef.h>
#include <getopt.h>
#include <signal.h>

#include "commands.h"
#include "hako.h"
#include "util.h"
#include "signals.h"

int cmd_kill(const struct hako_globals *g, int argc, char **argv, struct hk_error *err)
{
	static const struct option opts[] = {{"all", no_argument, NULL, 'a'}, {NULL, 0, NULL, 0}};
	_cleanup_(hako_closep) struct hako_container *ct = NULL;
	bool all = false;
	int c, sig = SIGTERM;

	optind = 1;
	while ((c = getopt_long(argc, argv, "+a", opts, NULL)) != -1) {
		if (c != 'a')
			return hk_error_setx(err, -EINVAL, "kill: unknown option");
		all = true;
	}
	if (argc - optind < 1 || argc - optind > 2)
		return hk_error_setx(err, -EINVAL, "usage: hako kill [--all] ID [SIGNAL]");
	if (argc - optind == 2) {
		sig = hk_signal_parse(argv[optind + 1]);
		if (sig < 0)
			return hk_error_setx(err, -EINVAL, "unknown signal \"%s\"",
					     argv[optind + 1]);
	}
	if (hako_open(g->root, argv[optind], &ct, err) < 0)
		return err->code;
	return hako_kill(ct, sig, all, err);
}
