/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hakoctl's nftables table, inet hako, as one nft script (nft.h): made
 * again whole, in one transaction, when it is missing (after a boot or `nft
 * flush ruleset`), when a network is made or removed, and by `network
 * reload`. What grows with the networks, containers and ports are set and
 * map elements; the rules stay the same few:
 *
 * - postrouting: the networks' traffic to elsewhere masqueraded (not an
 *   internal network's: it never gets that far);
 * - prerouting and output: the DNAT of published ports on the host's own
 *   addresses, through the maps ports4_at (by address) and ports4;
 * - forward: no packet from one network's bridge to another's unless it was
 *   DNATed to a published port, and none in or out of an internal network
 *   (within one network all is let through: bridged packets come here too
 *   when br_netfilter is loaded).
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "network.h"
#include "nft.h"
#include "ports.h"
#include "util.h"

/*
 * The DNAT of the host's local addresses: by address and port first, then
 * by port; IPv6 by port, but for ::1, whose packets may not leave the
 * loopback: hako-proxy (net/proxy.c) serves it.
 */
static const char dnat[] =
    "    fib daddr type local dnat ip to ip daddr . meta l4proto . th dport "
    "map @ports4_at\n"
    "    meta nfproto ipv4 fib daddr type local dnat ip to meta l4proto . th dport map "
    "@ports4\n"
    "    ip6 daddr != ::1 fib daddr type local dnat ip6 to meta l4proto . th dport map "
    "@ports6\n";

/* "name { type T; ... elements = { ... } }" with what each item gives (none: no elements line). */
static void set_elements(struct hk_buf *b, size_t n, const char *(*item)(size_t i, void *arg),
			 void *arg)
{
	bool any = false;

	for (size_t i = 0; i < n; i++) {
		const char *text = item(i, arg);
		if (!text)
			continue;
		hk_buf_addf(b, "%s%s", any ? ", " : "    elements = { ", text);
		any = true;
	}
	if (any)
		hk_buf_adds(b, " }\n");
}

struct nets {
	const struct hk_network *v;
	char text[50];
	/* 0: external subnets, 1: bridges, 2: internal bridges, 3: bridge . bridge, 4: IPv6
	 * external subnets */
	int which;
};

static const char *net_item(size_t i, void *arg)
{
	struct nets *n = arg;
	const struct hk_network *net = &n->v[i];

	if (n->which == 0)
		return net->internal ? NULL : hk_network_subnet_text(net, n->text);
	if (n->which == 4)
		return net->internal || !net->prefix6 ? NULL
						      : hk_network_subnet6_text(net, n->text);
	if (n->which == 2 && !net->internal)
		return NULL;
	if (n->which == 3)
		snprintf(n->text, sizeof(n->text), "\"%s\" . \"%s\"", net->bridge, net->bridge);
	else
		snprintf(n->text, sizeof(n->text), "\"%s\"", net->bridge);
	return n->text;
}

struct elems {
	const struct hk_nft_port_of *v;
	int map; /* 0: ports4, 1: ports4_at (those bound to an address of the host), 2: ports6 */
	char text[128];
};

static const char *port_item(size_t i, void *arg)
{
	struct elems *e = arg;
	const struct hk_port *p = &e->v[i].port;
	char host[16];

	if ((p->host_ip != 0) != (e->map == 1) || (e->map == 2 && !e->v[i].addr6[0]))
		return NULL;
	if (e->map == 2)
		snprintf(e->text, sizeof(e->text), "%s . %u : [%s] . %u", hk_port_proto_name(p),
			 p->host_port, e->v[i].addr6, p->ctr_port);
	else if (e->map == 1)
		snprintf(e->text, sizeof(e->text), "%s . %s . %u : %s . %u",
			 hk_ipv4_text(p->host_ip, host), hk_port_proto_name(p), p->host_port,
			 e->v[i].addr, p->ctr_port);
	else
		snprintf(e->text, sizeof(e->text), "%s . %u : %s . %u", hk_port_proto_name(p),
			 p->host_port, e->v[i].addr, p->ctr_port);
	return e->text;
}

void hk_nft_ruleset(struct hk_buf *b, const struct hk_network *nets, size_t n_nets,
		    const struct hk_nft_port_of *ports, size_t n_ports)
{
	struct nets ns = {.v = nets};
	struct elems es = {.v = ports};

	hk_buf_adds(b, "add table inet " HK_NFT_TABLE "\n"
		       "delete table inet " HK_NFT_TABLE "\n"
		       "table inet " HK_NFT_TABLE " {\n"
		       "  set subnets4 {\n"
		       "    type ipv4_addr; flags interval\n");
	set_elements(b, n_nets, net_item, &ns);
	hk_buf_adds(b, "  }\n  set subnets6 {\n    type ipv6_addr; flags interval\n");
	ns.which = 4;
	set_elements(b, n_nets, net_item, &ns);
	ns.which = 0;
	hk_buf_adds(b, "  }\n  set bridges {\n    type ifname\n");
	ns.which = 1;
	set_elements(b, n_nets, net_item, &ns);
	hk_buf_adds(b, "  }\n  set internal {\n    type ifname\n");
	ns.which = 2;
	set_elements(b, n_nets, net_item, &ns);
	hk_buf_adds(b, "  }\n  set same {\n    type ifname . ifname\n");
	ns.which = 3;
	set_elements(b, n_nets, net_item, &ns);
	hk_buf_adds(b, "  }\n"
		       "  map ports4 {\n"
		       "    type inet_proto . inet_service : ipv4_addr . inet_service\n");
	set_elements(b, n_ports, port_item, &es);
	hk_buf_adds(b,
		    "  }\n"
		    "  map ports4_at {\n"
		    "    type ipv4_addr . inet_proto . inet_service : ipv4_addr . inet_service\n");
	es.map = 1;
	set_elements(b, n_ports, port_item, &es);
	hk_buf_adds(b, "  }\n"
		       "  map ports6 {\n"
		       "    type inet_proto . inet_service : ipv6_addr . inet_service\n");
	es.map = 2;
	set_elements(b, n_ports, port_item, &es);
	hk_buf_addf(b,
		    "  }\n"
		    "  chain prerouting {\n"
		    "    type nat hook prerouting priority dstnat; policy accept\n"
		    "%s"
		    "  }\n"
		    "  chain output {\n"
		    "    type nat hook output priority -100; policy accept\n"
		    "%s"
		    "  }\n"
		    "  chain postrouting {\n"
		    "    type nat hook postrouting priority srcnat; policy accept\n"
		    "    ip saddr @subnets4 ip daddr != @subnets4 masquerade\n"
		    "    ip6 saddr @subnets6 ip6 daddr != @subnets6 masquerade\n"
		    /* to a container through a published port from one on a network
		     * (hairpin), or from the host's 127.0.0.1: its answer must come
		     * back through us */
		    "    ct status dnat ip daddr @subnets4 ip saddr @subnets4 masquerade\n"
		    "    ct status dnat ip daddr @subnets4 ip saddr 127.0.0.0/8 masquerade\n"
		    "    ct status dnat ip6 daddr @subnets6 ip6 saddr @subnets6 masquerade\n"
		    "  }\n"
		    "  chain forward {\n"
		    "    type filter hook forward priority filter; policy accept\n"
		    /* within one network: bridged (seen here with br_netfilter), or
		     * hairpin */
		    "    iifname . oifname @same accept\n"
		    "    iifname @internal drop\n"
		    "    oifname @internal drop\n"
		    "    iifname @bridges oifname @bridges ct status dnat accept\n"
		    "    iifname @bridges oifname @bridges drop\n"
		    "  }\n"
		    "}\n",
		    dnat, dnat);
}

int hk_nft_apply(const char *helper, int host_ns, const char *script, size_t len,
		 struct hk_error *err)
{
	/* The script on its stdin: a memfd, which no size can make wait. */
	int fd = memfd_create("hako-nft", MFD_CLOEXEC), status;
	pid_t pid;

	if (fd < 0 || (size_t)write(fd, script, len) != len || lseek(fd, 0, SEEK_SET) < 0) {
		if (fd >= 0)
			close(fd);
		return hk_error_set(err, -errno, "the nftables script");
	}
	if ((pid = fork()) < 0) {
		close(fd);
		return hk_error_set(err, -errno, "fork");
	}
	if (pid == 0) {
		if ((host_ns >= 0 && setns(host_ns, CLONE_NEWNET) < 0) || dup2(fd, 0) < 0)
			_exit(126);
		execlp(helper, helper, "apply", (char *)NULL);
		_exit(127);
	}
	close(fd);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return hk_error_set(err, -errno, "waitpid");
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return hk_error_setx(err, -EIO, "%s apply: %s", helper,
				     WIFEXITED(status) && WEXITSTATUS(status) == 127
					 ? "not found"
					 : "failed (see above)");
	return 0;
}
