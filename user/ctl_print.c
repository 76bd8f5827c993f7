// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* relayguardctl: the text/JSON print layer. */
#include <stdarg.h>
#include <stdio.h>

#include "ctl.h"

/* In JSON, the name of the value that follows (none inside an array). */
static void print_key(const char *key)
{
	if (key)
		jw_name(&ctl.jw, key);
}

/* A JSON object or array; nothing in text. */
static void print_open(const char *key, void (*start)(struct json_writer *))
{
	if (!ctl.json)
		return;
	print_key(key);
	start(&ctl.jw);
}

static void print_close(void (*end)(struct json_writer *))
{
	if (ctl.json)
		end(&ctl.jw);
}

void print_obj_start(const char *key)
{
	print_open(key, jw_start_object);
}

void print_obj_end(void)
{
	print_close(jw_end_object);
}

void print_arr_start(const char *key)
{
	print_open(key, jw_start_array);
}

void print_arr_end(void)
{
	print_close(jw_end_array);
}

void print_str(const char *key, const char *fmt, const char *v)
{
	if (ctl.json) {
		print_key(key);
		jw_string(&ctl.jw, v);
	} else if (fmt) {
		printf(fmt, v);
	}
}

void print_uint(const char *key, const char *fmt, uint64_t v)
{
	if (ctl.json) {
		print_key(key);
		jw_uint(&ctl.jw, v);
	} else if (fmt) {
		printf(fmt, (unsigned long long)v);
	}
}

void print_bool(const char *key, const char *fmt, bool v)
{
	if (ctl.json) {
		print_key(key);
		jw_bool(&ctl.jw, v);
	} else if (fmt) {
		printf(fmt, v ? "yes" : "no");
	}
}

void print_null(const char *key, const char *fmt, const char *text)
{
	if (ctl.json) {
		print_key(key);
		jw_null(&ctl.jw);
	} else if (fmt) {
		printf(fmt, text);
	}
}

void print_text(const char *fmt, ...)
{
	va_list ap;

	if (ctl.json)
		return;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
}
