/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Small helpers shared by every part of hako: cleanup attributes (as in
 * systemd and bubblewrap), a growable string buffer (as git's strbuf), and
 * file helpers that report errors as struct hk_error.
 */
#pragma once

#include <errno.h>
#include <sched.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <unistd.h>

#include "error.h"

#define _cleanup_(f) __attribute__((cleanup(f)))

static inline void hk_freep(void *p)
{
	free(*(void **)p);
}

static inline void hk_closep(int *fd)
{
	if (*fd >= 0) {
		int saved = errno;
		close(*fd);
		errno = saved;
	}
}

#define _cleanup_free_	_cleanup_(hk_freep)
#define _cleanup_close_ _cleanup_(hk_closep)

/* Hand ownership on: return the pointer and clear the variable. */
#define TAKE_PTR(p)                                                                                \
	({                                                                                         \
		__typeof__(p) _p = (p);                                                            \
		(p) = NULL;                                                                        \
		_p;                                                                                \
	})
#define TAKE_FD(fd)                                                                                \
	({                                                                                         \
		int _fd = (fd);                                                                    \
		(fd) = -1;                                                                         \
		_fd;                                                                               \
	})

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* A growable, always NUL-terminated string. */
struct hk_buf {
	char *buf;
	size_t len;
	size_t alloc;
};

#define HK_BUF_INIT                                                                                \
	{                                                                                          \
		NULL, 0, 0                                                                         \
	}

void hk_buf_add(struct hk_buf *b, const char *data, size_t len);
void hk_buf_adds(struct hk_buf *b, const char *s);
void hk_buf_addf(struct hk_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Append s as a quoted, escaped JSON string. */
void hk_buf_add_json_string(struct hk_buf *b, const char *s);
/*
 * The one JSON string escaper: src escaped (without the quotes) into dst,
 * NUL-terminated, cut before a sequence that would not fit; allocates
 * nothing (the log uses it in the container's child). Returns the length.
 */
size_t hk_json_escape(char *dst, size_t size, const char *src);
/* Now as RFC 3339 in UTC with nanoseconds ("2026-12-01T17:01:15.123456789Z"). */
void hk_time_rfc3339(char *buf, size_t size);
/* CLOCK_MONOTONIC in ms: for timeouts. */
long long hk_now_ms(void);
/*
 * Every event queued on inotify fd ino read (it is non-blocking): whether
 * one of them named name, with a bit of mask.
 */
bool hk_inotify_saw(int ino, const char *name, unsigned mask);
/* Return the string (never NULL) and leave b empty; the caller frees it. */
char *hk_buf_detach(struct hk_buf *b);
void hk_buf_release(struct hk_buf *b);

void *hk_xmalloc(size_t n);
void *hk_xrealloc(void *p, size_t n);
char *hk_xstrdup(const char *s);

/* Free a NULL-terminated array of strings and the array itself. NULL is fine. */
void hk_strv_free(char **v);
size_t hk_strv_len(char *const *v);
char **hk_strv_dup(char *const *v);
static inline void hk_strv_freep(char ***v)
{
	hk_strv_free(*v);
}
#define _cleanup_strv_free_ _cleanup_(hk_strv_freep)

/* Read a whole file (at most max bytes) into a NUL-terminated buffer. */
int hk_read_file_at(int dirfd, const char *path, size_t max, char **ret, size_t *ret_len,
		    struct hk_error *err);
/* The same for a file that must be a regular one (state.json, config.json):
 * anything else (a FIFO, a directory, a device) is refused, without waiting. */
int hk_read_regular_file_at(int dirfd, const char *path, size_t max, char **ret, size_t *ret_len,
			    struct hk_error *err);
/* write(2), retried on EINTR, that raises no SIGPIPE: a closed pipe gives -1
 * with errno EPIPE only (the signal is blocked, then taken if it was ours). */
ssize_t hk_write_nosigpipe(int fd, const void *buf, size_t len);
/* Write data to an existing file, in one write(2), without creating it. */
int hk_write_file(const char *path, const char *data, size_t len, struct hk_error *err);
/*
 * Write data to rel ("sys/kernel/shmmni") below procfd, a procfs root (see
 * hk_proc_open()), refusing a file that another mount covers or that is not
 * on procfs.
 */
int hk_write_proc(int procfd, const char *rel, const char *data, size_t len, struct hk_error *err);
/*
 * Replace dirfd/name with data atomically: write a temporary file in the same
 * directory, fsync-free (state lives on tmpfs), then rename(2) over the name.
 */
int hk_write_atomic_at(int dirfd, const char *name, const char *data, size_t len,
		       struct hk_error *err);
/*
 * name in dirfd, made with data in it only if it is not there (-EEXIST),
 * and never seen without all of it: an unnamed O_TMPFILE, linked in whole.
 */
int hk_link_new_file_at(int dirfd, const char *name, const char *data, size_t len,
			struct hk_error *err);

/* mkdir -p, mode for every created component. Existing directories are fine. */
int hk_mkdir_p(const char *path, mode_t mode, struct hk_error *err);

/* Parse a decimal integer of the whole string into ret; -EINVAL or -ERANGE. */
int hk_parse_int64(const char *s, long long *ret);
/* A cpu list as in cpuset(7), "0-3,7"; -EINVAL or -ERANGE when it is not one. */
int hk_parse_cpu_list(const char *s, cpu_set_t *set);
