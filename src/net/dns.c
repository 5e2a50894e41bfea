// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * hako-dns --runroot DIR: the name server of hakoctl's networks of the
 * user's own (docker's embedded DNS, podman's aardvark-dns). One runs for a
 * run dir, in the host's namespaces, started by hakoctl when a container
 * joins such a network, and it exits once no container is on one.
 *
 * - It listens on each network's gateway address, port 53, UDP and TCP
 *   (IP_FREEBIND: the bridge may come after it).
 * - A container's names on a network are a file, networks/.dns/ID@NET,
 *   "ADDRESS[,IPV6-ADDRESS] NAME [ALIAS...]", made by hakoctl when the container is
 *   recorded and removed when its lease is given back; a network's gateway
 *   is networks/.dns/gateway@NET. inotify says when one changes,
 *   and the table of names is read again and then replaced whole, so a
 *   lookup never meets a table half read (aardvark-dns#389 loses names on
 *   reload).
 * - A client is answered with the names of every network it is on (its
 *   address on the network it asked through says which container it is),
 *   by name, alias, or its id's first 12 digits; A records, and AAAA on a
 *   dual stack network; a name of ours asked for another type gets no
 *   answer and no error.
 * - Any other name goes to the host's resolvers (its /etc/resolv.conf),
 *   systemd-resolved's 127.0.0.53 included, which a container could not
 *   reach itself: UDP through one socket, each query's id made ours and
 *   given back with the answer (and only an answer from that resolver
 *   taken); TCP through a child for each connection, so many at once.
 * - Only clients of a network's subnet are answered there: a container of
 *   another network asking across gets REFUSED.
 *
 * Its lock and pid: networks/.dns.lock, which hakoctl tries to tell
 * whether one runs.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "daemon.h"

#define MAX_NETS	   64
#define MAX_UPSTREAMS	   3
#define MAX_PENDING	   1024
#define FORWARD_TIMEOUT_MS 5000
#define MAX_TCP_CHILDREN   32 /* TCP connections served at once */

struct record {
	int net;       /* index in nets */
	uint32_t addr; /* network order */
	struct in6_addr addr6;
	bool has6;
	char id[65];
	char *names; /* "name alias..." */
};

struct net {
	char name[64];
	uint32_t gateway; /* network order; 0 if unknown */
	uint32_t mask;	  /* network order: its subnet's, whose clients alone it answers */
	int udp, tcp;
};

struct pending {
	uint16_t our_id, their_id;
	struct sockaddr_in client;
	int sock; /* the listening UDP socket it came through */
	long long deadline;
	bool used;
};

static const char *runroot;
static int inotify_fd = -1;
static struct net nets[MAX_NETS];
static size_t n_nets;
static struct record *records;
static size_t n_records;
static struct sockaddr_in6 upstreams[MAX_UPSTREAMS]; /* IPv4 ones mapped */
static size_t n_upstreams;
static int forward_sock = -1;
static struct pending pending[MAX_PENDING];
static uint16_t next_id;

static char *read_small(const char *path)
{
	char buf[4096];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return NULL;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return NULL;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return strdup(buf);
}

/* The host's resolvers, from its /etc/resolv.conf: IPv6, and IPv4 mapped, port 53. */
static void read_upstreams(void)
{
	FILE *f = fopen("/etc/resolv.conf", "re");
	char line[512], addr[128];
	struct in_addr a;

	n_upstreams = 0;
	while (f && fgets(line, sizeof(line), f) && n_upstreams < MAX_UPSTREAMS) {
		struct sockaddr_in6 *u = &upstreams[n_upstreams];

		if (sscanf(line, " nameserver %127s", addr) != 1)
			continue;
		*u = (struct sockaddr_in6){.sin6_family = AF_INET6, .sin6_port = htons(53)};
		if (inet_pton(AF_INET, addr, &a) == 1) {
			u->sin6_addr.s6_addr[10] = u->sin6_addr.s6_addr[11] = 0xff;
			memcpy(&u->sin6_addr.s6_addr[12], &a, 4);
			n_upstreams++;
		} else if (inet_pton(AF_INET6, addr, &u->sin6_addr) == 1) {
			n_upstreams++;
		}
	}
	if (f)
		fclose(f);
}

static int listen_on(int type, uint32_t addr)
{
	struct sockaddr_in sa = {
	    .sin_family = AF_INET, .sin_port = htons(53), .sin_addr.s_addr = addr};
	int one = 1, fd = socket(AF_INET, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	setsockopt(fd, IPPROTO_IP, IP_FREEBIND, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    (type == SOCK_STREAM && listen(fd, 64) < 0)) {
		close(fd);
		return -1;
	}
	return fd;
}

static void net_close(struct net *n)
{
	if (n->udp >= 0)
		close(n->udp);
	if (n->tcp >= 0)
		close(n->tcp);
	n->udp = n->tcp = -1;
}

static struct net *net_named(const char *name)
{
	size_t k;

	for (k = 0; k < n_nets && strcmp(nets[k].name, name) != 0; k++)
		;
	if (k == n_nets) {
		if (n_nets == MAX_NETS || strlen(name) >= sizeof(nets[0].name))
			return NULL;
		memset(&nets[k], 0, sizeof(nets[k]));
		strcpy(nets[k].name, name);
		nets[k].udp = nets[k].tcp = -1;
		n_nets++;
	}
	return &nets[k];
}

static void net_listen(struct net *net)
{
	/* Listened on once it can be (another hako-dns may be leaving it). */
	if (net->gateway && net->udp < 0)
		net->udp = listen_on(SOCK_DGRAM, net->gateway);
	if (net->gateway && net->tcp < 0)
		net->tcp = listen_on(SOCK_STREAM, net->gateway);
}

static void record_drop(size_t i)
{
	free(records[i].names);
	records[i] = records[--n_records];
}

/*
 * One file of networks/.dns read again, as inotify names it: gateway@NET,
 * a network's gateway (listened on while it is there), or ID@NET, a
 * container's names on it (there, or gone). Each change is one file's, so
 * no lookup ever meets a table without a name that did not change.
 */
static void apply(const char *file)
{
	const char *at = strchr(file, '@');
	char path[4400], *text, *sp = NULL, *comma = NULL;
	struct net *net;
	struct in_addr a;
	struct in6_addr a6;
	size_t i;

	if (file[0] == '.' || !at || !(net = net_named(at + 1)))
		return;
	snprintf(path, sizeof(path), "%s/networks/.dns/%s", runroot, file);
	text = read_small(path);
	if (strncmp(file, "gateway@", 8) == 0) {
		char *slash = text ? strchr(text, '/') : NULL;
		int prefix = slash ? atoi(slash + 1) : 32;
		if (slash)
			*slash = '\0';
		net->mask = htonl(prefix > 0 && prefix <= 32 ? ~0u << (32 - prefix) : ~0u);
		if (!text || inet_pton(AF_INET, text, &a) != 1) {
			net_close(net);
			net->gateway = 0;
		} else if (a.s_addr != net->gateway) {
			net_close(net);
			net->gateway = a.s_addr;
		}
		net_listen(net);
		free(text);
		return;
	}
	if (at - file != 64)
		goto out;
	for (i = 0; i < n_records; i++)
		if (records[i].net == net - nets && strncmp(records[i].id, file, 64) == 0)
			break;
	/* "A.B.C.D[,X:X::X] NAMES" */
	if (text && (sp = strchr(text, ' '))) {
		*sp = '\0';
		if ((comma = strchr(text, ',')))
			*comma = '\0';
	}
	if (!text || !sp || inet_pton(AF_INET, text, &a) != 1 ||
	    (comma && inet_pton(AF_INET6, comma + 1, &a6) != 1)) {
		if (i < n_records)
			record_drop(i);
		goto out;
	}
	if (i == n_records) {
		records = realloc(records, (n_records + 1) * sizeof(*records));
		records[n_records++] = (struct record){.net = (int)(net - nets)};
		snprintf(records[i].id, sizeof(records[i].id), "%.64s", file);
	} else {
		free(records[i].names);
	}
	records[i].addr = a.s_addr;
	records[i].has6 = comma != NULL;
	if (comma)
		records[i].addr6 = a6;
	memmove(text, sp + 1, strlen(sp + 1) + 1);
	records[i].names = text;
	return;
out:
	free(text);
}

/* Every file of networks/.dns, at the start (and if inotify lost events). */
static void scan(void)
{
	daemon_scan(runroot, "networks/.dns", apply);
}

/* Whether qname (dotted, no final dot) is one of the record's names, its id's 12 digits included.
 */
static bool record_has(const struct record *r, const char *qname)
{
	const char *p = r->names;

	if (strlen(qname) == 12 && strncasecmp(qname, r->id, 12) == 0)
		return true;
	while (*p) {
		size_t len = strcspn(p, " ");
		if (len == strlen(qname) && strncasecmp(p, qname, len) == 0)
			return true;
		p += len;
		p += strspn(p, " ");
	}
	return false;
}

/* The networks client (on net) is on: those of its records, by its id; or net alone. */
static void client_networks(int net, uint32_t client, bool *on)
{
	const char *id = NULL;

	memset(on, 0, sizeof(bool) * MAX_NETS);
	for (size_t i = 0; i < n_records && !id; i++)
		if (records[i].net == net && records[i].addr == client)
			id = records[i].id;
	on[net] = true;
	for (size_t i = 0; id && i < n_records; i++)
		if (strcmp(records[i].id, id) == 0)
			on[records[i].net] = true;
}

/* The question's name as dotted text; its end (after type and class) in *end. 0 or -1. */
static int question(const unsigned char *q, size_t len, char *name, size_t size, size_t *end,
		    uint16_t *qtype)
{
	size_t i = 12, out = 0;

	if (len < 12 || (q[4] << 8 | q[5]) != 1)
		return -1;
	while (i < len && q[i]) {
		size_t l = q[i];
		if (l > 63 || i + 1 + l > len || out + l + 2 > size)
			return -1;
		if (out)
			name[out++] = '.';
		memcpy(name + out, q + i + 1, l);
		out += l;
		i += 1 + l;
	}
	if (i + 5 > len)
		return -1;
	name[out] = '\0';
	*qtype = (uint16_t)(q[i + 1] << 8 | q[i + 2]);
	*end = i + 5;
	return 0;
}

/*
 * The answer to query (len bytes) from client through net, in out (at most
 * size): 0 and its length in *out_len if the name is ours, else 1 (to be
 * forwarded), or -1 for a query not worth an answer.
 */
static int answer(const unsigned char *q, size_t len, int net, uint32_t client, unsigned char *out,
		  size_t size, size_t *out_len)
{
	bool on[MAX_NETS];
	char name[256];
	uint16_t qtype, count = 0;
	size_t end, o;
	bool ours = false;

	if (question(q, len, name, sizeof(name), &end, &qtype) < 0 || end > size)
		return -1;
	if (name[0] && name[strlen(name) - 1] == '.')
		name[strlen(name) - 1] = '\0';
	client_networks(net, client, on);
	memcpy(out, q, end);
	o = end;
	/* Its own network's addresses first. */
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < n_records; i++) {
			const struct record *r = &records[i];
			if (!on[r->net] || (r->net == net) != (pass == 0) || !record_has(r, name))
				continue;
			ours = true;
			/* The name (a pointer to the question's), type, class IN, TTL 0, length. */
			if ((qtype == 1 /* A */ || qtype == 255 /* ANY */) && o + 16 <= size) {
				unsigned char rr[16] = {0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 0, 0, 4};
				memcpy(rr + 12, &r->addr, 4);
				memcpy(out + o, rr, 16);
				o += 16;
				count++;
			}
			if ((qtype == 28 /* AAAA */ || qtype == 255) && r->has6 && o + 28 <= size) {
				unsigned char rr[28] = {0xc0, 12, 0, 28, 0, 1, 0, 0, 0, 0, 0, 16};
				memcpy(rr + 12, &r->addr6, 16);
				memcpy(out + o, rr, 28);
				o += 28;
				count++;
			}
		}
	if (!ours)
		return 1;
	out[2] = (unsigned char)(0x84 | (q[2] & 0x79)); /* QR, AA, its opcode and RD */
	out[3] = 0x80;					/* RA, NOERROR */
	out[6] = (unsigned char)(count >> 8);
	out[7] = (unsigned char)count;
	memset(out + 8, 0, 4);
	*out_len = o;
	return 0;
}

static void error_reply(const unsigned char *q, size_t len, int rcode, unsigned char *out,
			size_t *out_len)
{
	size_t n = len < 512 ? len : 512;

	memcpy(out, q, n);
	out[2] = (unsigned char)(0x80 | (q[2] & 0x79));
	out[3] = (unsigned char)(0x80 | rcode);
	memset(out + 6, 0, 6);
	*out_len = n;
}

/* A UDP query to the host's first resolver, its id made ours to match the answer. */
static void forward(int sock, const unsigned char *q, size_t len, const struct sockaddr_in *client)
{
	long long now = now_ms();
	unsigned char buf[4096];
	size_t slot = MAX_PENDING;

	for (size_t i = 0; i < MAX_PENDING; i++)
		if (!pending[i].used || pending[i].deadline < now) {
			slot = i;
			break;
		}
	if (!n_upstreams || slot == MAX_PENDING || len > sizeof(buf)) {
		size_t n;
		error_reply(q, len, 2 /* SERVFAIL */, buf, &n);
		sendto(sock, buf, n, 0, (const struct sockaddr *)client, sizeof(*client));
		return;
	}
	memcpy(buf, q, len);
	pending[slot] = (struct pending){.our_id = (uint16_t)(next_id++ ^ (uint16_t)slot),
					 .their_id = (uint16_t)(q[0] << 8 | q[1]),
					 .client = *client,
					 .sock = sock,
					 .deadline = now + FORWARD_TIMEOUT_MS,
					 .used = true};
	buf[0] = (unsigned char)(pending[slot].our_id >> 8);
	buf[1] = (unsigned char)pending[slot].our_id;
	if (sendto(forward_sock, buf, len, 0, (struct sockaddr *)&upstreams[0],
		   sizeof(upstreams[0])) < 0) {
		/* Not reachable from here: said at once, not after the client's timeout. */
		size_t n;
		pending[slot].used = false;
		error_reply(q, len, 2 /* SERVFAIL */, buf, &n);
		sendto(sock, buf, n, 0, (const struct sockaddr *)client, sizeof(*client));
	}
}

static void forward_answer(void)
{
	unsigned char buf[65536];
	struct sockaddr_in6 from;
	socklen_t flen = sizeof(from);
	ssize_t n = recvfrom(forward_sock, buf, sizeof(buf), 0, (struct sockaddr *)&from, &flen);
	uint16_t id;

	/* From the resolver asked, or not at all (a container could aim at this port). */
	if (n < 12 || !n_upstreams || from.sin6_port != upstreams[0].sin6_port ||
	    memcmp(&from.sin6_addr, &upstreams[0].sin6_addr, sizeof(from.sin6_addr)) != 0)
		return;
	id = (uint16_t)(buf[0] << 8 | buf[1]);
	for (size_t i = 0; i < MAX_PENDING; i++) {
		struct pending *p = &pending[i];
		if (!p->used || p->our_id != id)
			continue;
		buf[0] = (unsigned char)(p->their_id >> 8);
		buf[1] = (unsigned char)p->their_id;
		sendto(p->sock, buf, (size_t)n, 0, (struct sockaddr *)&p->client,
		       sizeof(p->client));
		p->used = false;
		return;
	}
}

/* A client of the network's subnet (not one of another network, asking across). */
static bool ours_to_answer(int net, uint32_t client)
{
	return (client & nets[net].mask) == (nets[net].gateway & nets[net].mask);
}

static void on_udp(int net)
{
	unsigned char q[4096], out[4096];
	struct sockaddr_in client;
	socklen_t clen = sizeof(client);
	ssize_t n;
	size_t len;

	while ((n = recvfrom(nets[net].udp, q, sizeof(q), 0, (struct sockaddr *)&client, &clen)) >
	       0) {
		int r = answer(q, (size_t)n, net, client.sin_addr.s_addr, out, 512, &len);
		if (r >= 0 && !ours_to_answer(net, client.sin_addr.s_addr)) {
			error_reply(q, (size_t)n, 5 /* REFUSED */, out, &len);
			r = 0;
		}
		if (r == 0)
			sendto(nets[net].udp, out, len, 0, (struct sockaddr *)&client, clen);
		else if (r == 1)
			forward(nets[net].udp, q, (size_t)n, &client);
		clen = sizeof(client);
	}
}

static bool read_full(int fd, void *buf, size_t len)
{
	for (size_t got = 0; got < len;) {
		ssize_t n = read(fd, (char *)buf + got, len - got);
		if (n <= 0)
			return false;
		got += (size_t)n;
	}
	return true;
}

/* One TCP connection, in a child of its own: its queries answered or passed on, until it ends. */
static void tcp_client(int fd, int net, uint32_t client)
{
	struct timeval tv = {.tv_sec = 5};
	unsigned char q[65536 + 2], out[65536 + 2];
	uint16_t len;
	size_t n;

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	while (read_full(fd, &len, 2) && (len = ntohs(len)) && read_full(fd, q + 2, len)) {
		int r = answer(q + 2, len, net, client, out + 2, 65535, &n), up = -1;
		if (r < 0)
			return;
		if (!ours_to_answer(net, client)) {
			error_reply(q + 2, len, 5 /* REFUSED */, out + 2, &n);
			r = 0;
		}
		if (r == 1) {
			/* The host's first resolver, over TCP too. */
			uint16_t rlen;
			q[0] = (unsigned char)(len >> 8);
			q[1] = (unsigned char)len;
			if (!n_upstreams ||
			    (up = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
			    (setsockopt(up, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)),
			     connect(up, (struct sockaddr *)&upstreams[0], sizeof(upstreams[0])) <
				 0) ||
			    write(up, q, len + 2u) != len + 2 || !read_full(up, &rlen, 2) ||
			    !read_full(up, out + 2, ntohs(rlen))) {
				error_reply(q + 2, len, 2, out + 2, &n);
			} else {
				n = ntohs(rlen);
			}
			if (up >= 0)
				close(up);
		}
		out[0] = (unsigned char)(n >> 8);
		out[1] = (unsigned char)n;
		if (write(fd, out, n + 2) != (ssize_t)(n + 2))
			return;
	}
}

static int tcp_children;

static void on_tcp(int net)
{
	struct sockaddr_in client;
	socklen_t clen = sizeof(client);
	int fd = accept4(nets[net].tcp, (struct sockaddr *)&client, &clen, SOCK_CLOEXEC);
	pid_t pid;

	if (fd < 0)
		return;
	/* So many at once, and no more: a container cannot make us fork without end. */
	if (tcp_children < MAX_TCP_CHILDREN && (pid = fork()) >= 0) {
		if (pid == 0) {
			tcp_client(fd, net, client.sin_addr.s_addr);
			_exit(0);
		}
		tcp_children++;
	}
	close(fd);
}

static bool serving(void)
{
	return n_records > 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {{"runroot", required_argument, NULL, 'R'},
					     {NULL, 0, NULL, 0}};
	struct pollfd p[2 + 2 * MAX_NETS];
	long long idle_since = -1;
	char path[4096];
	int c, lock;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1)
		if (c == 'R')
			runroot = optarg;
	if (!runroot) {
		fprintf(stderr, "usage: hako-dns --runroot DIR (it is run by hakoctl)\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	if ((lock = daemon_lock(runroot, "dns")) < 0)
		return 0; /* one serves already */
	inotify_fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	forward_sock = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (forward_sock >= 0) {
		int off = 0;
		setsockopt(forward_sock, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off));
	}
	snprintf(path, sizeof(path), "%s/networks/.dns", runroot);
	if (inotify_fd < 0 || forward_sock < 0 ||
	    inotify_add_watch(inotify_fd, path,
			      IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE) < 0) {
		perror("hako-dns");
		return 1;
	}
	scan();
	read_upstreams();
	for (;;) {
		size_t np = 2;
		int map[2 * MAX_NETS];

		p[0] = (struct pollfd){.fd = inotify_fd, .events = POLLIN};
		p[1] = (struct pollfd){.fd = forward_sock, .events = POLLIN};
		for (size_t i = 0; i < n_nets; i++) {
			if (nets[i].udp >= 0) {
				map[np - 2] = (int)i;
				p[np++] = (struct pollfd){.fd = nets[i].udp, .events = POLLIN};
			}
			if (nets[i].tcp >= 0) {
				map[np - 2] = (int)i | 0x10000;
				p[np++] = (struct pollfd){.fd = nets[i].tcp, .events = POLLIN};
			}
		}
		/* No container on any network: a while, then gone (hakoctl starts another). */
		if ((c = daemon_idle(runroot, "dns", &lock, &idle_since, serving, scan)) > 0)
			return 0;
		if (c < 0)
			continue;
		if (poll(p, np, n_records ? 1000 : 250) < 0 && errno != EINTR)
			return 1;
		/* Names first: one made before a query came is answered. */
		if (p[0].revents & POLLIN) {
			daemon_events(inotify_fd, apply, scan);
			read_upstreams();
			continue;
		}
		/* The TCP children that are done. */
		while (tcp_children > 0 && waitpid(-1, NULL, WNOHANG) > 0)
			tcp_children--;
		/* Gateways that could not be listened on yet. */
		for (size_t i = 0; i < n_nets; i++)
			net_listen(&nets[i]);
		if (p[1].revents & POLLIN)
			forward_answer();
		for (size_t i = 2; i < np; i++)
			if (p[i].revents & POLLIN) {
				if (map[i - 2] & 0x10000)
					on_tcp(map[i - 2] & 0xffff);
				else
					on_udp(map[i - 2]);
			}
	}
}
