// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* pcap -> sample records -> pipeline -> JSON lines: see replay.h. */
#include <errno.h>
#include <pcap/pcap.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "clock.h"
#include "dpconfig.h"
#include "dpmodel.h"
#include "events.h"
#include "log.h"
#include "policy.h"
#include "replay.h"
#include "srctable.h"

struct offender {
	unsigned int offences;
};

struct replay {
	const struct rg_conf *conf;
	struct pipeline *pipe;
	struct dpmodel *dp;	     /* the data plane, modelled */
	struct src_table *offenders; /* offence count per source */
	FILE *out;
	uint64_t now_ns, last_tick_ns;
	struct replay_result *res;
	int dlt; /* pcap link type */
	int err; /* writing decisions failed */
};

static void decide(void *ctx, const struct decision *d)
{
	struct event_extra x = { .reaction_us = -1 };
	struct replay *r = ctx;
	struct offender *o;

	r->res->decisions++;
	if (!r->out)
		return;
	x.time_ns = d->sample_ns;
	if (d->action == DECISION_BAN) {
		o = src_table_get(r->offenders, &d->source,
				  dpconfig_ipv6_prefix(&r->conf->dp),
				  r->now_ns);
		x.offences = o ? ++o->offences : 1;
		x.duration_s = policy_ban_duration(r->conf, x.offences);
	}
	if (r->conf->dp.flags & RG_CFG_MONITOR)
		x.mode = "monitor";
	if (event_write(r->out, d, &x))
		r->err = -EIO;
}

static void stop_sampling(void *ctx, const struct rg_flow_key *key)
{
	struct replay *r = ctx;

	dpmodel_stop(r->dp, key);
}

static void stop_client(void *ctx, const struct rg_flow_key *key)
{
	struct replay *r = ctx;

	dpmodel_stop_client(r->dp, key);
}

static void pause_client(void *ctx, const struct rg_flow_key *key)
{
	struct replay *r = ctx;

	dpmodel_pause_client(r->dp, key);
}

static void resume_client(void *ctx, const struct rg_flow_key *key,
			  uint32_t seq)
{
	struct replay *r = ctx;

	dpmodel_resume_client(r->dp, key, seq);
}

/* A record the data plane would have written, to the pipeline. */
static void on_record(void *ctx, const struct rg_sample *s, size_t len)
{
	struct replay *r = ctx;

	r->res->records++;
	pipeline_feed(r->pipe, s, len);
}

static void handle(u_char *user, const struct pcap_pkthdr *h,
		   const u_char *bytes)
{
	struct replay *r = (struct replay *)user;

	r->res->frames++;
	r->now_ns = (uint64_t)h->ts.tv_sec * NSEC_PER_SEC +
		    (uint64_t)h->ts.tv_usec * 1000;
	if (r->now_ns >= r->last_tick_ns + NSEC_PER_SEC) {
		pipeline_tick(r->pipe, r->now_ns);
		dpmodel_expire(r->dp, r->now_ns,
			       r->conf->flow_idle_timeout * NSEC_PER_SEC);
		r->last_tick_ns = r->now_ns;
	}
	if (dpmodel_frame(r->dp, r->dlt, bytes, h->caplen, r->now_ns))
		r->res->smtp_packets++;
}

static int replay_setup(struct replay *r, const struct rg_conf *conf, FILE *out,
			struct replay_result *res)
{
	struct pipeline_ops ops = { .decide = decide,
				    .stop_sampling = stop_sampling,
				    .stop_client = stop_client,
				    .pause_client = pause_client,
				    .resume_client = resume_client };

	memset(r, 0, sizeof(*r));
	memset(res, 0, sizeof(*res));
	r->conf = conf;
	r->out = out;
	r->res = res;
	r->pipe = pipeline_new(conf, &ops, r);
	r->dp = dpmodel_new(conf, on_record, r);
	r->offenders = src_table_new(65536, sizeof(struct offender));
	if (!r->pipe || !r->dp || !r->offenders)
		return -ENOMEM;
	return 0;
}

static void replay_teardown(struct replay *r)
{
	pipeline_free(r->pipe);
	dpmodel_free(r->dp);
	src_table_free(r->offenders);
}

int replay_pcap_result(const char *path, const struct rg_conf *conf, FILE *out,
		       struct replay_result *res)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	struct replay r;
	pcap_t *pc;
	int dlt, ret;

	pc = pcap_open_offline(path, errbuf);
	if (!pc) {
		log_err("cannot replay %s: %s", path, errbuf);
		return -EINVAL;
	}
	dlt = pcap_datalink(pc);
	if (dlt != DLT_EN10MB && dlt != DLT_LINUX_SLL &&
	    dlt != DLT_LINUX_SLL2 && dlt != DLT_RAW && dlt != DLT_IPV4 &&
	    dlt != DLT_IPV6) {
		log_err("cannot replay %s: link type %s not supported "
			"(Ethernet, Linux cooked or raw IP expected)",
			path, pcap_datalink_val_to_name(dlt));
		pcap_close(pc);
		return -ENOTSUP;
	}
	ret = replay_setup(&r, conf, out, res);
	if (ret) {
		log_err("cannot replay %s: out of memory", path);
		goto out;
	}
	r.dlt = dlt;
	ret = pcap_loop(pc, -1, handle, (u_char *)&r);
	if (ret == PCAP_ERROR) {
		log_err("cannot replay %s: %s", path, pcap_geterr(pc));
		ret = -EIO;
		goto out;
	}
	res->stats = *pipeline_stats(r.pipe);
	ret = 0;
	if (out && (r.err || fflush(out) || ferror(out))) {
		log_err("cannot write replay decisions: %s", strerror(errno));
		ret = -EIO;
	}
out:
	replay_teardown(&r);
	pcap_close(pc);
	return ret;
}

int replay_pcap(const char *path, const struct rg_conf *conf, FILE *out)
{
	struct replay_result res;

	return replay_pcap_result(path, conf, out, &res);
}
