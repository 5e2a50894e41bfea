// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * bench-nftports HAKO-NFT: what publishing a port costs as the maps grow,
 * through the code hakoctl runs (net/nft.c's one nfnetlink transaction per
 * container), in a network namespace of its own: hakoctl's table made by
 * hako-nft, then 10,000 ports added one at a time (each timed), then a
 * 1,000-port range in one transaction. Prints JSON, for bench/netscale.py.
 */
#include <netinet/in.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "network.h"
#include "nft.h"
#include "util.h"

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* The median of v[from..to). */
static double median(const double *v, int from, int to)
{
	double w[1000];
	int n = to - from;

	for (int i = 0; i < n; i++)
		w[i] = v[from + i];
	qsort(w, (size_t)n, sizeof(*w), cmp);
	return w[n / 2];
}

int main(int argc, char **argv)
{
	enum { N = 10000, RANGE = 1000 };
	static double t[N];
	static struct hk_port range[RANGE];
	struct hk_error err = {0};
	struct hk_buf b = HK_BUF_INIT;
	double t0;

	if (argc != 2 || unshare(CLONE_NEWNET) < 0) {
		fprintf(stderr, "usage: bench-nftports HAKO-NFT (as root)\n");
		return 2;
	}
	hk_nft_ruleset(&b, &hk_network_default, 1, NULL, 0);
	if (hk_nft_apply(argv[1], -1, b.buf, b.len, &err) < 0) {
		fprintf(stderr, "%s\n", err.msg);
		return 1;
	}
	for (int i = 0; i < N; i++) {
		struct hk_port p = {
		    .host_port = (uint16_t)(10000 + i), .ctr_port = 80, .proto = IPPROTO_TCP};
		t0 = now_ms();
		if (hk_nft_ports(-1, true, "10.88.0.2", "fd00:db8::2", &p, 1, &err) < 0) {
			fprintf(stderr, "port %d: %s\n", i, err.msg);
			return 1;
		}
		t[i] = now_ms() - t0;
	}
	for (int i = 0; i < RANGE; i++)
		range[i] = (struct hk_port){.host_port = (uint16_t)(30000 + i),
					    .ctr_port = (uint16_t)(30000 + i),
					    .proto = IPPROTO_TCP};
	t0 = now_ms();
	if (hk_nft_ports(-1, true, "10.88.0.3", "fd00:db8::3", range, RANGE, &err) < 0) {
		fprintf(stderr, "range: %s\n", err.msg);
		return 1;
	}
	printf("{\"first\": %.3f, \"first10\": %.3f, \"at1000\": %.3f, \"around1000\": %.3f, "
	       "\"around10000\": %.3f, \"range1000\": %.3f}\n",
	       t[0], median(t, 0, 10), t[999], median(t, 990, 1000), median(t, N - 10, N),
	       now_ms() - t0);
	hk_buf_release(&b);
	return 0;
}
