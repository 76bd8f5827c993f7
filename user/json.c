// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <inttypes.h>
#include <math.h>
#include <string.h>

#include "json.h"

void jw_init(struct json_writer *jw, FILE *out, bool pretty)
{
	memset(jw, 0, sizeof(*jw));
	jw->out = out;
	jw->pretty = pretty;
}

static void jw_indent(struct json_writer *jw)
{
	int i;

	if (!jw->pretty)
		return;
	fputc('\n', jw->out);
	for (i = 0; i < jw->depth; i++)
		fputs("  ", jw->out);
}

/* Comma and indentation before a value or a member name. */
static void jw_before_value(struct json_writer *jw)
{
	if (jw->after_name) {
		jw->after_name = false;
		return;
	}
	if (jw->need_comma[jw->depth])
		fputc(',', jw->out);
	if (jw->depth)
		jw_indent(jw);
	jw->need_comma[jw->depth] = true;
}

static void jw_open(struct json_writer *jw, char c)
{
	jw_before_value(jw);
	fputc(c, jw->out);
	if (jw->depth < JSON_MAX_DEPTH - 1)
		jw->depth++;
	jw->need_comma[jw->depth] = false;
}

static void jw_close(struct json_writer *jw, char c)
{
	bool had_members = jw->need_comma[jw->depth];

	if (jw->depth)
		jw->depth--;
	if (had_members)
		jw_indent(jw);
	fputc(c, jw->out);
	if (jw->depth == 0 && jw->pretty)
		fputc('\n', jw->out);
}

void jw_start_object(struct json_writer *jw)
{
	jw_open(jw, '{');
}

void jw_end_object(struct json_writer *jw)
{
	jw_close(jw, '}');
}

void jw_start_array(struct json_writer *jw)
{
	jw_open(jw, '[');
}

void jw_end_array(struct json_writer *jw)
{
	jw_close(jw, ']');
}

/* The two-character escapes JSON has; other control bytes are \uXXXX. */
static const char *short_escape(unsigned char c)
{
	switch (c) {
	case '"':
		return "\\\"";
	case '\\':
		return "\\\\";
	case '\n':
		return "\\n";
	case '\r':
		return "\\r";
	case '\t':
		return "\\t";
	default:
		return NULL;
	}
}

static void jw_escaped(struct json_writer *jw, const char *s, size_t len)
{
	const char *esc;
	size_t i;

	fputc('"', jw->out);
	for (i = 0; i < len; i++) {
		unsigned char c = s[i];

		esc = short_escape(c);
		if (esc)
			fputs(esc, jw->out);
		/* Control bytes and non-ASCII (network bytes need not be
		 * UTF-8) are escaped so that the output always parses. */
		else if (c < 0x20 || c >= 0x7f)
			fprintf(jw->out, "\\u%04x", c);
		else
			fputc(c, jw->out);
	}
	fputc('"', jw->out);
}

void jw_name(struct json_writer *jw, const char *name)
{
	jw_before_value(jw);
	jw_escaped(jw, name, strlen(name));
	fputs(jw->pretty ? ": " : ":", jw->out);
	jw->after_name = true;
}

void jw_string_len(struct json_writer *jw, const char *s, size_t len)
{
	jw_before_value(jw);
	jw_escaped(jw, s, len);
}

void jw_string(struct json_writer *jw, const char *s)
{
	if (!s) {
		jw_null(jw);
		return;
	}
	jw_string_len(jw, s, strlen(s));
}

void jw_uint(struct json_writer *jw, uint64_t v)
{
	jw_before_value(jw);
	fprintf(jw->out, "%" PRIu64, v);
}

void jw_int(struct json_writer *jw, int64_t v)
{
	jw_before_value(jw);
	fprintf(jw->out, "%" PRId64, v);
}

void jw_double(struct json_writer *jw, double v)
{
	jw_before_value(jw);
	if (isfinite(v))
		fprintf(jw->out, "%.9g", v);
	else
		fputs("null", jw->out);
}

void jw_bool(struct json_writer *jw, bool v)
{
	jw_before_value(jw);
	fputs(v ? "true" : "false", jw->out);
}

void jw_null(struct json_writer *jw)
{
	jw_before_value(jw);
	fputs("null", jw->out);
}

void jw_string_field(struct json_writer *jw, const char *name, const char *s)
{
	jw_name(jw, name);
	jw_string(jw, s);
}

void jw_uint_field(struct json_writer *jw, const char *name, uint64_t v)
{
	jw_name(jw, name);
	jw_uint(jw, v);
}

void jw_int_field(struct json_writer *jw, const char *name, int64_t v)
{
	jw_name(jw, name);
	jw_int(jw, v);
}

void jw_bool_field(struct json_writer *jw, const char *name, bool v)
{
	jw_name(jw, name);
	jw_bool(jw, v);
}
