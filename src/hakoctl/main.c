// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * hakoctl: the tool a person types. It keeps images in a store of layers
 * (src/image), builds an OCI bundle from an image and the command line
 * (src/engine), and drives an OCI runtime through its command line, as
 * podman drives crun: `hako` by default, `--runtime crun` or `runc` too.
 *
 * Exit status, as docker's: the container's own; 125 when hakoctl itself
 * fails; 126 when the command cannot be run, 127 when it is not found.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "commands.h"
#include "container.h"
#include "log.h"
#include "util.h"

#define EXIT_HAKOCTL 125

static const struct {
	const char *name;
	ctl_command_fn fn;
	const char *help, *usage;
} commands[] = {
    {"run", ctl_run, "run a command in a new container from an image",
     "[OPTIONS] IMAGE [COMMAND [ARG...]]"},
    {"exec", ctl_exec, "run a command in a running container",
     "[-i] [-t] [-d] [-e K=V]... [-w DIR] [-u USER[:GROUP]] CONTAINER COMMAND [ARG...]"},
    {"create", ctl_create, "make a container from an image, not started (its monitor waits)",
     "[OPTIONS] IMAGE [COMMAND [ARG...]]"},
    {"start", ctl_start, "start created or exited containers, detached", "CONTAINER..."},
    {"stop", ctl_stop, "stop containers: SIGTERM, then SIGKILL after -t seconds (10)",
     "[-t SECONDS] CONTAINER..."},
    {"restart", ctl_restart, "stop, then start containers", "[-t SECONDS] CONTAINER..."},
    {"kill", ctl_kill, "send a signal to running containers (SIGKILL)", "[-s SIGNAL] CONTAINER..."},
    {"attach", ctl_attach, "our terminal on a detached container's (detach: ctrl-p ctrl-q)",
     "[--no-stdin] [--detach-keys KEYS] [--sig-proxy=false] CONTAINER"},
    {"network", ctl_network,
     "networks: ls, inspect, create, rm, prune, connect, disconnect, reload",
     "ls | inspect NAME | reload"},
    {"port", ctl_port, "the published ports of a container", "CONTAINER [PORT[/PROTO]]"},
    {"pause", ctl_pause, "freeze every process of running containers", "CONTAINER..."},
    {"unpause", ctl_unpause, "thaw paused containers", "CONTAINER..."},
    {"wait", ctl_wait, "wait for containers to exit; print their exit codes", "CONTAINER..."},
    {"logs", ctl_logs, "what a detached container wrote, with its stream",
     "[-f] [--tail N] [--since TIME] [-t] CONTAINER"},
    {"top", ctl_top, "the processes of a running container", "CONTAINER [PS-ARGS...]"},
    {"stats", ctl_stats, "CPU %, memory and pids of running containers, from their cgroups",
     "[--no-stream] [CONTAINER...]"},
    {"rename", ctl_rename, "give a container another name", "CONTAINER NEW_NAME"},
    {"cp", ctl_cp, "copy files out of a container or into it (never through its symlinks)",
     "CONTAINER:PATH HOSTPATH | HOSTPATH CONTAINER:PATH"},
    {"commit", ctl_commit, "a new image: the container's image and a layer of its changes",
     "[-m MESSAGE] [-a AUTHOR] [-c CHANGE]... [--pause=false] CONTAINER [NAME[:TAG]]"},
    {"generate", ctl_generate, "a systemd unit that starts a container at boot",
     "systemd [--name] CONTAINER"},
    {"export", ctl_export, "a container's files as a tar (import makes an image of it)",
     "[-o FILE] CONTAINER"},
    {"container", ctl_container, "containers: ls, rm, prune (every one not running)",
     "ls [OPTIONS] | rm [-f] [-v] CONTAINER... | prune"},
    {"volume", ctl_volume, "volumes: create, ls, inspect, rm, prune",
     "create [NAME] | ls [-q] | inspect NAME... | rm [-f] NAME... | prune [-a]"},
    {"ps", ctl_ps, "list containers",
     "[-a] [-q] [--no-trunc] [--format json|table] [--filter status=S|name=N]"},
    {"rm", ctl_rm,
     "remove containers (-f: a running one is killed first; -v: its anonymous volumes)",
     "[-f] [-v] CONTAINER..."},
    {"load", ctl_load, "load images from a docker-archive or OCI archive",
     "[-i FILE|-] [--platform OS/ARCH] [-q]"},
    {"import", ctl_import, "make an image of a rootfs tarball",
     "[--change 'CMD ...']... [-m MESSAGE] FILE|- [NAME[:TAG]]"},
    {"save", ctl_save, "write an image as a docker-archive or OCI archive",
     "[-o FILE] [--format docker-archive|oci-archive] IMAGE"},
    {"images", ctl_images, "list images", "[-q] [--digests] [--no-trunc] [--format json]"},
    {"inspect", ctl_inspect, "show containers (State, Config...) or images as JSON",
     "CONTAINER|IMAGE..."},
    {"history", ctl_history, "show how an image's layers were made", "[--no-trunc] IMAGE"},
    {"tag", ctl_tag, "give an image another name", "IMAGE NAME[:TAG]"},
    {"rmi", ctl_rmi, "remove images", "[-f] IMAGE..."},
    {"prune", ctl_prune, "remove unnamed images and unused layers", "[-a]"},
    {"system", ctl_system, "the store's disk use; what a crash left, removed", "df | gc"},
};

static void usage(FILE *f)
{
	fprintf(f, "usage: hakoctl [--storage DIR] [--runtime NAME|PATH] [--runroot DIR] "
		   "[--debug] COMMAND ...\n\ncommands:\n");
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		fprintf(f, "  %-9s %s\n", commands[i].name, commands[i].help);
}

int ctl_store_open(const struct ctl_globals *g, struct hk_store *ret, struct hk_error *err)
{
	int r = hk_store_open(g->storage, ret, err);

	/* What a killed hakoctl left of a container it was making or removing. */
	if (r >= 0)
		hk_ctr_sweep(ret, ctl_run_dir(g));
	return r;
}

int ctl_parse_format(const char *arg, bool *ret_json, struct hk_error *err)
{
	if (strcmp(arg, "json") != 0 && strcmp(arg, "table") != 0)
		return hk_error_setx(err, -EINVAL, "--format \"%s\": json or table", arg);
	*ret_json = strcmp(arg, "json") == 0;
	return 0;
}

unsigned long long ctl_max_bytes(void)
{
	const char *s = getenv("HAKO_IMAGE_MAX_BYTES");
	long long n;

	if (s && hk_parse_int64(s, &n) == 0 && n > 0)
		return (unsigned long long)n;
	return 64ull << 30;
}

void ctl_human_size(unsigned long long n, char *buf, size_t size)
{
	static const char *const units[] = {"B", "kB", "MB", "GB", "TB"};
	double v = (double)n;
	size_t u = 0;

	while (v >= 1000 && u + 1 < ARRAY_SIZE(units)) {
		v /= 1000;
		u++;
	}
	snprintf(buf, size, u ? "%.3g%s" : "%.0f%s", v, units[u]);
}

void ctl_human_ago(const char *rfc3339, char *buf, size_t size)
{
	struct tm tm = {0};
	long long d;

	if (!rfc3339 || !strptime(rfc3339, "%Y-%m-%dT%H:%M:%S", &tm)) {
		snprintf(buf, size, "N/A");
		return;
	}
	d = (long long)(time(NULL) - timegm(&tm));
	if (d < 60)
		snprintf(buf, size, "%lld seconds ago", d < 0 ? 0 : d);
	else if (d < 3600)
		snprintf(buf, size, "%lld minutes ago", d / 60);
	else if (d < 86400 * 2)
		snprintf(buf, size, "%lld hours ago", d / 3600);
	else if (d < 86400 * 14)
		snprintf(buf, size, "%lld days ago", d / 86400);
	else if (d < 86400 * 60)
		snprintf(buf, size, "%lld weeks ago", d / (86400 * 7));
	else if (d < 86400 * 730)
		snprintf(buf, size, "%lld months ago", d / (86400 * 30));
	else
		snprintf(buf, size, "%lld years ago", d / (86400 * 365));
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"storage", required_argument, NULL, 's'},
	    {"runtime", required_argument, NULL, 'r'},
	    {"runroot", required_argument, NULL, 'R'},
	    {"debug", no_argument, NULL, 'd'},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'v'},
	    {NULL, 0, NULL, 0},
	};
	struct ctl_globals g = {
	    .storage = getenv("HAKO_STORAGE") ? getenv("HAKO_STORAGE") : HK_STORE_DEFAULT,
	    .runtime = "hako",
	    .runroot = getenv("HAKO_RUNROOT"),
	};
	struct hk_error err = {0};
	int c, r;

	/* "+": options stop at the command, whose own options follow it. */
	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1)
		switch (c) {
		case 's':
			g.storage = optarg;
			break;
		case 'r':
			g.runtime = optarg;
			break;
		case 'R':
			g.runroot = optarg;
			break;
		case 'd':
			g.debug = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'v':
			printf("hakoctl version %s\n", HAKO_VERSION);
			return 0;
		default:
			usage(stderr);
			return EXIT_HAKOCTL;
		}
	hk_log_set_name("hakoctl");
	hk_log_setup(2, HK_LOG_TEXT, g.debug);
	if (optind >= argc) {
		usage(stderr);
		return EXIT_HAKOCTL;
	}
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++) {
		if (strcmp(argv[optind], commands[i].name) != 0)
			continue;
		for (int j = optind + 1; j < argc && argv[j][0] == '-' && strcmp(argv[j], "--");
		     j++)
			if (!strcmp(argv[j], "--help") || !strcmp(argv[j], "-h")) {
				printf("usage: hakoctl %s %s\n\n%s\n", commands[i].name,
				       commands[i].usage, commands[i].help);
				return 0;
			}
		optind++;
		r = commands[i].fn(&g, argc - optind + 1, argv + optind - 1, &err);
		if (r < 0) {
			fprintf(stderr, "hakoctl %s: %s\n", commands[i].name, err.msg);
			return EXIT_HAKOCTL;
		}
		return r;
	}
	fprintf(stderr, "hakoctl: unknown command \"%s\"\n", argv[optind]);
	usage(stderr);
	return EXIT_HAKOCTL;
}
