/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The hakoctl command line: docker's and podman's words, one file per command. */
#pragma once

#include <stdbool.h>

#include "error.h"
#include "store.h"

struct ctl_globals {
	const char *storage; /* --storage, the image store */
	const char *runtime; /* --runtime: hako, crun, runc or a path */
	const char *runroot; /* --runroot: the runtime's state root */
	bool debug;
};

/* Each command parses its own options; argv[0] is its name. */
typedef int (*ctl_command_fn)(const struct ctl_globals *g, int argc, char **argv,
			      struct hk_error *err);

int ctl_load(const struct ctl_globals *g, int argc, char **argv, struct hk_error *err);
int ctl_import(const struct ctl_globals *g, int argc, char **argv, struct hk_error *err);
int ctl_images(const struct ctl_globals *g, int argc, char **argv, struct hk_error *err);
int ctl_inspect(const struct ctl_globals *g, int argc, char **argv, struct hk_error *err);
int ctl_history(const struct ctl_globals *g, int argc, char **argv, struct hk_error *err);
int ctl_tag(const struct ctl_globals *g, int argc, char **argv, struct hk_error *err);
int ctl_rmi(const struct ctl_globals *g, int argc, char **argv, struct hk_error *err);
int ctl_prune(const struct ctl_globals *g, int argc, char **argv, struct hk_error *err);
int ctl_run(const struct ctl_globals *g, int argc, char **argv, struct hk_error *err);
int ctl_save(const struct ctl_globals *g, int argc, char **argv, struct hk_error *err);
int ctl_system(const struct ctl_globals *g, int argc, char **argv, struct hk_error *err);

int ctl_exec(const struct ctl_globals *g, int argc, char **argv, struct hk_error *err);
int ctl_export(const struct ctl_globals *g, int argc, char **argv, struct hk_error *err);
int ctl_rename(const struct ctl_globals *g, int argc, char **argv, struct hk_error *err);
int ctl_top(const struct ctl_globals *g, int argc, char **argv, struct hk_error *err);
int ctl_stats(const struct ctl_globals *g, int argc, char **argv, struct hk_error *err);
int ctl_volume(const struct ctl_globals *g, int argc, char **argv, struct hk_error *err);
int ctl_container(const struct ctl_globals *g, int argc, char **argv, struct hk_error *err);
int ctl_cp(const struct ctl_globals *g, int argc, char **argv, struct hk_error *err);
int ctl_commit(const struct ctl_globals *g, int argc, char **argv, struct hk_error *err);
int ctl_generate(const struct ctl_globals *g, int argc, char **argv, struct hk_error *err);
int ctl_create(const struct ctl_globals *g, int argc, char **argv, struct hk_error *err);
int ctl_start(const struct ctl_globals *g, int argc, char **argv, struct hk_error *err);
int ctl_stop(const struct ctl_globals *g, int argc, char **argv, struct hk_error *err);
int ctl_restart(const struct ctl_globals *g, int argc, char **argv, struct hk_error *err);
int ctl_kill(const struct ctl_globals *g, int argc, char **argv, struct hk_error *err);
int ctl_attach(const struct ctl_globals *g, int argc, char **argv, struct hk_error *err);
int ctl_network(const struct ctl_globals *g, int argc, char **argv, struct hk_error *err);
int ctl_port(const struct ctl_globals *g, int argc, char **argv, struct hk_error *err);
int ctl_pause(const struct ctl_globals *g, int argc, char **argv, struct hk_error *err);
int ctl_unpause(const struct ctl_globals *g, int argc, char **argv, struct hk_error *err);
int ctl_wait(const struct ctl_globals *g, int argc, char **argv, struct hk_error *err);
int ctl_logs(const struct ctl_globals *g, int argc, char **argv, struct hk_error *err);
int ctl_ps(const struct ctl_globals *g, int argc, char **argv, struct hk_error *err);
int ctl_rm(const struct ctl_globals *g, int argc, char **argv, struct hk_error *err);

/* The run dir: --runroot, or /run/hakoctl. */
const char *ctl_run_dir(const struct ctl_globals *g);
struct hk_ctr;
/* A container as docker's inspect shows it (Id, Name, State, Config...). */
struct hk_json *ctl_container_json(const struct ctl_globals *g, struct hk_store *s,
				   const struct hk_ctr *c);

/*
 * unshare(CLONE_NEWNS), mounts private: what a command mounts (a rootfs)
 * is its own, and goes with it. The host's is kept (ctl_host_mntns).
 */
int ctl_own_mount_namespace(struct hk_error *err);
/* Open the store named by the globals. */
int ctl_store_open(const struct ctl_globals *g, struct hk_store *ret, struct hk_error *err);
/* --format json|table: ret_json says which. */
int ctl_parse_format(const char *arg, bool *ret_json, struct hk_error *err);
/* The decompressed-size cap: HAKO_IMAGE_MAX_BYTES, or 64 GiB. */
unsigned long long ctl_max_bytes(void);
/* "12.3MB" as docker prints sizes (powers of 1000). */
void ctl_human_size(unsigned long long n, char *buf, size_t size);
/* "3 minutes ago" from an RFC 3339 time. */
void ctl_human_ago(const char *rfc3339, char *buf, size_t size);

/*
 * network.c: --network hako (or bridge, or networks of the user's own,
 * "front,back"), set up before the runtime runs: a lease on each network
 * and the published ports, then unshare(CLONE_NEWNET) (we stay in the
 * container's network namespace), a veth pair to each network's bridge
 * (eth0, eth1...), and /etc/hosts, hostname and resolv.conf in the bundle;
 * with config, their bind mounts and the namespace's path are added to it.
 * What it holds is recorded in the bundle (networks, ports), for
 * ctl_network_release.
 */
#define CTL_MAX_NETWORKS 8
/* Whether mode names networks (not none, host or container:NAME). */
bool ctl_network_bridged(const char *mode);
struct hk_json;
struct hk_port;
struct ctl_net_opts {
	const char *mode; /* none, host, or networks: hako (bridge), NAME[,NAME...] */
	const char *hostname;
	const struct hk_port *ports; /* -p, a port each */
	size_t n_ports;
	const char *ip, *ip6, *mac; /* --ip, --ip6, --mac-address, or NULL */
	const char *const *dns;	    /* --dns, NULL-ended, or NULL */
	const char *const *hosts;   /* --add-host NAME:IP, NULL-ended, or NULL */
	const char *const *aliases; /* --network-alias, NULL-ended, or NULL */
};
/* The options checked, before anything is made: each bad one named. */
int ctl_net_opts_check(const struct ctl_net_opts *o, struct hk_error *err);
/* --ip, --ip6, --mac-address, --dns and --add-host as a record keeps them (NetworkConfig). */
struct hk_json *ctl_net_opts_json(const struct ctl_net_opts *o);
/* The same, read back from a record's NetworkConfig (o points into rec: ctl_net_opts_release). */
void ctl_net_opts_from_json(const struct hk_json *cfg, struct ctl_net_opts *o);
/* What ctl_net_opts_from_json allocated (its lists of dns, hosts and aliases). */
void ctl_net_opts_release(struct ctl_net_opts *o);
struct hk_store;
int ctl_network_setup(const struct ctl_globals *g, struct hk_store *s, const char *id,
		      const struct ctl_net_opts *o, int bundlefd, const char *bundle,
		      struct hk_json *config, struct hk_error *err);
/* The ports of a container's record (its -p, as given), a port each, appended to *v. */
int ctl_record_ports(const struct hk_json *rec, struct hk_port **v, size_t *n,
		     struct hk_error *err);
/*
 * Its names on its networks of the user's own (name, or NULL for its
 * record's, and aliases), for hako-dns, which is started if none serves:
 * once it is recorded, its bundle's networks file there. Nothing for the
 * default network, which has no names.
 */
int ctl_network_names(const struct ctl_globals *g, struct hk_store *s, const char *id,
		      const char *name, const char *const *aliases, struct hk_error *err);
/* The same for a running container as its record names it (after a rename, a connect). */
int ctl_record_names(const struct ctl_globals *g, struct hk_store *s, const struct hk_ctr *c,
		     struct hk_error *err);
/*
 * --network container:NAME: config joins the network namespace of that
 * running container (by its process's path) and binds its /etc/hosts and
 * resolv.conf; *ret_id: its id, for the record. Nothing for other modes.
 */
int ctl_network_join(const struct ctl_globals *g, struct hk_store *s, const char *mode,
		     struct hk_json *config, const char **ret_id, struct hk_error *err);
/* system gc: what a crash left (network.c). */
int ctl_system_gc(const struct ctl_globals *g, struct hk_error *err);
/* The host's mount namespace, once a command left it for one of its own; else -1. */
extern int ctl_host_mntns;
/* What container id holds on the network given back (its bundle still there). */
void ctl_network_release(const struct ctl_globals *g, const char *id);
/* The host's network namespace, once ctl_network_setup has left it; else -1. */
extern int ctl_host_netns;
