/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Logging and narration. The library never prints on its own: it calls
 * hk_debug() to narrate each kernel step (shown by `hako --debug`) and the CLI
 * calls hk_log_error() once for a failure.
 *
 * Every line is formatted into a stack buffer and written with one write(2),
 * so the container child may narrate between clone() and execve() too, and
 * lines of the parent and the child never interleave mid-line.
 */
#pragma once

#include <stdbool.h>

enum hk_log_format {
	HK_LOG_TEXT,
	HK_LOG_JSON,
};

/* Read directly by hk_debug() so that narration costs one branch when off. */
extern bool hk_log_debug_enabled;

/* Send logs to fd (stderr by default) in the given format. */
void hk_log_setup(int fd, enum hk_log_format format, bool debug);
int hk_log_fd(void);
/* The program name in text debug lines ("hako[pid]: ..."); hakoctl sets its own. */
void hk_log_set_name(const char *name);
enum hk_log_format hk_log_format(void);

void hk_log_write(const char *level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define hk_debug(...)                                                                              \
	do {                                                                                       \
		if (hk_log_debug_enabled)                                                          \
			hk_log_write("debug", __VA_ARGS__);                                        \
	} while (0)

#define hk_warn(...) hk_log_write("warning", __VA_ARGS__)
