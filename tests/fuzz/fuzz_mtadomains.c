// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* libFuzzer: bytes -> what relayguardd reads from postconf and postmap
 * (the first byte picks which), then the list asked about each word of
 * the input and about its per-domain answers, as the daemon would. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mtadomains.h"

static volatile size_t sink;

static void ask_words(struct mta_domains *m, const char *text, size_t len)
{
	char word[300], q[MTA_DOMAIN_LEN];
	size_t i = 0, n;

	while (i < len) {
		n = strcspn(text + i, " \t\n,=");
		if (n && n < sizeof(word)) {
			memcpy(word, text + i, n);
			word[n] = '\0';
			sink += mta_domains_match(m, word);
		}
		i += n + 1;
	}
	while (mta_domains_next_query(m, q, sizeof(q)))
		mta_domains_answer(m, q, (int)(q[0] & 1));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mta_domains *m, *live;
	char err[256], *text;

	if (!size)
		return 0;
	m = mta_domains_new();
	live = mta_domains_new();
	text = malloc(size);
	if (!m || !live || !text)
		abort();
	memcpy(text, data + 1, size - 1);
	text[size - 1] = '\0';
	if (data[0] & 1)
		mta_parse_postconf(m, text, size - 1, err, sizeof(err));
	else
		mta_parse_keys(m, text, size - 1, data[0] & 2, err,
			       sizeof(err));
	mta_domains_finish(m);
	mta_domains_replace(live, m);
	ask_words(live, text, strlen(text));
	sink += mta_domains_stats(live)->domains;
	mta_domains_free(m);
	mta_domains_free(live);
	free(text);
	return 0;
}
