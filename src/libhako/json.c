/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdio.h>
#include <string.h>

#include "json.h"
#include "util.h"

struct parser {
	const char *p, *end;
	unsigned line, col;
	struct hk_error *err;
};

static int fail(struct parser *ps, const char *what)
{
	return hk_error_setx(ps->err, -EINVAL, "%u:%u: %s", ps->line, ps->col, what);
}

static void advance(struct parser *ps)
{
	if (*ps->p == '\n') {
		ps->line++;
		ps->col = 1;
	} else {
		ps->col++;
	}
	ps->p++;
}

static void skip_space(struct parser *ps)
{
	while (ps->p < ps->end &&
	       (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r'))
		advance(ps);
}

static struct hk_json *new_value(struct parser *ps, enum hk_json_type t)
{
	struct hk_json *v = hk_json_new(t);

	v->line = ps->line;
	v->col = ps->col;
	return v;
}

static void put_utf8(struct hk_buf *b, unsigned cp)
{
	char out[4];
	size_t n;

	if (cp < 0x80) {
		out[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		out[0] = (char)(0xc0 | (cp >> 6));
		out[1] = (char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		out[0] = (char)(0xe0 | (cp >> 12));
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		out[0] = (char)(0xf0 | (cp >> 18));
		out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[3] = (char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	hk_buf_add(b, out, n);
}

static int parse_hex4(struct parser *ps, unsigned *ret)
{
	unsigned v = 0;

	for (int i = 0; i < 4; i++) {
		char c = ps->p < ps->end ? *ps->p : '\0';
		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (unsigned)(c - 'A' + 10);
		else
			return fail(ps, "invalid \\u escape in string");
		advance(ps);
	}
	*ret = v;
	return 0;
}

static int parse_escape(struct parser *ps, struct hk_buf *b)
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	const char *hit;
	unsigned cp, lo;

	if (ps->p >= ps->end)
		return fail(ps, "unterminated string");
	hit = strchr(from, *ps->p);
	if (hit && *ps->p) {
		hk_buf_add(b, &to[hit - from], 1);
		advance(ps);
		return 0;
	}
	if (*ps->p != 'u')
		return fail(ps, "invalid escape in string");
	advance(ps);
	if (parse_hex4(ps, &cp) < 0)
		return -EINVAL;
	if (cp >= 0xd800 && cp < 0xdc00) {
		if (ps->end - ps->p < 2 || ps->p[0] != '\\' || ps->p[1] != 'u')
			return fail(ps, "unpaired surrogate in string");
		advance(ps);
		advance(ps);
		if (parse_hex4(ps, &lo) < 0)
			return -EINVAL;
		if (lo < 0xdc00 || lo > 0xdfff)
			return fail(ps, "unpaired surrogate in string");
		cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
	} else if (cp >= 0xdc00 && cp <= 0xdfff) {
		return fail(ps, "unpaired surrogate in string");
	}
	/* A NUL inside a C string would silently cut it: refuse it. */
	if (cp == 0)
		return fail(ps, "NUL byte (\\u0000) in string");
	put_utf8(b, cp);
	return 0;
}

static int parse_string_raw(struct parser *ps, char **ret)
{
	struct hk_buf b = HK_BUF_INIT;

	advance(ps); /* the opening quote */
	for (;;) {
		if (ps->p >= ps->end) {
			hk_buf_release(&b);
			return fail(ps, "unterminated string");
		}
		unsigned char c = (unsigned char)*ps->p;
		if (c == '"') {
			advance(ps);
			break;
		}
		if (c < 0x20) {
			hk_buf_release(&b);
			return fail(ps,
				    c == 0 ? "NUL byte in string" : "control character in string");
		}
		if (c == '\\') {
			advance(ps);
			if (parse_escape(ps, &b) < 0) {
				hk_buf_release(&b);
				return -EINVAL;
			}
			continue;
		}
		hk_buf_add(&b, (const char *)&c, 1);
		advance(ps);
	}
	*ret = hk_buf_detach(&b);
	return 0;
}

static int parse_number(struct parser *ps, struct hk_json *v)
{
	const char *start = ps->p;

	if (ps->p < ps->end && *ps->p == '-')
		advance(ps);
	if (ps->p >= ps->end || *ps->p < '0' || *ps->p > '9')
		return fail(ps, "invalid number");
	if (*ps->p == '0') {
		advance(ps);
	} else {
		while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9')
			advance(ps);
	}
	if (ps->p < ps->end && *ps->p == '.') {
		advance(ps);
		if (ps->p >= ps->end || *ps->p < '0' || *ps->p > '9')
			return fail(ps, "invalid number");
		while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9')
			advance(ps);
	}
	if (ps->p < ps->end && (*ps->p == 'e' || *ps->p == 'E')) {
		advance(ps);
		if (ps->p < ps->end && (*ps->p == '+' || *ps->p == '-'))
			advance(ps);
		if (ps->p >= ps->end || *ps->p < '0' || *ps->p > '9')
			return fail(ps, "invalid number");
		while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9')
			advance(ps);
	}
	v->text = strndup(start, (size_t)(ps->p - start));
	if (!v->text)
		abort();
	return 0;
}

static int parse_value(struct parser *ps, int depth, struct hk_json **ret);

static void append_item(struct hk_json *v, char *key, struct hk_json *item)
{
	/* Grow by doubling: hostile inputs with huge arrays stay linear. */
	if ((v->n & (v->n - 1)) == 0) {
		size_t cap = v->n ? v->n * 2 : 1;
		v->items = hk_xrealloc(v->items, cap * sizeof(*v->items));
		if (v->type == HK_JSON_OBJECT)
			v->keys = hk_xrealloc(v->keys, cap * sizeof(*v->keys));
	}
	if (v->type == HK_JSON_OBJECT)
		v->keys[v->n] = key;
	v->items[v->n++] = item;
}

static int parse_container(struct parser *ps, int depth, struct hk_json *v)
{
	char close = v->type == HK_JSON_ARRAY ? ']' : '}';

	if (depth >= HK_JSON_MAX_DEPTH)
		return fail(ps, "nesting too deep");
	advance(ps);
	skip_space(ps);
	if (ps->p < ps->end && *ps->p == close) {
		advance(ps);
		return 0;
	}
	for (;;) {
		_cleanup_free_ char *key = NULL;
		struct hk_json *item = NULL;

		skip_space(ps);
		if (v->type == HK_JSON_OBJECT) {
			if (ps->p >= ps->end || *ps->p != '"')
				return fail(ps, "expected a string as object key");
			if (parse_string_raw(ps, &key) < 0)
				return -EINVAL;
			skip_space(ps);
			if (ps->p >= ps->end || *ps->p != ':')
				return fail(ps, "expected ':' after object key");
			advance(ps);
		}
		if (parse_value(ps, depth + 1, &item) < 0)
			return -EINVAL;
		append_item(v, TAKE_PTR(key), item);
		skip_space(ps);
		if (ps->p < ps->end && *ps->p == ',') {
			advance(ps);
			continue;
		}
		if (ps->p < ps->end && *ps->p == close) {
			advance(ps);
			return 0;
		}
		return fail(ps, v->type == HK_JSON_ARRAY ? "expected ',' or ']' in array"
							 : "expected ',' or '}' in object");
	}
}

static int parse_literal(struct parser *ps, const char *word)
{
	size_t n = strlen(word);

	if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n) != 0)
		return fail(ps, "invalid literal");
	for (size_t i = 0; i < n; i++)
		advance(ps);
	return 0;
}

static int parse_value(struct parser *ps, int depth, struct hk_json **ret)
{
	struct hk_json *v;
	int r;

	skip_space(ps);
	if (ps->p >= ps->end)
		return fail(ps, "unexpected end of input");
	switch (*ps->p) {
	case '{':
		v = new_value(ps, HK_JSON_OBJECT);
		r = parse_container(ps, depth, v);
		break;
	case '[':
		v = new_value(ps, HK_JSON_ARRAY);
		r = parse_container(ps, depth, v);
		break;
	case '"':
		v = new_value(ps, HK_JSON_STRING);
		r = parse_string_raw(ps, &v->text);
		break;
	case 't':
	case 'f':
		v = new_value(ps, HK_JSON_BOOL);
		v->boolean = *ps->p == 't';
		r = parse_literal(ps, v->boolean ? "true" : "false");
		break;
	case 'n':
		v = new_value(ps, HK_JSON_NULL);
		r = parse_literal(ps, "null");
		break;
	default:
		v = new_value(ps, HK_JSON_NUMBER);
		r = parse_number(ps, v);
	}
	if (r < 0) {
		hk_json_free(v);
		return r;
	}
	*ret = v;
	return 0;
}

int hk_json_parse(const char *text, size_t len, struct hk_json **ret, struct hk_error *err)
{
	struct parser ps = {.p = text, .end = text + len, .line = 1, .col = 1, .err = err};
	struct hk_json *v = NULL;

	if (parse_value(&ps, 0, &v) < 0)
		return -EINVAL;
	skip_space(&ps);
	if (ps.p < ps.end) {
		hk_json_free(v);
		return fail(&ps, "unexpected data after the JSON value");
	}
	*ret = v;
	return 0;
}

void hk_json_free(struct hk_json *v)
{
	if (!v)
		return;
	for (size_t i = 0; i < v->n; i++) {
		hk_json_free(v->items[i]);
		if (v->keys)
			free(v->keys[i]);
	}
	free(v->items);
	free(v->keys);
	free(v->text);
	free(v);
}

struct hk_json *hk_json_get(const struct hk_json *v, const char *key)
{
	if (!v || v->type != HK_JSON_OBJECT)
		return NULL;
	/* Later duplicates win, as in most JSON readers. */
	for (size_t i = v->n; i-- > 0;)
		if (strcmp(v->keys[i], key) == 0)
			return v->items[i];
	return NULL;
}

struct hk_json *hk_json_copy(const struct hk_json *v)
{
	struct hk_json *c = hk_json_new(v->type);

	c->boolean = v->boolean;
	if (v->text)
		c->text = hk_xstrdup(v->text);
	/* Member by member as they are, a key that stands twice too. */
	for (size_t i = 0; i < v->n; i++)
		append_item(c, v->keys ? hk_xstrdup(v->keys[i]) : NULL, hk_json_copy(v->items[i]));
	return c;
}

void hk_json_remove(struct hk_json *v, size_t i)
{
	if (i >= v->n)
		return;
	hk_json_free(v->items[i]);
	if (v->keys)
		free(v->keys[i]);
	for (size_t j = i + 1; j < v->n; j++) {
		v->items[j - 1] = v->items[j];
		if (v->keys)
			v->keys[j - 1] = v->keys[j];
	}
	v->n--;
}

const char *hk_json_duplicate_key(const struct hk_json *v)
{
	const char *dup;

	for (size_t i = 0; i < v->n; i++) {
		for (size_t j = 0; v->keys && j < i; j++)
			if (strcmp(v->keys[i], v->keys[j]) == 0)
				return v->keys[i];
		if ((dup = hk_json_duplicate_key(v->items[i])))
			return dup;
	}
	return NULL;
}

const char *hk_json_get_string(const struct hk_json *v, const char *key)
{
	const struct hk_json *s = hk_json_get(v, key);

	return s && s->type == HK_JSON_STRING ? s->text : NULL;
}

const char *hk_json_type_name(enum hk_json_type t)
{
	static const char *const names[] = {"null",   "boolean", "number",
					    "string", "array",	 "object"};

	return names[t];
}

void hk_json_write(struct hk_buf *b, const struct hk_json *v)
{
	switch (v->type) {
	case HK_JSON_NULL:
		hk_buf_adds(b, "null");
		break;
	case HK_JSON_BOOL:
		hk_buf_adds(b, v->boolean ? "true" : "false");
		break;
	case HK_JSON_NUMBER:
		hk_buf_adds(b, v->text);
		break;
	case HK_JSON_STRING:
		hk_buf_add_json_string(b, v->text);
		break;
	case HK_JSON_ARRAY:
	case HK_JSON_OBJECT:
		hk_buf_adds(b, v->type == HK_JSON_ARRAY ? "[" : "{");
		for (size_t i = 0; i < v->n; i++) {
			if (i)
				hk_buf_adds(b, ",");
			if (v->type == HK_JSON_OBJECT) {
				hk_buf_add_json_string(b, v->keys[i]);
				hk_buf_adds(b, ":");
			}
			hk_json_write(b, v->items[i]);
		}
		hk_buf_adds(b, v->type == HK_JSON_ARRAY ? "]" : "}");
	}
}

/* Building values: what hakoctl's config.json builder and `hako spec` use. */

struct hk_json *hk_json_new(enum hk_json_type t)
{
	struct hk_json *v = calloc(1, sizeof(*v));

	if (!v)
		abort();
	v->type = t;
	return v;
}

struct hk_json *hk_json_new_string(const char *s)
{
	struct hk_json *v = hk_json_new(HK_JSON_STRING);

	v->text = hk_xstrdup(s);
	return v;
}

struct hk_json *hk_json_new_int(long long n)
{
	struct hk_json *v = hk_json_new(HK_JSON_NUMBER);
	char text[32];

	snprintf(text, sizeof(text), "%lld", n);
	v->text = hk_xstrdup(text);
	return v;
}

struct hk_json *hk_json_new_bool(bool b)
{
	struct hk_json *v = hk_json_new(HK_JSON_BOOL);

	v->boolean = b;
	return v;
}

struct hk_json *hk_json_new_strv(const char *const *s)
{
	struct hk_json *v = hk_json_new(HK_JSON_ARRAY);

	for (; s && *s; s++)
		hk_json_push(v, hk_json_new_string(*s));
	return v;
}

struct hk_json *hk_json_push(struct hk_json *array, struct hk_json *item)
{
	array->items = hk_xrealloc(array->items, (array->n + 1) * sizeof(*array->items));
	array->items[array->n++] = item;
	return item;
}

struct hk_json *hk_json_set(struct hk_json *object, const char *key, struct hk_json *value)
{
	for (size_t i = 0; i < object->n; i++)
		if (!strcmp(object->keys[i], key)) {
			hk_json_free(object->items[i]);
			object->items[i] = value;
			return value;
		}
	object->keys = hk_xrealloc(object->keys, (object->n + 1) * sizeof(*object->keys));
	object->keys[object->n] = hk_xstrdup(key);
	return hk_json_push(object, value);
}

struct hk_json *hk_json_child(struct hk_json *object, const char *key, enum hk_json_type t)
{
	struct hk_json *v = hk_json_get(object, key);

	return v && v->type == t ? v : hk_json_set(object, key, hk_json_new(t));
}

static bool all_scalars(const struct hk_json *v)
{
	for (size_t i = 0; i < v->n; i++)
		if (v->items[i]->type == HK_JSON_ARRAY || v->items[i]->type == HK_JSON_OBJECT)
			return false;
	return true;
}

static void write_pretty(struct hk_buf *b, const struct hk_json *v, unsigned depth)
{
	/* An array of scalars stays on one line ("args": ["sh", "-c", "..."]);
	 * objects and arrays of containers take a line per item. */
	bool flat = v->type == HK_JSON_ARRAY && all_scalars(v);

	if ((v->type != HK_JSON_ARRAY && v->type != HK_JSON_OBJECT) || !v->n) {
		hk_json_write(b, v);
		return;
	}
	hk_buf_adds(b, v->type == HK_JSON_ARRAY ? "[" : "{");
	for (size_t i = 0; i < v->n; i++) {
		hk_buf_adds(b, i ? (flat ? ", " : ",") : "");
		if (!flat) {
			hk_buf_adds(b, "\n");
			for (unsigned d = 0; d <= depth; d++)
				hk_buf_adds(b, "\t");
		}
		if (v->type == HK_JSON_OBJECT) {
			hk_buf_add_json_string(b, v->keys[i]);
			hk_buf_adds(b, ": ");
		}
		write_pretty(b, v->items[i], depth + 1);
	}
	if (!flat) {
		hk_buf_adds(b, "\n");
		for (unsigned d = 0; d < depth; d++)
			hk_buf_adds(b, "\t");
	}
	hk_buf_adds(b, v->type == HK_JSON_ARRAY ? "]" : "}");
}

void hk_json_write_pretty(struct hk_buf *b, const struct hk_json *v)
{
	write_pretty(b, v, 0);
	hk_buf_adds(b, "\n");
}
