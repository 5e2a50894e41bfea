// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * hako-nft SUBNET...: make hakoctl's nftables table, inet hako, in one
 * transaction (it replaces the table, if there is one): the addresses of
 * hakoctl's networks in a set, and their traffic to the rest of the world
 * masqueraded behind the host's address. hakoctl runs it when the table is
 * missing (net/nft.h says why it is a program of its own). Its rules do not
 * depend on the number of containers; other tables are not touched.
 */
#include <nftables/libnftables.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
	char cmd[4096];
	size_t len = 0;
	struct nft_ctx *nft;
	int r;

	if (argc < 2) {
		fprintf(stderr, "usage: hako-nft SUBNET... (it is run by hakoctl)\n");
		return 2;
	}
	len += (size_t)snprintf(cmd + len, sizeof(cmd) - len,
				"add table inet hako\n"
				"delete table inet hako\n"
				"table inet hako {\n"
				"  set subnets4 {\n"
				"    type ipv4_addr; flags interval\n"
				"    elements = { ");
	for (int i = 1; i < argc && len < sizeof(cmd); i++)
		len += (size_t)snprintf(cmd + len, sizeof(cmd) - len, "%s%s", i > 1 ? ", " : "",
					argv[i]);
	if (len < sizeof(cmd))
		len += (size_t)snprintf(
		    cmd + len, sizeof(cmd) - len,
		    " }\n"
		    "  }\n"
		    "  chain postrouting {\n"
		    "    type nat hook postrouting priority srcnat; policy accept\n"
		    "    ip saddr @subnets4 ip daddr != @subnets4 masquerade\n"
		    "  }\n"
		    "}\n");
	if (len >= sizeof(cmd)) {
		fprintf(stderr, "hako-nft: too many subnets\n");
		return 2;
	}
	if (!(nft = nft_ctx_new(NFT_CTX_DEFAULT))) {
		fprintf(stderr, "hako-nft: nft_ctx_new failed\n");
		return 1;
	}
	r = nft_run_cmd_from_buffer(nft, cmd);
	nft_ctx_free(nft);
	return r ? 1 : 0;
}
