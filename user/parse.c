// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "names.h"
#include "parse.h"
#include "relayguard.h"

int parse_ulong(const char *s, unsigned long min, unsigned long max,
		unsigned long *out)
{
	unsigned long v;
	char *end;

	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (*end)
		return -EINVAL;
	if (errno == ERANGE || v < min || v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

static bool host_bits_clear(const struct prefix *p)
{
	struct prefix masked = *p;

	prefix_mask(&masked);
	return !memcmp(masked.addr, p->addr, sizeof(p->addr));
}

int parse_prefix(const char *s, struct prefix *out)
{
	char addr[INET6_ADDRSTRLEN];
	const char *slash = strchr(s, '/');
	size_t addr_len = slash ? (size_t)(slash - s) : strlen(s);
	unsigned long len;
	struct prefix p = { 0 };

	if (addr_len == 0 || addr_len >= sizeof(addr))
		return -EINVAL;
	memcpy(addr, s, addr_len);
	addr[addr_len] = '\0';
	if (inet_pton(AF_INET, addr, p.addr) == 1)
		p.family = AF_INET;
	else if (inet_pton(AF_INET6, addr, p.addr) == 1)
		p.family = AF_INET6;
	else
		return -EINVAL;
	p.len = prefix_host_len(p.family);
	if (slash) {
		if (parse_ulong(slash + 1, 0, p.len, &len))
			return -EINVAL;
		p.len = len;
	}
	if (!host_bits_clear(&p))
		return -EINVAL;
	*out = p;
	return 0;
}

int parse_list(const char *s, int (*each)(const char *item, void *ctx),
	       void *ctx)
{
	static const char separators[] = ", \t\r\n";
	char item[256];
	size_t n;
	int err;

	for (;;) {
		s += strspn(s, separators);
		n = strcspn(s, separators);
		if (n == 0)
			return 0;
		if (n >= sizeof(item))
			return -E2BIG;
		memcpy(item, s, n);
		item[n] = '\0';
		err = each(item, ctx);
		if (err)
			return err;
		s += n;
	}
}

static const struct {
	char suffix;
	uint64_t seconds;
} duration_units[] = {
	{ 'w', 7 * 86400 }, { 'd', 86400 }, { 'h', 3600 },
	{ 'm', 60 },	    { 's', 1 },
};

int parse_duration(const char *s, uint64_t *seconds)
{
	char digits[24];
	size_t n = strlen(s);
	uint64_t unit = 1;
	unsigned long v;
	size_t i;

	if (!strcmp(s, "permanent")) {
		*seconds = DURATION_PERMANENT;
		return 0;
	}
	if (n == 0 || n >= sizeof(digits))
		return -EINVAL;
	memcpy(digits, s, n + 1);
	for (i = 0; i < ARRAY_LEN(duration_units); i++) {
		if (digits[n - 1] == duration_units[i].suffix) {
			unit = duration_units[i].seconds;
			digits[--n] = '\0';
			break;
		}
	}
	if (parse_ulong(digits, 1, ULONG_MAX, &v))
		return -EINVAL;
	if (v > (UINT64_MAX - 1) / unit)
		return -ERANGE;
	*seconds = v * unit;
	return 0;
}

void format_prefix(const struct prefix *p, char *buf, size_t size)
{
	char addr[INET6_ADDRSTRLEN] = "?";

	inet_ntop(p->family, p->addr, addr, sizeof(addr));
	if (prefix_is_host(p))
		snprintf(buf, size, "%s", addr);
	else
		snprintf(buf, size, "%s/%u", addr, p->len);
}

void format_duration(uint64_t seconds, char *buf, size_t size)
{
	size_t used = 0;
	size_t i;

	if (seconds == DURATION_PERMANENT) {
		snprintf(buf, size, "permanent");
		return;
	}
	if (seconds == 0) {
		snprintf(buf, size, "0s");
		return;
	}
	buf[0] = '\0';
	for (i = 0; i < ARRAY_LEN(duration_units); i++) {
		uint64_t n = seconds / duration_units[i].seconds;

		if (!n || used >= size)
			continue;
		used += snprintf(buf + used, size - used, "%llu%c",
				 (unsigned long long)n,
				 duration_units[i].suffix);
		seconds %= duration_units[i].seconds;
	}
}

void prefix_mask(struct prefix *p)
{
	unsigned int bytes = p->len / 8, bits = p->len % 8;

	if (bytes >= sizeof(p->addr))
		return;
	if (bits)
		p->addr[bytes++] &= (uint8_t)(0xff << (8 - bits));
	memset(p->addr + bytes, 0, sizeof(p->addr) - bytes);
}

unsigned int prefix_host_len(int family)
{
	return family == AF_INET ? 32 : 128;
}

bool prefix_is_host(const struct prefix *p)
{
	return p->len == prefix_host_len(p->family);
}

bool prefix_equal(const struct prefix *a, const struct prefix *b)
{
	return a->family == b->family && a->len == b->len &&
	       !memcmp(a->addr, b->addr, sizeof(a->addr));
}

bool prefix_any(const struct prefix *set, size_t n, const struct prefix *p,
		bool (*match)(const struct prefix *, const struct prefix *))
{
	size_t i;

	for (i = 0; i < n; i++)
		if (match(&set[i], p))
			return true;
	return false;
}

bool prefix_contains(const struct prefix *outer, const struct prefix *inner)
{
	struct prefix masked = *inner;

	if (outer->family != inner->family || outer->len > inner->len)
		return false;
	masked.len = outer->len;
	prefix_mask(&masked);
	return !memcmp(masked.addr, outer->addr, sizeof(masked.addr));
}

bool prefix_overlaps(const struct prefix *a, const struct prefix *b)
{
	return prefix_contains(a, b) || prefix_contains(b, a);
}

static const char *const reason_names[] = {
	[RG_REASON_NONE] = "none",
	[RG_REASON_MANUAL] = "manual",
	[RG_REASON_RELAY_ATTEMPT] = "relay_attempt",
	[RG_REASON_RELAY_ACCEPTED] = "relay_accepted",
	[RG_REASON_RELAY_PROBE] = "relay_probe",
	[RG_REASON_PREGREET] = "pregreet",
	[RG_REASON_NON_SMTP] = "non_smtp",
	[RG_REASON_AUTH_FAILURE] = "auth_failure",
	[RG_REASON_TOO_MANY_RCPTS] = "too_many_rcpts",
	[RG_REASON_SESSION_RATE] = "session_rate",
	[RG_REASON_ABUSE_SCORE] = "abuse_score",
	[RG_REASON_IMPORTED] = "imported",
	[RG_REASON_ENVELOPE_PADDING] = "envelope_padding",
	[RG_REASON_STREAM_CONFLICT] = "stream_conflict",
	[RG_REASON_UNAUTH_PIPELINING] = "unauth_pipelining",
	[RG_REASON_IPV6_ROTATION] = "ipv6_rotation",
};
_Static_assert(ARRAY_LEN(reason_names) == RG_REASON_MAX,
	       "a name for the last enum rg_reason");

const char *reason_name(unsigned int reason)
{
	return name_of(reason_names, reason, "unknown");
}

int reason_from_name(const char *name)
{
	return name_index(reason_names, name);
}

bool parse_domain(const char *d)
{
	const char *p = d;
	size_t label = 0;

	if (!strncmp(p, "*.", 2))
		p += 2;
	if (!*p)
		return false;
	for (; *p; p++) {
		if (*p == '.') {
			if (label == 0)
				return false;
			label = 0;
			continue;
		}
		if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_')
			return false;
		if (++label > 63)
			return false;
	}
	return label > 0;
}
