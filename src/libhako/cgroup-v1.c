/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * cgroup v1: one hierarchy per controller (or a few bound together, like
 * cpu,cpuacct). Each limit is a file in the container's directory of the
 * hierarchy that holds its controller.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cgroup-internal.h"
#include "log.h"
#include "util.h"

static int apply_memory(const struct hk_cgroup_mount *m, const struct hk_resources *r,
			struct hk_error *err)
{
	static const char w[] = "linux.resources.memory";

	/* memsw (memory + swap) may never be below the memory limit: when the
	 * limit grows past it, raise memsw first. */
	if (r->mem_limit.set) {
		int e = hk_cgroup_write(m, "memory.limit_in_bytes", "linux.resources.memory.limit",
					err, "%" PRId64, r->mem_limit.v);
		if (e == -EINVAL && r->mem_swap.set) {
			if (hk_cgroup_write(m, "memory.memsw.limit_in_bytes",
					    "linux.resources.memory.swap", err, "%" PRId64,
					    r->mem_swap.v) < 0 ||
			    hk_cgroup_write(m, "memory.limit_in_bytes",
					    "linux.resources.memory.limit", err, "%" PRId64,
					    r->mem_limit.v) < 0)
				return err->code;
		} else if (e < 0) {
			return e;
		}
	}
	if (r->mem_swap.set &&
	    hk_cgroup_write(m, "memory.memsw.limit_in_bytes", "linux.resources.memory.swap", err,
			    "%" PRId64, r->mem_swap.v) < 0)
		return err->code;
	if (r->mem_reservation.set &&
	    hk_cgroup_write(m, "memory.soft_limit_in_bytes", "linux.resources.memory.reservation",
			    err, "%" PRId64, r->mem_reservation.v) < 0)
		return err->code;
	if (r->mem_kernel.set &&
	    hk_cgroup_write(m, "memory.kmem.limit_in_bytes", "linux.resources.memory.kernel", err,
			    "%" PRId64, r->mem_kernel.v) < 0)
		return err->code;
	if (r->mem_kernel_tcp.set &&
	    hk_cgroup_write(m, "memory.kmem.tcp.limit_in_bytes", "linux.resources.memory.kernelTCP",
			    err, "%" PRId64, r->mem_kernel_tcp.v) < 0)
		return err->code;
	if (r->mem_swappiness.set &&
	    hk_cgroup_write(m, "memory.swappiness", "linux.resources.memory.swappiness", err,
			    "%" PRId64, r->mem_swappiness.v) < 0)
		return err->code;
	if (r->mem_disable_oom_killer.set &&
	    hk_cgroup_write(m, "memory.oom_control", "linux.resources.memory.disableOOMKiller", err,
			    "%d", r->mem_disable_oom_killer.v ? 1 : 0) < 0)
		return err->code;
	if (r->mem_use_hierarchy.set && hk_cgroup_write(m, "memory.use_hierarchy", w, err, "%d",
							r->mem_use_hierarchy.v ? 1 : 0) < 0)
		return err->code;
	return 0;
}

/*
 * Real-time time is handed down (sched-rt-group.rst): a cgroup gets at most
 * what its parent has not given to its other children, and the default
 * parent hako/ starts with none. Give hako/ this child's share more (at its
 * own period), from what the root leaves, so that the child's write can go
 * through. A parent of the config's own (cgroupsPath) is not ours to change.
 */
static int raise_rt_budget(const struct hk_cgroup_mount *m, int64_t runtime, struct hk_error *err)
{
	char parent[PATH_MAX], expect[PATH_MAX];
	struct hk_cgroup_mount up = *m;
	bool ok[3];
	uint64_t have, period, child_period, want;

	snprintf(parent, sizeof(parent), "%s", m->path);
	*strrchr(parent, '/') = '\0';
	snprintf(expect, sizeof(expect), "%s/%s", m->mountpoint, hk_cgroup_default_parent());
	if (strcmp(parent, expect) != 0)
		return -ENOENT; /* not hako's parent: the caller's error stands */
	up.path = parent;
	have = hk_cgroup_read_u64(&up, "cpu.rt_runtime_us", &ok[0]);
	period = hk_cgroup_read_u64(&up, "cpu.rt_period_us", &ok[1]);
	child_period = hk_cgroup_read_u64(m, "cpu.rt_period_us", &ok[2]);
	if (!ok[0] || !ok[1] || !ok[2] || period == 0 || child_period == 0)
		return -ENOENT;
	want = have + ((uint64_t)runtime * period + child_period - 1) / child_period;
	if (hk_cgroup_write(&up, "cpu.rt_runtime_us", "", err, "%" PRIu64, want) < 0)
		return hk_error_setx(err, -EUCLEAN,
				     "linux.resources.cpu.realtimeRuntime %" PRId64
				     ": the parent %s could not get %" PRIu64
				     " us of real-time time from its own parent",
				     runtime, parent, want);
	return 0;
}

/* Raise hako/'s budget and write the child's again; another container may
 * raise it at the same moment, so a few times. 0, or err as it stands. */
static int grant_rt(const struct hk_cgroup_mount *m, int64_t runtime, struct hk_error *err)
{
	for (int tries = 0; tries < 3; tries++) {
		struct hk_error why = {0};
		int r = raise_rt_budget(m, runtime, &why);

		if (r == -ENOENT)
			return -EINVAL;
		if (r < 0) {
			*err = why;
			return r;
		}
		if (hk_cgroup_write(m, "cpu.rt_runtime_us", "linux.resources.cpu.realtimeRuntime",
				    err, "%" PRId64, runtime) == 0)
			return 0;
		if (err->code != -EINVAL)
			return err->code;
	}
	return -EINVAL;
}

static int apply_cpu(const struct hk_cgroup_mount *m, const struct hk_resources *r,
		     struct hk_error *err)
{
	/* The period first: a quota is checked against the period in force. */
	static const struct {
		const char *file, *what;
		size_t off;
	} knobs[] = {
	    {"cpu.shares", "linux.resources.cpu.shares", offsetof(struct hk_resources, cpu_shares)},
	    {"cpu.cfs_period_us", "linux.resources.cpu.period",
	     offsetof(struct hk_resources, cpu_period)},
	    {"cpu.cfs_quota_us", "linux.resources.cpu.quota",
	     offsetof(struct hk_resources, cpu_quota)},
	    {"cpu.cfs_burst_us", "linux.resources.cpu.burst",
	     offsetof(struct hk_resources, cpu_burst)},
	    {"cpu.rt_period_us", "linux.resources.cpu.realtimePeriod",
	     offsetof(struct hk_resources, cpu_rt_period)},
	    {"cpu.rt_runtime_us", "linux.resources.cpu.realtimeRuntime",
	     offsetof(struct hk_resources, cpu_rt_runtime)},
	    {"cpu.idle", "linux.resources.cpu.idle", offsetof(struct hk_resources, cpu_idle)},
	};

	for (size_t i = 0; i < ARRAY_SIZE(knobs); i++) {
		const struct hk_opt *o = (const void *)((const char *)r + knobs[i].off);
		if (!o->set ||
		    hk_cgroup_write(m, knobs[i].file, knobs[i].what, err, "%" PRId64, o->v) == 0)
			continue;
		if (err->code == -EINVAL && strcmp(knobs[i].file, "cpu.rt_runtime_us") == 0 &&
		    o->v > 0 && grant_rt(m, o->v, err) == 0)
			continue;
		if (err->code == -EUCLEAN) /* the parent could not be given the time */
			return err->code = -EINVAL;
		/* Real-time time is handed down: a cgroup gets at most what its
		 * parent has not given to its other children. */
		if (err->code == -EINVAL && strcmp(knobs[i].file, "cpu.rt_runtime_us") == 0)
			return hk_error_setx(err, -EINVAL,
					     "%s %" PRId64 ": more than the parent cgroup's "
					     "cpu.rt_runtime_us leaves (%s/..)",
					     knobs[i].what, o->v, m->path);
		return err->code;
	}
	return 0;
}

/* A per-device weight, in the CFQ file or, as for blkio.weight, in BFQ's. */
static int weight_device(const struct hk_cgroup_mount *m, const struct hk_blkio_dev *d,
			 struct hk_error *err)
{
	static const char what[] = "linux.resources.blockIO.weightDevice";
	static const char *const files[] = {"blkio.weight_device", "blkio.bfq.weight_device"};

	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		int e = hk_cgroup_write(m, files[i], what, err, "%" PRId64 ":%" PRId64 " %" PRId64,
					d->major, d->minor, d->weight.v);
		if (e == -EOPNOTSUPP)
			return hk_error_setx(err, e,
					     "%s: device %" PRId64 ":%" PRId64
					     " takes no weight in "
					     "%s: it needs the BFQ scheduler",
					     what, d->major, d->minor, files[i]);
		if (e != -ENOENT)
			return e;
	}
	return hk_error_setx(
	    err, -ENOENT,
	    "%s: this kernel's cgroup v1 blkio has neither blkio.weight_device nor "
	    "blkio.bfq.weight_device",
	    what);
}

static int apply_blkio(const struct hk_cgroup_mount *m, const struct hk_resources *r,
		       struct hk_error *err)
{
	static const char *const throttle_files[] = {
	    "blkio.throttle.read_bps_device", "blkio.throttle.write_bps_device",
	    "blkio.throttle.read_iops_device", "blkio.throttle.write_iops_device"};

	if (r->blkio_weight.set) {
		/* Kernels with the BFQ scheduler name the file after it. */
		int e = hk_cgroup_write(m, "blkio.weight", "linux.resources.blockIO.weight", err,
					"%" PRId64, r->blkio_weight.v);
		if (e == -ENOENT)
			e = hk_cgroup_write(m, "blkio.bfq.weight", "linux.resources.blockIO.weight",
					    err, "%" PRId64, r->blkio_weight.v);
		if (e < 0)
			return e;
	}
	if (r->blkio_leaf_weight.set &&
	    hk_cgroup_write(m, "blkio.leaf_weight", "linux.resources.blockIO.leafWeight", err,
			    "%" PRId64, r->blkio_leaf_weight.v) < 0)
		return err->code;
	for (size_t i = 0; i < r->n_blkio_weight_devices; i++) {
		const struct hk_blkio_dev *d = &r->blkio_weight_devices[i];
		if (d->weight.set && weight_device(m, d, err) < 0)
			return err->code;
		if (d->leaf_weight.set && hk_cgroup_write(m, "blkio.leaf_weight_device",
							  "linux.resources.blockIO.weightDevice",
							  err, "%" PRId64 ":%" PRId64 " %" PRId64,
							  d->major, d->minor, d->leaf_weight.v) < 0)
			return err->code;
	}
	for (int t = 0; t < HK_THROTTLE_COUNT; t++)
		for (size_t i = 0; i < r->n_throttle[t]; i++) {
			const struct hk_blkio_dev *d = &r->throttle[t][i];
			if (hk_cgroup_write(m, throttle_files[t], "linux.resources.blockIO", err,
					    "%" PRId64 ":%" PRId64 " %" PRIu64, d->major, d->minor,
					    d->rate) < 0)
				return err->code;
		}
	return 0;
}

static void device_rule_str(const struct hk_device_rule *r, char *buf, size_t size)
{
	char major[24] = "*", minor[24] = "*";

	if (r->type == 'a') {
		snprintf(buf, size, "a");
		return;
	}
	if (r->major >= 0)
		snprintf(major, sizeof(major), "%lld", (long long)r->major);
	if (r->minor >= 0)
		snprintf(minor, sizeof(minor), "%lld", (long long)r->minor);
	snprintf(buf, size, "%c %s:%s %s", r->type, major, minor, r->access);
}

static int apply_devices(const struct hk_cgroup_mount *m, const struct hk_spec *spec,
			 struct hk_error *err)
{
	char rule[80];

	if (!spec->n_device_rules)
		return 0;
	for (size_t i = 0; i < spec->n_device_rules + hk_cgroup_n_default_devices; i++) {
		const struct hk_device_rule *r =
		    i < spec->n_device_rules ? &spec->device_rules[i]
					     : &hk_cgroup_default_devices[i - spec->n_device_rules];
		device_rule_str(r, rule, sizeof(rule));
		if (hk_cgroup_write(m, r->allow ? "devices.allow" : "devices.deny",
				    "linux.resources.devices", err, "%s", rule) < 0)
			return err->code;
	}
	return 0;
}

static int v1_apply(const struct hk_cgroup_mount *m, const struct hk_spec *spec,
		    const struct hk_resources *r, struct hk_error *err)
{
	if (hk_cgroup_has(m, "devices") && apply_devices(m, spec, err) < 0)
		return err->code;
	if (hk_cgroup_has(m, "memory") && apply_memory(m, r, err) < 0)
		return err->code;
	if (hk_cgroup_has(m, "cpu") && apply_cpu(m, r, err) < 0)
		return err->code;
	if (hk_cgroup_has(m, "cpuset")) {
		if (r->cpus && hk_cgroup_write(m, "cpuset.cpus", "linux.resources.cpu.cpus", err,
					       "%s", r->cpus) < 0)
			return err->code;
		if (r->mems && hk_cgroup_write(m, "cpuset.mems", "linux.resources.cpu.mems", err,
					       "%s", r->mems) < 0)
			return err->code;
	}
	if (hk_cgroup_has(m, "pids") && r->pids_limit.set && hk_cgroup_write_pids(m, r, err) < 0)
		return err->code;
	if (hk_cgroup_has(m, "blkio") && apply_blkio(m, r, err) < 0)
		return err->code;
	if (hk_cgroup_has(m, "hugetlb"))
		for (size_t i = 0; i < r->n_hugepages; i++) {
			char file[64];
			snprintf(file, sizeof(file), "hugetlb.%s.limit_in_bytes",
				 r->hugepage_sizes[i]);
			if (hk_cgroup_write(m, file, "linux.resources.hugepageLimits", err,
					    "%" PRIu64, r->hugepage_limits[i]) < 0)
				return err->code;
		}
	if (hk_cgroup_has(m, "net_cls") && r->net_class_id.set &&
	    hk_cgroup_write(m, "net_cls.classid", "linux.resources.network.classID", err,
			    "%" PRId64, r->net_class_id.v) < 0)
		return err->code;
	if (hk_cgroup_has(m, "net_prio"))
		for (size_t i = 0; i < r->n_net_prios; i++)
			if (hk_cgroup_write(m, "net_prio.ifpriomap",
					    "linux.resources.network.priorities", err, "%s %u",
					    r->net_prio_names[i], r->net_prio_values[i]) < 0)
				return err->code;
	return 0;
}

static int v1_freeze(const struct hk_cgroup_mount *m, bool frozen, struct hk_error *err)
{
	if (!hk_cgroup_has(m, "freezer"))
		return 0;
	return hk_cgroup_write(m, "freezer.state", frozen ? "pause" : "resume", err, "%s",
			       frozen ? "FROZEN" : "THAWED");
}

static bool v1_frozen(const struct hk_cgroup_mount *m)
{
	char path[PATH_MAX + 32];
	_cleanup_free_ char *state = NULL;
	struct hk_error ignored;

	if (!hk_cgroup_has(m, "freezer"))
		return false;
	snprintf(path, sizeof(path), "%s/freezer.state", m->path);
	return hk_read_file_at(AT_FDCWD, path, 64, &state, NULL, &ignored) == 0 &&
	       strncmp(state, "FROZEN", 6) == 0;
}

static void v1_stats(const struct hk_cgroup_mount *m, struct hk_cgroup_stats *st)
{
	bool ok;

	if (hk_cgroup_has(m, "cpuacct")) {
		_cleanup_free_ char *percpu = hk_cgroup_read(m, "cpuacct.usage_percpu");
		long ticks = sysconf(_SC_CLK_TCK);
		st->cpu_total = hk_cgroup_read_u64(m, "cpuacct.usage", &ok);
		st->has_cpu |= ok;
		/* cpuacct.stat counts in clock ticks. */
		st->cpu_user = hk_cgroup_read_key(m, "cpuacct.stat", "user") * 1000000000ULL /
			       (uint64_t)(ticks > 0 ? ticks : 100);
		st->cpu_kernel = hk_cgroup_read_key(m, "cpuacct.stat", "system") * 1000000000ULL /
				 (uint64_t)(ticks > 0 ? ticks : 100);
		for (char *p = percpu, *end; p && *p; p = end) {
			uint64_t v = strtoull(p, &end, 10);
			if (end == p)
				break;
			st->cpu_percpu =
			    hk_xrealloc(st->cpu_percpu, (st->n_percpu + 1) * sizeof(v));
			st->cpu_percpu[st->n_percpu++] = v;
		}
	}
	if (hk_cgroup_has(m, "cpu")) {
		st->periods = hk_cgroup_read_key(m, "cpu.stat", "nr_periods");
		st->throttled_periods = hk_cgroup_read_key(m, "cpu.stat", "nr_throttled");
		st->throttled_time = hk_cgroup_read_key(m, "cpu.stat", "throttled_time");
	}
	if (hk_cgroup_has(m, "memory")) {
		st->mem_usage = hk_cgroup_read_u64(m, "memory.usage_in_bytes", &ok);
		st->has_memory = ok;
		st->mem_max = hk_cgroup_read_u64(m, "memory.max_usage_in_bytes", NULL);
		st->mem_limit = hk_cgroup_read_u64(m, "memory.limit_in_bytes", NULL);
		st->mem_failcnt = hk_cgroup_read_u64(m, "memory.failcnt", NULL);
		st->swap_usage = hk_cgroup_read_u64(m, "memory.memsw.usage_in_bytes", &ok);
		st->has_swap = ok;
		st->swap_max = hk_cgroup_read_u64(m, "memory.memsw.max_usage_in_bytes", NULL);
		st->swap_limit = hk_cgroup_read_u64(m, "memory.memsw.limit_in_bytes", NULL);
		st->mem_raw = hk_cgroup_read(m, "memory.stat");
	}
}

const struct hk_cgroup_ops hk_cgroup_v1_ops = {
    .name = "cgroup v1",
    .apply = v1_apply,
    .freeze = v1_freeze,
    .frozen = v1_frozen,
    .stats = v1_stats,
};
