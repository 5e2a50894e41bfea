// SPDX-License-Identifier: GPL-2.0-or-later
/* The tar writer (tarwrite.h): POSIX.1-2001 pax over ustar. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "tarwrite.h"
#include "util.h"

#define BLOCK	       512
#define MAX_OCTAL_ID   07777777ULL
#define MAX_OCTAL_SIZE 077777777777ULL

static const char zeros[BLOCK];

static int put(struct hk_tar *t, const void *buf, size_t n, struct hk_error *err)
{
	int r = t->write(t->ctx, buf, n);

	return r < 0 ? hk_error_set(err, r, "write the archive") : 0;
}

/* Data is followed by zeros up to a whole block. */
static int pad(struct hk_tar *t, uint64_t size, struct hk_error *err)
{
	size_t rest = (size_t)(size % BLOCK);

	return rest ? put(t, zeros, BLOCK - rest, err) : 0;
}

static void octal(unsigned char *field, size_t width, uint64_t v)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%0*llo", (int)(width - 1), (unsigned long long)v);
	memcpy(field, buf, width - 1);
}

/* One "LEN key=value\n" record; LEN counts its own digits too. */
static void record(struct hk_buf *b, const char *key, const void *value, size_t vlen)
{
	size_t body = 1 + strlen(key) + 1 + vlen + 1, len = body + 1;
	char digits[24];

	while ((size_t)snprintf(digits, sizeof(digits), "%zu", len) + body != len)
		len = (size_t)snprintf(digits, sizeof(digits), "%zu", len) + body;
	hk_buf_addf(b, "%zu %s=", len, key);
	hk_buf_add(b, value, vlen);
	hk_buf_add(b, "\n", 1);
}

static void record_u64(struct hk_buf *b, const char *key, uint64_t v)
{
	char s[24];

	snprintf(s, sizeof(s), "%llu", (unsigned long long)v);
	record(b, key, s, strlen(s));
}

/* Where a long name splits into ustar's prefix (155) and name (100), or NULL. */
static const char *split_point(const char *name)
{
	size_t n = strlen(name);

	for (const char *s = strchr(name, '/'); s; s = strchr(s + 1, '/'))
		if ((size_t)(s - name) <= 155 && n - (size_t)(s - name) - 1 <= 100 && s > name)
			return s;
	return NULL;
}

static char type_of(const struct hk_tar_entry *e)
{
	if (e->hardlink)
		return '1';
	switch (e->mode & S_IFMT) {
	case S_IFLNK:
		return '2';
	case S_IFCHR:
		return '3';
	case S_IFBLK:
		return '4';
	case S_IFDIR:
		return '5';
	case S_IFIFO:
		return '6';
	default:
		return '0';
	}
}

/* What ustar cannot hold, as pax records: xattrs, long names, big numbers. */
static void pax_records(const struct hk_tar_entry *e, uint64_t size, struct hk_buf *b)
{
	size_t n = strlen(e->name);

	if (n > 100 && !split_point(e->name))
		record(b, "path", e->name, n);
	if (e->link && strlen(e->link) > 100)
		record(b, "linkpath", e->link, strlen(e->link));
	if (e->uid > MAX_OCTAL_ID)
		record_u64(b, "uid", e->uid);
	if (e->gid > MAX_OCTAL_ID)
		record_u64(b, "gid", e->gid);
	if (size > MAX_OCTAL_SIZE)
		record_u64(b, "size", size);
	for (size_t i = 0; i < e->n_xattrs; i++) {
		char key[300];
		snprintf(key, sizeof(key), "SCHILY.xattr.%s", e->xattrs[i].name);
		record(b, key, e->xattrs[i].value, e->xattrs[i].size);
	}
}

/* A ustar header; what does not fit was given to a pax header before it. */
static int ustar(struct hk_tar *t, const char *name, const struct hk_tar_entry *e, char type,
		 uint64_t size, struct hk_error *err)
{
	unsigned char h[BLOCK] = {0};
	const char *split = strlen(name) > 100 ? split_point(name) : NULL;
	unsigned sum = 0;

	if (split) {
		memcpy(h + 345, name, (size_t)(split - name));
		memcpy(h, split + 1, strlen(split + 1));
	} else {
		memcpy(h, name, strnlen(name, 100));
	}
	octal(h + 100, 8, e->mode & 07777);
	octal(h + 108, 8, e->uid > MAX_OCTAL_ID ? 0 : e->uid);
	octal(h + 116, 8, e->gid > MAX_OCTAL_ID ? 0 : e->gid);
	octal(h + 124, 12, size > MAX_OCTAL_SIZE ? 0 : size);
	octal(h + 136, 12, e->mtime > 0 ? (uint64_t)e->mtime : 0);
	h[156] = (unsigned char)type;
	if (e->link)
		memcpy(h + 157, e->link, strnlen(e->link, 100));
	memcpy(h + 257, "ustar", 6);
	memcpy(h + 263, "00", 2);
	octal(h + 329, 8, e->devmajor);
	octal(h + 337, 8, e->devminor);
	memset(h + 148, ' ', 8);
	for (size_t i = 0; i < BLOCK; i++)
		sum += h[i];
	octal(h + 148, 7, sum); /* six digits, a NUL, and the space already there */
	h[154] = '\0';
	return put(t, h, BLOCK, err);
}

int hk_tar_header(struct hk_tar *t, const struct hk_tar_entry *e, struct hk_error *err)
{
	struct hk_buf pax = HK_BUF_INIT;
	char type = type_of(e);
	uint64_t size = type == '0' ? e->size : 0;
	int r = 0;

	if (t->left)
		return hk_error_setx(err, -EINVAL, "tar: the entry before \"%s\" is short",
				     e->name);
	pax_records(e, size, &pax);
	if (pax.len) {
		struct hk_tar_entry x = {.mode = S_IFREG | 0644, .mtime = e->mtime};
		const char *base = strrchr(e->name, '/') ? strrchr(e->name, '/') + 1 : e->name;
		char xname[100];

		snprintf(xname, sizeof(xname), "PaxHeaders/%.80s", base);
		if ((r = ustar(t, xname, &x, 'x', pax.len, err)) >= 0 &&
		    (r = put(t, pax.buf, pax.len, err)) >= 0)
			r = pad(t, pax.len, err);
	}
	hk_buf_release(&pax);
	if (r < 0 || (r = ustar(t, e->name, e, type, size, err)) < 0)
		return r;
	t->left = t->size = size;
	return 0;
}

int hk_tar_data(struct hk_tar *t, const void *buf, size_t n, struct hk_error *err)
{
	int r;

	if (n > t->left)
		return hk_error_setx(err, -EINVAL, "tar: more data than the header said");
	if ((r = put(t, buf, n, err)) < 0)
		return r;
	t->left -= n;
	return t->left == 0 ? pad(t, t->size, err) : 0;
}

int hk_tar_finish(struct hk_tar *t, struct hk_error *err)
{
	int r;

	if (t->left)
		return hk_error_setx(err, -EINVAL, "tar: the last entry is short");
	if ((r = put(t, zeros, BLOCK, err)) < 0)
		return r;
	return put(t, zeros, BLOCK, err);
}
