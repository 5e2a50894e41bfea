/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A minimal TAP producer for meson's "tap" protocol. */
#pragma once
#include <stdio.h>
#include <string.h>

static int tap_n, tap_failed;

#define ok(cond, ...)                                                                              \
	do {                                                                                       \
		int _c = !!(cond);                                                                 \
		printf("%sok %d - ", _c ? "" : "not ", ++tap_n);                                   \
		printf(__VA_ARGS__);                                                               \
		printf("\n");                                                                      \
		if (!_c) {                                                                         \
			tap_failed++;                                                              \
			printf("# failed at %s:%d\n", __FILE__, __LINE__);                         \
		}                                                                                  \
	} while (0)

#define tap_done()                                                                                 \
	do {                                                                                       \
		printf("1..%d\n", tap_n);                                                          \
		return tap_failed ? 1 : 0;                                                         \
	} while (0)
