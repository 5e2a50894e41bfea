// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * --network hako (docker's "bridge"): the container's network, set up by
 * hakoctl before the runtime runs, as the tutorials do it by hand:
 *
 * 1. on the host: the bridge hako0 with the gateway 10.88.0.1/16, up, and
 *    IPv4 forwarding on (net/link.c);
 * 2. an address leased for the container (net/ipam.c), under the run dir,
 *    and its published ports put in hakoctl's nftables maps (hako-nft);
 * 3. unshare(CLONE_NEWNET): from here hakoctl is in the container's new
 *    network namespace, and so are the runtime and the monitor it starts;
 *    the runtime joins it by path (/proc/self/ns/net, its own), and it
 *    lives as long as the container's monitor (or the hakoctl of a
 *    foreground run) does, through restarts;
 * 4. a veth pair: hk<id> on the bridge, eth0 made in the new namespace
 *    directly, with the address and a default route through the gateway;
 * 5. /etc/hosts, /etc/hostname and /etc/resolv.conf, written in the bundle
 *    and bound over the image's.
 *
 * When the namespace goes, the kernel removes the veth pair; what is left
 * to do is the ports and the lease, which the monitor (or the foreground
 * hakoctl) gives back, as the bundle records them.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "commands.h"
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

bool ctl_network_bridged(const char *mode)
{
	return mode && (strcmp(mode, "hako") == 0 || strcmp(mode, "bridge") == 0);
}

/* The leases' dir of network n, made if missing. */
static int leases_dir(const struct ctl_globals *g, const struct hk_network *n, struct hk_error *err)
{
	char path[PATH_MAX];
	int fd;

	snprintf(path, sizeof(path), "%s/networks/%s", ctl_run_dir(g), n->name);
	if (hk_mkdir_p(path, 0700, err) < 0)
		return err->code;
	if ((fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return hk_error_set(err, -errno, "%s", path);
	return fd;
}

/* hakoctl's table made (again: it is replaced) by hako-nft, in one transaction. */
static int nft_init(const struct hk_network *n, struct hk_error *err)
{
	_cleanup_free_ char *helper = ctl_beside_self("hako-nft");
	char subnet[20];
	const char *args[] = {helper, "init", hk_network_subnet_text(n, subnet), NULL};
	int r;

	if ((r = hk_nft_run(helper, -1, args, err)) < 0)
		return hk_error_prefix(err, "network %s: its nftables table", n->name);
	hk_debug("nftables: table inet %s made (masquerade of %s, the maps of ports)", HK_NFT_TABLE,
		 subnet);
	return 0;
}

/*
 * The NAT of the network (hakoctl's nftables table, net/nft.h), made when it
 * is missing: after a boot, or after `nft flush ruleset`.
 */
static int nat_ensure(const struct hk_network *n, struct hk_error *err)
{
	int r = hk_nft_table_exists(err);

	return r != 0 ? (r < 0 ? r : 0) : nft_init(n, err);
}

/*
 * Its published ports: each free on the host (a bind() to it), then all of
 * them in the maps in one transaction, which fails if another container
 * has one. Recorded in the bundle, one element a line, for their release.
 */
static int publish(int bundlefd, const char *addr, const struct hk_port *ports, size_t n,
		   struct hk_error *err)
{
	struct hk_buf b = HK_BUF_INIT;
	char elem[48];
	int r;

	for (size_t i = 0; i < n; i++) {
		if ((r = hk_port_check_free(&ports[i], err)) < 0)
			goto out;
		hk_buf_addf(&b, "%s\n", hk_port_element(&ports[i], elem));
	}
	if ((r = hk_write_atomic_at(bundlefd, "ports", b.buf, b.len, err)) < 0)
		goto out;
	if ((r = hk_nft_ports(-1, true, addr, ports, n, err)) < 0) {
		unlinkat(bundlefd, "ports", 0);
		if (r == -EEXIST)
			r = hk_error_setx(err, -EADDRINUSE,
					  "-p: a port of these is published by "
					  "another container already");
		goto out;
	}
	hk_debug("nftables: %zu port(s) of %s published (NEWSETELEM in ports4, ports4_at)", n,
		 addr);
out:
	hk_buf_release(&b);
	return r;
}

static int lock_network(int leases, const struct hk_network *n, struct hk_error *err)
{
	return flock(leases, LOCK_EX) < 0 ? hk_error_set(err, -errno, "lock network %s", n->name)
					  : 0;
}

/* A lease is stale once its container has neither a watcher nor a process. */
static bool lease_stale(const char *id, void *arg)
{
	const char *runroot = arg;

	return hk_ctr_live_watcher(runroot, id) == 0 && hk_ctr_live_init(runroot, id) == 0;
}

int ctl_host_netns = -1;

void ctl_network_release(const struct ctl_globals *g, const char *id)
{
	hk_net_release(ctl_run_dir(g), id, ctl_host_netns, false);
}

/*
 * The host's nameservers that a container can reach (not the host's
 * loopback ones), or those of --dns; the host's search and options.
 */
static void write_resolv_conf(struct hk_buf *b, const char *const *dns)
{
	char line[512];
	FILE *f = fopen("/etc/resolv.conf", "re");

	hk_buf_adds(b, "# written by hakoctl: the host's resolvers (not those on its loopback), "
		       "or --dns\n");
	while (f && fgets(line, sizeof(line), f)) {
		char *p = line + strspn(line, " \t");
		if (strncmp(p, "nameserver", 10) == 0) {
			char *a = p + 10 + strspn(p + 10, " \t");
			if (dns || strncmp(a, "127.", 4) == 0 || strncmp(a, "::1", 3) == 0)
				continue;
		}
		if (*p != '#')
			hk_buf_adds(b, p);
	}
	if (f)
		fclose(f);
	for (size_t i = 0; dns && dns[i]; i++)
		hk_buf_addf(b, "nameserver %s\n", dns[i]);
}

/* A bind mount of the bundle's file name over /etc/name, in config's mounts. */
static void bind_etc(struct hk_json *config, const char *bundle, const char *name)
{
	struct hk_json *m = hk_json_push(hk_json_child(config, "mounts", HK_JSON_ARRAY),
					 hk_json_new(HK_JSON_OBJECT));
	char src[PATH_MAX], dst[64];
	struct hk_json *opts;

	snprintf(src, sizeof(src), "%s/%s", bundle, name);
	snprintf(dst, sizeof(dst), "/etc/%s", name);
	hk_json_set(m, "destination", hk_json_new_string(dst));
	hk_json_set(m, "type", hk_json_new_string("bind"));
	hk_json_set(m, "source", hk_json_new_string(src));
	opts = hk_json_set(m, "options", hk_json_new(HK_JSON_ARRAY));
	hk_json_push(opts, hk_json_new_string("bind"));
	hk_json_push(opts, hk_json_new_string("nosuid"));
	hk_json_push(opts, hk_json_new_string("nodev"));
}

static bool parse_mac(const char *text, unsigned char mac[6])
{
	unsigned v[6];
	char end;

	if (sscanf(text, "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
		   &end) != 6)
		return false;
	for (int i = 0; i < 6; i++)
		mac[i] = (unsigned char)v[i];
	/* A unicast address: the multicast bit clear, and not all zeros. */
	return !(mac[0] & 1) && (v[0] | v[1] | v[2] | v[3] | v[4] | v[5]);
}

int ctl_net_opts_check(const struct ctl_net_opts *o, struct hk_error *err)
{
	const struct hk_network *n = &hk_network_default;
	bool bridged = ctl_network_bridged(o->mode);
	unsigned char mac[6];
	char subnet[20];
	struct in_addr a;
	struct in6_addr a6;

	if (!bridged && (o->ip || o->mac || o->n_ports))
		return hk_error_setx(
		    err, -EINVAL, "%s with --network %s: it is for a container on a network (hako)",
		    o->ip    ? "--ip"
		    : o->mac ? "--mac-address"
			     : "-p",
		    o->mode);
	if (o->ip) {
		uint32_t ip, mask = n->prefix ? ~0u << (32 - n->prefix) : 0;
		if (inet_pton(AF_INET, o->ip, &a) != 1)
			return hk_error_setx(err, -EINVAL, "--ip \"%s\": not an IPv4 address",
					     o->ip);
		ip = ntohl(a.s_addr);
		if ((ip & mask) != n->subnet || ip == n->subnet || ip == (n->subnet | ~mask) ||
		    ip == n->gateway)
			return hk_error_setx(err, -EINVAL,
					     "--ip %s: not an address of network %s's subnet %s "
					     "that a container can have",
					     o->ip, n->name, hk_network_subnet_text(n, subnet));
	}
	if (o->mac && !parse_mac(o->mac, mac))
		return hk_error_setx(err, -EINVAL,
				     "--mac-address \"%s\": six hex bytes, such as "
				     "92:d0:c6:0a:29:33, and unicast",
				     o->mac);
	for (size_t i = 0; o->dns && o->dns[i]; i++)
		if (inet_pton(AF_INET, o->dns[i], &a) != 1 &&
		    inet_pton(AF_INET6, o->dns[i], &a6) != 1)
			return hk_error_setx(err, -EINVAL, "--dns \"%s\": not an IP address",
					     o->dns[i]);
	for (size_t i = 0; o->hosts && o->hosts[i]; i++) {
		const char *colon = strchr(o->hosts[i], ':');
		if (!colon || colon == o->hosts[i] ||
		    strcspn(o->hosts[i], " \t\n") < strlen(o->hosts[i]) ||
		    (inet_pton(AF_INET, colon + 1, &a) != 1 &&
		     inet_pton(AF_INET6, colon + 1, &a6) != 1))
			return hk_error_setx(err, -EINVAL,
					     "--add-host \"%s\": NAME:IP, such as db:10.88.0.5",
					     o->hosts[i]);
	}
	return 0;
}

static struct hk_json *strv_or_empty(const char *const *v)
{
	return v ? hk_json_new_strv(v) : hk_json_new(HK_JSON_ARRAY);
}

struct hk_json *ctl_net_opts_json(const struct ctl_net_opts *o)
{
	struct hk_json *j = hk_json_new(HK_JSON_OBJECT);

	if (o->ip)
		hk_json_set(j, "IPAddress", hk_json_new_string(o->ip));
	if (o->mac)
		hk_json_set(j, "MacAddress", hk_json_new_string(o->mac));
	hk_json_set(j, "Dns", strv_or_empty(o->dns));
	hk_json_set(j, "ExtraHosts", strv_or_empty(o->hosts));
	return j;
}

static const char **strv_of(const struct hk_json *a)
{
	const char **v;
	size_t k = 0;

	if (!a || a->type != HK_JSON_ARRAY || !a->n)
		return NULL;
	v = hk_xrealloc(NULL, (a->n + 1) * sizeof(*v));
	for (size_t i = 0; i < a->n; i++)
		if (a->items[i]->type == HK_JSON_STRING)
			v[k++] = a->items[i]->text;
	v[k] = NULL;
	return v;
}

void ctl_net_opts_from_json(const struct hk_json *cfg, struct ctl_net_opts *o)
{
	o->ip = hk_json_get_string(cfg, "IPAddress");
	o->mac = hk_json_get_string(cfg, "MacAddress");
	o->dns = strv_of(hk_json_get(cfg, "Dns"));
	o->hosts = strv_of(hk_json_get(cfg, "ExtraHosts"));
}

/* Its network namespace: the runtime joins the one it runs in (ours, from here on). */
static void join_our_netns(struct hk_json *config)
{
	struct hk_json *ns = hk_json_get(hk_json_get(config, "linux"), "namespaces");

	for (size_t i = 0; ns && i < ns->n; i++) {
		const char *type = hk_json_get_string(ns->items[i], "type");
		if (type && strcmp(type, "network") == 0)
			hk_json_set(ns->items[i], "path", hk_json_new_string("/proc/self/ns/net"));
	}
}

int ctl_network_setup(const struct ctl_globals *g, const char *id, const struct ctl_net_opts *o,
		      int bundlefd, const char *bundle, struct hk_json *config,
		      struct hk_error *err)
{
	const struct hk_network *n = &hk_network_default;
	_cleanup_close_ int host_nl = -1, ns_nl = -1, ns = -1, leases = -1;
	const char *hostname = o->hostname ? o->hostname : "localhost";
	struct hk_buf b = HK_BUF_INIT;
	char host_name[16], gw[16], addr[16];
	unsigned char mac[6];
	struct in_addr want = {0};
	uint32_t ip;
	int bridge, r = 0;

	if (!ctl_network_bridged(o->mode))
		return 0;
	if ((r = ctl_net_opts_check(o, err)) < 0)
		return r;
	if (o->ip)
		inet_pton(AF_INET, o->ip, &want);
	if (o->mac)
		parse_mac(o->mac, mac);
	/*
	 * Under the network's lock from the table's check to the ports: a table
	 * made again by another hakoctl (or network reload) would drop them.
	 */
	if ((host_nl = hk_ns_socket(-1, AF_NETLINK, SOCK_RAW, NETLINK_ROUTE, err)) < 0 ||
	    (r = hk_net_bridge_ensure(host_nl, n, &bridge, err)) < 0 ||
	    (r = leases = leases_dir(g, n, err)) < 0 || (r = lock_network(leases, n, err)) < 0 ||
	    (r = nat_ensure(n, err)) < 0 ||
	    (r = hk_ipam_lease(leases, n, id, ntohl(want.s_addr), lease_stale,
			       (void *)ctl_run_dir(g), &ip, err)) < 0)
		return r;
	hk_ipv4_text(ip, addr);
	hk_debug("network %s: %s leased to %.12s", n->name, addr, id);
	/* Recorded first: from here on, a failure gives back what the bundle says. */
	if ((r = hk_write_atomic_at(bundlefd, "address", addr, strlen(addr), err)) < 0 ||
	    (o->n_ports && (r = publish(bundlefd, addr, o->ports, o->n_ports, err)) < 0))
		goto fail;
	flock(leases, LOCK_UN);
	/* The host's namespace is kept, for the release of the ports from the container's. */
	if ((ctl_host_netns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC)) < 0) {
		r = hk_error_set(err, -errno, "/proc/self/ns/net");
		goto fail;
	}
	if (unshare(CLONE_NEWNET) < 0) {
		r = hk_error_set(err, -errno, "unshare(CLONE_NEWNET)");
		goto fail;
	}
	hk_debug("unshare(CLONE_NEWNET): we, the runtime and the container are in its network "
		 "namespace");
	snprintf(host_name, sizeof(host_name), "hk%.12s", id);
	if ((ns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC)) < 0) {
		r = hk_error_set(err, -errno, "/proc/self/ns/net");
		goto fail;
	}
	if ((r = ns_nl = hk_ns_socket(-1, AF_NETLINK, SOCK_RAW, NETLINK_ROUTE, err)) < 0 ||
	    (r = hk_net_attach(host_nl, bridge, ns, ns_nl, host_name, n, ip, o->mac ? mac : NULL,
			       err)) < 0)
		goto fail;
	/* Its names: its own, and the host's resolvers. */
	hk_buf_addf(&b, "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n%s\t%s\n",
		    addr, hostname);
	for (size_t i = 0; o->hosts && o->hosts[i]; i++) {
		const char *colon = strchr(o->hosts[i], ':');
		hk_buf_addf(&b, "%s\t%.*s\n", colon + 1, (int)(colon - o->hosts[i]), o->hosts[i]);
	}
	if ((r = hk_write_atomic_at(bundlefd, "hosts", b.buf, b.len, err)) < 0)
		goto fail;
	b.len = 0;
	hk_buf_addf(&b, "%s\n", hostname);
	if ((r = hk_write_atomic_at(bundlefd, "hostname", b.buf, b.len, err)) < 0)
		goto fail;
	b.len = 0;
	write_resolv_conf(&b, o->dns);
	if ((r = hk_write_atomic_at(bundlefd, "resolv.conf", b.buf, b.len, err)) < 0)
		goto fail;
	hk_buf_release(&b);
	if (config) {
		bind_etc(config, bundle, "hosts");
		bind_etc(config, bundle, "hostname");
		bind_etc(config, bundle, "resolv.conf");
		join_our_netns(config);
	}
	hk_debug("network %s: eth0 %s/%d, gateway %s", n->name, addr, n->prefix,
		 hk_ipv4_text(n->gateway, gw));
	return 0;
fail:
	hk_buf_release(&b);
	ctl_network_release(g, id);
	hk_ipam_release(leases, addr, id); /* if it was not recorded yet */
	/* Given back: nothing for the caller's release to give back again. */
	unlinkat(bundlefd, "ports", 0);
	unlinkat(bundlefd, "address", 0);
	return r;
}

int ctl_record_ports(const struct hk_json *rec, struct hk_port **v, size_t *n, struct hk_error *err)
{
	const struct hk_json *p = hk_json_get(rec, "PortSpecs");
	int r;

	for (size_t i = 0; p && p->type == HK_JSON_ARRAY && i < p->n; i++)
		if (p->items[i]->type == HK_JSON_STRING &&
		    (r = hk_ports_parse(p->items[i]->text, v, n, err)) < 0)
			return r;
	return 0;
}

/* hakoctl port CONTAINER [PORT[/PROTO]]: its published ports, as docker lists them. */
int ctl_port(const struct ctl_globals *g, int argc, char **argv, struct hk_error *err)
{
	_cleanup_free_ struct hk_port *ports = NULL;
	struct hk_ctr c = {0};
	struct hk_store s;
	size_t n = 0;
	char want[16] = "", ip[16];
	int r;

	if (argc < 2 || argc > 3 || argv[1][0] == '-')
		return hk_error_setx(err, -EINVAL, "port: expected CONTAINER [PORT[/PROTO]]");
	if (argc == 3)
		snprintf(want, sizeof(want), "%s%s", argv[2], strchr(argv[2], '/') ? "" : "/tcp");
	if ((r = ctl_store_open(g, &s, err)) < 0)
		return r;
	if ((r = hk_ctr_find(&s, ctl_run_dir(g), argv[1], &c, err)) < 0)
		goto out;
	if ((r = ctl_record_ports(c.record, &ports, &n, err)) < 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		char priv[16];
		snprintf(priv, sizeof(priv), "%u/%s", ports[i].ctr_port,
			 hk_port_proto_name(&ports[i]));
		if (*want && strcmp(want, priv) != 0)
			continue;
		if (*want)
			printf("%s:%u\n", hk_ipv4_text(ports[i].host_ip, ip), ports[i].host_port);
		else
			printf("%s -> %s:%u\n", priv, hk_ipv4_text(ports[i].host_ip, ip),
			       ports[i].host_port);
	}
	r = 0;
out:
	hk_ctr_free(&c);
	hk_store_close(&s);
	return r;
}

/*
 * network reload: the bridge and the table made again (the table replaced
 * in one transaction), and the ports of the running containers put back in
 * its maps, from their bundles: after `nft flush ruleset`, or a firewall's
 * restart.
 */
static int network_reload(const struct ctl_globals *g, struct hk_error *err)
{
	const struct hk_network *n = &hk_network_default;
	_cleanup_close_ int nl = -1, leases = -1;
	struct hk_ctr *v = NULL;
	struct hk_store s;
	size_t count = 0, ports = 0;
	int bridge, r;

	/* Under the network's lock: no container's ports go in between. */
	if ((nl = hk_ns_socket(-1, AF_NETLINK, SOCK_RAW, NETLINK_ROUTE, err)) < 0 ||
	    (r = hk_net_bridge_ensure(nl, n, &bridge, err)) < 0 ||
	    (r = leases = leases_dir(g, n, err)) < 0 || (r = lock_network(leases, n, err)) < 0 ||
	    (r = nft_init(n, err)) < 0)
		return nl < 0 ? nl : r;
	if ((r = ctl_store_open(g, &s, err)) < 0)
		return r;
	if ((r = hk_ctr_list(&s, ctl_run_dir(g), &v, &count, err)) < 0)
		goto out;
	for (size_t i = 0; i < count; i++) {
		size_t k;
		if (v[i].status != HK_CTR_RUNNING)
			continue;
		if (hk_net_bundle_ports(ctl_run_dir(g), v[i].id, -1, true, &k, err) < 0) {
			hk_warn("container %s: %s", v[i].name, err->msg);
			hk_error_clear(err);
			continue;
		}
		ports += k;
	}
	hk_debug("network %s: table made again, %zu port(s) put back", n->name, ports);
	r = 0;
out:
	hk_ctr_list_free(v, count);
	hk_store_close(&s);
	return r;
}

/* network ls, network inspect: the default network (the only one, for now). */
static int network_show(const struct ctl_globals *g, bool json, struct hk_error *err)
{
	const struct hk_network *n = &hk_network_default;
	_cleanup_(hk_json_freep) struct hk_json *list = hk_json_new(HK_JSON_ARRAY);
	struct hk_json *o, *ipam, *cfg, *ctrs;
	struct hk_buf b = HK_BUF_INIT;
	struct hk_ctr *v = NULL;
	struct hk_store s;
	size_t count = 0;
	char text[16], subnet[32];
	int r;

	if (!json) {
		printf("NETWORK ID    NAME    DRIVER\n%-12s  %-6s  bridge\n", n->name, n->name);
		return 0;
	}
	if ((r = ctl_store_open(g, &s, err)) < 0)
		return r;
	if ((r = hk_ctr_list(&s, ctl_run_dir(g), &v, &count, err)) < 0)
		goto out;
	hk_network_subnet_text(n, subnet);
	o = hk_json_push(list, hk_json_new(HK_JSON_OBJECT));
	hk_json_set(o, "Name", hk_json_new_string(n->name));
	hk_json_set(o, "Driver", hk_json_new_string("bridge"));
	hk_json_set(o, "NetworkInterface", hk_json_new_string(n->bridge));
	ipam = hk_json_set(o, "IPAM", hk_json_new(HK_JSON_OBJECT));
	cfg = hk_json_push(hk_json_set(ipam, "Config", hk_json_new(HK_JSON_ARRAY)),
			   hk_json_new(HK_JSON_OBJECT));
	hk_json_set(cfg, "Subnet", hk_json_new_string(subnet));
	hk_json_set(cfg, "Gateway", hk_json_new_string(hk_ipv4_text(n->gateway, text)));
	ctrs = hk_json_set(o, "Containers", hk_json_new(HK_JSON_OBJECT));
	for (size_t i = 0; i < count; i++) {
		_cleanup_free_ char *addr = NULL;
		if (v[i].status != HK_CTR_RUNNING ||
		    !(addr = hk_net_bundle_file(ctl_run_dir(g), v[i].id, "address")))
			continue;
		struct hk_json *c = hk_json_set(ctrs, v[i].id, hk_json_new(HK_JSON_OBJECT));
		hk_json_set(c, "Name", hk_json_new_string(v[i].name));
		snprintf(subnet, sizeof(subnet), "%s/%d", addr, n->prefix);
		hk_json_set(c, "IPv4Address", hk_json_new_string(subnet));
	}
	hk_json_write_pretty(&b, list);
	printf("%s\n", b.buf);
	hk_buf_release(&b);
	r = 0;
out:
	hk_ctr_list_free(v, count);
	hk_store_close(&s);
	return r;
}

/* hakoctl network ls | inspect NAME | reload */
int ctl_network(const struct ctl_globals *g, int argc, char **argv, struct hk_error *err)
{
	const char *cmd = argc >= 2 ? argv[1] : "";

	if ((strcmp(cmd, "ls") == 0 || strcmp(cmd, "list") == 0) && argc == 2)
		return network_show(g, false, err);
	if (strcmp(cmd, "inspect") == 0 && argc == 3) {
		if (!ctl_network_bridged(argv[2]))
			return hk_error_setx(err, -ENOENT,
					     "network \"%s\": no such network (there "
					     "is hako, also called bridge)",
					     argv[2]);
		return network_show(g, true, err);
	}
	if (strcmp(cmd, "reload") == 0 && argc == 2)
		return network_reload(g, err);
	return hk_error_setx(err, -EINVAL,
			     "network: ls, inspect NAME or reload (networks of your own come "
			     "later: hako is the default one)");
}
