/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stddef.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "hako.h"
#include "util.h"

int hako_want_id(int argc, char **argv, int optind_, const char *usage, struct hk_error *err)
{
	if (argc - optind_ != 1)
		return hk_error_setx(err, -EINVAL,
				     "%s: expected exactly one container id (usage: %s)", argv[0],
				     usage);
	return optind_;
}

int hako_parse_create_flags(int argc, char **argv, bool is_run, struct hako_create_flags *f,
			    struct hk_error *err)
{
	static const struct option opts[] = {
	    {"bundle", required_argument, NULL, 'b'},
	    {"pid-file", required_argument, NULL, 'p'},
	    {"console-socket", required_argument, NULL, 'c'},
	    {"no-pivot", no_argument, NULL, 'P'},
	    {"no-new-keyring", no_argument, NULL, 'K'},
	    {"preserve-fds", required_argument, NULL, 'F'},
	    {"detach", no_argument, NULL, 'd'},
	    {"keep", no_argument, NULL, 'k'},
	    {NULL, 0, NULL, 0},
	};
	int c;

	*f = (struct hako_create_flags){.bundle = "."};
	optind = 1;
	while ((c = getopt_long(argc, argv, is_run ? "+b:d" : "+b:", opts, NULL)) != -1) {
		long long n;
		switch (c) {
		case 'b':
			f->bundle = optarg;
			break;
		case 'p':
			if (!*optarg)
				return hk_error_setx(err, -EINVAL, "--pid-file: empty path");
			f->pid_file = optarg;
			break;
		case 'c':
			f->console_socket = optarg;
			break;
		case 'P':
			f->no_pivot = true;
			break;
		case 'K':
			f->no_new_keyring = true;
			break;
		case 'F':
			if (hk_parse_int64(optarg, &n) < 0 || n < 0 || n > 65536)
				return hk_error_setx(
				    err, -EINVAL, "--preserve-fds: invalid number \"%s\"", optarg);
			f->preserve_fds = (unsigned)n;
			break;
		case 'd':
			if (!is_run)
				goto bad;
			f->detach = true;
			break;
		case 'k':
			if (!is_run)
				goto bad;
			f->keep = true;
			break;
		default:
		bad:
			return hk_error_setx(err, -EINVAL, "%s: unknown option", argv[0]);
		}
	}
	return hako_want_id(argc, argv, optind, "hako create [--bundle DIR] ID", err);
}

struct hk_create_opts hako_create_opts(const struct hako_globals *g, const char *id,
				       const struct hako_create_flags *f, bool foreground)
{
	return (struct hk_create_opts){
	    .root = g->root,
	    .id = id,
	    .bundle = f->bundle,
	    .pid_file = f->pid_file,
	    .console_socket = f->console_socket,
	    .no_pivot = f->no_pivot,
	    .no_new_keyring = f->no_new_keyring,
	    .preserve_fds = f->preserve_fds,
	    .keep_terminal = foreground,
	    .rootless = g->rootless,
	};
}

int cmd_create(const struct hako_globals *g, int argc, char **argv, struct hk_error *err)
{
	struct hako_create_flags f;
	struct hako_container *c;
	int i = hako_parse_create_flags(argc, argv, false, &f, err);
	struct hk_create_opts o;

	if (i < 0)
		return i;
	o = hako_create_opts(g, argv[i], &f, false);
	if (hako_create(&o, &c, NULL, err) < 0)
		return err->code;
	hako_close(c);
	return 0;
}
