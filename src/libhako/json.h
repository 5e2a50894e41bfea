/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A small JSON reader that remembers where each value stood (line and
 * column), so that config.json errors can say "config.json:14:9:
 * linux.resources.memory.limit: expected an integer" for type errors too, not
 * only for syntax errors. It refuses NUL bytes in strings and nesting deeper
 * than HK_JSON_MAX_DEPTH, so hostile input fails cleanly.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

#define HK_JSON_MAX_DEPTH 128

enum hk_json_type {
	HK_JSON_NULL,
	HK_JSON_BOOL,
	HK_JSON_NUMBER,
	HK_JSON_STRING,
	HK_JSON_ARRAY,
	HK_JSON_OBJECT,
};

struct hk_json {
	enum hk_json_type type;
	unsigned line, col;
	bool boolean;
	char *text;		/* a string's value, or a number's literal text */
	size_t n;		/* items of an array or members of an object */
	struct hk_json **items; /* array items, or object member values */
	char **keys;		/* object member names, parallel to items */
};

/*
 * Parse text (len bytes, need not be NUL-terminated). On a syntax error, err
 * says "LINE:COL: what was wrong" and -EINVAL is returned.
 */
int hk_json_parse(const char *text, size_t len, struct hk_json **ret, struct hk_error *err);
void hk_json_free(struct hk_json *v);
static inline void hk_json_freep(struct hk_json **v)
{
	hk_json_free(*v);
}

/* The member named key of an object, or NULL (also when v is not an object). */
struct hk_json *hk_json_get(const struct hk_json *v, const char *key);
/* The text of the member named key when it is a string, else NULL. */
const char *hk_json_get_string(const struct hk_json *v, const char *key);
const char *hk_json_type_name(enum hk_json_type t);
/*
 * The first key that an object in v has twice, or NULL. Image manifests and
 * configs are refused with one: two readers could each take another value.
 */
const char *hk_json_duplicate_key(const struct hk_json *v);
/* Serialize v compactly into b (used to copy annotations into the state). */
struct hk_buf;
void hk_json_write(struct hk_buf *b, const struct hk_json *v);
/* The same, indented with tabs, one member per line, and a final newline. */
void hk_json_write_pretty(struct hk_buf *b, const struct hk_json *v);

/*
 * Building values (config.json for `hako spec` and hakoctl's bundles). Each
 * new value is owned by whatever it is put into; hk_json_free() frees a tree.
 * hk_json_set() replaces a member of that name, or adds one at the end;
 * hk_json_child() returns the member key of type t, made (or replacing one
 * of another type) when missing. Both return the value, for chaining.
 */
struct hk_json *hk_json_new(enum hk_json_type t);
struct hk_json *hk_json_new_string(const char *s);
struct hk_json *hk_json_new_int(long long n);
struct hk_json *hk_json_new_bool(bool b);
struct hk_json *hk_json_new_strv(const char *const *s); /* an array of strings */
struct hk_json *hk_json_push(struct hk_json *array, struct hk_json *item);
struct hk_json *hk_json_set(struct hk_json *object, const char *key, struct hk_json *value);
struct hk_json *hk_json_child(struct hk_json *object, const char *key, enum hk_json_type t);
/* A deep copy of v (its positions are not kept). */
struct hk_json *hk_json_copy(const struct hk_json *v);
/* Take item i out of an array or object, and free it. */
void hk_json_remove(struct hk_json *v, size_t i);
