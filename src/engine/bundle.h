/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A container's config.json, built from its image's config and the command
 * line (docker's and podman's flags), never from a text template: the
 * runtime's own default config (hk_spec_default_tree) is the start, and each
 * setting changes its tree.
 */
#pragma once

#include <stdbool.h>

#include "error.h"
#include "json.h"

struct hk_bundle_opts {
	const struct hk_json *image; /* the image config (its "config" object is used) */
	char **args;		     /* COMMAND [ARG...] after the image, or NULL */
	const char *entrypoint;	     /* --entrypoint, or NULL */
	char **env;		     /* -e and --env-file, in order: K=V, or K (from our env) */
	const char *workdir, *user, *hostname;
	bool tty, read_only, privileged, no_new_privileges;
	char **cap_add, **cap_drop;
	const char *seccomp; /* a profile file (docker's or OCI's form), "unconfined" or NULL */
	long long memory, memory_swap, pids_limit;
	double cpus;
	char **ulimits;	     /* "nofile=1024:2048" */
	const char *network; /* "none" (a namespace of its own) or "host" */
	char **devices;	     /* --device HOST[:CTR][:PERMS] */
};

/*
 * The config for a container whose rootfs (already mounted, rootfd) is at
 * "rootfs" beside config.json. Names in --user are looked up in the
 * rootfs's /etc/passwd and /etc/group, inside it (hk_path_open_in_root).
 */
int hk_bundle_config(const struct hk_bundle_opts *o, int rootfd, struct hk_json **ret,
		     struct hk_error *err);

/*
 * A user as docker's --user takes it, "uid", "name", "uid:gid" or
 * "name:group", with names looked up in the rootfs's /etc/passwd and
 * /etc/group (inside it); ret_extra (may be NULL) gets the names' other
 * groups.
 */
int hk_resolve_user(int rootfd, const char *user, unsigned *ret_uid, unsigned *ret_gid,
		    char ***ret_extra, struct hk_error *err);

/* "512m", "1g", "1024": bytes, as docker's --memory takes them. */
int hk_parse_size(const char *s, long long *ret);
