/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * exec: run a new process in a running container, with runc's flags. Its
 * exit status is the process's; a failure of hako itself exits 255 (main.c).
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "hako.h"
#include "signals.h"
#include "util.h"

static void strv_add(char ***v, const char *s)
{
	size_t n = hk_strv_len(*v);

	*v = hk_xrealloc(*v, (n + 2) * sizeof(char *));
	(*v)[n] = (char *)s;
	(*v)[n + 1] = NULL;
}

int cmd_exec(const struct hako_globals *g, int argc, char **argv, struct hk_error *err)
{
	enum { CONSOLE = 1000, PIDFILE, CWD, CAP, NNP, PRESERVE, APPARMOR, LABEL };
	static const struct option opts[] = {
	    {"process", required_argument, NULL, 'p'},
	    {"tty", no_argument, NULL, 't'},
	    {"detach", no_argument, NULL, 'd'},
	    {"env", required_argument, NULL, 'e'},
	    {"user", required_argument, NULL, 'u'},
	    {"console-socket", required_argument, NULL, CONSOLE},
	    {"pid-file", required_argument, NULL, PIDFILE},
	    {"cwd", required_argument, NULL, CWD},
	    {"cap", required_argument, NULL, CAP},
	    {"no-new-privs", no_argument, NULL, NNP},
	    {"preserve-fds", required_argument, NULL, PRESERVE},
	    {"apparmor", required_argument, NULL, APPARMOR},
	    {"process-label", required_argument, NULL, LABEL},
	    {NULL, 0, NULL, 0},
	};
	struct hk_exec_opts o = {0};
	_cleanup_free_ char **env = NULL, **caps = NULL;
	_cleanup_(hako_closep) struct hako_container *ct = NULL;
	_cleanup_(hako_process_freep) struct hako_process *p = NULL;
	bool detach = false;
	sigset_t old;
	int ch, status;
	char *end;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "+p:tde:u:", opts, NULL)) != -1) {
		switch (ch) {
		case 'p':
			o.process_file = optarg;
			break;
		case 't':
			o.tty = true;
			break;
		case 'd':
			detach = true;
			break;
		case 'e':
			strv_add(&env, optarg);
			break;
		case 'u':
			o.user = optarg;
			break;
		case CONSOLE:
			o.console_socket = optarg;
			break;
		case PIDFILE:
			if (!*optarg)
				return hk_error_setx(err, -EINVAL, "--pid-file: empty path");
			o.pid_file = optarg;
			break;
		case CWD:
			o.cwd = optarg;
			break;
		case CAP:
			strv_add(&caps, optarg);
			break;
		case NNP:
			o.no_new_privs = true;
			break;
		case PRESERVE:
			o.preserve_fds = (unsigned)strtoul(optarg, &end, 10);
			if (end == optarg || *end)
				return hk_error_setx(err, -EINVAL, "exec: --preserve-fds \"%s\"",
						     optarg);
			break;
		case APPARMOR:
			o.apparmor = optarg;
			break;
		case LABEL:
			o.process_label = optarg;
			break;
		default:
			return hk_error_setx(err, -EINVAL,
					     "usage: hako exec [--process FILE] [-t] [-d] "
					     "[-e KEY=VALUE] [-u UID[:GID]] [--cwd DIR] ID "
					     "[COMMAND ARGS...]");
		}
	}
	if (optind >= argc)
		return hk_error_setx(err, -EINVAL, "exec: expected a container id");
	o.args = argv + optind + 1;
	o.env = env;
	o.caps = caps;
	o.keep_terminal = !detach && !o.console_socket;
	if (!detach)
		hk_signals_block_forwarded(&old);
	if (hako_open(g->root, argv[optind], &ct, err) < 0 || hako_exec(ct, &o, &p, err) < 0)
		return err->code;
	if (detach)
		return 0;
	status = hako_wait(p);
	sigprocmask(SIG_SETMASK, &old, NULL);
	return status;
}
