/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

bool hk_log_debug_enabled;
static int log_fd = STDERR_FILENO;
static enum hk_log_format log_format = HK_LOG_TEXT;

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

/* JSON-escape src into dst without allocating; truncates safely. */
static size_t json_escape(char *dst, size_t size, const char *src)
{
	size_t o = 0;

	for (; *src && o + 7 < size; src++) {
		unsigned char c = (unsigned char)*src;
		if (c == '"' || c == '\\') {
			dst[o++] = '\\';
			dst[o++] = (char)c;
		} else if (c == '\n') {
			dst[o++] = '\\';
			dst[o++] = 'n';
		} else if (c < 0x20) {
			o += (size_t)snprintf(dst + o, size - o, "\\u%04x", c);
		} else {
			dst[o++] = (char)c;
		}
	}
	dst[o] = '\0';
	return o;
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
		struct timespec ts;
		struct tm tm;

		clock_gettime(CLOCK_REALTIME, &ts);
		gmtime_r(&ts.tv_sec, &tm);
		strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
		json_escape(esc, sizeof(esc), msg);
		n = snprintf(line, sizeof(line),
			     "{\"level\":\"%s\",\"msg\":\"%s\",\"time\":\"%s.%09ldZ\"}\n", level,
			     esc, stamp, ts.tv_nsec);
	} else if (strcmp(level, "debug") == 0) {
		n = snprintf(line, sizeof(line), "hako[%d]: %s\n", (int)getpid(), msg);
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
