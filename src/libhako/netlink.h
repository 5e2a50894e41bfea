/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * rtnetlink requests, built by hand: a header, its payload (ifinfomsg,
 * ifaddrmsg, rtmsg...) and its attributes, nested ones included. Each
 * request is sent and its acknowledgement read (hk_nl_call).
 */
#pragma once

#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

struct hk_nl_req {
	struct nlmsghdr h;
	char buf[1024];
};

/* A new request of that type and flags (NLM_F_REQUEST and ACK are added), with its payload. */
void hk_nl_req_init(struct hk_nl_req *r, uint16_t type, uint16_t flags, const void *payload,
		    size_t len);
/* The payload of r (after its header). */
static inline void *hk_nl_payload(struct hk_nl_req *r)
{
	return NLMSG_DATA(&r->h);
}
void hk_nl_add_attr(struct hk_nl_req *r, unsigned short type, const void *data, size_t len);
static inline void hk_nl_add_string(struct hk_nl_req *r, unsigned short type, const char *s)
{
	hk_nl_add_attr(r, type, s, __builtin_strlen(s) + 1);
}
/* An attribute that holds the ones added until hk_nl_nest_end. */
struct rtattr *hk_nl_nest_start(struct hk_nl_req *r, unsigned short type);
void hk_nl_nest_end(struct hk_nl_req *r, struct rtattr *nest);
/* Send r on the netlink socket nl and wait for its acknowledgement: 0 or the kernel's -errno. */
int hk_nl_call(int nl, struct hk_nl_req *r);
/*
 * Send r (a GET with NLM_F_DUMP) and call fn on each message of the
 * kernel's answer until it ends: 0, fn's negative return, or the kernel's
 * -errno.
 */
int hk_nl_dump(int nl, struct hk_nl_req *r, int (*fn)(const struct nlmsghdr *h, void *arg),
	       void *arg);
/* Attributes (len bytes of them: a message's, or a nested one's), by type (up to max). */
void hk_nl_parse(const void *attrs, int len, struct rtattr **tb, unsigned short max);
/* The attributes of a message after its len-byte payload, by type (up to max). */
void hk_nl_attrs(const struct nlmsghdr *h, size_t len, struct rtattr **tb, unsigned short max);
/*
 * A socket made in the network namespace ns (-1: ours); it stays in the
 * namespace it was made in.
 */
int hk_ns_socket(int ns, int domain, int type, int proto, struct hk_error *err);
