/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Networks of the user's own (network.h): a definition each, the store's
 * networks/NAME.json, made under the lock of networks/ so that two creates
 * never take one subnet or one bridge name.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "container.h"
#include "json.h"
#include "log.h"
#include "netlink.h"
#include "network.h"
#include "util.h"

#define DEFS "networks"

bool hk_network_is_default(const char *name)
{
	return name && (strcmp(name, "hako") == 0 || strcmp(name, "bridge") == 0);
}

/* "ADDRESS[/N]" of family: the address in addr (4 or 16 bytes), N (or the whole length). */
static int parse_cidr(int family, const char *text, void *addr, int *prefix)
{
	int max = family == AF_INET ? 32 : 128;
	char buf[64], *slash;
	long long len = max;

	if (strlen(text) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, text);
	if ((slash = strchr(buf, '/'))) {
		*slash = '\0';
		if (hk_parse_int64(slash + 1, &len) < 0 || len < 0 || len > max)
			return -EINVAL;
	}
	if (inet_pton(family, buf, addr) != 1)
		return -EINVAL;
	*prefix = (int)len;
	return 0;
}

int hk_net_parse_cidr(const char *text, uint32_t *addr, int *prefix)
{
	struct in_addr a;
	int r = parse_cidr(AF_INET, text, &a, prefix);

	if (r == 0)
		*addr = ntohl(a.s_addr);
	return r;
}

static int defs_dir(int storefd, struct hk_error *err)
{
	int fd;

	if (mkdirat(storefd, DEFS, 0700) < 0 && errno != EEXIST)
		return hk_error_set(err, -errno, "the store's %s/", DEFS);
	if ((fd = openat(storefd, DEFS, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return hk_error_set(err, -errno, "the store's %s/", DEFS);
	return fd;
}

int hk_net_parse_cidr6(const char *text, struct in6_addr *addr, int *prefix)
{
	return parse_cidr(AF_INET6, text, addr, prefix);
}

/* Whether a and b agree in their first len bits. */
static bool same_bits6(const struct in6_addr *a, const struct in6_addr *b, int len)
{
	int whole = len / 8, rest = len % 8;

	if (memcmp(a->s6_addr, b->s6_addr, (size_t)whole) != 0)
		return false;
	return !rest || ((a->s6_addr[whole] ^ b->s6_addr[whole]) & (0xff00 >> rest) & 0xff) == 0;
}

bool hk_net_overlap6(const struct in6_addr *a, int alen, const struct in6_addr *b, int blen)
{
	return same_bits6(a, b, alen < blen ? alen : blen);
}

bool hk_net_host_address6(const struct hk_network *n, const struct in6_addr *addr)
{
	return n->prefix6 && same_bits6(addr, &n->subnet6, n->prefix6) &&
	       memcmp(addr, &n->subnet6, sizeof(*addr)) != 0;
}

/* n's IPv6 subnet: the subnet id k of the /48 ula, and its gateway ::1. */
static void ula_subnet(struct hk_network *n, const struct in6_addr *ula, unsigned k)
{
	n->subnet6 = *ula;
	n->subnet6.s6_addr[6] = (unsigned char)(k >> 8);
	n->subnet6.s6_addr[7] = (unsigned char)k;
	n->prefix6 = 64;
	n->gateway6 = n->subnet6;
	n->gateway6.s6_addr[15] = 1;
}

int hk_network_ula(int storefd, struct in6_addr *ret, struct hk_error *err)
{
	_cleanup_close_ int dirfd = -1;
	char text[64] = "";
	struct in6_addr a = {0};
	ssize_t n;
	int len;

	/* Read at each container's start: one open, the dir made only the first time. */
	for (int tries = 0; tries < 2; tries++) {
		_cleanup_close_ int fd = openat(storefd, DEFS "/ula", O_RDONLY | O_CLOEXEC);
		if (fd >= 0) {
			if ((n = read(fd, text, sizeof(text) - 1)) < 0)
				return hk_error_set(err, -errno, "the store's %s/ula", DEFS);
			text[n] = '\0';
			text[strcspn(text, "\n")] = '\0';
			if (hk_net_parse_cidr6(text, ret, &len) < 0 || len != 48 ||
			    ret->s6_addr[0] != 0xfd)
				return hk_error_setx(err, -EINVAL,
						     "the store's %s/ula: \"%s\" is not a /48 "
						     "of fd00::/8",
						     DEFS, text);
			return 0;
		}
		if (errno != ENOENT)
			return hk_error_set(err, -errno, "the store's %s/ula", DEFS);
		if (dirfd < 0 && (dirfd = defs_dir(storefd, err)) < 0)
			return dirfd;
		/* RFC 4193 3.2: fd, then a 40-bit global id at random. */
		a.s6_addr[0] = 0xfd;
		if (getrandom(a.s6_addr + 1, 5, 0) != 5)
			return hk_error_set(err, -errno, "getrandom");
		snprintf(text, sizeof(text), "%s/48\n", hk_ipv6_text(&a, (char[46]){0}));
		/* Made whole or not at all, and by one maker only: the others read it. */
		if (hk_link_new_file_at(dirfd, "ula", text, strlen(text), err) < 0 &&
		    err->code != -EEXIST)
			return err->code;
		hk_error_clear(err);
	}
	return hk_error_setx(err, -EIO, "the store's %s/ula", DEFS);
}

/* The default network, with its IPv6 subnet. */
static int default_network(int storefd, struct hk_network *n, struct hk_error *err)
{
	struct in6_addr ula;
	int r;

	*n = hk_network_default;
	if ((r = hk_network_ula(storefd, &ula, err)) < 0)
		return r;
	ula_subnet(n, &ula, 0);
	return 0;
}

static uint32_t mask_of(int prefix)
{
	return prefix ? ~0u << (32 - prefix) : 0;
}

bool hk_net_host_address(const struct hk_network *n, uint32_t addr)
{
	uint32_t mask = mask_of(n->prefix);

	return (addr & mask) == n->subnet && addr != n->subnet && addr != (n->subnet | ~mask);
}

bool hk_net_overlap(uint32_t a, int alen, uint32_t b, int blen)
{
	uint32_t m = mask_of(alen < blen ? alen : blen);

	return (a & m) == (b & m);
}

static int from_json(const struct hk_json *j, struct hk_network *n)
{
	const char *name = hk_json_get_string(j, "Name");
	const char *bridge = hk_json_get_string(j, "NetworkInterface");
	const char *subnet = hk_json_get_string(j, "Subnet");
	const char *gw = hk_json_get_string(j, "Gateway");
	const char *subnet6 = hk_json_get_string(j, "Subnet6");
	const char *gw6 = hk_json_get_string(j, "Gateway6");
	const struct hk_json *mtu = hk_json_get(j, "MTU"), *internal = hk_json_get(j, "Internal");
	int len;

	memset(n, 0, sizeof(*n));
	if (!name || !bridge || !subnet || !gw || strlen(name) >= sizeof(n->name) ||
	    strlen(bridge) >= sizeof(n->bridge) ||
	    hk_net_parse_cidr(subnet, &n->subnet, &n->prefix) < 0 ||
	    hk_net_parse_cidr(gw, &n->gateway, &len) < 0)
		return -EINVAL;
	if (subnet6 && (!gw6 || hk_net_parse_cidr6(subnet6, &n->subnet6, &n->prefix6) < 0 ||
			hk_net_parse_cidr6(gw6, &n->gateway6, &len) < 0))
		return -EINVAL;
	strcpy(n->name, name);
	strcpy(n->bridge, bridge);
	n->internal = internal && internal->boolean;
	n->mtu = mtu && mtu->type == HK_JSON_NUMBER ? atoi(mtu->text) : 0;
	return 0;
}

static int read_def(int dirfd, const char *file, struct hk_network *n, struct hk_error *err)
{
	_cleanup_(hk_json_freep) struct hk_json *j = NULL;
	_cleanup_free_ char *text = NULL;
	size_t len;
	int r;

	if ((r = hk_read_regular_file_at(dirfd, file, 1 << 16, &text, &len, err)) < 0 ||
	    (r = hk_json_parse(text, len, &j, err)) < 0)
		return r;
	if (from_json(j, n) < 0)
		return hk_error_setx(err, -EINVAL, "%s: not a network's definition", file);
	return 0;
}

int hk_network_find(int storefd, const char *name, struct hk_network *ret, struct hk_error *err)
{
	_cleanup_close_ int dirfd = -1;
	char file[HK_NET_NAME_MAX + 8];
	int r;

	if (hk_network_is_default(name))
		return default_network(storefd, ret, err);
	if (!hk_ctr_name_valid(name) || strlen(name) >= HK_NET_NAME_MAX)
		return hk_error_setx(err, -ENOENT, "network \"%s\": no such network", name);
	snprintf(file, sizeof(file), "%s.json", name);
	dirfd = openat(storefd, DEFS, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0 || faccessat(dirfd, file, F_OK, 0) < 0)
		return hk_error_setx(
		    err, -ENOENT, "network \"%s\": no such network (see hakoctl network ls)", name);
	if ((r = read_def(dirfd, file, ret, err)) < 0)
		return hk_error_prefix(err, "network \"%s\"", name);
	return 0;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct hk_network *)a)->name, ((const struct hk_network *)b)->name);
}

int hk_network_list(int storefd, struct hk_network **ret, size_t *ret_n, struct hk_error *err)
{
	struct hk_network *v = hk_xmalloc(sizeof(*v));
	size_t n = 1;
	struct dirent *de;
	int fd = openat(storefd, DEFS, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;

	if (default_network(storefd, &v[0], err) < 0) {
		free(v);
		return err->code;
	}
	while (d && (de = readdir(d))) {
		size_t len = strlen(de->d_name);
		if (de->d_name[0] == '.' || len < 6 || strcmp(de->d_name + len - 5, ".json") != 0)
			continue;
		v = hk_xrealloc(v, (n + 1) * sizeof(*v));
		if (read_def(fd, de->d_name, &v[n], err) < 0) {
			/* One broken file hides no other network: said, and skipped. */
			hk_warn("network definition %s: %s", de->d_name, err->msg);
			hk_error_clear(err);
			continue;
		}
		n++;
	}
	if (d)
		closedir(d);
	else if (fd >= 0)
		close(fd);
	qsort(v + 1, n - 1, sizeof(*v), by_name);
	*ret = v;
	*ret_n = n;
	return 0;
}

/* The host's routes (not those through our bridges), for overlap checks. */
struct route {
	int family;
	uint32_t dst;
	struct in6_addr dst6;
	int len;
	char dev[IF_NAMESIZE];
};

struct routes {
	const struct hk_network *nets;
	size_t n_nets;
	struct route v[256];
	size_t n;
	int uplink; /* the default route's device (IPv4) */
};

static int on_route(const struct nlmsghdr *h, void *arg)
{
	struct routes *rt = arg;
	const struct rtmsg *m = NLMSG_DATA(h);
	struct rtattr *tb[RTA_MAX + 1];
	uint32_t table = m->rtm_table;
	struct route *e = &rt->v[rt->n];
	int oif = 0;
	char dev[IF_NAMESIZE] = "";

	hk_nl_attrs(h, sizeof(*m), tb, RTA_MAX);
	if (tb[RTA_TABLE])
		table = *(uint32_t *)RTA_DATA(tb[RTA_TABLE]);
	if (table != RT_TABLE_MAIN || m->rtm_type != RTN_UNICAST)
		return 0;
	if (tb[RTA_OIF]) {
		oif = *(int *)RTA_DATA(tb[RTA_OIF]);
		if_indextoname((unsigned)oif, dev);
	}
	if (m->rtm_dst_len == 0) {
		if (!rt->uplink && m->rtm_family == AF_INET)
			rt->uplink = oif;
		return 0;
	}
	for (size_t i = 0; i < rt->n_nets; i++)
		if (strcmp(dev, rt->nets[i].bridge) == 0)
			return 0;
	if (rt->n == 256)
		return 0;
	memset(e, 0, sizeof(*e));
	e->family = m->rtm_family;
	if (tb[RTA_DST] && m->rtm_family == AF_INET)
		e->dst = ntohl(*(uint32_t *)RTA_DATA(tb[RTA_DST]));
	else if (tb[RTA_DST])
		memcpy(&e->dst6, RTA_DATA(tb[RTA_DST]), sizeof(e->dst6));
	e->len = m->rtm_dst_len;
	snprintf(e->dev, IF_NAMESIZE, "%s", dev);
	rt->n++;
	return 0;
}

static int host_routes(int nl, struct routes *rt, int family)
{
	struct rtmsg m = {.rtm_family = (unsigned char)family};
	struct hk_nl_req r;

	hk_nl_req_init(&r, RTM_GETROUTE, 0, &m, sizeof(m));
	return hk_nl_dump(nl, &r, on_route, rt);
}

int hk_net_uplink_mtu(int nl)
{
	struct routes rt = {0};
	struct ifreq ifr = {0};
	_cleanup_close_ int fd = -1;

	/* Asked of the kernel, not of /sys/class/net: that is the namespace's that mounted it. */
	if (host_routes(nl, &rt, AF_INET) < 0 || !rt.uplink ||
	    !if_indextoname((unsigned)rt.uplink, ifr.ifr_name) ||
	    (fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0 ||
	    ioctl(fd, SIOCGIFMTU, &ifr) < 0)
		return 0;
	return ifr.ifr_mtu;
}

/* Why subnet/prefix cannot be n's: another network's, or a route of the host. */
static int subnet_taken(const struct routes *rt, uint32_t subnet, int prefix, struct hk_error *err)
{
	char a[16], b[20];

	for (size_t i = 0; i < rt->n_nets; i++)
		if (hk_net_overlap(subnet, prefix, rt->nets[i].subnet, rt->nets[i].prefix))
			return hk_error_setx(err, -EEXIST, "overlaps network %s's %s",
					     rt->nets[i].name,
					     hk_network_subnet_text(&rt->nets[i], b));
	for (size_t i = 0; i < rt->n; i++)
		if (rt->v[i].family == AF_INET &&
		    hk_net_overlap(subnet, prefix, rt->v[i].dst, rt->v[i].len))
			return hk_error_setx(err, -EEXIST, "overlaps the host's route to %s/%d%s%s",
					     hk_ipv4_text(rt->v[i].dst, a), rt->v[i].len,
					     rt->v[i].dev[0] ? " on " : "", rt->v[i].dev);
	return 0;
}

/* The same for an IPv6 subnet. */
static int subnet6_taken(const struct routes *rt, const struct in6_addr *subnet, int prefix,
			 struct hk_error *err)
{
	char a[46], b[50];

	for (size_t i = 0; i < rt->n_nets; i++)
		if (rt->nets[i].prefix6 &&
		    hk_net_overlap6(subnet, prefix, &rt->nets[i].subnet6, rt->nets[i].prefix6))
			return hk_error_setx(err, -EEXIST, "overlaps network %s's %s",
					     rt->nets[i].name,
					     hk_network_subnet6_text(&rt->nets[i], b));
	for (size_t i = 0; i < rt->n; i++)
		if (rt->v[i].family == AF_INET6 &&
		    hk_net_overlap6(subnet, prefix, &rt->v[i].dst6, rt->v[i].len))
			return hk_error_setx(err, -EEXIST, "overlaps the host's route to %s/%d%s%s",
					     hk_ipv6_text(&rt->v[i].dst6, a), rt->v[i].len,
					     rt->v[i].dev[0] ? " on " : "", rt->v[i].dev);
	return 0;
}

/* n's IPv6 subnet and gateway: given (checked), or the first free /64 of the store's ULA. */
static int choose_subnet6(int storefd, const struct routes *rt, struct hk_network *n,
			  struct hk_error *err)
{
	static const struct in6_addr zero;
	struct in6_addr ula, gw = n->gateway6, clear = {0};
	char text[50];
	int r;

	if (memcmp(&n->subnet6, &zero, sizeof(zero)) != 0) {
		/* Its host bits must be 0: the subnet with them cleared is itself. */
		memcpy(clear.s6_addr, n->subnet6.s6_addr, (size_t)n->prefix6 / 8);
		if (n->prefix6 % 8)
			clear.s6_addr[n->prefix6 / 8] =
			    (unsigned char)(n->subnet6.s6_addr[n->prefix6 / 8] &
					    (0xff00 >> (n->prefix6 % 8)));
		if (n->prefix6 < 48 || n->prefix6 > 120 || memcmp(&clear, &n->subnet6, 16) != 0)
			return hk_error_setx(err, -EINVAL,
					     "--subnet %s: an IPv6 network address with a prefix "
					     "of 48 to 120, such as fd00:db8:1::/64",
					     hk_network_subnet6_text(n, text));
		if ((r = subnet6_taken(rt, &n->subnet6, n->prefix6, err)) < 0)
			return hk_error_prefix(err, "--subnet %s",
					       hk_network_subnet6_text(n, text));
	} else {
		if ((r = hk_network_ula(storefd, &ula, err)) < 0)
			return r;
		/* The subnet of its bridge's number, or the next free one. */
		unsigned k = (unsigned)atoi(n->bridge + 4);
		for (unsigned t = 0; t < 65536; t++, k = (k + 1) & 0xffff) {
			ula_subnet(n, &ula, k);
			if (subnet6_taken(rt, &n->subnet6, 64, err) == 0)
				break;
			hk_error_clear(err);
			n->prefix6 = 0;
		}
		if (!n->prefix6)
			return hk_error_setx(err, -ENOSPC, "no free /64 in the store's ULA prefix");
	}
	if (memcmp(&gw, &zero, sizeof(zero)) == 0) {
		n->gateway6 = n->subnet6;
		n->gateway6.s6_addr[15] |= 1;
	} else if (!hk_net_host_address6(n, &gw)) {
		return hk_error_setx(err, -EINVAL, "--gateway %s: not an address of the subnet %s",
				     hk_ipv6_text(&gw, (char[46]){0}),
				     hk_network_subnet6_text(n, text));
	} else {
		n->gateway6 = gw;
	}
	return 0;
}

static void def_json(struct hk_buf *b, const struct hk_network *n)
{
	_cleanup_(hk_json_freep) struct hk_json *j = hk_json_new(HK_JSON_OBJECT);
	char text[20], now[64];

	hk_time_rfc3339(now, sizeof(now));
	hk_json_set(j, "Name", hk_json_new_string(n->name));
	hk_json_set(j, "Driver", hk_json_new_string("bridge"));
	hk_json_set(j, "NetworkInterface", hk_json_new_string(n->bridge));
	hk_json_set(j, "Subnet", hk_json_new_string(hk_network_subnet_text(n, text)));
	hk_json_set(j, "Gateway", hk_json_new_string(hk_ipv4_text(n->gateway, text)));
	if (n->prefix6) {
		char text6[50];
		hk_json_set(j, "Subnet6", hk_json_new_string(hk_network_subnet6_text(n, text6)));
		hk_json_set(j, "Gateway6", hk_json_new_string(hk_ipv6_text(&n->gateway6, text6)));
	}
	hk_json_set(j, "Internal", hk_json_new_bool(n->internal));
	hk_json_set(j, "MTU", hk_json_new_int(n->mtu));
	hk_json_set(j, "Created", hk_json_new_string(now));
	hk_json_write_pretty(b, j);
}

int hk_network_create(int storefd, int nl, struct hk_network *n, struct hk_error *err)
{
	_cleanup_close_ int dirfd = -1;
	_cleanup_free_ struct hk_network *v = NULL;
	struct routes rt = {0};
	struct hk_buf b = HK_BUF_INIT;
	char file[HK_NET_NAME_MAX + 8], text[20];
	size_t count = 0;
	uint32_t mask = mask_of(n->prefix);
	int r;

	if (!hk_ctr_name_valid(n->name) || strlen(n->name) >= HK_NET_NAME_MAX)
		return hk_error_setx(err, -EINVAL,
				     "network \"%s\": a name is letters, digits and \"_.-\", "
				     "starts with a letter or digit, and is shorter than %d",
				     n->name, HK_NET_NAME_MAX);
	if (hk_network_is_default(n->name) || strcmp(n->name, "host") == 0 ||
	    strcmp(n->name, "none") == 0)
		return hk_error_setx(err, -EEXIST, "network \"%s\": a name hakoctl keeps", n->name);
	if (n->subnet && (n->prefix < 8 || n->prefix > 30 || (n->subnet & ~mask)))
		return hk_error_setx(err, -EINVAL,
				     "--subnet %s/%d: a network address with a prefix of 8 to "
				     "30, such as 10.90.0.0/24",
				     hk_ipv4_text(n->subnet, text), n->prefix);
	if ((r = dirfd = defs_dir(storefd, err)) < 0)
		return r;
	if (flock(dirfd, LOCK_EX) < 0)
		return hk_error_set(err, -errno, "lock the store's %s/", DEFS);
	snprintf(file, sizeof(file), "%s.json", n->name);
	if (faccessat(dirfd, file, F_OK, 0) == 0)
		return hk_error_setx(err, -EEXIST, "network \"%s\" exists already", n->name);
	if ((r = hk_network_list(storefd, &v, &count, err)) < 0)
		return r;
	rt.nets = v;
	rt.n_nets = count;
	if ((r = host_routes(nl, &rt, AF_INET)) < 0)
		return hk_error_set(err, r, "the host's routes");
	if (n->prefix6 && (r = host_routes(nl, &rt, AF_INET6)) < 0)
		return hk_error_set(err, r, "the host's IPv6 routes");
	/* Its bridge: hakoN, the first N that no network and no interface has. */
	for (int k = 1; !n->bridge[0]; k++) {
		char name[16];
		bool used;

		snprintf(name, sizeof(name), "hako%d", k);
		used = if_nametoindex(name) != 0;
		for (size_t i = 0; i < count && !used; i++)
			used = strcmp(v[i].bridge, name) == 0;
		if (!used)
			strcpy(n->bridge, name);
	}
	if (n->subnet) {
		if ((r = subnet_taken(&rt, n->subnet, n->prefix, err)) < 0)
			return hk_error_prefix(err, "--subnet %s", hk_network_subnet_text(n, text));
	} else {
		/* The first free 10.89.N.0/24, as podman's networks. */
		n->prefix = 24;
		for (uint32_t k = 0; k < 256 && !n->subnet; k++) {
			uint32_t s = 0x0a590000 | k << 8;
			if (subnet_taken(&rt, s, 24, err) == 0)
				n->subnet = s;
			hk_error_clear(err);
		}
		if (!n->subnet)
			return hk_error_setx(
			    err, -ENOSPC, "no free subnet in 10.89.0.0/16: give one with --subnet");
	}
	if (!n->gateway)
		n->gateway = n->subnet + 1;
	else if (!hk_net_host_address(n, n->gateway))
		return hk_error_setx(err, -EINVAL,
				     "--gateway %s: not an address of the subnet %s that a host "
				     "can have",
				     hk_ipv4_text(n->gateway, text),
				     hk_network_subnet_text(n, (char[20]){0}));
	if (n->prefix6 && (r = choose_subnet6(storefd, &rt, n, err)) < 0)
		return r;
	def_json(&b, n);
	r = hk_write_atomic_at(dirfd, file, b.buf, b.len, err);
	hk_buf_release(&b);
	return r;
}

int hk_network_delete(int storefd, const char *name, struct hk_error *err)
{
	_cleanup_close_ int dirfd = openat(storefd, DEFS, O_PATH | O_DIRECTORY | O_CLOEXEC);
	char file[HK_NET_NAME_MAX + 8];

	snprintf(file, sizeof(file), "%s.json", name);
	if (dirfd < 0 || unlinkat(dirfd, file, 0) < 0)
		return hk_error_set(err, -errno, "network \"%s\"", name);
	return 0;
}
