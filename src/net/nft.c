/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
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
