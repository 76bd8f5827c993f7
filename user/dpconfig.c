// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <arpa/inet.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include <bpf/bpf.h>

#include "dpconfig.h"
#include "names.h"
#include "parse.h"

const char *const dpconfig_keys[] = {
	"smtp_ports",
	"mode",
	"syn_rate",
	"syn_burst",
	"global_syn_rate",
	"global_syn_burst",
	"ipv6_prefix",
	"sample_bytes",
	NULL,
};

void dpconfig_defaults(struct rg_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->abi_version = RG_ABI_VERSION;
	cfg->smtp_ports[0] = htons(RG_DEFAULT_SMTP_PORT);
	cfg->n_smtp_ports = 1;
	cfg->ipv6_prefix = RG_DEFAULT_IPV6_PREFIX;
	cfg->syn_rate = 20;
	cfg->syn_burst = 40;
	cfg->sample_bytes = RG_DEFAULT_SAMPLE_BYTES;
}

unsigned int dpconfig_sample_bytes(const struct rg_config *cfg)
{
	return cfg->sample_bytes ? cfg->sample_bytes : RG_DEFAULT_SAMPLE_BYTES;
}

unsigned int dpconfig_ipv6_prefix(const struct rg_config *cfg)
{
	return cfg->ipv6_prefix ? cfg->ipv6_prefix : RG_DEFAULT_IPV6_PREFIX;
}

int dpconfig_store(int config_fd, struct rg_config *cfg)
{
	struct rg_config cur;
	__u32 key = 0;

	cfg->abi_version = RG_ABI_VERSION;
	if (!bpf_map_lookup_elem(config_fd, &key, &cur) && cur.hash_seed)
		cfg->hash_seed = cur.hash_seed;
	while (!cfg->hash_seed)
		if (getrandom(&cfg->hash_seed, sizeof(cfg->hash_seed), 0) < 0)
			return -errno;
	if (bpf_map_update_elem(config_fd, &key, cfg, BPF_ANY))
		return -errno;
	return 0;
}

static int add_port(const char *item, void *ctx)
{
	struct rg_config *cfg = ctx;
	unsigned long port;
	int i;

	if (parse_ulong(item, 1, 65535, &port))
		return -EINVAL;
	for (i = 0; i < cfg->n_smtp_ports; i++)
		if (cfg->smtp_ports[i] == htons(port))
			return 0;
	if (cfg->n_smtp_ports == RG_MAX_SMTP_PORTS)
		return -E2BIG;
	cfg->smtp_ports[cfg->n_smtp_ports++] = htons(port);
	return 0;
}

static int set_ports(struct rg_config *cfg, const char *value, const char **why)
{
	struct rg_config tmp = *cfg;
	int err;

	tmp.n_smtp_ports = 0;
	memset(tmp.smtp_ports, 0, sizeof(tmp.smtp_ports));
	err = parse_list(value, add_port, &tmp);
	if (err == -E2BIG) {
		*why = "at most 8 SMTP ports";
		return -EINVAL;
	}
	if (err || tmp.n_smtp_ports == 0) {
		*why = "a list of TCP ports 1-65535";
		return -EINVAL;
	}
	*cfg = tmp;
	return 0;
}

static int set_mode(struct rg_config *cfg, const char *value, const char **why)
{
	if (!strcmp(value, "enforce"))
		cfg->flags &= ~RG_CFG_MONITOR;
	else if (!strcmp(value, "monitor"))
		cfg->flags |= RG_CFG_MONITOR;
	else {
		*why = "'enforce' or 'monitor'";
		return -EINVAL;
	}
	return 0;
}

static int set_ipv6_prefix(struct rg_config *cfg, const char *value,
			   const char **why)
{
	unsigned long v;

	if (parse_ulong(value, 16, 128, &v)) {
		*why = "a prefix length from 16 to 128";
		return -EINVAL;
	}
	cfg->ipv6_prefix = v;
	return 0;
}

#define RATE_EXPECTED "a number from 0 (unlimited) to 1000000"

/* The keys whose value is one __u32 of struct rg_config. */
static const struct number_key {
	const char *name;
	size_t off;
	unsigned long min, max;
	const char *expected;
} number_keys[] = {
#define RATE(f)                                                                \
	{                                                                      \
#f, offsetof(struct rg_config, f), 0, 1000000, RATE_EXPECTED   \
	}
	RATE(syn_rate),
	RATE(syn_burst),
	RATE(global_syn_rate),
	RATE(global_syn_burst),
#undef RATE
	{ "sample_bytes", offsetof(struct rg_config, sample_bytes), 64, 65536,
	  "a byte count from 64 to 65536" },
};

static const struct number_key *number_key(const char *name)
{
	size_t i;

	for (i = 0; i < ARRAY_LEN(number_keys); i++)
		if (!strcmp(number_keys[i].name, name))
			return &number_keys[i];
	return NULL;
}

static __u32 *number_field(const struct rg_config *cfg,
			   const struct number_key *n)
{
	return (__u32 *)((char *)cfg + n->off);
}

static int set_number(struct rg_config *cfg, const struct number_key *n,
		      const char *value, const char **why)
{
	unsigned long v;

	if (parse_ulong(value, n->min, n->max, &v)) {
		*why = n->expected;
		return -EINVAL;
	}
	*number_field(cfg, n) = v;
	return 0;
}

int dpconfig_set(struct rg_config *cfg, const char *key, const char *value,
		 const char **why)
{
	const struct number_key *n = number_key(key);

	if (n)
		return set_number(cfg, n, value, why);
	if (!strcmp(key, "smtp_ports"))
		return set_ports(cfg, value, why);
	if (!strcmp(key, "mode"))
		return set_mode(cfg, value, why);
	if (!strcmp(key, "ipv6_prefix"))
		return set_ipv6_prefix(cfg, value, why);
	return -ENOENT;
}

static void ports_text(const struct rg_config *cfg, char *buf,
		       unsigned long size)
{
	unsigned long used = 0;
	int i;

	buf[0] = '\0';
	for (i = 0; i < cfg->n_smtp_ports && used < size; i++)
		used += snprintf(buf + used, size - used, "%s%u", i ? ", " : "",
				 ntohs(cfg->smtp_ports[i]));
}

int dpconfig_get(const struct rg_config *cfg, const char *key, char *buf,
		 unsigned long size)
{
	const struct number_key *n = number_key(key);

	if (n)
		snprintf(buf, size, "%u", *number_field(cfg, n));
	else if (!strcmp(key, "smtp_ports"))
		ports_text(cfg, buf, size);
	else if (!strcmp(key, "mode"))
		snprintf(buf, size, "%s",
			 cfg->flags & RG_CFG_MONITOR ? "monitor" : "enforce");
	else if (!strcmp(key, "ipv6_prefix"))
		snprintf(buf, size, "%u", cfg->ipv6_prefix);
	else
		return -ENOENT;
	return 0;
}
