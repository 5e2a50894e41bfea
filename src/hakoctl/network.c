// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * --network hako (docker's "bridge", the default) or networks of one's own
 * (network create): a container's networks, set up by hakoctl before the
 * runtime runs, as the tutorials do it by hand:
 *
 * 1. on the host: each network's bridge (hako0 with the gateway 10.88.0.1/16
 *    for the default one), up, and IPv4 forwarding on (net/link.c);
 * 2. an address leased on each (net/ipam.c), under the run dir, and its
 *    published ports put in hakoctl's nftables maps (net/nft.c);
 * 3. unshare(CLONE_NEWNET): from here hakoctl is in the container's new
 *    network namespace, and so are the runtime and the monitor it starts;
 *    the runtime joins it by path (/proc/self/ns/net, its own), and it
 *    lives as long as the container's monitor (or the hakoctl of a
 *    foreground run) does, through restarts;
 * 4. a veth pair to each bridge: hk<id> (hk<id>-N) on the host, eth0
 *    (ethN) made in the new namespace directly, with its address, and a
 *    default route through the first network's gateway;
 * 5. /etc/hosts, /etc/hostname and /etc/resolv.conf, written in the bundle
 *    and bound over the image's; on a network of one's own, its names for
 *    hako-dns (net/dns.c), which this starts if none runs.
 *
 * When the namespace goes, the kernel removes the veth pairs; what is left
 * to do is the ports, the leases and the names, which the monitor (or the
 * foreground hakoctl) gives back, as the bundle records them.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "commands.h"
#include "network-internal.h"
#include "container.h"
#include "fsutil.h"
#include "json.h"
#include "log.h"
#include "netlink.h"
#include "network.h"
#include "nft.h"
#include "ports.h"
#include "runtime.h"
#include "util.h"

bool ctl_network_bridged(const char *mode)
{
	return mode && *mode && strcmp(mode, "none") != 0 && strcmp(mode, "host") != 0 &&
	       strncmp(mode, "container:", 10) != 0;
}

/* The networks a mode names ("hako", "front,back"), each found, the first the one of its ports. */
static int find_networks(struct hk_store *s, const char *mode, struct hk_network *nets,
			 size_t *ret_n, struct hk_error *err)
{
	_cleanup_free_ char *copy = hk_xstrdup(mode);
	size_t n = 0;
	int r;

	for (char *save = NULL, *name = strtok_r(copy, ",", &save); name;
	     name = strtok_r(NULL, ",", &save)) {
		if (n == CTL_MAX_NETWORKS)
			return hk_error_setx(err, -E2BIG, "--network %s: at most %d networks", mode,
					     CTL_MAX_NETWORKS);
		if ((r = hk_network_find(s->dirfd, name, &nets[n], err)) < 0)
			return hk_error_prefix(err, "--network \"%s\"", name);
		for (size_t i = 0; i < n; i++)
			if (strcmp(nets[i].name, nets[n].name) == 0)
				return hk_error_setx(err, -EINVAL, "--network %s: %s twice", mode,
						     nets[n].name);
		n++;
	}
	if (!n)
		return hk_error_setx(err, -EINVAL, "--network \"%s\": no network named", mode);
	*ret_n = n;
	return 0;
}

/* The run dir's networks/ (sub "") or networks/<sub>, made if missing: an fd to read it. */
static int networks_dir(const struct ctl_globals *g, const char *sub, struct hk_error *err)
{
	char path[PATH_MAX];
	int fd;

	snprintf(path, sizeof(path), "%s/networks%s%s", ctl_run_dir(g), *sub ? "/" : "", sub);
	if (hk_mkdir_p(path, 0700, err) < 0)
		return err->code;
	if ((fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return hk_error_set(err, -errno, "%s", path);
	return fd;
}

/*
 * The lock of all networks (the run dir's networks/), held from the table's
 * check to the ports, and while the table is made again: a table made again
 * by another hakoctl would drop ports put in between.
 */
int ctl_net_lock(const struct ctl_globals *g, struct hk_error *err)
{
	int fd = networks_dir(g, "", err);

	if (fd >= 0 && flock(fd, LOCK_EX) < 0) {
		close(fd);
		return hk_error_set(err, -errno, "lock %s/networks", ctl_run_dir(g));
	}
	return fd;
}

/* The leases' dir of network n, made if missing. */
int ctl_net_leases_dir(const struct ctl_globals *g, const struct hk_network *n,
		       struct hk_error *err)
{
	return networks_dir(g, n->name, err);
}

/* Each container with a bundle (running, created, or being made), by its id. */
void ctl_net_each_bundle(const struct ctl_globals *g, void (*fn)(const char *id, void *arg),
			 void *arg)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *d;

	snprintf(path, sizeof(path), "%s/bundles", ctl_run_dir(g));
	if (!(d = opendir(path)))
		return;
	while ((de = readdir(d)))
		if (strlen(de->d_name) == HK_CTR_ID_LEN)
			fn(de->d_name, arg);
	closedir(d);
}

struct port_list {
	const struct ctl_globals *g;
	struct hk_nft_port_of *v;
	size_t n;
};

static void add_ports_of(const char *id, void *arg)
{
	struct port_list *l = arg;
	_cleanup_free_ struct hk_attachment *at = NULL;
	_cleanup_free_ struct hk_port *p = NULL;
	size_t n_at, n = 0;

	/* Not those a crash left (system gc's): their ports may be another's now. */
	if (ctl_net_stale(id, (void *)ctl_run_dir(l->g)))
		return;
	hk_net_bundle_attachments(ctl_run_dir(l->g), id, &at, &n_at);
	if (!n_at || hk_net_bundle_port_list(ctl_run_dir(l->g), id, &p, &n) < 0 || !n)
		return;
	l->v = hk_xrealloc(l->v, (l->n + n) * sizeof(*l->v));
	for (size_t k = 0; k < n; k++, l->n++) {
		l->v[l->n].port = p[k];
		snprintf(l->v[l->n].addr, sizeof(l->v[l->n].addr), "%s", at[0].addr);
		snprintf(l->v[l->n].addr6, sizeof(l->v[l->n].addr6), "%s", at[0].addr6);
	}
}

/*
 * Another table's forward chain with a drop policy (docker's iptables
 * FORWARD) drops the containers' packets whatever ours accepts, and
 * hakoctl never touches other tables: said, with what lets them through.
 */
static void forward_blockers_warn(void)
{
	struct hk_buf b = HK_BUF_INIT;

	if (hk_nft_forward_blockers(&b))
		hk_warn("nftables: the forward chain %s drops what it does not accept (its "
			"policy is drop): the containers' packets to and from outside their "
			"network are dropped there, and hakoctl leaves other tables alone. Let "
			"its bridges through there, for docker's: iptables -I DOCKER-USER -i "
			"hako+ -j ACCEPT; iptables -I DOCKER-USER -o hako+ -m conntrack --ctstate "
			"RELATED,ESTABLISHED -j ACCEPT (for firewalld: firewall-cmd "
			"--zone=trusted --add-interface=hako0)",
			b.buf);
	hk_buf_release(&b);
}

/*
 * hakoctl's table made again whole (it is replaced, in one transaction):
 * every network, and the ports of every live container whose bundle
 * records some (a created container's too). Under ctl_net_lock.
 */
int ctl_net_table_build(const struct ctl_globals *g, struct hk_store *s, size_t *ret_ports,
			struct hk_error *err)
{
	_cleanup_free_ char *helper = ctl_beside_self("hako-nft");
	_cleanup_free_ struct hk_network *nets = NULL;
	struct port_list ports = {.g = g};
	struct hk_buf b = HK_BUF_INIT;
	size_t n_nets;
	int r;

	if ((r = hk_network_list(s->dirfd, &nets, &n_nets, err)) < 0)
		return r;
	ctl_net_each_bundle(g, add_ports_of, &ports);
	hk_nft_ruleset(&b, nets, n_nets, ports.v, ports.n);
	free(ports.v);
	r = hk_nft_apply(helper, -1, b.buf, b.len, err);
	hk_buf_release(&b);
	if (r < 0)
		return hk_error_prefix(err, "nftables: table inet %s", HK_NFT_TABLE);
	hk_debug("nftables: table inet %s made (%zu network(s), %zu port(s))", HK_NFT_TABLE, n_nets,
		 ports.n);
	forward_blockers_warn();
	if (ret_ports)
		*ret_ports = ports.n;
	return 0;
}

/*
 * The NAT of the networks (hakoctl's nftables table, net/nft.h), made when
 * it is missing: after a boot, or after `nft flush ruleset`.
 */
int ctl_net_nat_ensure(const struct ctl_globals *g, struct hk_store *s, struct hk_error *err)
{
	int r = hk_nft_table_exists(err);

	return r != 0 ? (r < 0 ? r : 0) : ctl_net_table_build(g, s, NULL, err);
}

/* The table made again if it is there (a network made or removed); if not, the next start makes it.
 */
int ctl_net_table_update(const struct ctl_globals *g, struct hk_store *s, struct hk_error *err)
{
	_cleanup_close_ int lock = -1;
	int r;

	if ((r = lock = ctl_net_lock(g, err)) < 0 || (r = hk_nft_table_exists(err)) <= 0)
		return r;
	return ctl_net_table_build(g, s, NULL, err);
}

/* A lease is stale once its container has neither a watcher nor a process. */
bool ctl_net_stale(const char *id, void *arg)
{
	const char *runroot = arg;

	return hk_ctr_live_watcher(runroot, id) == 0 && hk_ctr_live_init(runroot, id) == 0;
}

int ctl_host_netns = -1;

void ctl_network_release(const struct ctl_globals *g, const char *id)
{
	hk_net_release(ctl_run_dir(g), id, ctl_host_netns, false);
}

/*
 * The host's nameservers that a container can reach (not the host's
 * loopback ones), or those of --dns, or ours (hako-dns at the gateway of
 * its first network of the user's own, when it is on one); the host's
 * search and options.
 */
static void write_resolv_conf(struct hk_buf *b, const char *const *dns, const char *ours)
{
	char line[512];
	FILE *f = fopen("/etc/resolv.conf", "re");

	hk_buf_adds(b, "# written by hakoctl: the host's resolvers (not those on its loopback), "
		       "--dns, or hakoctl's name server of the container's network\n");
	while (f && fgets(line, sizeof(line), f)) {
		char *p = line + strspn(line, " \t");
		if (strncmp(p, "nameserver", 10) == 0) {
			char *a = p + 10 + strspn(p + 10, " \t");
			if (dns || ours || strncmp(a, "127.", 4) == 0 || strncmp(a, "::1", 3) == 0)
				continue;
		}
		if (*p != '#')
			hk_buf_adds(b, p);
	}
	if (f)
		fclose(f);
	for (size_t i = 0; dns && dns[i]; i++)
		hk_buf_addf(b, "nameserver %s\n", dns[i]);
	if (!dns && ours)
		hk_buf_addf(b, "nameserver %s\n", ours);
}

int ctl_host_mntns = -1;

/* How long publish waits for hako-proxy to listen on a container's ports. */
#define PROXY_WAIT_MS 2000

/*
 * hako-NAME (hako-dns, hako-proxy) started, unless one serves this run dir
 * already (its lock, networks/.NAME.lock, is held): in the host's
 * namespaces (we may have left them for the container's), a session of its
 * own, nothing of ours.
 */
static void daemon_ensure(const struct ctl_globals *g, const char *name)
{
	char path[PATH_MAX], exe_name[32];
	_cleanup_free_ char *exe = NULL;
	int fd, status;
	pid_t pid;

	snprintf(path, sizeof(path), "%s/networks/.%s.lock", ctl_run_dir(g), name);
	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0)
		return;
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		close(fd);
		return;
	}
	close(fd);
	snprintf(exe_name, sizeof(exe_name), "hako-%s", name);
	exe = ctl_beside_self(exe_name);
	if ((pid = fork()) < 0)
		return;
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR | O_CLOEXEC);
		if ((ctl_host_mntns >= 0 && setns(ctl_host_mntns, CLONE_NEWNS) < 0) ||
		    (ctl_host_netns >= 0 && setns(ctl_host_netns, CLONE_NEWNET) < 0) ||
		    setsid() < 0 || null < 0)
			_exit(1);
		if (fork() != 0)
			_exit(0);
		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
		syscall(SYS_close_range, 3, ~0U, 0);
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		if (chdir("/") == 0)
			execl(exe, exe, "--runroot", ctl_run_dir(g), (char *)NULL);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	hk_debug("%s started for %s", exe_name, ctl_run_dir(g));
}

/*
 * Its published ports: each free on the host (a bind() to it), then all of
 * them in the maps in one transaction, which fails if another container
 * has one. Recorded in the bundle, one element a line, for their release.
 * With an IPv6 address, those not bound to an address are hako-proxy's on
 * the host's ::1 too, which no DNAT reaches.
 */
static int publish(const struct ctl_globals *g, const char *id, int bundlefd,
		   const struct hk_attachment *at, const struct hk_port *ports, size_t n,
		   struct hk_error *err)
{
	struct hk_buf b = HK_BUF_INIT;
	char elem[48];
	int r;

	for (size_t i = 0; i < n; i++) {
		if ((r = hk_port_check_free(&ports[i], err)) < 0)
			goto out;
		hk_buf_addf(&b, "%s\n", hk_port_element(&ports[i], elem));
	}
	if ((r = hk_write_atomic_at(bundlefd, "ports", b.buf, b.len, err)) < 0)
		goto out;
	if ((r = hk_nft_ports(-1, true, at->addr, at->addr6, ports, n, err)) < 0) {
		unlinkat(bundlefd, "ports", 0);
		if (r == -EEXIST)
			r = hk_error_setx(err, -EADDRINUSE,
					  "-p: a port of these is published by "
					  "another container already");
		goto out;
	}
	hk_debug("nftables: %zu port(s) of %s%s%s published (NEWSETELEM in ports4, ports4_at%s)", n,
		 at->addr, at->addr6[0] ? " and " : "", at->addr6, at->addr6[0] ? ", ports6" : "");
	if (at->addr6[0]) {
		_cleanup_close_ int ino = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
		r = hk_net_proxy_write(ctl_run_dir(g), id, at->addr6, ports, n, &ino, err);
		if (r < 0)
			goto out; /* the caller's release takes the elements back */
		if (r > 0) {
			hk_debug("hako-proxy: the ports on [::1] (networks/" HK_NET_PROXY "/%.12s)",
				 id);
			daemon_ensure(g, "proxy");
			/*
			 * Served when we return, as the DNAT's are: a client
			 * of [::1]:PORT right after `run -d -p` is not refused.
			 */
			if (ino < 0)
				hk_debug("no inotify: hako-proxy not waited for");
			else if (hk_net_proxy_wait(ino, id, PROXY_WAIT_MS) < 0)
				hk_warn("-p: after %d ms, hako-proxy does not listen on [::1] for "
					"these ports yet",
					PROXY_WAIT_MS);
			else
				hk_debug(
				    "hako-proxy listens on [::1] for them (it touched its file)");
		}
		r = 0;
	}
out:
	hk_buf_release(&b);
	return r;
}

/*
 * A file that hakoctls starting containers at once all write, the same:
 * left as it is when it says that already, else replaced through a
 * temporary file of our own (hk_write_atomic_at's one name would be
 * another's too).
 */
static int write_shared(int dirfd, const char *name, const char *text, struct hk_error *err)
{
	char tmp[256], now[64] = "";
	int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, now, sizeof(now) - 1) : -1;

	if (fd >= 0)
		close(fd);
	if (n >= 0 && (now[n] = '\0', strcmp(now, text) == 0))
		return 0;
	snprintf(tmp, sizeof(tmp), ".%s.%d.tmp", name, (int)getpid());
	if ((fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0)
		return hk_error_set(err, -errno, "%s", tmp);
	n = write(fd, text, strlen(text));
	close(fd);
	if (n != (ssize_t)strlen(text) || renameat(dirfd, tmp, dirfd, name) < 0) {
		int e = n != (ssize_t)strlen(text) ? (n < 0 ? errno : EIO) : errno;
		unlinkat(dirfd, tmp, 0);
		return hk_error_set(err, -e, "%s", name);
	}
	return 0;
}

int ctl_network_names(const struct ctl_globals *g, struct hk_store *s, const char *id,
		      const char *name, const char *const *aliases, struct hk_error *err)
{
	_cleanup_free_ struct hk_attachment *at = NULL;
	_cleanup_close_ int dirfd = -1;
	char path[PATH_MAX], file[160], gw[24], text[16];
	struct hk_network n;
	struct hk_ctr rec = {0};
	bool any = false;
	size_t n_at;
	int r = 0;

	hk_net_bundle_attachments(ctl_run_dir(g), id, &at, &n_at);
	snprintf(path, sizeof(path), "%s/networks/" HK_NET_NAMES, ctl_run_dir(g));
	for (size_t i = 0; i < n_at; i++) {
		struct hk_buf b = HK_BUF_INIT;

		/* The default network has no names, as docker's bridge. */
		if (hk_network_is_default(at[i].network))
			continue;
		if ((r = hk_network_find(s->dirfd, at[i].network, &n, err)) < 0)
			goto out;
		/* Its name: its record's, now that it has one (looked up once, when needed). */
		if (!name) {
			if ((r = hk_ctr_find(s, ctl_run_dir(g), id, &rec, err)) < 0)
				goto out;
			name = rec.name;
		}
		if (dirfd < 0 && ((r = hk_mkdir_p(path, 0700, err)) < 0 ||
				  (dirfd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)) {
			r = r < 0 ? r : hk_error_set(err, -errno, "%s", path);
			goto out;
		}
		/* Its gateway and prefix: hako-dns answers clients of its subnet only. */
		snprintf(file, sizeof(file), "gateway@%s", n.name);
		snprintf(gw, sizeof(gw), "%s/%d", hk_ipv4_text(n.gateway, text), n.prefix);
		if ((r = write_shared(dirfd, file, gw, err)) < 0)
			goto out;
		hk_buf_addf(&b, "%s%s%s %s", at[i].addr, at[i].addr6[0] ? "," : "", at[i].addr6,
			    name);
		for (size_t k = 0; aliases && aliases[k]; k++)
			hk_buf_addf(&b, " %s", aliases[k]);
		hk_buf_adds(&b, "\n");
		snprintf(file, sizeof(file), "%s@%s", id, n.name);
		r = hk_write_atomic_at(dirfd, file, b.buf, b.len, err);
		hk_buf_release(&b);
		if (r < 0)
			goto out;
		hk_debug("hako-dns: %s is %s on network %s", name, at[i].addr, n.name);
		any = true;
	}
	if (any)
		daemon_ensure(g, "dns");
out:
	hk_ctr_free(&rec);
	return r;
}

/* A bind mount of the bundle's file name over /etc/name, in config's mounts. */
static void bind_etc(struct hk_json *config, const char *bundle, const char *name)
{
	struct hk_json *m = hk_json_push(hk_json_child(config, "mounts", HK_JSON_ARRAY),
					 hk_json_new(HK_JSON_OBJECT));
	char src[PATH_MAX], dst[64];
	struct hk_json *opts;

	snprintf(src, sizeof(src), "%s/%s", bundle, name);
	snprintf(dst, sizeof(dst), "/etc/%s", name);
	hk_json_set(m, "destination", hk_json_new_string(dst));
	hk_json_set(m, "type", hk_json_new_string("bind"));
	hk_json_set(m, "source", hk_json_new_string(src));
	opts = hk_json_set(m, "options", hk_json_new(HK_JSON_ARRAY));
	hk_json_push(opts, hk_json_new_string("bind"));
	hk_json_push(opts, hk_json_new_string("nosuid"));
	hk_json_push(opts, hk_json_new_string("nodev"));
}

static bool parse_mac(const char *text, unsigned char mac[6])
{
	unsigned v[6];
	char end;

	if (sscanf(text, "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
		   &end) != 6)
		return false;
	for (int i = 0; i < 6; i++)
		mac[i] = (unsigned char)v[i];
	/* A unicast address: the multicast bit clear, and not all zeros. */
	return !(mac[0] & 1) && (v[0] | v[1] | v[2] | v[3] | v[4] | v[5]);
}

int ctl_net_opts_check(const struct ctl_net_opts *o, struct hk_error *err)
{
	bool bridged = ctl_network_bridged(o->mode);
	unsigned char mac[6];
	struct in_addr a;
	struct in6_addr a6;

	if (!bridged && (o->ip || o->ip6 || o->mac || o->n_ports || o->aliases))
		return hk_error_setx(
		    err, -EINVAL, "%s with --network %s: it is for a container on a network (hako)",
		    o->ip	 ? "--ip"
		    : o->ip6	 ? "--ip6"
		    : o->mac	 ? "--mac-address"
		    : o->n_ports ? "-p"
				 : "--network-alias",
		    o->mode);
	if (o->ip && inet_pton(AF_INET, o->ip, &a) != 1)
		return hk_error_setx(err, -EINVAL, "--ip \"%s\": not an IPv4 address", o->ip);
	if (o->ip6 && inet_pton(AF_INET6, o->ip6, &a6) != 1)
		return hk_error_setx(err, -EINVAL, "--ip6 \"%s\": not an IPv6 address", o->ip6);
	if (o->mac && !parse_mac(o->mac, mac))
		return hk_error_setx(err, -EINVAL,
				     "--mac-address \"%s\": six hex bytes, such as "
				     "92:d0:c6:0a:29:33, and unicast",
				     o->mac);
	for (size_t i = 0; o->dns && o->dns[i]; i++)
		if (inet_pton(AF_INET, o->dns[i], &a) != 1 &&
		    inet_pton(AF_INET6, o->dns[i], &a6) != 1)
			return hk_error_setx(err, -EINVAL, "--dns \"%s\": not an IP address",
					     o->dns[i]);
	for (size_t i = 0; o->aliases && o->aliases[i]; i++)
		if (!hk_ctr_name_valid(o->aliases[i]))
			return hk_error_setx(
			    err, -EINVAL,
			    "--network-alias \"%s\": a name is letters, digits and "
			    "\"_.-\", and starts with a letter or digit",
			    o->aliases[i]);
	for (size_t i = 0; o->hosts && o->hosts[i]; i++) {
		const char *colon = strchr(o->hosts[i], ':');
		if (!colon || colon == o->hosts[i] ||
		    strcspn(o->hosts[i], " \t\n") < strlen(o->hosts[i]) ||
		    (inet_pton(AF_INET, colon + 1, &a) != 1 &&
		     inet_pton(AF_INET6, colon + 1, &a6) != 1))
			return hk_error_setx(err, -EINVAL,
					     "--add-host \"%s\": NAME:IP, such as db:10.88.0.5",
					     o->hosts[i]);
	}
	return 0;
}

/* --ip: an address of n's subnet that a container can have. */
static int ip_check(const struct hk_network *n, const char *ip, uint32_t *ret, struct hk_error *err)
{
	struct in_addr a;
	uint32_t addr;
	char subnet[20];

	inet_pton(AF_INET, ip, &a);
	addr = ntohl(a.s_addr);
	if (!hk_net_host_address(n, addr) || addr == n->gateway)
		return hk_error_setx(err, -EINVAL,
				     "--ip %s: not an address of network %s's subnet %s that a "
				     "container can have",
				     ip, n->name, hk_network_subnet_text(n, subnet));
	*ret = addr;
	return 0;
}

/* --ip6: an address of n's IPv6 subnet that a container can have. */
static int ip6_check(const struct hk_network *n, const char *ip6, struct in6_addr *ret,
		     struct hk_error *err)
{
	char subnet[50];

	inet_pton(AF_INET6, ip6, ret);
	if (!hk_net_ipv6_available())
		return hk_error_setx(err, -ENOTSUP,
				     "--ip6 %s: IPv6 is off on this host "
				     "(net.ipv6.conf.all.disable_ipv6)",
				     ip6);
	if (!n->prefix6)
		return hk_error_setx(err, -EINVAL,
				     "--ip6 %s: network %s has no IPv6 subnet (network create "
				     "--ipv6)",
				     ip6, n->name);
	if (!hk_net_host_address6(n, ret) || memcmp(ret, &n->gateway6, sizeof(*ret)) == 0)
		return hk_error_setx(err, -EINVAL,
				     "--ip6 %s: not an address of network %s's subnet %s that a "
				     "container can have",
				     ip6, n->name, hk_network_subnet6_text(n, subnet));
	return 0;
}

static struct hk_json *strv_or_empty(const char *const *v)
{
	return v ? hk_json_new_strv(v) : hk_json_new(HK_JSON_ARRAY);
}

struct hk_json *ctl_net_opts_json(const struct ctl_net_opts *o)
{
	struct hk_json *j = hk_json_new(HK_JSON_OBJECT);

	if (o->ip)
		hk_json_set(j, "IPAddress", hk_json_new_string(o->ip));
	if (o->ip6)
		hk_json_set(j, "GlobalIPv6Address", hk_json_new_string(o->ip6));
	if (o->mac)
		hk_json_set(j, "MacAddress", hk_json_new_string(o->mac));
	hk_json_set(j, "Dns", strv_or_empty(o->dns));
	hk_json_set(j, "ExtraHosts", strv_or_empty(o->hosts));
	hk_json_set(j, "Aliases", strv_or_empty(o->aliases));
	return j;
}

static const char **strv_of(const struct hk_json *a)
{
	const char **v;
	size_t k = 0;

	if (!a || a->type != HK_JSON_ARRAY || !a->n)
		return NULL;
	v = hk_xrealloc(NULL, (a->n + 1) * sizeof(*v));
	for (size_t i = 0; i < a->n; i++)
		if (a->items[i]->type == HK_JSON_STRING)
			v[k++] = a->items[i]->text;
	v[k] = NULL;
	return v;
}

void ctl_net_opts_from_json(const struct hk_json *cfg, struct ctl_net_opts *o)
{
	o->ip = hk_json_get_string(cfg, "IPAddress");
	o->ip6 = hk_json_get_string(cfg, "GlobalIPv6Address");
	o->mac = hk_json_get_string(cfg, "MacAddress");
	o->dns = strv_of(hk_json_get(cfg, "Dns"));
	o->hosts = strv_of(hk_json_get(cfg, "ExtraHosts"));
	o->aliases = strv_of(hk_json_get(cfg, "Aliases"));
}

void ctl_net_opts_release(struct ctl_net_opts *o)
{
	free((void *)o->dns);
	free((void *)o->hosts);
	free((void *)o->aliases);
}

/* Its network namespace, which the runtime joins by path. */
static void netns_path(struct hk_json *config, const char *path)
{
	struct hk_json *ns = hk_json_get(hk_json_get(config, "linux"), "namespaces");

	for (size_t i = 0; ns && i < ns->n; i++) {
		const char *type = hk_json_get_string(ns->items[i], "type");
		if (type && strcmp(type, "network") == 0)
			hk_json_set(ns->items[i], "path", hk_json_new_string(path));
	}
}

/* The one it runs in: ours, from here on. */
static void join_our_netns(struct hk_json *config)
{
	netns_path(config, "/proc/self/ns/net");
}

/* The bind mounts of bundle's /etc files in config's mounts taken out (a start again). */
static void unbind_etc(struct hk_json *config)
{
	struct hk_json *m = hk_json_get(config, "mounts");

	for (size_t i = m ? m->n : 0; i-- > 0;) {
		const char *dst = hk_json_get_string(m->items[i], "destination");
		if (dst && (strcmp(dst, "/etc/hosts") == 0 || strcmp(dst, "/etc/hostname") == 0 ||
			    strcmp(dst, "/etc/resolv.conf") == 0))
			hk_json_remove(m, i);
	}
}

int ctl_network_join(const struct ctl_globals *g, struct hk_store *s, const char *mode,
		     struct hk_json *config, const char **ret_id, struct hk_error *err)
{
	static char id[HK_CTR_ID_LEN + 1];
	char path[PATH_MAX];
	struct hk_ctr c = {0};
	int r;

	if (strncmp(mode, "container:", 10) != 0)
		return 0;
	if ((r = hk_ctr_find(s, ctl_run_dir(g), mode + 10, &c, err)) < 0)
		return hk_error_prefix(err, "--network %s", mode);
	if (c.status != HK_CTR_RUNNING || c.init <= 0) {
		r = hk_error_setx(err, -EINVAL, "--network %s: container %s is not running", mode,
				  c.name);
		goto out;
	}
	/* Its namespace, and the /etc files of its network (hosts, resolv.conf). */
	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)c.init);
	netns_path(config, path);
	unbind_etc(config);
	snprintf(path, sizeof(path), "%s/bundles/%s/hosts", ctl_run_dir(g), c.id);
	if (access(path, F_OK) == 0) {
		*strrchr(path, '/') = '\0';
		bind_etc(config, path, "hosts");
		bind_etc(config, path, "resolv.conf");
	}
	snprintf(id, sizeof(id), "%s", c.id);
	if (ret_id)
		*ret_id = id;
	hk_debug("--network %s: the network namespace of %.12s (pid %d)", mode, c.id, (int)c.init);
out:
	hk_ctr_free(&c);
	return r;
}

/* The host's end of a container's veth pair on its i-th network: hk<id>, hk<id>-1... */
void ctl_net_veth_name(char buf[16], const char *id, int i)
{
	if (i == 0)
		snprintf(buf, 16, "hk%.12s", id);
	else
		snprintf(buf, 16, "hk%.10s-%u", id, (unsigned)i % 100);
}

/* Its network's MTU: the network's own, or the uplink's (0: the kernel's). */
int ctl_net_lease(const struct ctl_globals *g, int leases, const struct hk_network *n,
		  const char *id, uint32_t want, const struct in6_addr *want6,
		  struct hk_attachment *ret, uint32_t *ip, struct in6_addr *ip6,
		  struct hk_error *err)
{
	void *runroot = (void *)ctl_run_dir(g);
	int r;

	if ((r = hk_ipam_lease(leases, n, id, want, ctl_net_stale, runroot, ip, err)) < 0)
		return r;
	_Static_assert(sizeof(ret->network) == sizeof(n->name), "a network's name");
	memcpy(ret->network, n->name, sizeof(ret->network));
	hk_ipv4_text(*ip, ret->addr);
	ret->addr6[0] = '\0';
	if (n->prefix6) {
		/* The same host part as its IPv4 address, unless --ip6 or taken. */
		if ((r = hk_ipam_lease6(leases, n, id, want6, *ip - n->subnet, ctl_net_stale,
					runroot, ip6, err)) < 0) {
			hk_ipam_release(leases, ret->addr, id);
			return r;
		}
		hk_ipv6_text(ip6, ret->addr6);
	}
	hk_debug("network %s: %s %s leased to %.12s", n->name, ret->addr, ret->addr6, id);
	return 0;
}

int ctl_net_mtu(const struct hk_network *n, int host_nl, int *uplink)
{
	if (n->mtu)
		return n->mtu;
	if (*uplink < 0)
		*uplink = hk_net_uplink_mtu(host_nl);
	return *uplink;
}

int ctl_network_setup(const struct ctl_globals *g, struct hk_store *s, const char *id,
		      const struct ctl_net_opts *o, int bundlefd, const char *bundle,
		      struct hk_json *config, struct hk_error *err)
{
	struct hk_network nets[CTL_MAX_NETWORKS];
	int bridge[CTL_MAX_NETWORKS], mtu[CTL_MAX_NETWORKS], uplink = -1;
	uint32_t ip[CTL_MAX_NETWORKS], want = 0;
	struct in6_addr ip6[CTL_MAX_NETWORKS], want6;
	_cleanup_close_ int host_nl = -1, ns_nl = -1, ns = -1, lock = -1;
	const char *hostname = o->hostname ? o->hostname : "localhost";
	struct hk_attachment at[CTL_MAX_NETWORKS];
	struct hk_buf b = HK_BUF_INIT;
	char host_name[16];
	unsigned char mac[6];
	size_t n = 0;
	int r = 0;

	if (!ctl_network_bridged(o->mode))
		return 0;
	if ((r = ctl_net_opts_check(o, err)) < 0 ||
	    (r = find_networks(s, o->mode, nets, &n, err)) < 0 ||
	    (o->ip && (r = ip_check(&nets[0], o->ip, &want, err)) < 0))
		return r;
	if (!hk_net_ipv6_available()) {
		hk_debug("IPv6 is off on the host (net.ipv6.conf.all.disable_ipv6): IPv4 only");
		for (size_t i = 0; i < n; i++)
			nets[i].prefix6 = 0;
	}
	if (o->ip6 && (r = ip6_check(&nets[0], o->ip6, &want6, err)) < 0)
		return r;
	if (o->n_ports && nets[0].internal)
		return hk_error_setx(err, -EINVAL,
				     "-p: network %s is internal: nothing from outside it reaches "
				     "its containers",
				     nets[0].name);
	if (o->mac)
		parse_mac(o->mac, mac);
	if ((host_nl = hk_ns_socket(-1, AF_NETLINK, SOCK_RAW, NETLINK_ROUTE, err)) < 0)
		return host_nl;
	for (size_t i = 0; i < n; i++) {
		mtu[i] = ctl_net_mtu(&nets[i], host_nl, &uplink);
		if ((r = hk_net_bridge_ensure(host_nl, &nets[i], mtu[i], &bridge[i], err)) < 0)
			return r;
	}
	/* Under the networks' lock from the table's check to the ports (ctl_net_lock). */
	if ((r = lock = ctl_net_lock(g, err)) < 0 || (r = ctl_net_nat_ensure(g, s, err)) < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		_cleanup_close_ int leases = ctl_net_leases_dir(g, &nets[i], err);
		if ((r = leases) < 0 ||
		    (r = ctl_net_lease(g, leases, &nets[i], id, i == 0 ? want : 0,
				       i == 0 && o->ip6 ? &want6 : NULL, &at[i], &ip[i], &ip6[i],
				       err)) < 0)
			goto fail;
		snprintf(at[i].ifname, sizeof(at[i].ifname), "eth%zu", i);
		/* Recorded at once: from here on, a failure gives back what the bundle says. */
		if ((r = hk_net_bundle_attachments_write(bundlefd, at, i + 1, i + 1, err)) < 0)
			goto fail;
	}
	if (o->n_ports && (r = publish(g, id, bundlefd, &at[0], o->ports, o->n_ports, err)) < 0)
		goto fail;
	close(lock);
	lock = -1;
	/* The host's namespace is kept, for the release of the ports from the container's. */
	if ((ctl_host_netns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC)) < 0) {
		r = hk_error_set(err, -errno, "/proc/self/ns/net");
		goto fail;
	}
	if (unshare(CLONE_NEWNET) < 0) {
		r = hk_error_set(err, -errno, "unshare(CLONE_NEWNET)");
		goto fail;
	}
	hk_debug("unshare(CLONE_NEWNET): we, the runtime and the container are in its network "
		 "namespace");
	if ((ns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC)) < 0) {
		r = hk_error_set(err, -errno, "/proc/self/ns/net");
		goto fail;
	}
	if ((r = ns_nl = hk_ns_socket(-1, AF_NETLINK, SOCK_RAW, NETLINK_ROUTE, err)) < 0)
		goto fail;
	for (size_t i = 0; i < n; i++) {
		ctl_net_veth_name(host_name, id, (int)i);
		/* The default route through the first network, unless it is internal. */
		if ((r = hk_net_attach(host_nl, bridge[i], ns, ns_nl, host_name, at[i].ifname,
				       &nets[i], ip[i], nets[i].prefix6 ? &ip6[i] : NULL,
				       i == 0 && !nets[i].internal, i == 0 && o->mac ? mac : NULL,
				       mtu[i], err)) < 0)
			goto fail;
	}
	/* Its names: its own, and the host's resolvers. */
	hk_buf_adds(&b, "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n");
	for (size_t i = 0; i < n; i++) {
		hk_buf_addf(&b, "%s\t%s\n", at[i].addr, hostname);
		if (at[i].addr6[0])
			hk_buf_addf(&b, "%s\t%s\n", at[i].addr6, hostname);
	}
	for (size_t i = 0; o->hosts && o->hosts[i]; i++) {
		const char *colon = strchr(o->hosts[i], ':');
		hk_buf_addf(&b, "%s\t%.*s\n", colon + 1, (int)(colon - o->hosts[i]), o->hosts[i]);
	}
	if ((r = hk_write_atomic_at(bundlefd, "hosts", b.buf, b.len, err)) < 0)
		goto fail;
	b.len = 0;
	hk_buf_addf(&b, "%s\n", hostname);
	if ((r = hk_write_atomic_at(bundlefd, "hostname", b.buf, b.len, err)) < 0)
		goto fail;
	b.len = 0;
	{
		/* Its first network of the user's own answers for names. */
		const char *ours = NULL;
		for (size_t i = 0; i < n && !ours; i++)
			if (!hk_network_is_default(nets[i].name))
				ours = hk_ipv4_text(nets[i].gateway, host_name);
		write_resolv_conf(&b, o->dns, ours);
	}
	if ((r = hk_write_atomic_at(bundlefd, "resolv.conf", b.buf, b.len, err)) < 0)
		goto fail;
	hk_buf_release(&b);
	if (config) {
		bind_etc(config, bundle, "hosts");
		bind_etc(config, bundle, "hostname");
		bind_etc(config, bundle, "resolv.conf");
		join_our_netns(config);
	}
	hk_debug("network %s: eth0 %s/%d, gateway %s", nets[0].name, at[0].addr, nets[0].prefix,
		 hk_ipv4_text(nets[0].gateway, host_name));
	return 0;
fail:
	hk_buf_release(&b);
	/* What the bundle says, and a lease made but not recorded yet. */
	hk_net_release(ctl_run_dir(g), id, ctl_host_netns, true);
	/* Given back: nothing for the caller's release to give back again. */
	unlinkat(bundlefd, "ports", 0);
	unlinkat(bundlefd, "networks", 0);
	return r;
}

int ctl_record_ports(const struct hk_json *rec, struct hk_port **v, size_t *n, struct hk_error *err)
{
	const struct hk_json *p = hk_json_get(rec, "PortSpecs");
	int r;

	for (size_t i = 0; p && p->type == HK_JSON_ARRAY && i < p->n; i++)
		if (p->items[i]->type == HK_JSON_STRING &&
		    (r = hk_ports_parse(p->items[i]->text, v, n, err)) < 0)
			return r;
	return 0;
}

/*
 * hakoctl port CONTAINER [PORT[/PROTO]]: its published ports, as docker
 * lists them: those not bound to an address on [::] too, when the
 * container has an IPv6 address for them.
 */
int ctl_port(const struct ctl_globals *g, int argc, char **argv, struct hk_error *err)
{
	_cleanup_free_ struct hk_port *ports = NULL;
	_cleanup_free_ struct hk_attachment *at = NULL;
	struct hk_ctr c = {0};
	struct hk_store s;
	size_t n = 0, n_at = 0;
	char want[16] = "", ip[16];
	int r;

	if (argc < 2 || argc > 3 || argv[1][0] == '-')
		return hk_error_setx(err, -EINVAL, "port: expected CONTAINER [PORT[/PROTO]]");
	if (argc == 3)
		snprintf(want, sizeof(want), "%s%s", argv[2], strchr(argv[2], '/') ? "" : "/tcp");
	if ((r = ctl_store_open(g, &s, err)) < 0)
		return r;
	if ((r = hk_ctr_find(&s, ctl_run_dir(g), argv[1], &c, err)) < 0)
		goto out;
	if ((r = ctl_record_ports(c.record, &ports, &n, err)) < 0)
		goto out;
	hk_net_bundle_attachments(ctl_run_dir(g), c.id, &at, &n_at);
	for (size_t i = 0; i < n; i++) {
		bool v6 = n_at && at[0].addr6[0] && !ports[i].host_ip;
		char priv[16];
		snprintf(priv, sizeof(priv), "%u/%s", ports[i].ctr_port,
			 hk_port_proto_name(&ports[i]));
		if (*want && strcmp(want, priv) != 0)
			continue;
		for (int six = 0; six <= v6; six++)
			printf("%s%s%s:%u\n", *want ? "" : priv, *want ? "" : " -> ",
			       six ? "[::]" : hk_ipv4_text(ports[i].host_ip, ip),
			       ports[i].host_port);
	}
	r = 0;
out:
	hk_ctr_free(&c);
	hk_store_close(&s);
	return r;
}
