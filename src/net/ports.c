/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "network.h"
#include "ports.h"
#include "util.h"

/* "N" or "N-M": a port or a range of them. */
static int port_range(const char *s, unsigned *lo, unsigned *hi)
{
	char *end;
	unsigned long a = strtoul(s, &end, 10), b = a;

	if (end == s || (*end && *end != '-'))
		return -EINVAL;
	if (*end == '-') {
		const char *t = end + 1;
		b = strtoul(t, &end, 10);
		if (end == t || *end)
			return -EINVAL;
	}
	if (a == 0 || a > 65535 || b < a || b > 65535)
		return -EINVAL;
	*lo = (unsigned)a;
	*hi = (unsigned)b;
	return 0;
}

int hk_ports_parse(const char *spec, struct hk_port **v, size_t *n, struct hk_error *err)
{
	_cleanup_free_ char *s = hk_xstrdup(spec);
	char *proto = strchr(s, '/'), *parts[3];
	unsigned hlo, hhi, clo, chi, count = 0;
	struct in_addr ip = {0};
	uint8_t p = IPPROTO_TCP;

	if (proto) {
		*proto++ = '\0';
		if (strcmp(proto, "udp") == 0)
			p = IPPROTO_UDP;
		else if (strcmp(proto, "tcp") != 0)
			goto bad;
	}
	for (char *save = NULL, *t = strtok_r(s, ":", &save); t; t = strtok_r(NULL, ":", &save)) {
		if (count == 3)
			goto bad;
		parts[count++] = t;
	}
	if (count < 2)
		return hk_error_setx(
		    err, -EINVAL, "-p \"%s\": give the host's port too (HOSTPORT:CTRPORT)", spec);
	if (count == 3 && inet_pton(AF_INET, parts[0], &ip) != 1)
		return hk_error_setx(err, -EINVAL, "-p \"%s\": \"%s\" is not an IPv4 address", spec,
				     parts[0]);
	if (port_range(parts[count - 2], &hlo, &hhi) < 0 ||
	    port_range(parts[count - 1], &clo, &chi) < 0)
		goto bad;
	if (hhi - hlo != chi - clo)
		return hk_error_setx(err, -EINVAL, "-p \"%s\": the two ranges differ in length",
				     spec);
	for (unsigned i = 0; i <= hhi - hlo; i++) {
		*v = hk_xrealloc(*v, (*n + 1) * sizeof(**v));
		(*v)[(*n)++] = (struct hk_port){.host_ip = ntohl(ip.s_addr),
						.host_port = (uint16_t)(hlo + i),
						.ctr_port = (uint16_t)(clo + i),
						.proto = p};
	}
	return 0;
bad:
	return hk_error_setx(err, -EINVAL,
			     "-p \"%s\": [HOSTIP:]HOSTPORT[-END]:CTRPORT[-END][/tcp|/udp], ports "
			     "1 to 65535",
			     spec);
}

const char *hk_port_proto_name(const struct hk_port *p)
{
	return p->proto == IPPROTO_UDP ? "udp" : "tcp";
}

int hk_port_check_free(const struct hk_port *p, struct hk_error *err)
{
	struct sockaddr_in sa = {.sin_family = AF_INET,
				 .sin_port = htons(p->host_port),
				 .sin_addr.s_addr = htonl(p->host_ip)};
	int type = p->proto == IPPROTO_UDP ? SOCK_DGRAM : SOCK_STREAM;
	_cleanup_close_ int fd = socket(AF_INET, type | SOCK_CLOEXEC, 0);
	char ip[16];

	if (fd < 0)
		return hk_error_set(err, -errno, "socket");
	struct sockaddr_in6 sa6 = {.sin6_family = AF_INET6,
				   .sin6_port = htons(p->host_port),
				   .sin6_addr = IN6ADDR_LOOPBACK_INIT};
	_cleanup_close_ int fd6 = -1;
	int one = 1;

	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return hk_error_set(err, -errno, "-p %s:%u/%s: the host's port",
				    hk_ipv4_text(p->host_ip, ip), p->host_port,
				    hk_port_proto_name(p));
	/*
	 * Not bound to an address: on ::1 too, which hako-proxy serves (none: no
	 * IPv6). As it does, with SO_REUSEPORT: a port it has not let go yet, of
	 * a container just removed, is no one else's.
	 */
	if (p->host_ip || (fd6 = socket(AF_INET6, type | SOCK_CLOEXEC, 0)) < 0)
		return 0;
	setsockopt(fd6, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	setsockopt(fd6, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
	if (bind(fd6, (struct sockaddr *)&sa6, sizeof(sa6)) < 0 && errno != EADDRNOTAVAIL)
		return hk_error_set(err, -errno, "-p [::1]:%u/%s: the host's port", p->host_port,
				    hk_port_proto_name(p));
	return 0;
}

int hk_port_pick(int proto, struct hk_error *err)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t len = sizeof(sa);
	_cleanup_close_ int fd =
	    socket(AF_INET, (proto == IPPROTO_UDP ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &len) < 0)
		return hk_error_set(err, -errno, "a free port of the host's");
	return ntohs(sa.sin_port);
}

int hk_port_from_element(const char *text, struct hk_port *p)
{
	char proto[8], ip[32] = "";
	unsigned host, ctr;
	struct in_addr a = {0};

	if (sscanf(text, "%7[a-z]:%u:%u:%31s", proto, &host, &ctr, ip) < 3 || !host ||
	    host > 65535 || !ctr || ctr > 65535 || (*ip && inet_pton(AF_INET, ip, &a) != 1) ||
	    (strcmp(proto, "tcp") != 0 && strcmp(proto, "udp") != 0))
		return -EINVAL;
	*p = (struct hk_port){.host_ip = ntohl(a.s_addr),
			      .host_port = (uint16_t)host,
			      .ctr_port = (uint16_t)ctr,
			      .proto = strcmp(proto, "udp") == 0 ? IPPROTO_UDP : IPPROTO_TCP};
	return 0;
}

const char *hk_port_element(const struct hk_port *p, char *buf)
{
	char ip[16];

	if (p->host_ip)
		snprintf(buf, 48, "%s:%u:%u:%s", hk_port_proto_name(p), p->host_port, p->ctr_port,
			 hk_ipv4_text(p->host_ip, ip));
	else
		snprintf(buf, 48, "%s:%u:%u", hk_port_proto_name(p), p->host_port, p->ctr_port);
	return buf;
}

char *hk_net_bundle_file(const char *runroot, const char *id, const char *name)
{
	char path[PATH_MAX], *text = NULL;
	struct hk_error err = {0};

	snprintf(path, sizeof(path), "%s/bundles/%s/%s", runroot, id, name);
	if (hk_read_regular_file_at(AT_FDCWD, path, 1 << 20, &text, NULL, &err) < 0) {
		hk_error_clear(&err);
		return NULL;
	}
	return text;
}

void hk_net_bundle_attachments(const char *runroot, const char *id, struct hk_attachment **ret,
			       size_t *ret_n)
{
	_cleanup_free_ char *text = hk_net_bundle_file(runroot, id, "networks");
	struct hk_attachment *v = NULL, a;
	size_t n = 0;

	for (char *save = NULL, *line = text ? strtok_r(text, "\n", &save) : NULL; line;
	     line = strtok_r(NULL, "\n", &save)) {
		a.addr6[0] = '\0';
		if (sscanf(line, "%63s %15s %15s %45s", a.network, a.addr, a.ifname, a.addr6) < 3)
			continue;
		v = hk_xrealloc(v, (n + 1) * sizeof(*v));
		v[n++] = a;
	}
	*ret = v;
	*ret_n = n;
}

int hk_net_bundle_port_list(const char *runroot, const char *id, struct hk_port **v, size_t *n)
{
	_cleanup_free_ char *text = hk_net_bundle_file(runroot, id, "ports");

	for (char *save = NULL, *e = text ? strtok_r(text, "\n", &save) : NULL; e;
	     e = strtok_r(NULL, "\n", &save)) {
		*v = hk_xrealloc(*v, (*n + 1) * sizeof(**v));
		if (hk_port_from_element(e, &(*v)[*n]) < 0)
			return -EINVAL;
		(*n)++;
	}
	return 0;
}

int hk_net_bundle_attachments_write(int bundlefd, const struct hk_attachment *v, size_t n,
				    size_t skip, struct hk_error *err)
{
	struct hk_buf b = HK_BUF_INIT;
	int r;

	for (size_t i = 0; i < n; i++)
		if (i != skip)
			hk_buf_addf(&b, "%s %s %s%s%s\n", v[i].network, v[i].addr, v[i].ifname,
				    v[i].addr6[0] ? " " : "", v[i].addr6);
	r = hk_write_atomic_at(bundlefd, "networks", b.buf ? b.buf : "", b.len, err);
	hk_buf_release(&b);
	return r;
}

/* The ports of container id's bundle, to at (its first network), added or deleted. */
static int ports_to(const char *runroot, const char *id, const struct hk_attachment *at,
		    int host_ns, bool add, size_t *ret_n, struct hk_error *err)
{
	_cleanup_free_ struct hk_port *ports = NULL;
	size_t n = 0;

	*ret_n = 0;
	if (hk_net_bundle_port_list(runroot, id, &ports, &n) < 0)
		return hk_error_setx(err, -EINVAL, "container %.12s: its ports file", id);
	if (!n)
		return 0;
	*ret_n = n;
	return hk_nft_ports(host_ns, add, at->addr, at->addr6, ports, n, err);
}

int hk_net_bundle_ports(const char *runroot, const char *id, int host_ns, bool add, size_t *ret_n,
			struct hk_error *err)
{
	_cleanup_free_ struct hk_attachment *nets = NULL;
	size_t n_nets;

	*ret_n = 0;
	hk_net_bundle_attachments(runroot, id, &nets, &n_nets);
	return n_nets ? ports_to(runroot, id, &nets[0], host_ns, add, ret_n, err) : 0;
}

/* Every network's leases of id given back (a lease dir each under networks/). */
static void release_all_leases(const char *runroot, const char *id)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *d;

	snprintf(path, sizeof(path), "%s/networks", runroot);
	if (!(d = opendir(path)))
		return;
	while ((de = readdir(d))) {
		int fd;
		if (de->d_name[0] == '.' ||
		    (fd = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
			continue;
		hk_ipam_release_all(fd, id);
	}
	closedir(d);
}

void hk_net_unlease(int dirfd, const struct hk_attachment *a, const char *id)
{
	hk_ipam_release(dirfd, a->addr, id);
	if (a->addr6[0])
		hk_ipam_release(dirfd, a->addr6, id);
}

void hk_net_release(const char *runroot, const char *id, int host_ns, bool scan)
{
	_cleanup_free_ struct hk_attachment *nets = NULL;
	struct hk_error err = {0};
	char path[PATH_MAX];
	size_t n_nets, n;
	int fd;

	hk_net_bundle_attachments(runroot, id, &nets, &n_nets);
	if (n_nets && ports_to(runroot, id, &nets[0], host_ns, false, &n, &err) < 0)
		hk_warn("the ports of %.12s: %s", id, err.msg);
	hk_error_clear(&err);
	for (size_t i = 0; i < n_nets; i++) {
		/* Its names first: no name points at an address given back. */
		hk_net_names_drop(runroot, id, nets[i].network);
		snprintf(path, sizeof(path), "%s/networks/%s", runroot, nets[i].network);
		if ((fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC)) >= 0) {
			hk_net_unlease(fd, &nets[i], id);
			close(fd);
		}
	}
	snprintf(path, sizeof(path), "%s/networks/" HK_NET_PROXY "/%s", runroot, id);
	unlink(path);
	/* Killed between a lease and the record of it: the lease says whose it is. */
	if (scan) {
		hk_net_names_drop(runroot, id, NULL);
		release_all_leases(runroot, id);
	}
}

int hk_net_proxy_write(const char *runroot, const char *id, const char *addr6,
		       const struct hk_port *ports, size_t n, int *ino, struct hk_error *err)
{
	_cleanup_close_ int dirfd = -1;
	struct hk_buf b = HK_BUF_INIT;
	char path[PATH_MAX];
	int r = 0;

	for (size_t i = 0; i < n; i++)
		if (!ports[i].host_ip)
			hk_buf_addf(&b, "%s %u %s %u\n", hk_port_proto_name(&ports[i]),
				    ports[i].host_port, addr6, ports[i].ctr_port);
	if (!b.len)
		return 0;
	snprintf(path, sizeof(path), "%s/networks/" HK_NET_PROXY, runroot);
	if ((r = hk_mkdir_p(path, 0700, err)) < 0 ||
	    (dirfd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0) {
		r = r < 0 ? r : hk_error_set(err, -errno, "%s", path);
		goto out;
	}
	if (*ino >= 0 && inotify_add_watch(*ino, path, IN_ATTRIB) < 0) {
		hk_debug("inotify_add_watch(\"%s\"): %s", path, strerror(errno));
		close(*ino);
		*ino = -1;
	}
	r = hk_write_atomic_at(dirfd, id, b.buf, b.len, err);
out:
	hk_buf_release(&b);
	return r < 0 ? r : 1;
}

int hk_net_proxy_wait(int ino, const char *id, int timeout_ms)
{
	long long end = hk_now_ms() + timeout_ms;
	struct pollfd p = {ino, POLLIN, 0};

	for (long long left; (left = end - hk_now_ms()) > 0;) {
		if (poll(&p, 1, (int)left) < 0 && errno != EINTR)
			return -errno;
		if (hk_inotify_saw(ino, id, IN_ATTRIB))
			return 0;
	}
	return -ETIMEDOUT;
}

void hk_net_names_drop(const char *runroot, const char *id, const char *network)
{
	char path[PATH_MAX], name[160];
	struct dirent *de;
	DIR *d;

	snprintf(path, sizeof(path), "%s/networks/" HK_NET_NAMES, runroot);
	if (network) {
		snprintf(name, sizeof(name), "%s@%s", id, network);
		snprintf(path + strlen(path), sizeof(path) - strlen(path), "/%s", name);
		unlink(path);
		return;
	}
	if (!(d = opendir(path)))
		return;
	while ((de = readdir(d)))
		if (strncmp(de->d_name, id, strlen(id)) == 0 && de->d_name[strlen(id)] == '@')
			unlinkat(dirfd(d), de->d_name, 0);
	closedir(d);
}
