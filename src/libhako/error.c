/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "error.h"

const char *hk_strerror(int errnum, char *buf, unsigned size)
{
	/* strerrordesc_np() returns a constant string: safe after clone(). */
	const char *desc = strerrordesc_np(errnum);

	if (!desc) {
		snprintf(buf, size, "errno %d", errnum);
		return buf;
	}
	snprintf(buf, size, "%s", desc);
	buf[0] = (char)tolower((unsigned char)buf[0]);
	return buf;
}

static int error_vset(struct hk_error *err, int code, int with_errno, const char *fmt, va_list ap)
{
	int n;

	if (!err)
		return code;
	err->code = code;
	n = vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	if (n < 0)
		n = 0;
	if (with_errno && code < 0 && (size_t)n < sizeof(err->msg)) {
		char tmp[128];
		snprintf(err->msg + n, sizeof(err->msg) - n, ": %s",
			 hk_strerror(-code, tmp, sizeof(tmp)));
	}
	return code;
}

int hk_error_set(struct hk_error *err, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	error_vset(err, code, 1, fmt, ap);
	va_end(ap);
	return code;
}

int hk_error_setx(struct hk_error *err, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	error_vset(err, code, 0, fmt, ap);
	va_end(ap);
	return code;
}

int hk_error_prefix(struct hk_error *err, const char *fmt, ...)
{
	char old[HK_ERROR_MSG_MAX];
	va_list ap;
	int n;

	if (!err)
		return -EINVAL;
	memcpy(old, err->msg, sizeof(old));
	va_start(ap, fmt);
	n = vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	if (n >= 0 && (size_t)n + 2 < sizeof(err->msg))
		snprintf(err->msg + n, sizeof(err->msg) - (size_t)n, ": %.*s",
			 (int)(sizeof(err->msg) - (size_t)n - 3), old);
	return err->code;
}

void hk_error_clear(struct hk_error *err)
{
	err->code = 0;
	err->msg[0] = '\0';
}
