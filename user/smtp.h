/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Incremental SMTP dialogue parser, both directions (RFC 5321, pipelining
 * RFC 2920, AUTH RFC 4954, STARTTLS RFC 3207, BDAT RFC 3030). Bytes arrive
 * in order per direction, cut anywhere; each server reply is paired with
 * the command it answers and handed to the caller. Bounded memory, never
 * trusts its input. */
#ifndef RG_SMTP_H
#define RG_SMTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SMTP_CMD_LINE_MAX   512	  /* RFC 5321 4.5.3.1.4, CRLF included */
#define SMTP_REPLY_LINE_MAX 512	  /* 4.5.3.1.5 */
#define SMTP_AUTH_LINE_MAX  12288 /* RFC 4954 4: an AUTH response line */
#define SMTP_TEXT_LINE_MAX  1000  /* 4.5.3.1.6 */
/* Lines are parsed up to Postfix's line_length_limit and the rest of a
 * longer line skipped, as Postfix does: padding a RCPT line hides nothing. */
#define SMTP_LINE_MAX  2048
#define SMTP_BUF_MAX   SMTP_LINE_MAX /* a partial line kept across segments */
#define SMTP_QUEUE_MAX 256	     /* pipelined commands awaiting a reply */
#define SMTP_ARG_MAX   255	     /* helo, mail from, rcpt to kept (bytes) */

enum smtp_dir { SMTP_CLIENT = 0, SMTP_SERVER = 1 }; /* == RG_DIR_IN/OUT */

enum smtp_verb {
	SMTP_GREETING = 0, /* the server's first reply, answers no command */
	SMTP_HELO,
	SMTP_EHLO,
	SMTP_MAIL,
	SMTP_RCPT,
	SMTP_DATA,
	SMTP_BDAT,
	SMTP_RSET,
	SMTP_AUTH,
	SMTP_STARTTLS,
	SMTP_QUIT,
	SMTP_NOOP,
	SMTP_VRFY,
	SMTP_EXPN,
	SMTP_HELP,
	SMTP_OTHER,
	SMTP_END_DATA, /* the end of a DATA body: its reply ends the mail */
};

struct smtp_reply {
	unsigned int code;  /* 200..599; 0: not seen (server bytes lost) */
	char enhanced[16];  /* "5.7.1" or "" */
	const char *line;   /* the reply's last line, NUL-terminated, no CRLF */
	unsigned int lines; /* lines in the reply (multi-line continuation) */
};

struct smtp;

/* What the parser reports as odd, at most once a session (and direction,
 * for bare_lf), each with its event code: F(value, name) for each, the one
 * list both enum smtp_finding and smtp_finding_name() are made from. */
#define SMTP_FINDINGS(F)                                                       \
	F(SMTP_FIND_BARE_LF, "bare_lf")                                        \
	F(SMTP_FIND_COMMAND_TOO_LONG, "command_too_long")                      \
	F(SMTP_FIND_REPLY_TOO_LONG, "reply_too_long")                          \
	F(SMTP_FIND_NON_SMTP, "non_smtp")                                      \
	F(SMTP_FIND_UNKNOWN_COMMAND, "unknown_command")                        \
	F(SMTP_FIND_BAD_REPLY, "bad_reply")                                    \
	F(SMTP_FIND_UNEXPECTED_REPLY, "unexpected_reply")                      \
	F(SMTP_FIND_PIPELINE_OVERFLOW, "pipeline_overflow")                    \
	F(SMTP_FIND_AUTH_LINE_TOO_LONG, "auth_line_too_long")                  \
	F(SMTP_FIND_UNAUTH_PIPELINING, "unauth_pipelining")

#define SMTP_FINDING_VALUE(value, name) value,
enum smtp_finding { SMTP_FINDINGS(SMTP_FINDING_VALUE) SMTP_FIND_MAX };
#undef SMTP_FINDING_VALUE

/* "bare_lf", "non_smtp", ...; "unknown" out of range. */
const char *smtp_finding_name(enum smtp_finding what);

struct smtp_callbacks {
	/* A complete reply and the command it answers (arg: the RCPT's path
	 * for SMTP_RCPT, else NULL). */
	void (*reply)(void *ctx, struct smtp *s, enum smtp_verb verb,
		      const char *arg, const struct smtp_reply *r);
	/* Something worth logging, detail in words. */
	void (*finding)(void *ctx, struct smtp *s, enum smtp_finding what,
			const char *detail);
	/* The dialogue has nothing more to tell (STARTTLS 220, QUIT,
	 * non-SMTP): sampling may stop. */
	void (*stop)(void *ctx, struct smtp *s);
	/* A message body follows (354 to DATA, a BDAT chunk): the client's
	 * bytes need not be sampled until resume. */
	void (*pause)(void *ctx, struct smtp *s);
	/* The server's reply ended a body (or answered RSET): a new
	 * transaction starts where this reply acknowledges (reply_ack); the
	 * caller skips the client bytes before it (smtp_skip). */
	void (*resume)(void *ctx, struct smtp *s);
};

struct smtp_pending {
	uint8_t verb;
	bool after_skip; /* client bytes were skipped before this command */
	uint32_t end;	 /* client seq just past the command line */
	char *arg;	 /* RCPT path, malloc'd; NULL otherwise */
};

struct smtp_half {
	char *buf; /* partial line, grown up to SMTP_BUF_MAX */
	uint16_t len, cap;
	bool overflow;	   /* the current line outgrew buf: skipped to LF */
	bool resync;	   /* after a gap: skip to the next LF silently */
	bool dead;	   /* parsing of this direction stopped */
	uint32_t over_len; /* bytes of the current overlong line */
};

enum smtp_flags {
	SMTP_F_GREETED = 1U << 0,	/* the server's greeting was seen */
	SMTP_F_AUTHENTICATED = 1U << 1, /* 235 to AUTH */
	SMTP_F_TLS = 1U << 2,		/* STARTTLS accepted: opaque */
	SMTP_F_DONE = 1U << 3,		/* nothing more to parse */
	SMTP_F_IN_AUTH = 1U << 4,	/* client lines are AUTH responses */
	SMTP_F_CLIENT_WAIT = 1U << 5,	/* DATA/STARTTLS sent, await reply */
	SMTP_F_IN_MULTI = 1U << 6,	/* inside a multi-line reply */
	SMTP_F_DESYNC = 1U << 7,	/* replies cannot be paired any more */
	SMTP_F_CLIENT_TALKED = 1U << 8, /* the client sent a byte */
	SMTP_F_BLIND = 1U << 9, /* server bytes lost: commands graded alone */
	SMTP_F_SKIPPED = 1U << 10,  /* client bytes skipped (body, lost):
				     * replies to unseen commands may come */
	SMTP_F_BODY = 1U << 11,	    /* a message body: client lines skipped */
	SMTP_F_BODY_END = 1U << 12, /* the body's end was seen */
};

struct smtp {
	const struct smtp_callbacks *cb;
	void *ctx;
	struct smtp_half half[2];
	struct smtp_pending *q; /* ring of pending commands */
	uint16_t q_head, q_len, q_cap;
	uint16_t multi_code;  /* code of the multi-line reply under way */
	uint32_t flags;	      /* enum smtp_flags */
	uint32_t reported;    /* findings already reported (once each) */
	uint32_t n_rcpt;      /* RCPT commands in this session */
	uint32_t other_bytes; /* command bytes but RCPT and AUTH: padding's
			       * stuff (envelope_padding) */
	uint32_t multi_lines;
	uint32_t seq[2];     /* seq of the next byte fed, per direction (host
			      * order; 0 when the caller does not tell) */
	uint32_t reply_ack;  /* ack of the server record being fed */
	uint32_t chunk_left; /* BDAT chunk bytes still to skip */
	char *helo;	     /* HELO/EHLO argument, malloc'd */
	char *mail_from;     /* MAIL FROM path */
	char *rcpt_to;	     /* last RCPT path */
};

void smtp_init(struct smtp *s, const struct smtp_callbacks *cb, void *ctx);
void smtp_free(struct smtp *s);
/* In-order bytes of one direction. */
void smtp_feed(struct smtp *s, enum smtp_dir dir, const uint8_t *data,
	       size_t len);
/* Where the next bytes of dir start (seq, host order), and for server
 * bytes the ack their record carries: a reply is then paired with a
 * command only if the server had received it. */
static inline void smtp_set_pos(struct smtp *s, enum smtp_dir dir, uint32_t seq,
				uint32_t ack)
{
	s->seq[dir] = seq;
	if (dir == SMTP_SERVER)
		s->reply_ack = ack;
}
/* Client bytes were skipped (a body not sampled, bytes lost): the partial
 * line is dropped, and replies to commands never seen may come before the
 * next one's: a reply is taken for an unseen command's while the server
 * had not received the next seen command (its ack), or nothing awaits. */
void smtp_skip(struct smtp *s);
/* Bytes of dir were lost (a gap that will not fill). Server bytes lost:
 * no reply can be paired any more, the commands awaiting a reply, and
 * every later one, get reply code 0 (SMTP_F_BLIND) until DATA, BDAT,
 * STARTTLS, QUIT or AUTH ends the dialogue. Client bytes lost: smtp_skip;
 * a reply to an unseen command refusing a relay for a <path> it names is
 * passed on as that RCPT's. Both lost: the dialogue ends (stop). */
void smtp_gap(struct smtp *s, enum smtp_dir dir);

static inline bool smtp_done(const struct smtp *s)
{
	return s->flags & SMTP_F_DONE;
}

const char *smtp_verb_name(enum smtp_verb v);

/* Path of "TO:<path> params" / "FROM:<path>": copies the path (without the
 * angle brackets) into out. Returns 0 or -EINVAL. */
int smtp_extract_path(const char *arg, const char *prefix, char *out,
		      size_t size);

#endif
