// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A container's lifecycle, as docker's commands: start [-a] [-i], stop
 * [-t], restart, kill [-s], pause, unpause, wait, rm [-f] [-v] (with its
 * upper dir, record and runtime state), container prune. Each takes
 * CONTAINER... and says of each whether it worked (for_each).
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
#include <unistd.h>

#include "attach.h"
#include "commands.h"
#include "container.h"
#include "fsutil.h"
#include "json.h"
#include "log.h"
#include "monitor.h"
#include "network.h"
#include "runtime.h"
#include "util.h"

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
