/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The hako command line: runc's, one file per command. */
#pragma once

#include <stdbool.h>

#include "hako.h"
#include "error.h"

struct hako_globals {
	const char *root;
	bool debug;
	/* --rootless, resolved: we lack the host's root (runc's "auto" rule). */
	bool rootless;
};

/* Each command parses its own options from argv (argv[0] is its name). */
typedef int (*hako_command_fn)(const struct hako_globals *g, int argc, char **argv,
			       struct hk_error *err);

int cmd_create(const struct hako_globals *g, int argc, char **argv, struct hk_error *err);
int cmd_start(const struct hako_globals *g, int argc, char **argv, struct hk_error *err);
int cmd_state(const struct hako_globals *g, int argc, char **argv, struct hk_error *err);
int cmd_kill(const struct hako_globals *g, int argc, char **argv, struct hk_error *err);
int cmd_delete(const struct hako_globals *g, int argc, char **argv, struct hk_error *err);
int cmd_run(const struct hako_globals *g, int argc, char **argv, struct hk_error *err);
int cmd_list(const struct hako_globals *g, int argc, char **argv, struct hk_error *err);
int cmd_spec(const struct hako_globals *g, int argc, char **argv, struct hk_error *err);
int cmd_exec(const struct hako_globals *g, int argc, char **argv, struct hk_error *err);
int cmd_pause(const struct hako_globals *g, int argc, char **argv, struct hk_error *err);
int cmd_resume(const struct hako_globals *g, int argc, char **argv, struct hk_error *err);
int cmd_ps(const struct hako_globals *g, int argc, char **argv, struct hk_error *err);
int cmd_update(const struct hako_globals *g, int argc, char **argv, struct hk_error *err);
int cmd_events(const struct hako_globals *g, int argc, char **argv, struct hk_error *err);
int cmd_features(const struct hako_globals *g, int argc, char **argv, struct hk_error *err);

/* create and run share these options. */
struct hako_create_flags {
	const char *bundle, *pid_file, *console_socket;
	bool no_pivot, no_new_keyring, detach;
	bool keep; /* run: leave the stopped container for `delete` */
	unsigned preserve_fds;
};
/* Parse create/run options; returns the index of the container id or -1. */
int hako_parse_create_flags(int argc, char **argv, bool is_run, struct hako_create_flags *f,
			    struct hk_error *err);
/* The library's create options from the flags; foreground keeps the pty for run. */
struct hk_create_opts hako_create_opts(const struct hako_globals *g, const char *id,
				       const struct hako_create_flags *f, bool foreground);
/* Exactly one positional argument, the container id; the rest are flags. */
int hako_want_id(int argc, char **argv, int optind_, const char *usage, struct hk_error *err);
