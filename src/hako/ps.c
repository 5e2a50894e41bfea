/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ps: the processes of a container. With --format json, a JSON array of
 * pids (what containerd reads); else ps(1)'s table (by default `ps -ef`)
 * cut down to the container's processes, as runc does.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "hako.h"
#include "util.h"

static bool has_pid(const pid_t *pids, size_t n, pid_t pid)
{
	for (size_t i = 0; i < n; i++)
		if (pids[i] == pid)
			return true;
	return false;
}

int cmd_ps(const struct hako_globals *g, int argc, char **argv, struct hk_error *err)
{
	static const struct option opts[] = {{"format", required_argument, NULL, 'f'},
					     {NULL, 0, NULL, 0}};
	const char *format = "table";
	_cleanup_(hako_closep) struct hako_container *ct = NULL;
	_cleanup_free_ pid_t *pids = NULL;
	struct hk_buf cmd = HK_BUF_INIT;
	size_t n = 0;
	int c, pid_col = -1;
	char line[4096];
	FILE *ps;

	optind = 1;
	while ((c = getopt_long(argc, argv, "+f:", opts, NULL)) != -1) {
		if (c != 'f')
			return hk_error_setx(err, -EINVAL,
					     "usage: hako ps [--format table|json] ID "
					     "[ps options]");
		format = optarg;
	}
	if (strcmp(format, "table") && strcmp(format, "json"))
		return hk_error_setx(err, -EINVAL, "ps: unknown format \"%s\"", format);
	if (optind >= argc)
		return hk_error_setx(err, -EINVAL, "ps: expected a container id");
	if (hako_open(g->root, argv[optind], &ct, err) < 0 || hako_pids(ct, &pids, &n, err) < 0)
		return err->code;
	if (!strcmp(format, "json")) {
		printf("[");
		for (size_t i = 0; i < n; i++)
			printf("%s%d", i ? "," : "", (int)pids[i]);
		printf("]\n");
		return 0;
	}
	/* The options after the id go to ps(1), each quoted for the shell. */
	hk_buf_adds(&cmd, "exec ps");
	if (optind + 1 == argc)
		hk_buf_adds(&cmd, " -ef");
	for (int i = optind + 1; i < argc; i++) {
		hk_buf_adds(&cmd, " '");
		for (const char *p = argv[i]; *p; p++)
			hk_buf_adds(&cmd, *p == '\'' ? "'\\''" : (char[]){*p, 0});
		hk_buf_adds(&cmd, "'");
	}
	ps = popen(cmd.buf, "re");
	hk_buf_release(&cmd);
	if (!ps)
		return hk_error_set(err, -errno, "ps: run ps(1)");
	while (fgets(line, sizeof(line), ps)) {
		char copy[sizeof(line)], *save = NULL, *t;
		int col = 0;

		snprintf(copy, sizeof(copy), "%s", line);
		t = strtok_r(copy, " \t\n", &save);
		if (pid_col < 0) {
			/* The header: find the PID column. */
			for (; t; t = strtok_r(NULL, " \t\n", &save), col++)
				if (!strcmp(t, "PID"))
					pid_col = col;
			if (pid_col < 0) {
				pclose(ps);
				return hk_error_setx(err, -EINVAL,
						     "ps: no PID column in ps output");
			}
			fputs(line, stdout);
			continue;
		}
		for (; t && col < pid_col; col++)
			t = strtok_r(NULL, " \t\n", &save);
		if (t && has_pid(pids, n, (pid_t)atoi(t)))
			fputs(line, stdout);
	}
	if (pclose(ps) != 0)
		return hk_error_setx(err, -EINVAL, "ps: ps(1) failed");
	return 0;
}
