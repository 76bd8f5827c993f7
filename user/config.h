/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The config file, /etc/relayguard/relayguard.conf: `key = value` lines,
 * `#` comments, lists separated by commas and/or spaces, durations with
 * s m h d w suffixes. The whole file is validated before anything is
 * returned; an error names FILE:LINE, what was wrong and what was expected.
 * The data-plane keys go through dpconfig_set() into conf->dp, so the file
 * and `relayguardctl config set` accept exactly the same values. */
#ifndef RG_CONFIG_H
#define RG_CONFIG_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "mtadomains.h"
#include "parse.h"
#include "priority.h"
#include "relayguard.h"
#include "xdpmode.h"

#define CONF_PATH_DEFAULT     "/etc/relayguard/relayguard.conf"
#define CONF_PID_FILE_DEFAULT "/run/relayguard/relayguardd.pid"

#define CONF_MAX_INTERFACES 16
#define CONF_MAX_DOMAINS    64
#define CONF_DOMAIN_LEN	    256 /* a domain or "*.domain" pattern and a NUL */
#define CONF_MAX_TRUSTED    64
#define CONF_PATH_LEN	    256
#define CONF_MAX_ALERT_ARGS 16 /* program path included */
#define CONF_ALERT_ARG_LEN  256

#define CONF_MAX_POLICY_USERS 16

struct rg_conf {
	/* Where relayguard runs. */
	char interfaces[CONF_MAX_INTERFACES][IF_NAMESIZE];
	unsigned int n_interfaces;
	enum xdp_attach_mode xdp_mode; /* xdp_mode = native|generic|auto */
	/* smtp_ports, mode, syn_rate, syn_burst, global_syn_rate,
	 * global_syn_burst, ipv6_prefix, sample_bytes (dpconfig_set). */
	struct rg_config dp;

	/* Who is local and who may relay. */
	char local_domains[CONF_MAX_DOMAINS][CONF_DOMAIN_LEN]; /* lower case */
	unsigned int n_local_domains;
	/* local_domains = postfix:DIR: Postfix's config directory, or "" */
	char local_domains_postfix[CONF_PATH_LEN];
	/* What that Postfix receives for, kept current by relayguardd
	 * (mtawatch.h); NULL: nothing learnt, the literal list alone. */
	struct mta_domains *mta;
	struct prefix trusted[CONF_MAX_TRUSTED]; /* trusted_networks */
	unsigned int n_trusted;

	/* Bans: ban_time * ban_time_factor^(offences-1), up to ban_time_max. */
	uint64_t ban_time; /* seconds */
	unsigned int ban_time_factor;
	uint64_t ban_time_max; /* seconds */

	/* Policy: weighted signals summed per source within score_window;
	 * a sum >= score_threshold bans. */
	unsigned int score_threshold;
	uint64_t score_window;		  /* seconds */
	unsigned int weight_pregreet;	  /* client talked before the 220 */
	unsigned int weight_non_smtp;	  /* HTTP, proxy probes, TLS, binary */
	unsigned int weight_auth_failure; /* each 535 */
	unsigned int weight_too_many_rcpts; /* a session over max_rcpts */
	unsigned int weight_session_rate;   /* over sessions_per_minute */
	/* the client spent its sampling budget before any RCPT: padding
	 * that would hide its envelope from relayguardd */
	unsigned int weight_envelope_padding;
	unsigned int max_rcpts; /* RCPTs per session before a signal */
	unsigned int sessions_per_minute; /* per source, before a signal */
	unsigned int auth_failures_ban;	  /* 535s within score_window: ban */
	/* Refused plain foreign RCPTs, each within score_window of the last,
	 * that ban (1: the first; fewer are findings adding to the score). */
	unsigned int relay_attempts_ban;
	/* Banned groups (ipv6_prefix) of one /48 within score_window that
	 * ban the /48; 0: off. */
	unsigned int ipv6_escalate;

	/* The Postfix policy service: "inet:ADDR:PORT", "unix:PATH" or ""
	 * (off); at most policy_max_connections smtpd clients at once. */
	char policy_service[CONF_PATH_LEN + 8];
	unsigned int policy_max_connections;
	/* policy_allowed_users, resolved (getpwnam) when the file is read:
	 * the peers besides root the service answers. */
	uid_t policy_allowed_uids[CONF_MAX_POLICY_USERS];
	unsigned int n_policy_allowed_uids;

	/* Flow table (control plane memory). */
	unsigned int max_flows;
	uint64_t flow_idle_timeout;  /* seconds */
	unsigned int flow_max_bytes; /* buffered bytes per flow and direction */

	/* Alerts: a program run without a shell, decision JSON on stdin. */
	char alert_command[CONF_MAX_ALERT_ARGS][CONF_ALERT_ARG_LEN];
	unsigned int n_alert_args; /* 0: no alert command */
	uint64_t alert_timeout;	   /* seconds before the command is killed */

	/* Files and housekeeping. */
	char state_dir[CONF_PATH_LEN];
	char event_log[CONF_PATH_LEN];
	char pid_file[CONF_PATH_LEN];
	uint64_t snapshot_interval;	 /* seconds between ban snapshots */
	uint64_t evidence_dir_max_bytes; /* 0: keep no evidence pcaps */
	uint64_t metrics_interval;	 /* seconds between stats log lines */

	/* The daemon's CPU priority (priority.h). */
	struct priority scheduling;
	/* CrowdSec Local API (cs_client.h); an empty URL: off. Secrets are
	 * only in the files, which only their owner may read. */
	char crowdsec_lapi_url[CONF_PATH_LEN];
	char crowdsec_bouncer_key_file[CONF_PATH_LEN];
	char crowdsec_machine_id[CONF_PATH_LEN];
	char crowdsec_machine_password_file[CONF_PATH_LEN];
	uint64_t crowdsec_poll_interval; /* seconds */
};

/* Every key with its default. */
void conf_defaults(struct rg_conf *c);

/* Read and validate path as a whole. On success *out holds the defaults
 * overridden by the file; on error *out is untouched, err holds
 * "FILE:LINE: what was wrong, what was expected" and a negative errno is
 * returned (-ENOENT/-EACCES for an unreadable file, -EINVAL otherwise). */
int conf_load(const char *path, struct rg_conf *out, char *err, size_t errlen);

/* Parse config text held in memory; name is used in messages. */
int conf_parse(const char *name, const char *text, struct rg_conf *out,
	       char *err, size_t errlen);

/* The one place that says whether a domain is local: a literal
 * local_domains entry (exact, or "*.d" for any subdomain of d, not d
 * itself, case-insensitive), or what Postfix receives for (c->mta).
 * MTA_UNKNOWN: Postfix is being asked (a table it cannot list). */
enum mta_answer conf_domain_locality(const struct rg_conf *c,
				     const char *domain);
/* conf_domain_locality() == MTA_LOCAL. */
bool conf_is_local_domain(const struct rg_conf *c, const char *domain);
/* The literal entries alone (what --check-config compares with Postfix's
 * list: mta_domains_match() for each). */
bool conf_is_literal_domain(const struct rg_conf *c, const char *domain);
/* --check-config: how a literal local_domains differs from what Postfix
 * receives for (m, e.g. from mta_read_now()). fn gets each literal entry
 * Postfix does not receive for (in_postfix false) and each Postfix domain
 * no literal entry covers (in_postfix true; sub: "*.domain"). Returns how
 * many differences it reported. */
unsigned int conf_local_domains_drift(
	const struct rg_conf *c, struct mta_domains *m,
	void (*fn)(const char *domain, bool in_postfix, void *ctx), void *ctx);
/* Where local domains come from, for alerts and status:
 * "postfix:/etc/postfix, example.com, *.example.com", or "none". */
void conf_local_domains_source(const struct rg_conf *c, char *buf, size_t size);

/* addr lies within one of trusted_networks. */
bool conf_is_trusted(const struct rg_conf *c, const struct prefix *addr);
/* p shares an address with one of trusted_networks. */
bool conf_trusted_overlaps(const struct rg_conf *c, const struct prefix *p);

/* The i-th key name the file accepts; NULL past the last. */
const char *conf_key(unsigned int i);

#endif
