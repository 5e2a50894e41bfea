/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <fcntl.h>
#include <signal.h>
#include <time.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <unistd.h>
#include <linux/magic.h>
#include <linux/openat2.h>

#include "util.h"

void *hk_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		abort(); /* out of memory: nothing sensible is left to do */
	return p;
}

void *hk_xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		abort();
	return p;
}

char *hk_xstrdup(const char *s)
{
	char *d = strdup(s);

	if (!d)
		abort();
	return d;
}

static void buf_grow(struct hk_buf *b, size_t extra)
{
	size_t want = b->len + extra + 1;

	if (want <= b->alloc)
		return;
	b->alloc = want < 64 ? 64 : want * 2;
	b->buf = hk_xrealloc(b->buf, b->alloc);
}

void hk_buf_add(struct hk_buf *b, const char *data, size_t len)
{
	buf_grow(b, len);
	memcpy(b->buf + b->len, data, len);
	b->len += len;
	b->buf[b->len] = '\0';
}

void hk_buf_adds(struct hk_buf *b, const char *s)
{
	hk_buf_add(b, s, strlen(s));
}

void hk_buf_addf(struct hk_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	buf_grow(b, (size_t)n);
	va_start(ap, fmt);
	vsnprintf(b->buf + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

size_t hk_json_escape(char *dst, size_t size, const char *src)
{
	size_t o = 0;

	/* Room for the longest sequence (\u001f) and the NUL, or stop. */
	for (; *src && o + 7 <= size; src++) {
		unsigned char c = (unsigned char)*src;
		const char *short_form = c == '"'    ? "\\\""
					 : c == '\\' ? "\\\\"
					 : c == '\n' ? "\\n"
					 : c == '\t' ? "\\t"
					 : c == '\r' ? "\\r"
						     : NULL;

		if (short_form) {
			memcpy(dst + o, short_form, 2);
			o += 2;
		} else if (c < 0x20) {
			o += (size_t)snprintf(dst + o, size - o, "\\u%04x", c);
		} else {
			dst[o++] = (char)c;
		}
	}
	if (size)
		dst[o] = '\0';
	return o;
}

void hk_buf_add_json_string(struct hk_buf *b, const char *s)
{
	size_t need = strlen(s) * 6 + 7;
	char small[512], *esc = need <= sizeof(small) ? small : hk_xmalloc(need);
	size_t n = hk_json_escape(esc, need, s);

	hk_buf_add(b, "\"", 1);
	hk_buf_add(b, esc, n);
	hk_buf_add(b, "\"", 1);
	if (esc != small)
		free(esc);
}

long long hk_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

bool hk_inotify_saw(int ino, const char *name, unsigned mask)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	bool saw = false;
	ssize_t n;

	while ((n = read(ino, buf, sizeof(buf))) > 0)
		for (char *q = buf; q < buf + n;) {
			struct inotify_event *ev = (struct inotify_event *)q;
			saw |= (ev->mask & mask) && ev->len && strcmp(ev->name, name) == 0;
			q += sizeof(*ev) + ev->len;
		}
	return saw;
}

void hk_time_rfc3339(char *buf, size_t size)
{
	struct timespec ts;
	struct tm tm;
	char base[32];

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, size, "%s.%09ldZ", base, ts.tv_nsec);
}

char *hk_buf_detach(struct hk_buf *b)
{
	char *s = b->buf ? b->buf : hk_xstrdup("");

	b->buf = NULL;
	b->len = b->alloc = 0;
	return s;
}

void hk_buf_release(struct hk_buf *b)
{
	free(b->buf);
	b->buf = NULL;
	b->len = b->alloc = 0;
}

void hk_strv_free(char **v)
{
	if (!v)
		return;
	for (char **p = v; *p; p++)
		free(*p);
	free(v);
}

char **hk_strv_dup(char *const *v)
{
	size_t n = hk_strv_len(v);
	char **d = hk_xmalloc((n + 1) * sizeof(char *));

	for (size_t i = 0; i < n; i++)
		d[i] = hk_xstrdup(v[i]);
	d[n] = NULL;
	return d;
}

size_t hk_strv_len(char *const *v)
{
	size_t n = 0;

	while (v && v[n])
		n++;
	return n;
}

static int read_fd(int fd, const char *path, size_t max, char **ret, size_t *ret_len,
		   struct hk_error *err)
{
	struct hk_buf b = HK_BUF_INIT;

	for (;;) {
		char chunk[8192];
		ssize_t n = read(fd, chunk, sizeof(chunk));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			hk_buf_release(&b);
			return hk_error_set(err, -errno, "read \"%s\"", path);
		}
		if (n == 0)
			break;
		if (b.len + (size_t)n > max) {
			hk_buf_release(&b);
			return hk_error_setx(
			    err, -EFBIG, "read \"%s\": file is larger than %zu bytes", path, max);
		}
		hk_buf_add(&b, chunk, (size_t)n);
	}
	if (ret_len)
		*ret_len = b.len;
	*ret = hk_buf_detach(&b);
	return 0;
}

int hk_read_file_at(int dirfd, const char *path, size_t max, char **ret, size_t *ret_len,
		    struct hk_error *err)
{
	_cleanup_close_ int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return hk_error_set(err, -errno, "open \"%s\"", path);
	return read_fd(fd, path, max, ret, ret_len, err);
}

int hk_read_regular_file_at(int dirfd, const char *path, size_t max, char **ret, size_t *ret_len,
			    struct hk_error *err)
{
	/* O_NONBLOCK: a FIFO put in the file's place must not hang the open. */
	_cleanup_close_ int fd = openat(dirfd, path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	struct stat st;

	if (fd < 0)
		return hk_error_set(err, -errno, "open \"%s\"", path);
	if (fstat(fd, &st) < 0)
		return hk_error_set(err, -errno, "stat \"%s\"", path);
	if (!S_ISREG(st.st_mode))
		return hk_error_setx(err, -EINVAL, "\"%s\" is not a regular file", path);
	return read_fd(fd, path, max, ret, ret_len, err);
}

int hk_write_file(const char *path, const char *data, size_t len, struct hk_error *err)
{
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOCTTY);
	ssize_t n;

	if (fd < 0)
		return hk_error_set(err, -errno, "open \"%s\"", path);
	n = write(fd, data, len);
	if (n < 0)
		return hk_error_set(err, -errno, "write \"%s\"", path);
	if ((size_t)n != len)
		return hk_error_setx(err, -EIO, "write \"%s\": short write", path);
	return 0;
}

int hk_write_proc(int procfd, const char *rel, const char *data, size_t len, struct hk_error *err)
{
	/* Below procfd and on its mount only: a mount over the file (a bind of
	 * the host's /proc/sys/kernel/printk_ratelimit over shmmni) is refused,
	 * not written through (the CVE-2025-52881 class). */
	struct open_how how = {
	    .flags = O_WRONLY | O_CLOEXEC | O_NOCTTY,
	    .resolve = RESOLVE_BENEATH | RESOLVE_NO_XDEV | RESOLVE_NO_MAGICLINKS,
	};
	_cleanup_close_ int fd = (int)syscall(SYS_openat2, procfd, rel, &how, sizeof(how));
	struct statfs sfs;
	ssize_t n;

	if (fd < 0 && errno == EXDEV)
		return hk_error_setx(
		    err, -EXDEV, "\"/proc/%s\" is covered by a mount: refusing to write it", rel);
	if (fd < 0)
		return hk_error_set(err, -errno, "open \"/proc/%s\"", rel);
	if (fstatfs(fd, &sfs) < 0 || sfs.f_type != PROC_SUPER_MAGIC)
		return hk_error_setx(err, -EXDEV,
				     "\"/proc/%s\" is not on procfs: refusing to write it", rel);
	n = write(fd, data, len);
	if (n < 0)
		return hk_error_set(err, -errno, "write \"/proc/%s\"", rel);
	if ((size_t)n != len)
		return hk_error_setx(err, -EIO, "write \"/proc/%s\": short write", rel);
	return 0;
}

int hk_write_atomic_at(int dirfd, const char *name, const char *data, size_t len,
		       struct hk_error *err)
{
	char tmp[NAME_MAX + 1];
	_cleanup_close_ int fd = -1;

	snprintf(tmp, sizeof(tmp), ".%s.tmp", name);
	fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return hk_error_set(err, -errno, "create \"%s\"", tmp);
	if (write(fd, data, len) != (ssize_t)len) {
		int e = errno ? errno : EIO;
		unlinkat(dirfd, tmp, 0);
		return hk_error_set(err, -e, "write \"%s\"", tmp);
	}
	if (renameat(dirfd, tmp, dirfd, name) < 0) {
		int e = errno;
		unlinkat(dirfd, tmp, 0);
		return hk_error_set(err, -e, "rename \"%s\" to \"%s\"", tmp, name);
	}
	return 0;
}

int hk_link_new_file_at(int dirfd, const char *name, const char *data, size_t len,
			struct hk_error *err)
{
	_cleanup_close_ int fd = openat(dirfd, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
	char self[32];

	if (fd < 0)
		return hk_error_set(err, -errno, "create \"%s\"", name);
	if (write(fd, data, len) != (ssize_t)len)
		return hk_error_set(err, errno ? -errno : -EIO, "write \"%s\"", name);
	snprintf(self, sizeof(self), "/proc/self/fd/%d", fd);
	if (linkat(AT_FDCWD, self, dirfd, name, AT_SYMLINK_FOLLOW) < 0)
		return hk_error_set(err, -errno, "link \"%s\"", name);
	return 0;
}

int hk_mkdir_p(const char *path, mode_t mode, struct hk_error *err)
{
	char buf[PATH_MAX];
	size_t len = strlen(path);

	if (len >= sizeof(buf))
		return hk_error_setx(err, -ENAMETOOLONG, "mkdir \"%s\": path too long", path);
	memcpy(buf, path, len + 1);
	for (char *p = buf + 1;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char saved = *p;
		*p = '\0';
		if (mkdir(buf, mode) < 0 && errno != EEXIST)
			return hk_error_set(err, -errno, "mkdir \"%s\"", buf);
		*p = saved;
		if (saved == '\0')
			break;
	}
	return 0;
}

int hk_parse_int64(const char *s, long long *ret)
{
	char *end;
	long long v;

	if (!s || !*s)
		return -EINVAL;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno == ERANGE)
		return -ERANGE;
	if (*end != '\0')
		return -EINVAL;
	*ret = v;
	return 0;
}

int hk_parse_cpu_list(const char *s, cpu_set_t *set)
{
	CPU_ZERO(set);
	if (!s || !*s)
		return -EINVAL;
	while (*s) {
		char *end;
		unsigned long lo, hi;

		if (*s < '0' || *s > '9')
			return -EINVAL;
		lo = hi = strtoul(s, &end, 10);
		if (*end == '-') {
			if (end[1] < '0' || end[1] > '9')
				return -EINVAL;
			hi = strtoul(end + 1, &end, 10);
		}
		if (lo > hi || hi >= CPU_SETSIZE)
			return -ERANGE;
		for (unsigned long cpu = lo; cpu <= hi; cpu++)
			CPU_SET(cpu, set);
		if (*end == ',' && end[1])
			end++;
		else if (*end)
			return -EINVAL;
		s = end;
	}
	return 0;
}

ssize_t hk_write_nosigpipe(int fd, const void *buf, size_t len)
{
	sigset_t pipe, old, pending;
	bool was_pending;
	ssize_t n;
	int e;

	sigemptyset(&pipe);
	sigaddset(&pipe, SIGPIPE);
	sigprocmask(SIG_BLOCK, &pipe, &old);
	sigpending(&pending);
	was_pending = sigismember(&pending, SIGPIPE);
	while ((n = write(fd, buf, len)) < 0 && errno == EINTR)
		;
	e = errno;
	if (n < 0 && e == EPIPE && !was_pending) {
		/* Take our own SIGPIPE before it is unblocked, or before a
		 * foreground run's signalfd would forward it to the container. */
		struct timespec now = {0, 0};
		sigtimedwait(&pipe, NULL, &now);
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	errno = e;
	return n;
}
