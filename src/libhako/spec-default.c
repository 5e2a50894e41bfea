/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The config.json that `hako spec` writes: the same defaults runc gives, so
 * that a bundle made for one runtime behaves the same under the other. It is
 * built as a JSON tree (json.h), which hakoctl starts from too and changes
 * with an image's config and its command line.
 */
#include <stdio.h>

#include "json.h"
#include "spec.h"
#include "util.h"

#define STRV(...) ((const char *const[]){__VA_ARGS__, NULL})

static void add_mount(struct hk_json *mounts, const char *dest, const char *type,
		      const char *source, const char *const *options)
{
	struct hk_json *m = hk_json_push(mounts, hk_json_new(HK_JSON_OBJECT));

	hk_json_set(m, "destination", hk_json_new_string(dest));
	hk_json_set(m, "type", hk_json_new_string(type));
	hk_json_set(m, "source", hk_json_new_string(source));
	if (options)
		hk_json_set(m, "options", hk_json_new_strv(options));
}

static void add_idmap(struct hk_json *lx, const char *key, unsigned host_id)
{
	struct hk_json *m =
	    hk_json_push(hk_json_child(lx, key, HK_JSON_ARRAY), hk_json_new(HK_JSON_OBJECT));

	hk_json_set(m, "containerID", hk_json_new_int(0));
	hk_json_set(m, "hostID", hk_json_new_int(host_id));
	hk_json_set(m, "size", hk_json_new_int(1));
}

static struct hk_json *process(void)
{
	static const char *const caps[] = {"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE",
					   NULL};
	static const char *const sets[] = {"bounding", "effective", "permitted", "ambient"};
	struct hk_json *p = hk_json_new(HK_JSON_OBJECT), *user, *c, *rl;

	hk_json_set(p, "terminal", hk_json_new_bool(true));
	user = hk_json_set(p, "user", hk_json_new(HK_JSON_OBJECT));
	hk_json_set(user, "uid", hk_json_new_int(0));
	hk_json_set(user, "gid", hk_json_new_int(0));
	hk_json_set(p, "args", hk_json_new_strv(STRV("sh")));
	hk_json_set(p, "env",
		    hk_json_new_strv(
			STRV("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
			     "TERM=xterm")));
	hk_json_set(p, "cwd", hk_json_new_string("/"));
	c = hk_json_set(p, "capabilities", hk_json_new(HK_JSON_OBJECT));
	for (size_t i = 0; i < ARRAY_SIZE(sets); i++)
		hk_json_set(c, sets[i], hk_json_new_strv(caps));
	rl = hk_json_push(hk_json_set(p, "rlimits", hk_json_new(HK_JSON_ARRAY)),
			  hk_json_new(HK_JSON_OBJECT));
	hk_json_set(rl, "type", hk_json_new_string("RLIMIT_NOFILE"));
	hk_json_set(rl, "hard", hk_json_new_int(1024));
	hk_json_set(rl, "soft", hk_json_new_int(1024));
	hk_json_set(p, "noNewPrivileges", hk_json_new_bool(true));
	return p;
}

struct hk_json *hk_spec_default_tree(bool rootless, uid_t uid, gid_t gid)
{
	struct hk_json *c = hk_json_new(HK_JSON_OBJECT), *root, *mounts, *lx, *ns;
	const char *const *kinds = rootless
				       ? STRV("pid", "ipc", "uts", "mount", "cgroup", "user")
				       : STRV("pid", "network", "ipc", "uts", "mount", "cgroup");

	hk_json_set(c, "ociVersion", hk_json_new_string("1.2.0"));
	hk_json_set(c, "process", process());
	root = hk_json_set(c, "root", hk_json_new(HK_JSON_OBJECT));
	hk_json_set(root, "path", hk_json_new_string("rootfs"));
	hk_json_set(root, "readonly", hk_json_new_bool(true));
	hk_json_set(c, "hostname", hk_json_new_string("hako"));

	mounts = hk_json_set(c, "mounts", hk_json_new(HK_JSON_ARRAY));
	add_mount(mounts, "/proc", "proc", "proc", NULL);
	add_mount(mounts, "/dev", "tmpfs", "tmpfs",
		  STRV("nosuid", "strictatime", "mode=755", "size=65536k"));
	/* gid=5 (tty) only where that group is mapped. */
	add_mount(mounts, "/dev/pts", "devpts", "devpts",
		  rootless ? STRV("nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620")
			   : STRV("nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620",
				  "gid=5"));
	add_mount(mounts, "/dev/shm", "tmpfs", "shm",
		  STRV("nosuid", "noexec", "nodev", "mode=1777", "size=65536k"));
	add_mount(mounts, "/dev/mqueue", "mqueue", "mqueue", STRV("nosuid", "noexec", "nodev"));
	if (rootless) {
		/* Without a network namespace of its own, sysfs cannot be mounted: bind it. */
		add_mount(mounts, "/sys", "none", "/sys",
			  STRV("rbind", "nosuid", "noexec", "nodev", "ro"));
	} else {
		add_mount(mounts, "/sys", "sysfs", "sysfs",
			  STRV("nosuid", "noexec", "nodev", "ro"));
		add_mount(mounts, "/sys/fs/cgroup", "cgroup", "cgroup",
			  STRV("nosuid", "noexec", "nodev", "relatime", "ro"));
	}

	lx = hk_json_set(c, "linux", hk_json_new(HK_JSON_OBJECT));
	if (rootless) {
		add_idmap(lx, "uidMappings", (unsigned)uid);
		add_idmap(lx, "gidMappings", (unsigned)gid);
	} else {
		struct hk_json *deny =
		    hk_json_push(hk_json_child(hk_json_child(lx, "resources", HK_JSON_OBJECT),
					       "devices", HK_JSON_ARRAY),
				 hk_json_new(HK_JSON_OBJECT));
		hk_json_set(deny, "allow", hk_json_new_bool(false));
		hk_json_set(deny, "access", hk_json_new_string("rwm"));
	}
	ns = hk_json_set(lx, "namespaces", hk_json_new(HK_JSON_ARRAY));
	for (; *kinds; kinds++)
		hk_json_set(hk_json_push(ns, hk_json_new(HK_JSON_OBJECT)), "type",
			    hk_json_new_string(*kinds));
	hk_json_set(
	    lx, "maskedPaths",
	    hk_json_new_strv(STRV("/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys",
				  "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats",
				  "/proc/sched_debug", "/sys/firmware", "/proc/scsi")));
	hk_json_set(lx, "readonlyPaths",
		    hk_json_new_strv(STRV("/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
					  "/proc/sysrq-trigger")));
	return c;
}

char *hk_spec_default(bool rootless, uid_t uid, gid_t gid)
{
	struct hk_json *c = hk_spec_default_tree(rootless, uid, gid);
	struct hk_buf b = HK_BUF_INIT;

	hk_json_write_pretty(&b, c);
	hk_json_free(c);
	return hk_buf_detach(&b);
}
