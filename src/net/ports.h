/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Published ports (-p): each an element of hakoctl's nftables maps
 * (hk_nft_ports, net/nft.h), never a rule; a port bound to an address
 * of the host (-p 127.0.0.1:8080:80) is keyed on it too, so it is reached
 * only there.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "nft.h"

/*
 * -p [HOSTIP:]HOSTPORT[-END]:CTRPORT[-END][/tcp|/udp], appended to *v (a
 * range as one port each; both ranges of one length).
 */
int hk_ports_parse(const char *spec, struct hk_port **v, size_t *n, struct hk_error *err);
const char *hk_port_proto_name(const struct hk_port *p);
/* A port of the host's that is free now (the kernel's pick, as podman's -P); or -errno. */
int hk_port_pick(int proto, struct hk_error *err);
/* Whether the host (our network namespace) has it free: a bind() to it. */
int hk_port_check_free(const struct hk_port *p, struct hk_error *err);
/* p as text, PROTO:HOSTPORT:CTRPORT[:HOSTIP] (a line of the bundle's ports); buf holds 48. */
const char *hk_port_element(const struct hk_port *p, char *buf);
int hk_port_from_element(const char *text, struct hk_port *p);

/* A small file of container id's bundle (networks, ports), whole, or NULL. */
char *hk_net_bundle_file(const char *runroot, const char *id, const char *name);

/*
 * A network a container is on, as its bundle records it (bundles/<id>/
 * networks, a line each: NAME ADDRESS IFNAME [IPV6-ADDRESS]); its published
 * ports go to the first one's addresses.
 */
struct hk_attachment {
	char network[64];
	char addr[16];
	char ifname[16];
	char addr6[46]; /* "" on an IPv4 only network */
};
/* a's leases given back (dirfd: its network's leases), if they are still id's. */
void hk_net_unlease(int dirfd, const struct hk_attachment *a, const char *id);
/* Those of container id's bundle (*ret NULL and *ret_n 0 when none). */
void hk_net_bundle_attachments(const char *runroot, const char *id, struct hk_attachment **ret,
			       size_t *ret_n);
/* v written as the bundle's networks file (bundlefd), but for v[skip] (skip >= n: none). */
int hk_net_bundle_attachments_write(int bundlefd, const struct hk_attachment *v, size_t n,
				    size_t skip, struct hk_error *err);
/* The ports of a bundle (its ports file), appended to *v; -EINVAL for a bad line. */
int hk_net_bundle_port_list(const char *runroot, const char *id, struct hk_port **v, size_t *n);
/*
 * The ports container id's bundle records, added to the maps or deleted
 * from them (hk_nft_ports) in host_ns; ret_n: how many.
 */
int hk_net_bundle_ports(const char *runroot, const char *id, int host_ns, bool add, size_t *ret_n,
			struct hk_error *err);

/*
 * What a container holds on its networks, given back: its ports (in
 * host_ns) and its leases, as its bundle records them. Its veth pairs went
 * with its namespace. With scan, a lease of id is looked for in every
 * network too (for what a killed hakoctl left before it was recorded).
 */
void hk_net_release(const char *runroot, const char *id, int host_ns, bool scan);

/*
 * The names of the containers on networks of the user's own, which
 * hako-dns (net/dns.c) answers: networks/.dns/ID@NET ("ADDRESS NAME
 * [ALIAS...]") and networks/.dns/gateway@NET, under the run dir.
 */
#define HK_NET_NAMES ".dns"
/*
 * The ports on the host's ::1 that hako-proxy (net/proxy.c) serves, which no
 * DNAT reaches: networks/.proxy/ID, "tcp|udp HOSTPORT IPV6-ADDRESS CTRPORT"
 * a line each, of the ports of container ID not bound to an address.
 */
#define HK_NET_PROXY ".proxy"
/*
 * Container id's ports to addr6 written there: 1 if it has any, 0 if none,
 * or -errno. With *ino (an inotify fd) >= 0, the dir is watched for
 * IN_ATTRIB before the file is written: hako-proxy touches the file once it
 * listens on all of its ports (hk_net_proxy_wait). If the watch cannot be
 * added, *ino is closed and set to -1.
 */
int hk_net_proxy_write(const char *runroot, const char *id, const char *addr6,
		       const struct hk_port *ports, size_t n, int *ino, struct hk_error *err);
/*
 * Until hako-proxy has touched container id's file (ino, as
 * hk_net_proxy_write left it), at most timeout_ms: 0 when it has, or
 * -ETIMEDOUT.
 */
int hk_net_proxy_wait(int ino, const char *id, int timeout_ms);
/* Container id's names on network (or, NULL, on every network) removed. */
void hk_net_names_drop(const char *runroot, const char *id, const char *network);
