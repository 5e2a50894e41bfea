// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * hakoctl logs [-f] [--tail N] [--since TIME] [-t] CONTAINER: what the
 * container wrote, from the log its monitor keeps (ctr.log, and ctr.log.1
 * before it once rotated). Each record is "TIME STREAM F|P TEXT": stdout
 * records go to our stdout, stderr ones to our stderr, as docker's logs do;
 * P records are parts of a line that goes on in the next one.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "commands.h"
#include "container.h"
#include "util.h"

struct logs_opts {
	bool follow, timestamps;
	long long tail;	   /* -1: all */
	char since[40];	   /* an RFC 3339 time, or "" */
	bool line_open[2]; /* a P record was the last of that stream */
};

/* One record: to stdout or stderr, with its time if asked. */
static void print_record(struct logs_opts *o, char *rec, size_t len)
{
	char *ts = rec, *stream, *tag, *text;
	int which;

	rec[len] = '\0';
	if (!(stream = strchr(ts, ' ')) || !(tag = strchr(stream + 1, ' ')) ||
	    !(text = strchr(tag + 1, ' ')))
		return; /* not a record: a line cut by a crash */
	*stream++ = *tag++ = *text++ = '\0';
	if (o->since[0] && strcmp(ts, o->since) < 0)
		return;
	which = strcmp(stream, "stderr") == 0;
	FILE *f = which ? stderr : stdout;
	if (o->timestamps && !o->line_open[which])
		fprintf(f, "%s ", ts);
	fputs(text, f);
	o->line_open[which] = tag[0] == 'P';
	if (!o->line_open[which])
		fputc('\n', f);
}

/* The records in buf[0..len) (whole lines only); how much was used. */
static size_t print_records(struct logs_opts *o, char *buf, size_t len)
{
	size_t used = 0;
	char *nl;

	while (used < len && (nl = memchr(buf + used, '\n', len - used))) {
		print_record(o, buf + used, (size_t)(nl - (buf + used)));
		used = (size_t)(nl - buf) + 1;
	}
	return used;
}

/* Where in buf the last n records begin. */
static size_t tail_start(const char *buf, size_t len, long long n)
{
	size_t i = len;

	if (n < 0)
		return 0;
	if (n == 0)
		return len;
	if (i && buf[i - 1] == '\n')
		i--;
	for (; i > 0; i--)
		if (buf[i - 1] == '\n' && --n == 0)
			return i;
	return 0;
}

static int parse_since(const char *arg, char out[40], struct hk_error *err)
{
	struct tm tm = {0};
	char *end;
	double n = strtod(arg, &end);
	time_t t;

	if (strptime(arg, "%Y-%m-%dT%H:%M:%S", &tm)) {
		snprintf(out, 40, "%s", arg);
		return 0;
	}
	if (end == arg || n < 0 || (*end && strchr("smh", *end) == NULL) || (*end && end[1]))
		return hk_error_setx(err, -EINVAL,
				     "--since \"%s\": a time (2026-12-01T10:00:00Z) or a duration "
				     "(30s, 10m, 2h)",
				     arg);
	t = time(NULL) - (time_t)(n * (*end == 'm' ? 60 : *end == 'h' ? 3600 : 1));
	gmtime_r(&t, &tm);
	strftime(out, 40, "%Y-%m-%dT%H:%M:%S", &tm);
	return 0;
}

static int read_all(int dirfd, const char *name, struct hk_buf *b)
{
	_cleanup_close_ int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
	char chunk[65536];
	ssize_t n;

	if (fd < 0)
		return -errno;
	while ((n = read(fd, chunk, sizeof(chunk))) > 0)
		hk_buf_add(b, chunk, (size_t)n);
	return 0;
}

/* -f: what comes after pos, until the container's watcher is gone. */
static void follow(struct logs_opts *o, int dirfd, off_t pos, pid_t watcher)
{
	_cleanup_close_ int pidfd = (int)syscall(SYS_pidfd_open, watcher, 0);
	int fd = openat(dirfd, "ctr.log", O_RDONLY | O_CLOEXEC);
	struct hk_buf pending = HK_BUF_INIT;
	bool last = pidfd < 0;

	if (fd < 0)
		return;
	lseek(fd, pos, SEEK_SET);
	for (;;) {
		char chunk[65536];
		ssize_t n;
		struct stat a, b;

		while ((n = read(fd, chunk, sizeof(chunk))) > 0) {
			size_t used;
			hk_buf_add(&pending, chunk, (size_t)n);
			used = print_records(o, pending.buf, pending.len);
			memmove(pending.buf, pending.buf + used, pending.len - used);
			pending.len -= used;
		}
		fflush(stdout);
		fflush(stderr);
		/* Rotated: the old file is read to its end, then the new one. */
		if (fstatat(dirfd, "ctr.log", &a, 0) == 0 && fstat(fd, &b) == 0 &&
		    a.st_ino != b.st_ino) {
			int nfd = openat(dirfd, "ctr.log", O_RDONLY | O_CLOEXEC);
			if (nfd >= 0) {
				close(fd);
				fd = nfd;
				continue;
			}
		}
		if (last)
			break;
		struct pollfd p = {pidfd, POLLIN, 0};
		/* Its end: one more read for what it wrote last. */
		if (poll(&p, 1, 100) == 1)
			last = true;
	}
	close(fd);
	hk_buf_release(&pending);
}

int ctl_logs(const struct ctl_globals *g, int argc, char **argv, struct hk_error *err)
{
	static const struct option opts[] = {
	    {"follow", no_argument, NULL, 'f'},
	    {"tail", required_argument, NULL, 'n'},
	    {"since", required_argument, NULL, 'S'},
	    {"timestamps", no_argument, NULL, 't'},
	    {NULL, 0, NULL, 0},
	};
	struct logs_opts o = {.tail = -1};
	struct hk_buf b = HK_BUF_INIT;
	_cleanup_close_ int dirfd = -1;
	struct hk_store s;
	struct hk_ctr c = {0};
	char dir[128];
	size_t start, used, before;
	int ch, r;

	optind = 0;
	while ((ch = getopt_long(argc, argv, "+fn:t", opts, NULL)) != -1) {
		switch (ch) {
		case 'f':
			o.follow = true;
			break;
		case 'n':
			if (strcmp(optarg, "all") != 0 &&
			    (hk_parse_int64(optarg, &o.tail) < 0 || o.tail < 0))
				return hk_error_setx(err, -EINVAL,
						     "--tail \"%s\": a number of lines, or all",
						     optarg);
			break;
		case 'S':
			if ((r = parse_since(optarg, o.since, err)) < 0)
				return r;
			break;
		case 't':
			o.timestamps = true;
			break;
		default:
			return hk_error_setx(err, -EINVAL, "see hakoctl logs --help");
		}
	}
	if (argc - optind != 1)
		return hk_error_setx(err, -EINVAL, "logs: expected one CONTAINER");
	if ((r = ctl_store_open(g, &s, err)) < 0)
		return r;
	if ((r = hk_ctr_find(&s, ctl_run_dir(g), argv[optind], &c, err)) < 0)
		goto out;
	snprintf(dir, sizeof(dir), "containers/%s", c.id);
	if ((dirfd = openat(s.dirfd, dir, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0) {
		r = hk_error_set(err, -errno, "container \"%s\"", c.name);
		goto out;
	}
	read_all(dirfd, "ctr.log.1", &b);
	before = b.len;
	read_all(dirfd, "ctr.log", &b);
	hk_buf_adds(&b, ""); /* a buffer, even when empty */
	start = tail_start(b.buf, b.len, o.tail);
	used = start + print_records(&o, b.buf + start, b.len - start);
	fflush(stdout);
	fflush(stderr);
	/* -f goes on from the end of the last whole record read. */
	if (o.follow && c.watcher > 0)
		follow(&o, dirfd, used > before ? (off_t)(used - before) : 0, c.watcher);
	r = 0;
out:
	hk_buf_release(&b);
	hk_ctr_free(&c);
	hk_store_close(&s);
	return r;
}
