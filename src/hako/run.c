/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stddef.h>
#include <unistd.h>

#include "commands.h"
#include "hako.h"
#include "util.h"
#include "signals.h"
#include "terminal.h"

int cmd_run(const struct hako_globals *g, int argc, char **argv, struct hk_error *err)
{
	struct hako_create_flags f;
	_cleanup_(hako_closep) struct hako_container *c = NULL;
	_cleanup_(hako_process_freep) struct hako_process *init = NULL;
	int i = hako_parse_create_flags(argc, argv, true, &f, err), status;
	struct hk_create_opts o;
	struct hk_error ignored;
	sigset_t old;

	if (i < 0)
		return i;
	o = hako_create_opts(g, argv[i], &f, !f.detach && !f.console_socket);
	if (!f.detach)
		hk_signals_block_forwarded(&old);
	if (hako_create(&o, &c, &init, err) < 0)
		return err->code;
	if (hako_start(c, err) < 0) {
		hako_delete(c, true, &ignored);
		return err->code;
	}
	if (f.detach)
		return 0;
	/* In the foreground: show the pty, pass signals on, and clean up after. */
	status = hako_wait(init);
	if (!f.keep)
		hako_delete(c, true, &ignored);
	sigprocmask(SIG_SETMASK, &old, NULL);
	return status;
}
