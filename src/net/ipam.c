/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "network.h"
#include "util.h"

const struct hk_network hk_network_default = {
    .name = "hako",
    .bridge = "hako0",
    .subnet = 0x0a580000, /* 10.88.0.0 */
    .prefix = 16,
    .gateway = 0x0a580001, /* 10.88.0.1 */
};

#define LAST ".last" /* the address leased last: the next search starts after it */

const char *hk_ipv4_text(uint32_t addr, char buf[16])
{
	snprintf(buf, 16, "%u.%u.%u.%u", addr >> 24, (addr >> 16) & 255, (addr >> 8) & 255,
		 addr & 255);
	return buf;
}

const char *hk_network_subnet_text(const struct hk_network *n, char buf[20])
{
	char text[16];

	snprintf(buf, 20, "%s/%d", hk_ipv4_text(n->subnet, text), n->prefix);
	return buf;
}

const char *hk_ipv6_text(const struct in6_addr *addr, char buf[46])
{
	return inet_ntop(AF_INET6, addr, buf, 46);
}

const char *hk_network_subnet6_text(const struct hk_network *n, char buf[50])
{
	char text[46];

	if (!n->prefix6)
		buf[0] = '\0';
	else
		snprintf(buf, 50, "%s/%d", hk_ipv6_text(&n->subnet6, text), n->prefix6);
	return buf;
}

static int read_small_at(int dirfd, const char *name, char *buf, size_t size)
{
	_cleanup_close_ int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0 || (n = read(fd, buf, size - 1)) < 0)
		return -1;
	buf[n] = '\0';
	return 0;
}

/*
 * Take the address named name for id: its lease file, made only if there
 * is none, and never seen without the id in it.
 */
static int try_lease_named(int dirfd, const char *name, const char *id)
{
	struct hk_error err = {0};
	int r = hk_link_new_file_at(dirfd, name, id, strlen(id), &err);

	hk_error_clear(&err);
	return r;
}

static int try_lease(int dirfd, uint32_t addr, const char *id)
{
	char name[16];

	return try_lease_named(dirfd, hk_ipv4_text(addr, name), id);
}

bool hk_ipam_take_back(int dirfd, const char *name, bool (*stale)(const char *id, void *arg),
		       void *arg)
{
	char buf[128];

	if (read_small_at(dirfd, name, buf, sizeof(buf)) < 0 || strlen(buf) != 64 ||
	    !stale(buf, arg) || unlinkat(dirfd, name, 0) < 0)
		return false;
	hk_debug("lease %s of %.12s taken back: it is gone", name, buf);
	return true;
}

static bool take_back(int dirfd, uint32_t addr, bool (*stale)(const char *id, void *arg), void *arg)
{
	char name[16];

	return hk_ipam_take_back(dirfd, hk_ipv4_text(addr, name), stale, arg);
}

int hk_ipam_lease(int dirfd, const struct hk_network *n, const char *id, uint32_t want,
		  bool (*stale)(const char *id, void *arg), void *arg, uint32_t *ret,
		  struct hk_error *err)
{
	uint32_t size =
	    n->prefix >= 31 ? 0 : (1u << (32 - n->prefix)) - 2; /* no net, no broadcast */
	uint32_t first = n->subnet + 1, start = 0, last;
	char buf[128], name[16];
	unsigned a, b, c, d;
	int e;

	if (want) {
		e = try_lease(dirfd, want, id);
		if (e == -EEXIST && take_back(dirfd, want, stale, arg))
			e = try_lease(dirfd, want, id);
		if (e < 0)
			return hk_error_set(err, e == -EEXIST ? -EADDRINUSE : e,
					    "--ip %s: network %s", hk_ipv4_text(want, name),
					    n->name);
		*ret = want;
		return 0;
	}
	if (read_small_at(dirfd, LAST, buf, sizeof(buf)) == 0 &&
	    sscanf(buf, "%u.%u.%u.%u", &a, &b, &c, &d) == 4 && a < 256 && b < 256 && c < 256 &&
	    d < 256) {
		last = a << 24 | b << 16 | c << 8 | d;
		if (last >= first && last - first < size)
			start = last - first + 1;
	}
	/* Two rounds: the free addresses after the last one leased, then the stale leases. */
	for (int round = 0; round < 2; round++) {
		for (uint32_t i = 0; i < size; i++) {
			uint32_t addr = first + (start + i) % size;
			if (addr == n->gateway)
				continue;
			e = try_lease(dirfd, addr, id);
			if (e == -EEXIST && round == 1 && take_back(dirfd, addr, stale, arg))
				e = try_lease(dirfd, addr, id);
			if (e == -EEXIST)
				continue;
			if (e < 0)
				return hk_error_set(err, e, "network %s: lease %s", n->name,
						    hk_ipv4_text(addr, name));
			*ret = addr;
			/* The text first: a call's arguments have no order among them. */
			hk_ipv4_text(addr, name);
			hk_write_atomic_at(dirfd, LAST, name, strlen(name), err);
			hk_error_clear(err);
			return 0;
		}
	}
	return hk_error_setx(err, -ENOSPC, "network %s: no free address", n->name);
}

/* n's subnet6 plus host part j (j is under 2^24, and so is the subnet's host part's size). */
static struct in6_addr host6(const struct hk_network *n, uint32_t j)
{
	struct in6_addr a = n->subnet6;
	uint32_t low;

	memcpy(&low, a.s6_addr + 12, 4);
	low = htonl(ntohl(low) + j);
	memcpy(a.s6_addr + 12, &low, 4);
	return a;
}

int hk_ipam_lease6(int dirfd, const struct hk_network *n, const char *id,
		   const struct in6_addr *want, uint32_t hint,
		   bool (*stale)(const char *id, void *arg), void *arg, struct in6_addr *ret,
		   struct hk_error *err)
{
	int bits = 128 - n->prefix6;
	uint32_t size =
	    bits >= 24 ? 1u << 24 : (1u << bits) - 1; /* j from 1: not the subnet's own */
	char name[46];
	int e;

	if (want) {
		hk_ipv6_text(want, name);
		e = try_lease_named(dirfd, name, id);
		if (e == -EEXIST && hk_ipam_take_back(dirfd, name, stale, arg))
			e = try_lease_named(dirfd, name, id);
		if (e < 0)
			return hk_error_set(err, e == -EEXIST ? -EADDRINUSE : e,
					    "--ip6 %s: network %s", name, n->name);
		*ret = *want;
		return 0;
	}
	if (hint < 1 || hint > size)
		hint = 1;
	for (int round = 0; round < 2; round++) {
		for (uint32_t i = 0; i < size; i++) {
			struct in6_addr a = host6(n, 1 + (hint - 1 + i) % size);
			if (memcmp(&a, &n->gateway6, sizeof(a)) == 0)
				continue;
			hk_ipv6_text(&a, name);
			e = try_lease_named(dirfd, name, id);
			if (e == -EEXIST && round == 1 &&
			    hk_ipam_take_back(dirfd, name, stale, arg))
				e = try_lease_named(dirfd, name, id);
			if (e == -EEXIST)
				continue;
			if (e < 0)
				return hk_error_set(err, e, "network %s: lease %s", n->name, name);
			*ret = a;
			return 0;
		}
	}
	return hk_error_setx(err, -ENOSPC, "network %s: no free IPv6 address", n->name);
}

void hk_ipam_release(int dirfd, const char *addr, const char *id)
{
	char buf[128];

	if (read_small_at(dirfd, addr, buf, sizeof(buf)) == 0 && strcmp(buf, id) == 0)
		unlinkat(dirfd, addr, 0);
}

void hk_ipam_release_all(int dirfd, const char *id)
{
	DIR *d = fdopendir(dirfd);
	struct dirent *de;

	if (!d) {
		close(dirfd);
		return;
	}
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			hk_ipam_release(dirfd, de->d_name, id);
	closedir(d);
}
