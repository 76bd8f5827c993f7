// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* cs_lapi.c on answers recorded from crowdsec 1.4.6's Local API (Debian
 * bookworm) and on what it may also send: null arrays, Go durations
 * (negative for expired decisions), Range scope, unknown scopes, extra
 * fields; malformed answers are refused whole. */
#include <arpa/inet.h>
#include <errno.h>
#include <json-c/json.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "cs_lapi.h"
#include "unit.h"

static char err[256];

/* GET /v1/decisions/stream?startup=true after `cscli decisions add -i
 * 192.0.2.7 -d 1h`, `-r 198.51.100.0/24` and `-i 2001:db8::5`. */
static const char startup_answer[] =
	"{\"deleted\":null,\"new\":[{\"duration\":\"59m59.025360178s\",\"id\":"
	"1,"
	"\"origin\":\"cscli\",\"scenario\":\"manual 'ban' from 'cli'\","
	"\"scope\":\"Ip\",\"type\":\"ban\",\"value\":\"192.0.2.7\"},"
	"{\"duration\":\"3h59m59.025357975s\",\"id\":2,\"origin\":\"cscli\","
	"\"scenario\":\"manual 'ban' from 'cli'\",\"scope\":\"Range\","
	"\"type\":\"ban\",\"value\":\"198.51.100.0/24\"},"
	"{\"duration\":\"3h59m59.025357294s\",\"id\":3,\"origin\":\"cscli\","
	"\"scenario\":\"manual 'ban' from 'cli'\",\"scope\":\"Ip\","
	"\"type\":\"ban\",\"value\":\"2001:db8::5\"}]}";

/* The next pull after `cscli decisions delete -i 192.0.2.7`. */
static const char delete_answer[] =
	"{\"deleted\":[{\"duration\":\"-16.462026ms\",\"id\":1,\"origin\":"
	"\"cscli\",\"scenario\":\"manual 'ban' from 'cli'\",\"scope\":\"Ip\","
	"\"type\":\"ban\",\"value\":\"192.0.2.7\"}],\"new\":null}";

static const char login_answer[] =
	"{\"code\":200,\"expire\":\"2026-12-01T23:04:58Z\",\"token\":"
	"\"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJleHAiOjE3OTYxNjYyOTgsImlk"
	"IjoiZ3cxIiwib3JpZ19pYXQiOjE3OTYxNjI2OTh9.M1AeYFqCiqvcM24HAyQF4-D5lS"
	"dtSWkMSlIUkqRKyCg\"}";

static int parse(const char *body, struct lapi_stream *s)
{
	return lapi_parse_stream(body, strlen(body), s, err, sizeof(err));
}

/* body parses into s with n_added new and n_deleted deleted decisions. */
static void assert_parses(const char *body, struct lapi_stream *s,
			  size_t n_added, size_t n_deleted)
{
	assert_int_equal(parse(body, s), 0);
	assert_int_equal(s->n_added, n_added);
	assert_int_equal(s->n_deleted, n_deleted);
}

static void assert_prefix(const struct prefix *p, const char *want)
{
	char buf[PREFIX_STRLEN];

	format_prefix(p, buf, sizeof(buf));
	assert_string_equal(buf, want);
}

static void test_startup_answer(void **state)
{
	struct lapi_stream s;

	(void)state;
	assert_parses(startup_answer, &s, 3, 0);
	assert_prefix(&s.added[0].target, "192.0.2.7");
	assert_false(s.added[0].range);
	assert_int_equal(s.added[0].duration_ms, 3599025);
	assert_string_equal(s.added[0].origin, "cscli");
	assert_string_equal(s.added[0].type, "ban");
	assert_int_equal(s.added[0].id, 1);
	assert_prefix(&s.added[1].target, "198.51.100.0/24");
	assert_true(s.added[1].range);
	assert_int_equal(s.added[1].duration_ms, 14399025);
	assert_prefix(&s.added[2].target, "2001:db8::5");
	assert_int_equal(s.added[2].target.len, 128);
	assert_int_equal(s.unknown_scope + s.invalid, 0);
	lapi_stream_free(&s);
}

static void test_null_and_absent(void **state)
{
	static const char *const empty[] = {
		"{\"deleted\":null,\"new\":null}",
		"{}",
		"{\"new\":[]}",
		" {\"deleted\":[],\"new\":null}\n",
	};
	struct lapi_stream s;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_LEN(empty); i++) {
		assert_int_equal(parse(empty[i], &s), 0);
		assert_int_equal(s.n_added + s.n_deleted, 0);
		lapi_stream_free(&s);
	}
}

static void test_deleted_expired(void **state)
{
	struct lapi_stream s;

	(void)state;
	assert_parses(delete_answer, &s, 0, 1);
	assert_prefix(&s.deleted[0].target, "192.0.2.7");
	assert_int_equal(s.deleted[0].duration_ms, -16);
	lapi_stream_free(&s);
}

static void test_go_durations(void **state)
{
	static const struct {
		const char *s;
		int64_t ms;
	} good[] = {
		{"3h59m58.82s", 14398820},
		{"-20.5ms", -20},
		{"1.5h", 5400000},
		{"0s", 0},
		{"0", 0},
		{"100us", 0},
		{"2500000\xc2\xb5s", 2500},
		{"90m", 5400000},
		{"+1s", 1000},
		{"1h1m1s1ms", 3661001},
		{"-59m59.5s", -3599500},
		{".5s", 500},
	};
	static const char *const bad[] = {"",	  "5",	  "h",	"1x",	"1h-2m",
					  "--1s", "1.s.", "s1", "1e3s", "1 h"};
	int64_t ms;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_LEN(good); i++) {
		assert_int_equal(lapi_parse_duration(good[i].s, &ms), 0);
		assert_int_equal(ms, good[i].ms);
	}
	for (i = 0; i < ARRAY_LEN(bad); i++)
		assert_int_equal(lapi_parse_duration(bad[i], &ms), -EINVAL);
	/* saturates instead of overflowing */
	assert_int_equal(lapi_parse_duration("99999999999999999h", &ms), 0);
	assert_true(ms > 0);
}

static void test_scopes_and_values(void **state)
{
	static const char body[] =
		"{\"new\":["
		"{\"duration\":\"1h\",\"scope\":\"username\",\"value\":\"bob\"}"
		","
		"{\"duration\":\"1h\",\"scope\":\"Country\",\"value\":\"FR\"},"
		"{\"duration\":\"1h\",\"scope\":\"AS\",\"value\":\"64500\"},"
		"{\"duration\":\"1h\",\"scope\":\"range\",\"value\":\"10.0.0.5/"
		"24\"},"
		"{\"duration\":\"1h\",\"scope\":\"ip\",\"value\":\"10.1.1.1/"
		"24\"},"
		"{\"duration\":\"1h\",\"scope\":\"Ip\",\"value\":\"10.1.1."
		"300\"},"
		"{\"duration\":\"soon\",\"scope\":\"Ip\",\"value\":\"10.1.1."
		"3\"},"
		"{\"duration\":\"1h\",\"scope\":\"Range\",\"value\":\"10.0.0.0/"
		"33\"},"
		"{\"duration\":\"1h\",\"scope\":\"Range\",\"value\":\"2001:db8:"
		":/40\"},"
		"{\"duration\":\"1h\",\"scope\":7,\"value\":\"10.1.1.4\"},"
		"{\"duration\":\"1h\",\"scope\":\"Ip\",\"value\":null},"
		"{\"duration\":\"1h\",\"scope\":\"Ip\",\"value\":\"10.1.1.5\"}]"
		"}";
	struct lapi_stream s;

	(void)state;
	assert_parses(body, &s, 3, 0);
	assert_int_equal(s.unknown_scope, 3);
	assert_int_equal(s.invalid, 6);
	/* host bits of a range are cleared, scope names any case */
	assert_prefix(&s.added[0].target, "10.0.0.0/24");
	assert_true(s.added[0].range);
	assert_prefix(&s.added[1].target, "2001:db8::/40");
	assert_prefix(&s.added[2].target, "10.1.1.5");
	lapi_stream_free(&s);
}

static void test_extra_fields(void **state)
{
	static const char body[] =
		"{\"links\":{\"next\":null},\"new\":[{\"duration\":\"4h\","
		"\"id\":9,\"origin\":\"lists\",\"scenario\":\"lists:firehol\","
		"\"scope\":\"Ip\",\"type\":\"captcha\",\"value\":\"192.0.2.1\","
		"\"uuid\":\"x\",\"simulated\":false,\"until\":\"2026-12-01T23:"
		"00:00Z\","
		"\"nested\":{\"a\":[1,2,{\"b\":null}]}}],\"deleted\":null,"
		"\"future\":[1,2,3]}";
	struct lapi_stream s;

	(void)state;
	assert_parses(body, &s, 1, 0);
	assert_string_equal(s.added[0].origin, "lists");
	assert_string_equal(s.added[0].scenario, "lists:firehol");
	assert_string_equal(s.added[0].type, "captcha");
	lapi_stream_free(&s);
}

static void test_malformed(void **state)
{
	static const char *const bad[] = {
		"",
		"{",
		"{\"new\":[{\"duration\":\"1h\",\"scope\":\"Ip\",\"value\":"
		"\"10.0.0.1\"}",
		"{\"new\":null} trailing",
		"{\"new\":null}{\"new\":null}",
		"[]",
		"null",
		"\"new\"",
		"{\"new\":\"10.0.0.1\"}",
		"{\"new\":{}}",
		"{\"new\":[{\"duration\":\"1h\",\"scope\":\"Ip\",\"value\":"
		"\"10.0.0.1\"},5]}",
		"{\"new\":null,\"deleted\":[null]}",
		"{\"new\":[], \"deleted\":7}",
		"<html><body>502 Bad Gateway</body></html>",
	};
	struct lapi_stream s;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_LEN(bad); i++) {
		memset(&s, 0x5a, sizeof(s));
		assert_int_equal(parse(bad[i], &s), -EBADMSG);
		/* nothing of a bad answer comes out */
		assert_null(s.added);
		assert_null(s.deleted);
		assert_int_equal(s.n_added + s.n_deleted, 0);
		assert_true(err[0]);
	}
	/* a NUL inside the answer: not JSON text */
	assert_int_equal(
		lapi_parse_stream("{\"new\":null}\0", 13, &s, err, sizeof(err)),
		-EBADMSG);
}

static void test_deep_nesting(void **state)
{
	char body[4096];
	struct lapi_stream s;
	size_t i, n = 0;

	(void)state;
	n += snprintf(body + n, sizeof(body) - n, "{\"x\":");
	for (i = 0; i < 1000; i++)
		body[n++] = '[';
	body[n] = '\0';
	assert_int_equal(parse(body, &s), -EBADMSG);
}

static void test_error_message(void **state)
{
	char msg[64];
	static const char body[] = "{\"message\":\"access forbidden\\nx\"}";

	(void)state;
	lapi_error_message(body, strlen(body), msg, sizeof(msg));
	assert_string_equal(msg, "access forbidden x");
	lapi_error_message("<html>", 6, msg, sizeof(msg));
	assert_string_equal(msg, "");
}

static void test_login(void **state)
{
	char token[512];
	int64_t exp;

	(void)state;
	assert_int_equal(lapi_parse_login(login_answer, strlen(login_answer),
					  token, sizeof(token), &exp, err,
					  sizeof(err)),
			 0);
	assert_int_equal(exp, 1796166298); /* 2026-12-01T23:04:58Z */
	assert_memory_equal(token, "eyJhbGciOiJIUzI1NiIs", 20);
	assert_int_equal(lapi_parse_login(login_answer, strlen(login_answer),
					  token, 16, &exp, err, sizeof(err)),
			 -E2BIG);
	assert_int_equal(lapi_parse_login("{\"code\":401,\"message\":\"no\"}",
					  27, token, sizeof(token), &exp, err,
					  sizeof(err)),
			 -EBADMSG);
	assert_int_equal(
		lapi_parse_time("2026-12-01T23:04:58.123456+01:00", &exp), 0);
	assert_int_equal(exp, 1796166298 - 3600);
	assert_int_equal(lapi_parse_time("2026-12-01 23:04:58", &exp), -EINVAL);
}

static struct json_object *field(struct json_object *o, const char *key)
{
	struct json_object *v = NULL;

	assert_true(json_object_object_get_ex(o, key, &v));
	return v;
}

static void test_alerts_json(void **state)
{
	struct lapi_alert a[2] = {0};
	struct json_object *arr, *al, *dec, *src;
	char *body;

	(void)state;
	parse_prefix("192.0.2.99", &a[0].source);
	parse_prefix("2001:db8:1::/64", &a[1].source);
	a[0].duration_s = a[1].duration_s = 3600;
	a[0].start_unix_ms = a[0].stop_unix_ms = 1796162698000LL;
	snprintf(a[0].scenario, sizeof(a[0].scenario),
		 "relayguard/relay_attempt");
	snprintf(a[1].scenario, sizeof(a[1].scenario), "relayguard/pregreet");
	snprintf(a[0].helo, sizeof(a[0].helo), "bot\"\n.example");
	snprintf(a[0].rcpt_to, sizeof(a[0].rcpt_to), "<v@foreign.test>");
	body = lapi_alerts_json(a, 2);
	assert_non_null(body);
	arr = json_tokener_parse(body);
	assert_non_null(arr);
	assert_int_equal(json_object_array_length(arr), 2);
	al = json_object_array_get_idx(arr, 0);
	assert_string_equal(json_object_get_string(field(al, "scenario")),
			    "relayguard/relay_attempt");
	assert_string_equal(json_object_get_string(field(al, "start_at")),
			    "2026-12-01T22:04:58Z");
	assert_non_null(strstr(json_object_get_string(field(al, "message")),
			       "rcpt <v@foreign.test>"));
	src = field(al, "source");
	assert_string_equal(json_object_get_string(field(src, "scope")), "Ip");
	assert_string_equal(json_object_get_string(field(src, "value")),
			    "192.0.2.99");
	dec = json_object_array_get_idx(field(al, "decisions"), 0);
	assert_string_equal(json_object_get_string(field(dec, "duration")),
			    "3600s");
	assert_string_equal(json_object_get_string(field(dec, "type")), "ban");
	assert_string_equal(json_object_get_string(field(dec, "value")),
			    "192.0.2.99");
	al = json_object_array_get_idx(arr, 1);
	src = field(al, "source");
	assert_string_equal(json_object_get_string(field(src, "scope")),
			    "Range");
	assert_string_equal(json_object_get_string(field(src, "value")),
			    "2001:db8:1::/64");
	json_object_put(arr);
	free(body);
}

/* An IPv6 group as short as /32 (ipv6_prefix allows 16..128) is a Range:
 * its source names the range, never an "ip". */
static void test_alert_ipv6_group_32(void **state)
{
	struct lapi_alert a = {0};
	struct json_object *arr, *src, *v;
	char *body;

	(void)state;
	assert_int_equal(parse_prefix("2001:db8::/32", &a.source), 0);
	a.duration_s = 3600;
	snprintf(a.scenario, sizeof(a.scenario), "relayguard/relay_attempt");
	body = lapi_alerts_json(&a, 1);
	assert_non_null(body);
	arr = json_tokener_parse(body);
	assert_non_null(arr);
	src = field(json_object_array_get_idx(arr, 0), "source");
	assert_string_equal(json_object_get_string(field(src, "scope")),
			    "Range");
	assert_string_equal(json_object_get_string(field(src, "range")),
			    "2001:db8::/32");
	assert_false(json_object_object_get_ex(src, "ip", &v));
	json_object_put(arr);
	free(body);
}

UNIT_TEST_MAIN(cmocka_unit_test(test_startup_answer),
	       cmocka_unit_test(test_null_and_absent),
	       cmocka_unit_test(test_deleted_expired),
	       cmocka_unit_test(test_go_durations),
	       cmocka_unit_test(test_scopes_and_values),
	       cmocka_unit_test(test_extra_fields),
	       cmocka_unit_test(test_malformed),
	       cmocka_unit_test(test_deep_nesting),
	       cmocka_unit_test(test_error_message),
	       cmocka_unit_test(test_login), cmocka_unit_test(test_alerts_json),
	       cmocka_unit_test(test_alert_ipv6_group_32))
