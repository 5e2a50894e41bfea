/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>

#include "commands.h"
#include "spec.h"
#include "util.h"

/* What this hako supports, in the shape of runc's `features` (features.md). */
int cmd_features(const struct hako_globals *g, int argc, char **argv, struct hk_error *err)
{
	static const char *const mount_options[] = {
	    "async",	  "atime",	 "bind",       "dev",	      "diratime",
	    "dirsync",	  "exec",	 "iversion",   "lazytime",    "loud",
	    "mand",	  "noatime",	 "nodev",      "nodiratime",  "noexec",
	    "noiversion", "nolazytime",	 "nomand",     "norelatime",  "nostrictatime",
	    "nosuid",	  "nosymfollow", "private",    "rbind",	      "rdev",
	    "relatime",	  "remount",	 "rexec",      "rnodev",      "rnoexec",
	    "rnosuid",	  "ro",		 "rprivate",   "rro",	      "rrw",
	    "rshared",	  "rslave",	 "rsuid",      "runbindable", "rw",
	    "shared",	  "silent",	 "slave",      "strictatime", "suid",
	    "symfollow",  "sync",	 "unbindable",
	};
	struct hk_buf b = HK_BUF_INIT;

	(void)g;
	(void)argc;
	(void)argv;
	(void)err;
	hk_buf_adds(&b, "{\n  \"ociVersionMin\": \"1.0.0\",\n  \"ociVersionMax\": \"1.3.0\",\n"
			"  \"hooks\": [\"prestart\", \"createRuntime\", \"createContainer\", "
			"\"startContainer\", \"poststart\", \"poststop\"],\n  \"mountOptions\": [");
	for (size_t i = 0; i < ARRAY_SIZE(mount_options); i++)
		hk_buf_addf(&b, "%s\"%s\"", i ? ", " : "", mount_options[i]);
	hk_buf_adds(&b, "],\n  \"linux\": {\n    \"namespaces\": [");
	for (int k = 0; k < HK_NS_COUNT; k++)
		hk_buf_addf(&b, "%s\"%s\"", k ? ", " : "", hk_ns_table[k].spec_name);
	hk_buf_adds(&b, "],\n    \"capabilities\": [");
	for (unsigned i = 0; i < hk_cap_count; i++)
		hk_buf_addf(&b, "%s\"%s\"", i ? ", " : "", hk_cap_names[i]);
	hk_buf_adds(&b, "],\n    \"cgroup\": {\"v1\": true, \"v2\": true, \"systemd\": false, "
			"\"systemdUser\": false, \"rdma\": false},\n"
			"    \"seccomp\": {\"enabled\": true, \"actions\": [\"SCMP_ACT_ALLOW\", "
			"\"SCMP_ACT_ERRNO\", \"SCMP_ACT_KILL\", \"SCMP_ACT_KILL_PROCESS\", "
			"\"SCMP_ACT_KILL_THREAD\", \"SCMP_ACT_LOG\", \"SCMP_ACT_NOTIFY\", "
			"\"SCMP_ACT_TRACE\", \"SCMP_ACT_TRAP\"], \"operators\": [\"SCMP_CMP_EQ\", "
			"\"SCMP_CMP_GE\", \"SCMP_CMP_GT\", \"SCMP_CMP_LE\", \"SCMP_CMP_LT\", "
			"\"SCMP_CMP_MASKED_EQ\", \"SCMP_CMP_NE\"], \"archs\": [\"SCMP_ARCH_X86\", "
			"\"SCMP_ARCH_X86_64\", \"SCMP_ARCH_X32\"], \"knownFlags\": "
			"[\"SECCOMP_FILTER_FLAG_TSYNC\", \"SECCOMP_FILTER_FLAG_LOG\", "
			"\"SECCOMP_FILTER_FLAG_SPEC_ALLOW\"], \"supportedFlags\": "
			"[\"SECCOMP_FILTER_FLAG_TSYNC\", \"SECCOMP_FILTER_FLAG_LOG\", "
			"\"SECCOMP_FILTER_FLAG_SPEC_ALLOW\"]},\n"
			"    \"apparmor\": {\"enabled\": true},\n"
			"    \"selinux\": {\"enabled\": true},\n"
			"    \"intelRdt\": {\"enabled\": false},\n"
			"    \"memoryPolicy\": {\"modes\": [\"MPOL_DEFAULT\", \"MPOL_BIND\", "
			"\"MPOL_INTERLEAVE\", \"MPOL_WEIGHTED_INTERLEAVE\", \"MPOL_PREFERRED\", "
			"\"MPOL_PREFERRED_MANY\", \"MPOL_LOCAL\"], \"flags\": "
			"[\"MPOL_F_NUMA_BALANCING\", \"MPOL_F_RELATIVE_NODES\", "
			"\"MPOL_F_STATIC_NODES\"]},\n"
			"    \"netDevices\": {\"enabled\": true},\n"
			"    \"mountExtensions\": {\"idmap\": {\"enabled\": false}}\n  },\n"
			"  \"annotations\": {\"org.opencontainers.runc.checkpoint.enabled\": "
			"\"false\", \"io.github.hako.version\": \"" HAKO_VERSION "\"}\n}\n");
	fputs(b.buf, stdout);
	hk_buf_release(&b);
	return 0;
}
