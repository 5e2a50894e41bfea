/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Writing tar archives: ustar headers, with a pax extended header in front
 * of an entry whose name, link target, size or ids do not fit ustar's fields,
 * or which has xattrs (SCHILY.xattr.*, as GNU tar and libarchive write and
 * read them). Reading is libarchive's; writing is this small, so that
 * hakoctl links only libarchive's tar reader and stays static.
 */
#pragma once

#include <stdint.h>
#include <sys/types.h>

#include "error.h"

struct hk_tar {
	/* Where the bytes go: write all n, or fail with -errno. */
	int (*write)(void *ctx, const void *buf, size_t n);
	void *ctx;
	uint64_t left, size; /* the current entry's data: still owed, and in all */
};

struct hk_tar_xattr {
	const char *name;
	const void *value;
	size_t size;
};

struct hk_tar_entry {
	const char *name;
	mode_t mode; /* with the file type bits */
	uid_t uid;
	gid_t gid;
	uint64_t size; /* of a regular file's data; 0 for the rest */
	int64_t mtime;
	const char *link; /* a symlink's target or a hardlink's entry name */
	int hardlink;	  /* link names an entry: a hardlink */
	unsigned devmajor, devminor;
	const struct hk_tar_xattr *xattrs;
	size_t n_xattrs;
};

/* The header(s) of e; then its size bytes through hk_tar_data(). */
int hk_tar_header(struct hk_tar *t, const struct hk_tar_entry *e, struct hk_error *err);
int hk_tar_data(struct hk_tar *t, const void *buf, size_t n, struct hk_error *err);
/* The end: the last entry's padding and two zero blocks. */
int hk_tar_finish(struct hk_tar *t, struct hk_error *err);
