/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* What a Postfix receives mail for (local_domains = postfix:DIR), from its
 * own answers: the output of `postconf -x` for mydestination,
 * relay_domains, virtual_alias_domains and virtual_mailbox_domains, the
 * keys `postmap -s` lists of the tables they name, and for tables that
 * cannot be listed (regexp, pcre, sql, ldap ...) `postmap -q` per domain,
 * cached within a bound. Pure: parses text it is given and answers
 * lookups; the child processes and inotify are mtawatch.c's. */
#ifndef RG_MTADOMAINS_H
#define RG_MTADOMAINS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MTA_OUTPUT_MAX	(16u << 20) /* bytes of one postconf/postmap run */
#define MTA_MAX_DOMAINS (1u << 20)  /* listed domains kept */
#define MTA_MAX_TABLES	64	    /* tables named by the four parameters */
#define MTA_SPEC_LEN	512	    /* "type:name" of one table */
#define MTA_CACHE_MAX	4096 /* per-domain answers of unlistable tables */
#define MTA_DOMAIN_LEN	256

/* The parameters relayguard asks postconf about, in its argv order. */
extern const char *const mta_params[];
#define MTA_N_PARAMS                                                           \
	5 /* the four lists and parent_domain_matches_subdomains               \
	   */

enum mta_table_kind {
	MTA_TABLE_LIST,	 /* postmap -s lists its keys (hash, texthash ...) */
	MTA_TABLE_QUERY, /* postmap -q per domain (regexp, pcre, sql ...) */
	MTA_TABLE_FILE,	 /* "/file/name": its text is more patterns */
};

struct mta_table {
	char spec[MTA_SPEC_LEN]; /* "hash:/etc/postfix/relay", "/file" */
	enum mta_table_kind kind;
	bool parent; /* keys match their subdomains too */
};

enum mta_answer { MTA_FOREIGN = 0, MTA_LOCAL, MTA_UNKNOWN };

struct mta_stats {
	uint64_t domains;      /* listed domains and subdomain patterns */
	uint64_t query_tables; /* tables asked per domain */
	uint64_t skipped; /* items that are no domain (keys with '@' ...) */
	uint64_t queries; /* postmap -q runs */
	uint64_t query_errors;	/* of those, failed or timed out */
	uint64_t cache_evicted; /* answers dropped for the bound */
};

struct mta_domains;

struct mta_domains *mta_domains_new(void);
void mta_domains_free(struct mta_domains *m);

/* `postconf -x NAME...` output (mta_params, "name = value" lines): adds
 * the domains the values list and the tables they name to m. 0, or
 * -EINVAL/-E2BIG with err saying what. */
int mta_parse_postconf(struct mta_domains *m, const char *text, size_t len,
		       char *err, size_t errlen);
/* `postmap -s` output ("key value" lines) or the text of a "/file" list:
 * keys (first words) that are domains or ".domain" patterns are added;
 * parent: they match their subdomains too. 0 or -EINVAL/-E2BIG. */
int mta_parse_keys(struct mta_domains *m, const char *text, size_t len,
		   bool parent, char *err, size_t errlen);
/* The i-th table the postconf output named, NULL past the last. */
const struct mta_table *mta_table(const struct mta_domains *m, unsigned int i);

/* Sort the listed domains: after the parsing, before any lookup (until
 * then every domain is MTA_UNKNOWN: relayguardd just started). */
void mta_domains_finish(struct mta_domains *m);
/* The first reading failed: answer from what is known (nothing). */
void mta_domains_give_up(struct mta_domains *m);
/* Move what next learnt into m (emptying next); m's cached answers go. */
void mta_domains_replace(struct mta_domains *m, struct mta_domains *next);

/* Is domain (case-insensitive, a trailing dot allowed) one Postfix
 * receives for? MTA_UNKNOWN: a table must be asked first (the domain is
 * then queued for mta_domains_next_query), or no list was read yet. */
enum mta_answer mta_domains_match(struct mta_domains *m, const char *domain);
/* A domain waiting for postmap -q (copied into buf, lower case): true. */
bool mta_domains_next_query(struct mta_domains *m, char *buf, size_t size);
/* Postfix's answer for a queried domain: 1 local, 0 not, a negative errno
 * when it could not be asked (counted; the domain is then not local). */
void mta_domains_answer(struct mta_domains *m, const char *domain, int result);
/* Domains still waiting for an answer. */
unsigned int mta_domains_pending(const struct mta_domains *m);
const struct mta_stats *mta_domains_stats(const struct mta_domains *m);
/* Each listed domain (sub: its subdomains, not itself), in order; stops
 * at and returns the first non-zero return of fn. */
int mta_domains_for_each(const struct mta_domains *m,
			 int (*fn)(const char *domain, bool sub, void *ctx),
			 void *ctx);

#endif
