/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* A streaming JSON writer for what relayguard prints (ctl output, event
 * log lines, replay decisions). Commas, nesting and string escaping are
 * its business; callers only say what comes next. The CrowdSec client
 * (cs_lapi.c) builds and parses its HTTP bodies with json-c instead. */
#ifndef RG_JSON_H
#define RG_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define JSON_MAX_DEPTH 16

struct json_writer {
	FILE *out;
	bool pretty;
	int depth;
	bool need_comma[JSON_MAX_DEPTH];
	bool after_name;
};

void jw_init(struct json_writer *jw, FILE *out, bool pretty);

void jw_start_object(struct json_writer *jw);
void jw_end_object(struct json_writer *jw);
void jw_start_array(struct json_writer *jw);
void jw_end_array(struct json_writer *jw);
/* The name of the next member of the current object. */
void jw_name(struct json_writer *jw, const char *name);

void jw_string(struct json_writer *jw, const char *s);
/* At most len bytes of s, which may hold any bytes (NUL included). */
void jw_string_len(struct json_writer *jw, const char *s, size_t len);
void jw_uint(struct json_writer *jw, uint64_t v);
void jw_int(struct json_writer *jw, int64_t v);
void jw_double(struct json_writer *jw, double v);
void jw_bool(struct json_writer *jw, bool v);
void jw_null(struct json_writer *jw);

/* name + value in one call. */
void jw_string_field(struct json_writer *jw, const char *name, const char *s);
void jw_uint_field(struct json_writer *jw, const char *name, uint64_t v);
void jw_int_field(struct json_writer *jw, const char *name, int64_t v);
void jw_bool_field(struct json_writer *jw, const char *name, bool v);

#endif
