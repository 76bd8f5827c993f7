// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The JSON writer: nesting, commas, escaping of any bytes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "json.h"
#include "unit.h"

struct capture {
	char *buf;
	size_t len;
	FILE *f;
};

static void capture_start(struct capture *c, struct json_writer *jw,
			  bool pretty)
{
	c->f = open_memstream(&c->buf, &c->len);
	assert_non_null(c->f);
	jw_init(jw, c->f, pretty);
}

static const char *capture_end(struct capture *c)
{
	fclose(c->f);
	return c->buf;
}

/* What write writes with a writer (pretty or not) is want, to the byte. */
static void expect_json(void (*write)(struct json_writer *jw), bool pretty,
			const char *want)
{
	struct json_writer jw;
	struct capture c;

	capture_start(&c, &jw, pretty);
	write(&jw);
	assert_string_equal(capture_end(&c), want);
	free(c.buf);
}

static void write_nested(struct json_writer *jw)
{
	jw_start_object(jw);
	jw_string_field(jw, "a", "x");
	jw_uint_field(jw, "n", 18446744073709551615ULL);
	jw_int_field(jw, "neg", -3);
	jw_name(jw, "list");
	jw_start_array(jw);
	jw_bool(jw, true);
	jw_null(jw);
	jw_start_object(jw);
	jw_end_object(jw);
	jw_start_array(jw);
	jw_end_array(jw);
	jw_end_array(jw);
	jw_end_object(jw);
}

static void write_escaped(struct json_writer *jw)
{
	static const char raw[] = "q\"b\\n\n\r\t\x01\xff\0z";

	jw_string_len(jw, raw, sizeof(raw) - 1);
}

static void write_pretty(struct json_writer *jw)
{
	jw_start_object(jw);
	jw_uint_field(jw, "a", 1);
	jw_name(jw, "b");
	jw_start_array(jw);
	jw_uint(jw, 2);
	jw_end_array(jw);
	jw_end_object(jw);
}

static void write_null_string(struct json_writer *jw)
{
	jw_start_object(jw);
	jw_string_field(jw, "helo", NULL);
	jw_end_object(jw);
}

/* What each writer writes (pretty or not), to the byte. */
static const struct {
	const char *name;
	void (*write)(struct json_writer *jw);
	bool pretty;
	const char *want;
} cases[] = {
	{ "nesting", write_nested, false,
	  "{\"a\":\"x\",\"n\":18446744073709551615,\"neg\":-3,"
	  "\"list\":[true,null,{},[]]}" },
	{ "escaping", write_escaped, false,
	  "\"q\\\"b\\\\n\\n\\r\\t\\u0001\\u00ff\\u0000z\"" },
	{ "pretty", write_pretty, true,
	  "{\n  \"a\": 1,\n  \"b\": [\n    2\n  ]\n}\n" },
	{ "null_string", write_null_string, false, "{\"helo\":null}" },
};

static void test_writes(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_LEN(cases); i++) {
		print_message("%s\n", cases[i].name);
		expect_json(cases[i].write, cases[i].pretty, cases[i].want);
	}
}

UNIT_TEST_MAIN(cmocka_unit_test(test_writes))
