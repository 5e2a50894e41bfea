/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The error value. It is a fixed-size struct on purpose: the container child
 * fills one in between clone() and execve(), where it may not allocate, and
 * sends it to the parent as one message over the sync socket (see sync.h).
 */
#pragma once

#include <stdarg.h>

#define HK_ERROR_MSG_MAX 1024

struct hk_error {
	int code; /* a negative errno, or 0 for "no error" */
	char msg[HK_ERROR_MSG_MAX];
};

/*
 * Fill err with code and a message, and return code (so callers can write
 * "return hk_error_set(err, -errno, ...)"). When code is an errno the
 * message gets ": <description>" appended in runc's lowercase wording, for
 * example "open \"/x\": no such file or directory". Pass code 0 as the
 * second argument to hk_error_setx() for a message with no errno text.
 */
int hk_error_set(struct hk_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Like hk_error_set() but the message is taken as is (no errno text). */
int hk_error_setx(struct hk_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Put "context: " in front of the message already in err; return err->code. */
int hk_error_prefix(struct hk_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void hk_error_clear(struct hk_error *err);
/* errno's description in runc's (Go's) wording: lowercase, no allocation. */
const char *hk_strerror(int errnum, char *buf, unsigned size);
