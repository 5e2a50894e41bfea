// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * New TCP connections per second, for bench/netscale.py: `tcpconn serve
 * PORT` accepts and closes each connection; `tcpconn connect ADDR PORT
 * SECONDS` opens and closes connections to it, one after another, for so
 * long, and prints how many a second it made. Static, so that it runs in a
 * container as it is.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	int one = 1;

	if (argc == 3 && strcmp(argv[1], "serve") == 0) {
		int s = socket(AF_INET, SOCK_STREAM, 0);
		sa.sin_port = htons((uint16_t)atoi(argv[2]));
		setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(s, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(s, 4096) < 0) {
			perror("tcpconn serve");
			return 1;
		}
		for (;;) {
			int c = accept(s, NULL, NULL);
			if (c >= 0)
				close(c);
		}
	}
	if (argc == 5 && strcmp(argv[1], "connect") == 0) {
		double end = now() + atof(argv[4]), start = now();
		long n = 0, failed = 0;
		struct linger lg = {1, 0}; /* RST on close: no TIME_WAIT piles up on our side */

		sa.sin_port = htons((uint16_t)atoi(argv[3]));
		if (inet_pton(AF_INET, argv[2], &sa.sin_addr) != 1)
			return 2;
		while (now() < end) {
			int c = socket(AF_INET, SOCK_STREAM, 0);
			setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
			if (connect(c, (struct sockaddr *)&sa, sizeof(sa)) == 0)
				n++;
			else
				failed++;
			close(c);
		}
		printf("%.0f %ld\n", (double)n / (now() - start), failed);
		return 0;
	}
	fprintf(stderr, "usage: tcpconn serve PORT | tcpconn connect ADDR PORT SECONDS\n");
	return 2;
}
