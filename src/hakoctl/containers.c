// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * hakoctl ps [-a] [-q] [--no-trunc] [--format json|table] [--filter K=V]:
 * the containers, as docker lists them; a container's inspect JSON
 * (docker's fields); rename; generate systemd.
 * Their lifecycle (start, stop, kill, rm ...) is lifecycle.c's; top and
 * stats are stats.c's.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "commands.h"
#include "container.h"
#include "json.h"
#include "log.h"
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
	if ((r = hk_ctr_find(&s, ctl_run_dir(g), argv[1], &c, err)) >= 0) {
		r = hk_ctr_rename(&s, c.id, c.name, argv[2], err);
		hk_ctr_free(&c);
	}
	/* A running container answers to its new name on its networks. */
	if (r >= 0 && (r = hk_ctr_find(&s, ctl_run_dir(g), argv[2], &c, err)) >= 0) {
		if (c.status == HK_CTR_RUNNING)
			r = ctl_record_names(g, &s, &c, err);
		hk_ctr_free(&c);
	}
	hk_store_close(&s);
	return r;
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
	if ((r = hk_ctr_find(&s, ctl_run_dir(g), argv[i], &c, err)) >= 0) {
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
