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
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "attach.h"
#include "commands.h"
#include "container.h"
#include "fsutil.h"
#include "json.h"
#include "log.h"
#include "monitor.h"
#include "network.h"
#include "ports.h"
#include "runtime.h"
#include "util.h"

static const char *status_name(const struct hk_ctr *c)
{
	static const char *const names[] = {"created", "running", "exited"};

	return c->paused ? "paused" : names[c->status];
}

/* docker's STATUS column: "Up 3 minutes", "Exited (0) 2 minutes ago". */
static void status_text(const struct hk_ctr *c, char *buf, size_t size)
{
	char ago[64];

	if (c->status == HK_CTR_CREATED) {
		snprintf(buf, size, "Created");
	} else if (c->status == HK_CTR_RUNNING) {
		ctl_human_ago(hk_json_get_string(c->record, "Created"), ago, sizeof(ago));
		/* "3 minutes ago" -> "Up 3 minutes" */
		if (strlen(ago) > 4 && strcmp(ago + strlen(ago) - 4, " ago") == 0)
			ago[strlen(ago) - 4] = '\0';
		snprintf(buf, size, "Up %s%s", ago, c->paused ? " (Paused)" : "");
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
		return strcmp(status_name(c), f->status) == 0;
	if (f->name && !strstr(c->name, f->name))
		return false;
	return all || c->status == HK_CTR_RUNNING;
}

static int ps_filter_add(struct ps_filter *f, const char *arg, struct hk_error *err)
{
	if (strncmp(arg, "status=", 7) == 0 &&
	    (strcmp(arg + 7, "created") == 0 || strcmp(arg + 7, "running") == 0 ||
	     strcmp(arg + 7, "exited") == 0 || strcmp(arg + 7, "paused") == 0))
		f->status = arg + 7;
	else if (strncmp(arg, "name=", 5) == 0)
		f->name = arg + 5;
	else
		return hk_error_setx(
		    err, -EINVAL,
		    "--filter \"%s\": status=created|running|paused|exited or name=NAME", arg);
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
			if ((r = ctl_parse_format(optarg, &json, err)) < 0)
				return r;
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
			hk_json_set(o, "State", hk_json_new_string(status_name(ct)));
			hk_json_set(o, "Status", hk_json_new_string(status));
			hk_json_set(o, "ExitCode", hk_json_new_int(ct->exit_code));
			hk_json_set(
			    o, "Pid",
			    hk_json_new_int(ct->status == HK_CTR_RUNNING ? (int)ct->init : 0));
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

/*
 * What to wait for while the container is up: its watcher, which is done
 * when it has recorded the end; or, when that was killed, the container's
 * own process. 0 when it is not up.
 */
static pid_t alive(const struct hk_ctr *c)
{
	if (c->watcher > 0)
		return c->watcher;
	return c->status == HK_CTR_RUNNING ? c->init : 0;
}

/* Stopped by hand (stop, kill, rm -f): its monitor does not --restart it. */
static void mark_stopped(struct hk_store *s, const struct hk_ctr *c)
{
	char path[128];
	struct hk_error err = {0};
	_cleanup_close_ int fd = -1;

	snprintf(path, sizeof(path), "containers/%s", c->id);
	if ((fd = openat(s->dirfd, path, O_PATH | O_DIRECTORY | O_CLOEXEC)) >= 0 &&
	    hk_write_atomic_at(fd, "stopped", "", 0, &err) < 0)
		hk_warn("%s", err.msg);
}

/*
 * A paused container's processes are frozen: a signal sent to them (stop,
 * kill, rm -f) is only acted on once they are thawed, which this does.
 */
static void thaw_after_signal(const struct ctl_globals *g, const struct hk_ctr *c)
{
	const char *args[] = {"resume", c->id, NULL};
	struct hk_error err = {0};

	if (!c->paused)
		return;
	if (ctl_runtime_call(g, args, true, &err) < 0 ||
	    hk_ctr_mark_paused(ctl_run_dir(g), c->id, false, &err) < 0)
		hk_warn("%s", err.msg);
}

/* The container named, or an error that says which name was not found. */
static int find(const struct ctl_globals *g, struct hk_store *s, const char *what, struct hk_ctr *c,
		struct hk_error *err)
{
	return hk_ctr_find(s, ctl_run_dir(g), what, c, err);
}

/*
 * Run fn on each container named in argv[optind..], as docker does: each is
 * tried, its name printed when it worked, its error shown when not; the
 * status says whether all worked.
 */
typedef int (*each_fn)(const struct ctl_globals *g, struct hk_store *s, struct hk_ctr *c,
		       const void *arg, struct hk_error *err);

static int for_each(const struct ctl_globals *g, int argc, char **argv, const char *cmd, each_fn fn,
		    const void *arg, bool print, struct hk_error *err)
{
	struct hk_store s;
	int r, failed = 0;

	if (optind == argc)
		return hk_error_setx(err, -EINVAL, "%s: expected a CONTAINER", cmd);
	if ((r = ctl_store_open(g, &s, err)) < 0)
		return r;
	for (int i = optind; i < argc; i++) {
		struct hk_ctr c;

		if ((r = find(g, &s, argv[i], &c, err)) >= 0)
			r = fn(g, &s, &c, arg, err);
		hk_ctr_free(&c);
		if (r < 0) {
			fprintf(stderr, "hakoctl %s: %s\n", cmd, err->msg);
			hk_error_clear(err);
			failed = 1;
		} else if (print) {
			printf("%s\n", argv[i]);
			fflush(stdout);
		}
	}
	hk_store_close(&s);
	return failed ? hk_error_setx(err, -EINVAL, "not every container: see above") : 0;
}

static int container_dirfd(struct hk_store *s, const struct hk_ctr *c, struct hk_error *err)
{
	char dir[128];
	int fd;

	snprintf(dir, sizeof(dir), "containers/%s", c->id);
	fd = openat(s->dirfd, dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	return fd < 0 ? hk_error_set(err, -errno, "container \"%s\"", c->name) : fd;
}

/*
 * Up, not started yet: a created container under its monitor is, and an
 * exited one (or created by a monitor that is gone) is brought up in a
 * child of ours, whose mount namespace becomes the container's.
 */
static int bring_up(const struct ctl_globals *g, struct hk_ctr *c, struct hk_error *err)
{
	int status, r;
	pid_t pid;

	if (c->status == HK_CTR_CREATED && c->watcher > 0)
		return 0;
	if ((pid = fork()) < 0)
		return hk_error_set(err, -errno, "fork");
	if (pid == 0) {
		struct hk_error e = {0};
		int dn = open("/dev/null", O_WRONLY | O_CLOEXEC);

		dup2(dn, 1); /* its id is not printed: we print the name given */
		r = ctl_container_up(g, c->id, false, &e);
		if (r < 0)
			fprintf(stderr, "hakoctl start: %s\n", e.msg);
		_exit(r < 0 ? 125 : r);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return hk_error_set(err, -errno, "waitpid");
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return hk_error_setx(err, -EIO, "container \"%s\" did not start", c->name);
	return 0;
}

/* Running, or its monitor is about to restart it: as docker, nothing to do. */
static bool up_already(const struct hk_ctr *c)
{
	return c->status == HK_CTR_RUNNING || (c->status == HK_CTR_EXITED && c->watcher > 0);
}

static int start_one(const struct ctl_globals *g, struct hk_store *s, struct hk_ctr *c,
		     const void *arg, struct hk_error *err)
{
	_cleanup_close_ int fd = -1;
	int r;

	(void)arg;
	if (up_already(c))
		return 0;
	if ((r = bring_up(g, c, err)) < 0 || (r = fd = container_dirfd(s, c, err)) < 0)
		return r;
	return ctl_container_start(g, fd, c->id, err);
}

/*
 * start -a [-i] CONTAINER: attached before it starts, so that nothing it
 * writes is missed, and until it exits (its status) or is detached from.
 */
static int start_attached(const struct ctl_globals *g, const char *what, bool with_stdin,
			  struct hk_error *err)
{
	struct ctl_attach_opts o = {.sig_proxy = true, .keys = CTL_DETACH_KEYS_DEFAULT};
	_cleanup_close_ int fd = -1, sock = -1;
	struct hk_ctr c = {0};
	struct hk_store s;
	int r;

	if ((r = ctl_store_open(g, &s, err)) < 0)
		return r;
	if ((r = find(g, &s, what, &c, err)) < 0)
		goto out;
	/* Exited, its monitor finishing (or waiting to restart it): a moment. */
	if (c.status == HK_CTR_EXITED && c.watcher > 0 && wait_gone(c.watcher, 10000)) {
		char id[sizeof(c.id)];
		snprintf(id, sizeof(id), "%s", c.id);
		hk_ctr_free(&c);
		if ((r = find(g, &s, id, &c, err)) < 0)
			goto out;
	}
	bool started = up_already(&c);
	if ((!started && (r = bring_up(g, &c, err)) < 0) ||
	    (r = fd = container_dirfd(&s, &c, err)) < 0 ||
	    (r = sock = ctl_attach_connect(fd, c.name, err)) < 0 ||
	    (!started && (r = ctl_container_start(g, fd, c.id, err)) < 0))
		goto out;
	o.tty = hk_json_get(c.record, "Tty") && hk_json_get(c.record, "Tty")->boolean;
	o.with_stdin = with_stdin && hk_json_get(c.record, "OpenStdin") &&
		       hk_json_get(c.record, "OpenStdin")->boolean;
	r = ctl_attach_end(ctl_attach_session(sock, &o), c.name, err);
out:
	hk_ctr_free(&c);
	hk_store_close(&s);
	return r;
}

int ctl_start(const struct ctl_globals *g, int argc, char **argv, struct hk_error *err)
{
	static const struct option opts[] = {
	    {"attach", no_argument, NULL, 'a'},
	    {"interactive", no_argument, NULL, 'i'},
	    {NULL, 0, NULL, 0},
	};
	bool attach = false, interactive = false;
	int c;

	optind = 0;
	while ((c = getopt_long(argc, argv, "+ai", opts, NULL)) != -1) {
		if (c == 'a')
			attach = true;
		else if (c == 'i')
			interactive = true;
		else
			return hk_error_setx(err, -EINVAL, "see hakoctl start --help");
	}
	if ((attach || interactive) && argc - optind != 1)
		return hk_error_setx(err, -EINVAL, "start -a or -i: one CONTAINER at a time");
	if (attach || interactive)
		return start_attached(g, argv[optind], interactive, err);
	return for_each(g, argc, argv, "start", start_one, NULL, true, err);
}

/* stop: the stop signal, then SIGKILL after the grace time. */
static int stop_one(const struct ctl_globals *g, struct hk_store *s, struct hk_ctr *c,
		    const void *arg, struct hk_error *err)
{
	int secs = *(const int *)arg, r;
	const char *term[] = {"kill", c->id, "TERM", NULL};
	const char *kill_it[] = {"kill", c->id, "KILL", NULL};

	pid_t gone = alive(c);

	if (gone <= 0)
		return 0; /* not running: nothing to stop */
	mark_stopped(s, c);
	if (secs > 0 && (r = ctl_runtime_call(g, term, true, err)) < 0)
		return r;
	thaw_after_signal(g, c);
	if (secs > 0 && wait_gone(gone, secs * 1000))
		return 0;
	if ((r = ctl_runtime_call(g, kill_it, true, err)) < 0)
		return r;
	if (!wait_gone(gone, 10000))
		return hk_error_setx(err, -ETIMEDOUT, "container \"%s\" did not stop", c->name);
	return 0;
}

static int parse_time_flag(int argc, char **argv, int *secs, struct hk_error *err)
{
	static const struct option opts[] = {
	    {"time", required_argument, NULL, 't'},
	    {NULL, 0, NULL, 0},
	};
	long long n;
	int c;

	optind = 0;
	while ((c = getopt_long(argc, argv, "+t:", opts, NULL)) != -1) {
		if (c != 't' || hk_parse_int64(optarg, &n) < 0 || n < 0 || n > 86400)
			return hk_error_setx(err, -EINVAL, "-t SECONDS: a number of seconds");
		*secs = (int)n;
	}
	return 0;
}

int ctl_stop(const struct ctl_globals *g, int argc, char **argv, struct hk_error *err)
{
	int secs = 10, r;

	if ((r = parse_time_flag(argc, argv, &secs, err)) < 0)
		return r;
	return for_each(g, argc, argv, "stop", stop_one, &secs, true, err);
}

static int restart_one(const struct ctl_globals *g, struct hk_store *s, struct hk_ctr *c,
		       const void *arg, struct hk_error *err)
{
	int r;

	if ((r = stop_one(g, s, c, arg, err)) < 0)
		return r;
	/* Stopped, it is exited: its record read again. */
	struct hk_ctr now;
	if ((r = find(g, s, c->id, &now, err)) < 0)
		return r;
	r = start_one(g, s, &now, NULL, err);
	hk_ctr_free(&now);
	return r;
}

int ctl_restart(const struct ctl_globals *g, int argc, char **argv, struct hk_error *err)
{
	int secs = 10, r;

	if ((r = parse_time_flag(argc, argv, &secs, err)) < 0)
		return r;
	return for_each(g, argc, argv, "restart", restart_one, &secs, true, err);
}

static int kill_one(const struct ctl_globals *g, struct hk_store *s, struct hk_ctr *c,
		    const void *arg, struct hk_error *err)
{
	const char *args[] = {"kill", c->id, arg, NULL};
	int r;

	if (c->status != HK_CTR_RUNNING)
		return hk_error_setx(err, -EINVAL, "container \"%s\" is not running", c->name);
	mark_stopped(s, c);
	if ((r = ctl_runtime_call(g, args, false, err)) < 0)
		return r;
	if (r)
		return hk_error_setx(err, -EIO, "the runtime could not signal \"%s\"", c->name);
	thaw_after_signal(g, c);
	return 0;
}

/* pause, unpause: the container's cgroup frozen, and thawed (the runtime's pause and resume). */
static int pause_one(const struct ctl_globals *g, struct hk_store *s, struct hk_ctr *c,
		     const void *arg, struct hk_error *err)
{
	bool pause = arg != NULL;
	const char *args[] = {pause ? "pause" : "resume", c->id, NULL};
	int r;

	(void)s;
	if (c->status != HK_CTR_RUNNING)
		return hk_error_setx(err, -EINVAL, "container \"%s\" is not running", c->name);
	if (c->paused == pause)
		return hk_error_setx(err, -EINVAL, "container \"%s\" is %s", c->name,
				     pause ? "already paused" : "not paused");
	if ((r = ctl_runtime_call(g, args, false, err)) < 0)
		return r;
	if (r)
		return hk_error_setx(err, -EIO, "the runtime could not %s \"%s\"",
				     pause ? "pause" : "unpause", c->name);
	return hk_ctr_mark_paused(ctl_run_dir(g), c->id, pause, err);
}

int ctl_pause(const struct ctl_globals *g, int argc, char **argv, struct hk_error *err)
{
	optind = 0;
	if (getopt(argc, argv, "+") != -1)
		return hk_error_setx(err, -EINVAL, "see hakoctl pause --help");
	return for_each(g, argc, argv, "pause", pause_one, "", true, err);
}

int ctl_unpause(const struct ctl_globals *g, int argc, char **argv, struct hk_error *err)
{
	optind = 0;
	if (getopt(argc, argv, "+") != -1)
		return hk_error_setx(err, -EINVAL, "see hakoctl unpause --help");
	return for_each(g, argc, argv, "unpause", pause_one, NULL, true, err);
}

int ctl_kill(const struct ctl_globals *g, int argc, char **argv, struct hk_error *err)
{
	static const struct option opts[] = {
	    {"signal", required_argument, NULL, 's'},
	    {NULL, 0, NULL, 0},
	};
	const char *sig = "KILL";
	int c;

	optind = 0;
	while ((c = getopt_long(argc, argv, "+s:", opts, NULL)) != -1) {
		if (c != 's')
			return hk_error_setx(err, -EINVAL, "see hakoctl kill --help");
		sig = optarg;
	}
	return for_each(g, argc, argv, "kill", kill_one, sig, true, err);
}

/* wait: until it exits; its exit code. */
static int wait_one(const struct ctl_globals *g, struct hk_store *s, struct hk_ctr *c,
		    const void *arg, struct hk_error *err)
{
	struct hk_ctr now;
	int r;

	(void)arg;
	if (alive(c) > 0)
		wait_gone(alive(c), -1);
	if ((r = find(g, s, c->id, &now, err)) < 0)
		return r;
	printf("%d\n", now.exit_code);
	fflush(stdout);
	hk_ctr_free(&now);
	return 0;
}

int ctl_wait(const struct ctl_globals *g, int argc, char **argv, struct hk_error *err)
{
	optind = 0;
	if (getopt(argc, argv, "+") != -1)
		return hk_error_setx(err, -EINVAL, "see hakoctl wait --help");
	return for_each(g, argc, argv, "wait", wait_one, NULL, false, err);
}

struct rm_opts {
	bool force, volumes; /* -f, -v */
};

static int rm_one(const struct ctl_globals *g, struct hk_store *s, struct hk_ctr *c,
		  const void *arg, struct hk_error *err)
{
	const struct rm_opts *o = arg;
	const char *kill_it[] = {"kill", c->id, "KILL", NULL};
	/* The runtime's state, if its watcher died before it could delete it
	 * (there is none, mostly: what the runtime says of that is not shown). */
	const char *del[] = {"delete", "--force", c->id, NULL};
	_cleanup_close_ int parent = -1, bundles = -1;
	char path[4096];
	int r;

	/* Exited, its monitor finishing: a moment. */
	if (c->status == HK_CTR_EXITED && c->watcher > 0) {
		wait_gone(c->watcher, 10000);
	} else if (alive(c) > 0) {
		if (!o->force)
			return hk_error_setx(
			    err, -EBUSY, "container \"%s\" is %s: stop it first, or rm -f", c->name,
			    c->status == HK_CTR_RUNNING ? "running" : "created");
		/* Kill it; its watcher sees it exit and does its own part of the work. */
		mark_stopped(s, c);
		if ((r = ctl_runtime_call(g, kill_it, true, err)) < 0)
			return r;
		thaw_after_signal(g, c);
		if (!wait_gone(alive(c), 10000))
			return hk_error_setx(err, -ETIMEDOUT, "container \"%s\" did not exit",
					     c->name);
	}
	if ((r = ctl_runtime_call(g, del, true, err)) < 0)
		return r;
	/* Its monitor, killed, did not give back its address and ports: here. */
	ctl_network_release(g, c->id);
	snprintf(path, sizeof(path), "%s/bundles", ctl_run_dir(g));
	if ((bundles = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC)) >= 0 &&
	    (r = hk_rm_rf_at(bundles, c->id)) < 0 && r != -ENOENT)
		return hk_error_set(err, r, "remove the bundle of \"%s\"", c->name);
	parent = openat(s->dirfd, "containers", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (parent < 0)
		return hk_error_set(err, -errno, "image store: containers");
	if ((r = hk_ctr_remove_dir(parent, c->id, o->volumes)) < 0)
		return hk_error_set(err, r, "remove container \"%s\"", c->name);
	hk_ctr_unwatch(ctl_run_dir(g), c->id);
	return 0;
}

int ctl_rm(const struct ctl_globals *g, int argc, char **argv, struct hk_error *err)
{
	static const struct option opts[] = {
	    {"force", no_argument, NULL, 'f'},
	    {"volumes", no_argument, NULL, 'v'},
	    {NULL, 0, NULL, 0},
	};
	struct rm_opts o = {0};
	int c;

	optind = 0;
	while ((c = getopt_long(argc, argv, "+fv", opts, NULL)) != -1) {
		if (c == 'f')
			o.force = true;
		else if (c == 'v')
			o.volumes = true;
		else
			return hk_error_setx(err, -EINVAL, "see hakoctl rm --help");
	}
	return for_each(g, argc, argv, "rm", rm_one, &o, true, err);
}

/*
 * NetworkSettings while it has a network (its bundle's leases): docker's fields of
 * its first network, and Networks, each network it is on.
 */
static void network_settings(const struct ctl_globals *g, struct hk_store *s,
			     const struct hk_ctr *c, struct hk_json *o)
{
	struct hk_json *ns = hk_json_set(o, "NetworkSettings", hk_json_new(HK_JSON_OBJECT));
	struct hk_json *nets = hk_json_set(ns, "Networks", hk_json_new(HK_JSON_OBJECT));
	_cleanup_free_ struct hk_attachment *at = NULL;
	struct hk_error err = {0};
	struct hk_network n;
	size_t n_at = 0;
	char gw[16], gw6[46];

	/* Running, or created under its monitor: its bundle says (an exited one has none). */
	if (c->status != HK_CTR_EXITED)
		hk_net_bundle_attachments(ctl_run_dir(g), c->id, &at, &n_at);
	hk_json_set(ns, "IPAddress", hk_json_new_string(""));
	hk_json_set(ns, "IPPrefixLen", hk_json_new_int(0));
	hk_json_set(ns, "Gateway", hk_json_new_string(""));
	hk_json_set(ns, "GlobalIPv6Address", hk_json_new_string(""));
	hk_json_set(ns, "GlobalIPv6PrefixLen", hk_json_new_int(0));
	hk_json_set(ns, "IPv6Gateway", hk_json_new_string(""));
	for (size_t i = 0; i < n_at; i++) {
		struct hk_json *e = hk_json_set(nets, at[i].network, hk_json_new(HK_JSON_OBJECT));
		bool known = hk_network_find(s->dirfd, at[i].network, &n, &err) == 0;

		hk_error_clear(&err);
		hk_json_set(e, "IPAddress", hk_json_new_string(at[i].addr));
		hk_json_set(e, "IPPrefixLen", hk_json_new_int(known ? n.prefix : 0));
		hk_json_set(e, "Gateway",
			    hk_json_new_string(known ? hk_ipv4_text(n.gateway, gw) : ""));
		known = known && at[i].addr6[0];
		if (known)
			hk_ipv6_text(&n.gateway6, gw6);
		hk_json_set(e, "GlobalIPv6Address", hk_json_new_string(at[i].addr6));
		hk_json_set(e, "GlobalIPv6PrefixLen", hk_json_new_int(known ? n.prefix6 : 0));
		hk_json_set(e, "IPv6Gateway", hk_json_new_string(known ? gw6 : ""));
		if (i == 0) /* its first network's, as docker shows them there too */
			for (const char *const *k =
				 (const char *const[]){"IPAddress", "IPPrefixLen", "Gateway",
						       "GlobalIPv6Address", "GlobalIPv6PrefixLen",
						       "IPv6Gateway", NULL};
			     *k; k++)
				hk_json_set(ns, *k, hk_json_copy(hk_json_get(e, *k)));
	}
}

struct hk_json *ctl_container_json(const struct ctl_globals *g, struct hk_store *s,
				   const struct hk_ctr *c)
{
	struct hk_json *o = hk_json_new(HK_JSON_OBJECT), *st, *cfg = NULL, *conf, *hc;
	const struct hk_json *args = hk_json_get(c->record, "Command");
	const struct hk_json *max = hk_json_get(c->record, "LogMaxSize");
	_cleanup_free_ char *text = NULL;
	char path[4096];
	struct hk_error err = {0};
	size_t len;

	hk_json_set(o, "Id", hk_json_new_string(c->id));
	hk_json_set(o, "Name", hk_json_new_string(c->name));
	hk_json_set(o, "Created", hk_json_new_string(hk_json_get_string(c->record, "Created")));
	hk_json_set(o, "Path", hk_json_new_string(args && args->n ? args->items[0]->text : ""));
	struct hk_json *a = hk_json_set(o, "Args", hk_json_new(HK_JSON_ARRAY));
	for (size_t i = 1; args && i < args->n; i++)
		hk_json_push(a, hk_json_new_string(args->items[i]->text));
	st = hk_json_set(o, "State", hk_json_new(HK_JSON_OBJECT));
	hk_json_set(st, "Status", hk_json_new_string(status_name(c)));
	hk_json_set(st, "Running", hk_json_new_bool(c->status == HK_CTR_RUNNING));
	hk_json_set(st, "Paused", hk_json_new_bool(c->paused));
	hk_json_set(st, "Pid", hk_json_new_int(c->status == HK_CTR_RUNNING ? c->init : 0));
	hk_json_set(st, "ExitCode", hk_json_new_int(c->exit_code < 0 ? 0 : c->exit_code));
	hk_json_set(st, "StartedAt", hk_json_new_string(c->started ? c->started : ""));
	hk_json_set(st, "FinishedAt", hk_json_new_string(c->finished ? c->finished : ""));
	hk_json_set(st, "OOMKilled", hk_json_new_bool(c->oom_killed == 1));
	hk_json_set(o, "RestartCount", hk_json_new_int(c->restarts));
	hk_json_set(o, "Image", hk_json_new_string(hk_json_get_string(c->record, "ImageID")));
	hk_json_set(o, "ImageName", hk_json_new_string(hk_json_get_string(c->record, "Image")));
	snprintf(path, sizeof(path), "%s/containers/%s/ctr.log", s->root, c->id);
	hk_json_set(o, "LogPath", hk_json_new_string(path));
	/* What it runs: from the config.json kept in the store. */
	snprintf(path, sizeof(path), "containers/%s/config.json", c->id);
	if (hk_read_regular_file_at(s->dirfd, path, 1 << 24, &text, &len, &err) == 0 &&
	    hk_json_parse(text, len, &cfg, &err) == 0) {
		const struct hk_json *p = hk_json_get(cfg, "process");
		const struct hk_json *user = hk_json_get(p, "user");
		conf = hk_json_set(o, "Config", hk_json_new(HK_JSON_OBJECT));
		hk_json_set(conf, "Hostname",
			    hk_json_new_string(hk_json_get_string(cfg, "hostname")));
		if (user && hk_json_get(user, "uid") && hk_json_get(user, "gid")) {
			char u[64];
			snprintf(u, sizeof(u), "%s:%s", hk_json_get(user, "uid")->text,
				 hk_json_get(user, "gid")->text);
			hk_json_set(conf, "User", hk_json_new_string(u));
		}
		if (hk_json_get(p, "env"))
			hk_json_set(conf, "Env", hk_json_copy(hk_json_get(p, "env")));
		if (hk_json_get(p, "args"))
			hk_json_set(conf, "Cmd", hk_json_copy(hk_json_get(p, "args")));
		hk_json_set(conf, "WorkingDir", hk_json_new_string(hk_json_get_string(p, "cwd")));
		hk_json_set(conf, "Tty",
			    hk_json_new_bool(hk_json_get(p, "terminal") &&
					     hk_json_get(p, "terminal")->boolean));
		hk_json_set(conf, "OpenStdin",
			    hk_json_new_bool(hk_json_get(c->record, "OpenStdin") &&
					     hk_json_get(c->record, "OpenStdin")->boolean));
		hk_json_free(cfg);
	}
	hk_error_clear(&err);
	hc = hk_json_set(o, "HostConfig", hk_json_new(HK_JSON_OBJECT));
	const char *mode = hk_json_get_string(c->record, "NetworkMode");
	const struct hk_json *netcfg = hk_json_get(c->record, "NetworkConfig");
	hk_json_set(hc, "NetworkMode", hk_json_new_string(mode ? mode : "none"));
	for (const char *const *k = (const char *const[]){"Dns", "ExtraHosts", NULL}; *k; k++)
		hk_json_set(hc, *k,
			    hk_json_get(netcfg, *k) ? hk_json_copy(hk_json_get(netcfg, *k))
						    : hk_json_new(HK_JSON_ARRAY));
	network_settings(g, s, c, o);
	hk_json_set(hc, "AutoRemove",
		    hk_json_new_bool(hk_json_get(c->record, "AutoRemove") &&
				     hk_json_get(c->record, "AutoRemove")->boolean));
	if (hk_json_get(c->record, "RestartPolicy"))
		hk_json_set(hc, "RestartPolicy",
			    hk_json_copy(hk_json_get(c->record, "RestartPolicy")));
	struct hk_json *lc = hk_json_set(hc, "LogConfig", hk_json_new(HK_JSON_OBJECT));
	hk_json_set(lc, "Type", hk_json_new_string("k8s-file"));
	struct hk_json *lcc = hk_json_set(lc, "Config", hk_json_new(HK_JSON_OBJECT));
	hk_json_set(lcc, "max-size",
		    hk_json_new_string(max && max->type == HK_JSON_NUMBER ? max->text : "0"));
	(void)g;
	return o;
}

/* hakoctl rename CONTAINER NEW_NAME */
int ctl_rename(const struct ctl_globals *g, int argc, char **argv, struct hk_error *err)
{
	struct hk_ctr c;
	struct hk_store s;
	int r;

	if (argc != 3)
		return hk_error_setx(err, -EINVAL, "rename: expected CONTAINER NEW_NAME");
	if ((r = ctl_store_open(g, &s, err)) < 0)
		return r;
	if ((r = find(g, &s, argv[1], &c, err)) >= 0) {
		r = hk_ctr_rename(&s, c.id, c.name, argv[2], err);
		hk_ctr_free(&c);
	}
	/* A running container answers to its new name on its networks. */
	if (r >= 0 && (r = find(g, &s, argv[2], &c, err)) >= 0) {
		if (c.status == HK_CTR_RUNNING)
			r = ctl_record_names(g, &s, &c, err);
		hk_ctr_free(&c);
	}
	hk_store_close(&s);
	return r;
}

/* hakoctl top CONTAINER [PS-ARGS...]: its processes, through `RUNTIME ps`. */
int ctl_top(const struct ctl_globals *g, int argc, char **argv, struct hk_error *err)
{
	_cleanup_free_ const char **args = hk_xmalloc((size_t)(argc + 3) * sizeof(*args));
	struct hk_ctr c;
	struct hk_store s;
	int n = 0, r;

	if (argc < 2)
		return hk_error_setx(err, -EINVAL, "top: expected a CONTAINER");
	if ((r = ctl_store_open(g, &s, err)) < 0)
		return r;
	r = find(g, &s, argv[1], &c, err);
	hk_store_close(&s);
	if (r < 0)
		return r;
	if (c.status != HK_CTR_RUNNING) {
		r = hk_error_setx(err, -EINVAL, "container \"%s\" is not running", c.name);
		goto out;
	}
	args[n++] = "ps";
	args[n++] = c.id;
	for (int i = 2; i < argc; i++)
		args[n++] = argv[i];
	args[n] = NULL;
	fflush(stdout);
	if ((r = ctl_runtime_call(g, args, false, err)) > 0)
		r = hk_error_setx(err, -EIO, "the runtime's ps failed");
out:
	hk_ctr_free(&c);
	return r < 0 ? r : 0;
}

/* One sample of a container's cgroups: CPU time (ns), memory, its limit, pids. */
struct sample {
	double cpu_ns, mem, limit, pids;
	bool ok;
};

static double number_at(const struct hk_json *v, const char *const *path)
{
	for (; v && *path; path++)
		v = hk_json_get(v, *path);
	return v && v->type == HK_JSON_NUMBER ? strtod(v->text, NULL) : 0;
}

static struct sample take_sample(const struct ctl_globals *g, const char *id)
{
	const char *args[] = {"events", "--stats", id, NULL};
	struct hk_buf out = HK_BUF_INIT;
	struct hk_error err = {0};
	struct hk_json *v = NULL;
	struct sample smp = {0};

	if (ctl_runtime_output(g, args, &out, &err) == 0 &&
	    hk_json_parse(out.buf, out.len, &v, &err) == 0) {
		const struct hk_json *d = hk_json_get(v, "data");
		smp.cpu_ns = number_at(d, (const char *const[]){"cpu", "usage", "total", NULL});
		smp.mem = number_at(d, (const char *const[]){"memory", "usage", "usage", NULL});
		smp.limit = number_at(d, (const char *const[]){"memory", "usage", "limit", NULL});
		smp.pids = number_at(d, (const char *const[]){"pids", "current", NULL});
		smp.ok = true;
	}
	hk_json_free(v);
	hk_buf_release(&out);
	return smp;
}

static void human_bytes(double n, char *buf, size_t size)
{
	static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
	int u = 0;

	while (n >= 1024 && u < 4)
		n /= 1024, u++;
	snprintf(buf, size, u ? "%.1f%s" : "%.0f%s", n, units[u]);
}

/*
 * hakoctl stats [--no-stream] [CONTAINER...]: CPU %, memory and pids of
 * running containers from their cgroups (`RUNTIME events --stats`), two
 * samples half a second apart for the CPU; each second again, unless
 * --no-stream.
 */
int ctl_stats(const struct ctl_globals *g, int argc, char **argv, struct hk_error *err)
{
	static const struct option opts[] = {
	    {"no-stream", no_argument, NULL, 'n'},
	    {NULL, 0, NULL, 0},
	};
	bool stream = true;
	struct hk_ctr *v = NULL, *pick;
	struct hk_store s;
	size_t n = 0, k = 0;
	int ch, r;

	optind = 0;
	while ((ch = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		if (ch != 'n')
			return hk_error_setx(err, -EINVAL, "see hakoctl stats --help");
		stream = false;
	}
	if ((r = ctl_store_open(g, &s, err)) < 0)
		return r;
	if ((r = hk_ctr_list(&s, ctl_run_dir(g), &v, &n, err)) < 0)
		goto out;
	pick = hk_xmalloc((n ? n : 1) * sizeof(*pick));
	for (size_t i = 0; i < n; i++) {
		bool named = optind == argc;
		for (int j = optind; j < argc && !named; j++)
			named = strcmp(argv[j], v[i].name) == 0 ||
				strncmp(v[i].id, argv[j], strlen(argv[j])) == 0;
		if (named && v[i].status == HK_CTR_RUNNING)
			pick[k++] = v[i];
	}
	if (optind < argc && k < (size_t)(argc - optind)) {
		r = hk_error_setx(err, -ENOENT, "not every container named is running");
		free(pick);
		goto out;
	}
	do {
		struct sample *a = hk_xmalloc((k ? k : 1) * sizeof(*a));
		struct timespec t0, t1;

		clock_gettime(CLOCK_MONOTONIC, &t0);
		for (size_t i = 0; i < k; i++)
			a[i] = take_sample(g, pick[i].id);
		usleep(500 * 1000);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		double wall =
		    (double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec);
		printf("%-12s  %-20s  %7s  %-21s  %6s  %s\n", "CONTAINER ID", "NAME", "CPU %",
		       "MEM USAGE / LIMIT", "MEM %", "PIDS");
		for (size_t i = 0; i < k; i++) {
			struct sample b = take_sample(g, pick[i].id);
			char mem[32], lim[32], usage[72];
			bool limited = b.limit > 0 && b.limit < 1e18;

			human_bytes(b.mem, mem, sizeof(mem));
			human_bytes(limited ? b.limit : 0, lim, sizeof(lim));
			snprintf(usage, sizeof(usage), "%s / %s", mem, limited ? lim : "-");
			printf("%.12s  %-20.20s  %6.2f%%  %-21s  %5.2f%%  %.0f\n", pick[i].id,
			       pick[i].name,
			       a[i].ok && b.ok ? (b.cpu_ns - a[i].cpu_ns) / wall * 100 : 0.0, usage,
			       limited ? b.mem / b.limit * 100 : 0.0, b.pids);
		}
		fflush(stdout);
		free(a);
	} while (stream);
	free(pick);
out:
	hk_ctr_list_free(v, n);
	hk_store_close(&s);
	return r;
}

/* hakoctl container prune: every container that is not running goes (as rm does). */
static int container_prune(const struct ctl_globals *g, struct hk_error *err)
{
	struct rm_opts o = {0};
	struct hk_ctr *v = NULL;
	struct hk_store s;
	size_t n = 0;
	int r;

	if ((r = ctl_store_open(g, &s, err)) < 0)
		return r;
	if ((r = hk_ctr_list(&s, ctl_run_dir(g), &v, &n, err)) >= 0)
		for (size_t i = 0; i < n; i++) {
			if (v[i].status != HK_CTR_EXITED && v[i].status != HK_CTR_CREATED)
				continue;
			if (v[i].watcher > 0) /* created under its monitor, or being restarted */
				continue;
			if (rm_one(g, &s, &v[i], &o, err) < 0) {
				fprintf(stderr, "hakoctl container prune: %s\n", err->msg);
				hk_error_clear(err);
			} else {
				printf("%s\n", v[i].id);
			}
		}
	hk_ctr_list_free(v, n);
	hk_store_close(&s);
	return r < 0 ? r : 0;
}

/* hakoctl container ls|ps|rm|inspect|prune ...: docker's long forms. */
int ctl_container(const struct ctl_globals *g, int argc, char **argv, struct hk_error *err)
{
	if (argc >= 2 && strcmp(argv[1], "prune") == 0 && argc == 2)
		return container_prune(g, err);
	if (argc >= 2 && (strcmp(argv[1], "ls") == 0 || strcmp(argv[1], "list") == 0 ||
			  strcmp(argv[1], "ps") == 0))
		return ctl_ps(g, argc - 1, argv + 1, err);
	if (argc >= 2 && strcmp(argv[1], "rm") == 0)
		return ctl_rm(g, argc - 1, argv + 1, err);
	return hk_error_setx(err, -EINVAL, "container ls|rm|prune (and the short forms: ps, rm)");
}

/*
 * hakoctl generate systemd [--name] CONTAINER: a unit that starts the
 * container at boot (and stops it at shutdown), as podman's. Its monitor
 * applies --restart once it is up; the unit only brings it up.
 */
int ctl_generate(const struct ctl_globals *g, int argc, char **argv, struct hk_error *err)
{
	_cleanup_free_ char *self = ctl_beside_self("hakoctl");
	char exe[4096];
	struct hk_ctr c;
	struct hk_store s;
	bool by_name = false;
	ssize_t n;
	int i = 2, r;

	if (argc < 3 || strcmp(argv[1], "systemd") != 0)
		return hk_error_setx(err, -EINVAL, "generate systemd [--name] CONTAINER");
	if (strcmp(argv[i], "--name") == 0 || strcmp(argv[i], "-n") == 0)
		by_name = true, i++;
	if (i != argc - 1)
		return hk_error_setx(err, -EINVAL, "generate systemd [--name] CONTAINER");
	if ((n = readlink("/proc/self/exe", exe, sizeof(exe) - 1)) > 0)
		exe[n] = '\0';
	else
		snprintf(exe, sizeof(exe), "%s", self);
	if ((r = ctl_store_open(g, &s, err)) < 0)
		return r;
	if ((r = find(g, &s, argv[i], &c, err)) >= 0) {
		const char *who = by_name ? c.name : c.id;
		const struct hk_json *rp = hk_json_get(c.record, "RestartPolicy");
		printf("# container-%s.service, made by hakoctl generate systemd\n"
		       "[Unit]\n"
		       "Description=hakoctl container %s\n"
		       "Wants=network-online.target\n"
		       "After=network-online.target\n"
		       "\n"
		       "[Service]\n"
		       "Type=oneshot\n"
		       "RemainAfterExit=yes\n"
		       "Environment=HAKO_STORAGE=%s\n"
		       "ExecStart=%s --storage %s --runroot %s start %s\n"
		       "ExecStop=%s --storage %s --runroot %s stop -t 10 %s\n"
		       "# its restart policy (%s) is its monitor's\n"
		       "\n"
		       "[Install]\n"
		       "WantedBy=default.target\n",
		       c.name, c.name, s.root, exe, s.root, ctl_run_dir(g), who, exe, s.root,
		       ctl_run_dir(g), who,
		       hk_json_get_string(rp, "Name") ? hk_json_get_string(rp, "Name") : "no");
		hk_ctr_free(&c);
	}
	hk_store_close(&s);
	return r < 0 ? r : 0;
}
