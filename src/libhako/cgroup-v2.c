/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * cgroup v2: one unified hierarchy. A controller works in a cgroup only when
 * every ancestor enabled it in cgroup.subtree_control. Where the config
 * speaks v1 (cpu shares, blkio weight), values are translated the known way;
 * where v2 has no such knob, the error says so.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "cgroup-internal.h"
#include "log.h"
#include "util.h"

/* Is word one of the space-separated words of list? */
static bool word_in(const char *list, const char *word)
{
	size_t len = strlen(word);

	for (const char *p = list; (p = strstr(p, word)); p += len)
		if ((p == list || p[-1] == ' ') && (p[len] == ' ' || p[len] == '\n' || !p[len]))
			return true;
	return false;
}

/* Enable ctrl in every ancestor of the container's cgroup, from the top down. */
static int enable_controller(const struct hk_cgroup_mount *m, const char *ctrl, const char *what,
			     struct hk_error *err)
{
	char dir[PATH_MAX], file[PATH_MAX + 32], op[64];
	size_t base = strlen(m->mountpoint);

	snprintf(dir, sizeof(dir), "%s", m->path);
	snprintf(op, sizeof(op), "+%s", ctrl);
	for (char *p = dir + base; p && *p;) {
		char *next = strchr(p + 1, '/');
		char saved = *p;
		_cleanup_free_ char *enabled = NULL;
		*p = '\0';
		snprintf(file, sizeof(file), "%s/cgroup.subtree_control", dir);
		*p = saved;
		p = next;
		/* Already on (by another container, say): no write, and no EBUSY from a
		 * cgroup that has processes of its own. */
		if (hk_read_file_at(AT_FDCWD, file, 4096, &enabled, NULL, err) == 0 &&
		    word_in(enabled, ctrl))
			continue;
		if (hk_write_file(file, op, strlen(op), err) < 0)
			return hk_error_prefix(err, "%s: enable the cgroup v2 %s controller", what,
					       ctrl);
		hk_debug("write(\"%s\", \"%s\") ok", file, op);
	}
	return 0;
}

/* A knob that cgroup v2 does not have. */
static int no_knob(const char *what, const char *instead, struct hk_error *err)
{
	return hk_error_setx(err, -EOPNOTSUPP,
			     "%s: cgroup v2 has no such knob, and this host's controller for it is "
			     "on cgroup v2%s%s",
			     what, instead ? "; use " : "", instead ? instead : "");
}

/* memory.swap.max is swap alone; OCI's swap, as v1's memsw, is memory + swap. */
static int swap_max(const struct hk_resources *r, char *buf, size_t size, struct hk_error *err)
{
	if (r->mem_swap.v == -1)
		return snprintf(buf, size, "max"), 0;
	if (!r->mem_limit.set || r->mem_limit.v == -1)
		return hk_error_setx(err, -EINVAL,
				     "linux.resources.memory.swap: on cgroup v2 it needs a "
				     "memory limit too (swap counts memory + swap)");
	if (r->mem_swap.v < r->mem_limit.v)
		return hk_error_setx(err, -EINVAL,
				     "linux.resources.memory.swap (%" PRId64
				     ") is below the memory limit (%" PRId64 ")",
				     r->mem_swap.v, r->mem_limit.v);
	snprintf(buf, size, "%" PRId64, r->mem_swap.v - r->mem_limit.v);
	return 0;
}

static int apply_memory(const struct hk_cgroup_mount *m, const struct hk_resources *r,
			struct hk_error *err)
{
	char swap[32];

	if (r->mem_swappiness.set)
		return no_knob("linux.resources.memory.swappiness", NULL, err);
	if (r->mem_disable_oom_killer.set && r->mem_disable_oom_killer.v)
		return no_knob("linux.resources.memory.disableOOMKiller", NULL, err);
	if (r->mem_kernel.set || r->mem_kernel_tcp.set)
		return no_knob("linux.resources.memory.kernel", NULL, err);
	if (r->mem_use_hierarchy.set && !r->mem_use_hierarchy.v)
		return no_knob("linux.resources.memory.useHierarchy", "true (it always is)", err);
	if (r->mem_limit.set &&
	    (r->mem_limit.v == -1
		 ? hk_cgroup_write(m, "memory.max", "linux.resources.memory.limit", err, "max")
		 : hk_cgroup_write(m, "memory.max", "linux.resources.memory.limit", err, "%" PRId64,
				   r->mem_limit.v)) < 0)
		return err->code;
	if (r->mem_reservation.set &&
	    (r->mem_reservation.v == -1
		 ? hk_cgroup_write(m, "memory.low", "linux.resources.memory.reservation", err,
				   "max")
		 : hk_cgroup_write(m, "memory.low", "linux.resources.memory.reservation", err,
				   "%" PRId64, r->mem_reservation.v)) < 0)
		return err->code;
	if (r->mem_swap.set && (swap_max(r, swap, sizeof(swap), err) < 0 ||
				hk_cgroup_write(m, "memory.swap.max", "linux.resources.memory.swap",
						err, "%s", swap) < 0))
		return err->code;
	return 0;
}

/* cpu.shares 2..262144 onto cpu.weight 1..10000, as runc and crun map it. */
static uint64_t shares_to_weight(int64_t shares)
{
	if (shares < 2)
		shares = 2;
	if (shares > 262144)
		shares = 262144;
	return 1 + ((uint64_t)(shares - 2) * 9999) / 262142;
}

/* blkio.weight 10..1000 onto io.weight 1..10000. */
static uint64_t blkio_to_io_weight(int64_t w)
{
	return 1 + ((uint64_t)(w - 10) * 9999) / 990;
}

static int apply_cpu(const struct hk_cgroup_mount *m, const struct hk_resources *r,
		     struct hk_error *err)
{
	if (r->cpu_rt_runtime.set || r->cpu_rt_period.set)
		return no_knob("linux.resources.cpu.realtimeRuntime", NULL, err);
	if (r->cpu_shares.set && r->cpu_shares.v &&
	    hk_cgroup_write(m, "cpu.weight", "linux.resources.cpu.shares", err, "%" PRIu64,
			    shares_to_weight(r->cpu_shares.v)) < 0)
		return err->code;
	if (r->cpu_quota.set || r->cpu_period.set) {
		char quota[32] = "max";
		if (r->cpu_quota.set && r->cpu_quota.v > 0)
			snprintf(quota, sizeof(quota), "%" PRId64, r->cpu_quota.v);
		if ((r->cpu_period.set ? hk_cgroup_write(m, "cpu.max", "linux.resources.cpu.quota",
							 err, "%s %" PRId64, quota, r->cpu_period.v)
				       : hk_cgroup_write(m, "cpu.max", "linux.resources.cpu.quota",
							 err, "%s", quota)) < 0)
			return err->code;
	}
	if (r->cpu_burst.set && hk_cgroup_write(m, "cpu.max.burst", "linux.resources.cpu.burst",
						err, "%" PRId64, r->cpu_burst.v) < 0)
		return err->code;
	if (r->cpu_idle.set && hk_cgroup_write(m, "cpu.idle", "linux.resources.cpu.idle", err,
					       "%" PRId64, r->cpu_idle.v) < 0)
		return err->code;
	return 0;
}

/*
 * A per-device weight goes to BFQ when the device uses it (in the v1 range),
 * else to io.weight, which takes one only for a device with io.cost enabled.
 */
static int weight_device(const struct hk_cgroup_mount *m, const struct hk_blkio_dev *d,
			 struct hk_error *err)
{
	static const char what[] = "linux.resources.blockIO.weightDevice";
	int e = hk_cgroup_write(m, "io.bfq.weight", what, err, "%" PRId64 ":%" PRId64 " %" PRId64,
				d->major, d->minor, d->weight.v);

	if (e == 0)
		return 0;
	e = hk_cgroup_write(m, "io.weight", what, err, "%" PRId64 ":%" PRId64 " %" PRIu64, d->major,
			    d->minor, blkio_to_io_weight(d->weight.v));
	if (e == -EOPNOTSUPP)
		return hk_error_setx(err, e,
				     "%s: device %" PRId64 ":%" PRId64 " takes no weight: it needs "
				     "the BFQ scheduler, or io.cost enabled for it in the root's "
				     "io.cost.qos",
				     what, d->major, d->minor);
	return e;
}

static int apply_io(const struct hk_cgroup_mount *m, const struct hk_resources *r,
		    struct hk_error *err)
{
	static const char *const keys[] = {"rbps", "wbps", "riops", "wiops"};

	if (r->blkio_leaf_weight.set)
		return no_knob("linux.resources.blockIO.leafWeight", NULL, err);
	if (r->blkio_weight.set) {
		/* BFQ takes the v1 range as it is; io.weight its own. */
		int e = hk_cgroup_write(m, "io.bfq.weight", "linux.resources.blockIO.weight", err,
					"%" PRId64, r->blkio_weight.v);
		if (e == -ENOENT)
			e = hk_cgroup_write(m, "io.weight", "linux.resources.blockIO.weight", err,
					    "default %" PRIu64,
					    blkio_to_io_weight(r->blkio_weight.v));
		if (e < 0)
			return e;
	}
	for (size_t i = 0; i < r->n_blkio_weight_devices; i++) {
		const struct hk_blkio_dev *d = &r->blkio_weight_devices[i];
		if (d->leaf_weight.set)
			return no_knob("linux.resources.blockIO.weightDevice.leafWeight", NULL,
				       err);
		if (d->weight.set && weight_device(m, d, err) < 0)
			return err->code;
	}
	for (int t = 0; t < HK_THROTTLE_COUNT; t++)
		for (size_t i = 0; i < r->n_throttle[t]; i++) {
			const struct hk_blkio_dev *d = &r->throttle[t][i];
			if (hk_cgroup_write(m, "io.max", "linux.resources.blockIO", err,
					    "%" PRId64 ":%" PRId64 " %s=%" PRIu64, d->major,
					    d->minor, keys[t], d->rate) < 0)
				return err->code;
		}
	return 0;
}

static bool wants_io(const struct hk_resources *r)
{
	bool any = r->blkio_weight.set || r->blkio_leaf_weight.set || r->n_blkio_weight_devices;

	for (int t = 0; t < HK_THROTTLE_COUNT; t++)
		any |= r->n_throttle[t] > 0;
	return any;
}

static int v2_apply(const struct hk_cgroup_mount *m, const struct hk_spec *spec,
		    const struct hk_resources *r, struct hk_error *err)
{
	const struct {
		const char *ctrl;
		bool wanted;
		int (*apply)(const struct hk_cgroup_mount *, const struct hk_resources *,
			     struct hk_error *);
	} groups[] = {
	    {"memory",
	     r->mem_limit.set || r->mem_reservation.set || r->mem_swap.set || r->mem_kernel.set ||
		 r->mem_kernel_tcp.set || r->mem_swappiness.set || r->mem_disable_oom_killer.set ||
		 r->mem_use_hierarchy.set,
	     apply_memory},
	    {"cpu",
	     r->cpu_shares.set || r->cpu_quota.set || r->cpu_period.set || r->cpu_burst.set ||
		 r->cpu_rt_runtime.set || r->cpu_rt_period.set || r->cpu_idle.set,
	     apply_cpu},
	    {"io", wants_io(r), apply_io},
	};

	if (spec->n_device_rules && m->device_program &&
	    hk_cgroup_bpf_devices(m, spec->device_rules, spec->n_device_rules,
				  hk_cgroup_default_devices, hk_cgroup_n_default_devices, err) < 0)
		return err->code;
	for (size_t i = 0; i < ARRAY_SIZE(groups); i++) {
		if (!groups[i].wanted || !hk_cgroup_has(m, groups[i].ctrl))
			continue;
		if (enable_controller(m, groups[i].ctrl, "linux.resources", err) < 0 ||
		    groups[i].apply(m, r, err) < 0)
			return err->code;
	}
	if (hk_cgroup_has(m, "cpuset") && (r->cpus || r->mems)) {
		if (enable_controller(m, "cpuset", "linux.resources.cpu", err) < 0 ||
		    (r->cpus && hk_cgroup_write(m, "cpuset.cpus", "linux.resources.cpu.cpus", err,
						"%s", r->cpus) < 0) ||
		    (r->mems && hk_cgroup_write(m, "cpuset.mems", "linux.resources.cpu.mems", err,
						"%s", r->mems) < 0))
			return err->code;
	}
	if (hk_cgroup_has(m, "pids") && r->pids_limit.set) {
		if (enable_controller(m, "pids", "linux.resources.pids", err) < 0 ||
		    hk_cgroup_write_pids(m, r, err) < 0)
			return err->code;
	}
	if (hk_cgroup_has(m, "hugetlb") && r->n_hugepages) {
		if (enable_controller(m, "hugetlb", "linux.resources.hugepageLimits", err) < 0)
			return err->code;
		for (size_t i = 0; i < r->n_hugepages; i++) {
			char file[64];
			snprintf(file, sizeof(file), "hugetlb.%s.max", r->hugepage_sizes[i]);
			if (hk_cgroup_write(m, file, "linux.resources.hugepageLimits", err,
					    "%" PRIu64, r->hugepage_limits[i]) < 0)
				return err->code;
		}
	}
	for (char **u = r->unified; u && *u; u++) {
		char file[256], ctrl[64];
		const char *eq = strchr(*u, '=');
		size_t dot = strcspn(*u, ".");
		snprintf(file, sizeof(file), "%.*s", (int)(eq - *u), *u);
		snprintf(ctrl, sizeof(ctrl), "%.*s", (int)dot, *u);
		/* "memory.high" needs the memory controller; "cgroup.*" none. */
		if (hk_cgroup_has(m, ctrl) &&
		    enable_controller(m, ctrl, "linux.resources.unified", err) < 0)
			return err->code;
		if (hk_cgroup_write(m, file, "linux.resources.unified", err, "%s", eq + 1) < 0)
			return err->code;
	}
	return 0;
}

static int v2_freeze(const struct hk_cgroup_mount *m, bool frozen, struct hk_error *err)
{
	return hk_cgroup_write(m, "cgroup.freeze", frozen ? "pause" : "resume", err, "%d",
			       frozen ? 1 : 0);
}

static bool v2_frozen(const struct hk_cgroup_mount *m)
{
	char path[PATH_MAX + 32];
	_cleanup_free_ char *events = NULL;
	struct hk_error ignored;

	snprintf(path, sizeof(path), "%s/cgroup.events", m->path);
	return hk_read_file_at(AT_FDCWD, path, 4096, &events, NULL, &ignored) == 0 &&
	       strstr(events, "frozen 1") != NULL;
}

static void v2_stats(const struct hk_cgroup_mount *m, struct hk_cgroup_stats *st)
{
	bool ok;

	/* cpu.stat's usage is there without the cpu controller; throttling is not. */
	if (!st->has_cpu) {
		_cleanup_free_ char *cpu = hk_cgroup_read(m, "cpu.stat");
		if (cpu) {
			st->has_cpu = true;
			st->cpu_total = hk_cgroup_read_key(m, "cpu.stat", "usage_usec") * 1000;
			st->cpu_user = hk_cgroup_read_key(m, "cpu.stat", "user_usec") * 1000;
			st->cpu_kernel = hk_cgroup_read_key(m, "cpu.stat", "system_usec") * 1000;
			st->periods = hk_cgroup_read_key(m, "cpu.stat", "nr_periods");
			st->throttled_periods = hk_cgroup_read_key(m, "cpu.stat", "nr_throttled");
			st->throttled_time =
			    hk_cgroup_read_key(m, "cpu.stat", "throttled_usec") * 1000;
		}
	}
	if (hk_cgroup_has(m, "memory") && !st->has_memory) {
		st->mem_usage = hk_cgroup_read_u64(m, "memory.current", &ok);
		st->has_memory = ok;
		st->mem_max = hk_cgroup_read_u64(m, "memory.peak", NULL);
		st->mem_limit = hk_cgroup_read_u64(m, "memory.max", NULL);
		st->mem_failcnt = hk_cgroup_read_key(m, "memory.events", "max");
		st->swap_usage = hk_cgroup_read_u64(m, "memory.swap.current", &ok);
		st->has_swap = ok;
		st->swap_limit = hk_cgroup_read_u64(m, "memory.swap.max", NULL);
		st->mem_raw = hk_cgroup_read(m, "memory.stat");
	}
}

const struct hk_cgroup_ops hk_cgroup_v2_ops = {
    .name = "cgroup v2",
    .apply = v2_apply,
    .freeze = v2_freeze,
    .frozen = v2_frozen,
    .stats = v2_stats,
};
