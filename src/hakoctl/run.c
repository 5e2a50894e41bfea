// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * hakoctl run [OPTIONS] IMAGE [COMMAND [ARG...]]: a container from an image,
 * in the foreground. The path, step by step:
 *
 * 1. the image: the name resolves in the store (the built-in busybox is made
 *    on first use);
 * 2. the rootfs: the store's containers/<id>/ gets upper/ and work/; in a
 *    mount namespace of our own, an overlay of the image's layers is mounted
 *    on /run/hakoctl/rootfs (the bundle, in /run/hakoctl/bundles/<id>/, names
 *    it as root.path);
 * 3. the config: config.json from the image config and the flags (bundle.h),
 *    with names in --user looked up inside that rootfs;
 * 4. the runtime: `RUNTIME --root R --log /proc/self/fd/3 --log-format json
 *    run --bundle bundles/<id> --pid-file P <id>`, with our stdio (stdin
 *    only with -i or -t) and its log through a pipe (fd 3), in the
 *    foreground (runtime.h). Signals sent to hakoctl go on to the runtime,
 *    which passes them to the container; those from the terminal reach both
 *    already;
 * 5. the end: once the container's process has exited, its overlay is
 *    unmounted and, with --rm, its dir in the store removed, while the
 *    runtime tidies up its own state; then the bundle goes.
 *
 * The exit status is the container's. When the container never started
 * (no pid file), the runtime has shown its error, and that error from its
 * log gives the status, as docker's: 127 the command was not found, 126 it could not be
 * run, 125 anything else.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/mount.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "builtin.h"
#include "bundle.h"
#include "commands.h"
#include "container.h"
#include "fsutil.h"
#include "log.h"
#include "paths.h"
#include "rootfs.h"
#include "monitor.h"
#include "network.h"
#include "ports.h"
#include "runtime.h"
#include "util.h"
#include "volume.h"

extern char **environ;

struct run_flags {
	struct hk_bundle_opts b;
	bool rm, interactive, detach;
	const char *name, *restart;
	int restart_max;
	unsigned long long log_max;
	char **env, **caps_add, **caps_drop, **ulimits, **devices;
	size_t n_env, n_add, n_drop, n_ulimits, n_devices;
	struct hk_mount_spec *mounts; /* -v, --mount, --tmpfs, in order */
	size_t n_mounts;
	struct hk_port *ports; /* -p, a port each */
	size_t n_ports;
	char **port_specs; /* -p as given, for the record */
	size_t n_port_specs;
	bool publish_all;  /* -P: the image's ExposedPorts, each on a free port of the host's */
	char **made_specs; /* those of -P, which port_specs points at too */
	size_t n_made_specs;
	bool network_set;
	char *networks;			/* --network, each given, joined by commas */
	const char *ip, *ip6, *mac;	/* --ip, --ip6, --mac-address */
	char **dns, **hosts, **aliases; /* --dns, --add-host, --network-alias */
	size_t n_dns, n_hosts, n_aliases;
	const char *image;
};

static void push(char ***v, size_t *n, const char *s)
{
	*v = hk_xrealloc(*v, (*n + 2) * sizeof(char *));
	(*v)[(*n)++] = (char *)s;
	(*v)[*n] = NULL;
}

/* --env-file: KEY=VALUE or KEY per line; # comments and blank lines skipped. */
static int read_env_file(struct run_flags *f, const char *path, struct hk_error *err)
{
	char *text = NULL;
	int r;

	if ((r = hk_read_regular_file_at(AT_FDCWD, path, 1 << 20, &text, NULL, err)) < 0)
		return hk_error_prefix(err, "--env-file");
	for (char *save = NULL, *line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		line += strspn(line, " \t");
		if (*line && *line != '#')
			push(&f->env, &f->n_env, line);
	}
	/* The lines point into text, which lives as long as the command. */
	return 0;
}

static int security_opt(struct run_flags *f, const char *opt, struct hk_error *err)
{
	if (strcmp(opt, "no-new-privileges") == 0 || strcmp(opt, "no-new-privileges:true") == 0 ||
	    strcmp(opt, "no-new-privileges=true") == 0)
		f->b.no_new_privileges = true;
	else if (strncmp(opt, "seccomp=", 8) == 0 || strncmp(opt, "seccomp:", 8) == 0)
		f->b.seccomp = opt + 8;
	else
		return hk_error_setx(err, -EINVAL,
				     "--security-opt \"%s\": expected no-new-privileges or "
				     "seccomp=FILE|unconfined",
				     opt);
	return 0;
}

/* --restart no|on-failure[:N]|always|unless-stopped */
static int restart_policy(struct run_flags *f, const char *arg, struct hk_error *err)
{
	long long n = 0;

	if (strcmp(arg, "no") == 0 || strcmp(arg, "always") == 0 ||
	    strcmp(arg, "unless-stopped") == 0 || strcmp(arg, "on-failure") == 0) {
		f->restart = arg;
	} else if (strncmp(arg, "on-failure:", 11) == 0 && hk_parse_int64(arg + 11, &n) == 0 &&
		   n >= 0 && n < 1000000) {
		f->restart = "on-failure";
		f->restart_max = (int)n;
	} else {
		return hk_error_setx(err, -EINVAL,
				     "--restart \"%s\": no, on-failure[:N], always or "
				     "unless-stopped",
				     arg);
	}
	return 0;
}

static void run_flags_release(struct run_flags *f)
{
	free(f->env);
	free(f->caps_add);
	free(f->caps_drop);
	free(f->ulimits);
	free(f->devices);
	for (size_t i = 0; i < f->n_mounts; i++)
		hk_mount_spec_free(&f->mounts[i]);
	free(f->mounts);
	free(f->ports);
	free(f->port_specs);
	for (size_t i = 0; i < f->n_made_specs; i++)
		free(f->made_specs[i]);
	free(f->made_specs);
	free(f->dns);
	free(f->hosts);
	free(f->aliases);
	free(f->networks);
}

static struct ctl_net_opts net_opts(const struct run_flags *f)
{
	return (struct ctl_net_opts){.mode = f->b.network,
				     .hostname = f->b.hostname,
				     .ports = f->ports,
				     .n_ports = f->n_ports,
				     .ip = f->ip,
				     .ip6 = f->ip6,
				     .mac = f->mac,
				     .dns = (const char *const *)f->dns,
				     .hosts = (const char *const *)f->hosts,
				     .aliases = (const char *const *)f->aliases};
}

/*
 * --network none|host|NAME[,NAME...], given once or more: the networks
 * joined by commas (the first the one of the ports and the default route).
 */
static int network_flag(struct run_flags *f, const char *arg, struct hk_error *err)
{
	_cleanup_free_ char *copy = hk_xstrdup(arg);
	bool alone = strcmp(arg, "none") == 0 || strcmp(arg, "host") == 0 ||
		     strncmp(arg, "container:", 10) == 0;
	size_t len;

	if (alone ? f->network_set : (f->network_set && !ctl_network_bridged(f->b.network)))
		return hk_error_setx(
		    err, -EINVAL,
		    "--network %s: none, host and container:NAME are a container's "
		    "only network",
		    arg);
	for (char *save = NULL, *x = strtok_r(copy, ",", &save); !alone && x;
	     x = strtok_r(NULL, ",", &save))
		if (!hk_ctr_name_valid(x) || strlen(x) >= HK_NET_NAME_MAX)
			return hk_error_setx(err, -EINVAL,
					     "--network \"%s\": none, host, or networks' names "
					     "(hako, also called bridge, is the default one)",
					     arg);
	if (strncmp(arg, "container:", 10) == 0 && !arg[10])
		return hk_error_setx(err, -EINVAL,
				     "--network container: a container's name is missing");
	if (!alone && (!*arg || arg[strlen(arg) - 1] == ',' || strstr(arg, ",,")))
		return hk_error_setx(err, -EINVAL, "--network \"%s\": a name is missing", arg);
	len = f->networks ? strlen(f->networks) : 0;
	f->networks = hk_xrealloc(f->networks, len + strlen(arg) + 2);
	snprintf(f->networks + len, strlen(arg) + 2, "%s%s", len ? "," : "", arg);
	f->b.network = f->networks;
	f->network_set = true;
	return 0;
}

static int parse_flags(int argc, char **argv, struct run_flags *f, struct hk_error *err)
{
	enum {
		ENTRYPOINT = 256,
		ENV_FILE,
		READ_ONLY,
		CAP_ADD,
		CAP_DROP,
		PRIVILEGED,
		SECURITY_OPT,
		MEMORY_SWAP,
		CPUS,
		PIDS_LIMIT,
		ULIMIT,
		NETWORK,
		IP,
		IP6,
		MAC,
		DNS,
		ADD_HOST,
		ALIAS,
		RM,
		NAME,
		LOG_OPT,
		RESTART,
		MOUNT,
		TMPFS,
		DEVICE
	};
	static const struct option opts[] = {
	    {"rm", no_argument, NULL, RM},
	    {"name", required_argument, NULL, NAME},
	    {"detach", no_argument, NULL, 'd'},
	    {"log-opt", required_argument, NULL, LOG_OPT},
	    {"restart", required_argument, NULL, RESTART},
	    {"volume", required_argument, NULL, 'v'},
	    {"mount", required_argument, NULL, MOUNT},
	    {"tmpfs", required_argument, NULL, TMPFS},
	    {"device", required_argument, NULL, DEVICE},
	    {"interactive", no_argument, NULL, 'i'},
	    {"tty", no_argument, NULL, 't'},
	    {"entrypoint", required_argument, NULL, ENTRYPOINT},
	    {"env", required_argument, NULL, 'e'},
	    {"env-file", required_argument, NULL, ENV_FILE},
	    {"workdir", required_argument, NULL, 'w'},
	    {"user", required_argument, NULL, 'u'},
	    {"hostname", required_argument, NULL, 'h'},
	    {"read-only", no_argument, NULL, READ_ONLY},
	    {"cap-add", required_argument, NULL, CAP_ADD},
	    {"cap-drop", required_argument, NULL, CAP_DROP},
	    {"privileged", no_argument, NULL, PRIVILEGED},
	    {"security-opt", required_argument, NULL, SECURITY_OPT},
	    {"memory", required_argument, NULL, 'm'},
	    {"memory-swap", required_argument, NULL, MEMORY_SWAP},
	    {"cpus", required_argument, NULL, CPUS},
	    {"pids-limit", required_argument, NULL, PIDS_LIMIT},
	    {"ulimit", required_argument, NULL, ULIMIT},
	    {"network", required_argument, NULL, NETWORK},
	    {"net", required_argument, NULL, NETWORK},
	    {"publish", required_argument, NULL, 'p'},
	    {"publish-all", no_argument, NULL, 'P'},
	    {"ip", required_argument, NULL, IP},
	    {"ip6", required_argument, NULL, IP6},
	    {"mac-address", required_argument, NULL, MAC},
	    {"dns", required_argument, NULL, DNS},
	    {"add-host", required_argument, NULL, ADD_HOST},
	    {"network-alias", required_argument, NULL, ALIAS},
	    {"net-alias", required_argument, NULL, ALIAS},
	    {NULL, 0, NULL, 0},
	};
	char *end;
	long long size;
	int c, r;

	optind = 0;
	while ((c = getopt_long(argc, argv, "+dite:w:u:h:m:v:p:P", opts, NULL)) != -1) {
		switch (c) {
		case RM:
			f->rm = true;
			break;
		case NAME:
			f->name = optarg;
			break;
		case 'd':
			f->detach = true;
			break;
		case RESTART:
			if ((r = restart_policy(f, optarg, err)) < 0)
				return r;
			break;
		case 'v':
		case MOUNT:
		case TMPFS: {
			struct hk_mount_spec m;
			r = c == 'v'	 ? hk_mount_parse_volume(optarg, &m, err)
			    : c == MOUNT ? hk_mount_parse_mount(optarg, &m, err)
					 : hk_mount_parse_tmpfs(optarg, &m, err);
			if (r < 0)
				return r;
			f->mounts = hk_xrealloc(f->mounts, (f->n_mounts + 1) * sizeof(*f->mounts));
			f->mounts[f->n_mounts++] = m;
			break;
		}
		case LOG_OPT:
			if (strncmp(optarg, "max-size=", 9) != 0 ||
			    hk_parse_size(optarg + 9, &size) < 0 || size < 0)
				return hk_error_setx(err, -EINVAL,
						     "--log-opt \"%s\": max-size=SIZE (0: no cap)",
						     optarg);
			f->log_max = (unsigned long long)size;
			break;
		case 'i':
			f->interactive = true;
			break;
		case 't':
			f->b.tty = true;
			break;
		case ENTRYPOINT:
			f->b.entrypoint = optarg;
			break;
		case 'e':
			push(&f->env, &f->n_env, optarg);
			break;
		case ENV_FILE:
			if ((r = read_env_file(f, optarg, err)) < 0)
				return r;
			break;
		case 'w':
			if (optarg[0] != '/')
				return hk_error_setx(err, -EINVAL, "--workdir \"%s\": not absolute",
						     optarg);
			f->b.workdir = optarg;
			break;
		case 'u':
			f->b.user = optarg;
			break;
		case 'h':
			f->b.hostname = optarg;
			break;
		case READ_ONLY:
			f->b.read_only = true;
			break;
		case CAP_ADD:
			push(&f->caps_add, &f->n_add, optarg);
			break;
		case CAP_DROP:
			push(&f->caps_drop, &f->n_drop, optarg);
			break;
		case PRIVILEGED:
			f->b.privileged = true;
			break;
		case SECURITY_OPT:
			if ((r = security_opt(f, optarg, err)) < 0)
				return r;
			break;
		case 'm':
		case MEMORY_SWAP:
			if (hk_parse_size(optarg, c == 'm' ? &f->b.memory : &f->b.memory_swap) <
				0 &&
			    strcmp(optarg, "-1") != 0)
				return hk_error_setx(err, -EINVAL,
						     "--memory \"%s\": expected a size like 512m",
						     optarg);
			if (strcmp(optarg, "-1") == 0)
				f->b.memory_swap = -1;
			break;
		case CPUS:
			f->b.cpus = strtod(optarg, &end);
			if (*end || f->b.cpus <= 0)
				return hk_error_setx(err, -EINVAL,
						     "--cpus \"%s\": expected a number", optarg);
			break;
		case PIDS_LIMIT:
			if (hk_parse_int64(optarg, &f->b.pids_limit) < 0)
				return hk_error_setx(
				    err, -EINVAL, "--pids-limit \"%s\": expected a number", optarg);
			break;
		case ULIMIT:
			push(&f->ulimits, &f->n_ulimits, optarg);
			break;
		case DEVICE:
			push(&f->devices, &f->n_devices, optarg);
			break;
		case NETWORK:
			if ((r = network_flag(f, optarg, err)) < 0)
				return r;
			break;
		case 'P':
			f->publish_all = true;
			break;
		case 'p':
			if ((r = hk_ports_parse(optarg, &f->ports, &f->n_ports, err)) < 0)
				return r;
			push(&f->port_specs, &f->n_port_specs, optarg);
			break;
		case IP:
			f->ip = optarg;
			break;
		case IP6:
			f->ip6 = optarg;
			break;
		case MAC:
			f->mac = optarg;
			break;
		case DNS:
			push(&f->dns, &f->n_dns, optarg);
			break;
		case ADD_HOST:
			push(&f->hosts, &f->n_hosts, optarg);
			break;
		case ALIAS:
			push(&f->aliases, &f->n_aliases, optarg);
			break;
		default:
			return hk_error_setx(err, -EINVAL, "see hakoctl run --help");
		}
	}
	if (optind >= argc)
		return hk_error_setx(err, -EINVAL, "expected an IMAGE");
	if (f->rm && f->restart && strcmp(f->restart, "no") != 0)
		return hk_error_setx(err, -EINVAL, "--restart and --rm: one or the other");
	/* Ports are published on the default network, unless another is asked for. */
	if ((f->n_ports || f->ip || f->ip6 || f->mac) && !f->network_set)
		f->b.network = hk_network_default.name;
	if (f->publish_all && !ctl_network_bridged(f->b.network))
		return hk_error_setx(
		    err, -EINVAL, "-P with --network %s: it is for a container on a network (hako)",
		    f->b.network);
	struct ctl_net_opts no = net_opts(f);
	if ((r = ctl_net_opts_check(&no, err)) < 0)
		return r;
	f->image = argv[optind];
	f->b.args = argv + optind + 1;
	f->b.env = f->env;
	f->b.cap_add = f->caps_add;
	f->b.cap_drop = f->caps_drop;
	f->b.ulimits = f->ulimits;
	f->b.devices = f->devices;
	return 0;
}

/*
 * A container is in two places: what must last (its upper and work dirs and
 * the image it uses, which rmi checks) in the store, containers/<id>/; its
 * bundle (config.json and the pid file) under the run dir,
 * /run/hakoctl/bundles/<id>/, on tmpfs, where making and removing files
 * costs next to nothing. Its rootfs is mounted on /run/hakoctl/rootfs, the
 * same directory for every container: each mounts it in a mount namespace
 * of its own.
 */
struct container {
	char id[65];
	int dirfd;    /* the store's containers/<id> */
	int bundlefd; /* bundles/<id> */
	int runfd;    /* the run dir, which holds rootfs/ */
	char dir[PATH_MAX], bundle[PATH_MAX], rootfs[PATH_MAX];
	bool mounted;	/* its overlay, on rootfs in our mount namespace */
	bool networked; /* holds a lease (and ports) of the network, which release gives back */
	bool watching;	/* its watcher (container.h), until its monitor or our exit takes over */
};

int ctl_own_mount_namespace(struct hk_error *err)
{
	/* The host's, kept: hako-dns is started there (network.c). */
	if ((ctl_host_mntns = open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC)) < 0 ||
	    unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return hk_error_set(err, -errno, "a mount namespace of our own");
	hk_debug("unshare(CLONE_NEWNS): the rootfs is mounted in a mount namespace of our own");
	return 0;
}

static int make_bundle(const struct ctl_globals *g, struct container *c, struct hk_error *err);

static int make_container(const struct ctl_globals *g, struct hk_store *s, const char *image_id,
			  struct container *c, struct hk_error *err)
{
	unsigned char rnd[32];
	int r;

	if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd))
		return hk_error_set(err, -errno, "getrandom");
	for (size_t i = 0; i < sizeof(rnd); i++)
		snprintf(c->id + 2 * i, 3, "%02x", rnd[i]);
	/*
	 * Its watcher from the start: what it holds (its bundle, its leases) is
	 * never taken for a crash's leftovers by system gc while it is made.
	 */
	if ((r = hk_ctr_watch(ctl_run_dir(g), c->id, getpid(), err)) < 0)
		return r;
	c->watching = true;
	/* Made as .new-<id>, locked, until its record names it (hk_ctr_record). */
	snprintf(c->dir, sizeof(c->dir), "%s/containers/%s", s->root, c->id);
	if ((r = hk_ctr_make_dir(s, c->id, &c->dirfd, err)) < 0)
		return r;
	if ((r = hk_write_atomic_at(c->dirfd, "image", image_id, strlen(image_id), err)) < 0)
		return r;
	return make_bundle(g, c, err);
}

/* The bundle's dir, /run/hakoctl/bundles/<id>, and the rootfs mount point. */
static int make_bundle(const struct ctl_globals *g, struct container *c, struct hk_error *err)
{
	char rel[128];
	int r;

	snprintf(c->rootfs, sizeof(c->rootfs), "%s/rootfs", ctl_run_dir(g));
	snprintf(c->bundle, sizeof(c->bundle), "%s/bundles/%s", ctl_run_dir(g), c->id);
	if ((r = hk_mkdir_p(c->rootfs, 0700, err)) < 0)
		return r;
	if ((c->runfd = open(ctl_run_dir(g), O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
		return hk_error_set(err, -errno, "run dir \"%s\"", ctl_run_dir(g));
	/* Spread as the store's containers/ are (hk_store_open), where /run is no tmpfs. */
	if (mkdirat(c->runfd, "bundles", 0700) == 0)
		hk_dir_mark_topdir(c->runfd, "bundles");
	else if (errno != EEXIST)
		return hk_error_set(err, -errno, "bundle \"%s\"", c->bundle);
	snprintf(rel, sizeof(rel), "bundles/%s", c->id);
	if ((mkdirat(c->runfd, rel, 0700) < 0 && errno != EEXIST) ||
	    (c->bundlefd = openat(c->runfd, rel, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
		return hk_error_set(err, -errno, "bundle \"%s\"", c->bundle);
	return 0;
}

/*
 * Its overlay, unmounted before its dir goes: the overlay then no longer
 * pins the upper dir's inodes, and each is freed as it is removed
 * (detached: a runtime still in the container's mount namespace keeps its
 * copy).
 */
static void unmount_rootfs(struct container *c)
{
	if (c->mounted && umount2(c->rootfs, MNT_DETACH) == 0)
		hk_debug("umount2(\"%s\", MNT_DETACH): the container's overlay", c->rootfs);
	c->mounted = false;
}

/*
 * The container's own files, once its process is gone: its overlay
 * unmounted, and with remove its dir in the store (it was --rm, or never
 * started).
 */
static void release_files(struct hk_store *s, struct container *c, bool remove)
{
	int r;

	unmount_rootfs(c);
	if (c->dirfd < 0)
		return;
	close(c->dirfd);
	c->dirfd = -1;
	if (remove) {
		_cleanup_close_ int parent =
		    openat(s->dirfd, "containers", O_PATH | O_DIRECTORY | O_CLOEXEC);
		char made[128];

		/* Named by its record, or still being made. */
		snprintf(made, sizeof(made), "%s%s", HK_CTR_NEW, c->id);
		if ((r = hk_ctr_remove_dir(parent, c->id, true)) < 0 ||
		    ((r = hk_rm_rf_at(parent, made)) < 0 && r != -ENOENT))
			hk_warn("remove \"%s\": %s", c->dir, strerror(-r));
	}
}

/* The bundle goes, and the container's files (release_files). */
static void release_container(const struct ctl_globals *g, struct hk_store *s, struct container *c,
			      bool remove)
{
	int r;

	if (c->networked)
		ctl_network_release(g, c->id);
	c->networked = false;
	if (c->watching)
		hk_ctr_unwatch(ctl_run_dir(g), c->id);
	c->watching = false;

	if (c->runfd >= 0)
		close(c->runfd);
	c->runfd = -1;
	if (c->bundlefd >= 0) {
		_cleanup_close_ int bundles = -1;
		char *slash = strrchr(c->bundle, '/');

		*slash = '\0';
		bundles = open(c->bundle, O_PATH | O_DIRECTORY | O_CLOEXEC);
		*slash = '/';
		if ((r = hk_rm_rf_at(bundles, c->id)) < 0)
			hk_warn("remove \"%s\": %s", c->bundle, strerror(-r));
		close(c->bundlefd);
		c->bundlefd = -1;
	}
	release_files(s, c, remove);
}

/* The image's files at path in the rootfs, as an fd to read them through (-1: none). */
static int image_dir(int rootfd, const char *path)
{
	struct hk_error err = {0};
	int fd, dir;

	if (hk_path_open_in_root(rootfd, path, 0, &fd, &err) < 0)
		return -1;
	dir = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	close(fd);
	return dir;
}

/*
 * The mounts asked for, into config's "mounts" and the record's (mounts):
 * a bind of a host path that must be there; a volume, made on first use
 * with the image's files at its path copied in (as docker does); a tmpfs.
 */
static int add_mounts(struct hk_store *s, const struct run_flags *f, const struct container *c,
		      struct hk_json *config, struct hk_json *mounts, struct hk_error *err)
{
	struct hk_json *list = hk_json_child(config, "mounts", HK_JSON_ARRAY);
	_cleanup_close_ int rootfd = openat(c->runfd, "rootfs", O_PATH | O_DIRECTORY | O_CLOEXEC);
	int r;

	for (size_t i = 0; i < f->n_mounts; i++) {
		const struct hk_mount_spec *m = &f->mounts[i];
		struct hk_json *e = hk_json_new(HK_JSON_OBJECT), *opts, *rec;
		char name[80], data[4096];
		const char *source = m->source;
		bool created = false;
		struct stat st;

		hk_json_set(e, "destination", hk_json_new_string(m->destination));
		hk_json_push(list, e);
		rec = hk_json_push(mounts, hk_json_new(HK_JSON_OBJECT));
		if (m->type == HK_MOUNT_TMPFS) {
			hk_json_set(e, "type", hk_json_new_string("tmpfs"));
			hk_json_set(e, "source", hk_json_new_string("tmpfs"));
			opts = hk_json_set(e, "options", hk_json_new(HK_JSON_ARRAY));
			_cleanup_free_ char *copy = hk_xstrdup(m->tmpfs_opts);
			for (char *o = copy, *save = NULL, *t; (t = strtok_r(o, ",", &save));
			     o = NULL)
				hk_json_push(opts, hk_json_new_string(t));
			hk_json_set(rec, "Type", hk_json_new_string("tmpfs"));
			hk_json_set(rec, "Destination", hk_json_new_string(m->destination));
			continue;
		}
		if (m->type == HK_MOUNT_BIND && (stat(source, &st) < 0))
			return hk_error_set(err, -errno, "the host path \"%s\" (-v %s:%s)", source,
					    source, m->destination);
		if (m->type == HK_MOUNT_VOLUME) {
			if ((r = hk_volume_get(s, m->source, name, sizeof(name), &created, data,
					       sizeof(data), err)) < 0)
				return r;
			hk_json_set(rec, "Name", hk_json_new_string(name));
			hk_json_set(rec, "Anonymous", hk_json_new_bool(!m->source));
			source = data;
			if (created) {
				/* docker's copy-up: the image's files at that path, into the new
				 * volume. */
				_cleanup_close_ int from = image_dir(rootfd, m->destination);
				_cleanup_close_ int to =
				    open(data, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
				if (from >= 0 && to >= 0 && (r = hk_copy_tree(from, to, err)) < 0)
					return hk_error_prefix(err, "volume \"%s\"", name);
			}
		}
		hk_json_set(e, "type", hk_json_new_string("bind"));
		hk_json_set(e, "source", hk_json_new_string(source));
		opts = hk_json_set(e, "options", hk_json_new(HK_JSON_ARRAY));
		hk_json_push(opts, hk_json_new_string("rbind"));
		hk_json_push(opts, hk_json_new_string(m->readonly ? "ro" : "rw"));
		hk_json_set(rec, "Type",
			    hk_json_new_string(m->type == HK_MOUNT_BIND ? "bind" : "volume"));
		hk_json_set(rec, "Source", hk_json_new_string(source));
		hk_json_set(rec, "Destination", hk_json_new_string(m->destination));
		hk_json_set(rec, "RW", hk_json_new_bool(!m->readonly));
	}
	return 0;
}

/* The anonymous volumes made for a container that did not come to be. */
static void drop_anonymous(struct hk_store *s, const struct hk_json *mounts)
{
	struct hk_error err = {0};

	for (size_t i = 0; mounts && i < mounts->n; i++) {
		const struct hk_json *anon = hk_json_get(mounts->items[i], "Anonymous");
		const char *name = hk_json_get_string(mounts->items[i], "Name");
		if (name && anon && anon->boolean && hk_volume_remove(s, name, true, &err) < 0)
			hk_error_clear(&err);
	}
}

/* -P: each port of the image's ExposedPorts ("80/tcp") published on a free port. */
static int publish_all(struct run_flags *f, const struct hk_json *image, struct hk_error *err)
{
	const struct hk_json *ex = hk_json_get(hk_json_get(image, "config"), "ExposedPorts");
	char proto[8], spec[48];
	unsigned port;
	int host, r;

	for (size_t i = 0; ex && ex->type == HK_JSON_OBJECT && i < ex->n; i++) {
		int n = sscanf(ex->keys[i], "%u/%7s", &port, proto);
		if (n < 1 || !port || port > 65535)
			return hk_error_setx(err, -EINVAL, "-P: the image's exposed port \"%s\"",
					     ex->keys[i]);
		if (n == 1)
			strcpy(proto, "tcp");
		if (strcmp(proto, "tcp") != 0 && strcmp(proto, "udp") != 0) {
			hk_warn("-P: the image's port %s is not published (tcp and udp are)",
				ex->keys[i]);
			continue;
		}
		if ((host = hk_port_pick(strcmp(proto, "udp") == 0 ? IPPROTO_UDP : IPPROTO_TCP,
					 err)) < 0)
			return hk_error_prefix(err, "-P");
		snprintf(spec, sizeof(spec), "%d:%u/%s", host, port, proto);
		if ((r = hk_ports_parse(spec, &f->ports, &f->n_ports, err)) < 0)
			return r;
		push(&f->made_specs, &f->n_made_specs, hk_xstrdup(spec));
		push(&f->port_specs, &f->n_port_specs, f->made_specs[f->n_made_specs - 1]);
		hk_debug("-P: the image's port %s published on %d", ex->keys[i], host);
	}
	return 0;
}

static int prepare(const struct ctl_globals *g, struct hk_store *s, struct run_flags *f,
		   struct container *c, struct hk_error *err)
{
	_cleanup_(hk_json_freep) struct hk_json *image = NULL, *config = NULL;
	_cleanup_(hk_json_freep) struct hk_json *mounts = hk_json_new(HK_JSON_ARRAY);
	_cleanup_(hk_json_freep) struct hk_json *net_config = NULL;
	_cleanup_free_ const char **ids = NULL;
	char id[HK_DIGEST_MAX];
	struct hk_buf b = HK_BUF_INIT;
	size_t n;
	int r, rootfd;

	r = hk_store_resolve(s, f->image, id, err);
	if (r == -ENOENT && hk_builtin_wanted(f->image)) {
		hk_error_clear(err);
		r = hk_builtin_image(s, id, err);
	}
	if (r < 0 || (r = hk_store_image_config(s, id, &image, err)) < 0 ||
	    (r = hk_image_diff_ids(image, &ids, &n, err)) < 0 ||
	    (f->publish_all && (r = publish_all(f, image, err)) < 0))
		goto out;
	if ((r = make_container(g, s, id, c, err)) < 0)
		goto out;
	hk_debug("container %s of image %s in %s, its bundle in %s", c->id, id, c->dir, c->bundle);
	if ((r = hk_rootfs_mount(s, c->dirfd, c->runfd, ids, n, f->rm, err)) < 0)
		goto out;
	c->mounted = true;
	f->b.image = image;
	if (!f->b.hostname) {
		static char host[13];
		snprintf(host, sizeof(host), "%.12s", c->id);
		f->b.hostname = host;
	}
	rootfd = openat(c->runfd, "rootfs", O_PATH | O_DIRECTORY | O_CLOEXEC);
	r = rootfd < 0 ? hk_error_set(err, -errno, "rootfs")
		       : hk_bundle_config(&f->b, rootfd, &config, err);
	if (rootfd >= 0)
		close(rootfd);
	if (r < 0)
		goto out;
	if ((r = add_mounts(s, f, c, config, mounts, err)) < 0)
		goto out;
	/* Its network (from here on we are in its network namespace). */
	c->networked = ctl_network_bridged(f->b.network);
	struct ctl_net_opts no = net_opts(f);
	if ((r = ctl_network_setup(g, s, c->id, &no, c->bundlefd, c->bundle, config, err)) < 0)
		goto out;
	net_config = ctl_net_opts_json(&no);
	/* --network container:NAME: its namespace; recorded by its id, as docker does. */
	const char *joined = NULL;
	if ((r = ctl_network_join(g, s, f->b.network, config, &joined, err)) < 0)
		goto out;
	if (joined) {
		free(f->networks);
		f->networks = hk_xmalloc(16 + strlen(joined));
		sprintf(f->networks, "container:%s", joined);
		f->b.network = no.mode = f->networks;
	}
	/* The record that makes it a container by name (its name checked unique). */
	struct hk_ctr_new nc = {
	    .id = c->id,
	    .name = f->name,
	    .image_ref = f->image,
	    .image_id = id,
	    .cmd = hk_json_get(hk_json_get(config, "process"), "args"),
	    .rm = f->rm,
	    .tty = f->b.tty,
	    .open_stdin = f->interactive,
	    .network = f->b.network,
	    .ports = (const char *const *)f->port_specs,
	    .network_config = net_config,
	    .log_max = f->log_max,
	    .restart = f->restart,
	    .restart_max = f->restart_max,
	    .mounts = mounts,
	};
	if ((r = hk_ctr_record(s, &nc, err)) < 0 ||
	    (r = ctl_network_names(g, s, c->id, NULL, no.aliases, err)) < 0)
		goto out;
	hk_json_set(hk_json_get(config, "root"), "path", hk_json_new_string(c->rootfs));
	hk_json_write_pretty(&b, config);
	/* In the bundle, and in the store, to start it again after it exited. */
	if ((r = hk_write_atomic_at(c->bundlefd, "config.json", b.buf, b.len, err)) >= 0)
		r = hk_write_atomic_at(c->dirfd, "config.json", b.buf, b.len, err);
	hk_buf_release(&b);
out:
	if (r < 0) {
		drop_anonymous(s, mounts);
		release_container(g, s, c, true);
	}
	return r;
}

/*
 * Hand a prepared container (bundle written, rootfs mounted in our mount
 * namespace) to a monitor of its own, which creates it; then start it,
 * unless it is only created. Prints its id; docker's status.
 */
static int launch(const struct ctl_globals *g, struct hk_store *s, struct container *c, bool start,
		  bool rm)
{
	struct hk_error err = {0};
	pid_t pid;
	int code;

	if (ctl_monitor_launch(g, s, c->id, &pid, &code, &err) < 0) {
		fprintf(stderr, "hakoctl: %s\n", err.msg);
		/* A monitor that said nothing did not clean up either. */
		release_container(g, s, c, code < 0 && rm);
		return code < 0 ? 125 : code;
	}
	hk_debug("container %s created (pid %d) under its monitor", c->id, (int)pid);
	/*
	 * From here the monitor owns the bundle, the lease, the rootfs, the
	 * container's end, its watch.
	 */
	c->networked = false;
	c->watching = false;
	c->mounted = false;
	close(c->runfd);
	close(c->bundlefd);
	c->runfd = c->bundlefd = -1;
	if (start && ctl_container_start(g, c->dirfd, c->id, &err) < 0) {
		fprintf(stderr, "hakoctl: %s\n", err.msg);
		return 125;
	}
	printf("%s\n", c->id);
	close(c->dirfd);
	c->dirfd = -1;
	return 0;
}

/* hakoctl create: run -d without the start. */
int ctl_create(const struct ctl_globals *g, int argc, char **argv, struct hk_error *err)
{
	struct run_flags f = {.b.network = "hako", .log_max = CTL_LOG_MAX_DEFAULT};
	struct container c = {.dirfd = -1, .bundlefd = -1, .runfd = -1};
	struct hk_store s;
	int r;

	if ((r = parse_flags(argc, argv, &f, err)) < 0)
		goto out;
	if ((r = ctl_own_mount_namespace(err)) < 0 || (r = ctl_store_open(g, &s, err)) < 0)
		goto out;
	if ((r = prepare(g, &s, &f, &c, err)) >= 0)
		r = launch(g, &s, &c, false, f.rm);
	hk_store_close(&s);
out:
	run_flags_release(&f);
	return r;
}

int ctl_container_up(const struct ctl_globals *g, const char *id, bool start, struct hk_error *err)
{
	_cleanup_(hk_json_freep) struct hk_json *image = NULL, *rec = NULL, *cfg = NULL;
	_cleanup_free_ struct hk_port *ports = NULL;
	struct ctl_net_opts no;
	size_t n_ports = 0;
	const char *mode;
	_cleanup_free_ const char **ids = NULL;
	_cleanup_free_ char *image_id = NULL, *config = NULL, *text = NULL;
	struct container c = {.dirfd = -1, .bundlefd = -1, .runfd = -1};
	struct hk_store s;
	size_t n, len;
	bool rm;
	int r;

	/*
	 * First the mount namespace: overlayfs takes its layers and upper dir
	 * only through mounts of the namespace it is mounted in, so the store is
	 * opened in it.
	 */
	if ((r = ctl_own_mount_namespace(err)) < 0 || (r = ctl_store_open(g, &s, err)) < 0)
		return r;
	snprintf(c.id, sizeof(c.id), "%s", id);
	snprintf(c.dir, sizeof(c.dir), "%s/containers/%s", s.root, id);
	if ((r = hk_ctr_watch(ctl_run_dir(g), id, getpid(), err)) < 0)
		goto out;
	c.watching = true;
	if ((c.dirfd = open(c.dir, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0) {
		r = hk_error_set(err, -errno, "container %s", id);
		goto out;
	}
	if ((r = hk_read_regular_file_at(c.dirfd, "image", 128, &image_id, &len, err)) < 0 ||
	    (r = hk_read_regular_file_at(c.dirfd, "container.json", 1 << 20, &text, &n, err)) < 0 ||
	    (r = hk_json_parse(text, n, &rec, err)) < 0 ||
	    (r = hk_read_regular_file_at(c.dirfd, "config.json", 1 << 24, &config, &len, err)) <
		0 ||
	    (r = hk_store_image_config(&s, image_id, &image, err)) < 0 ||
	    (r = hk_image_diff_ids(image, &ids, &n, err)) < 0)
		goto out;
	rm = hk_json_get(rec, "AutoRemove") && hk_json_get(rec, "AutoRemove")->boolean;
	mode = hk_json_get_string(rec, "NetworkMode");
	c.networked = ctl_network_bridged(mode);
	if ((r = hk_json_parse(config, len, &cfg, err)) < 0 || (r = make_bundle(g, &c, err)) < 0 ||
	    (r = hk_rootfs_mount(&s, c.dirfd, c.runfd, ids, n, rm, err)) < 0)
		goto out;
	c.mounted = true;
	if ((r = ctl_record_ports(rec, &ports, &n_ports, err)) < 0)
		goto out;
	/* Its network again: its config.json binds the files and joins the namespace. */
	no = (struct ctl_net_opts){.mode = mode,
				   .hostname = hk_json_get_string(cfg, "hostname"),
				   .ports = ports,
				   .n_ports = n_ports};
	ctl_net_opts_from_json(hk_json_get(rec, "NetworkConfig"), &no);
	if ((r = ctl_network_setup(g, &s, id, &no, c.bundlefd, c.bundle, NULL, err)) >= 0)
		r = ctl_network_names(g, &s, id, NULL, no.aliases, err);
	ctl_net_opts_release(&no);
	if (r < 0)
		goto out;
	/* container:NAME: that container's namespace now (its process may be another). */
	if (mode && strncmp(mode, "container:", 10) == 0) {
		struct hk_buf b = HK_BUF_INIT;
		if ((r = ctl_network_join(g, &s, mode, cfg, NULL, err)) < 0)
			goto out;
		hk_json_write_pretty(&b, cfg);
		free(config);
		config = b.buf;
		len = b.len;
	}
	if ((r = hk_write_atomic_at(c.bundlefd, "config.json", config, len, err)) < 0)
		goto out;
	/* launch has said what failed, and cleaned up. */
	r = launch(g, &s, &c, start, rm);
out:
	if (r < 0)
		release_container(g, &s, &c, false);
	if (c.dirfd >= 0)
		close(c.dirfd);
	hk_store_close(&s);
	return r;
}

/* A foreground container whose process has exited (ctl_foreground's watch). */
struct container_end {
	struct hk_store *s;
	struct container *c;
	bool rm;
};

static void container_gone(void *data)
{
	struct container_end *e = data;

	hk_debug("its process has exited: its files go while the runtime tidies up");
	if (e->rm)
		release_files(e->s, e->c, true);
	else
		unmount_rootfs(e->c); /* its dir is kept, and gets its exit record */
}

int ctl_run(const struct ctl_globals *g, int argc, char **argv, struct hk_error *err)
{
	struct run_flags f = {.b.network = "hako", .log_max = CTL_LOG_MAX_DEFAULT};
	struct container c = {.dirfd = -1, .bundlefd = -1, .runfd = -1};
	struct ctl_runtime_log log = {.fd = -1, .debug = g->debug, .pending = HK_BUF_INIT};
	struct hk_store s;
	int r, status;

	if ((r = parse_flags(argc, argv, &f, err)) < 0)
		goto out;
	if (!f.detach && f.restart && strcmp(f.restart, "no") != 0) {
		r = hk_error_setx(err, -EINVAL,
				  "--restart %s: with -d (its monitor restarts it; a foreground "
				  "container is not)",
				  f.restart);
		goto out;
	}
	/*
	 * The rootfs is mounted in a mount namespace of our own, which the
	 * runtime and the container inherit: nothing is mounted on the host, so
	 * nothing is left mounted if we are killed, and no unmount waits at the
	 * end (the kernel takes the overlay down with the namespace).
	 */
	if ((r = ctl_own_mount_namespace(err)) < 0)
		goto out;
	if ((r = ctl_store_open(g, &s, err)) < 0)
		goto out;
	if ((r = prepare(g, &s, &f, &c, err)) < 0)
		goto close;
	if (f.detach) {
		r = launch(g, &s, &c, true, f.rm);
		goto close;
	}
	/* Its watcher since make_container, we stay so while we wait: ps shows it running. */
	if ((r = hk_ctr_record_start(c.dirfd, 0, err)) < 0) {
		release_container(g, &s, &c, true);
		fprintf(stderr, "hakoctl run: %s\n", err->msg);
		r = 125;
		goto close;
	}
	char pidf[PATH_MAX + 16];
	snprintf(pidf, sizeof(pidf), "%s/pid", c.bundle);
	const char *args[] = {"run", "--bundle", c.bundle, "--pid-file", pidf, c.id, NULL};
	struct container_end end = {&s, &c, f.rm};
	struct ctl_ctr_watch w = {pidf, container_gone, &end, -1};
	/* Watched from before the runtime starts, not to miss its pid file. */
	if ((w.ino = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) >= 0 &&
	    inotify_add_watch(w.ino, c.bundle, IN_CREATE | IN_MOVED_TO | IN_CLOSE_WRITE) < 0) {
		close(w.ino);
		w.ino = -1;
	}
	status = ctl_foreground(g, args, f.interactive || f.b.tty, pidf, w.ino >= 0 ? &w : NULL,
				&log, &r, err);
	if (w.ino >= 0)
		close(w.ino);
	if (r >= 0 && !f.rm && hk_ctr_record_exit(c.dirfd, status, -1, err) < 0) {
		hk_warn("%s", err->msg);
		hk_error_clear(err);
	}
	release_container(g, &s, &c, f.rm || r < 0);
	if (r < 0)
		fprintf(stderr, "hakoctl run: %s\n", err->msg);
	r = status;
close:
	hk_store_close(&s);
out:
	ctl_runtime_log_release(&log);
	run_flags_release(&f);
	return r;
}
