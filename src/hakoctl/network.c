// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * --network hako (docker's "bridge"): the container's network, set up by
 * hakoctl before the runtime runs, as the tutorials do it by hand:
 *
 * 1. on the host: the bridge hako0 with the gateway 10.88.0.1/16, up, and
 *    IPv4 forwarding on (net/link.c);
 * 2. an address leased for the container (net/ipam.c), under the run dir;
 * 3. unshare(CLONE_NEWNET): from here hakoctl is in the container's new
 *    network namespace, and so are the runtime and the monitor it starts;
 *    the runtime joins it by path (/proc/self/ns/net, its own), and it
 *    lives as long as the container's monitor (or the hakoctl of a
 *    foreground run) does, through restarts;
 * 4. a veth pair: hk<id> on the bridge, eth0 made in the new namespace
 *    directly, with the address and a default route through the gateway;
 * 5. /etc/hosts, /etc/hostname and /etc/resolv.conf, written in the bundle
 *    and bound over the image's.
 *
 * When the namespace goes, the kernel removes the veth pair; what is left
 * to do is the lease, which the monitor (or the foreground hakoctl) gives
 * back.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "commands.h"
#include "container.h"
#include "fsutil.h"
#include "json.h"
#include "log.h"
#include "netlink.h"
#include "network.h"
#include "nft.h"
#include "runtime.h"
#include "util.h"

bool ctl_network_bridged(const char *mode)
{
	return mode && (strcmp(mode, "hako") == 0 || strcmp(mode, "bridge") == 0);
}

/* The leases' dir of network n, made if missing. */
static int leases_dir(const struct ctl_globals *g, const struct hk_network *n, struct hk_error *err)
{
	char path[PATH_MAX];
	int fd;

	snprintf(path, sizeof(path), "%s/networks/%s", ctl_run_dir(g), n->name);
	if (hk_mkdir_p(path, 0700, err) < 0)
		return err->code;
	if ((fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
		return hk_error_set(err, -errno, "%s", path);
	return fd;
}

/*
 * The NAT of the network (hakoctl's nftables table, net/nft.h), made when it
 * is missing: after a boot, or after `nft flush ruleset`.
 */
static int nat_ensure(const struct hk_network *n, struct hk_error *err)
{
	_cleanup_free_ char *exe = ctl_beside_self("hako-nft");
	char subnet[32], text[16];
	int r, status;
	pid_t pid;

	if ((r = hk_nft_table_exists(err)) != 0)
		return r < 0 ? r : 0;
	snprintf(subnet, sizeof(subnet), "%s/%d", hk_ipv4_text(n->subnet, text), n->prefix);
	char *const argv[] = {exe, subnet, NULL};
	if ((r = posix_spawnp(&pid, exe, NULL, NULL, argv, environ)) != 0)
		return hk_error_set(err, -r, "%s", exe);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return hk_error_set(err, -errno, "waitpid");
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return hk_error_setx(err, -EIO,
				     "network %s: hako-nft could not make the table "
				     "inet " HK_NFT_TABLE " (see above)",
				     n->name);
	hk_debug("nftables: table inet %s made (masquerade of %s)", HK_NFT_TABLE, subnet);
	return 0;
}

/* A lease is stale once its container has neither a watcher nor a process. */
static bool lease_stale(const char *id, void *arg)
{
	const char *runroot = arg;

	return hk_ctr_live_watcher(runroot, id) == 0 && hk_ctr_live_init(runroot, id) == 0;
}

void ctl_network_release(const struct ctl_globals *g, const char *id, const char *addr)
{
	struct hk_error err = {0};
	_cleanup_close_ int fd = -1;

	if (!addr || !*addr)
		return;
	if ((fd = leases_dir(g, &hk_network_default, &err)) < 0) {
		hk_error_clear(&err);
		return;
	}
	hk_ipam_release(fd, addr, id);
}

/* The host's nameservers that a container can reach: not the host's loopback ones. */
static void write_resolv_conf(struct hk_buf *b)
{
	char line[512];
	FILE *f = fopen("/etc/resolv.conf", "re");

	hk_buf_adds(b, "# written by hakoctl: the host's resolv.conf, but nameservers on its "
		       "loopback\n");
	while (f && fgets(line, sizeof(line), f)) {
		char *p = line + strspn(line, " \t");
		if (strncmp(p, "nameserver", 10) == 0) {
			char *a = p + 10 + strspn(p + 10, " \t");
			if (strncmp(a, "127.", 4) == 0 || strncmp(a, "::1", 3) == 0)
				continue;
		}
		if (*p != '#')
			hk_buf_adds(b, p);
	}
	if (f)
		fclose(f);
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

/* Its network namespace: the runtime joins the one it runs in (ours, from here on). */
static void join_our_netns(struct hk_json *config)
{
	struct hk_json *ns = hk_json_get(hk_json_get(config, "linux"), "namespaces");

	for (size_t i = 0; ns && i < ns->n; i++) {
		const char *type = hk_json_get_string(ns->items[i], "type");
		if (type && strcmp(type, "network") == 0)
			hk_json_set(ns->items[i], "path", hk_json_new_string("/proc/self/ns/net"));
	}
}

int ctl_network_setup(const struct ctl_globals *g, const char *mode, const char *id,
		      const char *hostname, int bundlefd, const char *bundle,
		      struct hk_json *config, char addr[16], struct hk_error *err)
{
	const struct hk_network *n = &hk_network_default;
	_cleanup_close_ int host_nl = -1, ns_nl = -1, ns = -1, leases = -1;
	struct hk_buf b = HK_BUF_INIT;
	char host_name[16], gw[16];
	uint32_t ip;
	int bridge, r = 0;

	addr[0] = '\0';
	if (!ctl_network_bridged(mode))
		return 0;
	if ((host_nl = hk_ns_socket(-1, AF_NETLINK, SOCK_RAW, NETLINK_ROUTE, err)) < 0 ||
	    (r = hk_net_bridge_ensure(host_nl, n, &bridge, err)) < 0 ||
	    (r = nat_ensure(n, err)) < 0 || (r = leases = leases_dir(g, n, err)) < 0 ||
	    (r = hk_ipam_lease(leases, n, id, lease_stale, (void *)ctl_run_dir(g), &ip, err)) < 0)
		return r;
	hk_ipv4_text(ip, addr);
	hk_debug("network %s: %s leased to %.12s", n->name, addr, id);
	if (unshare(CLONE_NEWNET) < 0) {
		r = hk_error_set(err, -errno, "unshare(CLONE_NEWNET)");
		goto fail;
	}
	hk_debug("unshare(CLONE_NEWNET): we, the runtime and the container are in its network "
		 "namespace");
	snprintf(host_name, sizeof(host_name), "hk%.12s", id);
	if ((ns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC)) < 0) {
		r = hk_error_set(err, -errno, "/proc/self/ns/net");
		goto fail;
	}
	if ((r = ns_nl = hk_ns_socket(-1, AF_NETLINK, SOCK_RAW, NETLINK_ROUTE, err)) < 0 ||
	    (r = hk_net_attach(host_nl, bridge, ns, ns_nl, host_name, n, ip, err)) < 0)
		goto fail;
	/* Its names: its own, and the host's resolvers. */
	hk_buf_addf(&b, "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n%s\t%s\n",
		    addr, hostname);
	if ((r = hk_write_atomic_at(bundlefd, "hosts", b.buf, b.len, err)) < 0)
		goto fail;
	b.len = 0;
	hk_buf_addf(&b, "%s\n", hostname);
	if ((r = hk_write_atomic_at(bundlefd, "hostname", b.buf, b.len, err)) < 0)
		goto fail;
	b.len = 0;
	write_resolv_conf(&b);
	if ((r = hk_write_atomic_at(bundlefd, "resolv.conf", b.buf, b.len, err)) < 0)
		goto fail;
	hk_buf_release(&b);
	/* For its monitor, which gives the lease back when the container is done. */
	if ((r = hk_write_atomic_at(bundlefd, "address", addr, strlen(addr), err)) < 0)
		goto fail;
	if (config) {
		bind_etc(config, bundle, "hosts");
		bind_etc(config, bundle, "hostname");
		bind_etc(config, bundle, "resolv.conf");
		join_our_netns(config);
	}
	hk_debug("network %s: eth0 %s/%d, gateway %s", n->name, addr, n->prefix,
		 hk_ipv4_text(n->gateway, gw));
	return 0;
fail:
	hk_buf_release(&b);
	hk_ipam_release(leases, addr, id);
	addr[0] = '\0';
	return r;
}
