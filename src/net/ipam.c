/* SPDX-License-Identifier: GPL-2.0-or-later */
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
 * Take addr for id: its lease file, made only if there is none, and never
 * seen without the id in it (a nameless file of the dir, linked in whole:
 * link fails if the name is there).
 */
static int try_lease(int dirfd, uint32_t addr, const char *id)
{
	_cleanup_close_ int fd = openat(dirfd, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
	char name[16], self[64];

	if (fd < 0)
		return -errno;
	if (write(fd, id, strlen(id)) != (ssize_t)strlen(id))
		return errno ? -errno : -EIO;
	snprintf(self, sizeof(self), "/proc/self/fd/%d", fd);
	if (linkat(AT_FDCWD, self, dirfd, hk_ipv4_text(addr, name), AT_SYMLINK_FOLLOW) < 0)
		return -errno;
	return 0;
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
			hk_write_atomic_at(dirfd, LAST, hk_ipv4_text(addr, name), strlen(name),
					   err);
			hk_error_clear(err);
			return 0;
		}
	}
	return hk_error_setx(err, -ENOSPC, "network %s: no free address", n->name);
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
