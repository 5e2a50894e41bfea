/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "netlink.h"
#include "util.h"

void hk_nl_req_init(struct hk_nl_req *r, uint16_t type, uint16_t flags, const void *payload,
		    size_t len)
{
	memset(r, 0, sizeof(*r));
	r->h.nlmsg_len = NLMSG_LENGTH(len);
	r->h.nlmsg_type = type;
	r->h.nlmsg_flags = flags;
	if (len)
		memcpy(NLMSG_DATA(&r->h), payload, len);
}

static void *nl_tail(struct hk_nl_req *r)
{
	return (char *)&r->h + NLMSG_ALIGN(r->h.nlmsg_len);
}

void hk_nl_add_attr(struct hk_nl_req *r, unsigned short type, const void *data, size_t len)
{
	struct rtattr *a = nl_tail(r);

	if (NLMSG_ALIGN(r->h.nlmsg_len) + RTA_SPACE(len) > sizeof(*r))
		abort(); /* a request is made of few attributes: a bug */
	a->rta_type = type;
	a->rta_len = RTA_LENGTH(len);
	if (len)
		memcpy(RTA_DATA(a), data, len);
	r->h.nlmsg_len = NLMSG_ALIGN(r->h.nlmsg_len) + RTA_ALIGN(a->rta_len);
}

struct rtattr *hk_nl_nest_start(struct hk_nl_req *r, unsigned short type)
{
	struct rtattr *a = nl_tail(r);

	hk_nl_add_attr(r, type, NULL, 0);
	return a;
}

void hk_nl_nest_end(struct hk_nl_req *r, struct rtattr *nest)
{
	nest->rta_len = (unsigned short)((char *)nl_tail(r) - (char *)nest);
}

int hk_nl_call(int nl, struct hk_nl_req *r)
{
	char buf[4096];
	ssize_t n;

	r->h.nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
	r->h.nlmsg_seq++;
	if (send(nl, &r->h, r->h.nlmsg_len, 0) < 0)
		return -errno;
	for (;;) {
		n = recv(nl, buf, sizeof(buf), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)n);
		     h = NLMSG_NEXT(h, n))
			if (h->nlmsg_type == NLMSG_ERROR && h->nlmsg_seq == r->h.nlmsg_seq)
				return ((struct nlmsgerr *)NLMSG_DATA(h))->error;
	}
}

int hk_nl_dump(int nl, struct hk_nl_req *r, int (*fn)(const struct nlmsghdr *h, void *arg),
	       void *arg)
{
	_cleanup_free_ char *buf = hk_xmalloc(32768);
	ssize_t n;
	int e = 0;

	r->h.nlmsg_flags |= NLM_F_REQUEST | NLM_F_DUMP;
	r->h.nlmsg_seq++;
	if (send(nl, &r->h, r->h.nlmsg_len, 0) < 0)
		return -errno;
	/* Read to its end even once fn has failed, so that the socket can be used again. */
	for (;;) {
		n = recv(nl, buf, 32768, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)n);
		     h = NLMSG_NEXT(h, n)) {
			if (h->nlmsg_seq != r->h.nlmsg_seq)
				continue;
			if (h->nlmsg_type == NLMSG_DONE)
				return e;
			if (h->nlmsg_type == NLMSG_ERROR)
				return ((struct nlmsgerr *)NLMSG_DATA(h))->error;
			if (e == 0 && (e = fn(h, arg)) > 0)
				e = 0;
		}
	}
}

void hk_nl_parse(const void *attrs, int len, struct rtattr **tb, unsigned short max)
{
	memset(tb, 0, sizeof(*tb) * ((size_t)max + 1));
	for (struct rtattr *a = (struct rtattr *)attrs; RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		unsigned short type = a->rta_type & NLA_TYPE_MASK; /* nested or not */
		if (type <= max)
			tb[type] = a;
	}
}

void hk_nl_attrs(const struct nlmsghdr *h, size_t len, struct rtattr **tb, unsigned short max)
{
	hk_nl_parse((const char *)NLMSG_DATA(h) + NLMSG_ALIGN(len),
		    (int)h->nlmsg_len - (int)NLMSG_LENGTH(NLMSG_ALIGN(len)), tb, max);
}

int hk_ns_socket(int ns, int domain, int type, int proto, struct hk_error *err)
{
	_cleanup_close_ int own = -1;
	int fd, e;

	if (ns < 0) {
		fd = socket(domain, type | SOCK_CLOEXEC, proto);
		return fd < 0 ? hk_error_set(err, -errno, "socket") : fd;
	}
	own = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (own < 0 || setns(ns, CLONE_NEWNET) < 0)
		return hk_error_set(err, -errno, "enter the container's network namespace");
	fd = socket(domain, type | SOCK_CLOEXEC, proto);
	e = errno;
	/* Going on in the container's namespace would act on the wrong devices. */
	if (setns(own, CLONE_NEWNET) < 0) {
		dprintf(STDERR_FILENO, "hako: setns back to our network namespace: %m\n");
		abort();
	}
	return fd < 0 ? hk_error_set(err, -e, "socket") : fd;
}
