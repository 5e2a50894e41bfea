// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * hakoctl network ls | inspect | create | rm | prune | connect | disconnect
 * | reload, and system gc: the networks themselves, and what a crash left
 * on them (network.c sets up a container's).
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "commands.h"
#include "network-internal.h"
#include "container.h"
#include "fsutil.h"
#include "json.h"
#include "log.h"
#include "netlink.h"
#include "network.h"
#include "nft.h"
#include "ports.h"
#include "runtime.h"
#include "util.h"

/*
 * network reload: the table made again (replaced in one transaction), with
 * the ports of the running containers, from their bundles, and the bridges
 * of the networks they are on: after `nft flush ruleset`, or a firewall's
 * restart.
 */
static int network_reload(const struct ctl_globals *g, struct hk_store *s, struct hk_error *err)
{
	_cleanup_free_ struct hk_network *nets = NULL;
	_cleanup_close_ int nl = -1, lock = -1;
	size_t n_nets, ports = 0;
	int bridge, r, uplink = -1;

	if ((r = nl = hk_ns_socket(-1, AF_NETLINK, SOCK_RAW, NETLINK_ROUTE, err)) < 0 ||
	    (r = hk_network_list(s->dirfd, &nets, &n_nets, err)) < 0)
		return r;
	for (size_t i = 0; i < n_nets; i++) {
		char path[PATH_MAX];
		/* Those with containers: their leases' dir is there. */
		snprintf(path, sizeof(path), "%s/networks/%s", ctl_run_dir(g), nets[i].name);
		if (access(path, F_OK) == 0 &&
		    (r = hk_net_bridge_ensure(nl, &nets[i], ctl_net_mtu(&nets[i], nl, &uplink),
					      &bridge, err)) < 0)
			return r;
	}
	if ((r = lock = ctl_net_lock(g, err)) < 0 ||
	    (r = ctl_net_table_build(g, s, &ports, err)) < 0)
		return r;
	hk_debug("networks: table made again, %zu port(s) put back", ports);
	return 0;
}

/* The running containers on network name, with their addresses, as inspect shows them. */
static void network_containers(const struct ctl_globals *g, const struct hk_network *n,
			       const struct hk_ctr *v, size_t count, struct hk_json *o)
{
	struct hk_json *ctrs = hk_json_set(o, "Containers", hk_json_new(HK_JSON_OBJECT));
	char text[56];

	for (size_t i = 0; i < count; i++) {
		_cleanup_free_ struct hk_attachment *at = NULL;
		size_t n_at;

		if (v[i].status != HK_CTR_RUNNING)
			continue;
		hk_net_bundle_attachments(ctl_run_dir(g), v[i].id, &at, &n_at);
		for (size_t k = 0; k < n_at; k++) {
			if (strcmp(at[k].network, n->name) != 0)
				continue;
			struct hk_json *c = hk_json_set(ctrs, v[i].id, hk_json_new(HK_JSON_OBJECT));
			hk_json_set(c, "Name", hk_json_new_string(v[i].name));
			snprintf(text, sizeof(text), "%s/%d", at[k].addr, n->prefix);
			hk_json_set(c, "IPv4Address", hk_json_new_string(text));
			if (at[k].addr6[0])
				snprintf(text, sizeof(text), "%s/%d", at[k].addr6, n->prefix6);
			hk_json_set(c, "IPv6Address",
				    hk_json_new_string(at[k].addr6[0] ? text : ""));
			hk_json_set(c, "Interface", hk_json_new_string(at[k].ifname));
		}
	}
}

/* forward_by: what drops its packets in another table (network.c's forward_blockers_warn). */
static struct hk_json *network_json(const struct ctl_globals *g, const struct hk_network *n,
				    const struct hk_ctr *v, size_t count, const char *forward_by)
{
	struct hk_json *o = hk_json_new(HK_JSON_OBJECT), *cfg, *opts, *list;
	char text[50];

	hk_json_set(o, "Name", hk_json_new_string(n->name));
	hk_json_set(o, "Driver", hk_json_new_string("bridge"));
	hk_json_set(o, "NetworkInterface", hk_json_new_string(n->bridge));
	hk_json_set(o, "Internal", hk_json_new_bool(n->internal));
	hk_json_set(o, "EnableIPv6", hk_json_new_bool(n->prefix6 != 0));
	list = hk_json_set(hk_json_set(o, "IPAM", hk_json_new(HK_JSON_OBJECT)), "Config",
			   hk_json_new(HK_JSON_ARRAY));
	cfg = hk_json_push(list, hk_json_new(HK_JSON_OBJECT));
	hk_json_set(cfg, "Subnet", hk_json_new_string(hk_network_subnet_text(n, text)));
	hk_json_set(cfg, "Gateway", hk_json_new_string(hk_ipv4_text(n->gateway, text)));
	if (n->prefix6) {
		cfg = hk_json_push(list, hk_json_new(HK_JSON_OBJECT));
		hk_json_set(cfg, "Subnet", hk_json_new_string(hk_network_subnet6_text(n, text)));
		hk_json_set(cfg, "Gateway", hk_json_new_string(hk_ipv6_text(&n->gateway6, text)));
	}
	opts = hk_json_set(o, "Options", hk_json_new(HK_JSON_OBJECT));
	if (n->mtu) {
		snprintf(text, sizeof(text), "%d", n->mtu);
		hk_json_set(opts, "mtu", hk_json_new_string(text));
	}
	network_containers(g, n, v, count, o);
	hk_json_set(o, "ForwardDroppedBy", hk_json_new_string(forward_by));
	return o;
}

/* network ls [-q], network inspect NAME... */
static int network_show(const struct ctl_globals *g, struct hk_store *s, int argc, char **argv,
			bool json, bool quiet, struct hk_error *err)
{
	_cleanup_(hk_json_freep) struct hk_json *list = hk_json_new(HK_JSON_ARRAY);
	_cleanup_free_ struct hk_network *nets = NULL;
	struct hk_buf b = HK_BUF_INIT, blockers = HK_BUF_INIT;
	struct hk_ctr *v = NULL;
	size_t count = 0, n_nets;
	char subnet[20];
	int r;

	if (!json) {
		if ((r = hk_network_list(s->dirfd, &nets, &n_nets, err)) < 0)
			return r;
		if (!quiet)
			printf("%-20s  %-8s  %-16s  %s\n", "NAME", "DRIVER", "SUBNET", "BRIDGE");
		for (size_t i = 0; i < n_nets; i++)
			if (quiet)
				printf("%s\n", nets[i].name);
			else
				printf("%-20s  %-8s  %-16s  %s%s\n", nets[i].name, "bridge",
				       hk_network_subnet_text(&nets[i], subnet), nets[i].bridge,
				       nets[i].internal ? "  (internal)" : "");
		return 0;
	}
	/* Each named network first: a missing one fails them all, with nothing printed. */
	nets = hk_xmalloc((size_t)argc * sizeof(*nets));
	for (int i = 0; i < argc; i++)
		if ((r = hk_network_find(s->dirfd, argv[i], &nets[i], err)) < 0)
			return r;
	if ((r = hk_ctr_list(s, ctl_run_dir(g), &v, &count, err)) < 0)
		return r;
	hk_buf_adds(&blockers, "");
	hk_nft_forward_blockers(&blockers);
	for (int i = 0; i < argc; i++)
		hk_json_push(list, network_json(g, &nets[i], v, count, blockers.buf));
	hk_ctr_list_free(v, count);
	hk_buf_release(&blockers);
	hk_json_write_pretty(&b, list);
	printf("%s\n", b.buf);
	hk_buf_release(&b);
	return 0;
}

/* -o mtu=N (docker's com.docker.network.driver.mtu=N too). */
static int network_opt(struct hk_network *n, const char *opt, struct hk_error *err)
{
	const char *eq = strchr(opt, '=');
	long long mtu;

	if (eq && ((eq - opt == 3 && strncmp(opt, "mtu", 3) == 0) ||
		   strncmp(opt, "com.docker.network.driver.mtu=", 30) == 0)) {
		if (hk_parse_int64(eq + 1, &mtu) < 0 || mtu < 68 || mtu > 65535)
			return hk_error_setx(err, -EINVAL, "--opt %s: an MTU is 68 to 65535", opt);
		n->mtu = (int)mtu;
		return 0;
	}
	return hk_error_setx(err, -EINVAL, "--opt \"%s\": the option a network takes is mtu=N",
			     opt);
}

/*
 * network create [--subnet CIDR] [--gateway IP] [--ipv6] [--internal] [-o mtu=N] [-d bridge]
 * NAME: --subnet and --gateway once for IPv4 and once for IPv6, which an
 * IPv6 subnet turns on as --ipv6 does.
 */
static int network_create(const struct ctl_globals *g, struct hk_store *s, int argc, char **argv,
			  struct hk_error *err)
{
	enum { SUBNET = 256, GATEWAY, INTERNAL, IPV6 };
	static const struct option opts[] = {
	    {"subnet", required_argument, NULL, SUBNET},
	    {"gateway", required_argument, NULL, GATEWAY},
	    {"internal", no_argument, NULL, INTERNAL},
	    {"ipv6", no_argument, NULL, IPV6},
	    {"opt", required_argument, NULL, 'o'},
	    {"driver", required_argument, NULL, 'd'},
	    {NULL, 0, NULL, 0},
	};
	_cleanup_close_ int nl = -1;
	struct hk_network n = {0};
	bool gateway6 = false;
	int c, len, r;

	optind = 1;
	while ((c = getopt_long(argc, argv, "+o:d:", opts, NULL)) != -1) {
		switch (c) {
		case SUBNET:
			if (strchr(optarg, ':')
				? hk_net_parse_cidr6(optarg, &n.subnet6, &n.prefix6) < 0
				: hk_net_parse_cidr(optarg, &n.subnet, &n.prefix) < 0 ||
				      !strchr(optarg, '/'))
				return hk_error_setx(err, -EINVAL,
						     "--subnet \"%s\": A.B.C.D/N or X:X::/N, such "
						     "as 10.90.0.0/24 or fd00:db8:1::/64",
						     optarg);
			break;
		case GATEWAY:
			if (strchr(optarg, ':')
				? (gateway6 = true,
				   hk_net_parse_cidr6(optarg, &n.gateway6, &len) < 0 || len != 128)
				: hk_net_parse_cidr(optarg, &n.gateway, &len) < 0 || len != 32)
				return hk_error_setx(err, -EINVAL,
						     "--gateway \"%s\": an IPv4 or IPv6 address",
						     optarg);
			break;
		case INTERNAL:
			n.internal = true;
			break;
		case IPV6:
			/* A /64 of the store's ULA prefix, unless --subnet says. */
			if (!n.prefix6)
				n.prefix6 = 64;
			break;
		case 'o':
			if ((r = network_opt(&n, optarg, err)) < 0)
				return r;
			break;
		case 'd':
			if (strcmp(optarg, "bridge") != 0)
				return hk_error_setx(err, -ENOTSUP,
						     "--driver %s: the driver there is is bridge",
						     optarg);
			break;
		default:
			return hk_error_setx(err, -EINVAL, "see hakoctl network --help");
		}
	}
	if (optind != argc - 1)
		return hk_error_setx(err, -EINVAL, "network create: expected one NAME");
	if ((n.gateway && !n.subnet) ||
	    (gateway6 && !memcmp(&n.subnet6, &(struct in6_addr){0}, sizeof(n.subnet6))))
		return hk_error_setx(err, -EINVAL, "--gateway: with --subnet of its kind");
	if (n.prefix6 && !hk_net_ipv6_available())
		return hk_error_setx(err, -ENOTSUP,
				     "--ipv6: IPv6 is off on this host "
				     "(net.ipv6.conf.all.disable_ipv6)");
	snprintf(n.name, sizeof(n.name), "%s", argv[optind]);
	if (strlen(argv[optind]) >= sizeof(n.name))
		return hk_error_setx(err, -EINVAL, "network \"%s\": a name is shorter than %zu",
				     argv[optind], sizeof(n.name));
	if ((r = nl = hk_ns_socket(-1, AF_NETLINK, SOCK_RAW, NETLINK_ROUTE, err)) < 0 ||
	    (r = hk_network_create(s->dirfd, nl, &n, err)) < 0)
		return r;
	if ((r = ctl_net_table_update(g, s, err)) < 0) {
		hk_network_delete(s->dirfd, n.name, &(struct hk_error){0});
		return r;
	}
	printf("%s\n", n.name);
	return 0;
}

/* Whether a container's network mode names network name; its name in *who. */
static bool network_used(const struct hk_ctr *v, size_t count, const char *name, const char **who)
{
	for (size_t i = 0; i < count; i++) {
		const char *mode = hk_json_get_string(v[i].record, "NetworkMode");
		_cleanup_free_ char *copy = hk_xstrdup(mode ? mode : "");
		if (!ctl_network_bridged(mode))
			continue;
		for (char *save = NULL, *x = strtok_r(copy, ",", &save); x;
		     x = strtok_r(NULL, ",", &save))
			if (strcmp(x, name) == 0) {
				*who = v[i].name;
				return true;
			}
	}
	return false;
}

/* A network removed: its definition, its bridge, its leases' dir (empty). */
static int network_remove(const struct ctl_globals *g, struct hk_store *s,
			  const struct hk_network *n, int nl, struct hk_error *err)
{
	char path[PATH_MAX];
	int r, e;

	if ((r = hk_network_delete(s->dirfd, n->name, err)) < 0)
		return r;
	if ((e = hk_net_link_delete(nl, n->bridge)) < 0 && e != -ENODEV)
		hk_warn("network %s: remove its bridge %s: %s", n->name, n->bridge, strerror(-e));
	/* Its gateway for hako-dns, which stops listening there. */
	snprintf(path, sizeof(path), "%s/networks/" HK_NET_NAMES "/gateway@%s", ctl_run_dir(g),
		 n->name);
	unlink(path);
	/* Its leases' dir: empty, with no container on it, but for the hint of the last. */
	snprintf(path, sizeof(path), "%s/networks/%s/.last", ctl_run_dir(g), n->name);
	unlink(path);
	*strrchr(path, '/') = '\0';
	rmdir(path);
	return 0;
}

/* network rm NAME..., network prune [-f] */
static int network_rm(const struct ctl_globals *g, struct hk_store *s, int argc, char **argv,
		      bool prune, struct hk_error *err)
{
	_cleanup_free_ struct hk_network *nets = NULL;
	_cleanup_close_ int nl = -1;
	struct hk_ctr *v = NULL;
	struct hk_network one;
	size_t count = 0, n_nets = 0, removed = 0;
	const char *who;
	int r;

	if ((r = nl = hk_ns_socket(-1, AF_NETLINK, SOCK_RAW, NETLINK_ROUTE, err)) < 0 ||
	    (r = hk_ctr_list(s, ctl_run_dir(g), &v, &count, err)) < 0)
		return r;
	if (prune) {
		if ((r = hk_network_list(s->dirfd, &nets, &n_nets, err)) < 0)
			goto out;
		printf("Deleted Networks:\n");
		for (size_t i = 1; i < n_nets; i++)
			if (!network_used(v, count, nets[i].name, &who) &&
			    network_remove(g, s, &nets[i], nl, err) == 0) {
				printf("%s\n", nets[i].name);
				removed++;
			}
		hk_error_clear(err);
	}
	for (int i = 0; i < argc; i++) {
		if ((r = hk_network_find(s->dirfd, argv[i], &one, err)) < 0)
			goto out;
		if (hk_network_is_default(argv[i])) {
			r = hk_error_setx(err, -EPERM, "network %s: the default network stays",
					  argv[i]);
			goto out;
		}
		if (network_used(v, count, one.name, &who)) {
			r = hk_error_setx(
			    err, -EBUSY,
			    "network %s: container %s is on it (remove the container, "
			    "or disconnect it)",
			    one.name, who);
			goto out;
		}
		if ((r = network_remove(g, s, &one, nl, err)) < 0)
			goto out;
		printf("%s\n", one.name);
		removed++;
	}
	r = 0;
out:
	/* Those removed before a failure leave the table too. */
	if (removed) {
		struct hk_error e = {0};
		if (ctl_net_table_update(g, s, r < 0 ? &e : err) < 0 && r == 0)
			r = err->code;
		hk_error_clear(&e);
	}
	hk_ctr_list_free(v, count);
	return r;
}

int ctl_record_names(const struct ctl_globals *g, struct hk_store *s, const struct hk_ctr *c,
		     struct hk_error *err)
{
	struct ctl_net_opts o = {0};
	int r;

	ctl_net_opts_from_json(hk_json_get(c->record, "NetworkConfig"), &o);
	r = ctl_network_names(g, s, c->id, c->name, o.aliases, err);
	ctl_net_opts_release(&o);
	return r;
}

/* Its bundle's networks file written from v (without the one at skip, unless skip is n). */
static int write_attachments(const struct ctl_globals *g, const char *id,
			     const struct hk_attachment *v, size_t n, size_t skip,
			     struct hk_error *err)
{
	char path[PATH_MAX];
	_cleanup_close_ int fd = -1;

	snprintf(path, sizeof(path), "%s/bundles/%s", ctl_run_dir(g), id);
	if ((fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
		return hk_error_set(err, -errno, "%s", path);
	return hk_net_bundle_attachments_write(fd, v, n, skip, err);
}

/* A running container on networks, found; its networks in *at. */
static int connectable(const struct ctl_globals *g, struct hk_store *s, const char *what,
		       struct hk_ctr *c, struct hk_attachment **at, size_t *n_at,
		       struct hk_error *err)
{
	const char *mode;
	int r;

	if ((r = hk_ctr_find(s, ctl_run_dir(g), what, c, err)) < 0)
		return r;
	mode = hk_json_get_string(c->record, "NetworkMode");
	if (!ctl_network_bridged(mode))
		return hk_error_setx(err, -EINVAL,
				     "container %s: its network is %s, not networks of hakoctl's",
				     c->name, mode ? mode : "none");
	hk_net_bundle_attachments(ctl_run_dir(g), c->id, at, n_at);
	if (c->status != HK_CTR_RUNNING || c->init <= 0 || !*n_at)
		return hk_error_setx(err, -EINVAL, "container %s is not running", c->name);
	return 0;
}

/* Its record's networks, as its next start makes them: those it is on now. */
static int record_networks(struct hk_store *s, const struct hk_ctr *c,
			   const struct hk_attachment *v, size_t n, size_t skip,
			   struct hk_error *err)
{
	struct hk_buf b = HK_BUF_INIT;
	int r;

	for (size_t i = 0; i < n; i++)
		if (i != skip)
			hk_buf_addf(&b, "%s%s", b.len ? "," : "", v[i].network);
	r = hk_ctr_set(s, c->id, "NetworkMode", hk_json_new_string(b.buf), err);
	hk_buf_release(&b);
	return r;
}

/* network connect NETWORK CONTAINER: a running container gets one more interface. */
static int network_connect(const struct ctl_globals *g, struct hk_store *s, const char *name,
			   const char *what, struct hk_error *err)
{
	_cleanup_free_ struct hk_attachment *at = NULL;
	_cleanup_close_ int host_nl = -1, ns = -1, ns_nl = -1, lock = -1, leases = -1;
	struct hk_network n;
	struct hk_ctr c = {0};
	size_t n_at = 0;
	int bridge, mtu, uplink = -1, next = 0, r;
	char host_name[16], path[64];
	struct in6_addr ip6;
	uint32_t ip;

	if ((r = hk_network_find(s->dirfd, name, &n, err)) < 0 ||
	    (r = connectable(g, s, what, &c, &at, &n_at, err)) < 0)
		goto out;
	if (!hk_net_ipv6_available())
		n.prefix6 = 0; /* IPv4 only */
	for (size_t i = 0; i < n_at; i++)
		if (strcmp(at[i].network, n.name) == 0) {
			r = hk_error_setx(err, -EEXIST, "container %s is on network %s already",
					  c.name, n.name);
			goto out;
		}
	/* Its interface: the lowest ethN it does not have (one disconnected is free again). */
	for (bool taken = true; taken; next += taken) {
		int k;
		taken = false;
		for (size_t i = 0; i < n_at && !taken; i++)
			taken = sscanf(at[i].ifname, "eth%d", &k) == 1 && k == next;
	}
	if (n_at >= CTL_MAX_NETWORKS) {
		r = hk_error_setx(err, -E2BIG, "container %s: at most %d networks", c.name,
				  CTL_MAX_NETWORKS);
		goto out;
	}
	if ((r = host_nl = hk_ns_socket(-1, AF_NETLINK, SOCK_RAW, NETLINK_ROUTE, err)) < 0)
		goto out;
	mtu = ctl_net_mtu(&n, host_nl, &uplink);
	if ((r = hk_net_bridge_ensure(host_nl, &n, mtu, &bridge, err)) < 0 ||
	    (r = lock = ctl_net_lock(g, err)) < 0 || (r = ctl_net_nat_ensure(g, s, err)) < 0 ||
	    (r = leases = ctl_net_leases_dir(g, &n, err)) < 0)
		goto out;
	at = hk_xrealloc(at, (n_at + 1) * sizeof(*at));
	if ((r = ctl_net_lease(g, leases, &n, c.id, 0, NULL, &at[n_at], &ip, &ip6, err)) < 0)
		goto out;
	snprintf(at[n_at].ifname, sizeof(at[n_at].ifname), "eth%d", next);
	if ((r = write_attachments(g, c.id, at, n_at + 1, n_at + 1, err)) < 0) {
		hk_net_unlease(leases, &at[n_at], c.id);
		goto out;
	}
	close(lock);
	lock = -1;
	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)c.init);
	ctl_net_veth_name(host_name, c.id, next);
	if ((ns = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		r = hk_error_set(err, -errno, "container %s: its network namespace", c.name);
	else if ((ns_nl = hk_ns_socket(ns, AF_NETLINK, SOCK_RAW, NETLINK_ROUTE, err)) < 0)
		r = ns_nl;
	else
		r = hk_net_attach(host_nl, bridge, ns, ns_nl, host_name, at[n_at].ifname, &n, ip,
				  n.prefix6 ? &ip6 : NULL, false, NULL, mtu, err);
	if (r < 0 || (r = record_networks(s, &c, at, n_at + 1, n_at + 1, err)) < 0) {
		/* Back as it was: its end gone (with the pair), its lease, its line. */
		if (ns_nl >= 0)
			hk_net_link_delete(ns_nl, at[n_at].ifname);
		write_attachments(g, c.id, at, n_at, n_at, &(struct hk_error){0});
		hk_net_unlease(leases, &at[n_at], c.id);
		goto out;
	}
	hk_debug("container %s on network %s: %s %s", c.name, n.name, at[n_at].ifname,
		 at[n_at].addr);
	r = ctl_record_names(g, s, &c, err);
out:
	hk_ctr_free(&c);
	return r;
}

/* network disconnect NETWORK CONTAINER: that interface of a running container removed. */
static int network_disconnect(const struct ctl_globals *g, struct hk_store *s, const char *name,
			      const char *what, struct hk_error *err)
{
	_cleanup_free_ struct hk_attachment *at = NULL;
	_cleanup_free_ struct hk_port *ports = NULL;
	_cleanup_close_ int ns = -1, ns_nl = -1, leases = -1;
	struct hk_network n;
	struct hk_ctr c = {0};
	size_t n_at = 0, k = 0, n_ports = 0;
	char path[PATH_MAX];
	int r, e;

	if ((r = hk_network_find(s->dirfd, name, &n, err)) < 0 ||
	    (r = connectable(g, s, what, &c, &at, &n_at, err)) < 0)
		goto out;
	while (k < n_at && strcmp(at[k].network, n.name) != 0)
		k++;
	if (k == n_at) {
		r = hk_error_setx(err, -ENOENT, "container %s is not on network %s", c.name,
				  n.name);
		goto out;
	}
	if (k == 0 && hk_net_bundle_port_list(ctl_run_dir(g), c.id, &ports, &n_ports) == 0 &&
	    n_ports) {
		r = hk_error_setx(err, -EBUSY,
				  "container %s: its published ports go to its address on network "
				  "%s",
				  c.name, n.name);
		goto out;
	}
	if (n_at == 1) {
		r = hk_error_setx(err, -EINVAL,
				  "container %s: network %s is the only one it is on (a container "
				  "with no network is run with --network none)",
				  c.name, n.name);
		goto out;
	}
	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)c.init);
	if ((ns = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		r = hk_error_set(err, -errno, "container %s: its network namespace", c.name);
		goto out;
	}
	if ((r = ns_nl = hk_ns_socket(ns, AF_NETLINK, SOCK_RAW, NETLINK_ROUTE, err)) < 0)
		goto out;
	if ((e = hk_net_link_delete(ns_nl, at[k].ifname)) < 0 && e != -ENODEV) {
		r = hk_error_set(err, e, "container %s: remove %s", c.name, at[k].ifname);
		goto out;
	}
	if ((r = write_attachments(g, c.id, at, n_at, k, err)) < 0 ||
	    (r = record_networks(s, &c, at, n_at, k, err)) < 0)
		goto out;
	hk_net_names_drop(ctl_run_dir(g), c.id, n.name);
	snprintf(path, sizeof(path), "%s/networks/%s", ctl_run_dir(g), n.name);
	if ((leases = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC)) >= 0)
		hk_net_unlease(leases, &at[k], c.id);
	hk_debug("container %s off network %s (%s %s %s removed)", c.name, n.name, at[k].ifname,
		 at[k].addr, at[k].addr6);
out:
	hk_ctr_free(&c);
	return r;
}

/* hakoctl network ls | inspect NAME... | create | rm NAME... | prune | connect | disconnect |
 * reload */
int ctl_network(const struct ctl_globals *g, int argc, char **argv, struct hk_error *err)
{
	const char *cmd = argc >= 2 ? argv[1] : "";
	bool quiet = argc == 3 && strcmp(argv[2], "-q") == 0;
	struct hk_store s;
	int r;

	if ((r = ctl_store_open(g, &s, err)) < 0)
		return r;
	if ((strcmp(cmd, "ls") == 0 || strcmp(cmd, "list") == 0) && (argc == 2 || quiet))
		r = network_show(g, &s, 0, NULL, false, quiet, err);
	else if (strcmp(cmd, "inspect") == 0 && argc >= 3)
		r = network_show(g, &s, argc - 2, argv + 2, true, false, err);
	else if (strcmp(cmd, "create") == 0)
		r = network_create(g, &s, argc - 1, argv + 1, err);
	else if ((strcmp(cmd, "rm") == 0 || strcmp(cmd, "remove") == 0) && argc >= 3)
		r = network_rm(g, &s, argc - 2, argv + 2, false, err);
	else if (strcmp(cmd, "prune") == 0 &&
		 (argc == 2 || (argc == 3 && strcmp(argv[2], "-f") == 0)))
		r = network_rm(g, &s, 0, NULL, true, err);
	else if (strcmp(cmd, "connect") == 0 && argc == 4)
		r = network_connect(g, &s, argv[2], argv[3], err);
	else if (strcmp(cmd, "disconnect") == 0 && argc == 4)
		r = network_disconnect(g, &s, argv[2], argv[3], err);
	else if (strcmp(cmd, "reload") == 0 && argc == 2)
		r = network_reload(g, &s, err);
	else
		r = hk_error_setx(
		    err, -EINVAL,
		    "network: ls [-q], inspect NAME..., create [--subnet CIDR] "
		    "[--gateway IP] [--internal] [-o mtu=N] NAME, rm NAME..., prune, "
		    "connect NETWORK CONTAINER, disconnect NETWORK CONTAINER, reload");
	hk_store_close(&s);
	return r;
}

struct gc {
	const struct ctl_globals *g;
	size_t bundles, leases, names, states;
};

/* A bundle whose container is gone: what it holds given back, then the bundle. */
static void gc_bundle(const char *id, void *arg)
{
	struct gc *gc = arg;
	const char *runroot = ctl_run_dir(gc->g);
	char path[PATH_MAX];
	int fd;

	if (!ctl_net_stale(id, (void *)runroot))
		return;
	/* What its bundle records (the passes after this one take the rest). */
	hk_net_release(runroot, id, -1, false);
	snprintf(path, sizeof(path), "%s/bundles", runroot);
	if ((fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		hk_rm_rf_at(fd, id);
		close(fd);
	}
	hk_ctr_unwatch(runroot, id);
	hk_debug("gc: the bundle of %.12s, and what it held", id);
	gc->bundles++;
}

/*
 * hk_write_atomic_at's temporary name, .NAME.tmp: what a hakoctl killed
 * between its create and its rename leaves.
 */
static bool is_cut_short(const char *name)
{
	size_t n = strlen(name);

	return name[0] == '.' && n > 5 && strcmp(name + n - 4, ".tmp") == 0;
}

/* Entries of dir (under the run dir) that take() removed, as a dead container's: how many. */
static size_t gc_dir(const char *runroot, const char *dir,
		     bool (*take)(const char *runroot, int dirfd, const char *name))
{
	char path[PATH_MAX];
	struct dirent *de;
	size_t n = 0;
	DIR *d;

	snprintf(path, sizeof(path), "%s/%s", runroot, dir);
	if (!(d = opendir(path)))
		return 0;
	while ((de = readdir(d)))
		if ((de->d_name[0] != '.' || is_cut_short(de->d_name)) &&
		    take(runroot, dirfd(d), de->d_name)) {
			hk_debug("gc: %s/%s", dir, de->d_name);
			n++;
		}
	closedir(d);
	return n;
}

/* A lease (its file holds the id) of a container that is gone: ipam's own check. */
static bool lease_take(const char *runroot, int dirfd, const char *name)
{
	if (is_cut_short(name))
		return false; /* only .last is written so, and it holds no id */
	return hk_ipam_take_back(dirfd, name, ctl_net_stale, (void *)runroot);
}

/*
 * A file of dir named by the id of a container that is gone: the id, then
 * end ('@' or none); or the .NAME.tmp of such a file, which a hakoctl
 * killed in hk_write_atomic_at left.
 */
static bool take_if_stale(const char *runroot, int dirfd, const char *name, char end)
{
	bool tmp = is_cut_short(name);
	const char *own = tmp ? name + 1 : name;
	/* After the id: end, or ".tmp" in the temporary name of a file named by the id alone. */
	char after = tmp && end == '\0' ? '.' : end;
	char id[HK_CTR_ID_LEN + 1];

	if (strlen(own) < HK_CTR_ID_LEN || own[HK_CTR_ID_LEN] != after)
		return false;
	snprintf(id, sizeof(id), "%.*s", HK_CTR_ID_LEN, own);
	return ctl_net_stale(id, (void *)runroot) && unlinkat(dirfd, name, 0) == 0;
}

/* A name for hako-dns (ID@NET) of a container that is gone. */
static bool name_take(const char *runroot, int dirfd, const char *name)
{
	return take_if_stale(runroot, dirfd, name, '@');
}

/*
 * A file named by the id of a container that is gone: a watcher's record
 * (ctr/ID), or ports for hako-proxy (networks/.proxy/ID).
 */
static bool id_file_take(const char *runroot, int dirfd, const char *name)
{
	return take_if_stale(runroot, dirfd, name, '\0');
}

/* The runtime's state of a container that is gone: `RUNTIME delete --force`. */
static void gc_runtime_states(struct gc *gc)
{
	_cleanup_free_ char *rt = ctl_runtime_path(gc->g->runtime);
	const char *base = strrchr(rt, '/') ? strrchr(rt, '/') + 1 : rt;
	char path[PATH_MAX];
	struct hk_error err = {0};
	struct dirent *de;
	DIR *d;

	snprintf(path, sizeof(path), "%s/%s", ctl_run_dir(gc->g), base);
	if (!(d = opendir(path)))
		return;
	while ((de = readdir(d))) {
		const char *del[] = {"delete", "--force", de->d_name, NULL};
		if (strlen(de->d_name) != HK_CTR_ID_LEN ||
		    !ctl_net_stale(de->d_name, (void *)ctl_run_dir(gc->g)))
			continue;
		if (ctl_runtime_call(gc->g, del, true, &err) == 0)
			gc->states++;
		hk_error_clear(&err);
	}
	closedir(d);
}

/*
 * hakoctl system gc: what a crash (a hakoctl or a monitor killed) left: the
 * containers half made or half removed (hk_ctr_sweep), the bundles of
 * containers that are gone and what they held (leases, names, ports), the
 * runtime's state of those, and the table made again from what lives.
 * What is live is what has a watcher or a process (container.h): a
 * container being made has its hakoctl as its watcher from the start.
 */
int ctl_system_gc(const struct ctl_globals *g, struct hk_error *err)
{
	const char *runroot = ctl_run_dir(g);
	_cleanup_free_ struct hk_network *nets = NULL;
	_cleanup_close_ int lock = -1;
	struct gc gc = {.g = g};
	struct hk_store s;
	size_t n_nets = 0;
	char dir[PATH_MAX];
	int r;

	if ((r = ctl_store_open(g, &s, err)) < 0)
		return r;
	hk_ctr_sweep(&s, runroot);
	gc_runtime_states(&gc);
	if ((r = lock = ctl_net_lock(g, err)) < 0)
		goto out;
	ctl_net_each_bundle(g, gc_bundle, &gc);
	if ((r = hk_network_list(s.dirfd, &nets, &n_nets, err)) < 0)
		goto out;
	for (size_t i = 0; i < n_nets; i++) {
		snprintf(dir, sizeof(dir), "networks/%s", nets[i].name);
		gc.leases += gc_dir(runroot, dir, lease_take);
	}
	gc.names = gc_dir(runroot, "networks/" HK_NET_NAMES, name_take);
	gc_dir(runroot, "ctr", id_file_take);
	gc_dir(runroot, "networks/" HK_NET_PROXY, id_file_take);
	/* The ports of what is gone out of the maps (the table, if there is one). */
	if ((r = hk_nft_table_exists(err)) > 0)
		r = ctl_net_table_build(g, &s, NULL, err);
	if (r < 0)
		goto out;
	printf("removed: %zu bundle(s), %zu lease(s), %zu name(s), %zu runtime state(s)\n",
	       gc.bundles, gc.leases, gc.names, gc.states);
	r = 0;
out:
	hk_store_close(&s);
	return r;
}
