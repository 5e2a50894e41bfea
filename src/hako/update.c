/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * update: new limits for a container, from runc's flags or from
 * --resources FILE (or - for stdin: a linux.resources object, as containerd
 * and podman send it).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "commands.h"
#include "hako.h"
#include "util.h"

/* "512m", "1G", "1048576" or -1 (unlimited), as runc's RAMInBytes reads them. */
static int parse_bytes(const char *s, int64_t *ret)
{
	static const char units[] = "bkmgtp";
	char *end;
	long long v;
	const char *u;
	int shift = 0;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (end == s || errno)
		return -EINVAL;
	if (v == -1 && !*end)
		return *ret = -1, 0;
	if (v < 0)
		return -EINVAL;
	if (*end) {
		u = strchr(units, end[0] | 0x20);
		if (!u || (end[1] && strcasecmp(end + 1, "b") && strcasecmp(end + 1, "ib")))
			return -EINVAL;
		shift = (int)(u - units) * 10;
	}
	if (shift && v > (INT64_MAX >> shift))
		return -ERANGE;
	*ret = (int64_t)v << shift;
	return 0;
}

static int read_resources(const char *file, struct hk_resources *r, struct hk_error *err)
{
	_cleanup_free_ char *text = NULL;
	size_t len = 0;
	const char *name = strcmp(file, "-") ? file : "(stdin)";

	if (hk_read_file_at(AT_FDCWD, strcmp(file, "-") ? file : "/dev/stdin", 16 << 20, &text,
			    &len, err) < 0)
		return hk_error_prefix(err, "--resources");
	return hk_resources_parse(text, len, name, r, err);
}

int cmd_update(const struct hako_globals *g, int argc, char **argv, struct hk_error *err)
{
	enum {
		MEM = 1000,
		SWAP,
		RES,
		KMEM,
		KTCP,
		SHARES,
		QUOTA,
		PERIOD,
		RTP,
		RTR,
		CPUS,
		MEMS,
		PIDS,
		BLKIO
	};
	static const struct option opts[] = {
	    {"resources", required_argument, NULL, 'r'},
	    {"memory", required_argument, NULL, MEM},
	    {"memory-swap", required_argument, NULL, SWAP},
	    {"memory-reservation", required_argument, NULL, RES},
	    {"kernel-memory", required_argument, NULL, KMEM},
	    {"kernel-memory-tcp", required_argument, NULL, KTCP},
	    {"cpu-share", required_argument, NULL, SHARES},
	    {"cpu-quota", required_argument, NULL, QUOTA},
	    {"cpu-period", required_argument, NULL, PERIOD},
	    {"cpu-rt-period", required_argument, NULL, RTP},
	    {"cpu-rt-runtime", required_argument, NULL, RTR},
	    {"cpuset-cpus", required_argument, NULL, CPUS},
	    {"cpuset-mems", required_argument, NULL, MEMS},
	    {"pids-limit", required_argument, NULL, PIDS},
	    {"blkio-weight", required_argument, NULL, BLKIO},
	    {NULL, 0, NULL, 0},
	};
	struct hk_resources r = {0};
	const char *file = NULL;
	_cleanup_(hako_closep) struct hako_container *ct = NULL;
	int c, i, e = 0;

	optind = 1;
	while (e == 0 && (c = getopt_long(argc, argv, "+r:", opts, NULL)) != -1) {
		struct hk_opt *o = NULL;
		bool bytes = false;
		long long lo = INT64_MIN, hi = INT64_MAX, v;
		char *end;

		switch (c) {
		case 'r':
			file = optarg;
			continue;
		case MEM:
			o = &r.mem_limit, bytes = true;
			break;
		case SWAP:
			o = &r.mem_swap, bytes = true;
			break;
		case RES:
			o = &r.mem_reservation, bytes = true;
			break;
		case KMEM:
			o = &r.mem_kernel, bytes = true;
			break;
		case KTCP:
			o = &r.mem_kernel_tcp, bytes = true;
			break;
		case SHARES:
			o = &r.cpu_shares, lo = 0;
			break;
		case QUOTA:
			o = &r.cpu_quota, lo = -1;
			break;
		case PERIOD:
			o = &r.cpu_period, lo = 0;
			break;
		case RTP:
			o = &r.cpu_rt_period, lo = 0;
			break;
		case RTR:
			o = &r.cpu_rt_runtime, lo = -1;
			break;
		case PIDS:
			o = &r.pids_limit;
			break;
		case BLKIO:
			o = &r.blkio_weight, lo = 10, hi = 1000;
			break;
		case CPUS:
		case MEMS:
			if (strspn(optarg, "0123456789,-") != strlen(optarg))
				return hk_error_setx(err, -EINVAL,
						     "update: --%s: \"%s\" is not a list "
						     "like \"0-2,4\"",
						     c == CPUS ? "cpuset-cpus" : "cpuset-mems",
						     optarg);
			free(c == CPUS ? r.cpus : r.mems);
			*(c == CPUS ? &r.cpus : &r.mems) = hk_xstrdup(optarg);
			continue;
		default:
			hk_resources_release(&r);
			return hk_error_setx(err, -EINVAL,
					     "usage: hako update [--resources FILE|-] "
					     "[--memory N] [--cpu-quota N] ... ID");
		}
		if (bytes) {
			int64_t b;
			e = parse_bytes(optarg, &b);
			v = b;
		} else {
			errno = 0;
			v = strtoll(optarg, &end, 10);
			e = end == optarg || *end || errno || v < lo || v > hi ? -EINVAL : 0;
		}
		if (e < 0) {
			hk_resources_release(&r);
			return hk_error_setx(err, -EINVAL, "update: --%s: bad value \"%s\"",
					     opts[c - MEM + 1].name, optarg);
		}
		*o = (struct hk_opt){true, v};
	}
	i = hako_want_id(argc, argv, optind, "hako update [flags] ID", err);
	if (i < 0) {
		hk_resources_release(&r);
		return i;
	}
	/* As runc: the file replaces the flags. */
	if (file) {
		hk_resources_release(&r);
		if (read_resources(file, &r, err) < 0)
			return err->code;
	}
	if ((e = hako_open(g->root, argv[i], &ct, err)) >= 0)
		e = hako_update(ct, &r, err);
	hk_resources_release(&r);
	return e;
}
