/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The CrowdSec Local API's JSON (json-c): what it answers to a bouncer's
 * GET /v1/decisions/stream and a machine's POST /v1/watchers/login, and the
 * body of a machine's POST /v1/alerts. No I/O here (cs_client.c does the
 * HTTP), so that recorded answers can be tested and fuzzed.
 *
 * A response is taken whole or not at all: JSON that does not parse, or
 * whose shape is wrong (not an object, "new" neither an array nor null, an
 * element not an object), is refused with nothing returned. Inside a good
 * response a decision of another scope than Ip or Range is skipped and
 * counted, and so is one whose value or duration does not parse. */
#ifndef RG_CS_LAPI_H
#define RG_CS_LAPI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "parse.h"

#define LAPI_ORIGIN_LEN	  32
#define LAPI_SCENARIO_LEN 128
#define LAPI_TYPE_LEN	  16

struct lapi_decision {
	/* Ip: a host (/32, /128); Range: the range, host bits cleared */
	struct prefix target;
	bool range;	     /* scope Range */
	int64_t duration_ms; /* time left; <= 0: already expired */
	uint64_t id;
	char origin[LAPI_ORIGIN_LEN]; /* "cscli", "crowdsec", "CAPI", ... */
	char scenario[LAPI_SCENARIO_LEN];
	char type[LAPI_TYPE_LEN]; /* "ban", "captcha": all enforced alike */
};

struct lapi_stream {
	struct lapi_decision *added; /* "new" */
	size_t n_added;
	struct lapi_decision *deleted;
	size_t n_deleted;
	size_t unknown_scope; /* skipped: neither Ip nor Range */
	size_t invalid;	      /* skipped: value, duration or field types bad */
};

/* Parse a /v1/decisions/stream answer of len bytes. 0 and *out filled
 * (free with lapi_stream_free), or -EBADMSG with why in err and *out
 * empty. */
int lapi_parse_stream(const char *body, size_t len, struct lapi_stream *out,
		      char *err, size_t errlen);
void lapi_stream_free(struct lapi_stream *s);

/* The same parse in steps, for a caller that must not stall on a large
 * answer (a whole set of 100,000 decisions is ~14 MB of JSON and most of a
 * second of CPU in one piece). A step of `units` feeds at most units *
 * LAPI_STEP_BYTES bytes to the JSON tokener, or turns at most `units`
 * elements into decisions (about the same time); the tree is freed as it
 * is read. body stays the caller's and must outlive the parser. */
#define LAPI_STEP_BYTES 128
struct lapi_parser;
struct lapi_parser *lapi_parser_new(const char *body, size_t len);
/* 1 when the answer is through and *out filled (free it with
 * lapi_stream_free), 0 when more remains, or a negative errno with why in
 * err and *out empty (as lapi_parse_stream; every later step fails too). */
int lapi_parser_step(struct lapi_parser *p, size_t units,
		     struct lapi_stream *out, char *err, size_t errlen);
void lapi_parser_free(struct lapi_parser *p);

/* A Go duration ("3h59m58.82s", "-20.5ms", "1.5h", "0s") in
 * milliseconds, saturating. 0 or -EINVAL. */
int lapi_parse_duration(const char *s, int64_t *ms);

/* "2026-12-01T21:59:40Z", with optional fraction and numeric offset, as
 * Unix seconds. 0 or -EINVAL. */
int lapi_parse_time(const char *s, int64_t *unix_s);

/* A /v1/watchers/login answer: the JWT into token (-E2BIG when it does
 * not fit) and its expiry. 0 or a negative errno with why in err. */
int lapi_parse_login(const char *body, size_t len, char *token, size_t toklen,
		     int64_t *expire_unix_s, char *err, size_t errlen);

/* An error answer's "message" into buf (empty when there is none). */
void lapi_error_message(const char *body, size_t len, char *buf, size_t size);

/* One local ban as a CrowdSec alert with its decision. */
#define LAPI_META_LEN 256
struct lapi_alert {
	struct prefix source; /* a host, or an IPv6 group (scope Range) */
	char scenario[LAPI_SCENARIO_LEN]; /* "relayguard/relay_attempt" */
	uint64_t duration_s;
	int64_t start_unix_ms, stop_unix_ms;
	/* evidence: each may be empty */
	char helo[LAPI_META_LEN], mail_from[LAPI_META_LEN],
		rcpt_to[LAPI_META_LEN], reply[LAPI_META_LEN];
};

/* The body of POST /v1/alerts for n alerts (malloc'd), or NULL when out of
 * memory. */
char *lapi_alerts_json(const struct lapi_alert *a, size_t n);

/* The body of POST /v1/watchers/login (malloc'd), or NULL. */
char *lapi_login_json(const char *machine_id, const char *password);

#endif
