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

static int addr_add(int nl, int index, uint32_t addr, int prefix)
{
	struct ifaddrmsg ifa = {.ifa_family = AF_INET,
				.ifa_prefixlen = (unsigned char)prefix,
				.ifa_index = (unsigned)index};
	uint32_t be = htonl(addr);
	struct hk_nl_req r;

	hk_nl_req_init(&r, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, &ifa, sizeof(ifa));
	hk_nl_add_attr(&r, IFA_LOCAL, &be, sizeof(be));
	hk_nl_add_attr(&r, IFA_ADDRESS, &be, sizeof(be));
	return hk_nl_call(nl, &r);
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
	char gw[16], path[128];
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
	if ((e = addr_add(nl, index, n->gateway, n->prefix)) < 0 && e != -EEXIST)
		return hk_error_set(err, e, "network %s: the address %s/%d on %s", n->name,
				    hk_ipv4_text(n->gateway, gw), n->prefix, n->bridge);
	if ((e = link_up(nl, index)) < 0)
		return hk_error_set(err, e, "network %s: %s up", n->name, n->bridge);
	/* The containers' packets are routed on through the host's other interfaces. */
	if (hk_write_file("/proc/sys/net/ipv4/ip_forward", "1", 1, err) < 0)
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
		  const char *ctr_name, const struct hk_network *n, uint32_t addr, bool route,
		  const unsigned char *mac, int mtu, struct hk_error *err)
{
	struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC, .ifi_flags = IFF_UP, .ifi_change = IFF_UP};
	struct rtmsg rt = {.rtm_family = AF_INET,
			   .rtm_table = RT_TABLE_MAIN,
			   .rtm_protocol = RTPROT_BOOT,
			   .rtm_scope = RT_SCOPE_UNIVERSE,
			   .rtm_type = RTN_UNICAST};
	struct rtattr *info, *data, *peer;
	uint32_t gw = htonl(n->gateway);
	struct hk_nl_req r;
	char text[16];
	int e, eth;

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
	if (mac)
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
	if ((e = addr_add(ns_nl, eth, addr, n->prefix)) < 0)
		return hk_error_set(err, e, "network %s: the address %s/%d on %s", n->name,
				    hk_ipv4_text(addr, text), n->prefix, ctr_name);
	if (!route) {
		hk_debug("%s %s/%d up", ctr_name, hk_ipv4_text(addr, text), n->prefix);
		return 0;
	}
	hk_nl_req_init(&r, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, &rt, sizeof(rt));
	hk_nl_add_attr(&r, RTA_GATEWAY, &gw, sizeof(gw));
	hk_nl_add_attr(&r, RTA_OIF, &eth, sizeof(eth));
	if ((e = hk_nl_call(ns_nl, &r)) < 0)
		return hk_error_set(err, e, "network %s: the default route", n->name);
	hk_debug("%s %s/%d up, default route via %s", ctr_name, hk_ipv4_text(addr, text), n->prefix,
		 hk_ipv4_text(n->gateway, (char[16]){0}));
	return 0;
}
