/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include "log.h"
#include "netdev.h"
#include "netlink.h"
#include "util.h"

/* The permanent addresses of an interface, as RTM_NEWADDR requests to replay. */
struct addrs {
	struct hk_nl_req req[32];
	size_t n;
};

static void keep_addr(struct addrs *a, struct nlmsghdr *h)
{
	struct ifaddrmsg *ifa = NLMSG_DATA(h), *copy;
	struct hk_nl_req *r = &a->req[a->n];
	int len = (int)IFA_PAYLOAD(h);
	unsigned flags = ifa->ifa_flags;

	for (struct rtattr *t = IFA_RTA(ifa); RTA_OK(t, len); t = RTA_NEXT(t, len))
		if (t->rta_type == IFA_FLAGS)
			memcpy(&flags, RTA_DATA(t), sizeof(flags));
	if (!(flags & IFA_F_PERMANENT) || a->n == ARRAY_SIZE(a->req))
		return;
	memset(r, 0, sizeof(*r));
	r->h.nlmsg_len = NLMSG_LENGTH(sizeof(*ifa));
	r->h.nlmsg_type = RTM_NEWADDR;
	r->h.nlmsg_flags = NLM_F_CREATE | NLM_F_EXCL;
	copy = NLMSG_DATA(&r->h);
	*copy = *ifa;
	/* The label names the old interface and the cache info ages: the
	 * kernel makes both anew. */
	len = (int)IFA_PAYLOAD(h);
	for (struct rtattr *t = IFA_RTA(ifa); RTA_OK(t, len); t = RTA_NEXT(t, len))
		if (t->rta_type != IFA_LABEL && t->rta_type != IFA_CACHEINFO &&
		    NLMSG_ALIGN(r->h.nlmsg_len) + RTA_ALIGN(t->rta_len) <= sizeof(*r))
			hk_nl_add_attr(r, t->rta_type, RTA_DATA(t), RTA_PAYLOAD(t));
	a->n++;
}

static int dump_addrs(int nl, int index, struct addrs *a, struct hk_error *err)
{
	struct {
		struct nlmsghdr h;
		struct ifaddrmsg ifa;
	} req = {.h = {.nlmsg_len = sizeof(req),
		       .nlmsg_type = RTM_GETADDR,
		       .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP,
		       .nlmsg_seq = 1}};
	char buf[16384];

	if (send(nl, &req, sizeof(req), 0) < 0)
		return hk_error_set(err, -errno, "RTM_GETADDR");
	for (;;) {
		ssize_t n = recv(nl, buf, sizeof(buf), 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return hk_error_set(err, -errno, "RTM_GETADDR");
		for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)n);
		     h = NLMSG_NEXT(h, n)) {
			if (h->nlmsg_type == NLMSG_DONE)
				return 0;
			if (h->nlmsg_type == NLMSG_ERROR)
				return hk_error_set(err, ((struct nlmsgerr *)NLMSG_DATA(h))->error,
						    "RTM_GETADDR");
			if (h->nlmsg_type == RTM_NEWADDR &&
			    ((struct ifaddrmsg *)NLMSG_DATA(h))->ifa_index == (unsigned)index)
				keep_addr(a, h);
		}
	}
}

/* The index and flags of the interface name, through a socket of its namespace. */
static int link_info(int sock, const char *name, int *index, short *flags, struct hk_error *err)
{
	struct ifreq ifr = {0};

	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (ioctl(sock, SIOCGIFINDEX, &ifr) < 0)
		return hk_error_set(err, -errno, "network device \"%s\"", name);
	*index = ifr.ifr_ifindex;
	if (flags && ioctl(sock, SIOCGIFFLAGS, &ifr) < 0)
		return hk_error_set(err, -errno, "network device \"%s\": flags", name);
	if (flags)
		*flags = ifr.ifr_flags;
	return 0;
}

static void link_req(struct hk_nl_req *r, int index)
{
	struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC, .ifi_index = index};

	hk_nl_req_init(r, RTM_NEWLINK, 0, &ifi, sizeof(ifi));
}

int hk_netdev_move(int from_ns, const char *name, int to_ns, const char *new_name,
		   struct hk_error *err)
{
	_cleanup_close_ int from_nl = -1, from_sock = -1, to_nl = -1, to_sock = -1, to = -1;
	static struct addrs addrs; /* 32 KiB: not on the stack */
	struct hk_nl_req req;
	short flags;
	int index, r;

	addrs.n = 0;
	if ((from_nl = hk_ns_socket(from_ns, AF_NETLINK, SOCK_RAW, NETLINK_ROUTE, err)) < 0 ||
	    (from_sock = hk_ns_socket(from_ns, AF_INET, SOCK_DGRAM, 0, err)) < 0 ||
	    (to_nl = hk_ns_socket(to_ns, AF_NETLINK, SOCK_RAW, NETLINK_ROUTE, err)) < 0 ||
	    (to_sock = hk_ns_socket(to_ns, AF_INET, SOCK_DGRAM, 0, err)) < 0 ||
	    link_info(from_sock, name, &index, &flags, err) < 0 ||
	    dump_addrs(from_nl, index, &addrs, err) < 0)
		return err->code;
	/* A name taken there would make the kernel refuse, or worse pick "devN". */
	if (link_info(to_sock, new_name, &(int){0}, NULL, err) == 0)
		return hk_error_setx(err, -EEXIST,
				     "network device \"%s\": the other namespace has a \"%s\"",
				     name, new_name);
	to = to_ns >= 0 ? fcntl(to_ns, F_DUPFD_CLOEXEC, 0)
			: open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (to < 0)
		return hk_error_set(err, -errno, "network namespace");
	link_req(&req, index);
	hk_nl_add_attr(&req, IFLA_NET_NS_FD, &(int){to}, sizeof(int));
	hk_nl_add_attr(&req, IFLA_IFNAME, new_name, strlen(new_name) + 1);
	r = hk_nl_call(from_nl, &req);
	if (r < 0)
		return hk_error_set(err, r, "move network device \"%s\" (as \"%s\")", name,
				    new_name);
	hk_debug("RTM_NEWLINK(\"%s\", IFLA_NET_NS_FD, IFLA_IFNAME \"%s\") ok", name, new_name);
	if (link_info(to_sock, new_name, &index, NULL, err) < 0)
		return err->code;
	for (size_t i = 0; i < addrs.n; i++) {
		((struct ifaddrmsg *)NLMSG_DATA(&addrs.req[i].h))->ifa_index = (unsigned)index;
		r = hk_nl_call(to_nl, &addrs.req[i]);
		if (r < 0 && r != -EEXIST)
			return hk_error_set(err, r, "network device \"%s\": address %zu", new_name,
					    i);
	}
	if (addrs.n)
		hk_debug("RTM_NEWADDR ok: %zu address(es) of \"%s\" kept", addrs.n, new_name);
	if (!(flags & IFF_UP))
		return 0;
	link_req(&req, index);
	((struct ifinfomsg *)NLMSG_DATA(&req.h))->ifi_flags = IFF_UP;
	((struct ifinfomsg *)NLMSG_DATA(&req.h))->ifi_change = IFF_UP;
	r = hk_nl_call(to_nl, &req);
	if (r < 0)
		return hk_error_set(err, r, "network device \"%s\": up", new_name);
	hk_debug("RTM_NEWLINK(\"%s\", IFF_UP) ok", new_name);
	return 0;
}
