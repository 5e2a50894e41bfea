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

#include <stdbool.h>
#include <stdint.h>

#include "error.h"

struct hk_network {
	const char *name;   /* "hako" */
	const char *bridge; /* "hako0" */
	uint32_t subnet;    /* in host byte order */
	int prefix;
	uint32_t gateway;
};

/* The default network: hako, the bridge hako0, 10.88.0.0/16 (podman's range). */
extern const struct hk_network hk_network_default;

/*
 * The host's side (nl: an rtnetlink socket of the host's namespace), made
 * if missing: the bridge, up, with the gateway's address; IPv4 forwarding
 * on. ret_index: the bridge's interface index.
 */
int hk_net_bridge_ensure(int nl, const struct hk_network *n, int *ret_index, struct hk_error *err);

/*
 * A veth pair: host_name on the bridge (bridge_index) in the host's
 * namespace, and eth0 in the namespace ns, both up; eth0 gets addr, lo is
 * brought up, and the default route goes through the gateway (ns_nl: an
 * rtnetlink socket of ns). mac: eth0's address (6 bytes), or NULL for the
 * kernel's.
 */
int hk_net_attach(int host_nl, int bridge_index, int ns, int ns_nl, const char *host_name,
		  const struct hk_network *n, uint32_t addr, const unsigned char *mac,
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
/* Give addr back, if it is still id's. */
void hk_ipam_release(int dirfd, const char *addr, const char *id);
/* Every lease of id given back (dirfd: opened for reading). Closes dirfd. */
void hk_ipam_release_all(int dirfd, const char *id);

/* addr (host order) as dotted text; buf holds 16. */
const char *hk_ipv4_text(uint32_t addr, char buf[16]);
/* n's subnet as A.B.C.D/PREFIX; buf holds 20. */
const char *hk_network_subnet_text(const struct hk_network *n, char buf[20]);
