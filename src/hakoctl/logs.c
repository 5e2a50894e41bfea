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
	/* In the order they came, when both go to one place (2>&1). */
	if (which)
		fflush(stdout);
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

/* Appends to b what fd has from its offset on. */
static void read_rest(int fd, struct hk_buf *b)
{
	char chunk[65536];
	ssize_t n;

	while ((n = read(fd, chunk, sizeof(chunk))) > 0)
		hk_buf_add(b, chunk, (size_t)n);
}

/* Prints the whole records in pending and keeps the part of one that is left. */
static void print_pending(struct logs_opts *o, struct hk_buf *pending)
{
	size_t used = pending->len ? print_records(o, pending->buf, pending->len) : 0;

	if (used) {
		memmove(pending->buf, pending->buf + used, pending->len - used);
		pending->len -= used;
	}
	fflush(stdout);
	fflush(stderr);
}

/*
 * -f: what comes to fd (ctr.log, read up to here) until the container's
 * watcher is gone. When the monitor rotates, it renames the file it wrote to
 * ctr.log.1 and writes no more to it: what it wrote there between our last
 * read and the rename is read before we go on with the new ctr.log.
 */
static void follow(struct logs_opts *o, int dirfd, int fd, struct hk_buf *pending, pid_t watcher)
{
	_cleanup_close_ int pidfd = (int)syscall(SYS_pidfd_open, watcher, 0);
	bool last = pidfd < 0;

	for (;;) {
		struct stat a, b;

		read_rest(fd, pending);
		print_pending(o, pending);
		if (fstatat(dirfd, "ctr.log", &a, 0) == 0 && fstat(fd, &b) == 0 &&
		    a.st_ino != b.st_ino) {
			int nfd = openat(dirfd, "ctr.log", O_RDONLY | O_CLOEXEC);
			if (nfd >= 0) {
				read_rest(fd, pending);
				print_pending(o, pending);
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
	_cleanup_close_ int dirfd = -1, fd = -1;
	struct hk_store s;
	struct stat st;
	struct hk_ctr c = {0};
	char dir[128];
	size_t start, used;
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
	/*
	 * ctr.log is opened first and read last, and -f goes on with the same
	 * open file: a rotation between the reads then loses nothing. If it
	 * came before ctr.log.1 was opened, that is the file we hold.
	 */
	if ((fd = openat(dirfd, "ctr.log", O_RDONLY | O_CLOEXEC)) >= 0 && fstat(fd, &st) == 0) {
		_cleanup_close_ int old = openat(dirfd, "ctr.log.1", O_RDONLY | O_CLOEXEC);
		struct stat ost;
		if (old >= 0 && fstat(old, &ost) == 0 && ost.st_ino != st.st_ino)
			read_rest(old, &b);
		read_rest(fd, &b);
	} else if (fd < 0 && errno == ENOENT &&
		   (fd = openat(dirfd, "ctr.log.1", O_RDONLY | O_CLOEXEC)) >= 0) {
		/*
		 * Between a rotation's rename and the monitor's new ctr.log: the file
		 * it renamed is the latest, and -f goes on from it to the new one.
		 */
		read_rest(fd, &b);
	}
	hk_buf_adds(&b, ""); /* a buffer, even when empty */
	start = tail_start(b.buf, b.len, o.tail);
	used = start + print_records(&o, b.buf + start, b.len - start);
	fflush(stdout);
	fflush(stderr);
	if (o.follow && c.watcher > 0 && fd >= 0) {
		struct hk_buf pending = HK_BUF_INIT;
		hk_buf_add(&pending, b.buf + used, b.len - used);
		follow(&o, dirfd, fd, &pending, c.watcher);
		fd = -1;
		hk_buf_release(&pending);
	}
	r = 0;
out:
	hk_buf_release(&b);
	hk_ctr_free(&c);
	hk_store_close(&s);
	return r;
}
