// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <arpa/inet.h>
#include <errno.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include "cs_lapi.h"
#include "names.h"

#define LAPI_MAX_DEPTH 16

/* The whole of body as one JSON value; NULL with why in err. */
static struct json_object *parse_json(const char *body, size_t len, char *err,
				      size_t errlen)
{
	struct json_tokener *tok;
	struct json_object *obj;
	enum json_tokener_error jerr;
	size_t end;

	if (len > INT_MAX) {
		snprintf(err, errlen, "answer of %zu bytes: too large", len);
		return NULL;
	}
	tok = json_tokener_new_ex(LAPI_MAX_DEPTH);
	if (!tok) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	obj = json_tokener_parse_ex(tok, body, (int)len);
	jerr = json_tokener_get_error(tok);
	end = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	if (obj && jerr == json_tokener_success) {
		while (end < len && strchr(" \t\r\n", body[end]) && body[end])
			end++;
		if (end == len)
			return obj;
		snprintf(err, errlen, "bad JSON: data after the value at %zu",
			 end);
	} else {
		snprintf(err, errlen, "bad JSON: %s",
			 jerr == json_tokener_continue
				 ? "truncated"
				 : json_tokener_error_desc(jerr));
	}
	json_object_put(obj);
	return NULL;
}

/* ---- Go durations ---------------------------------------------------- */

static const struct {
	const char *name;
	double ms;
} go_units[] = {
	/* longest first where one is a prefix of another ("ms" before "m") */
	{ "ns", 1e-6 },	       { "us", 1e-3 }, { "\xc2\xb5s", 1e-3 },
	{ "\xce\xbcs", 1e-3 }, { "ms", 1 },    { "s", 1e3 },
	{ "m", 6e4 },	       { "h", 3.6e6 },
};

static int go_unit(const char **p, double *ms)
{
	size_t i, n;

	for (i = 0; i < ARRAY_LEN(go_units); i++) {
		n = strlen(go_units[i].name);
		if (!strncmp(*p, go_units[i].name, n)) {
			*ms = go_units[i].ms;
			*p += n;
			return 0;
		}
	}
	return -EINVAL;
}

/* One "<number>[.<fraction>]" (digits only: no sign, no exponent). */
static int go_number(const char **p, double *v)
{
	const char *s = *p;
	double x = 0, scale = 1;
	bool digits = false;

	for (; *s >= '0' && *s <= '9'; s++, digits = true)
		x = x * 10 + (*s - '0');
	if (*s == '.')
		for (s++; *s >= '0' && *s <= '9'; s++, digits = true)
			x += (*s - '0') * (scale /= 10);
	if (!digits)
		return -EINVAL;
	*v = x;
	*p = s;
	return 0;
}

int lapi_parse_duration(const char *s, int64_t *ms)
{
	double total = 0, v, unit;
	bool neg = false;

	if (*s == '-' || *s == '+')
		neg = *s++ == '-';
	if (!strcmp(s, "0")) {
		*ms = 0;
		return 0;
	}
	if (!*s)
		return -EINVAL;
	while (*s) {
		if (go_number(&s, &v) || go_unit(&s, &unit))
			return -EINVAL;
		total += v * unit;
	}
	if (total > (double)INT64_MAX / 2)
		total = (double)INT64_MAX / 2;
	*ms = (int64_t)total * (neg ? -1 : 1);
	return 0;
}

int lapi_parse_time(const char *s, int64_t *unix_s)
{
	struct tm tm = { 0 };
	const char *p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	unsigned int oh, om;
	int64_t t, off = 0;
	int n = 0;

	if (!p)
		return -EINVAL;
	if (*p == '.')
		for (p++; *p >= '0' && *p <= '9'; p++)
			;
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if ((*p == '+' || *p == '-') &&
		   sscanf(p + 1, "%2u:%2u%n", &oh, &om, &n) == 2 && n == 5 &&
		   oh < 24 && om < 60) {
		off = (oh * 3600 + om * 60) * (*p == '-' ? -1 : 1);
		p += 1 + n;
	} else {
		return -EINVAL;
	}
	if (*p)
		return -EINVAL;
	t = timegm(&tm);
	*unix_s = t - off;
	return 0;
}

/* ---- decisions ------------------------------------------------------- */

static const char *get_str(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static void copy_str(char *dst, size_t size, const char *src)
{
	snprintf(dst, size, "%s", src ? src : "");
}

/* "ADDR" (Ip) or "ADDR/LEN" (Range; host bits are cleared). */
static int parse_target(const char *value, bool range, struct prefix *p)
{
	char addr[INET6_ADDRSTRLEN + 1], *end;
	const char *slash = strchr(value, '/');
	size_t n = slash ? (size_t)(slash - value) : strlen(value);
	unsigned long len;

	if (n >= sizeof(addr) || (slash != NULL) != range)
		return -EINVAL;
	memcpy(addr, value, n);
	addr[n] = '\0';
	memset(p, 0, sizeof(*p));
	if (inet_pton(AF_INET, addr, p->addr) == 1)
		p->family = AF_INET;
	else if (inet_pton(AF_INET6, addr, p->addr) == 1)
		p->family = AF_INET6;
	else
		return -EINVAL;
	p->len = prefix_host_len(p->family);
	if (!slash)
		return 0;
	if (slash[1] < '0' || slash[1] > '9')
		return -EINVAL;
	errno = 0;
	len = strtoul(slash + 1, &end, 10);
	if (errno || *end || len > p->len)
		return -EINVAL;
	p->len = len;
	prefix_mask(p);
	return 0;
}

enum entry_verdict { ENTRY_OK, ENTRY_UNKNOWN_SCOPE, ENTRY_INVALID };

static enum entry_verdict parse_decision(struct json_object *o,
					 struct lapi_decision *d)
{
	const char *scope = get_str(o, "scope"), *value = get_str(o, "value");
	const char *duration = get_str(o, "duration");
	struct json_object *id;

	memset(d, 0, sizeof(*d));
	if (!scope)
		return ENTRY_INVALID;
	if (!strcasecmp(scope, "range"))
		d->range = true;
	else if (strcasecmp(scope, "ip"))
		return ENTRY_UNKNOWN_SCOPE;
	if (!value || parse_target(value, d->range, &d->target))
		return ENTRY_INVALID;
	/* a deleted decision may come without a duration */
	if (duration && lapi_parse_duration(duration, &d->duration_ms))
		return ENTRY_INVALID;
	if (json_object_object_get_ex(o, "id", &id) &&
	    json_object_is_type(id, json_type_int))
		d->id = (uint64_t)json_object_get_int64(id);
	copy_str(d->origin, sizeof(d->origin), get_str(o, "origin"));
	copy_str(d->scenario, sizeof(d->scenario), get_str(o, "scenario"));
	copy_str(d->type, sizeof(d->type), get_str(o, "type"));
	return ENTRY_OK;
}

/* The stream answer parsed in steps: its JSON fed to the tokener a chunk
 * at a time, then each element of "new" and "deleted" turned into a
 * decision and freed from the tree at once, so that neither the parse nor
 * the tree's release ever takes more than a step. */
enum parser_stage { P_TOKENS, P_NEW, P_DELETED, P_DONE };

struct lapi_parser {
	const char *body;
	size_t len, off;
	struct json_tokener *tok;
	struct json_object *root, *arr; /* arr: the array being converted */
	enum parser_stage stage;
	size_t idx, n; /* in arr */
	struct lapi_stream s;
	bool failed;
};

struct lapi_parser *lapi_parser_new(const char *body, size_t len)
{
	struct lapi_parser *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->body = body;
	p->len = len;
	p->tok = json_tokener_new_ex(LAPI_MAX_DEPTH);
	if (!p->tok) {
		free(p);
		return NULL;
	}
	/* strict (no comments): what follows the value is then judged the
	 * same however the body is cut into chunks */
	json_tokener_set_flags(p->tok, JSON_TOKENER_STRICT);
	return p;
}

void lapi_parser_free(struct lapi_parser *p)
{
	if (!p)
		return;
	json_tokener_free(p->tok);
	json_object_put(p->root);
	lapi_stream_free(&p->s);
	free(p);
}

/* The root object once the body's last byte is fed; -EBADMSG when the
 * JSON is bad, or something other than blanks follows the value. */
static int feed_tokens(struct lapi_parser *p, size_t bytes, char *err,
		       size_t errlen)
{
	size_t chunk = p->len - p->off < bytes ? p->len - p->off : bytes;
	enum json_tokener_error jerr;
	size_t end;

	if (chunk > INT_MAX)
		chunk = INT_MAX;

	p->root = json_tokener_parse_ex(p->tok, p->body + p->off, (int)chunk);
	jerr = json_tokener_get_error(p->tok);
	if (p->root && jerr == json_tokener_success) {
		end = p->off + json_tokener_get_parse_end(p->tok);
		/* JSON's own blanks (RFC 8259), as the strict tokener takes
		 * them when they share its chunk */
		while (end < p->len && p->body[end] &&
		       strchr(" \t\n\r", p->body[end]))
			end++;
		if (end == p->len)
			return 0;
		snprintf(err, errlen, "bad JSON: data after the value at %zu",
			 end);
		return -EBADMSG;
	}
	p->off += chunk;
	if (jerr == json_tokener_continue && p->off < p->len)
		return 0;
	snprintf(err, errlen, "bad JSON: %s",
		 jerr == json_tokener_continue ? "truncated"
					       : json_tokener_error_desc(jerr));
	return -EBADMSG;
}

/* "new" or "deleted" (stage): an array of objects, null, or absent. */
static int start_array(struct lapi_parser *p, char *err, size_t errlen)
{
	const char *key = p->stage == P_NEW ? "new" : "deleted";
	struct lapi_decision **out =
		p->stage == P_NEW ? &p->s.added : &p->s.deleted;

	p->idx = p->n = 0;
	p->arr = NULL;
	if (!json_object_object_get_ex(p->root, key, &p->arr) ||
	    json_object_is_type(p->arr, json_type_null))
		return 0;
	if (!json_object_is_type(p->arr, json_type_array)) {
		snprintf(err, errlen, "\"%s\" is neither an array nor null",
			 key);
		return -EBADMSG;
	}
	p->n = json_object_array_length(p->arr);
	*out = calloc(p->n ? p->n : 1, sizeof(**out));
	if (!*out) {
		snprintf(err, errlen, "out of memory for %zu decisions", p->n);
		return -ENOMEM;
	}
	return 0;
}

/* Up to max elements of the array into decisions, each freed from the
 * tree once read. */
static int convert(struct lapi_parser *p, size_t max, char *err, size_t errlen)
{
	bool added = p->stage == P_NEW;
	struct lapi_decision *v = added ? p->s.added : p->s.deleted;
	size_t *count = added ? &p->s.n_added : &p->s.n_deleted;
	struct json_object *el;

	for (; max && p->idx < p->n; max--, p->idx++) {
		el = json_object_array_get_idx(p->arr, p->idx);
		if (!json_object_is_type(el, json_type_object)) {
			snprintf(err, errlen, "\"%s\"[%zu] is not an object",
				 added ? "new" : "deleted", p->idx);
			return -EBADMSG;
		}
		switch (parse_decision(el, &v[*count])) {
		case ENTRY_OK:
			(*count)++;
			break;
		case ENTRY_UNKNOWN_SCOPE:
			p->s.unknown_scope++;
			break;
		case ENTRY_INVALID:
			p->s.invalid++;
			break;
		}
		json_object_array_put_idx(p->arr, p->idx, NULL);
	}
	return 0;
}

/* On to the next stage once this one is through. */
static int next_stage(struct lapi_parser *p, char *err, size_t errlen)
{
	switch (p->stage) {
	case P_TOKENS:
		if (!p->root)
			return 0;
		if (!json_object_is_type(p->root, json_type_object)) {
			snprintf(err, errlen, "answer is not a JSON object");
			return -EBADMSG;
		}
		p->stage = P_NEW;
		return start_array(p, err, errlen);
	case P_NEW:
	case P_DELETED:
		if (p->idx < p->n)
			return 0;
		if (p->stage == P_DELETED) {
			p->stage = P_DONE;
			return 0;
		}
		p->stage = P_DELETED;
		return start_array(p, err, errlen);
	case P_DONE:
		break;
	}
	return 0;
}

static int parser_work(struct lapi_parser *p, size_t units, char *err,
		       size_t errlen)
{
	size_t bytes = units > SIZE_MAX / LAPI_STEP_BYTES
			       ? SIZE_MAX
			       : units * LAPI_STEP_BYTES;

	if (p->stage == P_TOKENS)
		return feed_tokens(p, bytes ? bytes : 1, err, errlen);
	return convert(p, units ? units : 1, err, errlen);
}

int lapi_parser_step(struct lapi_parser *p, size_t units,
		     struct lapi_stream *out, char *err, size_t errlen)
{
	int rc = p->failed ? -EBADMSG : 0;

	if (!rc && p->stage != P_DONE)
		rc = parser_work(p, units, err, errlen);
	if (!rc)
		rc = next_stage(p, err, errlen);
	if (rc) {
		p->failed = true;
		lapi_stream_free(&p->s);
		memset(out, 0, sizeof(*out));
		return rc;
	}
	if (p->stage != P_DONE)
		return 0;
	*out = p->s;
	memset(&p->s, 0, sizeof(p->s));
	json_object_put(p->root);
	p->root = NULL;
	return 1;
}

int lapi_parse_stream(const char *body, size_t len, struct lapi_stream *out,
		      char *err, size_t errlen)
{
	struct lapi_parser *p;
	int rc;

	memset(out, 0, sizeof(*out));
	p = lapi_parser_new(body, len);
	if (!p) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	while (!(rc = lapi_parser_step(p, SIZE_MAX, out, err, errlen)))
		;
	lapi_parser_free(p);
	return rc < 0 ? rc : 0;
}

void lapi_stream_free(struct lapi_stream *s)
{
	free(s->added);
	free(s->deleted);
	memset(s, 0, sizeof(*s));
}

/* ---- login ----------------------------------------------------------- */

int lapi_parse_login(const char *body, size_t len, char *token, size_t toklen,
		     int64_t *expire_unix_s, char *err, size_t errlen)
{
	struct json_object *root = parse_json(body, len, err, errlen);
	const char *t, *exp;
	int rc = -EBADMSG;

	if (!root)
		return -EBADMSG;
	t = json_object_is_type(root, json_type_object) ? get_str(root, "token")
							: NULL;
	exp = t ? get_str(root, "expire") : NULL;
	if (!t || !*t || !exp) {
		snprintf(err, errlen, "no token or expire in the answer");
	} else if (lapi_parse_time(exp, expire_unix_s)) {
		snprintf(err, errlen, "bad expire time");
	} else if (strlen(t) >= toklen) {
		snprintf(err, errlen, "token longer than %zu bytes", toklen);
		rc = -E2BIG;
	} else {
		memcpy(token, t, strlen(t) + 1);
		rc = 0;
	}
	json_object_put(root);
	return rc;
}

void lapi_error_message(const char *body, size_t len, char *buf, size_t size)
{
	char err[8];
	struct json_object *root = parse_json(body, len, err, sizeof(err));
	const char *m = NULL;
	size_t i;

	if (root && json_object_is_type(root, json_type_object))
		m = get_str(root, "message");
	copy_str(buf, size, m);
	for (i = 0; buf[i]; i++) /* it goes into a log line */
		if ((unsigned char)buf[i] < ' ')
			buf[i] = ' ';
	json_object_put(root);
}

/* ---- alerts ---------------------------------------------------------- */

static int add_str(struct json_object *o, const char *key, const char *v)
{
	struct json_object *s = json_object_new_string(v);

	if (!s)
		return -ENOMEM;
	return json_object_object_add(o, key, s) ? -ENOMEM : 0;
}

static int add_obj(struct json_object *o, const char *key,
		   struct json_object *v)
{
	if (!v)
		return -ENOMEM;
	return json_object_object_add(o, key, v) ? -ENOMEM : 0;
}

/* Append v (which may be NULL: out of memory) to array arr. */
static int add_item(struct json_object *arr, struct json_object *v)
{
	if (v && !json_object_array_add(arr, v))
		return 0;
	json_object_put(v);
	return -ENOMEM;
}

static void rfc3339(int64_t unix_ms, char *buf, size_t size)
{
	time_t t = unix_ms / 1000;
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static const char *scope_of(const struct prefix *p)
{
	return prefix_is_host(p) ? "Ip" : "Range";
}

static struct json_object *meta(const struct lapi_alert *a, const char *ts)
{
	static const char *const keys[] = { "helo", "mail_from", "rcpt_to",
					    "reply" };
	const char *vals[] = { a->helo, a->mail_from, a->rcpt_to, a->reply };
	struct json_object *ev = json_object_new_object();
	struct json_object *arr = json_object_new_array(), *kv;
	int err = !ev || !arr;
	size_t i;

	for (i = 0; !err && i < 4; i++) {
		if (!vals[i][0])
			continue;
		kv = json_object_new_object();
		if (!kv || add_str(kv, "key", keys[i]) ||
		    add_str(kv, "value", vals[i])) {
			json_object_put(kv);
			kv = NULL;
		}
		err = add_item(arr, kv);
	}
	if (!err)
		err = add_obj(ev, "meta", arr) || add_str(ev, "timestamp", ts);
	else
		json_object_put(arr);
	if (err) {
		json_object_put(ev);
		return NULL;
	}
	return ev;
}

static void message(const struct lapi_alert *a, const char *value, char *buf,
		    size_t size)
{
	char dur[DURATION_STRLEN];

	format_duration(a->duration_s, dur, sizeof(dur));
	snprintf(buf, size,
		 "relayguard banned %s for %s (%s): helo %s, mail from %s, "
		 "rcpt %s, reply %s",
		 value, dur, a->scenario, a->helo[0] ? a->helo : "-",
		 a->mail_from[0] ? a->mail_from : "-",
		 a->rcpt_to[0] ? a->rcpt_to : "-",
		 a->reply[0] ? a->reply : "-");
}

static struct json_object *decision_obj(const struct lapi_alert *a,
					const char *value)
{
	struct json_object *d = json_object_new_object();
	char dur[32];

	snprintf(dur, sizeof(dur), "%llus", (unsigned long long)a->duration_s);
	if (!d || add_str(d, "duration", dur) ||
	    add_str(d, "origin", "crowdsec") ||
	    add_str(d, "scenario", a->scenario) ||
	    add_str(d, "scope", scope_of(&a->source)) ||
	    add_str(d, "type", "ban") || add_str(d, "value", value)) {
		json_object_put(d);
		return NULL;
	}
	return d;
}

static struct json_object *alert_obj(const struct lapi_alert *a)
{
	struct json_object *o = json_object_new_object(), *src, *decs, *evs;
	char value[PREFIX_STRLEN], start[32], stop[32], msg[2048];
	int err;

	format_prefix(&a->source, value, sizeof(value));
	rfc3339(a->start_unix_ms, start, sizeof(start));
	rfc3339(a->stop_unix_ms, stop, sizeof(stop));
	message(a, value, msg, sizeof(msg));
	src = json_object_new_object();
	decs = json_object_new_array();
	evs = json_object_new_array();
	err = !o || !src || !decs || !evs;
	err = err || add_str(src, "scope", scope_of(&a->source)) ||
	      add_str(src, "value", value) ||
	      add_str(src, prefix_is_host(&a->source) ? "ip" : "range", value);
	err = err || add_item(decs, decision_obj(a, value)) ||
	      add_item(evs, meta(a, start));
	err = err || add_str(o, "scenario", a->scenario) ||
	      add_str(o, "scenario_hash", "") ||
	      add_str(o, "scenario_version", "") ||
	      add_str(o, "message", msg) ||
	      add_obj(o, "events_count", json_object_new_int(1)) ||
	      add_str(o, "start_at", start) || add_str(o, "stop_at", stop) ||
	      add_obj(o, "capacity", json_object_new_int(0)) ||
	      add_str(o, "leakspeed", "0") ||
	      add_obj(o, "simulated", json_object_new_boolean(0));
	if (!err) {
		err = add_obj(o, "source", src);
		src = NULL;
	}
	if (!err) {
		err = add_obj(o, "decisions", decs);
		decs = NULL;
	}
	if (!err) {
		err = add_obj(o, "events", evs);
		evs = NULL;
	}
	json_object_put(src);
	json_object_put(decs);
	json_object_put(evs);
	if (err) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

static char *to_string(struct json_object *o)
{
	char *s = NULL;

	if (o)
		s = strdup(json_object_to_json_string_ext(
			o, JSON_C_TO_STRING_PLAIN |
				   JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	return s;
}

char *lapi_alerts_json(const struct lapi_alert *a, size_t n)
{
	struct json_object *arr = json_object_new_array(), *o;
	size_t i;

	for (i = 0; arr && i < n; i++) {
		o = alert_obj(&a[i]);
		if (!o || json_object_array_add(arr, o)) {
			json_object_put(o);
			json_object_put(arr);
			return NULL;
		}
	}
	return to_string(arr);
}

char *lapi_login_json(const char *machine_id, const char *password)
{
	struct json_object *o = json_object_new_object();

	if (!o || add_str(o, "machine_id", machine_id) ||
	    add_str(o, "password", password)) {
		json_object_put(o);
		return NULL;
	}
	return to_string(o);
}
