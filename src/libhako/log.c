/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

bool hk_log_debug_enabled;
static int log_fd = STDERR_FILENO;
static enum hk_log_format log_format = HK_LOG_TEXT;
static const char *log_name = "hako";

void hk_log_set_name(const char *name)
{
	log_name = name;
}

void hk_log_setup(int fd, enum hk_log_format format, bool debug)
{
	log_fd = fd;
	log_format = format;
	hk_log_debug_enabled = debug;
}

int hk_log_fd(void)
{
	return log_fd;
}

enum hk_log_format hk_log_format(void)
{
	return log_format;
}

void hk_log_write(const char *level, const char *fmt, ...)
{
	char msg[2048], line[4608];
	va_list ap;
	int n;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);

	if (log_format == HK_LOG_JSON) {
		char esc[4200], stamp[64];

		hk_time_rfc3339(stamp, sizeof(stamp));
		hk_json_escape(esc, sizeof(esc), msg);
		n = snprintf(line, sizeof(line),
			     "{\"level\":\"%s\",\"msg\":\"%s\",\"time\":\"%s\"}\n", level, esc,
			     stamp);
	} else if (strcmp(level, "debug") == 0) {
		n = snprintf(line, sizeof(line), "%s[%d]: %s\n", log_name, (int)getpid(), msg);
	} else {
		n = snprintf(line, sizeof(line), "%s: %s\n", level, msg);
	}
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(line))
		n = sizeof(line) - 1;
	/* One write: lines from the parent and the child never interleave. A
	 * log whose reader is gone (`hako --debug run ... | head -1`) costs
	 * nothing from then on and raises no SIGPIPE, which a foreground run
	 * would forward to the container, and log, and raise again. */
	if (log_fd >= 0 && hk_write_nosigpipe(log_fd, line, (size_t)n) < 0 && errno == EPIPE)
		log_fd = -1;
}
