/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A container's network, as the tutorials build it by hand: a bridge on
 * the host with the network's gateway address, and for each container a
 * veth pair, one end on the bridge and the other, eth0, made directly in the
 * container's network namespace, with an address leased from the network's
 * subnet and a default route through the gateway. All of it is rtnetlink
 * (libhako/netlink.h); the kernel removes the veth pair when the
 * container's namespace goes, so a container's end needs no teardown but
 * its lease.
 */
#pragma once

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

#include "error.h"

#define HK_NET_NAME_MAX 64

struct hk_network {
	char name[HK_NET_NAME_MAX]; /* "hako" */
	char bridge[16];	    /* "hako0" */
	uint32_t subnet;	    /* in host byte order */
	int prefix;
	uint32_t gateway;
	bool internal; /* --internal: no way out, nor in from elsewhere */
	int mtu;       /* --opt mtu=N, or 0: the uplink's */
	/* Dual stack: an IPv6 subnet too (prefix6 0: IPv4 only). */
	struct in6_addr subnet6, gateway6;
	int prefix6;
};

/*
 * The default network: hako, the bridge hako0, 10.88.0.0/16 (podman's
 * range), and an IPv6 subnet: the first /64 of the store's ULA prefix.
 */
extern const struct hk_network hk_network_default;

/*
 * Networks of the user's own (netdef.c): each defined in the store's
 * networks/NAME.json, with a bridge hakoN and a subnet of its own (given,
 * or the first free 10.89.N.0/24) that overlaps no other network and no
 * route of the host. The default network is built in: "hako", also called
 * "bridge" as in docker.
 */
bool hk_network_is_default(const char *name);
/*
 * The store's unique local IPv6 prefix (RFC 4193: fd00::/8 and a random
 * 40-bit global id, a /48), chosen on first use and kept in its
 * networks/ula; the default network has its subnet 0, and a network of
 * one's own made with --ipv6 the subnet of its bridge's number.
 */
int hk_network_ula(int storefd, struct in6_addr *ret, struct hk_error *err);
int hk_network_find(int storefd, const char *name, struct hk_network *ret, struct hk_error *err);
/* Every network, the default one first, then by name. */
int hk_network_list(int storefd, struct hk_network **ret, size_t *ret_n, struct hk_error *err);
/*
 * Define n (its name, internal, mtu; subnet and prefix when given, else 0;
 * gateway when given, else 0): its bridge's name, subnet and gateway are
 * filled in. nl: an rtnetlink socket of the host's namespace, for its
 * routes and interfaces.
 */
int hk_network_create(int storefd, int nl, struct hk_network *n, struct hk_error *err);
int hk_network_delete(int storefd, const char *name, struct hk_error *err);
/* "A.B.C.D/N" (or without /N: 32); 0 or -EINVAL. */
int hk_net_parse_cidr(const char *text, uint32_t *addr, int *prefix);
/* "X:X::X/N" (or without /N: 128); 0 or -EINVAL. */
int hk_net_parse_cidr6(const char *text, struct in6_addr *addr, int *prefix);
/* Whether a/alen and b/blen share an address (IPv6). */
bool hk_net_overlap6(const struct in6_addr *a, int alen, const struct in6_addr *b, int blen);
/* Whether addr is in n's IPv6 subnet, not its subnet-router anycast (the subnet's own). */
bool hk_net_host_address6(const struct hk_network *n, const struct in6_addr *addr);
/* Whether addr is one of n's subnet that a host can have (not its network or broadcast). */
bool hk_net_host_address(const struct hk_network *n, uint32_t addr);
/* Whether a/alen and b/blen share an address. */
bool hk_net_overlap(uint32_t a, int alen, uint32_t b, int blen);
/* The MTU of the device of the host's default route (nl: the host's), or 0. */
int hk_net_uplink_mtu(int nl);
/* Remove the link named name (nl: of its namespace); its veth peer goes with it. */
int hk_net_link_delete(int nl, const char *name);

/*
 * The host's side (nl: an rtnetlink socket of the host's namespace), made
 * if missing: the bridge, up, with the gateway's address (and mtu, unless
 * 0); IPv4 forwarding on. On a dual stack network, the IPv6 gateway too,
 * and IPv6 forwarding on (an interface that learns its routes from router
 * advertisements keeps learning them: its accept_ra goes from 1 to 2).
 * ret_index: the bridge's interface index.
 */
int hk_net_bridge_ensure(int nl, const struct hk_network *n, int mtu, int *ret_index,
			 struct hk_error *err);

/* Whether the host (our network namespace) has IPv6 on: else networks are IPv4 only. */
bool hk_net_ipv6_available(void);

/*
 * A veth pair: host_name on the bridge (bridge_index) in the host's
 * namespace, and ctr_name (eth0, eth1...) in the namespace ns, both up;
 * ctr_name gets addr (and addr6, unless NULL), lo is brought up, and with
 * route the default routes go through the gateways (ns_nl: an rtnetlink
 * socket of ns). mac: ctr_name's address (6 bytes), or NULL for one made
 * of addr (0a:58:A:B:C:D); mtu: both ends', or 0 for the kernel's.
 */
int hk_net_attach(int host_nl, int bridge_index, int ns, int ns_nl, const char *host_name,
		  const char *ctr_name, const struct hk_network *n, uint32_t addr,
		  const struct in6_addr *addr6, bool route, const unsigned char *mac, int mtu,
		  struct hk_error *err);

/*
 * Leases: a file per address in dirfd (the network's dir under the run
 * dir, which does not outlive a reboot), named by the address and holding
 * the container's id, made with O_EXCL so that no address is given twice.
 * A lease whose container stale() says is gone is taken back when no
 * address is free. want: that address (--ip), or 0 for any. ret: the
 * address.
 */
int hk_ipam_lease(int dirfd, const struct hk_network *n, const char *id, uint32_t want,
		  bool (*stale)(const char *id, void *arg), void *arg, uint32_t *ret,
		  struct hk_error *err);
/* The lease named name (an address) removed if stale() says its container is gone. */
bool hk_ipam_take_back(int dirfd, const char *name, bool (*stale)(const char *id, void *arg),
		       void *arg);
/*
 * An IPv6 lease on n's subnet6, in the same dir: want (--ip6), or NULL for
 * any, tried first at the host part hint (that of the IPv4 lease, so that
 * 10.88.0.5 goes with ...::5).
 */
int hk_ipam_lease6(int dirfd, const struct hk_network *n, const char *id,
		   const struct in6_addr *want, uint32_t hint,
		   bool (*stale)(const char *id, void *arg), void *arg, struct in6_addr *ret,
		   struct hk_error *err);
/* Give addr back, if it is still id's. */
void hk_ipam_release(int dirfd, const char *addr, const char *id);
/* Every lease of id given back (dirfd: opened for reading). Closes dirfd. */
void hk_ipam_release_all(int dirfd, const char *id);

/* addr (host order) as dotted text; buf holds 16. */
const char *hk_ipv4_text(uint32_t addr, char buf[16]);
/* n's subnet as A.B.C.D/PREFIX; buf holds 20. */
const char *hk_network_subnet_text(const struct hk_network *n, char buf[20]);
/* addr as IPv6 text; buf holds INET6_ADDRSTRLEN (46). */
const char *hk_ipv6_text(const struct in6_addr *addr, char buf[46]);
/* n's IPv6 subnet as X::/PREFIX (empty: none); buf holds 50. */
const char *hk_network_subnet6_text(const struct hk_network *n, char buf[50]);
