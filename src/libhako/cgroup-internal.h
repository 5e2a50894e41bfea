/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Between cgroup.c and its backends. A hierarchy is driven by the backend of
 * its version: cgroup-v1.c for each v1 mount, cgroup-v2.c for the unified
 * one. On a hybrid host both take part, each for the controllers it holds.
 */
#pragma once

#include <stdbool.h>

#include "cgroup.h"
#include "spec.h"

struct hk_cgroup_ops {
	const char *name; /* "cgroup v1" */
	/* Write the limits whose controller this hierarchy holds. */
	int (*apply)(const struct hk_cgroup_mount *m, const struct hk_spec *spec,
		     const struct hk_resources *r, struct hk_error *err);
	/* Freeze or thaw every process in the container's cgroup. */
	int (*freeze)(const struct hk_cgroup_mount *m, bool frozen, struct hk_error *err);
	/* Is the container's cgroup frozen? (false when unknown) */
	bool (*frozen)(const struct hk_cgroup_mount *m);
	/* Fill in what this hierarchy counts. */
	void (*stats)(const struct hk_cgroup_mount *m, struct hk_cgroup_stats *st);
};

/* pids.max, the same file in both versions; 0 or less is no limit, as runc reads it. */
int hk_cgroup_write_pids(const struct hk_cgroup_mount *m, const struct hk_resources *r,
			 struct hk_error *err);

/* A number from a cgroup file ("max" is UINT64_MAX); 0 when unreadable. */
uint64_t hk_cgroup_read_u64(const struct hk_cgroup_mount *m, const char *file, bool *ok);
/* The value of "key N" in a flat-keyed cgroup file, or 0. */
uint64_t hk_cgroup_read_key(const struct hk_cgroup_mount *m, const char *file, const char *key);
/* A whole cgroup file, or NULL. */
char *hk_cgroup_read(const struct hk_cgroup_mount *m, const char *file);

extern const struct hk_cgroup_ops hk_cgroup_v1_ops, hk_cgroup_v2_ops;

/* The devices every container may use, applied after the config's rules. */
extern const struct hk_device_rule hk_cgroup_default_devices[];
extern const size_t hk_cgroup_n_default_devices;

/* cgroup v2 device rules: load an eBPF program and attach it to m's cgroup. */
int hk_cgroup_bpf_devices(const struct hk_cgroup_mount *m, const struct hk_device_rule *rules,
			  size_t n, const struct hk_device_rule *defaults, size_t n_defaults,
			  struct hk_error *err);

/* Does hierarchy m hold controller name ("memory", "io", "name=systemd")? */
bool hk_cgroup_has(const struct hk_cgroup_mount *m, const char *name);

/*
 * Write a knob of the container's cgroup on m, narrated under --debug. The
 * error names the config's field (what), so a user knows which limit failed.
 */
int hk_cgroup_write(const struct hk_cgroup_mount *m, const char *file, const char *what,
		    struct hk_error *err, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
