/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "log.h"
#include "selfexe.h"

static const struct {
	const char *name;
	hako_command_fn fn;
	const char *help;
	const char *usage; /* after "usage: hako NAME " */
} commands[] = {
    {"create", cmd_create, "create a container",
     "[--bundle DIR] [--console-socket PATH] [--pid-file FILE] [--no-pivot]\n"
     "       [--no-new-keyring] [--preserve-fds N] ID"},
    {"start", cmd_start, "start a created container", "ID"},
    {"run", cmd_run, "create and start a container",
     "[--bundle DIR] [--console-socket PATH] [--pid-file FILE] [--detach] [--keep]\n"
     "       [--no-pivot] [--no-new-keyring] [--preserve-fds N] ID"},
    {"exec", cmd_exec, "run a new process in a running container",
     "[--process FILE] [--tty] [--detach] [--env K=V]... [--user UID[:GID]]\n"
     "       [--cwd DIR] [--cap CAP]... [--no-new-privs] [--console-socket PATH]\n"
     "       [--pid-file FILE] [--preserve-fds N] [--apparmor PROFILE]\n"
     "       [--process-label LABEL] ID [COMMAND [ARG...]]"},
    {"state", cmd_state, "print the state of a container", "ID"},
    {"kill", cmd_kill, "send a signal to a container's init", "[--all] ID [SIGNAL]"},
    {"delete", cmd_delete, "delete a container and everything it had", "[--force] ID"},
    {"list", cmd_list, "list containers", "[--format table|json] [--quiet]"},
    {"pause", cmd_pause, "freeze every process of a container", "ID"},
    {"resume", cmd_resume, "thaw a paused container", "ID"},
    {"ps", cmd_ps, "list the processes of a container", "[--format table|json] ID [PS-ARGS...]"},
    {"update", cmd_update, "change a container's resource limits",
     "[--resources FILE|-] [--memory N] [--memory-swap N] [--memory-reservation N]\n"
     "       [--cpu-share N] [--cpu-quota N] [--cpu-period N] [--cpu-rt-period N]\n"
     "       [--cpu-rt-runtime N] [--cpuset-cpus LIST] [--cpuset-mems LIST]\n"
     "       [--pids-limit N] [--blkio-weight N] ID"},
    {"events", cmd_events, "print a container's statistics and OOM events",
     "[--stats] [--interval DURATION] ID"},
    {"spec", cmd_spec, "write a default config.json", "[--bundle DIR] [--rootless]"},
    {"features", cmd_features, "print the features hako supports, as JSON", ""},
};

/*
 * "hako COMMAND --help" (or -h) among the options before the first operand:
 * the command's usage on stdout, exit 0, as runc does. Later words belong to
 * the container ("hako exec ID ls --help").
 */
static bool wants_help(int argc, char **argv)
{
	for (int i = 1; i < argc && argv[i][0] == '-' && strcmp(argv[i], "--"); i++)
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
			return true;
	return false;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: hako [global options] COMMAND [options] [ID]\n\n"
		   "hako is an OCI container runtime with runc's command line.\n\n"
		   "Commands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].help);
	fprintf(f, "\nGlobal options:\n"
		   "  --root DIR             state directory (default /run/hako)\n"
		   "  --log FILE             write logs and errors to FILE\n"
		   "  --log-format text|json the log format (default text)\n"
		   "  --debug                narrate every kernel step\n"
		   "  --systemd-cgroup       use systemd for cgroups (not supported yet)\n"
		   "  --rootless auto|true|false\n"
		   "                         without root, skip the cgroups we may not\n"
		   "                         write (auto: when not root on the host)\n"
		   "  --version, --help\n");
}

/*
 * runc's --rootless auto: rootless when not root, or when root only inside
 * a user namespace (the initial one maps all 2^32 ids onto themselves).
 */
static bool running_rootless(void)
{
	char map[128] = "";
	unsigned inside, outside, count;
	int fd;
	ssize_t n;

	if (geteuid() != 0)
		return true;
	fd = open("/proc/self/uid_map", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, map, sizeof(map) - 1);
	close(fd);
	map[n > 0 ? n : 0] = '\0';
	return sscanf(map, "%u %u %u", &inside, &outside, &count) != 3 || inside != 0 ||
	       outside != 0 || count != 4294967295U;
}

int main(int argc, char **argv)
{
	static char rootless_root[4096];
	static const struct option opts[] = {
	    {"root", required_argument, NULL, 'r'},
	    {"log", required_argument, NULL, 'l'},
	    {"log-format", required_argument, NULL, 'f'},
	    {"debug", no_argument, NULL, 'd'},
	    {"systemd-cgroup", no_argument, NULL, 's'},
	    {"rootless", required_argument, NULL, 'R'},
	    {"version", no_argument, NULL, 'v'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct hako_globals g = {.root = "/run/hako"};
	enum hk_log_format format = HK_LOG_TEXT;
	const char *log_path = NULL;
	bool systemd_cgroup = false, root_given = false;
	const char *rootless = "auto";
	struct hk_error err = {0};
	int c, log_fd = -1, r;

	/* "+": stop at the command, whose options are its own. */
	while ((c = getopt_long(argc, argv, "+hv", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			g.root = optarg;
			root_given = true;
			break;
		case 'l':
			log_path = optarg;
			break;
		case 'f':
			if (strcmp(optarg, "json") && strcmp(optarg, "text")) {
				fprintf(stderr, "hako: --log-format: unknown format \"%s\"\n",
					optarg);
				return 1;
			}
			format = strcmp(optarg, "json") == 0 ? HK_LOG_JSON : HK_LOG_TEXT;
			break;
		case 'd':
			g.debug = true;
			break;
		case 's':
			systemd_cgroup = true;
			break;
		case 'R':
			if (strcmp(optarg, "auto") && strcmp(optarg, "true") &&
			    strcmp(optarg, "false")) {
				fprintf(stderr, "hako: --rootless: expected auto, true or false\n");
				return 1;
			}
			rootless = optarg;
			break;
		case 'v':
			printf("hako version %s\nspec: 1.3.0\n", HAKO_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 1;
		}
	}
	if (log_path) {
		log_fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
		if (log_fd < 0) {
			fprintf(stderr, "hako: open log \"%s\": %m\n", log_path);
			return 1;
		}
	}
	hk_log_setup(log_fd >= 0 ? log_fd : STDERR_FILENO, format, g.debug);
	g.rootless = strcmp(rootless, "auto") ? strcmp(rootless, "true") == 0 : running_rootless();
	/* A user without root keeps its state where it may write, as runc does. */
	if (g.rootless && !root_given && geteuid() != 0 && getenv("XDG_RUNTIME_DIR")) {
		snprintf(rootless_root, sizeof(rootless_root), "%s/hako",
			 getenv("XDG_RUNTIME_DIR"));
		g.root = rootless_root;
	}
	if (optind >= argc) {
		usage(stderr);
		return 1;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(commands[i].name, argv[optind]) != 0)
			continue;
		if (wants_help(argc - optind, argv + optind)) {
			printf("usage: hako %s%s%s\n\n%s. See hako-%s(8).\n", commands[i].name,
			       *commands[i].usage ? " " : "", commands[i].usage, commands[i].help,
			       commands[i].name);
			return 0;
		}
		/* These leave a hako process in a container: never the host's binary. */
		if ((!strcmp(commands[i].name, "create") || !strcmp(commands[i].name, "run") ||
		     !strcmp(commands[i].name, "exec")) &&
		    hk_selfexe_reexec_sealed(argv, &err) < 0) {
			fprintf(stderr, "hako: %s\n", err.msg);
			return 1;
		}
		/* Only the commands that make cgroups care about the driver. */
		if (systemd_cgroup &&
		    (!strcmp(argv[optind], "create") || !strcmp(argv[optind], "run")))
			r = hk_error_setx(&err, -EOPNOTSUPP,
					  "--systemd-cgroup: the systemd cgroup driver is not "
					  "supported yet; omit the flag to use cgroupfs");
		else
			r = commands[i].fn(&g, argc - optind, argv + optind, &err);
		if (r >= 0)
			return r;
		/* With --log the error goes there, once, in its format (engines read
		 * exactly one JSON object); a person at the terminal sees it too. */
		if (log_fd >= 0 || format == HK_LOG_JSON)
			hk_log_write("error", "%s", err.msg);
		if (log_fd >= 0 || format == HK_LOG_TEXT)
			fprintf(stderr, "hako: %s\n", err.msg);
		/* exec's own status is the process's: hako's failure is 255, as runc. */
		return strcmp(commands[i].name, "exec") ? 1 : 255;
	}
	fprintf(stderr, "hako: unknown command \"%s\"\n", argv[optind]);
	return 1;
}
