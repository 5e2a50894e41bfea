/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * config.json as a typed, validated structure. Nothing after hk_spec_load()
 * touches JSON: the container child reads only this struct, which it inherits
 * as a copy of the parent's memory at clone().
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"
#include "json.h"

enum hk_ns_kind {
	HK_NS_USER, /* first: joining it comes before every other setns(2) */
	HK_NS_PID,
	HK_NS_MOUNT,
	HK_NS_UTS,
	HK_NS_IPC,
	HK_NS_NET,
	HK_NS_CGROUP,
	HK_NS_TIME,
	HK_NS_COUNT,
};

struct hk_ns_info {
	const char *spec_name; /* "network" */
	const char *proc_name; /* "net", as in /proc/PID/ns/net */
	int clone_flag;	       /* CLONE_NEWNET */
};
extern const struct hk_ns_info hk_ns_table[HK_NS_COUNT];

struct hk_namespace {
	bool enabled;
	char *path; /* join this namespace instead of creating one */
};

#define HK_MEMPOLICY_NODES 1024 /* the nodes a memoryPolicy may name */

struct hk_mount {
	char *destination;
	char *source;
	char *type;
	unsigned long flags;	   /* MS_* set by the options */
	unsigned long propagation; /* MS_PRIVATE|MS_SHARED|..., possibly with MS_REC */
	unsigned rec_attr_set;	   /* MOUNT_ATTR_* applied recursively ("rro", ...) */
	unsigned rec_attr_clr;
	char *data;	   /* the options that are not flags, comma-joined ("mode=755") */
	bool tmpcopyup;	   /* a tmpfs gets a copy of what it covers (podman's option) */
	bool copy_symlink; /* a bind of a symlink becomes that symlink (podman's option) */
};

struct hk_idmap {
	uint32_t container_id, host_id, size;
};

struct hk_rlimit {
	int resource;
	uint64_t soft, hard;
};

struct hk_device {
	char *path;
	char type; /* 'c', 'b', 'u' or 'p' */
	int64_t major, minor;
	bool has_mode;
	mode_t mode;
	uid_t uid;
	gid_t gid;
};

struct hk_device_rule {
	bool allow;
	char type;	      /* 'a', 'c' or 'b' */
	int64_t major, minor; /* -1 for any */
	char access[4];
};

/* A number a config may leave out: set says whether it gave one. */
struct hk_opt {
	bool set;
	int64_t v;
};

/* A per-device blockIO value: a weight, or a rate for the throttles. */
struct hk_blkio_dev {
	int64_t major, minor;
	struct hk_opt weight, leaf_weight; /* weightDevice */
	uint64_t rate;			   /* throttle*Device */
};

enum hk_throttle {
	HK_THROTTLE_READ_BPS,
	HK_THROTTLE_WRITE_BPS,
	HK_THROTTLE_READ_IOPS,
	HK_THROTTLE_WRITE_IOPS,
	HK_THROTTLE_COUNT,
};

/* linux.resources, but devices (which stay in hk_spec.device_rules). */
struct hk_resources {
	bool any; /* anything below is set */
	/* memory, in bytes; -1 is unlimited. swap is memory + swap, as in v1. */
	struct hk_opt mem_limit, mem_reservation, mem_swap, mem_kernel, mem_kernel_tcp,
	    mem_swappiness, mem_disable_oom_killer, mem_use_hierarchy;
	/* cpu */
	struct hk_opt cpu_shares, cpu_quota, cpu_burst, cpu_period, cpu_rt_runtime, cpu_rt_period,
	    cpu_idle;
	char *cpus, *mems;
	struct hk_opt pids_limit;
	struct hk_opt blkio_weight, blkio_leaf_weight;
	struct hk_blkio_dev *blkio_weight_devices;
	size_t n_blkio_weight_devices;
	struct hk_blkio_dev *throttle[HK_THROTTLE_COUNT];
	size_t n_throttle[HK_THROTTLE_COUNT];
	char **hugepage_sizes; /* "2MB", with the limit in bytes beside it */
	uint64_t *hugepage_limits;
	size_t n_hugepages;
	struct hk_opt net_class_id;
	char **net_prio_names;
	uint32_t *net_prio_values;
	size_t n_net_prios;
	char **unified; /* "key=value", for cgroup v2 files */
};

void hk_resources_release(struct hk_resources *r);

/* Parse a linux.resources object given as text (`update --resources`). */
int hk_resources_parse(const char *text, size_t len, const char *file, struct hk_resources *ret,
		       struct hk_error *err);

/* linux.seccomp, parsed; seccomp.c turns it into a BPF program. */
struct hk_json;

enum hk_seccomp_action {
	HK_SCMP_KILL, /* SCMP_ACT_KILL, which is KILL_THREAD */
	HK_SCMP_KILL_PROCESS,
	HK_SCMP_KILL_THREAD,
	HK_SCMP_TRAP,
	HK_SCMP_ERRNO,
	HK_SCMP_TRACE,
	HK_SCMP_ALLOW,
	HK_SCMP_LOG,
	HK_SCMP_NOTIFY,
};

enum hk_seccomp_op {
	HK_SCMP_NE,
	HK_SCMP_LT,
	HK_SCMP_LE,
	HK_SCMP_EQ,
	HK_SCMP_GE,
	HK_SCMP_GT,
	HK_SCMP_MASKED_EQ
};

struct hk_seccomp_arg {
	unsigned index;
	uint64_t value, value_two;
	enum hk_seccomp_op op;
};

struct hk_seccomp_rule {
	char **names;
	enum hk_seccomp_action action;
	struct hk_opt errno_ret; /* for ERRNO (default EPERM) and TRACE */
	struct hk_seccomp_arg *args;
	size_t n_args;
};

struct hk_seccomp {
	bool present;
	enum hk_seccomp_action default_action;
	struct hk_opt default_errno_ret;
	char **architectures; /* "SCMP_ARCH_X86_64", ... */
	bool flag_tsync, flag_log, flag_spec_allow;
	char *listener_path, *listener_metadata;
	bool notify;	   /* a rule is SCMP_ACT_NOTIFY: the listener gets the fd */
	bool fail_unknown; /* run.oci.seccomp_fail_unknown_syscall: unknown names fail */
	struct hk_seccomp_rule *rules;
	size_t n_rules;
	const struct hk_json *json; /* the section as written, for the BPF cache */
};

void hk_seccomp_release(struct hk_seccomp *sc);

/* OCI hooks, by the phase of the lifecycle that runs them. */
enum hk_hook_phase {
	HK_HOOK_PRESTART, /* deprecated: as createRuntime */
	HK_HOOK_CREATE_RUNTIME,
	HK_HOOK_CREATE_CONTAINER,
	HK_HOOK_START_CONTAINER,
	HK_HOOK_POSTSTART,
	HK_HOOK_POSTSTOP,
	HK_HOOK_PHASES,
};

struct hk_hook {
	char *path;
	char **args; /* NULL: just the path */
	char **env;
	int timeout; /* seconds; 0 for none */
};

extern const char *const hk_hook_phase_names[HK_HOOK_PHASES];

enum hk_cap_set {
	HK_CAP_BOUNDING,
	HK_CAP_EFFECTIVE,
	HK_CAP_PERMITTED,
	HK_CAP_INHERITABLE,
	HK_CAP_AMBIENT,
	HK_CAP_SET_COUNT,
};

/* process.scheduler, for sched_setattr(2). */
struct hk_scheduler {
	uint32_t policy; /* SCHED_* */
	int32_t nice;
	uint32_t priority;
	uint64_t flags; /* SCHED_FLAG_* */
	uint64_t runtime, deadline, period;
};

struct hk_process {
	bool terminal;
	unsigned console_height, console_width;
	uid_t uid;
	gid_t gid;
	gid_t *additional_gids;
	size_t n_additional_gids;
	bool has_umask;
	mode_t umask;
	char **args;
	char **env;
	bool needs_home; /* env has no HOME: the init sets it (hk_process_set_home()) */
	char *cwd;
	struct hk_rlimit *rlimits;
	size_t n_rlimits;
	bool no_new_privileges;
	bool has_oom_score_adj;
	int oom_score_adj;
	bool has_capabilities;
	uint64_t caps[HK_CAP_SET_COUNT];
	bool has_scheduler;
	struct hk_scheduler scheduler;
	bool has_io_priority;
	int io_priority; /* IOPRIO_PRIO_VALUE(class, level), for ioprio_set(2) */
	/* execCPUAffinity, cpu lists ("0-3,7") checked by hk_parse_cpu_list() */
	char *exec_cpus_initial, *exec_cpus_final;
	char *apparmor_profile;
	char *selinux_label;
	bool keep_original_groups; /* run.oci.keep_original_groups */
};

void hk_process_release(struct hk_process *p);
/* Parse a process object given as text (`exec --process FILE`). */
int hk_process_parse(const char *text, size_t len, const char *file, struct hk_process *ret,
		     struct hk_error *err);

struct hk_time_offset {
	int64_t secs;
	int64_t nanosecs;
};

struct hk_spec {
	char *oci_version;
	unsigned oci_minor; /* 1.x: what x says (a failing poststart hook fails from 1.3) */
	char *bundle;	    /* absolute path of the bundle directory */
	char *root_path;    /* absolute path of the rootfs */
	bool root_readonly;
	char *hostname;	  /* NULL when absent */
	char *domainname; /* NULL when absent */
	bool has_process;
	struct hk_process process;
	struct hk_mount *mounts;
	size_t n_mounts;

	struct hk_namespace ns[HK_NS_COUNT];
	struct hk_idmap *uid_mappings, *gid_mappings;
	size_t n_uid_mappings, n_gid_mappings;
	bool has_time_offsets;
	struct hk_time_offset monotonic, boottime;
	struct hk_device *devices;
	size_t n_devices;
	struct hk_device_rule *device_rules;
	size_t n_device_rules;
	struct hk_resources resources;
	struct hk_seccomp seccomp;
	struct hk_hook *hooks[HK_HOOK_PHASES];
	size_t n_hooks[HK_HOOK_PHASES];
	char *cgroups_path;
	char **masked_paths;
	char **readonly_paths;
	unsigned long rootfs_propagation; /* 0 means the default, MS_REC|MS_PRIVATE */
	char **sysctl;			  /* "key=value" */
	char **net_devices;		  /* linux.netDevices: "host name:name in the container" */
	bool has_mempolicy;		  /* linux.memoryPolicy, for set_mempolicy(2) */
	int mempolicy_mode;		  /* MPOL_* | MPOL_F_* */
	unsigned long mempolicy_nodes[HK_MEMPOLICY_NODES / (8 * sizeof(unsigned long))];
	bool has_personality;
	unsigned long personality; /* PER_LINUX or PER_LINUX32, for personality(2) */
	char *mount_label;	   /* SELinux context= for the container's mounts */

	struct hk_json *doc;	     /* the parsed file, kept for annotations */
	struct hk_json *annotations; /* points into doc, or NULL */
};

/*
 * Load and validate BUNDLE/config.json (or the file at path config when it is
 * not NULL). Errors name the file, line, column and JSON path.
 */
int hk_spec_load(const char *bundle, const char *config, struct hk_spec **ret,
		 struct hk_error *err);
/* Parse config text; file names the source in error messages. */
int hk_spec_parse(const char *text, size_t len, const char *file, const char *bundle,
		  struct hk_spec **ret, struct hk_error *err);
void hk_spec_free(struct hk_spec *spec);
static inline void hk_spec_freep(struct hk_spec **spec)
{
	hk_spec_free(*spec);
}

/* The default config.json that `hako spec` writes, as text. */
char *hk_spec_default(bool rootless, uid_t uid, gid_t gid);
/* The same config as a JSON tree, to change before it is written (hakoctl). */
struct hk_json;
struct hk_json *hk_spec_default_tree(bool rootless, uid_t uid, gid_t gid);

/* A capability's number by name ("CAP_KILL"), or -1. */
int hk_cap_from_name(const char *name);
/* Names of all capabilities this build knows, for `hako features`. */
extern const char *const hk_cap_names[];
extern const unsigned hk_cap_count;
