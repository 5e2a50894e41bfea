/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include "netlink.h"
#include "nft.h"
#include "util.h"

int hk_nft_table_exists(struct hk_error *err)
{
	_cleanup_close_ int nl = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER);
	struct nfgenmsg g = {.nfgen_family = NFPROTO_INET, .version = NFNETLINK_V0};
	struct hk_nl_req r;
	int e;

	if (nl < 0)
		return hk_error_set(err, -errno, "nfnetlink socket");
	hk_nl_req_init(&r, (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_GETTABLE, 0, &g, sizeof(g));
	hk_nl_add_string(&r, NFTA_TABLE_NAME, HK_NFT_TABLE);
	e = hk_nl_call(nl, &r);
	if (e == -ENOENT)
		return 0;
	if (e < 0)
		return hk_error_set(err, e, "nftables: table inet %s", HK_NFT_TABLE);
	return 1;
}

/*
 * A batch of nfnetlink messages, built in a buffer that grows (a range of
 * ports is many elements): offsets, not pointers, into it.
 */
struct batch {
	char *buf;
	size_t len, cap;
	uint32_t seq;
};

static void *batch_room(struct batch *b, size_t len)
{
	void *p;

	if (b->len + NLMSG_ALIGN(len) > b->cap) {
		b->cap = (b->len + NLMSG_ALIGN(len)) * 2 + 4096;
		b->buf = hk_xrealloc(b->buf, b->cap);
	}
	p = b->buf + b->len;
	memset(p, 0, NLMSG_ALIGN(len));
	b->len += NLMSG_ALIGN(len);
	return p;
}

/* A message; its offset, for batch_end_msg. */
static size_t batch_msg(struct batch *b, uint16_t type, uint16_t flags, uint8_t family,
			uint16_t res_id)
{
	size_t at = b->len;
	struct nlmsghdr *h = batch_room(b, NLMSG_HDRLEN);
	struct nfgenmsg *g = batch_room(b, sizeof(*g));

	h = (struct nlmsghdr *)(b->buf + at);
	h->nlmsg_type = type;
	h->nlmsg_flags = NLM_F_REQUEST | flags;
	h->nlmsg_seq = ++b->seq;
	g = (struct nfgenmsg *)(b->buf + at + NLMSG_HDRLEN);
	g->nfgen_family = family;
	g->version = NFNETLINK_V0;
	g->res_id = htons(res_id);
	return at;
}

static void batch_end_msg(struct batch *b, size_t at)
{
	((struct nlmsghdr *)(b->buf + at))->nlmsg_len = (uint32_t)(b->len - at);
}

static size_t batch_attr(struct batch *b, uint16_t type, const void *data, size_t len)
{
	size_t at = b->len;
	struct nlattr *a = batch_room(b, NLA_HDRLEN + len);

	a->nla_type = type;
	a->nla_len = (uint16_t)(NLA_HDRLEN + len);
	if (len)
		memcpy((char *)a + NLA_HDRLEN, data, len);
	return at;
}

static void batch_nest_end(struct batch *b, size_t at)
{
	((struct nlattr *)(b->buf + at))->nla_len = (uint16_t)(b->len - at);
}

/* A value of a concatenation: each part in whole 4-byte registers (nftables'). */
static size_t concat(unsigned char *out, size_t at, const void *part, size_t len)
{
	memcpy(out + at, part, len);
	return at + ((len + 3) & ~(size_t)3);
}

#define ELEMS_PER_MSG 512

/* The maps of ports: by port, by host address and port, and by port for IPv6. */
static const char *const port_maps[] = {"ports4", "ports4_at", "ports6"};

int hk_nft_ports(int host_ns, bool add, const char *addr, const char *addr6,
		 const struct hk_port *ports, size_t n, struct hk_error *err)
{
	_cleanup_close_ int nl = -1;
	struct batch b = {0};
	struct in_addr ctr;
	struct in6_addr ctr6;
	bool v6 = addr6 && *addr6;
	size_t sets = 0;
	char buf[8192];
	int r = 0;

	if (!n)
		return 0;
	if (inet_pton(AF_INET, addr, &ctr) != 1 || (v6 && inet_pton(AF_INET6, addr6, &ctr6) != 1))
		return hk_error_setx(err, -EINVAL, "nftables: \"%s\" is not an address",
				     v6 ? addr6 : addr);
	if ((nl = hk_ns_socket(host_ns, AF_NETLINK, SOCK_RAW, NETLINK_NETFILTER, err)) < 0)
		return nl;
	/* Every acknowledgement comes at once; never wait long for one that does not. */
	setsockopt(nl, SOL_SOCKET, SO_RCVTIMEO, &(struct timeval){.tv_sec = 5},
		   sizeof(struct timeval));
	/* One transaction: a message for each map with elements, between BEGIN and END. */
	batch_end_msg(&b, batch_msg(&b, NFNL_MSG_BATCH_BEGIN, 0, AF_UNSPEC, NFNL_SUBSYS_NFTABLES));
	for (int map = 0; map < (v6 ? 3 : 2); map++) {
		bool at_ip = map == 1;
		size_t m = 0, list = 0, in_list = 0;
		for (size_t i = 0; i < n; i++) {
			const struct hk_port *p = &ports[i];
			unsigned char key[12] = {0}, data[20] = {0};
			uint32_t hip = htonl(p->host_ip);
			uint16_t hport = htons(p->host_port), cport = htons(p->ctr_port);
			size_t klen = 0, dlen, elem, nest;

			if ((p->host_ip != 0) != at_ip)
				continue;
			/* A message holds so many: its list's length is 16 bits. */
			if (list && in_list == ELEMS_PER_MSG) {
				batch_nest_end(&b, list);
				batch_end_msg(&b, m);
				sets++;
				list = in_list = 0;
			}
			if (!list) {
				m = batch_msg(&b,
					      (NFNL_SUBSYS_NFTABLES << 8) |
						  (add ? NFT_MSG_NEWSETELEM : NFT_MSG_DELSETELEM),
					      NLM_F_ACK | (add ? NLM_F_CREATE | NLM_F_EXCL : 0),
					      NFPROTO_INET, 0);
				batch_attr(&b, NFTA_SET_ELEM_LIST_TABLE, HK_NFT_TABLE,
					   sizeof(HK_NFT_TABLE));
				batch_attr(&b, NFTA_SET_ELEM_LIST_SET, port_maps[map],
					   strlen(port_maps[map]) + 1);
				list = batch_attr(&b, NFTA_SET_ELEM_LIST_ELEMENTS, NULL, 0);
			}
			if (at_ip)
				klen = concat(key, klen, &hip, 4);
			klen = concat(key, klen, &p->proto, 1);
			klen = concat(key, klen, &hport, 2);
			if (map == 2)
				dlen = concat(data, concat(data, 0, &ctr6, 16), &cport, 2);
			else
				dlen = concat(data, concat(data, 0, &ctr.s_addr, 4), &cport, 2);
			elem = batch_attr(&b, NFTA_LIST_ELEM, NULL, 0);
			nest = batch_attr(&b, NFTA_SET_ELEM_KEY, NULL, 0);
			batch_attr(&b, NFTA_DATA_VALUE, key, klen);
			batch_nest_end(&b, nest);
			if (add) {
				nest = batch_attr(&b, NFTA_SET_ELEM_DATA, NULL, 0);
				batch_attr(&b, NFTA_DATA_VALUE, data, dlen);
				batch_nest_end(&b, nest);
			}
			batch_nest_end(&b, elem);
			in_list++;
		}
		if (list) {
			batch_nest_end(&b, list);
			batch_end_msg(&b, m);
			sets++;
		}
	}
	batch_end_msg(&b, batch_msg(&b, NFNL_MSG_BATCH_END, 0, AF_UNSPEC, NFNL_SUBSYS_NFTABLES));
	/* A batch is one send: a range of thousands of ports needs room for it. */
	if (b.len > 128 * 1024) {
		int size = (int)b.len * 2;
		setsockopt(nl, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof(size));
	}
	if (send(nl, b.buf, b.len, 0) < 0) {
		r = hk_error_set(err, -errno, "nftables: send");
		goto out;
	}
	/* An acknowledgement for each map's message: 0, or what failed it all. */
	for (size_t acked = 0; acked < sets;) {
		ssize_t len = recv(nl, buf, sizeof(buf), 0);
		if (len < 0 && errno == EINTR)
			continue;
		if (len < 0) {
			r = hk_error_set(err, -errno, "nftables: recv");
			goto out;
		}
		for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)len);
		     h = NLMSG_NEXT(h, len)) {
			if (h->nlmsg_type != NLMSG_ERROR)
				continue;
			int e = ((struct nlmsgerr *)NLMSG_DATA(h))->error;
			if (e < 0) {
				r = hk_error_set(err, e,
						 "nftables: %s the elements of table inet %s",
						 add ? "add" : "delete", HK_NFT_TABLE);
				goto out;
			}
			acked++;
		}
	}
out:
	free(b.buf);
	return r;
}

struct blockers {
	struct hk_buf *out;
	size_t n;
};

static uint32_t nf_u32(const struct rtattr *a)
{
	uint32_t v;

	memcpy(&v, RTA_DATA(a), sizeof(v));
	return ntohl(v);
}

static const char *family_name(int f)
{
	return f == NFPROTO_INET   ? "inet"
	       : f == NFPROTO_IPV4 ? "ip"
	       : f == NFPROTO_IPV6 ? "ip6"
				   : "?";
}

static int on_chain(const struct nlmsghdr *h, void *arg)
{
	struct blockers *b = arg;
	const struct nfgenmsg *g = NLMSG_DATA(h);
	struct rtattr *tb[NFTA_CHAIN_MAX + 1], *hook[NFTA_HOOK_MAX + 1];
	const char *table, *chain;

	/* nfnetlink's attributes are laid out as rtnetlink's. */
	hk_nl_attrs(h, sizeof(*g), tb, NFTA_CHAIN_MAX);
	if (!tb[NFTA_CHAIN_TABLE] || !tb[NFTA_CHAIN_NAME] || !tb[NFTA_CHAIN_HOOK] ||
	    !tb[NFTA_CHAIN_POLICY])
		return 0;
	hk_nl_parse(RTA_DATA(tb[NFTA_CHAIN_HOOK]), (int)RTA_PAYLOAD(tb[NFTA_CHAIN_HOOK]), hook,
		    NFTA_HOOK_MAX);
	table = RTA_DATA(tb[NFTA_CHAIN_TABLE]);
	chain = RTA_DATA(tb[NFTA_CHAIN_NAME]);
	if (!hook[NFTA_HOOK_HOOKNUM] || nf_u32(hook[NFTA_HOOK_HOOKNUM]) != NF_INET_FORWARD ||
	    nf_u32(tb[NFTA_CHAIN_POLICY]) != NF_DROP ||
	    (g->nfgen_family == NFPROTO_INET && strcmp(table, HK_NFT_TABLE) == 0))
		return 0;
	hk_buf_addf(b->out, "%s%s %s %s", b->n++ ? ", " : "", family_name(g->nfgen_family), table,
		    chain);
	return 0;
}

size_t hk_nft_forward_blockers(struct hk_buf *out)
{
	_cleanup_close_ int nl = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER);
	struct nfgenmsg g = {.nfgen_family = NFPROTO_UNSPEC, .version = NFNETLINK_V0};
	struct blockers b = {.out = out};
	struct hk_nl_req r;

	if (nl < 0)
		return 0;
	hk_nl_req_init(&r, (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_GETCHAIN, 0, &g, sizeof(g));
	if (hk_nl_dump(nl, &r, on_chain, &b) < 0)
		return 0;
	return b.n;
}
