/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hakoctl's nftables table, inet hako: the NAT of its networks. hakoctl is
 * static and Debian has libnftables only as a shared library (with the
 * libraries it needs, 2.4 ms to load and 1.4 ms to start here), so the
 * table is made by hako-nft (hakoctl/nft.c), a small program of its own
 * linked with libnftables, run only when the table is missing (after a
 * boot, or after `nft flush ruleset`), or the networks change. Whether it is there is one nfnetlink
 * request, made here, and so are the elements of the ports of each
 * container (which libnftables, starting in 15 ms here, would make cost as
 * much as the rest of the container's start).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define HK_NFT_TABLE "hako" /* in the inet family */

/* 1 when the table is there, 0 when not, or -errno (err set). */
int hk_nft_table_exists(struct hk_error *err);

/* A published port, as the maps key it (net/ports.h parses them). */
struct hk_port {
	uint32_t host_ip; /* host order; 0: in ports4, else in ports4_at */
	uint16_t host_port, ctr_port;
	uint8_t proto; /* IPPROTO_TCP or IPPROTO_UDP */
};

/*
 * Add (with NLM_F_EXCL: a port published already fails them all) or
 * delete the elements of ports of the container at addr (and addr6, unless
 * NULL or "": in ports6 each port not bound to an address), in one
 * transaction of nfnetlink messages made here (no process, no libnftables),
 * through a socket of the network namespace host_ns (-1: ours).
 */
int hk_nft_ports(int host_ns, bool add, const char *addr, const char *addr6,
		 const struct hk_port *ports, size_t n, struct hk_error *err);

/*
 * The chains of other tables on the forward hook whose policy is drop
 * (docker's iptables FORWARD), which drop the containers' packets whatever
 * our table says, and which hakoctl does not touch: "FAMILY TABLE CHAIN"
 * each, comma separated, appended to out; how many.
 */
struct hk_buf;
size_t hk_nft_forward_blockers(struct hk_buf *out);

/* A published port and the container's addresses it goes to. */
struct hk_nft_port_of {
	struct hk_port port;
	char addr[16];
	char addr6[46]; /* "": none */
};

struct hk_buf;
struct hk_network;
/*
 * The whole table as an nft script (ruleset.c): its networks (their
 * subnets and bridges in sets) and the ports published, for hk_nft_apply.
 */
void hk_nft_ruleset(struct hk_buf *b, const struct hk_network *nets, size_t n_nets,
		    const struct hk_nft_port_of *ports, size_t n_ports);
/*
 * Run the nft script in one transaction through hako-nft (helper: its
 * path), in the network namespace host_ns (-1: ours). 0 when it succeeded;
 * else err says so.
 */
int hk_nft_apply(const char *helper, int host_ns, const char *script, size_t len,
		 struct hk_error *err);
