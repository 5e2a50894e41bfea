/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Published ports (-p): each a pair of elements of hakoctl's nftables maps
 * (hako-nft add/del, net/nft.h), never a rule; a port bound to an address
 * of the host (-p 127.0.0.1:8080:80) is keyed on it too, so it is reached
 * only there.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "error.h"

struct hk_port {
	uint32_t host_ip; /* host order; 0: every address of the host */
	uint16_t host_port, ctr_port;
	uint8_t proto; /* IPPROTO_TCP or IPPROTO_UDP */
};

/*
 * -p [HOSTIP:]HOSTPORT[-END]:CTRPORT[-END][/tcp|/udp], appended to *v (a
 * range as one port each; both ranges of one length).
 */
int hk_ports_parse(const char *spec, struct hk_port **v, size_t *n, struct hk_error *err);
const char *hk_port_proto_name(const struct hk_port *p);
/* Whether the host (our network namespace) has it free: a bind() to it. */
int hk_port_check_free(const struct hk_port *p, struct hk_error *err);
/* The element of p for hako-nft: PROTO:HOSTPORT:CTRPORT[:HOSTIP]. buf holds 48. */
const char *hk_port_element(const struct hk_port *p, char *buf);

/*
 * hako-nft CMD [ARG...] (helper: its path), in the network namespace host_ns
 * (-1: ours). 0 when it succeeded; else err says so.
 */
int hk_nft_run(const char *helper, int host_ns, const char *const *args, struct hk_error *err);

/* A small file of container id's bundle (address, ports), whole, or NULL. */
char *hk_net_bundle_file(const char *runroot, const char *id, const char *name);
/*
 * hako-nft CMD ADDR ELEMENT... (add or del) for the ports container id's
 * bundle records, in host_ns; ret_n: how many (none: nothing is run).
 */
int hk_net_bundle_ports(const char *runroot, const char *id, const char *helper, int host_ns,
			const char *cmd, size_t *ret_n, struct hk_error *err);
/*
 * What a container holds on the default network, given back: its ports
 * (hako-nft del, in host_ns) and its lease, as its bundle records them
 * (bundles/<id>/address and ports). Its veth pair went with its namespace.
 */
void hk_net_release(const char *runroot, const char *id, const char *helper, int host_ns);
