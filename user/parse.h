/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Parsing and printing of what operators type: addresses and prefixes,
 * durations, bounded numbers, reason names. Shared by the ctl command and
 * the config file so that both accept exactly the same forms. */
#ifndef RG_PARSE_H
#define RG_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* An IPv4 or IPv6 address with a prefix length (32/128 for a host). */
struct prefix {
	int family; /* AF_INET or AF_INET6 */
	unsigned int len;
	uint8_t addr[16]; /* network order; IPv4 in the first 4 bytes */
};

#define DURATION_PERMANENT UINT64_MAX
#define PREFIX_STRLEN	   64 /* "ffff:...:ffff/128" and a NUL fit */
#define DURATION_STRLEN	   32

/* "ADDR" or "ADDR/LEN". Host bits set beyond LEN are an error (-EINVAL),
 * as with `ip route`. Returns 0 or -EINVAL. */
int parse_prefix(const char *s, struct prefix *out);
/* "90", "90s", "15m", "1h", "2d", "1w" or "permanent" (DURATION_PERMANENT).
 * Zero and overflow are errors. Returns 0 or -EINVAL/-ERANGE. */
int parse_duration(const char *s, uint64_t *seconds);
/* Decimal, whole string, within [min, max]. Returns 0, -EINVAL or -ERANGE. */
int parse_ulong(const char *s, unsigned long min, unsigned long max,
		unsigned long *out);

/* Split a list separated by commas and/or white space and call each() on
 * every item (NUL-terminated, at most 255 bytes). Stops at the first
 * non-zero return and returns it; an overlong item gives -E2BIG. */
int parse_list(const char *s, int (*each)(const char *item, void *ctx),
	       void *ctx);

/* "192.0.2.1" for a host, "192.0.2.0/24" otherwise. */
/* d is a domain name (labels of letters, digits, - and _, at most 63
 * each), or a "*.domain" pattern. */
bool parse_domain(const char *d);

void format_prefix(const struct prefix *p, char *buf, size_t size);
/* "1h30m", "7d", "permanent". */
void format_duration(uint64_t seconds, char *buf, size_t size);

/* The length of one address of family: 32 or 128. */
unsigned int prefix_host_len(int family);
/* True if p names one address (/32, /128). */
bool prefix_is_host(const struct prefix *p);
/* True if a and b are the same prefix: family, length and address. */
bool prefix_equal(const struct prefix *a, const struct prefix *b);
/* True if match(&set[i], p) for one of set[0..n): match is prefix_equal,
 * prefix_contains (set[i] holds p) or prefix_overlaps. */
bool prefix_any(const struct prefix *set, size_t n, const struct prefix *p,
		bool (*match)(const struct prefix *, const struct prefix *));
/* Zero the bits beyond p->len. */
void prefix_mask(struct prefix *p);
/* True if inner lies within outer (same family, outer->len <= inner->len). */
bool prefix_contains(const struct prefix *outer, const struct prefix *inner);
/* True if the two prefixes share any address. */
bool prefix_overlaps(const struct prefix *a, const struct prefix *b);

/* enum rg_reason <-> snake_case name ("relay_attempt"). Unknown names give
 * -EINVAL; unknown values give "unknown". */
const char *reason_name(unsigned int reason);
int reason_from_name(const char *name);

#endif
