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

void print_obj_start(const char *key)
{
	if (!ctl.json)
		return;
	print_key(key);
	jw_start_object(&ctl.jw);
}

void print_obj_end(void)
{
	if (ctl.json)
		jw_end_object(&ctl.jw);
}

void print_arr_start(const char *key)
{
	if (!ctl.json)
		return;
	print_key(key);
	jw_start_array(&ctl.jw);
}

void print_arr_end(void)
{
	if (ctl.json)
		jw_end_array(&ctl.jw);
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
