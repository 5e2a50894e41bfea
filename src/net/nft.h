/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hakoctl's nftables table, inet hako: the NAT of its networks. hakoctl is
 * static and Debian has libnftables only as a shared library (with the
 * libraries it needs, 2.4 ms to load and 1.4 ms to start here), so the
 * table is made by hako-nft (hakoctl/nft.c), a small program of its own
 * linked with libnftables, run only when the table is missing: after a
 * boot, or after `nft flush ruleset`. Whether it is there is one nfnetlink
 * request, made here.
 */
#pragma once

#include <stdbool.h>

#include "error.h"

#define HK_NFT_TABLE "hako" /* in the inet family */

/* 1 when the table is there, 0 when not, or -errno (err set). */
int hk_nft_table_exists(struct hk_error *err);
