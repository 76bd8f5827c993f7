// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* libFuzzer: bytes -> SMTP parser, both directions, random split points,
 * and every RCPT path through the relay classifier.
 * Input: chunks of [header][data]; header bit 7 = direction (server),
 * bits 0-6 = chunk length (0: the rest of the input). */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "config.h"
#include "policy.h"
#include "smtp.h"

static struct rg_conf conf;
static volatile size_t sink;

static void on_reply(void *ctx, struct smtp *s, enum smtp_verb verb,
		     const char *arg, const struct smtp_reply *r)
{
	(void)ctx;
	sink += strlen(r->line) + r->code + strlen(r->enhanced) + verb;
	if (arg)
		sink += policy_classify_rcpt(&conf, arg) + strlen(arg);
	if (s->helo)
		sink += strlen(s->helo);
	if (s->mail_from)
		sink += strlen(s->mail_from);
}

static void on_finding(void *ctx, struct smtp *s, enum smtp_finding what,
		       const char *detail)
{
	(void)ctx;
	(void)s;
	sink += strlen(smtp_finding_name(what)) + (detail ? strlen(detail) : 0);
}

static void on_stop(void *ctx, struct smtp *s)
{
	(void)ctx;
	(void)s;
	sink++;
}

static void on_pause(void *ctx, struct smtp *s)
{
	(void)ctx;
	(void)s;
	sink++;
}

/* As the pipeline does when a body was not sampled: skip to the reply's
 * ack (here: every other resume). */
static void on_resume(void *ctx, struct smtp *s)
{
	(void)ctx;
	if (sink++ & 1)
		smtp_skip(s);
}

static const struct smtp_callbacks cbs = { .reply = on_reply,
					   .finding = on_finding,
					   .stop = on_stop,
					   .pause = on_pause,
					   .resume = on_resume };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct smtp s;
	char path[300], out[300];
	size_t len;
	int dir;

	if (!conf.n_local_domains) {
		char err[128];

		conf_parse("fuzz", "local_domains = example.test *.example.org\n",
			   &conf, err, sizeof(err));
	}
	smtp_init(&s, &cbs, NULL);
	while (size) {
		dir = data[0] >> 7;
		len = data[0] & 0x7f;
		data++;
		size--;
		if (!len || len > size)
			len = size;
		if (len == 1 && data[0] == 0xff) {
			smtp_gap(&s, dir);
		} else {
			/* a server record acks what the client sent, or less */
			if (dir == SMTP_SERVER)
				s.reply_ack = s.seq[SMTP_CLIENT] - (len & 7);
			smtp_feed(&s, dir, data, len);
			/* the path extractor on raw bytes too */
			if (len < sizeof(path)) {
				memcpy(path, data, len);
				path[len] = '\0';
				if (!smtp_extract_path(path, "TO:", out,
						       sizeof(out)))
					sink += policy_classify_rcpt(&conf, out);
			}
		}
		data += len;
		size -= len;
	}
	smtp_free(&s);
	return 0;
}
