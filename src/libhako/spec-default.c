/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The config.json that `hako spec` writes: the same defaults runc gives, so
 * that a bundle made for one runtime behaves the same under the other.
 */
#include <stdio.h>

#include "spec.h"
#include "util.h"

static const char default_head[] =
    "{\n"
    "\t\"ociVersion\": \"1.2.0\",\n"
    "\t\"process\": {\n"
    "\t\t\"terminal\": true,\n"
    "\t\t\"user\": {\"uid\": 0, \"gid\": 0},\n"
    "\t\t\"args\": [\"sh\"],\n"
    "\t\t\"env\": [\n"
    "\t\t\t\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\",\n"
    "\t\t\t\"TERM=xterm\"\n"
    "\t\t],\n"
    "\t\t\"cwd\": \"/\",\n"
    "\t\t\"capabilities\": {\n"
    "\t\t\t\"bounding\": [\"CAP_AUDIT_WRITE\", \"CAP_KILL\", \"CAP_NET_BIND_SERVICE\"],\n"
    "\t\t\t\"effective\": [\"CAP_AUDIT_WRITE\", \"CAP_KILL\", \"CAP_NET_BIND_SERVICE\"],\n"
    "\t\t\t\"permitted\": [\"CAP_AUDIT_WRITE\", \"CAP_KILL\", \"CAP_NET_BIND_SERVICE\"],\n"
    "\t\t\t\"ambient\": [\"CAP_AUDIT_WRITE\", \"CAP_KILL\", \"CAP_NET_BIND_SERVICE\"]\n"
    "\t\t},\n"
    "\t\t\"rlimits\": [{\"type\": \"RLIMIT_NOFILE\", \"hard\": 1024, \"soft\": 1024}],\n"
    "\t\t\"noNewPrivileges\": true\n"
    "\t},\n"
    "\t\"root\": {\"path\": \"rootfs\", \"readonly\": true},\n"
    "\t\"hostname\": \"hako\",\n"
    "\t\"mounts\": [\n"
    "\t\t{\"destination\": \"/proc\", \"type\": \"proc\", \"source\": \"proc\"},\n"
    "\t\t{\"destination\": \"/dev\", \"type\": \"tmpfs\", \"source\": \"tmpfs\",\n"
    "\t\t \"options\": [\"nosuid\", \"strictatime\", \"mode=755\", \"size=65536k\"]},\n";

static const char devpts_root[] =
    "\t\t{\"destination\": \"/dev/pts\", \"type\": \"devpts\", \"source\": \"devpts\",\n"
    "\t\t \"options\": [\"nosuid\", \"noexec\", \"newinstance\", \"ptmxmode=0666\", "
    "\"mode=0620\", \"gid=5\"]},\n";
static const char devpts_rootless[] =
    "\t\t{\"destination\": \"/dev/pts\", \"type\": \"devpts\", \"source\": \"devpts\",\n"
    "\t\t \"options\": [\"nosuid\", \"noexec\", \"newinstance\", \"ptmxmode=0666\", "
    "\"mode=0620\"]},\n";

static const char shm_mqueue[] =
    "\t\t{\"destination\": \"/dev/shm\", \"type\": \"tmpfs\", \"source\": \"shm\",\n"
    "\t\t \"options\": [\"nosuid\", \"noexec\", \"nodev\", \"mode=1777\", \"size=65536k\"]},\n"
    "\t\t{\"destination\": \"/dev/mqueue\", \"type\": \"mqueue\", \"source\": \"mqueue\",\n"
    "\t\t \"options\": [\"nosuid\", \"noexec\", \"nodev\"]},\n";

static const char sys_root[] =
    "\t\t{\"destination\": \"/sys\", \"type\": \"sysfs\", \"source\": \"sysfs\",\n"
    "\t\t \"options\": [\"nosuid\", \"noexec\", \"nodev\", \"ro\"]},\n"
    "\t\t{\"destination\": \"/sys/fs/cgroup\", \"type\": \"cgroup\", \"source\": \"cgroup\",\n"
    "\t\t \"options\": [\"nosuid\", \"noexec\", \"nodev\", \"relatime\", \"ro\"]}\n"
    "\t],\n";
/* Without a network namespace of its own, sysfs cannot be mounted: bind it. */
static const char sys_rootless[] =
    "\t\t{\"destination\": \"/sys\", \"type\": \"none\", \"source\": \"/sys\",\n"
    "\t\t \"options\": [\"rbind\", \"nosuid\", \"noexec\", \"nodev\", \"ro\"]}\n"
    "\t],\n";

static const char paths_tail[] =
    "\t\t\"maskedPaths\": [\n"
    "\t\t\t\"/proc/acpi\", \"/proc/asound\", \"/proc/kcore\", \"/proc/keys\",\n"
    "\t\t\t\"/proc/latency_stats\", \"/proc/timer_list\", \"/proc/timer_stats\",\n"
    "\t\t\t\"/proc/sched_debug\", \"/sys/firmware\", \"/proc/scsi\"\n"
    "\t\t],\n"
    "\t\t\"readonlyPaths\": [\n"
    "\t\t\t\"/proc/bus\", \"/proc/fs\", \"/proc/irq\", \"/proc/sys\", \"/proc/sysrq-trigger\"\n"
    "\t\t]\n"
    "\t}\n"
    "}\n";

char *hk_spec_default(bool rootless, uid_t uid, gid_t gid)
{
	struct hk_buf b = HK_BUF_INIT;

	hk_buf_adds(&b, default_head);
	hk_buf_adds(&b, rootless ? devpts_rootless : devpts_root);
	hk_buf_adds(&b, shm_mqueue);
	hk_buf_adds(&b, rootless ? sys_rootless : sys_root);
	hk_buf_adds(&b, "\t\"linux\": {\n");
	if (rootless) {
		hk_buf_addf(
		    &b,
		    "\t\t\"uidMappings\": [{\"containerID\": 0, \"hostID\": %u, \"size\": 1}],\n"
		    "\t\t\"gidMappings\": [{\"containerID\": 0, \"hostID\": %u, \"size\": 1}],\n"
		    "\t\t\"namespaces\": [\n"
		    "\t\t\t{\"type\": \"pid\"}, {\"type\": \"ipc\"}, {\"type\": \"uts\"},\n"
		    "\t\t\t{\"type\": \"mount\"}, {\"type\": \"cgroup\"}, {\"type\": \"user\"}\n"
		    "\t\t],\n",
		    (unsigned)uid, (unsigned)gid);
	} else {
		hk_buf_adds(
		    &b,
		    "\t\t\"resources\": {\"devices\": [{\"allow\": false, \"access\": \"rwm\"}]},\n"
		    "\t\t\"namespaces\": [\n"
		    "\t\t\t{\"type\": \"pid\"}, {\"type\": \"network\"}, {\"type\": \"ipc\"},\n"
		    "\t\t\t{\"type\": \"uts\"}, {\"type\": \"mount\"}, {\"type\": \"cgroup\"}\n"
		    "\t\t],\n");
	}
	hk_buf_adds(&b, paths_tail);
	return hk_buf_detach(&b);
}
