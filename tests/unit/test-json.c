/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdlib.h>

#include "json.h"
#include "tap.h"
#include "util.h"

static int parse(const char *text, struct hk_json **v, struct hk_error *err)
{
	return hk_json_parse(text, strlen(text), v, err);
}

int main(void)
{
	struct hk_error err = {0};
	struct hk_json *v = NULL;
	struct hk_buf b = HK_BUF_INIT;
	char deep[2 * HK_JSON_MAX_DEPTH + 8];

	ok(parse("{\"a\": [1, true, null, \"x\\u00e9\"], \"b\": {}}", &v, &err) == 0,
	   "valid document");
	ok(v && hk_json_get(v, "a")->n == 4, "array of four");
	ok(v && strcmp(hk_json_get(v, "a")->items[3]->text, "x\xc3\xa9") == 0,
	   "\\u escape to UTF-8");
	hk_json_write(&b, v);
	ok(strcmp(b.buf, "{\"a\":[1,true,null,\"x\xc3\xa9\"],\"b\":{}}") == 0, "round trip: %s",
	   b.buf);
	hk_buf_release(&b);
	hk_json_free(v);

	ok(parse("{\n  \"a\": 1,\n  \"b\" 2\n}", &v, &err) < 0 && strncmp(err.msg, "3:7:", 4) == 0,
	   "syntax error has line:col (%s)", err.msg);
	ok(parse("\"a\\u0000b\"", &v, &err) < 0 && strstr(err.msg, "NUL"), "\\u0000 refused");
	ok(parse("[1,]", &v, &err) < 0, "trailing comma refused");
	ok(parse("01", &v, &err) < 0, "leading zero refused");
	ok(parse("\"\\ud800\"", &v, &err) < 0, "lone surrogate refused");
	memset(deep, '[', sizeof(deep) - 1);
	deep[sizeof(deep) - 1] = '\0';
	ok(parse(deep, &v, &err) < 0 && strstr(err.msg, "too deep"), "deep nesting refused");
	ok(parse("{\"a\":1} x", &v, &err) < 0, "trailing data refused");
	ok(parse("{\"k\":1,\"k\":2}", &v, &err) == 0 && strcmp(hk_json_get(v, "k")->text, "2") == 0,
	   "duplicate key: last wins");
	hk_json_free(v);
	{
		/* The one escaper, for the buffer writer and the log alike. */
		char small[9], esc[64], stamp[64];
		struct hk_buf q = HK_BUF_INIT;

		hk_json_escape(esc, sizeof(esc), "a\"b\\c\nd\te\rf\x01g");
		ok(strcmp(esc, "a\\\"b\\\\c\\nd\\te\\rf\\u0001g") == 0, "escaped: %s", esc);
		ok(hk_json_escape(small, sizeof(small), "\x01\x02") == 6 &&
		       strcmp(small, "\\u0001") == 0,
		   "cut before a sequence that does not fit: %s", small);
		hk_buf_add_json_string(&q, "x\"");
		ok(q.len == 5 && memcmp(q.buf, "\"x\\\"\"", 5) == 0,
		   "quoted through the same escaper");
		hk_buf_release(&q);
		hk_time_rfc3339(stamp, sizeof(stamp));
		ok(strlen(stamp) == 30 && stamp[10] == 'T' && stamp[19] == '.' && stamp[29] == 'Z',
		   "RFC 3339 with nanoseconds: %s", stamp);
	}
	{
		/* The builder: set replaces, child makes what is missing, and what
		 * is written reads back as the same tree. */
		struct hk_json *c = hk_json_new(HK_JSON_OBJECT), *back = NULL;
		struct hk_buf w = HK_BUF_INIT;
		const char *args[] = {"sh", "-c", "echo \"hi\"", NULL};

		hk_json_set(c, "ociVersion", hk_json_new_string("1.0.0"));
		hk_json_set(c, "ociVersion", hk_json_new_string("1.3.0"));
		hk_json_set(hk_json_child(c, "process", HK_JSON_OBJECT), "args",
			    hk_json_new_strv(args));
		hk_json_push(hk_json_child(hk_json_child(c, "process", HK_JSON_OBJECT), "env",
					   HK_JSON_ARRAY),
			     hk_json_new_string("A=1"));
		hk_json_set(c, "n", hk_json_new_int(-42));
		hk_json_set(c, "t", hk_json_new_bool(true));
		ok(c->n == 4 && !strcmp(hk_json_get(c, "ociVersion")->text, "1.3.0"),
		   "set replaces a member of that name");
		hk_json_write_pretty(&w, c);
		err = (struct hk_error){0};
		ok(parse(w.buf, &back, &err) == 0, "pretty output parses%s", err.msg);
		ok(back &&
		       !strcmp(hk_json_get(hk_json_get(back, "process"), "args")->items[2]->text,
			       "echo \"hi\"") &&
		       !strcmp(hk_json_get(back, "n")->text, "-42") &&
		       hk_json_get(back, "t")->boolean,
		   "and reads back the same");
		ok(strstr(w.buf, "\"args\": [\"sh\", \"-c\", \"echo \\\"hi\\\"\"]") != NULL,
		   "an array of scalars on one line");
		hk_json_free(c);
		hk_json_free(back);
		hk_buf_release(&w);
	}
	tap_done();
}
