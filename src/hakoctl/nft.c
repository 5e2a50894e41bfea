// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * hako-nft init SUBNET...: hakoctl's nftables table, inet hako, made (or
 * made again: it is replaced) in one transaction of libnftables: the
 * networks' subnets in a set, their traffic to elsewhere masqueraded, and
 * the DNAT of published ports through two maps, whose elements hakoctl adds
 * and deletes itself (net/nft.h says why this is a program of its own, run
 * only when the table is missing or by `network reload`). The rules do not
 * grow with containers or ports. Other tables are never touched.
 */
#include <nftables/libnftables.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct text {
	char *buf;
	size_t len, size;
};

static void add(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void add(struct text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(t->buf + t->len, t->size - t->len, fmt, ap);
		va_end(ap);
		if (n >= 0 && (size_t)n < t->size - t->len)
			break;
		t->size = t->size * 2 + (size_t)n + 256;
		if (!(t->buf = realloc(t->buf, t->size))) {
			perror("hako-nft");
			exit(1);
		}
	}
	t->len += (size_t)n;
}

/* The DNAT of the host's local addresses: by address and port first, then by port. */
static const char dnat[] =
    "    fib daddr type local dnat ip to ip daddr . meta l4proto . th dport "
    "map @ports4_at\n"
    "    fib daddr type local dnat ip to meta l4proto . th dport map @ports4\n";

static void init(struct text *t, int n, char **subnets)
{
	add(t, "add table inet hako\n"
	       "delete table inet hako\n"
	       "table inet hako {\n"
	       "  set subnets4 {\n"
	       "    type ipv4_addr; flags interval\n"
	       "    elements = { ");
	for (int i = 0; i < n; i++)
		add(t, "%s%s", i ? ", " : "", subnets[i]);
	add(t,
	    " }\n"
	    "  }\n"
	    "  map ports4 {\n"
	    "    type inet_proto . inet_service : ipv4_addr . inet_service\n"
	    "  }\n"
	    "  map ports4_at {\n"
	    "    type ipv4_addr . inet_proto . inet_service : ipv4_addr . inet_service\n"
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
	    /* to a container through a published port from one on its network
	     * (hairpin), or from the host's 127.0.0.1: its answer must come back
	     * through us */
	    "    ct status dnat ip saddr @subnets4 ip daddr @subnets4 masquerade\n"
	    "    ct status dnat ip saddr 127.0.0.0/8 ip daddr @subnets4 masquerade\n"
	    "  }\n"
	    "}\n",
	    dnat, dnat);
}

int main(int argc, char **argv)
{
	struct text t = {0};
	struct nft_ctx *nft;
	int r;

	if (argc >= 3 && strcmp(argv[1], "init") == 0) {
		init(&t, argc - 2, argv + 2);
	} else {
		fprintf(stderr, "usage: hako-nft init SUBNET... (it is run by hakoctl)\n");
		return 2;
	}
	if (!(nft = nft_ctx_new(NFT_CTX_DEFAULT))) {
		fprintf(stderr, "hako-nft: nft_ctx_new failed\n");
		return 1;
	}
	/* All of it one transaction: it all happens, or none of it. */
	nft_ctx_buffer_error(nft);
	r = nft_run_cmd_from_buffer(nft, t.buf);
	if (r)
		fprintf(stderr, "hako-nft %s: %s", argv[1], nft_ctx_get_error_buffer(nft));
	nft_ctx_free(nft);
	free(t.buf);
	return r ? 1 : 0;
}
