// SPDX-License-Identifier: GPL-2.0-or-later
/* hakoctl exec: a command in a running container, through the runtime. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bundle.h"
#include "commands.h"
#include "container.h"
#include "paths.h"
#include "runtime.h"
#include "util.h"

/*
 * hakoctl exec [-i] [-t] [-d] [-e K=V]... [-w DIR] [-u USER[:GROUP]]
 * CONTAINER COMMAND [ARG...]: `RUNTIME exec` in a running container, in the
 * foreground as run is (signals passed on, the command's exit status, or
 * docker's 125/126/127 when it did not start).
 */
int ctl_exec(const struct ctl_globals *g, int argc, char **argv, struct hk_error *err)
{
	static const struct option opts[] = {
	    {"interactive", no_argument, NULL, 'i'},
	    {"tty", no_argument, NULL, 't'},
	    {"detach", no_argument, NULL, 'd'},
	    {"env", required_argument, NULL, 'e'},
	    {"workdir", required_argument, NULL, 'w'},
	    {"user", required_argument, NULL, 'u'},
	    {NULL, 0, NULL, 0},
	};
	_cleanup_free_ const char **args = hk_xmalloc((size_t)(2 * argc + 16) * sizeof(*args));
	/* the -e K made K=V */
	_cleanup_strv_free_ char **owned = hk_xmalloc((size_t)(argc + 1) * sizeof(*owned));
	size_t n_owned = 0;
	struct ctl_runtime_log log = {.fd = -1, .debug = g->debug, .pending = HK_BUF_INIT};
	const char *user = NULL;
	bool interactive = false, tty = false;
	char userbuf[64], pidf[PATH_MAX];
	struct hk_ctr c = {0};
	struct hk_store s;
	int n = 0, ch, r, status;

	owned[0] = NULL;
	args[n++] = "exec";
	optind = 0;
	while ((ch = getopt_long(argc, argv, "+itde:w:u:", opts, NULL)) != -1) {
		switch (ch) {
		case 'i':
			interactive = true;
			break;
		case 't':
			tty = true;
			args[n++] = "--tty";
			break;
		case 'd':
			args[n++] = "--detach";
			break;
		case 'e':
			args[n++] = "--env";
			/* "K" alone takes K from our environment, as docker's -e. */
			if (!strchr(optarg, '=') && getenv(optarg)) {
				size_t len = strlen(optarg) + strlen(getenv(optarg)) + 2;
				char *kv = hk_xmalloc(len);
				snprintf(kv, len, "%s=%s", optarg, getenv(optarg));
				owned[n_owned++] = kv;
				owned[n_owned] = NULL;
				args[n++] = kv;
			} else {
				args[n++] = optarg;
			}
			break;
		case 'w':
			if (optarg[0] != '/')
				return hk_error_setx(err, -EINVAL, "--workdir \"%s\": not absolute",
						     optarg);
			args[n++] = "--cwd";
			args[n++] = optarg;
			break;
		case 'u':
			user = optarg;
			break;
		default:
			return hk_error_setx(err, -EINVAL, "see hakoctl exec --help");
		}
	}
	if (argc - optind < 2)
		return hk_error_setx(err, -EINVAL, "exec: expected a CONTAINER and a COMMAND");
	if ((r = ctl_store_open(g, &s, err)) < 0)
		return r;
	if ((r = hk_ctr_find(&s, ctl_run_dir(g), argv[optind], &c, err)) < 0)
		goto out;
	if (c.status != HK_CTR_RUNNING || c.init <= 0) {
		r = hk_error_setx(err, -EINVAL, "container \"%s\" is not running", c.name);
		goto out;
	}
	if (user) {
		/* Names are looked up in the container's own files, as it sees them. */
		char root[64];
		unsigned uid, gid;
		_cleanup_close_ int rootfd = -1;

		snprintf(root, sizeof(root), "/proc/%d/root", (int)c.init);
		if ((rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0) {
			r = hk_error_set(err, -errno, "the root of container \"%s\"", c.name);
			goto out;
		}
		if ((r = hk_resolve_user(rootfd, user, &uid, &gid, NULL, err)) < 0)
			goto out;
		snprintf(userbuf, sizeof(userbuf), "%u:%u", uid, gid);
		args[n++] = "--user";
		args[n++] = userbuf;
	}
	/* Its pid file says whether it started: none, and the runtime's log says why. */
	snprintf(pidf, sizeof(pidf), "%s/bundles/%s/exec-%d.pid", ctl_run_dir(g), c.id,
		 (int)getpid());
	args[n++] = "--pid-file";
	args[n++] = pidf;
	args[n++] = c.id;
	for (int i = optind + 1; i < argc; i++)
		args[n++] = argv[i];
	args[n] = NULL;
	hk_store_close(&s);
	status = ctl_foreground(g, args, interactive || tty, pidf, NULL, &log, &r, err);
	unlink(pidf);
	if (r < 0)
		fprintf(stderr, "hakoctl exec: %s\n", err->msg);
	ctl_runtime_log_release(&log);
	hk_ctr_free(&c);
	return status;
out:
	hk_ctr_free(&c);
	hk_store_close(&s);
	return r;
}
