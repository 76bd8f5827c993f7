// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* libFuzzer: bytes -> the policy service's parser, as a connection would
 * deliver them (split at the first input byte's value), every whole
 * request answered through the policy as the daemon would. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "clock.h"
#include "config.h"
#include "policy.h"
#include "policysvc.h"

static struct rg_conf conf;
static struct policy *policy;
static struct policysvc *svc;
static volatile size_t sink;

static void on_decide(void *ctx, const struct decision *d)
{
	(void)ctx;
	sink += d->action + strlen(d->code) + (d->rcpt_to ? strlen(d->rcpt_to) : 0);
}

static const struct policysvc_ops ops = { .decide = on_decide };

static void setup(void)
{
	char err[256];

	if (svc)
		return;
	conf_parse("fuzz", "local_domains = example.test\n"
			   "trusted_networks = 10.77.1.0/24\n",
		   &conf, err, sizeof(err));
	policy = policy_new(&conf);
	svc = policysvc_new(&conf, policy, &ops, NULL);
}

/* The connection's buffer: what conn_read() and serve() do with it. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char buf[PSVC_REQUEST_MAX];
	char out[PSVC_ANSWER_MAX];
	struct psvc_request r;
	size_t len = 0, step, take;
	const char *why;
	uint64_t now = NSEC_PER_SEC;
	int n;

	setup();
	if (!size)
		return 0;
	step = data[0] ? data[0] : 1;
	data++;
	size--;
	while (size) {
		take = step < size ? step : size;
		if (take > sizeof(buf) - len)
			take = sizeof(buf) - len;
		memcpy(buf + len, data, take);
		len += take;
		data += take;
		size -= take;
		while ((n = psvc_parse(buf, len, &r, &why)) > 0) {
			sink += policysvc_answer(svc, &r, now++, out,
						 sizeof(out));
			memmove(buf, buf + n, len - n);
			len -= n;
		}
		if (n < 0 || len == sizeof(buf))
			return 0; /* the connection is closed */
	}
	return 0;
}
