// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* relayguardd: the controller. Wires the modules together and owns the
 * single-threaded event loop (epoll over the samples ring buffer, signalfd,
 * a housekeeping timerfd and the rtnetlink socket); it holds no policy.
 * Kernel state outlives it: on stop, programs stay attached and maps
 * pinned, so bans keep working and expire on time while it is down. */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "alert.h"
#include "bans.h"
#include "clock.h"
#include "config.h"
#include "crowdsec.h"
#include "dpconfig.h"
#include "events.h"
#include "evidence.h"
#include "flow.h"
#include "flowmap.h"
#include "instance.h"
#include "loader.h"
#include "log.h"
#include "metrics.h"
#include "netlink.h"
#include "pipeline.h"
#include "priority.h"
#include "policysvc.h"
#include "replay.h"
#include "ringdrain.h"
#include "stats.h"
#include "trusted.h"

#define TICK_MS 500 /* housekeeping timer period */
#define SWEEP_EVERY_NS (5 * NSEC_PER_SEC)
#define SWEEP_STEP_BANS 16384
#define PID_FILE_DEFAULT "/run/relayguard/relayguardd.pid"
/* Alerts decided while the ring buffer is drained are run after it, so
 * that spawning alert_command never delays the ban that follows them. */
#define MAX_PENDING_ALERTS 8

/* epoll tags of the daemon's loop */
enum { EV_RING, EV_SIGNAL, EV_TIMER, EV_LINK, EV_POLICY, EV_CROWDSEC };

struct daemon {
	/* From the command line. */
	const char *conf_path, *pin_dir, *pid_file, *metrics_file;
	bool foreground;

	struct rg_conf conf;
	struct loader *loader;
	const struct rg_maps *maps;
	struct ring_drain *rb; /* the samples, a budget per wakeup */
	struct pipeline *pipe;
	struct bans *bans;
	struct alerter *alerts;
	struct link_watch *links;
	struct crowdsec *cs; /* NULL: no crowdsec_lapi_url */
	struct policysvc *psvc; /* the Postfix policy service, or NULL */
	__u32 hash_seed; /* config.hash_seed: where flows live in `flows` */
	struct evidence_dir evidence; /* state_dir/evidence within its bound */
	int epfd, sigfd, timerfd;
	int lock_fd; /* instance_lock on the pin dir, held until exit */
	FILE *events;

	struct reaction_hist reaction;
	struct daemon_counters cnt;
	uint64_t bans_by_reason[RG_REASON_MAX];
	uint64_t next_sweep, next_snapshot, next_metrics;
	bool sweeping; /* a stepped sweep is under way */
	uint64_t priority_rest_until; /* after SIGXCPU: normal priority until */
	pid_t snap_pid; /* the periodic snapshot's writer, while it runs */
	bool restored; /* snapshots may be written (never before the restore) */
	char *pending_alert[MAX_PENDING_ALERTS];
	unsigned int n_pending;
	bool stop;
};

/* ---- files ---------------------------------------------------------- */

static int mkdirs(const char *dir)
{
	char buf[4096], *p;

	if (snprintf(buf, sizeof(buf), "%s", dir) >= (int)sizeof(buf))
		return -ENAMETOOLONG;
	for (p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, 0755) && errno != EEXIST)
		return -errno;
	return 0;
}

static int mkdirs_for(const char *file)
{
	char buf[4096];

	snprintf(buf, sizeof(buf), "%s", file);
	return mkdirs(dirname(buf));
}

static void state_path(const struct daemon *d, const char *name, char *buf,
		       size_t size)
{
	snprintf(buf, size, "%s/%s", d->conf.state_dir, name);
}

/* (Re)open the event log: at start, on SIGHUP and SIGUSR1 (logrotate). */
static void events_reopen(struct daemon *d)
{
	FILE *f;
	int err;

	if (d->events)
		fclose(d->events);
	d->events = NULL;
	if (!d->conf.event_log[0])
		return;
	err = mkdirs_for(d->conf.event_log);
	f = err ? NULL : fopen(d->conf.event_log, "ae");
	if (!f) {
		log_err("cannot open event log %s: %s", d->conf.event_log,
			strerror(err ? -err : errno));
		return;
	}
	d->events = f;
}

static int write_pid_file(const char *path)
{
	char tmp[4096];
	FILE *f;
	int err;

	err = mkdirs_for(path);
	if (err)
		return err;
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "we");
	if (!f)
		return -errno;
	fprintf(f, "%d\n", getpid());
	if (fclose(f) || rename(tmp, path)) {
		err = -errno;
		unlink(tmp);
		return err;
	}
	return 0;
}

/* systemd's readiness protocol (Type=notify), without libsystemd: one
 * datagram to $NOTIFY_SOCKET. A no-op when not run by systemd. */
static void sd_notify_msg(const char *msg)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	socklen_t len;
	size_t n;
	int fd;

	if (!path || (path[0] != '/' && path[0] != '@'))
		return;
	n = strlen(path);
	if (n >= sizeof(sa.sun_path))
		return;
	memcpy(sa.sun_path, path, n);
	if (path[0] == '@')
		sa.sun_path[0] = '\0'; /* abstract namespace */
	len = offsetof(struct sockaddr_un, sun_path) + n;
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	if (sendto(fd, msg, strlen(msg), MSG_NOSIGNAL, (struct sockaddr *)&sa,
		   len) < 0)
		log_debug("sd_notify %s: %s", msg, strerror(errno));
	close(fd);
}

/* ---- decisions ------------------------------------------------------ */

static void emit_event(struct daemon *d, const struct decision *dec,
		       const struct event_extra *x, char *json, size_t jsonlen)
{
	FILE *mem;

	if (d->events) {
		if (event_write(d->events, dec, x) || fflush(d->events)) {
			d->cnt.event_errors++;
			log_warn("cannot write to event log %s: %s",
				 d->conf.event_log, strerror(errno));
		} else {
			d->cnt.events_written++;
		}
	}
	if (!json)
		return;
	json[0] = '\0';
	mem = fmemopen(json, jsonlen, "w");
	if (mem) {
		event_write(mem, dec, x);
		fclose(mem);
	}
}

struct evidence_ctx {
	struct evidence *ev;
	int err;
};

static void evidence_sample(const struct rg_sample *s, void *data)
{
	struct evidence_ctx *c = data;

	if (!c->err)
		c->err = evidence_add(c->ev, s);
}

/* The flow's samples as a pcap under state_dir/evidence; path in buf. */
static int keep_evidence(struct daemon *d, const struct decision *dec,
			 char *buf, size_t size)
{
	struct evidence_ctx c = { 0 };
	char dir[4096];
	struct stat st;
	int err;

	buf[0] = '\0';
	if (!d->conf.evidence_dir_max_bytes || !dec->flow)
		return 0;
	state_path(d, "evidence", dir, sizeof(dir));
	err = evidence_open(dir, &dec->source, &c.ev, buf, size);
	if (err)
		goto out;
	flow_for_each_sample(dec->flow, evidence_sample, &c);
	err = evidence_close(c.ev);
	if (!err)
		err = c.err;
	if (!err && !stat(buf, &st))
		evidence_account(&d->evidence, dir, st.st_size,
				 d->conf.evidence_dir_max_bytes);
out:
	if (err) {
		d->cnt.evidence_errors++;
		buf[0] = '\0';
		return err;
	}
	d->cnt.evidence_written++;
	return 0;
}

static const char *src_str(const struct prefix *p, char *buf, size_t size)
{
	format_prefix(p, buf, size);
	return buf;
}

/* A local ban, as an alert for the other gateways (never in monitor
 * mode: nothing is enforced here, nothing should be elsewhere). */
static void push_to_crowdsec(struct daemon *d, const struct decision *dec,
			     const struct ban_result *r)
{
	struct lapi_alert a = {
		.source = r->source,
		.duration_s = r->duration_s,
	};

	if (!d->cs || (d->conf.dp.flags & RG_CFG_MONITOR))
		return;
	a.start_unix_ms = a.stop_unix_ms =
		(int64_t)(clock_ns(CLOCK_REALTIME) / 1000000);
	snprintf(a.scenario, sizeof(a.scenario), "relayguard/%s", dec->code);
	snprintf(a.helo, sizeof(a.helo), "%s", dec->helo ? dec->helo : "");
	snprintf(a.mail_from, sizeof(a.mail_from), "%s",
		 dec->mail_from ? dec->mail_from : "");
	snprintf(a.rcpt_to, sizeof(a.rcpt_to), "%s",
		 dec->rcpt_to ? dec->rcpt_to : "");
	snprintf(a.reply, sizeof(a.reply), "%s", dec->reply ? dec->reply : "");
	crowdsec_push(d->cs, &a);
}

static void decide_ban(struct daemon *d, const struct decision *dec,
		       struct event_extra *x)
{
	char src[PREFIX_STRLEN], dur[DURATION_STRLEN], ev[4096];
	uint64_t now = boot_ns();
	struct ban_result r;
	int err;

	err = bans_ban(d->bans, &d->conf, &dec->source, dec->reason, now, &r);
	if (err) {
		d->cnt.ban_errors++;
		log_err("cannot ban %s (%s): %s",
			src_str(&dec->source, src, sizeof(src)), dec->code,
			log_strerror(err));
		return;
	}
	switch (r.outcome) {
	case BAN_EXISTS:
		return;
	case BAN_TRUSTED:
	case BAN_ALLOWED:
		if (r.outcome == BAN_TRUSTED)
			d->cnt.bans_skipped_trusted++;
		else
			d->cnt.bans_skipped_allowed++;
		log_info("not banning %s (%s): %s",
			 src_str(&dec->source, src, sizeof(src)), dec->code,
			 r.outcome == BAN_TRUSTED ? "trusted network" :
						    "allow-listed");
		return;
	case BAN_ADDED:
		break;
	}
	d->cnt.bans++;
	now = boot_ns(); /* the ban is in the map */
	if (dec->sample_ns && now >= dec->sample_ns) {
		x->reaction_us = (now - dec->sample_ns) / 1000;
		reaction_observe(&d->reaction, now - dec->sample_ns);
	}
	x->duration_s = r.duration_s;
	if (d->conf.dp.flags & RG_CFG_MONITOR)
		x->mode = "monitor";
	x->offences = r.offences;
	if (!keep_evidence(d, dec, ev, sizeof(ev)) && ev[0])
		x->evidence = ev;
	emit_event(d, dec, x, NULL, 0);
	push_to_crowdsec(d, dec, &r);
	format_duration(r.duration_s, dur, sizeof(dur));
	log_info("ban %s for %s (%s, offence %u, reaction %lld us)%s%s",
		 src_str(&r.source, src, sizeof(src)), dur, dec->code,
		 r.offences, (long long)x->reaction_us,
		 x->evidence ? ", evidence " : "", x->evidence ? x->evidence : "");
}

static void decide_alert(struct daemon *d, const struct decision *dec,
			 struct event_extra *x)
{
	char src[PREFIX_STRLEN], json[16384];

	d->cnt.alerts++;
	emit_event(d, dec, x, json, sizeof(json));
	log_err("CRITICAL: %s from %s (rcpt %s, reply %s)", dec->code,
		src_str(&dec->source, src, sizeof(src)),
		dec->rcpt_to ? dec->rcpt_to : "-",
		dec->reply ? dec->reply : "-");
	if (!d->conf.n_alert_args)
		return;
	if (d->n_pending == MAX_PENDING_ALERTS) {
		log_warn("alert_command not run for %s: too many alerts at once",
			 src);
		return;
	}
	json[strcspn(json, "\n")] = '\0';
	d->pending_alert[d->n_pending] = strdup(json);
	if (d->pending_alert[d->n_pending])
		d->n_pending++;
}

static void run_pending_alerts(struct daemon *d)
{
	char *argv[CONF_MAX_ALERT_ARGS + 1];
	unsigned int i;

	for (i = 0; i < d->conf.n_alert_args; i++)
		argv[i] = d->conf.alert_command[i];
	argv[i] = NULL;
	for (i = 0; i < d->n_pending; i++) {
		if (d->conf.n_alert_args)
			alert_run(d->alerts, argv, d->conf.n_alert_args,
				  d->pending_alert[i],
				  strlen(d->pending_alert[i]),
				  d->conf.alert_timeout * NSEC_PER_SEC,
				  boot_ns());
		free(d->pending_alert[i]);
	}
	d->n_pending = 0;
}

static void on_decide(void *ctx, const struct decision *dec)
{
	struct daemon *d = ctx;
	struct event_extra x = {
		.time_ns = clock_ns(CLOCK_REALTIME),
		.reaction_us = -1,
	};
	char src[PREFIX_STRLEN];

	switch (dec->action) {
	case DECISION_BAN:
		decide_ban(d, dec, &x);
		break;
	case DECISION_ALERT:
		decide_alert(d, dec, &x);
		break;
	case DECISION_UNBAN: /* never from the pipeline */
	case DECISION_FINDING:
		d->cnt.findings++;
		emit_event(d, dec, &x, NULL, 0);
		log_info("finding %s from %s%s", dec->code,
			 src_str(&dec->source, src, sizeof(src)),
			 dec->unverified ? " (handshake not verified: no ban)" :
					   "");
		break;
	}
}

/* A flow whose entry is gone (its slot taken) has nothing to stop. */
static void on_stop_sampling(void *ctx, const struct rg_flow_key *key)
{
	struct daemon *d = ctx;

	if (d->maps->flows >= 0)
		flowmap_stop(d->maps->flows, d->hash_seed, key);
}

/* A message body: no client payload sampled until the next transaction. */
static void on_pause_client(void *ctx, const struct rg_flow_key *key)
{
	struct daemon *d = ctx;

	if (d->maps->flows >= 0)
		flowmap_pause_client(d->maps->flows, d->hash_seed, key);
}

/* The next transaction starts at client seq: a fresh sampling window. */
static void on_resume_client(void *ctx, const struct rg_flow_key *key,
			     uint32_t seq)
{
	struct daemon *d = ctx;

	if (d->maps->flows >= 0)
		flowmap_resume_client(d->maps->flows, d->hash_seed, key, seq);
}

static const struct pipeline_ops ops = {
	.decide = on_decide,
	.stop_sampling = on_stop_sampling,
	.pause_client = on_pause_client,
	.resume_client = on_resume_client,
};

/* ---- the Postfix policy service ------------------------------------ */

static bool psvc_banned(void *ctx, const struct prefix *src)
{
	struct daemon *d = ctx;
	struct prefix key;
	struct rg_ban ban;

	if (banstore_source(d->maps, src, &key) ||
	    banstore_get(d->maps, &key, &ban))
		return false;
	return !ban.expires_ns || ban.expires_ns > boot_ns();
}

static const struct flow *psvc_find_flow(void *ctx,
					 const struct rg_flow_key *key)
{
	return pipeline_find_flow(((struct daemon *)ctx)->pipe, key);
}

static const struct policysvc_ops psvc_ops = {
	.decide = on_decide,
	.banned = psvc_banned,
	.find_flow = psvc_find_flow,
};

static void psvc_close(struct daemon *d)
{
	policysvc_free(d->psvc);
	d->psvc = NULL;
}

/* Start the policy service when policy_service is set. A failure is
 * logged and leaves the rest running: smtpd falls back to its
 * smtpd_policy_service_default_action. */
static void psvc_open(struct daemon *d)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = EV_POLICY };
	char err[256];

	if (!d->conf.policy_service[0])
		return;
	d->psvc = policysvc_new(&d->conf, pipeline_policy(d->pipe), &psvc_ops,
				d);
	if (!d->psvc || policysvc_listen(d->psvc, err, sizeof(err))) {
		log_err("policy service off: %s",
			d->psvc ? err : "out of memory");
		psvc_close(d);
		return;
	}
	if (d->epfd >= 0 &&
	    epoll_ctl(d->epfd, EPOLL_CTL_ADD, policysvc_fd(d->psvc), &ev)) {
		log_err("policy service off: epoll: %s", strerror(errno));
		psvc_close(d);
		return;
	}
	log_info("policy service listening on %s", d->conf.policy_service);
}

static int on_sample(void *ctx, void *data, size_t size)
{
	struct daemon *d = ctx;

	pipeline_feed(d->pipe, data, size);
	return 0;
}

/* ---- data plane ----------------------------------------------------- */

static int write_dp_config(struct daemon *d)
{
	struct rg_config cfg = d->conf.dp;
	int err = dpconfig_store(d->maps->config, &cfg);

	if (err) {
		log_err("cannot write the config map: %s", strerror(-err));
		return err;
	}
	d->hash_seed = cfg.hash_seed;
	return 0;
}

static void write_trusted(struct daemon *d)
{
	struct trusted_sync_result r;
	int err = trusted_sync(d->maps, &d->conf, &r);

	if (err)
		log_err("cannot write trusted_networks into the allow maps: %s",
			log_strerror(err));
	if (r.added || r.removed)
		log_info("trusted_networks: %u added to the allow maps, %u removed",
			 r.added, r.removed);
}

static bool configured(const struct rg_conf *c, const char *ifname)
{
	unsigned int i;

	for (i = 0; i < c->n_interfaces; i++)
		if (!strcmp(c->interfaces[i], ifname))
			return true;
	return false;
}

/* Attach unless relayguard's programs are already there (`relayguardctl
 * attach` or an earlier run left them). */
static int ensure_attached(struct daemon *d, const char *ifname, bool quiet)
{
	enum xdp_attach_mode used;
	struct attach_state st;
	int err;

	if (!loader_query(ifname, &st) && st.xdp && st.tc)
		return 0;
	err = loader_attach(d->loader, ifname, d->conf.xdp_mode, &used);
	if (err) {
		if (!quiet)
			log_err("cannot attach to %s: %s (waiting for it to appear)",
				ifname, log_strerror(err));
		return err;
	}
	log_info("attached to %s (XDP %s)", ifname, xdp_attach_mode_name(used));
	return 1;
}

static void attach_all(struct daemon *d)
{
	unsigned int i;

	for (i = 0; i < d->conf.n_interfaces; i++)
		ensure_attached(d, d->conf.interfaces[i], false);
}

static void on_link(void *ctx, const char *ifname, int ifindex, bool present,
		    bool up)
{
	struct daemon *d = ctx;

	(void)ifindex;
	(void)up;
	if (!ifname) {
		attach_all(d);
		return;
	}
	if (!configured(&d->conf, ifname))
		return;
	if (!present) {
		log_warn("interface %s went away; will re-attach when it comes back",
			 ifname);
		return;
	}
	if (ensure_attached(d, ifname, true) == 1)
		d->cnt.link_reattach++;
}

/* ---- priority ------------------------------------------------------- */

static void priority_set(struct daemon *d)
{
	char want[PRIORITY_STRLEN];
	int err;

	d->priority_rest_until = 0;
	priority_format(&d->conf.scheduling, want, sizeof(want));
	err = priority_apply(&d->conf.scheduling);
	if (err)
		log_warn("scheduling = %s not applied: %s (needs CAP_SYS_NICE)",
			 want, log_strerror(err));
	else
		log_debug("scheduling = %s", want);
}

/* RLIMIT_RTTIME's SIGXCPU: a second at real-time priority without
 * sleeping. Rest at normal priority, then take it again (on_timer). */
static void on_cpu_limit(struct daemon *d)
{
	int err;

	if (d->conf.scheduling.kind != PRIORITY_FIFO)
		return;
	d->cnt.priority_drops++;
	err = priority_drop();
	d->priority_rest_until = boot_ns() + PRIORITY_REST_NS;
	log_warn("a second on the CPU without sleeping: real-time priority dropped for %llu s%s%s",
		 PRIORITY_REST_NS / NSEC_PER_SEC, err ? ": " : "",
		 err ? log_strerror(err) : "");
}

/* ---- housekeeping --------------------------------------------------- */

static void on_unban(const struct ban_entry *e, void *ctx)
{
	struct daemon *d = ctx;
	struct event_extra x = {
		.time_ns = clock_ns(CLOCK_REALTIME),
		.offences = e->ban.offences,
		.reaction_us = -1,
	};
	struct decision dec = {
		.action = DECISION_UNBAN,
		.reason = e->ban.reason,
		.code = reason_name(e->ban.reason),
		.source = e->source,
	};
	char src[PREFIX_STRLEN];

	d->cnt.unbans++;
	log_info("unban %s (%s): expired", src_str(&e->source, src, sizeof(src)),
		 dec.code);
	emit_event(d, &dec, &x, NULL, 0);
}

static int write_snapshot(struct daemon *d)
{
	char path[4096];
	int err;

	err = mkdirs(d->conf.state_dir);
	state_path(d, "bans.gz", path, sizeof(path));
	if (!err)
		err = bans_snapshot(d->bans, path);
	return err;
}

static void count_snapshot(struct daemon *d, bool ok)
{
	if (ok)
		d->cnt.snapshots++;
	else
		d->cnt.snapshot_errors++;
}

/* The last snapshot's writer, once it has exited (wait: block for it). */
static void snapshot_reap(struct daemon *d, bool wait)
{
	int status;

	if (d->snap_pid <= 0 ||
	    waitpid(d->snap_pid, &status, wait ? 0 : WNOHANG) != d->snap_pid)
		return;
	d->snap_pid = 0;
	count_snapshot(d, WIFEXITED(status) && !WEXITSTATUS(status));
}

/* The periodic snapshot is written by a child: walking and compressing a
 * million bans takes ~0.7 s, during which the daemon would read no sample.
 * The child reads the shared ban maps and its copy of the offence history
 * as of the fork. */
static void snapshot_start(struct daemon *d)
{
	pid_t pid;

	if (d->snap_pid > 0)
		return; /* the last one is still being written */
	pid = fork();
	if (pid < 0) {
		log_warn("cannot fork the snapshot writer (%s): writing it here",
			 strerror(errno));
		count_snapshot(d, !write_snapshot(d));
		return;
	}
	if (!pid) {
		/* A restart after a SIGKILL must not wait for this child. */
		close(d->lock_fd);
		_exit(write_snapshot(d) ? 1 : 0);
	}
	d->snap_pid = pid;
}

/* The last snapshot, at stop: after the child's, written here. */
static void snapshot_final(struct daemon *d)
{
	snapshot_reap(d, true);
	count_snapshot(d, !write_snapshot(d));
}

static int print_dataplane(FILE *f, void *ctx)
{
	struct daemon *d = ctx;
	struct rg_stats s;
	int err;

	err = stats_read(d->maps->stats, &s);
	if (err)
		return err;
	stats_print_prometheus(&s, f);
	return 0;
}

static void write_metrics(struct daemon *d)
{
	struct metrics_input in = {
		.reaction = &d->reaction,
		.bans_by_reason = d->bans_by_reason,
		.pipeline = pipeline_stats(d->pipe),
		.alerts = alert_stats(d->alerts),
		.policy_service = d->psvc ? policysvc_stats(d->psvc) : NULL,
		.daemon = &d->cnt,
		.crowdsec = d->cs ? crowdsec_counters(d->cs) : NULL,
		.dataplane = print_dataplane,
		.dataplane_ctx = d,
	};

	if (d->metrics_file)
		metrics_write(d->metrics_file, &in);
}

/* One step per tick: a million bans are swept in ~55 steps of ~5 ms
 * (~30 s), not in one ~300 ms stall during which no sample is read. */
static void sweep_step(struct daemon *d, uint64_t now)
{
	bool done;

	bans_sweep_step(d->bans, &d->conf, now, SWEEP_STEP_BANS,
			d->bans_by_reason, on_unban, d, &done);
	d->sweeping = !done;
	if (done)
		d->next_sweep = now + SWEEP_EVERY_NS;
}

static void on_timer(struct daemon *d)
{
	uint64_t now = boot_ns(), ticks;

	if (read(d->timerfd, &ticks, sizeof(ticks)) < 0 && errno != EAGAIN)
		log_warn("timerfd: %s", strerror(errno));
	pipeline_tick(d->pipe, now);
	if (d->psvc)
		policysvc_tick(d->psvc, now);
	alert_reap(d->alerts, now);
	if (d->sweeping || now >= d->next_sweep)
		sweep_step(d, now);
	if (now >= d->next_snapshot) {
		snapshot_start(d);
		d->next_snapshot = now + d->conf.snapshot_interval * NSEC_PER_SEC;
	}
	if (d->priority_rest_until && now >= d->priority_rest_until)
		priority_set(d);
	if (now >= d->next_metrics) {
		write_metrics(d);
		d->next_metrics = now + d->conf.metrics_interval * NSEC_PER_SEC;
	}
}

/* ---- reload --------------------------------------------------------- */

static int epoll_add(int epfd, int fd, int tag);

static void apply_interfaces(struct daemon *d, const struct rg_conf *old)
{
	unsigned int i;
	int err;

	for (i = 0; i < old->n_interfaces; i++) {
		if (configured(&d->conf, old->interfaces[i]))
			continue;
		err = loader_detach(old->interfaces[i]);
		if (err)
			log_warn("cannot detach from %s: %s", old->interfaces[i],
				 log_strerror(err));
		else
			log_info("detached from %s (no longer configured)",
				 old->interfaces[i]);
	}
	attach_all(d);
}

static void crowdsec_state_path(const struct daemon *d, char *buf,
				size_t size)
{
	char dir[4096];

	snprintf(dir, sizeof(dir), "%s", d->pid_file);
	snprintf(buf, size, "%s/%s", dirname(dir), CROWDSEC_STATE_FILE);
}

/* Start the LAPI client (NULL when crowdsec_lapi_url is unset). */
static int crowdsec_start(struct daemon *d)
{
	char err[512], path[4200];
	int rc;

	crowdsec_state_path(d, path, sizeof(path));
	d->cs = crowdsec_new(&d->conf, d->bans, path, &rc, err, sizeof(err));
	if (rc) {
		log_err("crowdsec: %s", err);
		return rc;
	}
	if (d->cs)
		log_info("crowdsec: LAPI %s", d->conf.crowdsec_lapi_url);
	return 0;
}

static bool crowdsec_changed(const struct rg_conf *a, const struct rg_conf *b)
{
	return strcmp(a->crowdsec_lapi_url, b->crowdsec_lapi_url) ||
	       strcmp(a->crowdsec_bouncer_key_file,
		      b->crowdsec_bouncer_key_file) ||
	       strcmp(a->crowdsec_machine_id, b->crowdsec_machine_id) ||
	       strcmp(a->crowdsec_machine_password_file,
		      b->crowdsec_machine_password_file) ||
	       a->crowdsec_poll_interval != b->crowdsec_poll_interval;
}

/* New LAPI keys: a new client (its queue of alerts is lost); a refused
 * secret leaves the LAPI off until the next reload. */
static void crowdsec_reload(struct daemon *d, const struct rg_conf *old)
{
	if (!crowdsec_changed(old, &d->conf))
		return;
	if (d->cs)
		epoll_ctl(d->epfd, EPOLL_CTL_DEL, crowdsec_fd(d->cs), NULL);
	crowdsec_free(d->cs);
	d->cs = NULL;
	if (!crowdsec_start(d) && d->cs &&
	    epoll_add(d->epfd, crowdsec_fd(d->cs), EV_CROWDSEC))
		log_err("crowdsec: cannot watch the LAPI client");
}

static void reload(struct daemon *d)
{
	struct rg_conf *next, *old;
	char err[512];
	int rc;

	sd_notify_msg("RELOADING=1");
	next = malloc(sizeof(*next));
	old = malloc(sizeof(*old));
	if (!next || !old) {
		log_err("reload of %s: out of memory; running config kept",
			d->conf_path);
		goto out;
	}
	rc = conf_load(d->conf_path, next, err, sizeof(err));
	if (rc) {
		d->cnt.reload_errors++;
		log_err("reload refused, running config kept: %s", err);
		goto out;
	}
	*old = d->conf;
	d->conf = *next;
	crowdsec_reload(d, old);
	write_dp_config(d);
	write_trusted(d);
	pipeline_set_conf(d->pipe, &d->conf);
	if (strcmp(old->policy_service, d->conf.policy_service)) {
		psvc_close(d);
		psvc_open(d);
	} else if (d->psvc) {
		policysvc_set_conf(d->psvc, &d->conf);
	}
	apply_interfaces(d, old);
	if (memcmp(&old->scheduling, &d->conf.scheduling,
		   sizeof(old->scheduling)) || d->priority_rest_until)
		priority_set(d);
	events_reopen(d);
	d->evidence.known = false; /* state_dir may have moved: count again */
	d->cnt.reloads++;
	d->next_metrics = d->next_snapshot = 0;
	log_info("reloaded %s", d->conf_path);
out:
	free(next);
	free(old);
	sd_notify_msg("READY=1");
}

/* ---- the loop ------------------------------------------------------- */

static void on_signal(struct daemon *d)
{
	struct signalfd_siginfo si;

	while (read(d->sigfd, &si, sizeof(si)) == sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGTERM:
		case SIGINT:
			log_info("signal %d: stopping (programs stay attached, bans stay)",
				 si.ssi_signo);
			d->stop = true;
			break;
		case SIGHUP:
			reload(d);
			break;
		case SIGUSR1:
			events_reopen(d);
			log_info("event log reopened");
			break;
		case SIGCHLD:
			alert_reap(d->alerts, boot_ns());
			snapshot_reap(d, false);
			break;
		case SIGXCPU:
			on_cpu_limit(d);
			break;
		}
	}
}

static int epoll_add(int epfd, int fd, int tag)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = tag };

	return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) ? -errno : 0;
}

static int setup_fds(struct daemon *d)
{
	struct itimerspec its = {
		.it_interval = { 0, TICK_MS * 1000000L },
		.it_value = { 0, TICK_MS * 1000000L },
	};
	sigset_t mask;
	int err;

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGUSR1);
	sigaddset(&mask, SIGCHLD);
	sigaddset(&mask, SIGXCPU);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	d->sigfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	d->timerfd = timerfd_create(CLOCK_BOOTTIME, TFD_NONBLOCK | TFD_CLOEXEC);
	d->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (d->sigfd < 0 || d->timerfd < 0 || d->epfd < 0 ||
	    timerfd_settime(d->timerfd, 0, &its, NULL))
		return -errno;
	err = epoll_add(d->epfd, d->sigfd, EV_SIGNAL);
	if (!err)
		err = epoll_add(d->epfd, d->timerfd, EV_TIMER);
	if (!err)
		err = epoll_add(d->epfd, ring_drain_epoll_fd(d->rb), EV_RING);
	if (!err && d->links)
		err = epoll_add(d->epfd, link_watch_fd(d->links), EV_LINK);
	if (!err && d->cs)
		err = epoll_add(d->epfd, crowdsec_fd(d->cs), EV_CROWDSEC);
	return err;
}

/* Up to a budget of samples: the ring's fd stays readable while some are
 * left, so the next epoll_wait comes back at once, after the other fds
 * had their turn. */
static void drain_samples(struct daemon *d)
{
	bool more;
	int n = ring_drain_run(d->rb, &more);

	if (n < 0)
		log_warn("cannot read the samples ring buffer: %s",
			 log_strerror(n));
	if (more)
		d->cnt.ring_budget_spent++;
	run_pending_alerts(d);
}

static int run_loop(struct daemon *d)
{
	struct epoll_event evs[8];
	int n, i;

	while (!d->stop) {
		n = epoll_wait(d->epfd, evs, 8, -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			log_err("epoll_wait: %s", strerror(errno));
			return -errno;
		}
		for (i = 0; i < n; i++) {
			switch (evs[i].data.u32) {
			case EV_RING:
				drain_samples(d);
				break;
			case EV_SIGNAL:
				on_signal(d);
				break;
			case EV_TIMER:
				on_timer(d);
				break;
			case EV_LINK:
				link_watch_read(d->links);
				break;
			case EV_CROWDSEC:
				crowdsec_dispatch(d->cs);
				break;
			case EV_POLICY:
				policysvc_run(d->psvc);
				run_pending_alerts(d);
				break;
			}
		}
	}
	return 0;
}

/* ---- start and stop ------------------------------------------------- */

static int restore(struct daemon *d, bool fresh_maps)
{
	unsigned long n = 0;
	char path[4096];

	state_path(d, "bans.gz", path, sizeof(path));
	bans_restore(d->bans, path, fresh_maps, &n);
	d->restored = true;
	if (n)
		log_info("restored %lu bans from %s", n, path);
	return 0;
}

static bool maps_pinned(const char *pin_dir)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/%s", pin_dir, RG_MAP_BANS4);
	return !access(path, F_OK);
}

static int start(struct daemon *d)
{
	bool fresh;
	int err;

	fresh = !maps_pinned(d->pin_dir);
	err = loader_load(d->pin_dir, &d->loader);
	if (err) {
		log_err("cannot load the BPF programs (pin dir %s): %s",
			d->pin_dir, log_strerror(err));
		return err;
	}
	d->maps = loader_maps(d->loader);
	err = write_dp_config(d);
	if (err)
		return err;
	write_trusted(d);
	d->bans = bans_new(d->maps);
	d->alerts = alert_new(ALERT_MAX_CHILDREN_DEFAULT);
	d->pipe = pipeline_new(&d->conf, &ops, d);
	if (!d->bans || !d->alerts || !d->pipe)
		return -ENOMEM;
	restore(d, fresh);
	err = crowdsec_start(d); /* a refused secret: before attaching */
	if (err)
		return err;
	d->rb = ring_drain_new(d->maps->samples, on_sample, d,
			       RING_DRAIN_BUDGET);
	if (!d->rb) {
		err = -errno;
		log_err("cannot open the samples ring buffer: %s",
			log_strerror(err));
		return err;
	}
	if (link_watch_open(on_link, d, &d->links))
		log_warn("link events unavailable: interfaces that come back will not be re-attached");
	attach_all(d);
	events_reopen(d);
	err = setup_fds(d);
	if (err) {
		log_err("cannot set up the event loop: %s", strerror(-err));
		return err;
	}
	psvc_open(d);
	d->next_snapshot = boot_ns() + d->conf.snapshot_interval * NSEC_PER_SEC;
	return 0;
}

static void finish(struct daemon *d)
{
	unsigned int i;

	for (i = 0; i < d->n_pending; i++)
		free(d->pending_alert[i]);
	if (d->restored)
		snapshot_final(d);
	if (d->pipe)
		write_metrics(d);
	if (d->events)
		fclose(d->events);
	alert_free(d->alerts);
	crowdsec_free(d->cs);
	link_watch_close(d->links);
	psvc_close(d);
	ring_drain_free(d->rb);
	pipeline_free(d->pipe);
	bans_free(d->bans);
	loader_free(d->loader);
	if (d->epfd > 0)
		close(d->epfd);
}

/* ---- main ----------------------------------------------------------- */

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: relayguardd [-f] [-c CONF] [--pin-dir DIR] [--pid-file PATH]\n"
		"                   [--metrics-file PATH] [-d]\n"
		"       relayguardd --replay FILE.pcap [-c CONF]\n"
		"  -f, --foreground      log to stderr instead of syslog\n"
		"  -c, --config CONF     config file (default %s)\n"
		"      --pin-dir DIR     pinned maps (default %s)\n"
		"      --pid-file PATH   (default %s)\n"
		"      --metrics-file PATH  Prometheus textfile, rewritten every metrics_interval\n"
		"      --replay FILE     run the pipeline on a capture, print decisions, touch no maps\n"
		"  -d, --debug           debug logging\n"
		"Signals: TERM/INT stop (programs and bans stay), HUP reload config and\n"
		"reopen the event log, USR1 reopen the event log.\n",
		CONF_PATH_DEFAULT, RG_PIN_DIR_DEFAULT, PID_FILE_DEFAULT);
}

static int do_replay(const char *pcap, const char *conf_path, bool conf_given)
{
	struct rg_conf conf;
	char err[512];

	conf_defaults(&conf);
	if ((conf_given || !access(conf_path, F_OK)) &&
	    conf_load(conf_path, &conf, err, sizeof(err))) {
		log_err("%s", err);
		return 1;
	}
	return replay_pcap(pcap, &conf, stdout) ? 1 : 0;
}

/* The lock stays held (its fd open) until the process exits. */
static int take_lock(struct daemon *d)
{
	const char *pin_dir = d->pin_dir;
	pid_t holder;
	int fd = instance_lock(pin_dir, &holder);

	if (fd == -EBUSY && holder > 0)
		log_err("relayguardd already running (pid %d) on pin dir %s",
			(int)holder, pin_dir);
	else if (fd == -EBUSY)
		log_err("relayguardd already running on pin dir %s", pin_dir);
	else if (fd < 0)
		log_err("cannot lock pin dir %s: %s", pin_dir,
			log_strerror(fd));
	d->lock_fd = fd;
	return fd < 0 ? fd : 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "foreground", no_argument, NULL, 'f' },
		{ "config", required_argument, NULL, 'c' },
		{ "pin-dir", required_argument, NULL, 'P' },
		{ "pid-file", required_argument, NULL, 'p' },
		{ "metrics-file", required_argument, NULL, 'm' },
		{ "replay", required_argument, NULL, 'r' },
		{ "debug", no_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	static struct daemon d = {
		.conf_path = CONF_PATH_DEFAULT,
		.pin_dir = RG_PIN_DIR_DEFAULT,
		.epfd = -1, .sigfd = -1, .timerfd = -1, .lock_fd = -1,
	};
	enum log_level level = LOG_LVL_INFO;
	const char *replay = NULL;
	bool conf_given = false;
	char err[512];
	int c, rc;

	while ((c = getopt_long(argc, argv, "fc:dh", opts, NULL)) != -1) {
		switch (c) {
		case 'f': d.foreground = true; break;
		case 'c': d.conf_path = optarg; conf_given = true; break;
		case 'P': d.pin_dir = optarg; break;
		case 'p': d.pid_file = optarg; break;
		case 'm': d.metrics_file = optarg; break;
		case 'r': replay = optarg; break;
		case 'd': level = LOG_LVL_DEBUG; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "relayguardd: unexpected argument '%s'\n",
			argv[optind]);
		usage(stderr);
		return 2;
	}
	log_init("relayguardd", !d.foreground && !replay, level);
	if (replay)
		return do_replay(replay, d.conf_path, conf_given);
	if (conf_load(d.conf_path, &d.conf, err, sizeof(err))) {
		log_err("%s", err);
		return 1;
	}
	if (!d.pid_file)
		d.pid_file = d.conf.pid_file[0] ? d.conf.pid_file :
						  PID_FILE_DEFAULT;
	rc = take_lock(&d);
	if (!rc)
		rc = start(&d);
	if (!rc && d.conf.scheduling.kind != PRIORITY_NONE)
		priority_set(&d);
	if (!rc) {
		if (write_pid_file(d.pid_file))
			log_warn("cannot write pid file %s: %s", d.pid_file,
				 strerror(errno));
		log_info("running: %u interface(s), pin dir %s, mode %s",
			 d.conf.n_interfaces, d.pin_dir,
			 d.conf.dp.flags & RG_CFG_MONITOR ? "monitor" :
							    "enforce");
		sd_notify_msg("READY=1");
		rc = run_loop(&d);
		sd_notify_msg("STOPPING=1");
		unlink(d.pid_file);
	}
	finish(&d);
	return rc ? 1 : 0;
}
