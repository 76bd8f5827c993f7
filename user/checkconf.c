// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* relayguardd --check-config: see checkconf.h. */
#include <bpf/libbpf.h>
#include <errno.h>
#include <inttypes.h>
#include <net/if.h>
#include <stdlib.h>
#include <unistd.h>

#include "checkconf.h"
#include "config.h"
#include "cs_secret.h"
#include "log.h"
#include "mtawatch.h"
#include "relayguard.skel.h"

int checkconf_verify_bpf(void)
{
	struct relayguard_bpf *skel;
	struct bpf_map *map;
	int err;

	skel = relayguard_bpf__open();
	if (!skel) {
		err = -errno;
		log_err("cannot open the BPF object: %s", log_strerror(err));
		return err;
	}
	/* Private maps: a check never reuses or leaves a pin. */
	bpf_object__for_each_map(map, skel->obj)
	{
		err = bpf_map__set_pin_path(map, NULL);
		if (err) {
			log_err("cannot unpin map %s for the check: %s",
				bpf_map__name(map), log_strerror(err));
			goto out;
		}
	}
	err = relayguard_bpf__load(skel);
	if (err)
		log_err("the kernel refused the BPF programs: %s",
			log_strerror(err));
out:
	relayguard_bpf__destroy(skel);
	return err;
}

/* A secret the daemon would refuse (missing, empty, readable by others)
 * stops its start: the same reader, the same message. */
static int check_secret(const char *path)
{
	char buf[512], err[512];
	int rc;

	if (!path[0])
		return 0;
	rc = crowdsec_read_secret(path, buf, sizeof(buf), err, sizeof(err));
	explicit_bzero(buf, sizeof(buf));
	if (rc)
		log_err("crowdsec: %s", err);
	return rc;
}

static bool postfix_config_exists(const char *dir)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/main.cf", dir);
	return !access(path, R_OK);
}

/* A missing interface is no error: relayguardd attaches it when it comes. */
static void report_interfaces(const struct rg_conf *c, FILE *out)
{
	unsigned int i, idx;

	if (!c->n_interfaces)
		fprintf(out, "interfaces: none set: relayguardd will attach "
			     "nowhere (relayguardctl attach IFACE can)\n");
	for (i = 0; i < c->n_interfaces; i++) {
		idx = if_nametoindex(c->interfaces[i]);
		if (idx)
			fprintf(out, "interface %s: present (index %u)\n",
				c->interfaces[i], idx);
		else
			fprintf(out,
				"interface %s: not found (attached when it "
				"appears)\n",
				c->interfaces[i]);
	}
}

#define POSTFIX_ASK_NS (10ULL * 1000000000ULL)

static void print_drift(const char *domain, bool in_postfix, void *ctx)
{
	fprintf(ctx,
		in_postfix
			? "warning: local_domains: Postfix receives for %s, "
			  "the list lacks it (its senders would be banned)\n"
			: "warning: local_domains: %s is listed, Postfix "
			  "does not receive for it (relay attempts to it go unseen)\n",
		domain);
}

/* Where local domains come from. A literal list must follow the MTA's:
 * where a Postfix config can be read ($MAIL_CONFIG, as Postfix's own
 * commands take it, else /etc/postfix), each difference is a warning. */
static void report_local_domains(const struct rg_conf *c, FILE *out)
{
	const char *dir = c->local_domains_postfix;
	struct mta_domains *m;
	char err[512];

	if (!dir[0]) {
		dir = getenv("MAIL_CONFIG");
		dir = dir && dir[0] ? dir : "/etc/postfix";
		if (!c->n_local_domains || !postfix_config_exists(dir))
			return;
	}
	if (mta_read_now(dir, POSTFIX_ASK_NS, &m, err, sizeof(err))) {
		fprintf(out,
			"warning: local_domains: cannot ask Postfix at %s: %s\n",
			dir, err);
		return;
	}
	if (c->local_domains_postfix[0])
		fprintf(out,
			"local_domains: Postfix at %s receives for %" PRIu64
			" domains, %" PRIu64 " tables asked per domain\n",
			dir, mta_domains_stats(m)->domains,
			mta_domains_stats(m)->query_tables);
	else if (conf_local_domains_drift(c, m, print_drift, out))
		fprintf(out,
			"warning: local_domains must follow what Postfix at "
			"%s receives for, or say postfix:%s\n",
			dir, dir);
	mta_domains_free(m);
}

int checkconf_run(const char *conf_path, FILE *out)
{
	struct rg_conf *c = malloc(sizeof(*c));
	char err[512];
	int rc;

	if (!c)
		return -ENOMEM;
	rc = conf_load(conf_path, c, err, sizeof(err));
	if (rc) {
		log_err("%s", err);
		goto out;
	}
	rc = check_secret(c->crowdsec_bouncer_key_file);
	if (!rc)
		rc = check_secret(c->crowdsec_machine_password_file);
	if (!rc)
		rc = checkconf_verify_bpf();
	if (rc)
		goto out;
	fprintf(out, "%s: syntax ok\nBPF programs: accepted by the verifier\n",
		conf_path);
	report_interfaces(c, out);
	report_local_domains(c, out);
	fprintf(out, "configuration ok\n");
out:
	free(c);
	return rc;
}
