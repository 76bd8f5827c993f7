// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Incremental SMTP dialogue parser: see smtp.h. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "names.h"
#include "smtp.h"
#include "strlit.h"

/* Findings reported at most once per session (bits of s->reported). */
enum once {
	ONCE_BARE_LF_C = 1U << 0,
	ONCE_BARE_LF_S = 1U << 1,
	ONCE_CMD_LONG = 1U << 2,
	ONCE_REPLY_LONG = 1U << 3,
	ONCE_NON_SMTP = 1U << 4,
	ONCE_UNKNOWN = 1U << 5,
	ONCE_BAD_REPLY = 1U << 6,
	ONCE_UNEXPECTED = 1U << 7,
	ONCE_OVERFLOW = 1U << 8,
	ONCE_AUTH_LONG = 1U << 9,
	ONCE_PIPELINING = 1U << 10,
};

/* The commands' verbs as the client sends them (upper case). */
static const char *const verbs[SMTP_OTHER] = {
	[SMTP_HELO] = "HELO",	      [SMTP_EHLO] = "EHLO",
	[SMTP_MAIL] = "MAIL",	      [SMTP_RCPT] = "RCPT",
	[SMTP_DATA] = "DATA",	      [SMTP_BDAT] = "BDAT",
	[SMTP_RSET] = "RSET",	      [SMTP_AUTH] = "AUTH",
	[SMTP_STARTTLS] = "STARTTLS", [SMTP_QUIT] = "QUIT",
	[SMTP_NOOP] = "NOOP",	      [SMTP_VRFY] = "VRFY",
	[SMTP_EXPN] = "EXPN",	      [SMTP_HELP] = "HELP",
};

/* Verbs of protocols that are not SMTP, seen on port 25 from scanners and
 * open-proxy probes. */
static const char auth_too_long[] =
	"AUTH response over " STR_OF(SMTP_AUTH_LINE_MAX) " bytes";

static const char *const foreign_verbs[] = {
	"GET",	 "POST",  "HEAD", "PUT",  "DELETE",   "OPTIONS",   "CONNECT",
	"TRACE", "PATCH", "USER", "PASS", "SSH-2.0-", "SSH-1.99-",
};

const char *smtp_verb_name(enum smtp_verb v)
{
	if (v == SMTP_GREETING)
		return "greeting";
	if (v == SMTP_END_DATA)
		return "end of data";
	return name_of(verbs, v, "other");
}

void smtp_init(struct smtp *s, const struct smtp_callbacks *cb, void *ctx)
{
	memset(s, 0, sizeof(*s));
	s->cb = cb;
	s->ctx = ctx;
}

/* The oldest command awaiting a reply (q_len > 0); its arg is now the
 * caller's to free. */
static struct smtp_pending queue_pop(struct smtp *s)
{
	struct smtp_pending pend = s->q[s->q_head];

	s->q_head = (s->q_head + 1) % s->q_cap;
	s->q_len--;
	return pend;
}

static void queue_clear(struct smtp *s)
{
	while (s->q_len)
		free(queue_pop(s).arg);
}

void smtp_free(struct smtp *s)
{
	if (s->q)
		queue_clear(s);
	free(s->q);
	free(s->half[0].buf);
	free(s->half[1].buf);
	free(s->helo);
	free(s->mail_from);
	free(s->rcpt_to);
	memset(s, 0, sizeof(*s));
}

#define FINDING_NAME(value, name) [value] = name,
static const char *const finding_names[] = { SMTP_FINDINGS(FINDING_NAME) };
#undef FINDING_NAME

const char *smtp_finding_name(enum smtp_finding what)
{
	return name_of(finding_names, what, "unknown");
}

static void finding_once(struct smtp *s, unsigned int bit,
			 enum smtp_finding what, const char *detail)
{
	if (s->reported & bit)
		return;
	s->reported |= bit;
	if (s->cb && s->cb->finding)
		s->cb->finding(s->ctx, s, what, detail);
}

static void finish(struct smtp *s)
{
	if (s->flags & SMTP_F_DONE)
		return;
	s->flags |= SMTP_F_DONE;
	if (s->cb && s->cb->stop)
		s->cb->stop(s->ctx, s);
}

/* A message body starts: its bytes are not commands. */
static void body_starts(struct smtp *s)
{
	s->flags = (s->flags | SMTP_F_BODY) & ~SMTP_F_BODY_END;
	if (s->cb && s->cb->pause)
		s->cb->pause(s->ctx, s);
}

/* The server's reply ended a body (or a RSET): a new transaction. A body
 * whose end the parser did not see hid whatever came behind it. */
static void transaction_ends(struct smtp *s, bool body)
{
	if (body && !(s->flags & SMTP_F_BODY_END))
		smtp_skip(s);
	s->flags &= ~(SMTP_F_BODY | SMTP_F_BODY_END);
	s->chunk_left = 0;
	if (s->cb && s->cb->resume)
		s->cb->resume(s->ctx, s);
}

void smtp_skip(struct smtp *s)
{
	struct smtp_half *h = &s->half[SMTP_CLIENT];

	h->len = 0;
	h->over_len = 0;
	h->overflow = false;
	s->chunk_left = 0;
	s->flags |= SMTP_F_SKIPPED;
}

/* Copy at most SMTP_ARG_MAX bytes of src[0..len) into a fresh string. */
static char *dup_arg(const char *src, size_t len)
{
	char *p;

	if (len > SMTP_ARG_MAX)
		len = SMTP_ARG_MAX;
	p = malloc(len + 1);
	if (!p)
		return NULL;
	memcpy(p, src, len);
	p[len] = '\0';
	return p;
}

static void set_str(char **field, const char *src, size_t len)
{
	free(*field);
	*field = dup_arg(src, len);
}

int smtp_extract_path(const char *arg, const char *prefix, char *out,
		      size_t size)
{
	size_t plen = strlen(prefix), n;
	const char *p = arg, *end;
	bool quoted = false;

	if (strncasecmp(p, prefix, plen))
		return -EINVAL;
	p += plen;
	while (*p == ' ')
		p++;
	if (*p == '<') {
		p++;
		/* '>' inside a quoted local part does not end the path */
		for (end = p; *end; end++) {
			if (*end == '\\' && quoted && end[1])
				end++;
			else if (*end == '"')
				quoted = !quoted;
			else if (*end == '>' && !quoted)
				break;
		}
		if (*end != '>')
			return -EINVAL;
	} else {
		end = p + strcspn(p, " ");
	}
	n = end - p;
	if (n >= size)
		n = size - 1;
	memcpy(out, p, n);
	out[n] = '\0';
	return 0;
}

static int queue_push(struct smtp *s, enum smtp_verb verb, char *arg)
{
	/* the end of data is no command: its reply comes first */
	bool after_skip = verb != SMTP_END_DATA && (s->flags & SMTP_F_SKIPPED);
	struct smtp_pending *nq;
	uint16_t cap, i;

	if (s->q_len == s->q_cap) {
		if (s->q_cap >= SMTP_QUEUE_MAX)
			return -ENOSPC;
		cap = s->q_cap ? s->q_cap * 2 : 4;
		nq = malloc(cap * sizeof(*nq));
		if (!nq)
			return -ENOMEM;
		for (i = 0; i < s->q_len; i++)
			nq[i] = s->q[(s->q_head + i) % s->q_cap];
		free(s->q);
		s->q = nq;
		s->q_cap = cap;
		s->q_head = 0;
	}
	s->q[(s->q_head + s->q_len) % s->q_cap] = (struct smtp_pending){
		.verb = verb,
		.after_skip = after_skip,
		.end = s->seq[SMTP_CLIENT],
		.arg = arg,
	};
	s->q_len++;
	if (verb != SMTP_END_DATA)
		s->flags &= ~SMTP_F_SKIPPED;
	return 0;
}

/* What a reply the daemon will never see stands for: code 0. */
static const struct smtp_reply unseen_reply = {
	.code = 0,
	.line = "(reply not seen: server bytes were not sampled)",
};

/* A command whose reply will not be seen (SMTP_F_BLIND): a RCPT is graded
 * on the command alone (an unauthenticated foreign RCPT is a relay attempt
 * whatever the answer); after AUTH the outcome is unknown and after DATA,
 * BDAT, STARTTLS or QUIT the dialogue is over, so parsing ends. */
static void graded_unseen(struct smtp *s, enum smtp_verb verb, const char *arg)
{
	switch (verb) {
	case SMTP_RCPT:
		if (s->cb && s->cb->reply)
			s->cb->reply(s->ctx, s, verb, arg, &unseen_reply);
		break;
	case SMTP_AUTH:
	case SMTP_DATA:
	case SMTP_BDAT:
	case SMTP_STARTTLS:
	case SMTP_QUIT:
		finish(s);
		break;
	default:
		break;
	}
}

/* The path of "TO:<path>", malloc'd. On a line cut by the line limit a
 * path whose '>' was not seen (or a bare one, which may go on) keeps a
 * leading '<' and whatever followed: policy_classify_rcpt takes a path
 * starting with '<' for one cut off, never a local recipient. */
static char *rcpt_path(const char *arg, size_t alen, bool cut)
{
	char *path = malloc(alen + 2);

	if (!path)
		return NULL;
	if ((cut && !strchr(arg, '>')) ||
	    smtp_extract_path(arg, "TO:", path, alen + 1)) {
		if (!strncasecmp(arg, "TO:", 3)) {
			arg += 3;
			alen -= 3;
		}
		while (alen && *arg == ' ') {
			arg++;
			alen--;
		}
		if (cut && *arg != '<')
			snprintf(path, alen + 2, "<%.*s", (int)alen, arg);
		else
			snprintf(path, alen + 2, "%.*s", (int)alen, arg);
	}
	return path;
}

static bool is_binary(const char *line, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char c = line[i];

		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return true;
	}
	return false;
}

static bool is_foreign_verb(const char *line, size_t len)
{
	size_t i, n;

	for (i = 0; i < ARRAY_LEN(foreign_verbs); i++) {
		n = strlen(foreign_verbs[i]);
		if (len >= n && !strncmp(line, foreign_verbs[i], n) &&
		    (len == n || line[n] == ' ' ||
		     foreign_verbs[i][n - 1] == '-'))
			return true;
	}
	return false;
}

static void non_smtp(struct smtp *s, const char *detail)
{
	finding_once(s, ONCE_NON_SMTP, SMTP_FIND_NON_SMTP, detail);
	s->half[SMTP_CLIENT].dead = true;
	finish(s);
}

static enum smtp_verb lookup_verb(const char *line, size_t vlen)
{
	char up[9];
	size_t i;
	int v;

	if (vlen != 4 && vlen != 8) /* every verb we know has 4 or 8 letters */
		return SMTP_OTHER;
	for (i = 0; i < vlen; i++)
		up[i] = line[i] &
			~0x20; /* letters only: checked by the caller */
	up[vlen] = '\0';
	v = name_index(verbs, up);
	return v < 0 ? SMTP_OTHER : (enum smtp_verb)v;
}

/* "BDAT size [LAST]": the chunk's bytes follow at once. */
static void bdat_chunk(struct smtp *s, const char *arg)
{
	unsigned long size;
	char *end;

	errno = 0;
	size = strtoul(arg, &end, 10);
	if (errno || end == arg || (*end && *end != ' ') || size > UINT32_MAX) {
		/* where the chunk ends is unknown: the client side ends here */
		s->half[SMTP_CLIENT].dead = true;
		return;
	}
	s->chunk_left = size;
	body_starts(s);
	if (!size)
		s->flags = (s->flags & ~SMTP_F_BODY) | SMTP_F_BODY_END;
}

/* A command line without its CRLF; total: its length on the wire; cut:
 * the line was longer than SMTP_LINE_MAX and this is its start. */
static void client_command(struct smtp *s, const char *line, size_t len,
			   size_t total, bool cut)
{
	enum smtp_verb verb;
	const char *arg;
	char path[SMTP_ARG_MAX + 1];
	char *qarg = NULL;
	size_t vlen, i, alen;

	vlen = strcspn(line, " ");
	for (i = 0; i < vlen; i++)
		if (!isalpha((unsigned char)line[i]))
			break;
	if (i < vlen || vlen == 0) {
		if (vlen == 0 && len == 0)
			return; /* empty line: tolerated */
		non_smtp(s, "not an SMTP command");
		return;
	}
	verb = lookup_verb(line, vlen);
	if (verb == SMTP_OTHER && is_foreign_verb(line, len)) {
		non_smtp(s, "not an SMTP command");
		return;
	}
	if (verb != SMTP_RCPT && verb != SMTP_AUTH)
		s->other_bytes += total;
	arg = line + vlen;
	while (*arg == ' ')
		arg++;
	alen = len - (arg - line);
	switch (verb) {
	case SMTP_HELO:
	case SMTP_EHLO:
		set_str(&s->helo, arg, alen);
		break;
	case SMTP_MAIL:
		if (!smtp_extract_path(arg, "FROM:", path, sizeof(path)))
			set_str(&s->mail_from, path, strlen(path));
		break;
	case SMTP_RCPT:
		s->n_rcpt++;
		qarg = rcpt_path(arg, alen, cut);
		if (qarg)
			set_str(&s->rcpt_to, qarg, strlen(qarg));
		break;
	case SMTP_DATA:
	case SMTP_STARTTLS:
		s->flags |= SMTP_F_CLIENT_WAIT;
		break;
	case SMTP_AUTH:
		s->flags |= SMTP_F_IN_AUTH;
		break;
	case SMTP_QUIT:
		s->half[SMTP_CLIENT].dead = true;
		break;
	case SMTP_OTHER:
		finding_once(s, ONCE_UNKNOWN, SMTP_FIND_UNKNOWN_COMMAND, line);
		break;
	default:
		break;
	}
	if (s->flags & SMTP_F_BLIND) {
		graded_unseen(s, verb, qarg);
		free(qarg);
		return;
	}
	if (queue_push(s, verb, qarg)) {
		free(qarg);
		finding_once(s, ONCE_OVERFLOW, SMTP_FIND_PIPELINE_OVERFLOW,
			     "too many commands awaiting replies");
		s->flags |= SMTP_F_DESYNC;
		finish(s);
		return;
	}
	if (verb == SMTP_BDAT)
		bdat_chunk(s, arg);
}

/* The verb of the last command queued, or SMTP_OTHER. */
static enum smtp_verb last_queued(const struct smtp *s)
{
	if (!s->q_len)
		return SMTP_OTHER;
	return s->q[(s->q_head + s->q_len - 1) % s->q_cap].verb;
}

static void client_line(struct smtp *s, const char *line, size_t len,
			size_t total, bool cut)
{
	if (s->flags & SMTP_F_BODY) {
		if (len == 1 && line[0] == '.')
			s->flags = (s->flags & ~SMTP_F_BODY) | SMTP_F_BODY_END;
		return;
	}
	if (s->flags & SMTP_F_CLIENT_WAIT) {
		/* a message body before the 354 (RFC 2920 forbids it), or TLS
		 * before the 220: not commands */
		if (last_queued(s) == SMTP_DATA)
			finding_once(s, ONCE_PIPELINING,
				     SMTP_FIND_UNAUTH_PIPELINING,
				     "message body sent before the 354");
		return;
	}
	if (is_binary(line, len)) {
		non_smtp(s, "binary bytes");
		return;
	}
	if (s->flags & SMTP_F_IN_AUTH) {
		if (total > SMTP_AUTH_LINE_MAX)
			finding_once(s, ONCE_AUTH_LONG,
				     SMTP_FIND_AUTH_LINE_TOO_LONG,
				     auth_too_long);
		return;
	}
	if (total > SMTP_CMD_LINE_MAX)
		finding_once(s, ONCE_CMD_LONG, SMTP_FIND_COMMAND_TOO_LONG,
			     "command line over 512 bytes");
	client_command(s, line, len, total, cut);
}

static bool reply_code(const char *line, size_t len, unsigned int *code,
		       char *sep)
{
	if (len < 3 || line[0] < '2' || line[0] > '5' || line[1] < '0' ||
	    line[1] > '5' || !isdigit((unsigned char)line[2]))
		return false;
	if (len > 3 && line[3] != ' ' && line[3] != '-')
		return false;
	*code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
	*sep = len > 3 ? line[3] : ' ';
	return true;
}

/* "5.7.1" after "554 " when the class digit agrees with the code. */
static void enhanced_code(const char *line, size_t len, unsigned int code,
			  char *out, size_t size)
{
	const char *p = line + 4, *end = line + len;
	size_t n = 0;

	out[0] = '\0';
	if (len < 9 || p[0] - '0' != (int)(code / 100) || p[1] != '.')
		return;
	while (p + n < end && n < size - 1 &&
	       (isdigit((unsigned char)p[n]) || p[n] == '.'))
		n++;
	if (p + n < end && p[n] != ' ')
		return;
	memcpy(out, p, n);
	out[n] = '\0';
}

static void blind_reply(struct smtp *s, const struct smtp_reply *r);

/* 354: the body follows; the reply to its end is awaited like a command's
 * (it comes before the replies to any command pipelined behind it). */
static void data_accepted(struct smtp *s)
{
	if (queue_push(s, SMTP_END_DATA, NULL)) {
		s->flags |= SMTP_F_DESYNC;
		finish(s);
		return;
	}
	body_starts(s);
}

/* Client bytes were skipped and this reply may answer a command in them:
 * nothing awaits a reply, or the server had not yet received the command
 * that does (its ack falls short of the command's end). */
static bool answers_unseen(const struct smtp *s)
{
	const struct smtp_pending *head;

	if (!s->q_len)
		return s->flags & SMTP_F_SKIPPED;
	head = &s->q[s->q_head];
	return head->after_skip && (int32_t)(s->reply_ack - head->end) < 0;
}

static void reply_done(struct smtp *s, const struct smtp_reply *r)
{
	struct smtp_pending pend;

	if (!(s->flags & SMTP_F_GREETED)) {
		s->flags |= SMTP_F_GREETED;
		if (s->cb && s->cb->reply)
			s->cb->reply(s->ctx, s, SMTP_GREETING, NULL, r);
		return;
	}
	if ((s->flags & SMTP_F_IN_AUTH) && r->code == 334)
		return; /* AUTH challenge: the client answers, not commands */
	if (answers_unseen(s)) {
		blind_reply(s, r);
		return;
	}
	if (!s->q_len) {
		finding_once(s, ONCE_UNEXPECTED, SMTP_FIND_UNEXPECTED_REPLY,
			     "a reply with no command awaiting it");
		return;
	}
	pend = queue_pop(s);
	if (s->cb && s->cb->reply)
		s->cb->reply(s->ctx, s, pend.verb, pend.arg, r);
	free(pend.arg);
	switch (pend.verb) {
	case SMTP_AUTH:
		s->flags &= ~SMTP_F_IN_AUTH;
		if (r->code == 235)
			s->flags |= SMTP_F_AUTHENTICATED;
		break;
	case SMTP_STARTTLS:
		s->flags &= ~SMTP_F_CLIENT_WAIT;
		if (r->code == 220) {
			s->flags |= SMTP_F_TLS;
			finish(s);
		}
		break;
	case SMTP_DATA:
		s->flags &= ~SMTP_F_CLIENT_WAIT;
		if (r->code == 354)
			data_accepted(s);
		break;
	case SMTP_END_DATA:
		transaction_ends(s, true);
		break;
	case SMTP_BDAT:
		transaction_ends(s, true);
		break;
	case SMTP_RSET:
		if (r->code >= 200 && r->code < 300)
			transaction_ends(s, false);
		break;
	case SMTP_QUIT:
		finish(s);
		break;
	default:
		break;
	}
}

/* A reply to a command that was not seen (answers_unseen): one refusing
 * a relay ("554 5.7.1 <v@example.com>: Relay access denied") is that
 * RCPT's reply; 235 means an AUTH succeeded; a 354 starts a body; 221 and
 * a 220 (STARTTLS) end the dialogue. */
static void blind_reply(struct smtp *s, const struct smtp_reply *r)
{
	char path[SMTP_ARG_MAX + 1];
	const char *lt, *gt;

	if (r->code == 235)
		s->flags |= SMTP_F_AUTHENTICATED;
	if (r->code == 354) {
		data_accepted(s);
		return;
	}
	if (r->code == 221 || r->code == 220) {
		finish(s);
		return;
	}
	if (r->code < 400 || !strcasestr(r->line, "relay"))
		return;
	lt = strchr(r->line, '<');
	gt = lt ? strchr(lt, '>') : NULL;
	if (!gt || gt - lt - 1 > SMTP_ARG_MAX)
		return;
	snprintf(path, sizeof(path), "%.*s", (int)(gt - lt - 1), lt + 1);
	set_str(&s->rcpt_to, path, strlen(path));
	if (s->cb && s->cb->reply)
		s->cb->reply(s->ctx, s, SMTP_RCPT, path, r);
}

static void server_line(struct smtp *s, char *line, size_t len, size_t total)
{
	struct smtp_reply r;
	unsigned int code;
	char sep;

	if (total > SMTP_REPLY_LINE_MAX)
		finding_once(s, ONCE_REPLY_LONG, SMTP_FIND_REPLY_TOO_LONG,
			     "reply line over 512 bytes");
	if (!reply_code(line, len, &code, &sep)) {
		finding_once(s, ONCE_BAD_REPLY, SMTP_FIND_BAD_REPLY,
			     "server line without a reply code");
		return;
	}
	if (s->flags & SMTP_F_IN_MULTI) {
		if (code != s->multi_code)
			finding_once(s, ONCE_BAD_REPLY, SMTP_FIND_BAD_REPLY,
				     "multi-line reply changed its code");
	} else {
		s->multi_code = code;
		s->multi_lines = 0;
	}
	s->multi_lines++;
	if (sep == '-') {
		s->flags |= SMTP_F_IN_MULTI;
		return;
	}
	s->flags &= ~SMTP_F_IN_MULTI;
	r.code = s->multi_code;
	r.lines = s->multi_lines;
	r.line = line;
	enhanced_code(line, len, code, r.enhanced, sizeof(r.enhanced));
	if (s->flags & SMTP_F_DESYNC)
		return;
	reply_done(s, &r);
}

/* One complete line (LF found) of dir; line is writable (room for a
 * NUL), len excludes the LF, total counts the bytes the line had on the
 * wire; cut: only its first SMTP_LINE_MAX bytes are here. */
static void line_end(struct smtp *s, enum smtp_dir dir, char *line, size_t len,
		     size_t total, bool cut)
{
	if (len && line[len - 1] == '\r') {
		len--;
	} else if (!cut && !(dir == SMTP_CLIENT && (s->flags & SMTP_F_BODY))) {
		finding_once(
			s, dir == SMTP_CLIENT ? ONCE_BARE_LF_C : ONCE_BARE_LF_S,
			SMTP_FIND_BARE_LF,
			dir == SMTP_CLIENT ? "client line ended by a bare LF"
					   : "server line ended by a bare LF");
	}
	line[len] = '\0';
	if (dir == SMTP_CLIENT)
		client_line(s, line, len, total, cut);
	else
		server_line(s, line, len, total);
}

/* The first bytes a client sends tell whether it speaks SMTP at all. */
static bool first_client_bytes(struct smtp *s, const uint8_t *d, size_t len)
{
	s->flags |= SMTP_F_CLIENT_TALKED;
	if (d[0] == 0x16 && (len < 2 || d[1] == 0x03)) {
		non_smtp(s, "TLS handshake without STARTTLS");
		return false;
	}
	if (d[0] == 0x80 || d[0] == 0x00 || d[0] == 0x05 || d[0] == 0x04) {
		non_smtp(s, "binary protocol (SSLv2, SOCKS, ...)");
		return false;
	}
	return true;
}

/* Room for need bytes of partial line: most lines never need the buffer,
 * the others rarely more than a few dozen bytes. */
static int grow(struct smtp_half *h, size_t need)
{
	size_t cap = h->cap ? h->cap : 64;
	char *nb;

	if (need <= h->cap)
		return 0;
	while (cap < need)
		cap *= 2;
	if (cap > SMTP_BUF_MAX + 1) /* the line and its NUL */
		cap = SMTP_BUF_MAX + 1;
	nb = realloc(h->buf, cap);
	if (!nb)
		return -ENOMEM;
	h->buf = nb;
	h->cap = cap;
	return 0;
}

/* After lost client bytes: do these start a command (a verb we know, then
 * a space or the line's end)? Then the loss ended on a line boundary and
 * the command is read; else the rest of the line is skipped. */
static bool starts_command(const uint8_t *data, size_t len)
{
	size_t vlen;

	for (vlen = 0; vlen < len && vlen < 9; vlen++)
		if (!isalpha(data[vlen]))
			break;
	if (vlen == len ||
	    (data[vlen] != ' ' && data[vlen] != '\r' && data[vlen] != '\n'))
		return false;
	return lookup_verb((const char *)data, vlen) != SMTP_OTHER;
}

/* Lines of dir: each is parsed up to SMTP_LINE_MAX bytes (the rest is
 * skipped, as Postfix does beyond line_length_limit); s->seq[dir] is the
 * seq just past the line while it is parsed. */
static void feed_lines(struct smtp *s, enum smtp_dir dir, const uint8_t *data,
		       size_t len)
{
	struct smtp_half *h = &s->half[dir];
	const uint8_t *nl;
	size_t n, keep;

	while (len && !h->dead && !(s->flags & SMTP_F_DONE)) {
		if (dir == SMTP_CLIENT && s->chunk_left) {
			n = len < s->chunk_left ? len : s->chunk_left;
			s->chunk_left -= n;
			if (!s->chunk_left)
				s->flags = (s->flags & ~SMTP_F_BODY) |
					   SMTP_F_BODY_END;
			s->seq[dir] += n;
			data += n;
			len -= n;
			continue;
		}
		if (h->resync && !h->len && !h->over_len &&
		    dir == SMTP_CLIENT && starts_command(data, len))
			h->resync = false;
		nl = memchr(data, '\n', len);
		n = nl ? (size_t)(nl - data) : len;
		keep = h->resync ? 0 : n;
		if (h->len + keep > SMTP_LINE_MAX) {
			keep = SMTP_LINE_MAX - h->len;
			h->overflow = true;
		}
		if (!h->resync && grow(h, h->len + keep + 1)) {
			h->dead = true;
			return;
		}
		if (keep)
			memcpy(h->buf + h->len, data, keep);
		h->len += keep;
		h->over_len += n;
		s->seq[dir] += n + (nl ? 1 : 0);
		if (!nl)
			return;
		if (!h->resync)
			line_end(s, dir, h->buf, h->len, h->over_len + 1,
				 h->overflow);
		h->len = 0;
		h->over_len = 0;
		h->overflow = false;
		h->resync = false;
		data += n + 1;
		len -= n + 1;
	}
}

void smtp_feed(struct smtp *s, enum smtp_dir dir, const uint8_t *data,
	       size_t len)
{
	if (!len || (s->flags & SMTP_F_DONE) || s->half[dir].dead)
		return;
	if (dir == SMTP_CLIENT && !(s->flags & SMTP_F_CLIENT_TALKED) &&
	    !first_client_bytes(s, data, len))
		return;
	feed_lines(s, dir, data, len);
}

/* Server bytes lost: no reply can be paired any more, so every command
 * awaiting one, and every later command, is graded alone. */
static void server_blind(struct smtp *s)
{
	struct smtp_pending pend;

	s->flags |= SMTP_F_DESYNC | SMTP_F_BLIND;
	while (s->q_len) {
		pend = queue_pop(s);
		if (!(s->flags & SMTP_F_DONE))
			graded_unseen(s, pend.verb, pend.arg);
		free(pend.arg);
	}
}

void smtp_gap(struct smtp *s, enum smtp_dir dir)
{
	struct smtp_half *h = &s->half[dir];

	if (dir == SMTP_CLIENT && (s->flags & SMTP_F_BLIND)) {
		finish(s); /* both sides lost: nothing more to learn */
		return;
	}
	if (dir == SMTP_CLIENT) {
		smtp_skip(s);
		h->resync = true; /* resume after the next LF */
		return;
	}
	if (s->flags & SMTP_F_SKIPPED) {
		finish(s); /* both sides lost: nothing more to learn */
		return;
	}
	h->len = 0;
	h->over_len = 0;
	h->overflow = false;
	h->resync = true;
	server_blind(s);
}
