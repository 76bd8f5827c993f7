// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* What Postfix receives for (mtadomains.c): postconf -x and postmap -s
 * output parsed, bad and huge outputs refused with a reason, matching
 * (exact, subdomains, parent_domain_matches_subdomains), the bounded cache
 * of per-domain answers, and config.c's one decision over both lists. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config.h"
#include "mtadomains.h"
#include "policy.h"
#include "unit.h"

static char err[512];

#define PARENT_ALL                                                               \
	"parent_domain_matches_subdomains = debug_peer_list,fast_flush_domains," \
	"mynetworks,permit_mx_backup_networks,qmqpd_authorized_clients,"         \
	"relay_domains,smtpd_access_maps\n"

static const char postconf_out[] =
	"mydestination = gw.example.test, localhost.example.test, localhost, "
	"Example.TEST, hash:/etc/postfix/dest\n"
	"relay_domains = partner.test, .sub.test, !not.test, "
	"inline:{ a.test, b.test=x, { c.test = text with spaces } }, "
	"pcre:/etc/postfix/relay.pcre\n"
	"virtual_alias_domains = texthash:/etc/postfix/va\n"
	"virtual_mailbox_domains =\n" PARENT_ALL;

static struct mta_domains *parsed(const char *text)
{
	struct mta_domains *m = mta_domains_new();

	assert_non_null(m);
	if (mta_parse_postconf(m, text, strlen(text), err, sizeof(err)))
		fail_msg("postconf output refused: %s", err);
	return m;
}

/* One domain and the answer it must get. */
struct domain_want {
	const char *domain;
	enum mta_answer want;
};

/* Each domain of w, asked in order, gets its answer; the first that does
 * not is named. */
static void expect_answers(struct mta_domains *m, const struct domain_want *w,
			   size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (mta_domains_match(m, w[i].domain) != w[i].want)
			fail_msg("%s: answer %d, want %d", w[i].domain,
				 mta_domains_match(m, w[i].domain), w[i].want);
}

static void test_postconf(void **state)
{
	static const struct domain_want w[] = {
		{ "gw.example.test", MTA_LOCAL },
		{ "EXAMPLE.test.", MTA_LOCAL },
		{ "localhost", MTA_LOCAL },
		/* relay_domains in parent_domain_matches_subdomains */
		{ "mx.partner.test", MTA_LOCAL },
		{ "a.b.partner.test", MTA_LOCAL },
		/* mydestination is not: its entries are exact */
		{ "x.example.test", MTA_UNKNOWN },
		/* ".sub.test": its subdomains, not itself */
		{ "a.sub.test", MTA_LOCAL },
		/* inline keys, with or without a value */
		{ "a.test", MTA_LOCAL },
		{ "b.test", MTA_LOCAL },
		{ "c.test", MTA_LOCAL },
	};
	struct mta_domains *m = parsed(postconf_out);
	const struct mta_table *t;

	(void)state;
	/* nothing is known until the list is complete */
	assert_int_equal(mta_domains_match(m, "gw.example.test"), MTA_UNKNOWN);
	mta_domains_finish(m);
	expect_answers(m, w, ARRAY_LEN(w));
	/* tables: listed, queried, in their order */
	t = mta_table(m, 0);
	assert_non_null(t);
	assert_string_equal(t->spec, "hash:/etc/postfix/dest");
	assert_int_equal(t->kind, MTA_TABLE_LIST);
	assert_false(t->parent);
	t = mta_table(m, 1);
	assert_string_equal(t->spec, "pcre:/etc/postfix/relay.pcre");
	assert_int_equal(t->kind, MTA_TABLE_QUERY);
	assert_true(t->parent);
	t = mta_table(m, 2);
	assert_string_equal(t->spec, "texthash:/etc/postfix/va");
	assert_int_equal(t->kind, MTA_TABLE_LIST);
	assert_null(mta_table(m, 3));
	assert_int_equal(mta_domains_stats(m)->query_tables, 1);
	mta_domains_free(m);
}

static void test_parent_matching_off(void **state)
{
	struct mta_domains *m =
		parsed("mydestination =\nrelay_domains = partner.test\n"
		       "virtual_alias_domains =\nvirtual_mailbox_domains =\n"
		       "parent_domain_matches_subdomains = mynetworks\n");

	(void)state;
	mta_domains_finish(m);
	assert_int_equal(mta_domains_match(m, "partner.test"), MTA_LOCAL);
	assert_int_equal(mta_domains_match(m, "mx.partner.test"), MTA_FOREIGN);
	assert_int_equal(mta_domains_match(m, "xpartner.test"), MTA_FOREIGN);
	/* no table to ask: foreign at once */
	assert_int_equal(mta_domains_match(m, "gmail.com"), MTA_FOREIGN);
	assert_int_equal(mta_domains_stats(m)->domains, 1);
	mta_domains_free(m);
}

static void expect_refused(const char *text, size_t len, int ret,
			   const char *why)
{
	struct mta_domains *m = mta_domains_new();

	assert_int_equal(mta_parse_postconf(m, text, len, err, sizeof(err)),
			 ret);
	if (!strstr(err, why))
		fail_msg("error '%s' does not say '%s'", err, why);
	mta_domains_free(m);
}

#define S(text) text, strlen(text)

static void test_postconf_bad(void **state)
{
	static const char nul[] = "mydestination = a\0b\n";
	char *huge;

	(void)state;
	expect_refused("", 0, -EINVAL, "did not print mydestination");
	expect_refused(S("postconf: fatal: /etc/postfix/main.cf, line 6: "
			 "missing '=' after attribute name\n"),
		       -EINVAL, "unexpected postconf line");
	expect_refused(S("mydestination = a\nmydestination = b\n"), -EINVAL,
		       "unexpected postconf line");
	expect_refused(S("mydestination = a\n"), -EINVAL,
		       "did not print relay_domains");
	expect_refused(nul, sizeof(nul) - 1, -EINVAL, "NUL byte");
	expect_refused(S("mydestination = a, BAD:x\nrelay_domains =\n"
			 "virtual_alias_domains =\nvirtual_mailbox_domains "
			 "=\n" PARENT_ALL),
		       -EINVAL, "no lookup table");
	/* over the bound: refused, never read past it */
	huge = malloc(MTA_OUTPUT_MAX + 2);
	assert_non_null(huge);
	memset(huge, 'a', MTA_OUTPUT_MAX + 1);
	expect_refused(huge, MTA_OUTPUT_MAX + 1, -E2BIG, "output over");
	free(huge);
}

/* Items that are no domain are skipped and counted, never fatal. */
static void test_postconf_odd_items(void **state)
{
	struct mta_domains *m = parsed(
		"mydestination = -bad!, *.wild.test, a..b, ok.test, $unexpanded, "
		"x_y.test\n"
		"relay_domains =\nvirtual_alias_domains =\n"
		"virtual_mailbox_domains = /etc/postfix/vmd-list\n" PARENT_ALL);

	(void)state;
	mta_domains_finish(m);
	assert_int_equal(mta_domains_match(m, "ok.test"), MTA_LOCAL);
	assert_int_equal(mta_domains_match(m, "x_y.test"), MTA_LOCAL);
	assert_int_equal(mta_domains_stats(m)->domains, 2);
	assert_int_equal(mta_domains_stats(m)->skipped, 4);
	assert_int_equal(mta_table(m, 0)->kind, MTA_TABLE_FILE);
	mta_domains_free(m);
}

static void test_postmap_keys(void **state)
{
	static const char out[] = "d1.test\tOK\n"
				  "user@d2.test\tsomeone\n"
				  "@d3.test\tcatchall\n"
				  "  .d4.test ok\n"
				  "# a comment\n"
				  "\n"
				  "D5.Test\n"
				  "bad!key\tx\n"
				  "d6.test";
	static const struct domain_want w[] = {
		{ "d1.test", MTA_LOCAL },   { "d2.test", MTA_FOREIGN },
		{ "d3.test", MTA_FOREIGN }, { "x.d4.test", MTA_LOCAL },
		{ "d4.test", MTA_FOREIGN }, { "d5.test", MTA_LOCAL },
		{ "d6.test", MTA_LOCAL },
	};
	struct mta_domains *m = mta_domains_new();

	(void)state;
	assert_int_equal(mta_parse_keys(m, out, sizeof(out) - 1, false, err,
					sizeof(err)),
			 0);
	mta_domains_finish(m);
	expect_answers(m, w, ARRAY_LEN(w));
	assert_int_equal(mta_domains_stats(m)->skipped, 3);
	mta_domains_free(m);
}

/* A million and one keys: the bound refuses it with a reason; 100000
 * keys (one table of a big hosting gateway) are taken and sorted. */
static void test_postmap_huge(void **state)
{
	const size_t n = MTA_MAX_DOMAINS + 1;
	struct mta_domains *m = mta_domains_new();
	char *out = malloc(n * 16), *p = out;
	size_t i;

	(void)state;
	assert_non_null(out);
	for (i = 0; i < n; i++)
		p += sprintf(p, "d%zu.test\tOK\n", i);
	assert_int_equal(
		mta_parse_keys(m, out, p - out, false, err, sizeof(err)),
		-E2BIG);
	assert_non_null(strstr(err, "more than"));
	mta_domains_free(m);

	m = mta_domains_new();
	p = strstr(out, "d100000.test");
	assert_int_equal(
		mta_parse_keys(m, out, p - out, false, err, sizeof(err)), 0);
	mta_domains_finish(m);
	assert_int_equal(mta_domains_stats(m)->domains, 100000);
	assert_int_equal(mta_domains_match(m, "d99999.test"), MTA_LOCAL);
	assert_int_equal(mta_domains_match(m, "d100000.test"), MTA_FOREIGN);
	mta_domains_free(m);
	free(out);
}

static void test_postmap_bad(void **state)
{
	static const char nul[] = "d1.test OK\n\0\n";
	struct mta_domains *m = mta_domains_new();
	char line[1000];

	(void)state;
	assert_int_equal(mta_parse_keys(m, nul, sizeof(nul) - 1, false, err,
					sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "NUL byte"));
	/* a key longer than any domain: skipped */
	memset(line, 'a', sizeof(line) - 1);
	line[sizeof(line) - 1] = '\0';
	assert_int_equal(
		mta_parse_keys(m, line, strlen(line), false, err, sizeof(err)),
		0);
	mta_domains_finish(m);
	assert_int_equal(mta_domains_stats(m)->domains, 0);
	mta_domains_free(m);
}

static struct mta_domains *with_query_table(void)
{
	struct mta_domains *m = parsed(
		"mydestination = example.test\n"
		"relay_domains = regexp:/etc/postfix/relay.re\n"
		"virtual_alias_domains =\nvirtual_mailbox_domains =\n" PARENT_ALL);

	mta_domains_finish(m);
	return m;
}

static void test_query_cache(void **state)
{
	struct mta_domains *m = with_query_table();
	char q[MTA_DOMAIN_LEN];

	(void)state;
	assert_int_equal(mta_domains_match(m, "example.test"), MTA_LOCAL);
	assert_int_equal(mta_domains_match(m, "Asked.TEST"), MTA_UNKNOWN);
	assert_int_equal(mta_domains_match(m, "asked.test"), MTA_UNKNOWN);
	assert_int_equal(mta_domains_match(m, "other.test"), MTA_UNKNOWN);
	assert_int_equal(mta_domains_pending(m), 2);
	assert_true(mta_domains_next_query(m, q, sizeof(q)));
	assert_string_equal(q, "asked.test");
	assert_true(mta_domains_next_query(m, q, sizeof(q)));
	assert_string_equal(q, "other.test");
	assert_false(mta_domains_next_query(m, q, sizeof(q)));
	assert_int_equal(mta_domains_match(m, "asked.test"), MTA_UNKNOWN);
	mta_domains_answer(m, "asked.test", 1);
	mta_domains_answer(m, "other.test", -ETIMEDOUT);
	assert_int_equal(mta_domains_match(m, "asked.test"), MTA_LOCAL);
	assert_int_equal(mta_domains_match(m, "other.test"), MTA_FOREIGN);
	assert_int_equal(mta_domains_stats(m)->queries, 2);
	assert_int_equal(mta_domains_stats(m)->query_errors, 1);
	assert_int_equal(mta_domains_pending(m), 0);
	mta_domains_free(m);
}

/* The cache stays within MTA_CACHE_MAX: answers are evicted least
 * recently used first; a domain asked again is asked anew. */
static void test_query_cache_bound(void **state)
{
	struct mta_domains *m = with_query_table();
	char name[64], q[MTA_DOMAIN_LEN];
	unsigned int i;

	(void)state;
	for (i = 0; i < MTA_CACHE_MAX; i++) {
		snprintf(name, sizeof(name), "d%u.test", i);
		assert_int_equal(mta_domains_match(m, name), MTA_UNKNOWN);
	}
	/* every slot waits: nothing evicted, the new one stays unknown */
	assert_int_equal(mta_domains_match(m, "late.test"), MTA_UNKNOWN);
	assert_int_equal(mta_domains_pending(m), MTA_CACHE_MAX);
	while (mta_domains_next_query(m, q, sizeof(q)))
		mta_domains_answer(m, q, strcmp(q, "d0.test") ? 0 : 1);
	assert_int_equal(mta_domains_match(m, "d0.test"), MTA_LOCAL);
	assert_int_equal(mta_domains_match(m, "late.test"), MTA_UNKNOWN);
	assert_int_equal(mta_domains_stats(m)->cache_evicted, 1);
	/* d1 was the least recently used: gone, asked anew */
	assert_int_equal(mta_domains_match(m, "d1.test"), MTA_UNKNOWN);
	assert_int_equal(mta_domains_match(m, "d0.test"), MTA_LOCAL);
	mta_domains_free(m);
}

/* A new reading replaces the list and forgets the answers. */
static void test_replace(void **state)
{
	struct mta_domains *m = with_query_table(), *next;
	char q[MTA_DOMAIN_LEN];

	(void)state;
	assert_int_equal(mta_domains_match(m, "asked.test"), MTA_UNKNOWN);
	assert_true(mta_domains_next_query(m, q, sizeof(q)));
	mta_domains_answer(m, q, 1);
	next = parsed(
		"mydestination = new.test\nrelay_domains =\n"
		"virtual_alias_domains =\nvirtual_mailbox_domains =\n" PARENT_ALL);
	mta_domains_finish(next);
	mta_domains_replace(m, next);
	mta_domains_free(next);
	assert_int_equal(mta_domains_match(m, "new.test"), MTA_LOCAL);
	assert_int_equal(mta_domains_match(m, "example.test"), MTA_FOREIGN);
	assert_int_equal(mta_domains_match(m, "asked.test"), MTA_FOREIGN);
	assert_int_equal(mta_domains_stats(m)->queries, 1);
	mta_domains_free(m);

	/* a first reading that failed: nothing is local, nothing waits */
	m = mta_domains_new();
	assert_int_equal(mta_domains_match(m, "x.test"), MTA_UNKNOWN);
	mta_domains_give_up(m);
	assert_int_equal(mta_domains_match(m, "x.test"), MTA_FOREIGN);
	mta_domains_free(m);
}

/* config.c decides over the literal list and Postfix's together; the
 * policy classifies a domain being asked about as RELAY_UNKNOWN, which
 * is not (yet) a relay. */
static void test_conf_locality(void **state)
{
	static const char text[] =
		"local_domains = postfix:/etc/postfix, lit.test, *.wild.test\n";
	struct rg_conf c;
	struct prefix src;
	char src_desc[256];

	(void)state;
	assert_int_equal(conf_parse("t", text, &c, err, sizeof(err)), 0);
	assert_string_equal(c.local_domains_postfix, "/etc/postfix");
	assert_null(c.mta);
	conf_local_domains_source(&c, src_desc, sizeof(src_desc));
	assert_string_equal(src_desc,
			    "postfix:/etc/postfix, lit.test, *.wild.test");
	assert_int_equal(conf_domain_locality(&c, "example.test"), MTA_FOREIGN);
	conf_defaults(&c);
	conf_local_domains_source(&c, src_desc, sizeof(src_desc));
	assert_string_equal(src_desc, "none");
	assert_int_equal(conf_parse("t", text, &c, err, sizeof(err)), 0);
	c.mta = with_query_table();
	assert_int_equal(conf_domain_locality(&c, "lit.test"), MTA_LOCAL);
	assert_int_equal(conf_domain_locality(&c, "a.wild.test"), MTA_LOCAL);
	assert_int_equal(conf_domain_locality(&c, "example.test"), MTA_LOCAL);
	assert_true(conf_is_literal_domain(&c, "lit.test"));
	assert_false(conf_is_literal_domain(&c, "example.test"));
	assert_int_equal(conf_domain_locality(&c, "asked.test"), MTA_UNKNOWN);
	assert_int_equal(policy_classify_rcpt(&c, "u@asked.test"),
			 RELAY_UNKNOWN);
	assert_int_equal(parse_prefix("192.0.2.1", &src), 0);
	assert_false(policy_is_relay(&c, &src, false, "u@asked.test"));
	assert_true(policy_is_relay(&c, &src, false, "u%x@asked.test"));
	mta_domains_answer(c.mta, "asked.test", 0);
	assert_true(policy_is_relay(&c, &src, false, "u@asked.test"));
	mta_domains_free(c.mta);
}

static void on_drift(const char *domain, bool in_postfix, void *ctx)
{
	char *out = ctx;
	size_t len = strlen(out);

	snprintf(out + len, 512 - len, "%s%s ", in_postfix ? "+" : "-", domain);
}

/* --check-config's comparison: what the literal list lacks, what it has
 * that Postfix does not receive for. */
static void test_conf_drift(void **state)
{
	static const char text[] = "local_domains = example.test, lit.test, "
				   "*.partner.test, *.gone.test\n";
	struct rg_conf c;
	struct mta_domains *m;
	char out[512] = "";

	(void)state;
	assert_int_equal(conf_parse("t", text, &c, err, sizeof(err)), 0);
	m = parsed(
		"mydestination = example.test, new.test\n"
		"relay_domains = partner.test\n"
		"virtual_alias_domains =\nvirtual_mailbox_domains =\n" PARENT_ALL);
	mta_domains_finish(m);
	assert_int_equal(conf_local_domains_drift(&c, m, on_drift, out), 4);
	assert_string_equal(out, "-lit.test -*.gone.test +new.test "
				 "+partner.test ");
	mta_domains_free(m);
}

static void test_conf_postfix_bad(void **state)
{
	static const char *const bad[] = {
		"local_domains = postfix:relative/dir\n",
		"local_domains = postfix:/a, postfix:/b\n",
		"local_domains = postfix:\n",
	};
	struct rg_conf c;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_LEN(bad); i++) {
		assert_int_equal(conf_parse("t", bad[i], &c, err, sizeof(err)),
				 -EINVAL);
		assert_non_null(strstr(err, "postfix:/absolute/config/dir"));
	}
}

UNIT_TEST_MAIN(cmocka_unit_test(test_postconf),
	       cmocka_unit_test(test_parent_matching_off),
	       cmocka_unit_test(test_postconf_bad),
	       cmocka_unit_test(test_postconf_odd_items),
	       cmocka_unit_test(test_postmap_keys),
	       cmocka_unit_test(test_postmap_huge),
	       cmocka_unit_test(test_postmap_bad),
	       cmocka_unit_test(test_query_cache),
	       cmocka_unit_test(test_query_cache_bound),
	       cmocka_unit_test(test_replace),
	       cmocka_unit_test(test_conf_locality),
	       cmocka_unit_test(test_conf_drift),
	       cmocka_unit_test(test_conf_postfix_bad))
