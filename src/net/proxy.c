// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * hako-proxy --runroot DIR: the published ports of hakoctl's containers on
 * the host's ::1. Everywhere else a published port is a DNAT of our
 * nftables table, which keeps the client's address; but a packet from ::1
 * may not leave the host's loopback (RFC 4291 2.5.3; IPv4 has
 * route_localnet, IPv6 nothing like it), so a client of [::1]:PORT is
 * served here, in user space, as docker's userland proxy does: a
 * connection accepted on [::1]:PORT is one made to the container's IPv6
 * address and its port, and the bytes go both ways; a UDP client has a
 * socket of its own to the container while it talks.
 *
 * - One runs for a run dir, in the host's namespaces, started by hakoctl
 *   when it publishes a port of a container with an IPv6 address; it
 *   exits once no container has one.
 * - A container's ports are a file, networks/.proxy/ID, a line each:
 *   "tcp|udp HOSTPORT IPV6-ADDRESS CTRPORT", made by hakoctl when it
 *   publishes them and removed when they are given back. inotify says when
 *   one changes; the ports of that file alone are opened or closed.
 * - Each TCP connection is served by a child of its own, which holds
 *   nothing but its two sockets.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon.h"

#define MAX_PORTS    4096
#define MAX_SESSIONS 1024  /* UDP clients at once */
#define SESSION_MS   60000 /* a UDP client's socket, idle so long, is closed */
#define MAX_CHILDREN 256   /* TCP connections served at once */
#define CONNECT_SECS 5

struct port {
	char id[65];
	int type; /* SOCK_STREAM or SOCK_DGRAM */
	uint16_t host_port, ctr_port;
	struct in6_addr target;
	int fd; /* listening on [::1]:host_port, or -1 until it can */
	bool seen;
};

struct session {
	size_t port; /* index in ports */
	struct sockaddr_in6 client;
	int fd; /* connected to the container */
	long long last;
};

static const char *runroot;
static struct port ports[MAX_PORTS];
static size_t n_ports;
static struct session sessions[MAX_SESSIONS];
static size_t n_sessions;
static int children;

static void session_drop(size_t i)
{
	close(sessions[i].fd);
	sessions[i] = sessions[--n_sessions];
}

static void port_drop(size_t i)
{
	/* Its UDP clients first; then the last port takes its place (and index). */
	for (size_t k = n_sessions; k-- > 0;)
		if (sessions[k].port == i)
			session_drop(k);
	if (ports[i].fd >= 0)
		close(ports[i].fd);
	ports[i] = ports[--n_ports];
	for (size_t k = 0; k < n_sessions; k++)
		if (sessions[k].port == n_ports)
			sessions[k].port = i;
}

/* [::1]:port of type, listened on; or -1 (in use: tried again later). */
static int listen_on(int type, uint16_t port)
{
	struct sockaddr_in6 sa = {
	    .sin6_family = AF_INET6, .sin6_port = htons(port), .sin6_addr = IN6ADDR_LOOPBACK_INIT};
	int one = 1, fd = socket(AF_INET6, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	/* A port given back and published again at once: opened before it is closed. */
	setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    (type == SOCK_STREAM && listen(fd, 128) < 0)) {
		close(fd);
		return -1;
	}
	return fd;
}

/* One line of a container's file: "tcp|udp HOSTPORT ADDRESS CTRPORT". */
static int parse(const char *line, struct port *p)
{
	char proto[8], addr[64];
	unsigned hp, cp;

	if (sscanf(line, "%7s %u %63s %u", proto, &hp, addr, &cp) != 4 || !hp || hp > 65535 ||
	    !cp || cp > 65535 || inet_pton(AF_INET6, addr, &p->target) != 1)
		return -1;
	if (strcmp(proto, "tcp") == 0)
		p->type = SOCK_STREAM;
	else if (strcmp(proto, "udp") == 0)
		p->type = SOCK_DGRAM;
	else
		return -1;
	p->host_port = (uint16_t)hp;
	p->ctr_port = (uint16_t)cp;
	return 0;
}

/*
 * Container id's file touched once each of its ports is listened on:
 * hakoctl, which wrote it, waits for that (IN_ATTRIB) before `run -d -p`
 * returns. We do not watch IN_ATTRIB ourselves.
 */
static void say_ready(const char *id)
{
	char path[4400];
	size_t n = 0;

	for (size_t i = 0; i < n_ports; i++)
		if (strcmp(ports[i].id, id) == 0) {
			if (ports[i].fd < 0)
				return;
			n++;
		}
	snprintf(path, sizeof(path), "%s/networks/.proxy/%s", runroot, id);
	if (n)
		utimensat(AT_FDCWD, path, NULL, 0);
}

/* Container id's file read again (or gone): its ports opened and closed to match. */
static void apply(const char *id)
{
	char path[4400], buf[65536];
	FILE *f;

	if (id[0] == '.' || strlen(id) != 64)
		return;
	for (size_t i = 0; i < n_ports; i++)
		if (strcmp(ports[i].id, id) == 0)
			ports[i].seen = false;
	snprintf(path, sizeof(path), "%s/networks/.proxy/%s", runroot, id);
	f = fopen(path, "re");
	while (f && fgets(buf, sizeof(buf), f)) {
		struct port p = {.fd = -1, .seen = true};
		size_t i;

		if (parse(buf, &p) < 0)
			continue;
		for (i = 0; i < n_ports; i++)
			if (strcmp(ports[i].id, id) == 0 && ports[i].type == p.type &&
			    ports[i].host_port == p.host_port && ports[i].ctr_port == p.ctr_port &&
			    memcmp(&ports[i].target, &p.target, sizeof(p.target)) == 0)
				break;
		if (i < n_ports) {
			ports[i].seen = true;
		} else if (n_ports < MAX_PORTS) {
			snprintf(p.id, sizeof(p.id), "%s", id);
			p.fd = listen_on(p.type, p.host_port);
			ports[n_ports++] = p;
		}
	}
	if (f)
		fclose(f);
	for (size_t i = n_ports; i-- > 0;)
		if (strcmp(ports[i].id, id) == 0 && !ports[i].seen)
			port_drop(i);
	say_ready(id);
}

/* Every file of networks/.proxy, at the start (and if inotify lost events). */
static void scan(void)
{
	daemon_scan(runroot, "networks/.proxy", apply);
	/* And the ports of files gone while we did not look. */
	for (size_t i = n_ports; i-- > 0;) {
		char file[4200];
		snprintf(file, sizeof(file), "%s/networks/.proxy/%s", runroot, ports[i].id);
		if (access(file, F_OK) < 0)
			port_drop(i);
	}
}

/* The bytes of a and b both ways until both have said all; a child's. */
static void relay(int a, int b)
{
	const int fd[2] = {a, b};
	struct pollfd p[2] = {{.fd = a, .events = POLLIN}, {.fd = b, .events = POLLIN}};
	char buf[65536];
	int open_ = 2;

	while (open_ > 0 && poll(p, 2, -1) >= 0)
		for (int i = 0; i < 2; i++) {
			ssize_t n;
			if (p[i].fd < 0 || !(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			n = read(fd[i], buf, sizeof(buf));
			if (n <= 0) {
				/* This side is done: the other is told, and still heard. */
				shutdown(fd[1 - i], SHUT_WR);
				p[i].fd = -1;
				open_--;
				continue;
			}
			for (ssize_t off = 0; off < n;) {
				ssize_t w = write(fd[1 - i], buf + off, (size_t)(n - off));
				if (w <= 0)
					return;
				off += w;
			}
		}
}

static void on_tcp(const struct port *p)
{
	struct sockaddr_in6 to = {
	    .sin6_family = AF_INET6, .sin6_port = htons(p->ctr_port), .sin6_addr = p->target};
	struct timeval tv = {.tv_sec = CONNECT_SECS};
	int fd = accept4(p->fd, NULL, NULL, SOCK_CLOEXEC), out;
	pid_t pid;

	if (fd < 0)
		return;
	/* So many at once, and no more: a client cannot make us fork without end. */
	if (children < MAX_CHILDREN && (pid = fork()) >= 0) {
		if (pid == 0) {
			/* Nothing of ours held but this connection: a port closed is free. */
			if (dup2(fd, 3) < 0)
				_exit(1);
			syscall(SYS_close_range, 4, ~0U, 0);
			fcntl(3, F_SETFL, 0);
			if ((out = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
				_exit(1);
			setsockopt(out, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
			if (connect(out, (struct sockaddr *)&to, sizeof(to)) < 0)
				_exit(1); /* the client's connection closes: as a refusal */
			relay(3, out);
			_exit(0);
		}
		children++;
	}
	close(fd);
}

/* A datagram from a client: to the container, through the client's own socket. */
static void on_udp(size_t port)
{
	struct sockaddr_in6 client, to = {.sin6_family = AF_INET6,
					  .sin6_port = htons(ports[port].ctr_port),
					  .sin6_addr = ports[port].target};
	socklen_t len = sizeof(client);
	char buf[65536];
	ssize_t n = recvfrom(ports[port].fd, buf, sizeof(buf), 0, (struct sockaddr *)&client, &len);
	size_t i;

	if (n < 0)
		return;
	for (i = 0; i < n_sessions; i++)
		if (sessions[i].port == port &&
		    memcmp(&sessions[i].client, &client, sizeof(client)) == 0)
			break;
	if (i == n_sessions) {
		int fd;
		if (n_sessions == MAX_SESSIONS)
			return;
		if ((fd = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)) < 0)
			return;
		if (connect(fd, (struct sockaddr *)&to, sizeof(to)) < 0) {
			close(fd);
			return;
		}
		sessions[n_sessions++] = (struct session){.port = port, .client = client, .fd = fd};
	}
	sessions[i].last = now_ms();
	send(sessions[i].fd, buf, (size_t)n, 0);
}

/* An answer from the container: to its client, from the port it asked. */
static void on_answer(size_t i)
{
	char buf[65536];
	ssize_t n = recv(sessions[i].fd, buf, sizeof(buf), 0);

	if (n < 0)
		return;
	sessions[i].last = now_ms();
	sendto(ports[sessions[i].port].fd, buf, (size_t)n, 0,
	       (struct sockaddr *)&sessions[i].client, sizeof(sessions[i].client));
}

static bool serving(void)
{
	return n_ports > 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {{"runroot", required_argument, NULL, 'R'},
					     {NULL, 0, NULL, 0}};
	static struct pollfd p[1 + MAX_PORTS + MAX_SESSIONS];
	static size_t map[MAX_PORTS + MAX_SESSIONS];
	long long idle_since = -1;
	char path[4096];
	int c, lock, in;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1)
		if (c == 'R')
			runroot = optarg;
	if (!runroot) {
		fprintf(stderr, "usage: hako-proxy --runroot DIR (it is run by hakoctl)\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	/* A socket for each port and each UDP client: as many as we may have. */
	struct rlimit nofile;
	if (getrlimit(RLIMIT_NOFILE, &nofile) == 0) {
		nofile.rlim_cur = nofile.rlim_max;
		setrlimit(RLIMIT_NOFILE, &nofile);
	}
	if ((lock = daemon_lock(runroot, "proxy")) < 0)
		return 0; /* one serves already */
	in = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	snprintf(path, sizeof(path), "%s/networks/.proxy", runroot);
	if (in < 0 || inotify_add_watch(
			  in, path, IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE) < 0) {
		perror("hako-proxy");
		return 1;
	}
	scan();
	for (;;) {
		size_t np = 1;
		long long now = now_ms();

		/* The children done, UDP clients gone quiet, ports that can be listened on now. */
		while (children > 0 && waitpid(-1, NULL, WNOHANG) > 0)
			children--;
		for (size_t i = n_sessions; i-- > 0;)
			if (now - sessions[i].last > SESSION_MS)
				session_drop(i);
		p[0] = (struct pollfd){.fd = in, .events = POLLIN};
		for (size_t i = 0; i < n_ports; i++) {
			if (ports[i].fd < 0 &&
			    (ports[i].fd = listen_on(ports[i].type, ports[i].host_port)) >= 0)
				say_ready(ports[i].id);
			if (ports[i].fd >= 0) {
				map[np - 1] = i;
				p[np++] = (struct pollfd){.fd = ports[i].fd, .events = POLLIN};
			}
		}
		for (size_t i = 0; i < n_sessions; i++) {
			map[np - 1] = MAX_PORTS + i;
			p[np++] = (struct pollfd){.fd = sessions[i].fd, .events = POLLIN};
		}
		/* No port to serve: a while, then gone (hakoctl starts another). */
		if ((c = daemon_idle(runroot, "proxy", &lock, &idle_since, serving, scan)) > 0)
			return 0;
		if (c < 0)
			continue;
		if (poll(p, np, n_ports ? 1000 : 250) < 0 && errno != EINTR)
			return 1;
		/* Files first: the pollfds after them may be of ports gone. */
		if (p[0].revents & POLLIN) {
			daemon_events(in, apply, scan);
			continue;
		}
		for (size_t i = np; i-- > 1;) {
			if (!(p[i].revents & POLLIN))
				continue;
			if (map[i - 1] >= MAX_PORTS)
				on_answer(map[i - 1] - MAX_PORTS);
			else if (ports[map[i - 1]].type == SOCK_STREAM)
				on_tcp(&ports[map[i - 1]]);
			else
				on_udp(map[i - 1]);
		}
	}
}
