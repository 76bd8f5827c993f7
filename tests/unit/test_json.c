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

static void test_nesting(void **state)
{
	struct json_writer jw;
	struct capture c;

	(void)state;
	capture_start(&c, &jw, false);
	jw_start_object(&jw);
	jw_string_field(&jw, "a", "x");
	jw_uint_field(&jw, "n", 18446744073709551615ULL);
	jw_int_field(&jw, "neg", -3);
	jw_name(&jw, "list");
	jw_start_array(&jw);
	jw_bool(&jw, true);
	jw_null(&jw);
	jw_start_object(&jw);
	jw_end_object(&jw);
	jw_start_array(&jw);
	jw_end_array(&jw);
	jw_end_array(&jw);
	jw_end_object(&jw);
	assert_string_equal(capture_end(&c),
			    "{\"a\":\"x\",\"n\":18446744073709551615,\"neg\":-3,"
			    "\"list\":[true,null,{},[]]}");
	free(c.buf);
}

static void test_escaping(void **state)
{
	static const char raw[] = "q\"b\\n\n\r\t\x01\xff\0z";
	struct json_writer jw;
	struct capture c;

	(void)state;
	capture_start(&c, &jw, false);
	jw_string_len(&jw, raw, sizeof(raw) - 1);
	assert_string_equal(capture_end(&c),
			    "\"q\\\"b\\\\n\\n\\r\\t\\u0001\\u00ff\\u0000z\"");
	free(c.buf);
}

static void test_pretty(void **state)
{
	struct json_writer jw;
	struct capture c;

	(void)state;
	capture_start(&c, &jw, true);
	jw_start_object(&jw);
	jw_uint_field(&jw, "a", 1);
	jw_name(&jw, "b");
	jw_start_array(&jw);
	jw_uint(&jw, 2);
	jw_end_array(&jw);
	jw_end_object(&jw);
	assert_string_equal(capture_end(&c),
			    "{\n  \"a\": 1,\n  \"b\": [\n    2\n  ]\n}\n");
	free(c.buf);
}

static void test_null_string(void **state)
{
	struct json_writer jw;
	struct capture c;

	(void)state;
	capture_start(&c, &jw, false);
	jw_start_object(&jw);
	jw_string_field(&jw, "helo", NULL);
	jw_end_object(&jw);
	assert_string_equal(capture_end(&c), "{\"helo\":null}");
	free(c.buf);
}

UNIT_TEST_MAIN(cmocka_unit_test(test_nesting), cmocka_unit_test(test_escaping),
	       cmocka_unit_test(test_pretty),
	       cmocka_unit_test(test_null_string))
