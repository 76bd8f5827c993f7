// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* libFuzzer: bytes -> every LAPI answer parser (decisions stream, login,
 * error message) and the Go duration and time parsers; whatever the
 * stream parser returns is printed back as prefixes and origins, the way
 * the bouncer uses it. The stream parsed in the smallest steps (a byte of
 * JSON or a decision at a time) must give what one piece gives. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cs_lapi.h"
#include "origin.h"

static volatile size_t sink;

static void use(const struct lapi_decision *d, size_t n)
{
	char buf[PREFIX_STRLEN], origin[ORIGIN_STRLEN];
	struct rg_ban b = {0};
	size_t i;

	for (i = 0; i < n; i++) {
		format_prefix(&d[i].target, buf, sizeof(buf));
		origin_set_crowdsec(&b, d[i].origin, d[i].scenario);
		origin_format(&b, origin, sizeof(origin));
		sink += strlen(buf) + strlen(origin) + strlen(d[i].type) +
			(size_t)d[i].duration_ms;
	}
}

/* lapi_parser_step with units of 1: the same as lapi_parse_stream. */
static void stepped(const uint8_t *data, size_t size, int rc_whole,
		    const struct lapi_stream *whole)
{
	struct lapi_parser *p = lapi_parser_new((const char *)data, size);
	struct lapi_stream st;
	char err[256];
	int rc;

	if (!p)
		return;
	while (!(rc = lapi_parser_step(p, 1, &st, err, sizeof(err))))
		;
	lapi_parser_free(p);
	if ((rc < 0) != (rc_whole < 0))
		abort();
	if (rc < 0)
		return;
	if (st.n_added != whole->n_added || st.n_deleted != whole->n_deleted ||
	    st.unknown_scope != whole->unknown_scope ||
	    st.invalid != whole->invalid ||
	    (st.n_added && memcmp(st.added, whole->added,
				  st.n_added * sizeof(*st.added))) ||
	    (st.n_deleted && memcmp(st.deleted, whole->deleted,
				    st.n_deleted * sizeof(*st.deleted))))
		abort();
	lapi_stream_free(&st);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[256], token[512], msg[128], *s;
	struct lapi_stream st;
	int64_t v;
	int rc;

	rc = lapi_parse_stream((const char *)data, size, &st, err, sizeof(err));
	stepped(data, size, rc, &st);
	if (!rc) {
		use(st.added, st.n_added);
		use(st.deleted, st.n_deleted);
		lapi_stream_free(&st);
	}
	if (!lapi_parse_login((const char *)data, size, token, sizeof(token),
			      &v, err, sizeof(err)))
		sink += strlen(token) + (size_t)v;
	lapi_error_message((const char *)data, size, msg, sizeof(msg));
	sink += strlen(msg);
	s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (!lapi_parse_duration(s, &v))
		sink += (size_t)v;
	if (!lapi_parse_time(s, &v))
		sink += (size_t)v;
	free(s);
	return 0;
}
