/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What network.c (a container's networks) and netcmd.c (the network
 * commands, system gc) share: the lock of all networks, the leases' dirs,
 * hakoctl's nftables table, and what tells a live container from one a
 * crash left.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "commands.h"
#include "container.h"
#include "network.h"

/*
 * The lock of all networks (the run dir's networks/): an fd holding it.
 * Held from the table's check to a container's ports, and while the table
 * is made again: a table made again by another hakoctl would drop ports
 * put in between.
 */
int ctl_net_lock(const struct ctl_globals *g, struct hk_error *err);
/* The leases' dir of network n, made if missing: an fd. */
int ctl_net_leases_dir(const struct ctl_globals *g, const struct hk_network *n,
		       struct hk_error *err);
/*
 * Container id's addresses on network n (leases: its dir): IPv4 (want, or 0
 * for any) and, on a dual stack network, IPv6 (want6, or NULL: the same
 * host part, or the next free), in ret (its network, addr and addr6; and
 * ip, ip6 in binary). Neither is kept if one fails.
 */
struct hk_attachment;
int ctl_net_lease(const struct ctl_globals *g, int leases, const struct hk_network *n,
		  const char *id, uint32_t want, const struct in6_addr *want6,
		  struct hk_attachment *ret, uint32_t *ip, struct in6_addr *ip6,
		  struct hk_error *err);
/* Each container with a bundle (running, created, or being made), by its id. */
void ctl_net_each_bundle(const struct ctl_globals *g, void (*fn)(const char *id, void *arg),
			 void *arg);
/*
 * hakoctl's table made again whole (replaced, in one transaction): every
 * network, and the ports of every live container whose bundle records some.
 * Under ctl_net_lock. ret_ports: how many, or NULL.
 */
int ctl_net_table_build(const struct ctl_globals *g, struct hk_store *s, size_t *ret_ports,
			struct hk_error *err);
/* The table made if it is missing (after a boot, or `nft flush ruleset`). Under ctl_net_lock. */
int ctl_net_nat_ensure(const struct ctl_globals *g, struct hk_store *s, struct hk_error *err);
/* The table made again if it is there (a network made or removed); takes the lock. */
int ctl_net_table_update(const struct ctl_globals *g, struct hk_store *s, struct hk_error *err);
/* Whether container id (arg: the run dir) is gone: neither a watcher nor a process. */
bool ctl_net_stale(const char *id, void *arg);
/* The host's end of a container's veth pair on its i-th network: hk<id>, hk<id>-1... */
void ctl_net_veth_name(char buf[16], const char *id, int i);
/* n's MTU: its own, or the uplink's (*uplink: -1 until asked), or 0 for the kernel's. */
int ctl_net_mtu(const struct hk_network *n, int host_nl, int *uplink);
