// SPDX-License-Identifier: GPL-2.0-or-later
/* Unit tests of hakoctl's pure parts: references, the tar writer, JSON keys. */
#include <archive.h>
#include <archive_entry.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "json.h"
#include "ref.h"
#include "tap.h"
#include "tarwrite.h"
#include "util.h"

static void normalize(const char *in, const char *domain, const char *want)
{
	struct hk_error err = {0};
	char out[300] = "";
	int r = hk_ref_normalize(in, domain, out, sizeof(out), &err);

	if (want)
		ok(r == 0 && strcmp(out, want) == 0, "\"%s\" is \"%s\" (got \"%s\" %s)", in, want,
		   out, err.msg);
	else
		ok(r == -EINVAL && strstr(err.msg, "invalid reference format"), "\"%s\" is refused",
		   in);
}

static void test_refs(void)
{
	char repo[300];
	const char *tag;

	normalize("busybox", "docker.io", "docker.io/library/busybox:latest");
	normalize("busybox", "localhost", "localhost/busybox:latest");
	normalize("user/app:1.2", "docker.io", "docker.io/user/app:1.2");
	normalize("quay.io/x/y", "docker.io", "quay.io/x/y:latest");
	normalize("localhost:5000/a_b__c-d.e:v1", "docker.io", "localhost:5000/a_b__c-d.e:v1");
	normalize(
	    "x@sha256:"
	    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
	    "localhost",
	    "localhost/x@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
	normalize("Busybox", "docker.io", NULL);
	normalize("busybox:", "docker.io", NULL);
	normalize("a//b", "docker.io", NULL);
	normalize("a..b", "docker.io", NULL);
	normalize("x@sha256:123", "docker.io", NULL);
	normalize("", "docker.io", NULL);
	hk_ref_split("docker.io/library/busybox:1", repo, sizeof(repo), &tag);
	ok(strcmp(repo, "docker.io/library/busybox") == 0 && strcmp(tag, "1") == 0, "split a tag");
	hk_ref_split("localhost:5000/x:2", repo, sizeof(repo), &tag);
	ok(strcmp(repo, "localhost:5000/x") == 0 && strcmp(tag, "2") == 0,
	   "split with a port in the domain");
}

static int buf_write(void *ctx, const void *data, size_t n)
{
	hk_buf_add(ctx, data, n);
	return 0;
}

/* Write entries with the writer, read them back with libarchive. */
static void test_tar(void)
{
	struct hk_buf b = HK_BUF_INIT;
	struct hk_tar t = {buf_write, &b, 0, 0};
	struct hk_error err = {0};
	char longname[300], longlink[200];
	struct hk_tar_xattr x = {"user.k", "v\0w", 3};
	struct archive *a;
	struct archive_entry *e;
	int n = 0, good = 0;

	memset(longname, 'n', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	longname[120] = '/';
	memset(longlink, 'l', sizeof(longlink) - 1);
	longlink[sizeof(longlink) - 1] = '\0';
	struct hk_tar_entry es[] = {
	    {.name = "dir", .mode = S_IFDIR | 0755},
	    {.name = "dir/file",
	     .mode = S_IFREG | 04755,
	     .size = 5,
	     .uid = 1000,
	     .gid = 100,
	     .xattrs = &x,
	     .n_xattrs = 1},
	    {.name = longname, .mode = S_IFREG | 0644, .size = 0, .uid = 3000000},
	    {.name = "sym", .mode = S_IFLNK | 0777, .link = longlink},
	    {.name = "hard", .mode = S_IFREG | 0644, .link = "dir/file", .hardlink = 1},
	};
	for (size_t i = 0; i < ARRAY_SIZE(es); i++) {
		ok(hk_tar_header(&t, &es[i], &err) == 0, "header %zu %s", i, err.msg);
		if (es[i].size)
			ok(hk_tar_data(&t, "hello", 5, &err) == 0, "data %zu", i);
	}
	ok(hk_tar_finish(&t, &err) == 0 && b.len % 512 == 0, "finish, whole blocks");
	a = archive_read_new();
	archive_read_support_format_tar(a);
	ok(archive_read_open_memory(a, b.buf, b.len) == ARCHIVE_OK, "libarchive reads it");
	while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
		const char *name = archive_entry_pathname(e), *xn;
		const void *xv;
		size_t xs;
		n++;
		if (strcmp(name, "dir/file") == 0) {
			char data[8] = "";
			archive_read_data(a, data, sizeof(data));
			good += archive_entry_perm(e) == 04755 && archive_entry_uid(e) == 1000 &&
				strcmp(data, "hello") == 0 && archive_entry_xattr_reset(e) == 1 &&
				archive_entry_xattr_next(e, &xn, &xv, &xs) == ARCHIVE_OK &&
				strcmp(xn, "user.k") == 0 && xs == 3 && memcmp(xv, "v\0w", 3) == 0;
		} else if (strcmp(name, longname) == 0) {
			good += archive_entry_uid(e) == 3000000;
		} else if (strcmp(name, "sym") == 0) {
			good += strcmp(archive_entry_symlink(e), longlink) == 0;
		} else if (strcmp(name, "hard") == 0) {
			good += strcmp(archive_entry_hardlink(e), "dir/file") == 0;
		}
	}
	ok(n == 5 && good == 4, "every entry read back as written (%d entries, %d right)", n, good);
	archive_read_free(a);
	hk_buf_release(&b);
}

static void test_json_keys(void)
{
	struct hk_error err = {0};
	struct hk_json *v = NULL;
	const char *text = "{\"a\": {\"b\": 1, \"c\": [{\"d\": 1, \"d\": 2}]}}";

	ok(hk_json_parse(text, strlen(text), &v, &err) == 0, "parse");
	ok(v && hk_json_duplicate_key(v) && strcmp(hk_json_duplicate_key(v), "d") == 0,
	   "a duplicate key deep inside is found");
	{
		struct hk_json *copy = hk_json_copy(v);
		struct hk_buf x = HK_BUF_INIT, y = HK_BUF_INIT;
		hk_json_write(&x, v);
		hk_json_write(&y, copy);
		ok(strcmp(x.buf, y.buf) == 0 && copy != v, "a copy writes the same JSON");
		ok(strcmp(hk_json_get_string(hk_json_get(copy, "a"), "b") ? "" : "no", "no") == 0 &&
		       hk_json_get_string(copy, "missing") == NULL,
		   "get_string: NULL for a number and for a missing key");
		hk_json_free(copy);
		hk_buf_release(&x);
		hk_buf_release(&y);
	}
	hk_json_remove(hk_json_get(v, "a"), 0);
	ok(hk_json_get(hk_json_get(v, "a"), "b") == NULL && hk_json_get(v, "a")->n == 1,
	   "remove takes a member out");
	hk_json_free(v);
}

int main(void)
{
	test_refs();
	test_tar();
	test_json_keys();
	tap_done();
}
