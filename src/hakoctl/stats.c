// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * hakoctl top CONTAINER [PS-ARGS...] and stats [--no-stream] [CONTAINER...]:
 * its processes and its cgroups' figures, both from the runtime (`ps`,
 * `events --stats`).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "commands.h"
#include "container.h"
#include "json.h"
#include "runtime.h"
#include "util.h"

/* hakoctl top CONTAINER [PS-ARGS...]: its processes, through `RUNTIME ps`. */
int ctl_top(const struct ctl_globals *g, int argc, char **argv, struct hk_error *err)
{
	_cleanup_free_ const char **args = hk_xmalloc((size_t)(argc + 3) * sizeof(*args));
	struct hk_ctr c;
	struct hk_store s;
	int n = 0, r;

	if (argc < 2)
		return hk_error_setx(err, -EINVAL, "top: expected a CONTAINER");
	if ((r = ctl_store_open(g, &s, err)) < 0)
		return r;
	r = hk_ctr_find(&s, ctl_run_dir(g), argv[1], &c, err);
	hk_store_close(&s);
	if (r < 0)
		return r;
	if (c.status != HK_CTR_RUNNING) {
		r = hk_error_setx(err, -EINVAL, "container \"%s\" is not running", c.name);
		goto out;
	}
	args[n++] = "ps";
	args[n++] = c.id;
	for (int i = 2; i < argc; i++)
		args[n++] = argv[i];
	args[n] = NULL;
	fflush(stdout);
	if ((r = ctl_runtime_call(g, args, false, err)) > 0)
		r = hk_error_setx(err, -EIO, "the runtime's ps failed");
out:
	hk_ctr_free(&c);
	return r < 0 ? r : 0;
}

/* One sample of a container's cgroups: CPU time (ns), memory, its limit, pids. */
struct sample {
	double cpu_ns, mem, limit, pids;
	bool ok;
};

static double number_at(const struct hk_json *v, const char *const *path)
{
	for (; v && *path; path++)
		v = hk_json_get(v, *path);
	return v && v->type == HK_JSON_NUMBER ? strtod(v->text, NULL) : 0;
}

static struct sample take_sample(const struct ctl_globals *g, const char *id)
{
	const char *args[] = {"events", "--stats", id, NULL};
	struct hk_buf out = HK_BUF_INIT;
	struct hk_error err = {0};
	struct hk_json *v = NULL;
	struct sample smp = {0};

	if (ctl_runtime_output(g, args, &out, &err) == 0 &&
	    hk_json_parse(out.buf, out.len, &v, &err) == 0) {
		const struct hk_json *d = hk_json_get(v, "data");
		smp.cpu_ns = number_at(d, (const char *const[]){"cpu", "usage", "total", NULL});
		smp.mem = number_at(d, (const char *const[]){"memory", "usage", "usage", NULL});
		smp.limit = number_at(d, (const char *const[]){"memory", "usage", "limit", NULL});
		smp.pids = number_at(d, (const char *const[]){"pids", "current", NULL});
		smp.ok = true;
	}
	hk_json_free(v);
	hk_buf_release(&out);
	return smp;
}

static void human_bytes(double n, char *buf, size_t size)
{
	static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
	int u = 0;

	while (n >= 1024 && u < 4)
		n /= 1024, u++;
	snprintf(buf, size, u ? "%.1f%s" : "%.0f%s", n, units[u]);
}

/*
 * hakoctl stats [--no-stream] [CONTAINER...]: CPU %, memory and pids of
 * running containers from their cgroups (`RUNTIME events --stats`), two
 * samples half a second apart for the CPU; each second again, unless
 * --no-stream.
 */
int ctl_stats(const struct ctl_globals *g, int argc, char **argv, struct hk_error *err)
{
	static const struct option opts[] = {
	    {"no-stream", no_argument, NULL, 'n'},
	    {NULL, 0, NULL, 0},
	};
	bool stream = true;
	struct hk_ctr *v = NULL, *pick;
	struct hk_store s;
	size_t n = 0, k = 0;
	int ch, r;

	optind = 0;
	while ((ch = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		if (ch != 'n')
			return hk_error_setx(err, -EINVAL, "see hakoctl stats --help");
		stream = false;
	}
	if ((r = ctl_store_open(g, &s, err)) < 0)
		return r;
	if ((r = hk_ctr_list(&s, ctl_run_dir(g), &v, &n, err)) < 0)
		goto out;
	pick = hk_xmalloc((n ? n : 1) * sizeof(*pick));
	for (size_t i = 0; i < n; i++) {
		bool named = optind == argc;
		for (int j = optind; j < argc && !named; j++)
			named = strcmp(argv[j], v[i].name) == 0 ||
				strncmp(v[i].id, argv[j], strlen(argv[j])) == 0;
		if (named && v[i].status == HK_CTR_RUNNING)
			pick[k++] = v[i];
	}
	if (optind < argc && k < (size_t)(argc - optind)) {
		r = hk_error_setx(err, -ENOENT, "not every container named is running");
		free(pick);
		goto out;
	}
	do {
		struct sample *a = hk_xmalloc((k ? k : 1) * sizeof(*a));
		struct timespec t0, t1;

		clock_gettime(CLOCK_MONOTONIC, &t0);
		for (size_t i = 0; i < k; i++)
			a[i] = take_sample(g, pick[i].id);
		usleep(500 * 1000);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		double wall =
		    (double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec);
		printf("%-12s  %-20s  %7s  %-21s  %6s  %s\n", "CONTAINER ID", "NAME", "CPU %",
		       "MEM USAGE / LIMIT", "MEM %", "PIDS");
		for (size_t i = 0; i < k; i++) {
			struct sample b = take_sample(g, pick[i].id);
			char mem[32], lim[32], usage[72];
			bool limited = b.limit > 0 && b.limit < 1e18;

			human_bytes(b.mem, mem, sizeof(mem));
			human_bytes(limited ? b.limit : 0, lim, sizeof(lim));
			snprintf(usage, sizeof(usage), "%s / %s", mem, limited ? lim : "-");
			printf("%.12s  %-20.20s  %6.2f%%  %-21s  %5.2f%%  %.0f\n", pick[i].id,
			       pick[i].name,
			       a[i].ok && b.ok ? (b.cpu_ns - a[i].cpu_ns) / wall * 100 : 0.0, usage,
			       limited ? b.mem / b.limit * 100 : 0.0, b.pids);
		}
		fflush(stdout);
		free(a);
	} while (stream);
	free(pick);
out:
	hk_ctr_list_free(v, n);
	hk_store_close(&s);
	return r;
}
