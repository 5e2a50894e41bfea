/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stddef.h>
#include <unistd.h>

#include "commands.h"
#include "container.h"
#include "signals.h"
#include "terminal.h"

int cmd_run(const struct hako_globals *g, int argc, char **argv, struct hk_error *err)
{
	struct hako_create_flags f;
	struct hk_container c;
	int i = hako_parse_create_flags(argc, argv, true, &f, err), status;
	struct hk_create_opts o;
	struct hk_error ignored;
	sigset_t old;

	if (i < 0)
		return i;
	o = hako_create_opts(g, argv[i], &f, !f.detach && !f.console_socket);
	if (!f.detach)
		hk_signals_block_forwarded(&old);
	if (hk_container_create(&o, &c, err) < 0)
		return err->code;
	if (hk_container_start(g->root, argv[i], err) < 0) {
		hk_container_delete(g->root, argv[i], true, &ignored);
		hk_container_release(&c);
		return err->code;
	}
	if (f.detach) {
		hk_container_release(&c);
		return 0;
	}
	/* In the foreground: show the pty, pass signals on, and clean up after. */
	status = hk_container_wait(&c);
	hk_container_release(&c);
	if (!f.keep)
		hk_container_delete(g->root, argv[i], true, &ignored);
	sigprocmask(SIG_SETMASK, &old, NULL);
	return status;
}
