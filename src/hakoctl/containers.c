// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * hakoctl ps [-a] [-q] [--no-trunc] [--format json|table] [--filter K=V]:
 * the containers, as docker lists them.
 * hakoctl rm [-f] CONTAINER...: remove containers (-f: a running one is
 * killed first), with their upper dirs, records and runtime state.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "commands.h"
#include "container.h"
#include "fsutil.h"
#include "json.h"
#include "runtime.h"
#include "util.h"

static const char *status_name(enum hk_ctr_status s)
{
	static const char *const names[] = {"created", "running", "exited"};

	return names[s];
}

/* docker's STATUS column: "Up 3 minutes", "Exited (0) 2 minutes ago". */
static void status_text(const struct hk_ctr *c, char *buf, size_t size)
{
	char ago[64];

	if (c->status == HK_CTR_RUNNING) {
		ctl_human_ago(hk_json_get_string(c->record, "Created"), ago, sizeof(ago));
		/* "3 minutes ago" -> "Up 3 minutes" */
		if (strlen(ago) > 4 && strcmp(ago + strlen(ago) - 4, " ago") == 0)
			ago[strlen(ago) - 4] = '\0';
		snprintf(buf, size, "Up %s", ago);
	} else if (c->exit_code < 0) {
		snprintf(buf, size, "Exited (unknown)");
	} else {
		ctl_human_ago(c->finished ? c->finished : "", ago, sizeof(ago));
		snprintf(buf, size, "Exited (%d) %s", c->exit_code, ago);
	}
}

static void command_text(const struct hk_ctr *c, struct hk_buf *b)
{
	const struct hk_json *cmd = hk_json_get(c->record, "Command");

	for (size_t i = 0; cmd && cmd->type == HK_JSON_ARRAY && i < cmd->n; i++)
		if (cmd->items[i]->type == HK_JSON_STRING)
			hk_buf_addf(b, "%s%s", i ? " " : "", cmd->items[i]->text);
}

struct ps_filter {
	const char *status, *name;
};

static bool ps_wanted(const struct hk_ctr *c, bool all, const struct ps_filter *f)
{
	if (f->status)
		return strcmp(status_name(c->status), f->status) == 0;
	if (f->name && !strstr(c->name, f->name))
		return false;
	return all || c->status == HK_CTR_RUNNING;
}

static int ps_filter_add(struct ps_filter *f, const char *arg, struct hk_error *err)
{
	if (strncmp(arg, "status=", 7) == 0 &&
	    (strcmp(arg + 7, "created") == 0 || strcmp(arg + 7, "running") == 0 ||
	     strcmp(arg + 7, "exited") == 0))
		f->status = arg + 7;
	else if (strncmp(arg, "name=", 5) == 0)
		f->name = arg + 5;
	else
		return hk_error_setx(err, -EINVAL,
				     "--filter \"%s\": status=created|running|exited or name=NAME",
				     arg);
	return 0;
}

int ctl_ps(const struct ctl_globals *g, int argc, char **argv, struct hk_error *err)
{
	static const struct option opts[] = {
	    {"all", no_argument, NULL, 'a'},	      {"quiet", no_argument, NULL, 'q'},
	    {"no-trunc", no_argument, NULL, 'T'},     {"format", required_argument, NULL, 'f'},
	    {"filter", required_argument, NULL, 'F'}, {NULL, 0, NULL, 0},
	};
	struct ps_filter filter = {0};
	bool all = false, quiet = false, trunc = true, json = false;
	struct hk_ctr *v = NULL;
	struct hk_store s;
	struct hk_buf b = HK_BUF_INIT;
	_cleanup_(hk_json_freep) struct hk_json *list = hk_json_new(HK_JSON_ARRAY);
	size_t n = 0;
	int c, r;

	optind = 0;
	while ((c = getopt_long(argc, argv, "+aqf:", opts, NULL)) != -1) {
		switch (c) {
		case 'a':
			all = true;
			break;
		case 'q':
			quiet = true;
			break;
		case 'T':
			trunc = false;
			break;
		case 'f':
			if (strcmp(optarg, "json") != 0 && strcmp(optarg, "table") != 0)
				return hk_error_setx(err, -EINVAL, "--format \"%s\": json or table",
						     optarg);
			json = strcmp(optarg, "json") == 0;
			break;
		case 'F':
			if ((r = ps_filter_add(&filter, optarg, err)) < 0)
				return r;
			break;
		default:
			return hk_error_setx(err, -EINVAL, "see hakoctl ps --help");
		}
	}
	if (optind != argc)
		return hk_error_setx(err, -EINVAL, "ps takes no arguments");
	if ((r = ctl_store_open(g, &s, err)) < 0)
		return r;
	if ((r = hk_ctr_list(&s, ctl_run_dir(g), &v, &n, err)) < 0)
		goto out;
	if (!json && !quiet)
		hk_buf_addf(&b, "%-*s  %-24s  %-24s  %-16s  %-24s  %s\n", trunc ? 12 : 64,
			    "CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "NAMES");
	for (size_t i = 0; i < n; i++) {
		const struct hk_ctr *ct = &v[i];
		char created[64], status[96];
		struct hk_buf cmd = HK_BUF_INIT;

		if (!ps_wanted(ct, all, &filter))
			continue;
		command_text(ct, &cmd);
		status_text(ct, status, sizeof(status));
		if (json) {
			struct hk_json *o = hk_json_push(list, hk_json_new(HK_JSON_OBJECT));

			hk_json_set(o, "Id", hk_json_new_string(ct->id));
			hk_json_push(hk_json_set(o, "Names", hk_json_new(HK_JSON_ARRAY)),
				     hk_json_new_string(ct->name));
			hk_json_set(o, "Image",
				    hk_json_new_string(hk_json_get_string(ct->record, "Image")));
			hk_json_set(o, "Command", hk_json_new_string(cmd.buf ? cmd.buf : ""));
			hk_json_set(o, "Created",
				    hk_json_new_string(hk_json_get_string(ct->record, "Created")));
			hk_json_set(o, "State", hk_json_new_string(status_name(ct->status)));
			hk_json_set(o, "Status", hk_json_new_string(status));
			hk_json_set(o, "ExitCode", hk_json_new_int(ct->exit_code));
			hk_json_set(
			    o, "Pid",
			    hk_json_new_int(ct->status == HK_CTR_RUNNING ? (int)ct->watcher : 0));
		} else if (quiet) {
			hk_buf_addf(&b, "%.*s\n", trunc ? 12 : 64, ct->id);
		} else {
			ctl_human_ago(hk_json_get_string(ct->record, "Created"), created,
				      sizeof(created));
			hk_buf_addf(&b, "%.*s  %-24.24s  %-24.24s  %-16s  %-24s  %s\n",
				    trunc ? 12 : 64, ct->id,
				    hk_json_get_string(ct->record, "Image"), cmd.buf ? cmd.buf : "",
				    created, status, ct->name);
		}
		hk_buf_release(&cmd);
	}
	if (json) {
		hk_json_write_pretty(&b, list);
		hk_buf_adds(&b, "\n");
	}
	if (b.len)
		fwrite(b.buf, 1, b.len, stdout);
out:
	hk_buf_release(&b);
	hk_ctr_list_free(v, n);
	hk_store_close(&s);
	return r;
}

/* Wait up to ms for pid to exit (it is not our child: through a pidfd). */
static bool wait_gone(pid_t pid, int ms)
{
	_cleanup_close_ int fd = (int)syscall(SYS_pidfd_open, pid, 0);
	struct pollfd p = {.fd = fd, .events = POLLIN};

	if (fd < 0)
		return errno == ESRCH;
	return poll(&p, 1, ms) == 1;
}

static int remove_one(const struct ctl_globals *g, struct hk_store *s, const char *what, bool force,
		      struct hk_error *err)
{
	struct hk_ctr c;
	char path[4096];
	_cleanup_close_ int parent = -1, bundles = -1;
	int r;

	if ((r = hk_ctr_find(s, ctl_run_dir(g), what, &c, err)) < 0)
		return r;
	if (c.status == HK_CTR_RUNNING) {
		if (!force) {
			r = hk_error_setx(err, -EBUSY,
					  "container \"%s\" is running: stop it first, or rm -f",
					  c.name);
			goto out;
		}
		/* Kill it; its watcher sees it exit and does its own part of the work. */
		const char *kill_args[] = {"kill", c.id, "KILL", NULL};
		if ((r = ctl_runtime_call(g, kill_args, false, err)) < 0)
			goto out;
		if (!wait_gone(c.watcher, 10000)) {
			r = hk_error_setx(err, -ETIMEDOUT,
					  "container \"%s\": its watcher (pid %d) did not exit",
					  c.name, (int)c.watcher);
			goto out;
		}
	}
	/* The runtime's state, if its watcher died before it could delete it
	 * (there is none, mostly: what the runtime says of that is not shown). */
	const char *delete_args[] = {"delete", "--force", c.id, NULL};
	if ((r = ctl_runtime_call(g, delete_args, true, err)) < 0)
		goto out;
	snprintf(path, sizeof(path), "%s/bundles", ctl_run_dir(g));
	if ((bundles = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC)) >= 0 &&
	    (r = hk_rm_rf_at(bundles, c.id)) < 0 && r != -ENOENT) {
		r = hk_error_set(err, r, "remove the bundle of \"%s\"", c.name);
		goto out;
	}
	parent = openat(s->dirfd, "containers", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (parent < 0 || ((r = hk_rm_rf_at(parent, c.id)) < 0 && r != -ENOENT)) {
		r = hk_error_set(err, parent < 0 ? -errno : r, "remove container \"%s\"", c.name);
		goto out;
	}
	hk_ctr_unwatch(ctl_run_dir(g), c.id);
	printf("%s\n", what);
	r = 0;
out:
	hk_ctr_free(&c);
	return r;
}

int ctl_rm(const struct ctl_globals *g, int argc, char **argv, struct hk_error *err)
{
	static const struct option opts[] = {
	    {"force", no_argument, NULL, 'f'},
	    {NULL, 0, NULL, 0},
	};
	struct hk_store s;
	bool force = false;
	int c, r, failed = 0;

	optind = 0;
	while ((c = getopt_long(argc, argv, "+f", opts, NULL)) != -1) {
		if (c != 'f')
			return hk_error_setx(err, -EINVAL, "see hakoctl rm --help");
		force = true;
	}
	if (optind == argc)
		return hk_error_setx(err, -EINVAL, "rm: expected a CONTAINER");
	if ((r = ctl_store_open(g, &s, err)) < 0)
		return r;
	/* As docker: each one is tried; the errors are shown, and the status tells. */
	for (int i = optind; i < argc; i++)
		if (remove_one(g, &s, argv[i], force, err) < 0) {
			fprintf(stderr, "hakoctl rm: %s\n", err->msg);
			hk_error_clear(err);
			failed = 1;
		}
	hk_store_close(&s);
	return failed ? hk_error_setx(err, -EINVAL, "some containers were not removed") : 0;
}
