/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/if_link.h>
#include <linux/veth.h>

#include "log.h"
#include "netlink.h"
#include "network.h"
#include "util.h"

static int link_up(int nl, int index)
{
	struct ifinfomsg ifi = {
	    .ifi_family = AF_UNSPEC, .ifi_index = index, .ifi_flags = IFF_UP, .ifi_change = IFF_UP};
	struct hk_nl_req r;

	hk_nl_req_init(&r, RTM_NEWLINK, 0, &ifi, sizeof(ifi));
	return hk_nl_call(nl, &r);
}

/* addr (4 or 16 bytes, network order, of family) on index; an IPv6 one with no DAD wait. */
static int addr_add(int nl, int index, int family, const void *addr, int prefix)
{
	struct ifaddrmsg ifa = {.ifa_family = (unsigned char)family,
				.ifa_prefixlen = (unsigned char)prefix,
				.ifa_index = (unsigned)index};
	size_t len = family == AF_INET ? 4 : 16;
	/* Ours alone on its link: no duplicate to detect, and usable at once. */
	uint32_t flags = IFA_F_NODAD;
	struct hk_nl_req r;

	hk_nl_req_init(&r, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, &ifa, sizeof(ifa));
	hk_nl_add_attr(&r, IFA_LOCAL, addr, len);
	hk_nl_add_attr(&r, IFA_ADDRESS, addr, len);
	if (family == AF_INET6)
		hk_nl_add_attr(&r, IFA_FLAGS, &flags, sizeof(flags));
	return hk_nl_call(nl, &r);
}

static int addr4_add(int nl, int index, uint32_t addr, int prefix)
{
	uint32_t be = htonl(addr);

	return addr_add(nl, index, AF_INET, &be, prefix);
}

/* The default route of family through gw (network order) on index. */
static int default_route(int nl, int index, int family, const void *gw)
{
	struct rtmsg rt = {.rtm_family = (unsigned char)family,
			   .rtm_table = RT_TABLE_MAIN,
			   .rtm_protocol = RTPROT_BOOT,
			   .rtm_scope = RT_SCOPE_UNIVERSE,
			   .rtm_type = RTN_UNICAST};
	struct hk_nl_req r;

	hk_nl_req_init(&r, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, &rt, sizeof(rt));
	hk_nl_add_attr(&r, RTA_GATEWAY, gw, family == AF_INET ? 4 : 16);
	hk_nl_add_attr(&r, RTA_OIF, &index, sizeof(index));
	return hk_nl_call(nl, &r);
}

/* The interfaces with routes learned from router advertisements. */
struct ra_links {
	int v[64];
	size_t n;
};

static int on_ra_route(const struct nlmsghdr *h, void *arg)
{
	struct ra_links *l = arg;
	const struct rtmsg *m = NLMSG_DATA(h);
	struct rtattr *tb[RTA_MAX + 1];

	hk_nl_attrs(h, sizeof(*m), tb, RTA_MAX);
	if (m->rtm_protocol == RTPROT_RA && tb[RTA_OIF] && l->n < 64)
		l->v[l->n++] = *(int *)RTA_DATA(tb[RTA_OIF]);
	return 0;
}

/*
 * IPv6 forwarding on. With it, an interface whose accept_ra is 1 stops
 * taking router advertisements, and the host would lose the routes they
 * gave it: on those that have such routes, accept_ra goes to 2 first
 * (taken even when forwarding), as the kernel's ip-sysctl.rst says.
 */
static int ipv6_forwarding(int nl, struct hk_error *err)
{
	struct rtmsg m = {.rtm_family = AF_INET6};
	struct ra_links l = {0};
	struct hk_nl_req r;
	char path[128], name[IF_NAMESIZE], buf[8] = "";
	int fd;

	if ((fd = open("/proc/sys/net/ipv6/conf/all/forwarding", O_RDONLY | O_CLOEXEC)) >= 0) {
		ssize_t n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n > 0 && buf[0] == '1')
			return 0;
	}
	hk_nl_req_init(&r, RTM_GETROUTE, 0, &m, sizeof(m));
	hk_nl_dump(nl, &r, on_ra_route, &l);
	for (size_t i = 0; i < l.n; i++) {
		if (!if_indextoname((unsigned)l.v[i], name))
			continue;
		snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/accept_ra", name);
		if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
			continue;
		buf[0] = '\0';
		if (read(fd, buf, sizeof(buf) - 1) > 0 && buf[0] == '1' &&
		    hk_write_file(path, "2", 1, err) == 0)
			hk_debug("%s: accept_ra 1 -> 2, to keep its router advertisements with "
				 "IPv6 forwarding on",
				 name);
		hk_error_clear(err);
		close(fd);
	}
	return hk_write_file("/proc/sys/net/ipv6/conf/all/forwarding", "1", 1, err);
}

bool hk_net_ipv6_available(void)
{
	char buf[4] = "";
	int fd = open("/proc/sys/net/ipv6/conf/all/disable_ipv6", O_RDONLY | O_CLOEXEC);
	bool ok = fd >= 0 && read(fd, buf, sizeof(buf) - 1) > 0 && buf[0] == '0';

	if (fd >= 0)
		close(fd);
	return ok;
}

/*
 * The index of the interface name in the network namespace ns: the
 * container's, which we may not be in (network connect). 0 if none.
 */
static int if_index_in(int ns, const char *name)
{
	struct hk_error err = {0};
	_cleanup_close_ int fd = hk_ns_socket(ns, AF_INET, SOCK_DGRAM, 0, &err);
	struct ifreq ifr = {0};

	hk_error_clear(&err);
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (fd < 0 || ioctl(fd, SIOCGIFINDEX, &ifr) < 0)
		return fd < 0 ? fd : -errno;
	return ifr.ifr_ifindex;
}

int hk_net_link_delete(int nl, const char *name)
{
	struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC};
	struct hk_nl_req r;

	hk_nl_req_init(&r, RTM_DELLINK, 0, &ifi, sizeof(ifi));
	hk_nl_add_string(&r, IFLA_IFNAME, name);
	return hk_nl_call(nl, &r);
}

int hk_net_bridge_ensure(int nl, const struct hk_network *n, int mtu, int *ret_index,
			 struct hk_error *err)
{
	struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC, .ifi_flags = IFF_UP, .ifi_change = IFF_UP};
	struct hk_nl_req r;
	struct rtattr *info;
	unsigned char mac[6];
	char gw[16], gw6[46], path[128];
	int index, e;

	/* Most runs find it there: one ioctl. */
	if ((index = (int)if_nametoindex(n->bridge)) == 0) {
		hk_nl_req_init(&r, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, &ifi, sizeof(ifi));
		hk_nl_add_string(&r, IFLA_IFNAME, n->bridge);
		if (mtu)
			hk_nl_add_attr(&r, IFLA_MTU, &mtu, sizeof(mtu));
		/*
		 * An address of its own (random, locally administered): else the
		 * bridge takes its lowest port's, and changes it as containers come
		 * and go, and what the containers know of their gateway's address
		 * goes stale, losing their packets until they ask again.
		 */
		if (getrandom(mac, sizeof(mac), 0) == sizeof(mac)) {
			mac[0] = (unsigned char)((mac[0] & 0xfe) | 0x02);
			hk_nl_add_attr(&r, IFLA_ADDRESS, mac, sizeof(mac));
		}
		info = hk_nl_nest_start(&r, IFLA_LINKINFO);
		hk_nl_add_string(&r, IFLA_INFO_KIND, "bridge");
		hk_nl_nest_end(&r, info);
		if ((e = hk_nl_call(nl, &r)) < 0 && e != -EEXIST)
			return hk_error_set(err, e, "network %s: create the bridge %s", n->name,
					    n->bridge);
		hk_debug("RTM_NEWLINK(%s, bridge, up) ok", n->bridge);
		if ((index = (int)if_nametoindex(n->bridge)) == 0)
			return hk_error_set(err, -errno, "network %s: the bridge %s", n->name,
					    n->bridge);
	}
	if ((e = addr4_add(nl, index, n->gateway, n->prefix)) < 0 && e != -EEXIST)
		return hk_error_set(err, e, "network %s: the address %s/%d on %s", n->name,
				    hk_ipv4_text(n->gateway, gw), n->prefix, n->bridge);
	if (n->prefix6 && (e = addr_add(nl, index, AF_INET6, &n->gateway6, n->prefix6)) < 0 &&
	    e != -EEXIST)
		return hk_error_set(err, e, "network %s: the address %s/%d on %s", n->name,
				    hk_ipv6_text(&n->gateway6, gw6), n->prefix6, n->bridge);
	if ((e = link_up(nl, index)) < 0)
		return hk_error_set(err, e, "network %s: %s up", n->name, n->bridge);
	/* The containers' packets are routed on through the host's other interfaces. */
	if (hk_write_file("/proc/sys/net/ipv4/ip_forward", "1", 1, err) < 0 ||
	    (n->prefix6 && ipv6_forwarding(nl, err) < 0))
		return hk_error_prefix(err, "network %s", n->name);
	/* A published port reached on the host's 127.0.0.1 goes out through the
	 * bridge with that source (masqueraded after): allowed on it. */
	snprintf(path, sizeof(path), "/proc/sys/net/ipv4/conf/%s/route_localnet", n->bridge);
	if (hk_write_file(path, "1", 1, err) < 0)
		return hk_error_prefix(err, "network %s", n->name);
	*ret_index = index;
	return 0;
}

int hk_net_attach(int host_nl, int bridge_index, int ns, int ns_nl, const char *host_name,
		  const char *ctr_name, const struct hk_network *n, uint32_t addr,
		  const struct in6_addr *addr6, bool route, const unsigned char *mac, int mtu,
		  struct hk_error *err)
{
	struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC, .ifi_flags = IFF_UP, .ifi_change = IFF_UP};
	struct rtattr *info, *data, *peer;
	uint32_t gw = htonl(n->gateway);
	struct hk_nl_req r;
	char text[16], text6[46] = "";
	unsigned char own[6] = {0x0a, 0x58};
	int e, eth;

	/*
	 * Its MAC address, unless given: made of its IPv4 address (0a:58 and
	 * the four bytes, locally administered, as CNI's bridge plugin does).
	 * An address given back and leased again comes with the same MAC, so
	 * what the host and the other containers know of it stays true; a new
	 * one at random would be unreachable until their caches expire.
	 */
	if (!mac) {
		uint32_t be = htonl(addr);
		memcpy(own + 2, &be, 4);
		mac = own;
	}
	/*
	 * The container's end is made in its namespace directly (IFLA_NET_NS_FD
	 * in the peer's attributes): moving it there after would cost far more.
	 */
	hk_nl_req_init(&r, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, &ifi, sizeof(ifi));
	hk_nl_add_string(&r, IFLA_IFNAME, host_name);
	hk_nl_add_attr(&r, IFLA_MASTER, &bridge_index, sizeof(bridge_index));
	if (mtu)
		hk_nl_add_attr(&r, IFLA_MTU, &mtu, sizeof(mtu));
	info = hk_nl_nest_start(&r, IFLA_LINKINFO);
	hk_nl_add_string(&r, IFLA_INFO_KIND, "veth");
	data = hk_nl_nest_start(&r, IFLA_INFO_DATA);
	peer = hk_nl_nest_start(&r, VETH_INFO_PEER);
	/* The peer's own ifinfomsg first (not up yet: the kernel would open it
	 * before it is paired), then its attributes. */
	memcpy(RTA_DATA(peer), &(struct ifinfomsg){.ifi_family = AF_UNSPEC}, sizeof(ifi));
	r.h.nlmsg_len += NLMSG_ALIGN(sizeof(ifi));
	hk_nl_add_string(&r, IFLA_IFNAME, ctr_name);
	hk_nl_add_attr(&r, IFLA_NET_NS_FD, &ns, sizeof(ns));
	hk_nl_add_attr(&r, IFLA_ADDRESS, mac, 6);
	if (mtu)
		hk_nl_add_attr(&r, IFLA_MTU, &mtu, sizeof(mtu));
	hk_nl_nest_end(&r, peer);
	hk_nl_nest_end(&r, data);
	hk_nl_nest_end(&r, info);
	e = hk_nl_call(host_nl, &r);
	/*
	 * One of that name is the container's own from its last run, in a
	 * namespace another container kept (--network container:NAME): it goes,
	 * with its peer there, and the pair is made again.
	 */
	if (e == -EEXIST && hk_net_link_delete(host_nl, host_name) == 0) {
		hk_debug("RTM_DELLINK(%s): its last run's, kept by another's namespace", host_name);
		e = hk_nl_call(host_nl, &r);
	}
	if (e < 0)
		return hk_error_set(err, e, "network %s: the veth pair %s, %s", n->name, host_name,
				    ctr_name);
	hk_debug("RTM_NEWLINK(%s on %s, veth, its peer %s in the container's netns) ok", host_name,
		 n->bridge, ctr_name);
	if ((eth = if_index_in(ns, ctr_name)) <= 0)
		return hk_error_set(err, eth ? eth : -ENODEV, "network %s: %s in the container",
				    n->name, ctr_name);
	if ((e = link_up(ns_nl, 1)) < 0) /* lo is 1 in a new namespace */
		return hk_error_set(err, e, "network %s: lo up", n->name);
	if ((e = link_up(ns_nl, eth)) < 0)
		return hk_error_set(err, e, "network %s: %s up", n->name, ctr_name);
	if ((e = addr4_add(ns_nl, eth, addr, n->prefix)) < 0)
		return hk_error_set(err, e, "network %s: the address %s/%d on %s", n->name,
				    hk_ipv4_text(addr, text), n->prefix, ctr_name);
	if (addr6 && (e = addr_add(ns_nl, eth, AF_INET6, addr6, n->prefix6)) < 0)
		return hk_error_set(err, e, "network %s: the address %s/%d on %s", n->name,
				    hk_ipv6_text(addr6, text6), n->prefix6, ctr_name);
	if (addr6)
		hk_ipv6_text(addr6, text6);
	if (!route) {
		hk_debug("%s %s/%d %s up", ctr_name, hk_ipv4_text(addr, text), n->prefix, text6);
		return 0;
	}
	if ((e = default_route(ns_nl, eth, AF_INET, &gw)) < 0 ||
	    (addr6 && (e = default_route(ns_nl, eth, AF_INET6, &n->gateway6)) < 0))
		return hk_error_set(err, e, "network %s: the default route", n->name);
	hk_debug("%s %s/%d %s up, default route via %s%s%s", ctr_name, hk_ipv4_text(addr, text),
		 n->prefix, text6, hk_ipv4_text(n->gateway, (char[16]){0}), addr6 ? " and " : "",
		 addr6 ? hk_ipv6_text(&n->gateway6, (char[46]){0}) : "");
	return 0;
}
