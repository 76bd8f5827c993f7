// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Decisions as JSON lines: see events.h. */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "clock.h"
#include "events.h"
#include "json.h"
#include "parse.h"

const char *decision_action_name(enum decision_action a)
{
	switch (a) {
	case DECISION_BAN:
		return "ban";
	case DECISION_ALERT:
		return "alert";
	case DECISION_FINDING:
		return "finding";
	case DECISION_UNBAN:
		return "unban";
	}
	return "unknown";
}

void event_format_time(uint64_t wall_ns, char *buf, size_t size)
{
	time_t secs = wall_ns / NSEC_PER_SEC;
	struct tm tm;
	char base[32];

	if (!gmtime_r(&secs, &tm) ||
	    !strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm)) {
		snprintf(buf, size, "1970-01-01T00:00:00.000Z");
		return;
	}
	snprintf(buf, size, "%s.%03uZ", base,
		 (unsigned int)(wall_ns % NSEC_PER_SEC / 1000000));
}

/* "192.0.2.7:40312 -> 192.0.2.1:25", "[2001:db8::7]:40312 -> [...]:25" */
static void format_flow(const struct rg_flow_key *k, char *buf, size_t size)
{
	char c[INET6_ADDRSTRLEN], s[INET6_ADDRSTRLEN];
	int af = k->family == AF_INET6 ? AF_INET6 : AF_INET;

	if (!inet_ntop(af, k->client, c, sizeof(c)) ||
	    !inet_ntop(af, k->server, s, sizeof(s))) {
		snprintf(buf, size, "?");
		return;
	}
	if (af == AF_INET6)
		snprintf(buf, size, "[%s]:%u -> [%s]:%u", c,
			 ntohs(k->client_port), s, ntohs(k->server_port));
	else
		snprintf(buf, size, "%s:%u -> %s:%u", c, ntohs(k->client_port),
			 s, ntohs(k->server_port));
}

static void opt_string(struct json_writer *jw, const char *name, const char *v)
{
	if (v)
		jw_string_field(jw, name, v);
}

static void ban_fields(struct json_writer *jw, const struct event_extra *x)
{
	char buf[DURATION_STRLEN + 32];

	if (x->duration_s == DURATION_PERMANENT) {
		jw_name(jw, "expires");
		jw_null(jw);
		jw_string_field(jw, "duration", "permanent");
	} else {
		event_format_time(x->time_ns + x->duration_s * NSEC_PER_SEC,
				  buf, sizeof(buf));
		jw_string_field(jw, "expires", buf);
		jw_uint_field(jw, "duration", x->duration_s);
	}
	if (x->offences)
		jw_uint_field(jw, "offences", x->offences);
}

/* A relay verdict names the recipient's domain and the local domains it
 * was checked against: drift of a literal list from the MTA's shows. */
static void rcpt_domain_fields(struct json_writer *jw, const struct decision *d)
{
	const char *at;
	char dom[256];

	if (!d->local_domains || !d->rcpt_to ||
	    (d->reason != RG_REASON_RELAY_ATTEMPT &&
	     d->reason != RG_REASON_RELAY_ACCEPTED))
		return;
	at = strrchr(d->rcpt_to, '@');
	if (at) {
		snprintf(dom, sizeof(dom), "%s", at + 1);
		dom[strcspn(dom, ">")] = '\0';
		jw_string_field(jw, "rcpt_domain", dom);
	}
	jw_string_field(jw, "local_domains", d->local_domains);
}

int event_write(FILE *out, const struct decision *d,
		const struct event_extra *x)
{
	struct json_writer jw;
	char buf[PREFIX_STRLEN + 128];

	jw_init(&jw, out, false);
	jw_start_object(&jw);
	event_format_time(x->time_ns, buf, sizeof(buf));
	jw_string_field(&jw, "time", buf);
	jw_string_field(&jw, "action", decision_action_name(d->action));
	format_prefix(&d->source, buf, sizeof(buf));
	jw_string_field(&jw, "source", buf);
	jw_string_field(&jw, "reason",
			d->code ? d->code : reason_name(d->reason));
	if (d->action == DECISION_BAN || d->action == DECISION_UNBAN)
		ban_fields(&jw, x);
	if (d->action == DECISION_ALERT)
		jw_string_field(&jw, "severity", "critical");
	if (d->unverified)
		jw_bool_field(&jw, "verified", false);
	opt_string(&jw, "helo", d->helo);
	opt_string(&jw, "mail_from", d->mail_from);
	opt_string(&jw, "rcpt_to", d->rcpt_to);
	rcpt_domain_fields(&jw, d);
	opt_string(&jw, "reply", d->reply);
	if (d->flow_key.family) {
		format_flow(&d->flow_key, buf, sizeof(buf));
		jw_string_field(&jw, "flow", buf);
	}
	opt_string(&jw, "via", d->via);
	opt_string(&jw, "evidence", x->evidence);
	if (x->reaction_us >= 0)
		jw_int_field(&jw, "reaction_us", x->reaction_us);
	opt_string(&jw, "mode", x->mode);
	jw_end_object(&jw);
	fputc('\n', out);
	if (ferror(out))
		return -EIO;
	return 0;
}
