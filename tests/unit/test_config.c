// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The config file: defaults, every key, errors naming FILE:LINE, a bad file
 * leaving the previous config untouched, local domains and trusted nets. */
#include <arpa/inet.h>
#include <errno.h>
#include <pwd.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "unit.h"

static struct rg_conf conf, before;
static char err[512];

static void test_defaults(void **state)
{
	(void)state;
	conf_defaults(&conf);
	assert_int_equal(conf.ban_time, 3600);
	assert_int_equal(conf.ban_time_factor, 2);
	assert_int_equal(conf.ban_time_max, 7 * 86400);
	assert_int_equal(conf.dp.n_smtp_ports, 1);
	assert_int_equal(ntohs(conf.dp.smtp_ports[0]), 25);
	assert_int_equal(conf.dp.sample_bytes, 4096);
	assert_int_equal(conf.xdp_mode, XDP_ATTACH_AUTO);
	assert_int_equal(conf.max_flows, 200000);
	assert_string_equal(conf.state_dir, "/var/lib/relayguard");
	assert_string_equal(conf.event_log, "/var/log/relayguard/events.json");
	assert_int_equal(conf.n_local_domains, 0);
}

static void test_full_file(void **state)
{
	static const char text[] =
		"# a comment\n"
		"interfaces = eth0, eth1   # trailing comment\n"
		"smtp_ports = 25 587\n"
		"mode = monitor\n"
		"xdp_mode = generic\n"
		"local_domains = Example.COM, *.example.com\n"
		"trusted_networks = 127.0.0.0/8, ::1/128 192.0.2.0/24\n"
		"syn_rate = 5\n"
		"ipv6_prefix = 48\n"
		"sample_bytes = 8192\n"
		"ban_time = 90s\n"
		"ban_time_factor = 3\n"
		"ban_time_max = 2w\n"
		"score_threshold = 20\n"
		"score_window = 1h\n"
		"weight_pregreet = 0\n"
		"max_rcpts = 10\n"
		"max_flows = 1000\n"
		"flow_idle_timeout = 2m\n"
		"alert_command = /usr/bin/logger -t relayguard  -p mail.crit\n"
		"state_dir = /tmp/rg\n"
		"evidence_dir_max_bytes = 1G\n"
		"\n   \t\n";

	(void)state;
	assert_int_equal(conf_parse("t.conf", text, &conf, err, sizeof(err)), 0);
	assert_int_equal(conf.n_interfaces, 2);
	assert_string_equal(conf.interfaces[1], "eth1");
	assert_int_equal(conf.dp.n_smtp_ports, 2);
	assert_int_equal(ntohs(conf.dp.smtp_ports[1]), 587);
	assert_true(conf.dp.flags & RG_CFG_MONITOR);
	assert_int_equal(conf.xdp_mode, XDP_ATTACH_GENERIC);
	assert_int_equal(conf.n_local_domains, 2);
	assert_string_equal(conf.local_domains[0], "example.com");
	assert_int_equal(conf.n_trusted, 3);
	assert_int_equal(conf.dp.syn_rate, 5);
	assert_int_equal(conf.dp.ipv6_prefix, 48);
	assert_int_equal(conf.dp.sample_bytes, 8192);
	assert_int_equal(conf.ban_time, 90);
	assert_int_equal(conf.ban_time_factor, 3);
	assert_int_equal(conf.ban_time_max, 14 * 86400);
	assert_int_equal(conf.score_threshold, 20);
	assert_int_equal(conf.score_window, 3600);
	assert_int_equal(conf.weight_pregreet, 0);
	assert_int_equal(conf.max_rcpts, 10);
	assert_int_equal(conf.max_flows, 1000);
	assert_int_equal(conf.flow_idle_timeout, 120);
	assert_int_equal(conf.n_alert_args, 5);
	assert_string_equal(conf.alert_command[0], "/usr/bin/logger");
	assert_string_equal(conf.alert_command[4], "mail.crit");
	assert_string_equal(conf.state_dir, "/tmp/rg");
	assert_int_equal(conf.evidence_dir_max_bytes, 1ULL << 30);
	/* untouched keys keep their defaults */
	assert_int_equal(conf.weight_non_smtp, 10);
}

/* Table: text, the line the error must name, words it must contain. */
static void test_errors(void **state)
{
	static const struct {
		const char *text, *where, *what;
	} cases[] = {
		{ "bogus_key = 1\n", "bad.conf:1:", "unknown key 'bogus_key'" },
		{ "# ok\n\nban_time = 1x\n", "bad.conf:3:", "duration" },
		{ "ban_time = 0\n", "bad.conf:1:", "duration" },
		{ "ban_time 1h\n", "bad.conf:1:", "key = value" },
		{ "smtp_ports = 25, 70000\n", "bad.conf:1:", "65535" },
		{ "smtp_ports = 1 2 3 4 5 6 7 8 9\n", "bad.conf:1:", "8" },
		{ "mode = loud\n", "bad.conf:1:", "enforce" },
		{ "xdp_mode = turbo\n", "bad.conf:1:", "native" },
		{ "trusted_networks = 10.0.0.1/8\n", "bad.conf:1:", "host bits" },
		{ "trusted_networks = 300.1.1.1\n", "bad.conf:1:", "prefixes" },
		{ "local_domains = exa mple..com\n", "bad.conf:1:", "domain" },
		{ "local_domains = *.\n", "bad.conf:1:", "domain" },
		{ "ban_time_factor = 0\n", "bad.conf:1:", "from 1 to 100" },
		{ "max_flows = many\n", "bad.conf:1:", "number" },
		{ "state_dir = relative/path\n", "bad.conf:1:", "absolute" },
		{ "alert_command = logger -t x\n", "bad.conf:1:", "absolute" },
		{ "interfaces = averyveryverylongname0\n", "bad.conf:1:", "15" },
		{ "mode = enforce\nmode = monitor\n", "bad.conf:2:", "twice" },
		{ "ban_time =\n", "bad.conf:1:", "a value" },
		{ "ban_time = 2h\nban_time_max = 1h\n", "bad.conf:", "ban_time_max" },
		{ "evidence_dir_max_bytes = 12Q\n", "bad.conf:1:", "byte count" },
		{ "relay_attempts_ban = 0\n", "bad.conf:1:", "from 1 to 1000" },
		{ "policy_service = 127.0.0.1:10040\n", "bad.conf:1:", "inet:ADDRESS:PORT" },
		{ "policy_service = inet:localhost:10040\n", "bad.conf:1:", "inet:" },
		{ "policy_service = inet:127.0.0.1:0\n", "bad.conf:1:", "inet:" },
		{ "policy_service = unix:policy\n", "bad.conf:1:", "unix:/ABSOLUTE/PATH" },
		{ "policy_max_connections = 0\n", "bad.conf:1:", "from 1 to 100000" },
		{ "\npolicy_allowed_users = postfix, no-such-user-rg\n",
		  "bad.conf:2:", "users that exist" },
		{ "crowdsec_lapi_url = ftp://lapi:8080\n", "bad.conf:1:", "http:// or https://" },
		{ "crowdsec_lapi_url = lapi:8080\n", "bad.conf:1:", "http:// or https://" },
		{ "crowdsec_machine_id = gw 1\n", "bad.conf:1:", "letters, digits" },
		{ "crowdsec_machine_id = gw/1\n", "bad.conf:1:", "letters, digits" },
		{ "crowdsec_bouncer_key_file = key\n", "bad.conf:1:", "absolute path" },
		{ "crowdsec_poll_interval = 0\n", "bad.conf:1:", "from 1s to 3600s" },
		{ "crowdsec_poll_interval = 2h\n", "bad.conf:1:", "from 1s to 3600s" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_LEN(cases); i++) {
		conf_defaults(&conf);
		conf.max_flows = 4242; /* a "running" config */
		before = conf;
		err[0] = '\0';
		if (conf_parse("bad.conf", cases[i].text, &conf, err,
			       sizeof(err)) != -EINVAL)
			fail_msg("case %zu accepted: %s", i, cases[i].text);
		if (strncmp(err, cases[i].where, strlen(cases[i].where)) ||
		    !strstr(err, cases[i].what))
			fail_msg("case %zu: '%s' lacks '%s' / '%s'", i, err,
				 cases[i].where, cases[i].what);
		/* nothing half-applied */
		assert_memory_equal(&conf, &before, sizeof(conf));
	}
}

/* The keys of issue 13: defaults, and values as written. */
static void test_policy_keys(void **state)
{
	(void)state;
	conf_defaults(&conf);
	assert_int_equal(conf.relay_attempts_ban, 2);
	assert_string_equal(conf.policy_service, "");
	assert_int_equal(conf.policy_max_connections, 512);
	assert_int_equal(conf.max_rcpts, 100);
	assert_int_equal(conf_parse("ok.conf", "relay_attempts_ban = 1\n"
				    "policy_service = inet:[::1]:10040\n"
				    "policy_max_connections = 64\n",
				    &conf, err, sizeof(err)), 0);
	assert_int_equal(conf.relay_attempts_ban, 1);
	assert_string_equal(conf.policy_service, "inet:[::1]:10040");
	assert_int_equal(conf.policy_max_connections, 64);
	assert_int_equal(conf_parse("ok.conf", "policy_service = "
				    "unix:/var/spool/postfix/private/relayguard\n",
				    &conf, err, sizeof(err)), 0);
}

/* policy_allowed_users: names resolved to uids when the file is read;
 * the default is postfix where that user exists. */
static void test_policy_users(void **state)
{
	struct passwd *pf = getpwnam("postfix");

	(void)state;
	conf_defaults(&conf);
	assert_int_equal(conf.n_policy_allowed_uids, pf ? 1 : 0);
	if (pf)
		assert_int_equal(conf.policy_allowed_uids[0], pf->pw_uid);
	assert_int_equal(conf_parse("ok.conf",
				    "policy_allowed_users = nobody, root\n",
				    &conf, err, sizeof(err)),
			 0);
	assert_int_equal(conf.n_policy_allowed_uids, 2);
	assert_int_equal(conf.policy_allowed_uids[0], getpwnam("nobody")->pw_uid);
	assert_int_equal(conf.policy_allowed_uids[1], 0);
}

static void test_load_file(void **state)
{
	char path[] = "/tmp/test_config-XXXXXX";
	int fd = mkstemp(path);
	FILE *f;

	(void)state;
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	fputs("local_domains = example.test\nmax_rcpts = 7\nmax_rcpts = 8\n", f);
	fclose(f);
	conf_defaults(&conf);
	before = conf;
	assert_int_equal(conf_load(path, &conf, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, ":3: 'max_rcpts' is set twice"));
	assert_int_equal(strncmp(err, path, strlen(path)), 0);
	assert_memory_equal(&conf, &before, sizeof(conf));
	f = fopen(path, "w");
	fputs("local_domains = example.test\nmax_rcpts = 7\n", f);
	fclose(f);
	assert_int_equal(conf_load(path, &conf, err, sizeof(err)), 0);
	assert_int_equal(conf.max_rcpts, 7);
	unlink(path);
	assert_int_equal(conf_load(path, &conf, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "cannot open config"));
}

/* user/dist/NAME from the top of the tree or from build/; the test is
 * skipped where neither has it. */
static const char *dist_file(const char *name)
{
	static char path[256];

	snprintf(path, sizeof(path), "user/dist/%s", name);
	if (access(path, R_OK))
		snprintf(path, sizeof(path), "../user/dist/%s", name);
	if (access(path, R_OK))
		skip();
	return path;
}

/* The shipped example parses, and sets every key it documents. */
static void test_example_config(void **state)
{
	const char *path = dist_file("relayguard.conf");
	char line[512], key[64];
	unsigned int found = 0;
	size_t i;
	FILE *f;

	(void)state;
	assert_int_equal(conf_load(path, &conf, err, sizeof(err)), 0);
	/* every key appears (set or as a commented example) */
	for (i = 0; conf_key(i); i++) {
		f = fopen(path, "r");
		while (fgets(line, sizeof(line), f))
			if (sscanf(line, "%*[#]%63[a-z_0-9] =", key) == 1 ||
			    sscanf(line, "%63[a-z_0-9] =", key) == 1)
				if (!strcmp(key, conf_key(i))) {
					found++;
					break;
				}
		fclose(f);
	}
	assert_int_equal(found, i);
}

/* relayguard.conf(5) documents every key: each is named in the heading
 * (the .BR line after a .TP) of an entry. */
static void test_man_page(void **state)
{
	const char *path = dist_file("relayguard.conf.5");
	char line[512], *p;
	size_t i, n;
	bool found;
	FILE *f;

	(void)state;
	for (i = 0; conf_key(i); i++) {
		n = strlen(conf_key(i));
		found = false;
		f = fopen(path, "r");
		assert_non_null(f);
		while (!found && fgets(line, sizeof(line), f)) {
			if (strncmp(line, ".TP", 3) || !fgets(line, sizeof(line), f) ||
			    strncmp(line, ".BR ", 4))
				continue;
			for (p = line; !found && (p = strstr(p, conf_key(i))); p++)
				found = (p == line + 4 || p[-1] == ' ' ||
					 p[-1] == '"') &&
					(p[n] == ' ' || p[n] == '\n' ||
					 p[n] == '"');
		}
		fclose(f);
		if (!found)
			fail_msg("relayguard.conf(5) has no entry for %s",
				 conf_key(i));
	}
}

static void test_local_domains(void **state)
{
	static const struct {
		const char *domain;
		bool local;
	} cases[] = {
		{ "example.com", true },	 { "EXAMPLE.com", true },
		{ "example.com.", true },	 { "mx.example.com", false },
		{ "a.b.example.org", true },	 { "example.org", false },
		{ "badexample.org", false },	 { "evil.com", false },
		{ "example.com.evil.com", false }, { "", false },
	};
	size_t i;

	(void)state;
	assert_int_equal(conf_parse("d", "local_domains = example.com *.example.org\n",
				    &conf, err, sizeof(err)), 0);
	for (i = 0; i < ARRAY_LEN(cases); i++)
		if (conf_is_local_domain(&conf, cases[i].domain) != cases[i].local)
			fail_msg("%s", cases[i].domain);
}

static void test_trusted(void **state)
{
	struct prefix p;

	(void)state;
	assert_int_equal(conf_parse("t", "trusted_networks = 10.77.1.0/24 2001:db8::/32\n",
				    &conf, err, sizeof(err)), 0);
	parse_prefix("10.77.1.5", &p);
	assert_true(conf_is_trusted(&conf, &p));
	parse_prefix("10.77.2.5", &p);
	assert_false(conf_is_trusted(&conf, &p));
	parse_prefix("2001:db8:1::9", &p);
	assert_true(conf_is_trusted(&conf, &p));
	parse_prefix("2001:db9::9", &p);
	assert_false(conf_is_trusted(&conf, &p));
}

/* The crowdsec keys' defaults and values as written (their bad values
 * are test_errors' cases). */
static void test_crowdsec_keys(void **state)
{
	(void)state;
	assert_int_equal(conf_parse("c", "", &conf, err, sizeof(err)), 0);
	assert_string_equal(conf.crowdsec_lapi_url, ""); /* off */
	assert_int_equal(conf.crowdsec_poll_interval, 1);
	assert_int_equal(
		conf_parse("c",
			   "crowdsec_lapi_url = https://lapi.example:8080/\n"
			   "crowdsec_bouncer_key_file = /etc/relayguard/k\n"
			   "crowdsec_machine_id = relayguard-gw1@site.a\n"
			   "crowdsec_machine_password_file = /etc/relayguard/p\n"
			   "crowdsec_poll_interval = 10s\n",
			   &conf, err, sizeof(err)),
		0);
	assert_string_equal(conf.crowdsec_lapi_url,
			    "https://lapi.example:8080/");
	assert_string_equal(conf.crowdsec_machine_id, "relayguard-gw1@site.a");
	assert_int_equal(conf.crowdsec_poll_interval, 10);
}

UNIT_TEST_MAIN(cmocka_unit_test(test_defaults),
	       cmocka_unit_test(test_full_file), cmocka_unit_test(test_errors),
	       cmocka_unit_test(test_load_file),
	       cmocka_unit_test(test_example_config),
	       cmocka_unit_test(test_man_page),
	       cmocka_unit_test(test_policy_keys),
	       cmocka_unit_test(test_policy_users),
	       cmocka_unit_test(test_local_domains),
	       cmocka_unit_test(test_trusted),
	       cmocka_unit_test(test_crowdsec_keys))
