// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The Postfix policy service: the protocol parser (whole, pipelined,
 * partial and bad requests), listen addresses, and the answers the policy
 * gives (relay attempts refused in enforce mode, DUNNO otherwise and in
 * monitor mode, REJECT at once for a banned client, decisions via
 * "policy"). */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "clock.h"
#include "craft.h"
#include "policy.h"
#include "policysvc.h"
#include "unit.h"

/* What Postfix 3.7 sends at RCPT (SMTPD_POLICY_README), in order. */
#define REQ(rcpt, sasl)                                                        \
	"request=smtpd_access_policy\nprotocol_state=RCPT\n"                   \
	"protocol_name=ESMTP\nhelo_name=vm\nqueue_id=\n"                       \
	"sender=a@spam.example\nrecipient=" rcpt "\nrecipient_count=0\n"       \
	"client_address=10.77.0.66\nclient_name=unknown\n"                    \
	"reverse_client_name=unknown\ninstance=3a2.67a5e1b2.8c3d1.0\n"         \
	"sasl_method=\nsasl_username=" sasl "\nsasl_sender=\nsize=0\n"         \
	"ccert_subject=\nccert_issuer=\nccert_fingerprint=\n"                  \
	"encryption_protocol=TLSv1.3\nencryption_cipher=TLS_AES_256_GCM_SHA384\n" \
	"encryption_keysize=256\netrn_domain=\nstress=\n"                      \
	"client_port=40312\nserver_address=10.77.0.1\nserver_port=25\n"        \
	"compatibility_level=3.6\nmail_version=3.7.11\n\n"

static int parse_str(const char *text, struct psvc_request *r,
		     const char **why, char *buf, size_t size)
{
	size_t n = strlen(text);

	assert_true(n <= size);
	memcpy(buf, text, n);
	return psvc_parse(buf, n, r, why);
}

static void test_parse_whole(void **state)
{
	static char buf[PSVC_REQUEST_MAX];
	const char *text = REQ("victim@gmail.com", "");
	struct psvc_request r;
	const char *why;

	(void)state;
	assert_int_equal(parse_str(text, &r, &why, buf, sizeof(buf)),
			 strlen(text));
	assert_string_equal(r.request, "smtpd_access_policy");
	assert_string_equal(r.protocol_state, "RCPT");
	assert_string_equal(r.recipient, "victim@gmail.com");
	assert_string_equal(r.client_address, "10.77.0.66");
	assert_string_equal(r.client_port, "40312");
	assert_string_equal(r.sasl_username, "");
	assert_string_equal(r.encryption_protocol, "TLSv1.3");
	assert_string_equal(r.helo_name, "vm");
	assert_int_equal(r.n_attrs, 29);
}

/* Two requests in one read; then every prefix of one request is "more,
 * please" (0), never an error. */
static void test_parse_pipelined_and_partial(void **state)
{
	static char buf[2 * PSVC_REQUEST_MAX];
	const char *one = REQ("a@gmail.com", "");
	char two[4096];
	struct psvc_request r;
	const char *why;
	size_t n1 = strlen(one), cut;
	int n;

	(void)state;
	snprintf(two, sizeof(two), "%s%s", one, REQ("b@gmail.com", "x"));
	n = parse_str(two, &r, &why, buf, sizeof(buf));
	assert_int_equal(n, n1);
	assert_string_equal(r.recipient, "a@gmail.com");
	n = psvc_parse(buf + n, strlen(two) - n, &r, &why);
	assert_true(n > 0);
	assert_string_equal(r.recipient, "b@gmail.com");
	assert_string_equal(r.sasl_username, "x");
	for (cut = 0; cut < n1; cut++) {
		memcpy(buf, one, cut);
		assert_int_equal(psvc_parse(buf, cut, &r, &why), 0);
	}
	/* CRLF from a person with nc */
	n = parse_str("request=smtpd_access_policy\r\nrecipient=u@x\r\n\r\n",
		      &r, &why, buf, sizeof(buf));
	assert_true(n > 0);
	assert_string_equal(r.recipient, "u@x");
}

static void test_parse_bad(void **state)
{
	static char buf[4 * PSVC_REQUEST_MAX];
	static const struct {
		const char *text;
		int err;
		const char *why;
	} cases[] = {
		{ "\n", -EBADMSG, "no request=smtpd_access_policy" },
		{ "recipient=u@x\n\n", -EBADMSG, "no request=" },
		{ "request=other\n\n", -EBADMSG, "no request=" },
		{ "request=smtpd_access_policy\nnot an attribute\n\n",
		  -EBADMSG, "not name=value" },
		{ "request=smtpd_access_policy\n=value\n\n", -EBADMSG,
		  "not name=value" },
		{ "request=smtpd_access_policy\nhelo_name=a\001b\n\n",
		  -EBADMSG, "control byte" },
		{ "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", -EBADMSG,
		  "control byte" },
		{ "GET / HTTP/1.1\r\nHost: x\r\n\r\n", -EBADMSG,
		  "not name=value" },
		{ "request=smtpd_access_policy\rrecipient=u@x\n\n", -EBADMSG,
		  "control byte" },
	};
	struct psvc_request r;
	const char *why;
	size_t i, n;

	(void)state;
	for (i = 0; i < ARRAY_LEN(cases); i++) {
		n = strlen(cases[i].text);
		memcpy(buf, cases[i].text, n);
		assert_int_equal(psvc_parse(buf, n, &r, &why), cases[i].err);
		assert_non_null(strstr(why, cases[i].why));
	}
	/* a NUL byte */
	memcpy(buf, "request=smtpd\0access_policy\n\n", 29);
	assert_int_equal(psvc_parse(buf, 29, &r, &why), -EBADMSG);
	/* one line over 2048 bytes, even before its newline */
	memcpy(buf, "helo_name=", 10);
	memset(buf + 10, 'a', 3000);
	assert_int_equal(psvc_parse(buf, 3010, &r, &why), -EMSGSIZE);
	assert_non_null(strstr(why, "longer than 2048"));
	/* 8192 bytes of short lines and no empty line */
	for (i = 0; i + 8 <= PSVC_REQUEST_MAX; i += 8)
		memcpy(buf + i, "a=bcdef\n", 8);
	assert_int_equal(psvc_parse(buf, i, &r, &why), -EMSGSIZE);
	assert_non_null(strstr(why, "no empty line"));
	/* a request ending past 8192 bytes */
	buf[i++] = '\n';
	assert_int_equal(psvc_parse(buf, i, &r, &why), -EMSGSIZE);
	/* 65 attributes */
	n = snprintf(buf, sizeof(buf), "request=smtpd_access_policy\n");
	for (i = 0; i < 64; i++)
		n += snprintf(buf + n, sizeof(buf) - n, "x%zu=y\n", i);
	buf[n++] = '\n';
	assert_int_equal(psvc_parse(buf, n, &r, &why), -EMSGSIZE);
	assert_non_null(strstr(why, "more than 64"));
}

static void test_parse_addr(void **state)
{
	static const struct {
		const char *spec;
		int family;
	} cases[] = {
		{ "inet:127.0.0.1:10040", AF_INET },
		{ "inet:[::1]:10040", AF_INET6 },
		{ "inet:::1:10040", AF_INET6 },
		{ "unix:/run/relayguard/policy", AF_UNIX },
	};
	static const char *const bad[] = {
		"inet:127.0.0.1",	"inet:127.0.0.1:0",
		"inet:127.0.0.1:65536", "inet:localhost:10040",
		"inet::10040",		"unix:relative/path",
		"tcp:127.0.0.1:10040",	"",
	};
	struct sockspec a;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_LEN(cases); i++) {
		assert_int_equal(sockspec_parse(cases[i].spec, &a), 0);
		assert_int_equal(a.u.sa.sa_family, cases[i].family);
	}
	for (i = 0; i < ARRAY_LEN(bad); i++)
		if (!sockspec_parse(bad[i], &a))
			fail_msg("'%s' accepted", bad[i]);
}

/* ---- answers ---- */

struct seen {
	int bans, findings;
	char last_via[16], last_code[32];
	bool banned; /* what ops.banned says */
};

static void seen_decide(void *ctx, const struct decision *d)
{
	struct seen *s = ctx;

	if (d->action == DECISION_BAN) {
		s->bans++;
		s->banned = true;
	} else if (d->action == DECISION_FINDING) {
		s->findings++;
	}
	snprintf(s->last_via, sizeof(s->last_via), "%s", d->via ? d->via : "");
	snprintf(s->last_code, sizeof(s->last_code), "%s", d->code);
}

static bool seen_banned(void *ctx, const struct prefix *src)
{
	(void)src;
	return ((struct seen *)ctx)->banned;
}

static const struct policysvc_ops seen_ops = {
	.decide = seen_decide,
	.banned = seen_banned,
};

/* The answer to text (one request). */
static const char *ask(struct policysvc *s, const char *text, uint64_t now)
{
	static char buf[PSVC_REQUEST_MAX], out[PSVC_ANSWER_MAX];
	struct psvc_request r;
	const char *why;
	size_t n = strlen(text);

	memcpy(buf, text, n);
	assert_true(psvc_parse(buf, n, &r, &why) > 0);
	n = policysvc_answer(s, &r, now, out, sizeof(out));
	assert_true(n > 0 && out[n - 1] == '\n' && out[n - 2] == '\n');
	return out;
}

static void test_answers(void **state)
{
	struct rg_conf c = *lab_conf();
	struct policy *p = policy_new(&c);
	struct seen seen = { 0 };
	struct policysvc *s = policysvc_new(&c, p, &seen_ops, &seen);
	uint64_t t = NSEC_PER_SEC;

	(void)state;
	assert_string_equal(ask(s, REQ("user@example.test", ""), t),
			    "action=DUNNO\n\n");
	/* authenticated: may relay */
	assert_string_equal(ask(s, REQ("friend@gmail.com", "relay"), t),
			    "action=DUNNO\n\n");
	assert_int_equal(seen.findings + seen.bans, 0);
	/* a relay attempt: refused, a finding (the first one) */
	assert_string_equal(ask(s, REQ("victim@gmail.com", ""), t),
			    "action=REJECT 5.7.1 Relay access denied\n\n");
	assert_int_equal(seen.findings, 1);
	assert_int_equal(seen.bans, 0);
	assert_string_equal(seen.last_via, "policy");
	assert_string_equal(seen.last_code, "relay_attempt");
	/* the same RCPT asked again in the same session counts once */
	ask(s, REQ("victim@gmail.com", ""), t);
	assert_int_equal(seen.findings + seen.bans, 1);
	/* a second recipient: banned, refused */
	assert_string_equal(ask(s, REQ("victim2@gmail.com", ""), t),
			    "action=REJECT 5.7.1 Relay access denied\n\n");
	assert_int_equal(seen.bans, 1);
	/* banned: refused at once, whatever it asks, adding nothing */
	assert_non_null(strstr(ask(s, REQ("user@example.test", ""), t),
			       "action=REJECT 5.7.1 Access denied"));
	assert_int_equal(seen.bans + seen.findings, 2);
	policysvc_free(s);
	policy_free(p);
}

static void test_answers_probe_and_monitor(void **state)
{
	struct rg_conf c = *lab_conf();
	struct policy *p = policy_new(&c);
	struct seen seen = { 0 };
	struct policysvc *s = policysvc_new(&c, p, &seen_ops, &seen);

	(void)state;
	/* a probe form bans at once */
	assert_string_equal(ask(s, REQ("u%other.com@example.test", ""),
				NSEC_PER_SEC),
			    "action=REJECT 5.7.1 Relay access denied\n\n");
	assert_int_equal(seen.bans, 1);
	assert_string_equal(seen.last_code, "relay_probe");
	/* monitor mode: the same decisions, DUNNO always */
	c.dp.flags |= RG_CFG_MONITOR;
	assert_string_equal(ask(s, REQ("victim@gmail.com", ""), NSEC_PER_SEC),
			    "action=DUNNO\n\n");
	/* other protocol states and unknown clients: DUNNO, no decision */
	c.dp.flags &= ~RG_CFG_MONITOR;
	seen.banned = false;
	assert_string_equal(ask(s, "request=smtpd_access_policy\n"
				   "protocol_state=MAIL\n"
				   "client_address=10.77.0.67\n\n",
				NSEC_PER_SEC),
			    "action=DUNNO\n\n");
	assert_string_equal(ask(s, "request=smtpd_access_policy\n"
				   "protocol_state=RCPT\n"
				   "recipient=victim@gmail.com\n"
				   "client_address=unknown\n\n",
				NSEC_PER_SEC),
			    "action=DUNNO\n\n");
	/* trusted network: may relay */
	assert_string_equal(ask(s, "request=smtpd_access_policy\n"
				   "protocol_state=RCPT\n"
				   "recipient=victim@gmail.com\n"
				   "client_address=10.77.1.5\n\n",
				NSEC_PER_SEC),
			    "action=DUNNO\n\n");
	assert_int_equal(seen.bans, 1);
	policysvc_free(s);
	policy_free(p);
}

/* Read from fd until want bytes came, running the service meanwhile. */
static size_t pump(struct policysvc *s, int fd, char *buf, size_t want)
{
	struct epoll_event ev;
	int ep = epoll_create1(0), i;
	size_t got = 0;
	ssize_t n;

	ev = (struct epoll_event){ .events = EPOLLIN };
	epoll_ctl(ep, EPOLL_CTL_ADD, policysvc_fd(s), &ev);
	for (i = 0; i < 500 && got < want; i++) {
		if (epoll_wait(ep, &ev, 1, 10) > 0)
			policysvc_run(s);
		n = recv(fd, buf + got, want - got, MSG_DONTWAIT);
		if (n == 0)
			break;
		if (n > 0)
			got += n;
	}
	close(ep);
	return got;
}

/* Over a unix socket: a stale socket file is replaced, anything else at
 * the path is not; pipelined requests get their answers in order; the
 * socket file goes with the service. */
static void test_unix_socket(void **state)
{
	char dir[] = "/tmp/test_policysvc-XXXXXX", err[256], buf[256];
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct rg_conf c = *lab_conf();
	struct seen seen = { 0 };
	struct policysvc *s;
	struct policy *p;
	const char *two = REQ("user@example.test", "") REQ("victim@gmail.com", "");
	int fd;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/policy", dir);
	snprintf(c.policy_service, sizeof(c.policy_service), "unix:%s",
		 sa.sun_path);
	p = policy_new(&c);
	/* a regular file at the path is left alone */
	close(creat(sa.sun_path, 0600));
	s = policysvc_new(&c, p, &seen_ops, &seen);
	assert_int_equal(policysvc_listen(s, err, sizeof(err)), -EEXIST);
	assert_non_null(strstr(err, "cannot listen on unix:"));
	policysvc_free(s);
	unlink(sa.sun_path);
	/* a stale socket is replaced */
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(fd);
	s = policysvc_new(&c, p, &seen_ops, &seen);
	assert_int_equal(policysvc_listen(s, err, sizeof(err)), 0);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(send(fd, two, strlen(two), 0), strlen(two));
	memset(buf, 0, sizeof(buf));
	pump(s, fd, buf, 14 + 41);
	assert_string_equal(buf, "action=DUNNO\n\n"
				 "action=REJECT 5.7.1 Relay access denied\n\n");
	assert_int_equal(policysvc_stats(s)->active, 1);
	/* bad input: closed, counted */
	assert_int_equal(send(fd, "\x01\n\n", 3, 0), 3);
	assert_int_equal(pump(s, fd, buf, sizeof(buf)), 0);
	assert_int_equal(policysvc_stats(s)->bad_input, 1);
	assert_int_equal(policysvc_stats(s)->active, 0);
	close(fd);
	policysvc_free(s);
	assert_int_equal(access(sa.sun_path, F_OK), -1);
	policy_free(p);
	rmdir(dir);
}

UNIT_TEST_MAIN(cmocka_unit_test(test_parse_whole),
	       cmocka_unit_test(test_parse_pipelined_and_partial),
	       cmocka_unit_test(test_parse_bad),
	       cmocka_unit_test(test_parse_addr),
	       cmocka_unit_test(test_answers),
	       cmocka_unit_test(test_answers_probe_and_monitor),
	       cmocka_unit_test(test_unix_socket))
