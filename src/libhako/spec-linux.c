/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The "linux" object of config.json: namespaces, id maps, devices, time
 * offsets, sysctls, network devices, memory policy, personality and the
 * rootfs propagation, on spec.c's typed access (spec-internal.h); its
 * resources and seccomp have files of their own.
 */
#include <limits.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <unistd.h>

#include "log.h"
#include "spec-internal.h"
#include "spec.h"
#include "util.h"

static int parse_namespaces(struct spec_ctx *c, struct hk_spec *s, const struct hk_json *lx)
{
	int r;
	struct hk_json *a = spec_get_typed(c, lx, "namespaces", "linux", HK_JSON_ARRAY, &r);

	if (!a)
		return r;
	for (size_t i = 0; i < a->n; i++) {
		struct hk_json *v = a->items[i];
		_cleanup_free_ char *type = NULL, *path = NULL;
		char p[64];
		int k;

		snprintf(p, sizeof(p), "linux.namespaces[%zu]", i);
		if (spec_want_type(c, v, p, HK_JSON_OBJECT) < 0 ||
		    spec_get_string(c, v, "type", p, &type) < 0 ||
		    spec_get_string(c, v, "path", p, &path) < 0)
			return -EINVAL;
		if (!type)
			return spec_bad(c, v, p, "\"type\" is required");
		for (k = 0; k < HK_NS_COUNT; k++)
			if (strcmp(hk_ns_table[k].spec_name, type) == 0)
				break;
		if (k == HK_NS_COUNT)
			return spec_bad(c, v, p, "unsupported namespace type \"%s\"", type);
		if (s->ns[k].enabled)
			return spec_bad(c, v, p, "namespace \"%s\" given twice", type);
		if (path && path[0] != '/')
			return spec_bad(c, v, p, "namespace path \"%s\" is not absolute", path);
		s->ns[k].enabled = true;
		s->ns[k].path = (path && *path) ? TAKE_PTR(path) : NULL;
	}
	return 0;
}

static int parse_idmaps(struct spec_ctx *c, const struct hk_json *lx, const char *key,
			struct hk_idmap **ret, size_t *ret_n)
{
	int r;
	struct hk_json *a = spec_get_typed(c, lx, key, "linux", HK_JSON_ARRAY, &r);

	if (!a)
		return r;
	if (a->n > 340) /* the kernel's limit on lines in uid_map */
		return spec_bad(c, a, key, "more than 340 mappings");
	*ret = calloc(a->n ? a->n : 1, sizeof(**ret));
	for (size_t i = 0; i < a->n; i++) {
		struct hk_json *v = a->items[i];
		long long cid = -1, hid = -1, size = -1;
		char p[64];

		snprintf(p, sizeof(p), "linux.%s[%zu]", key, i);
		if (spec_want_type(c, v, p, HK_JSON_OBJECT) < 0 ||
		    spec_get_int(c, v, "containerID", p, 0, UINT32_MAX - 1, &cid) < 0 ||
		    spec_get_int(c, v, "hostID", p, 0, UINT32_MAX - 1, &hid) < 0 ||
		    spec_get_int(c, v, "size", p, 1, UINT32_MAX, &size) < 0)
			return -EINVAL;
		if (cid < 0 || hid < 0 || size < 0)
			return spec_bad(c, v, p, "containerID, hostID and size are required");
		(*ret)[(*ret_n)++] =
		    (struct hk_idmap){(uint32_t)cid, (uint32_t)hid, (uint32_t)size};
	}
	return 0;
}

static int parse_devices(struct spec_ctx *c, struct hk_spec *s, const struct hk_json *lx)
{
	int r;
	struct hk_json *a = spec_get_typed(c, lx, "devices", "linux", HK_JSON_ARRAY, &r);

	if (!a)
		return r;
	s->devices = calloc(a->n ? a->n : 1, sizeof(*s->devices));
	for (size_t i = 0; i < a->n; i++) {
		struct hk_json *v = a->items[i];
		struct hk_device *d = &s->devices[s->n_devices++];
		_cleanup_free_ char *type = NULL;
		long long x = 0, major = 0, minor = 0;
		char p[64];

		snprintf(p, sizeof(p), "linux.devices[%zu]", i);
		if (spec_want_type(c, v, p, HK_JSON_OBJECT) < 0 ||
		    spec_get_string(c, v, "path", p, &d->path) < 0 ||
		    spec_get_string(c, v, "type", p, &type) < 0 ||
		    spec_get_int(c, v, "major", p, 0, 0xfff, &major) < 0 ||
		    spec_get_int(c, v, "minor", p, 0, 0xfffff, &minor) < 0)
			return -EINVAL;
		d->major = major;
		d->minor = minor;
		if (!d->path || d->path[0] != '/')
			return spec_bad(c, v, p, "\"path\" must be an absolute path");
		if (!type || strlen(type) != 1 || !strchr("cbup", type[0]))
			return spec_bad(c, v, p, "\"type\" must be one of c, b, u, p");
		d->type = type[0];
		if ((r = spec_get_int(c, v, "fileMode", p, 0, 07777, &x)) < 0)
			return r;
		d->has_mode = r > 0;
		d->mode = (mode_t)x;
		if (spec_get_int(c, v, "uid", p, 0, UINT32_MAX - 1, &x) > 0)
			d->uid = (uid_t)x;
		if (spec_get_int(c, v, "gid", p, 0, UINT32_MAX - 1, &x) > 0)
			d->gid = (gid_t)x;
	}
	return 0;
}

static int parse_time_offsets(struct spec_ctx *c, struct hk_spec *s, const struct hk_json *lx)
{
	int r;
	struct hk_json *t = spec_get_typed(c, lx, "timeOffsets", "linux", HK_JSON_OBJECT, &r);
	static const char *const clocks[] = {"monotonic", "boottime"};

	if (!t)
		return r;
	s->has_time_offsets = true;
	for (int i = 0; i < 2; i++) {
		struct hk_time_offset *o = i == 0 ? &s->monotonic : &s->boottime;
		struct hk_json *v =
		    spec_get_typed(c, t, clocks[i], "linux.timeOffsets", HK_JSON_OBJECT, &r);
		char p[64];
		long long x;

		if (r < 0)
			return r;
		if (!v)
			continue;
		snprintf(p, sizeof(p), "linux.timeOffsets.%s", clocks[i]);
		if (spec_get_int(c, v, "secs", p, INT64_MIN / 2, INT64_MAX / 2, &x) < 0)
			return -EINVAL;
		o->secs = x;
		x = 0;
		if (spec_get_int(c, v, "nanosecs", p, 0, 999999999, &x) < 0)
			return -EINVAL;
		o->nanosecs = x;
	}
	return 0;
}

/*
 * Only sysctls of a namespace the container has are allowed (runc's rule):
 * the System V IPC and mqueue ones with an ipc namespace, net.* with a
 * network namespace, kernel.domainname with a uts namespace. The rest are
 * the host's.
 */
static int sysctl_namespace(const char *key, const struct hk_spec *s)
{
	static const char *const ipc[] = {"kernel.msgmax", "kernel.msgmnb",	    "kernel.msgmni",
					  "kernel.sem",	   "kernel.shmall",	    "kernel.shmmax",
					  "kernel.shmmni", "kernel.shm_rmid_forced"};

	for (size_t i = 0; i < ARRAY_SIZE(ipc); i++)
		if (strcmp(key, ipc[i]) == 0)
			return s->ns[HK_NS_IPC].enabled ? 0 : -1;
	if (strncmp(key, "fs.mqueue.", 10) == 0)
		return s->ns[HK_NS_IPC].enabled ? 0 : -1;
	if (strncmp(key, "net.", 4) == 0)
		return s->ns[HK_NS_NET].enabled ? 0 : -1;
	if (strcmp(key, "kernel.domainname") == 0)
		return s->ns[HK_NS_UTS].enabled ? 0 : -1;
	return -1;
}

static int parse_sysctl(struct spec_ctx *c, struct hk_spec *s, const struct hk_json *lx)
{
	int r;
	struct hk_json *o = spec_get_typed(c, lx, "sysctl", "linux", HK_JSON_OBJECT, &r);

	if (!o)
		return r;
	s->sysctl = hk_xmalloc((o->n + 1) * sizeof(char *));
	for (size_t i = 0; i < o->n; i++) {
		struct hk_buf b = HK_BUF_INIT;
		char p[300];

		snprintf(p, sizeof(p), "linux.sysctl.%s", o->keys[i]);
		s->sysctl[i] = NULL;
		if (spec_want_type(c, o->items[i], p, HK_JSON_STRING) < 0)
			return -EINVAL;
		if (strchr(o->keys[i], '/') || strstr(o->keys[i], ".."))
			return spec_bad(c, o->items[i], p, "invalid sysctl name");
		if (sysctl_namespace(o->keys[i], s) < 0)
			return spec_bad(c, o->items[i], p,
					"not in a namespace of the container's own: it would "
					"change the host");
		hk_buf_addf(&b, "%s=%s", o->keys[i], o->items[i]->text);
		s->sysctl[i] = hk_buf_detach(&b);
		s->sysctl[i + 1] = NULL;
	}
	s->sysctl[o->n] = NULL;
	return 0;
}

/* A name the kernel takes for an interface (its dev_valid_name()); ':' is
 * not one of them, so "host:container" names a move unambiguously. */
static bool valid_ifname(const char *n)
{
	return *n && strlen(n) < IFNAMSIZ && strcmp(n, ".") && strcmp(n, "..") &&
	       !strpbrk(n, "/: \t\n\r\v\f");
}

/* linux.netDevices (1.3): {"host name": {"name": "name in the container"}}. */
static int parse_net_devices(struct spec_ctx *c, struct hk_spec *s, const struct hk_json *lx)
{
	int r;
	struct hk_json *o = spec_get_typed(c, lx, "netDevices", "linux", HK_JSON_OBJECT, &r);

	if (!o)
		return r;
	if (o->n && !s->ns[HK_NS_NET].enabled)
		return spec_bad(c, o, "linux.netDevices",
				"moving devices needs a network namespace of the container's");
	s->net_devices = hk_xmalloc((o->n + 1) * sizeof(char *));
	memset(s->net_devices, 0, (o->n + 1) * sizeof(char *));
	for (size_t i = 0; i < o->n; i++) {
		_cleanup_free_ char *name = NULL;
		char p[300];

		snprintf(p, sizeof(p), "linux.netDevices.%s", o->keys[i]);
		if (spec_want_type(c, o->items[i], p, HK_JSON_OBJECT) < 0 ||
		    spec_get_string(c, o->items[i], "name", p, &name) < 0)
			return -EINVAL;
		if (!name || !*name) {
			free(name);
			name = hk_xstrdup(o->keys[i]);
		}
		if (!valid_ifname(o->keys[i]))
			return spec_bad(c, o->items[i], p, "not a network interface name");
		if (!valid_ifname(name))
			return spec_bad(c, o->items[i], p, "\"%s\" is not a network interface name",
					name);
		for (size_t k = 0; k < i; k++)
			if (!strcmp(strchr(s->net_devices[k], ':') + 1, name))
				return spec_bad(c, o->items[i], p, "a second device called \"%s\"",
						name);
		s->net_devices[i] = hk_xmalloc(strlen(o->keys[i]) + strlen(name) + 2);
		sprintf(s->net_devices[i], "%s:%s", o->keys[i], name);
	}
	return 0;
}

/* A node list ("0-3,7") into a set_mempolicy(2) mask. */
static int parse_nodes(const char *text, unsigned long *mask, size_t bits)
{
	const char *p = text;

	while (*p) {
		char *end;
		unsigned long a = strtoul(p, &end, 10), b = a;

		if (end == p)
			return -EINVAL;
		if (*end == '-') {
			p = end + 1;
			b = strtoul(p, &end, 10);
			if (end == p || b < a)
				return -EINVAL;
		}
		if (b >= bits)
			return -ERANGE;
		for (unsigned long n = a; n <= b; n++)
			mask[n / (8 * sizeof(long))] |= 1UL << (n % (8 * sizeof(long)));
		if (*end == ',')
			end++;
		else if (*end)
			return -EINVAL;
		p = end;
	}
	return 0;
}

/* linux.memoryPolicy (runtime-spec 1.3): set_mempolicy(2)'s mode, nodes and flags. */
static int parse_memory_policy(struct spec_ctx *c, struct hk_spec *s, const struct hk_json *lx)
{
	/* Indexed by the kernel's numbers (linux/mempolicy.h). */
	static const char *const modes[] = {
	    "MPOL_DEFAULT",
	    "MPOL_PREFERRED",
	    "MPOL_BIND",
	    "MPOL_INTERLEAVE",
	    "MPOL_LOCAL",
	    "MPOL_PREFERRED_MANY",
	    "MPOL_WEIGHTED_INTERLEAVE",
	};
	static const char *const flag_names[] = {"MPOL_F_NUMA_BALANCING", "MPOL_F_RELATIVE_NODES",
						 "MPOL_F_STATIC_NODES"};
	static const char path[] = "linux.memoryPolicy";
	int r, k;
	struct hk_json *o = spec_get_typed(c, lx, "memoryPolicy", "linux", HK_JSON_OBJECT, &r);
	_cleanup_free_ char *mode = NULL, *nodes = NULL;
	_cleanup_strv_free_ char **flags = NULL;

	if (!o)
		return r;
	if (spec_get_string(c, o, "mode", path, &mode) < 0 ||
	    spec_get_string(c, o, "nodes", path, &nodes) < 0 ||
	    spec_get_strv(c, o, "flags", path, &flags) < 0)
		return -EINVAL;
	if (!mode)
		return spec_bad(c, o, path, "\"mode\" is required");
	if ((k = spec_name_index(modes, ARRAY_SIZE(modes), mode)) < 0)
		return spec_bad(c, hk_json_get(o, "mode"), "linux.memoryPolicy.mode",
				"unknown mode \"%s\"", mode);
	s->mempolicy_mode = k;
	for (char **f = flags; f && *f; f++) {
		if ((k = spec_name_index(flag_names, ARRAY_SIZE(flag_names), *f)) < 0)
			return spec_bad(c, hk_json_get(o, "flags"), "linux.memoryPolicy.flags",
					"unknown flag \"%s\"", *f);
		s->mempolicy_mode |= 1 << (13 + k); /* MPOL_F_NUMA_BALANCING is 1 << 13 */
	}
	if (nodes && *nodes && (r = parse_nodes(nodes, s->mempolicy_nodes, HK_MEMPOLICY_NODES)) < 0)
		return spec_bad(c, hk_json_get(o, "nodes"), "linux.memoryPolicy.nodes",
				r == -ERANGE ? "\"%s\": a node past %d"
					     : "\"%s\": not a node list "
					       "(\"0-3,7\")",
				nodes, HK_MEMPOLICY_NODES - 1);
	s->has_mempolicy = true;
	return 0;
}

/* linux.personality: the execution domain; no flags are defined yet. */
static int parse_personality(struct spec_ctx *c, struct hk_spec *s, const struct hk_json *lx)
{
	static const char path[] = "linux.personality";
	int r;
	struct hk_json *o = spec_get_typed(c, lx, "personality", "linux", HK_JSON_OBJECT, &r);
	_cleanup_free_ char *domain = NULL;
	_cleanup_strv_free_ char **flags = NULL;

	if (!o)
		return r;
	if (spec_get_string(c, o, "domain", path, &domain) < 0 ||
	    spec_get_strv(c, o, "flags", path, &flags) < 0)
		return -EINVAL;
	if (!domain)
		return spec_bad(c, o, path, "\"domain\" is required");
	if (strcmp(domain, "LINUX") == 0)
		s->personality = PER_LINUX;
	else if (strcmp(domain, "LINUX32") == 0)
		s->personality = PER_LINUX32;
	else
		return spec_bad(c, hk_json_get(o, "domain"), "linux.personality.domain",
				"unknown domain \"%s\" (LINUX or LINUX32)", domain);
	if (flags && flags[0])
		return spec_bad(c, hk_json_get(o, "flags"), "linux.personality.flags",
				"unknown flag \"%s\": the runtime spec defines none", flags[0]);
	s->has_personality = true;
	return 0;
}

int spec_parse_linux(struct spec_ctx *c, struct hk_spec *s, const struct hk_json *root)
{
	int r;
	struct hk_json *lx = spec_get_typed(c, root, "linux", "", HK_JSON_OBJECT, &r);
	_cleanup_free_ char *prop = NULL;
	struct hk_json *rdt;

	if (!lx)
		return r;
	/* Intel RDT is the resctrl filesystem's: say whether this host has one. */
	rdt = hk_json_get(lx, "intelRdt");
	if (rdt && rdt->type != HK_JSON_NULL)
		return spec_bad(c, rdt, "linux.intelRdt", "%s",
				access("/sys/fs/resctrl/info", F_OK) < 0
				    ? "needs the resctrl filesystem (Intel RDT or AMD QoS) at "
				      "/sys/fs/resctrl, which this host does not have"
				    : "resctrl is not supported by this version of hako");
	if (parse_namespaces(c, s, lx) < 0 ||
	    parse_idmaps(c, lx, "uidMappings", &s->uid_mappings, &s->n_uid_mappings) < 0 ||
	    parse_idmaps(c, lx, "gidMappings", &s->gid_mappings, &s->n_gid_mappings) < 0 ||
	    parse_devices(c, s, lx) < 0 || spec_parse_resources(c, s, lx) < 0 ||
	    spec_parse_seccomp(c, &s->seccomp, lx) < 0 || parse_time_offsets(c, s, lx) < 0 ||
	    parse_sysctl(c, s, lx) < 0 || parse_personality(c, s, lx) < 0 ||
	    parse_memory_policy(c, s, lx) < 0 || parse_net_devices(c, s, lx) < 0 ||
	    spec_get_string(c, lx, "mountLabel", "linux", &s->mount_label) < 0 ||
	    spec_get_string(c, lx, "cgroupsPath", "linux", &s->cgroups_path) < 0 ||
	    spec_get_strv(c, lx, "maskedPaths", "linux", &s->masked_paths) < 0 ||
	    spec_get_strv(c, lx, "readonlyPaths", "linux", &s->readonly_paths) < 0 ||
	    spec_get_string(c, lx, "rootfsPropagation", "linux", &prop) < 0)
		return -EINVAL;
	for (int k = 0; k < 2; k++) {
		char **v = k ? s->readonly_paths : s->masked_paths;
		const char *key = k ? "readonlyPaths" : "maskedPaths";
		for (size_t i = 0; v && v[i]; i++)
			if (v[i][0] != '/')
				return spec_bad(c, hk_json_get(lx, key), "linux",
						"%s[%zu]: \"%s\" is not an absolute path", key, i,
						v[i]);
	}
	if (prop) {
		s->rootfs_propagation = spec_parse_propagation(prop);
		if (!s->rootfs_propagation)
			return spec_bad(c, hk_json_get(lx, "rootfsPropagation"),
					"linux.rootfsPropagation", "unknown propagation \"%s\"",
					prop);
	}
	return 0;
}
