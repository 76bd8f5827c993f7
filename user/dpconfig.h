/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The data-plane keys of the runtime `config` map (struct rg_config), read
 * from text the same way by the config file and `relayguardctl config set`. */
#ifndef RG_DPCONFIG_H
#define RG_DPCONFIG_H

#include <stdbool.h>

#include "relayguard.h"

/* The values the data plane uses when a field is zero, made explicit. */
void dpconfig_defaults(struct rg_config *cfg);

/* What the data plane uses for the sampling budget and the IPv6 source
 * group: the configured value, or the default for zero (unset). */
unsigned int dpconfig_sample_bytes(const struct rg_config *cfg);
unsigned int dpconfig_ipv6_prefix(const struct rg_config *cfg);

/* Set one key from text. Keys: smtp_ports, mode, syn_rate, syn_burst,
 * global_syn_rate, global_syn_burst, ipv6_prefix, sample_bytes.
 * Returns 0; -ENOENT if key is not a data-plane key; -EINVAL with *why
 * saying what was expected. cfg is untouched on error. */
int dpconfig_set(struct rg_config *cfg, const char *key, const char *value,
		 const char **why);

/* The key names, NULL-terminated (for help, completion, `config show`). */
extern const char *const dpconfig_keys[];

/* Write cfg to the `config` map (fd), ABI version set and the map's
 * hash_seed kept (the flows and ratelimit slots hang on it), or a random
 * one made when the map has none. Returns 0 or -errno. */
int dpconfig_store(int config_fd, struct rg_config *cfg);

/* The text form of one key's value ("25, 587", "enforce", "20"). */
int dpconfig_get(const struct rg_config *cfg, const char *key, char *buf,
		 unsigned long size);

#endif
