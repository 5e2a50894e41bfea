/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Between spec.c and the parsers of the larger sections (spec-resources.c,
 * spec-seccomp.c): typed access to JSON members, each error naming the file,
 * line, column and JSON path.
 */
#pragma once

#include <stdbool.h>

#include "error.h"
#include "json.h"
#include "spec.h"

struct spec_ctx {
	const char *file;
	struct hk_error *err;
};

int spec_bad(struct spec_ctx *c, const struct hk_json *v, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
int spec_want_type(struct spec_ctx *c, const struct hk_json *v, const char *path,
		   enum hk_json_type t);
/* Each returns 1 when the member is there, 0 when not, or a negative error. */
int spec_get_string(struct spec_ctx *c, const struct hk_json *obj, const char *key,
		    const char *path, char **ret);
int spec_get_bool(struct spec_ctx *c, const struct hk_json *obj, const char *key, const char *path,
		  bool *ret);
/* An integer in [min, max]; fractions and exponents are refused. */
int spec_to_int(struct spec_ctx *c, const struct hk_json *v, const char *p, long long min,
		unsigned long long max, long long *ret);
int spec_get_int(struct spec_ctx *c, const struct hk_json *obj, const char *key, const char *path,
		 long long min, unsigned long long max, long long *ret);
int spec_get_opt(struct spec_ctx *c, const struct hk_json *obj, const char *key, const char *path,
		 long long min, unsigned long long max, struct hk_opt *ret);
int spec_get_opt_bool(struct spec_ctx *c, const struct hk_json *obj, const char *key,
		      const char *path, struct hk_opt *ret);
/* A member of type t, NULL when absent (or null); *r < 0 on a type error. */
struct hk_json *spec_get_typed(struct spec_ctx *c, const struct hk_json *obj, const char *key,
			       const char *path, enum hk_json_type t, int *r);
/* The index of s in a table of names (NULL entries skipped), or -1. */
int spec_name_index(const char *const *names, size_t n, const char *s);
/* A string array into a NULL-terminated strv. */
int spec_get_strv(struct spec_ctx *c, const struct hk_json *obj, const char *key, const char *path,
		  char ***ret);

/* process (which spec->has_process says was there). */
int spec_parse_process(struct spec_ctx *c, struct hk_spec *s, const struct hk_json *root);
/* linux.resources (the device rules into spec, the rest into spec->resources). */
int spec_parse_resources(struct spec_ctx *c, struct hk_spec *s, const struct hk_json *lx);
/* linux.seccomp into *sc. */
int spec_parse_seccomp(struct spec_ctx *c, struct hk_seccomp *sc, const struct hk_json *lx);
/* A propagation name ("rslave") as MS_* flags, 0 if unknown (spec.c's mount option table). */
unsigned long spec_parse_propagation(const char *name);
/* spec-linux.c: the "linux" object (resources and seccomp through the two above). */
int spec_parse_linux(struct spec_ctx *c, struct hk_spec *s, const struct hk_json *root);
