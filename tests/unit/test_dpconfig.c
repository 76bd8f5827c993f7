// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Data-plane config keys: the same text gives the same struct rg_config
 * whether it comes from the config file or `relayguardctl config set`. */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "dpconfig.h"
#include "unit.h"

static void test_defaults(void **state)
{
	struct rg_config cfg;
	char buf[64];

	(void)state;
	dpconfig_defaults(&cfg);
	assert_int_equal(cfg.abi_version, RG_ABI_VERSION);
	assert_int_equal(cfg.n_smtp_ports, 1);
	assert_int_equal(ntohs(cfg.smtp_ports[0]), 25);
	assert_int_equal(cfg.ipv6_prefix, 64);
	assert_int_equal(dpconfig_get(&cfg, "mode", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "enforce");
}

static void test_ports(void **state)
{
	struct rg_config cfg;
	const char *why = NULL;
	char buf[64];

	(void)state;
	dpconfig_defaults(&cfg);
	assert_int_equal(dpconfig_set(&cfg, "smtp_ports", "25, 587 465 25", &why), 0);
	assert_int_equal(cfg.n_smtp_ports, 3);
	assert_int_equal(ntohs(cfg.smtp_ports[2]), 465);
	assert_int_equal(dpconfig_get(&cfg, "smtp_ports", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "25, 587, 465");

	assert_int_equal(dpconfig_set(&cfg, "smtp_ports", "1 2 3 4 5 6 7 8 9", &why),
			 -EINVAL);
	assert_string_equal(why, "at most 8 SMTP ports");
	assert_int_equal(cfg.n_smtp_ports, 3); /* untouched on error */
	assert_int_equal(dpconfig_set(&cfg, "smtp_ports", "0", &why), -EINVAL);
	assert_int_equal(dpconfig_set(&cfg, "smtp_ports", "65536", &why), -EINVAL);
	assert_int_equal(dpconfig_set(&cfg, "smtp_ports", "", &why), -EINVAL);
	assert_int_equal(dpconfig_set(&cfg, "smtp_ports", "25,x", &why), -EINVAL);
	assert_int_equal(cfg.n_smtp_ports, 3);
}

static const struct {
	const char *key, *value;
	int err;
} set_cases[] = {
	{ "mode", "monitor", 0 },
	{ "mode", "enforce", 0 },
	{ "mode", "Monitor", -EINVAL },
	{ "syn_rate", "0", 0 },
	{ "syn_rate", "1000000", 0 },
	{ "syn_rate", "1000001", -EINVAL },
	{ "syn_rate", "-1", -EINVAL },
	{ "syn_burst", "40", 0 },
	{ "global_syn_rate", "5000", 0 },
	{ "global_syn_burst", "abc", -EINVAL },
	{ "ipv6_prefix", "48", 0 },
	{ "ipv6_prefix", "15", -EINVAL },
	{ "ipv6_prefix", "129", -EINVAL },
	{ "sample_bytes", "4096", 0 },
	{ "sample_bytes", "63", -EINVAL },
	{ "no_such_key", "1", -ENOENT },
};

static void test_set_table(void **state)
{
	struct rg_config cfg, before;
	const char *why;
	char buf[64];
	size_t i;

	(void)state;
	dpconfig_defaults(&cfg);
	for (i = 0; i < ARRAY_LEN(set_cases); i++) {
		print_message("%s = %s\n", set_cases[i].key, set_cases[i].value);
		before = cfg;
		why = NULL;
		assert_int_equal(dpconfig_set(&cfg, set_cases[i].key,
					      set_cases[i].value, &why),
				 set_cases[i].err);
		if (set_cases[i].err) {
			assert_memory_equal(&cfg, &before, sizeof(cfg));
			if (set_cases[i].err == -EINVAL)
				assert_non_null(why);
			continue;
		}
		assert_int_equal(dpconfig_get(&cfg, set_cases[i].key, buf,
					      sizeof(buf)), 0);
		assert_string_equal(buf, set_cases[i].value);
	}
}

static void test_every_key_round_trips(void **state)
{
	struct rg_config cfg, copy;
	const char *const *key;
	const char *why;
	char buf[64];

	(void)state;
	dpconfig_defaults(&cfg);
	for (key = dpconfig_keys; *key; key++) {
		assert_int_equal(dpconfig_get(&cfg, *key, buf, sizeof(buf)), 0);
		copy = cfg;
		assert_int_equal(dpconfig_set(&copy, *key, buf, &why), 0);
		assert_memory_equal(&copy, &cfg, sizeof(cfg));
	}
}

UNIT_TEST_MAIN(cmocka_unit_test(test_defaults), cmocka_unit_test(test_ports),
	       cmocka_unit_test(test_set_table),
	       cmocka_unit_test(test_every_key_round_trips))
