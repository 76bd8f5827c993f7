// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The config file: see config.h and user/dist/relayguard.conf. */
#include <ctype.h>
#include <errno.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "dpconfig.h"
#include "mtadomains.h"
#include "names.h"
#include "sockspec.h"

#define CONF_MAX_FILE (1U << 20)

static int add_policy_user(const char *item, void *ctx);

void conf_defaults(struct rg_conf *c)
{
	memset(c, 0, sizeof(*c));
	dpconfig_defaults(&c->dp);
	c->xdp_mode = XDP_ATTACH_AUTO;
	c->ban_time = 3600;
	c->ban_time_factor = 2;
	c->ban_time_max = 7 * 86400;
	c->score_threshold = 10;
	c->score_window = 600;
	c->weight_pregreet = 5;
	c->weight_non_smtp = 10;
	c->weight_auth_failure = 2;
	c->weight_too_many_rcpts = 5;
	c->weight_session_rate = 5;
	c->weight_envelope_padding = 10;
	c->max_rcpts = 100; /* RFC 5321 4.5.3.1.8: servers take at least 100 */
	c->sessions_per_minute = 60;
	c->auth_failures_ban = 5;
	c->relay_attempts_ban = 2;
	c->ipv6_escalate = 3;
	c->policy_max_connections = 512;
	add_policy_user("postfix", c); /* none without Postfix: root only */
	c->max_flows = 200000;
	c->flow_idle_timeout = 300;
	c->flow_max_bytes = 16384;
	c->alert_timeout = 10;
	snprintf(c->state_dir, sizeof(c->state_dir), "/var/lib/relayguard");
	snprintf(c->event_log, sizeof(c->event_log),
		 "/var/log/relayguard/events.json");
	snprintf(c->pid_file, sizeof(c->pid_file), "%s", CONF_PID_FILE_DEFAULT);
	c->snapshot_interval = 60;
	c->evidence_dir_max_bytes = 64ULL << 20;
	c->metrics_interval = 300;
	c->scheduling = (struct priority)PRIORITY_DEFAULT;
	c->crowdsec_poll_interval = 1;
}

/* ---- value parsers: each returns 0 or -EINVAL with *why set ---- */

struct key;
typedef int (*setter_fn)(struct rg_conf *c, const struct key *k,
			 const char *value, const char **why);

struct key {
	const char *name;
	setter_fn set;
	size_t off;		/* offsetof the field in struct rg_conf */
	unsigned long min, max; /* numbers */
};

#define FIELD(c, k, type) ((type *)((char *)(c) + (k)->off))

static int set_uint(struct rg_conf *c, const struct key *k, const char *value,
		    const char **why)
{
	static char expected[96];
	unsigned long v;

	if (parse_ulong(value, k->min, k->max, &v)) {
		snprintf(expected, sizeof(expected), "a number from %lu to %lu",
			 k->min, k->max);
		*why = expected;
		return -EINVAL;
	}
	*FIELD(c, k, unsigned int) = v;
	return 0;
}

static int set_duration(struct rg_conf *c, const struct key *k,
			const char *value, const char **why)
{
	static char expected[128];
	uint64_t v;

	if (parse_duration(value, &v) || v == DURATION_PERMANENT ||
	    v < k->min || v > k->max) {
		snprintf(
			expected, sizeof(expected),
			"a duration like 90s, 15m, 1h, 2d, 1w (from %lus to %lus)",
			k->min, k->max);
		*why = expected;
		return -EINVAL;
	}
	*FIELD(c, k, uint64_t) = v;
	return 0;
}

/* "1048576", "64k", "64M", "1G" */
static int set_size(struct rg_conf *c, const struct key *k, const char *value,
		    const char **why)
{
	char digits[32];
	uint64_t unit = 1;
	unsigned long v;
	size_t n = strlen(value);

	*why = "a byte count, optionally with a k, M or G suffix (0: none)";
	if (n == 0 || n >= sizeof(digits))
		return -EINVAL;
	memcpy(digits, value, n + 1);
	switch (digits[n - 1]) {
	case 'k':
	case 'K':
		unit = 1ULL << 10;
		break;
	case 'm':
	case 'M':
		unit = 1ULL << 20;
		break;
	case 'g':
	case 'G':
		unit = 1ULL << 30;
		break;
	}
	if (unit != 1)
		digits[--n] = '\0';
	if (parse_ulong(digits, 0, (1ULL << 50) / unit, &v))
		return -EINVAL;
	*FIELD(c, k, uint64_t) = (uint64_t)v * unit;
	return 0;
}

static int set_path(struct rg_conf *c, const struct key *k, const char *value,
		    const char **why)
{
	char *dst = FIELD(c, k, char);
	size_t n = strlen(value);

	if (value[0] != '/' || n >= CONF_PATH_LEN || strpbrk(value, " \t")) {
		*why = "an absolute path without spaces, shorter than 256 bytes";
		return -EINVAL;
	}
	memcpy(dst, value, n + 1);
	return 0;
}

/* value into k's CONF_PATH_LEN field when ok (and it fits), else why. */
static int set_text(struct rg_conf *c, const struct key *k, const char *value,
		    bool ok, const char *expected, const char **why)
{
	size_t n = strlen(value);

	if (!ok || !n || n >= CONF_PATH_LEN) {
		*why = expected;
		return -EINVAL;
	}
	memcpy(FIELD(c, k, char), value, n + 1);
	return 0;
}

static int set_url(struct rg_conf *c, const struct key *k, const char *value,
		   const char **why)
{
	bool ok = (!strncmp(value, "http://", 7) ||
		   !strncmp(value, "https://", 8)) &&
		  !strpbrk(value, " \t");

	return set_text(c, k, value, ok,
			"an http:// or https:// URL without spaces, shorter "
			"than 256 bytes",
			why);
}

static int set_name(struct rg_conf *c, const struct key *k, const char *value,
		    const char **why)
{
	bool ok = value[strspn(value, "abcdefghijklmnopqrstuvwxyz"
				      "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				      "0123456789._@-")] == '\0';

	return set_text(c, k, value, ok,
			"a name of letters, digits and . _ @ -, shorter than "
			"256 bytes",
			why);
}

static int add_interface(const char *item, void *ctx)
{
	struct rg_conf *c = ctx;
	unsigned int i;

	if (strlen(item) >= IF_NAMESIZE || strchr(item, '/'))
		return -EINVAL;
	for (i = 0; i < c->n_interfaces; i++)
		if (!strcmp(c->interfaces[i], item))
			return 0;
	if (c->n_interfaces == CONF_MAX_INTERFACES)
		return -E2BIG;
	snprintf(c->interfaces[c->n_interfaces++], IF_NAMESIZE, "%s", item);
	return 0;
}

/* local_domains = postfix:DIR: what that Postfix receives for. */
static int add_postfix_dir(struct rg_conf *c, const char *dir)
{
	if (dir[0] != '/' || strlen(dir) >= sizeof(c->local_domains_postfix) ||
	    c->local_domains_postfix[0])
		return -EINVAL;
	snprintf(c->local_domains_postfix, sizeof(c->local_domains_postfix),
		 "%s", dir);
	return 0;
}

static int add_domain(const char *item, void *ctx)
{
	struct rg_conf *c = ctx;
	char *dst;
	size_t i;

	if (!strncmp(item, "postfix:", 8))
		return add_postfix_dir(c, item + 8);
	if (!parse_domain(item) || strlen(item) >= CONF_DOMAIN_LEN)
		return -EINVAL;
	if (c->n_local_domains == CONF_MAX_DOMAINS)
		return -E2BIG;
	dst = c->local_domains[c->n_local_domains++];
	for (i = 0; item[i]; i++)
		dst[i] = tolower((unsigned char)item[i]);
	dst[i] = '\0';
	return 0;
}

static int add_trusted(const char *item, void *ctx)
{
	struct rg_conf *c = ctx;
	struct prefix p;

	if (parse_prefix(item, &p))
		return -EINVAL;
	if (c->n_trusted == CONF_MAX_TRUSTED)
		return -E2BIG;
	c->trusted[c->n_trusted++] = p;
	return 0;
}

/* A user name resolved now: a user that does not exist is an error of the
 * file, not a silent "nobody may ask" found when Postfix is refused. */
static int add_policy_user(const char *item, void *ctx)
{
	struct rg_conf *c = ctx;
	struct passwd *pw = getpwnam(item);

	if (!pw)
		return -EINVAL;
	if (c->n_policy_allowed_uids == CONF_MAX_POLICY_USERS)
		return -E2BIG;
	c->policy_allowed_uids[c->n_policy_allowed_uids++] = pw->pw_uid;
	return 0;
}

/* The keys whose value is a list: items added one by one to a counted
 * array, at most the array's size. */
static const struct list_key {
	size_t count_off; /* the key's off: the count in struct rg_conf */
	int (*add)(const char *item, void *ctx);
	const char *too_many, *bad_item; /* what was expected */
} list_keys[] = {
	{ offsetof(struct rg_conf, n_interfaces), add_interface,
	  "at most 16 interfaces", "interface names of at most 15 characters" },
	{ offsetof(struct rg_conf, n_local_domains), add_domain,
	  "at most 64 local domains",
	  "domain names (example.com), *.domain patterns or one "
	  "postfix:/absolute/config/dir" },
	{ offsetof(struct rg_conf, n_trusted), add_trusted,
	  "at most 64 trusted networks",
	  "addresses or prefixes (192.0.2.0/24, 2001:db8::/32) with no host "
	  "bits set" },
	{ offsetof(struct rg_conf, n_policy_allowed_uids), add_policy_user,
	  "at most 16 policy users", "names of users that exist here" },
};

static int set_list(struct rg_conf *c, const struct key *k, const char *value,
		    const char **why)
{
	const struct list_key *l = list_keys;
	int err;

	while (l->count_off != k->off)
		l++;
	*FIELD(c, k, unsigned int) = 0;
	err = parse_list(value, l->add, c);
	if (err == -E2BIG)
		*why = l->too_many;
	else if (err)
		*why = l->bad_item;
	return err ? -EINVAL : 0;
}

static int set_xdp_mode(struct rg_conf *c, const struct key *k,
			const char *value, const char **why)
{
	enum xdp_attach_mode m;

	(void)k;
	if (xdp_attach_mode_parse(value, &m)) {
		*why = "'native', 'generic' or 'auto'";
		return -EINVAL;
	}
	c->xdp_mode = m;
	return 0;
}

/* Words separated by blanks; no shell, no quoting: the first word is an
 * absolute program path. */
static int set_alert_command(struct rg_conf *c, const struct key *k,
			     const char *value, const char **why)
{
	const char *s = value;
	unsigned int n = 0;
	size_t len;

	(void)k;
	*why = "an absolute program path and up to 15 arguments, "
	       "separated by blanks (run without a shell)";
	if (value[0] != '/')
		return -EINVAL;
	for (;;) {
		s += strspn(s, " \t");
		len = strcspn(s, " \t");
		if (len == 0)
			break;
		if (n == CONF_MAX_ALERT_ARGS || len >= CONF_ALERT_ARG_LEN)
			return -EINVAL;
		memcpy(c->alert_command[n], s, len);
		c->alert_command[n][len] = '\0';
		n++;
		s += len;
	}
	c->n_alert_args = n;
	return 0;
}

static int set_scheduling(struct rg_conf *c, const struct key *k,
			  const char *value, const char **why)
{
	(void)k;
	return priority_parse(value, &c->scheduling, why);
}

static int set_policy_service(struct rg_conf *c, const struct key *k,
			      const char *value, const char **why)
{
	struct sockspec a;

	(void)k;
	*why = "inet:ADDRESS:PORT (inet:127.0.0.1:10040, inet:[::1]:10040) "
	       "or unix:/ABSOLUTE/PATH";
	if (strlen(value) >= sizeof(c->policy_service) ||
	    sockspec_parse(value, &a))
		return -EINVAL;
	snprintf(c->policy_service, sizeof(c->policy_service), "%s", value);
	return 0;
}

static int set_dp(struct rg_conf *c, const struct key *k, const char *value,
		  const char **why)
{
	return dpconfig_set(&c->dp, k->name, value, why) ? -EINVAL : 0;
}

#define OFF(f) offsetof(struct rg_conf, f)
#define DAY    86400UL
#define YEAR   (366 * DAY)

static const struct key keys[] = {
	{ "interfaces", set_list, OFF(n_interfaces), 0, 0 },
	{ "xdp_mode", set_xdp_mode, 0, 0, 0 },
	{ "smtp_ports", set_dp, 0, 0, 0 },
	{ "mode", set_dp, 0, 0, 0 },
	{ "syn_rate", set_dp, 0, 0, 0 },
	{ "syn_burst", set_dp, 0, 0, 0 },
	{ "global_syn_rate", set_dp, 0, 0, 0 },
	{ "global_syn_burst", set_dp, 0, 0, 0 },
	{ "ipv6_prefix", set_dp, 0, 0, 0 },
	{ "sample_bytes", set_dp, 0, 0, 0 },
	{ "local_domains", set_list, OFF(n_local_domains), 0, 0 },
	{ "trusted_networks", set_list, OFF(n_trusted), 0, 0 },
	{ "ban_time", set_duration, OFF(ban_time), 1, YEAR },
	{ "ban_time_factor", set_uint, OFF(ban_time_factor), 1, 100 },
	{ "ban_time_max", set_duration, OFF(ban_time_max), 1, 10 * YEAR },
	{ "score_threshold", set_uint, OFF(score_threshold), 1, 1000000 },
	{ "score_window", set_duration, OFF(score_window), 1, 30 * DAY },
	{ "weight_pregreet", set_uint, OFF(weight_pregreet), 0, 1000000 },
	{ "weight_non_smtp", set_uint, OFF(weight_non_smtp), 0, 1000000 },
	{ "weight_auth_failure", set_uint, OFF(weight_auth_failure), 0,
	  1000000 },
	{ "weight_too_many_rcpts", set_uint, OFF(weight_too_many_rcpts), 0,
	  1000000 },
	{ "weight_session_rate", set_uint, OFF(weight_session_rate), 0,
	  1000000 },
	{ "weight_envelope_padding", set_uint, OFF(weight_envelope_padding), 0,
	  1000000 },
	{ "max_rcpts", set_uint, OFF(max_rcpts), 1, 100000 },
	{ "sessions_per_minute", set_uint, OFF(sessions_per_minute), 1,
	  1000000 },
	{ "auth_failures_ban", set_uint, OFF(auth_failures_ban), 0, 100000 },
	{ "relay_attempts_ban", set_uint, OFF(relay_attempts_ban), 1, 1000 },
	{ "ipv6_escalate", set_uint, OFF(ipv6_escalate), 0, 16 },
	{ "policy_service", set_policy_service, 0, 0, 0 },
	{ "policy_max_connections", set_uint, OFF(policy_max_connections), 1,
	  100000 },
	{ "policy_allowed_users", set_list, OFF(n_policy_allowed_uids), 0, 0 },
	{ "max_flows", set_uint, OFF(max_flows), 16, 4000000 },
	{ "flow_idle_timeout", set_duration, OFF(flow_idle_timeout), 1, DAY },
	{ "flow_max_bytes", set_uint, OFF(flow_max_bytes), 512, 1048576 },
	{ "alert_command", set_alert_command, 0, 0, 0 },
	{ "alert_timeout", set_duration, OFF(alert_timeout), 1, 3600 },
	{ "state_dir", set_path, OFF(state_dir), 0, 0 },
	{ "event_log", set_path, OFF(event_log), 0, 0 },
	{ "pid_file", set_path, OFF(pid_file), 0, 0 },
	{ "snapshot_interval", set_duration, OFF(snapshot_interval), 1, DAY },
	{ "evidence_dir_max_bytes", set_size, OFF(evidence_dir_max_bytes), 0,
	  0 },
	{ "metrics_interval", set_duration, OFF(metrics_interval), 1, DAY },
	{ "scheduling", set_scheduling, 0, 0, 0 },
	{ "crowdsec_lapi_url", set_url, OFF(crowdsec_lapi_url), 0, 0 },
	{ "crowdsec_bouncer_key_file", set_path, OFF(crowdsec_bouncer_key_file),
	  0, 0 },
	{ "crowdsec_machine_id", set_name, OFF(crowdsec_machine_id), 0, 0 },
	{ "crowdsec_machine_password_file", set_path,
	  OFF(crowdsec_machine_password_file), 0, 0 },
	{ "crowdsec_poll_interval", set_duration, OFF(crowdsec_poll_interval),
	  1, 3600 },
};

#define N_KEYS (ARRAY_LEN(keys))

const char *conf_key(unsigned int i)
{
	return i < N_KEYS ? keys[i].name : NULL;
}

static const struct key *find_key(const char *name)
{
	int i = name_index_by(keys, N_KEYS, name, name);

	return i < 0 ? NULL : &keys[i];
}

/* ---- lines ---- */

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t' || *s == '\r')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		*--e = '\0';
	return s;
}

/* "name:lineno: " and the message into err; -EINVAL. */
static int __attribute__((format(printf, 5, 6)))
line_error(char *err, size_t errlen, const char *name, unsigned int lineno,
	   const char *fmt, ...)
{
	int n = snprintf(err, errlen, "%s:%u: ", name, lineno);
	va_list ap;

	if (n >= 0 && (size_t)n < errlen) {
		va_start(ap, fmt);
		vsnprintf(err + n, errlen - n, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

/* One line, NUL-terminated and writable. Returns 0 or -EINVAL with err. */
static int parse_line(struct rg_conf *c, char *line, bool *seen,
		      const char *name, unsigned int lineno, char *err,
		      size_t errlen)
{
	const struct key *k;
	const char *why = "";
	char *eq, *hash, *key, *value;

	hash = strchr(line, '#');
	if (hash)
		*hash = '\0';
	line = trim(line);
	if (!*line)
		return 0;
	eq = strchr(line, '=');
	if (!eq)
		return line_error(err, errlen, name, lineno,
				  "'%.64s' is not a setting, expected "
				  "'key = value'",
				  line);
	*eq = '\0';
	key = trim(line);
	value = trim(eq + 1);
	k = find_key(key);
	if (!k)
		return line_error(err, errlen, name, lineno,
				  "unknown key '%.64s', expected one of the "
				  "keys in relayguard.conf(5)",
				  key);
	if (seen[k - keys])
		return line_error(err, errlen, name, lineno,
				  "'%s' is set twice, expected each key once",
				  key);
	seen[k - keys] = true;
	if (!*value || k->set(c, k, value, &why))
		return line_error(err, errlen, name, lineno,
				  "bad value '%.64s' for %s, expected %s",
				  value, key,
				  *value ? why : "a value after '='");
	return 0;
}

static int check_whole(const struct rg_conf *c, const char *name, char *err,
		       size_t errlen)
{
	if (c->ban_time_max < c->ban_time) {
		snprintf(err, errlen,
			 "%s: ban_time_max is shorter than ban_time, "
			 "expected ban_time_max >= ban_time",
			 name);
		return -EINVAL;
	}
	return 0;
}

int conf_parse(const char *name, const char *text, struct rg_conf *out,
	       char *err, size_t errlen)
{
	bool seen[N_KEYS] = { false };
	struct rg_conf *c;
	char line[4096];
	unsigned int lineno = 0;
	const char *p = text, *nl;
	size_t n;
	int ret = 0;

	c = malloc(sizeof(*c));
	if (!c) {
		snprintf(err, errlen, "%s: out of memory", name);
		return -ENOMEM;
	}
	conf_defaults(c);
	while (*p) {
		lineno++;
		nl = strchr(p, '\n');
		n = nl ? (size_t)(nl - p) : strlen(p);
		if (n >= sizeof(line)) {
			ret = line_error(err, errlen, name, lineno,
					 "line too long, expected at most %zu "
					 "bytes",
					 sizeof(line) - 1);
			goto out;
		}
		memcpy(line, p, n);
		line[n] = '\0';
		ret = parse_line(c, line, seen, name, lineno, err, errlen);
		if (ret)
			goto out;
		p += n + (nl ? 1 : 0);
	}
	ret = check_whole(c, name, err, errlen);
	if (!ret)
		*out = *c;
out:
	free(c);
	return ret;
}

int conf_load(const char *path, struct rg_conf *out, char *err, size_t errlen)
{
	char *text = NULL;
	size_t len;
	FILE *f;
	int ret;

	f = fopen(path, "re");
	if (!f) {
		ret = -errno;
		snprintf(err, errlen, "%s: cannot open config: %s", path,
			 strerror(errno));
		return ret;
	}
	text = malloc(CONF_MAX_FILE + 1);
	if (!text) {
		snprintf(err, errlen, "%s: out of memory", path);
		ret = -ENOMEM;
		goto out;
	}
	len = fread(text, 1, CONF_MAX_FILE + 1, f);
	if (ferror(f) || len > CONF_MAX_FILE) {
		snprintf(err, errlen, "%s: cannot read config: %s", path,
			 ferror(f) ? "read error" : "larger than 1 MiB");
		ret = -EINVAL;
		goto out;
	}
	text[len] = '\0';
	if (strlen(text) != len) {
		snprintf(err, errlen, "%s: NUL byte in config, expected text",
			 path);
		ret = -EINVAL;
		goto out;
	}
	ret = conf_parse(path, text, out, err, errlen);
out:
	free(text);
	fclose(f);
	return ret;
}

enum mta_answer conf_domain_locality(const struct rg_conf *c,
				     const char *domain)
{
	if (conf_is_literal_domain(c, domain))
		return MTA_LOCAL;
	return c->mta ? mta_domains_match(c->mta, domain) : MTA_FOREIGN;
}

bool conf_is_local_domain(const struct rg_conf *c, const char *domain)
{
	return conf_domain_locality(c, domain) == MTA_LOCAL;
}

struct drift {
	const struct rg_conf *c;
	void (*fn)(const char *domain, bool in_postfix, void *ctx);
	void *ctx;
	unsigned int n;
};

static int postfix_entry(const char *domain, bool sub, void *ctx)
{
	struct drift *d = ctx;
	char pat[CONF_DOMAIN_LEN + 2];
	unsigned int i;

	snprintf(pat, sizeof(pat), "%s%s", sub ? "*." : "", domain);
	for (i = 0; i < d->c->n_local_domains; i++)
		if (!strcmp(d->c->local_domains[i], pat))
			return 0;
	if (!sub && conf_is_literal_domain(d->c, domain))
		return 0;
	d->fn(pat, true, d->ctx);
	d->n++;
	return 0;
}

unsigned int conf_local_domains_drift(
	const struct rg_conf *c, struct mta_domains *m,
	void (*fn)(const char *domain, bool in_postfix, void *ctx), void *ctx)
{
	struct drift d = { c, fn, ctx, 0 };
	char probe[CONF_DOMAIN_LEN + 16];
	const char *dom;
	unsigned int i;

	for (i = 0; i < c->n_local_domains; i++) {
		dom = c->local_domains[i];
		/* "*.d": does Postfix receive for d's subdomains? */
		snprintf(probe, sizeof(probe), "%s%s",
			 dom[0] == '*' ? "relayguard-check" : "",
			 dom[0] == '*' ? dom + 1 : dom);
		/* MTA_UNKNOWN: only a table asked per domain could tell */
		if (mta_domains_match(m, probe) != MTA_FOREIGN)
			continue;
		fn(dom, false, ctx);
		d.n++;
	}
	mta_domains_for_each(m, postfix_entry, &d);
	return d.n;
}

void conf_local_domains_source(const struct rg_conf *c, char *buf, size_t size)
{
	size_t len = 0;
	unsigned int i;

	buf[0] = '\0';
	if (c->local_domains_postfix[0])
		len = snprintf(buf, size, "postfix:%s",
			       c->local_domains_postfix);
	for (i = 0; i < c->n_local_domains && len < size; i++)
		len += snprintf(buf + len, size - len, "%s%s", len ? ", " : "",
				c->local_domains[i]);
	if (!len)
		snprintf(buf, size, "none");
}

bool conf_is_literal_domain(const struct rg_conf *c, const char *domain)
{
	size_t dlen = strlen(domain), plen;
	const char *pat;
	unsigned int i;

	if (dlen && domain[dlen - 1] == '.') /* absolute form "example.com." */
		dlen--;
	for (i = 0; i < c->n_local_domains; i++) {
		pat = c->local_domains[i];
		plen = strlen(pat);
		if (pat[0] == '*') {
			/* "*.d": dlen must exceed ".d" and end with it */
			if (dlen > plen - 1 &&
			    !strncasecmp(domain + dlen - (plen - 1), pat + 1,
					 plen - 1))
				return true;
		} else if (dlen == plen && !strncasecmp(domain, pat, plen)) {
			return true;
		}
	}
	return false;
}

bool conf_is_trusted(const struct rg_conf *c, const struct prefix *addr)
{
	return prefix_any(c->trusted, c->n_trusted, addr, prefix_contains);
}

bool conf_trusted_overlaps(const struct rg_conf *c, const struct prefix *p)
{
	return prefix_any(c->trusted, c->n_trusted, p, prefix_overlaps);
}
