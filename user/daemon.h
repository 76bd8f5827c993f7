/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* relayguardd's state, shared by the files that act for it (as OpenBSD
 * relayd shares struct relayd): relayguardd.c starts, reloads and stops
 * it and owns the event loop; daemon_actions.c carries out the pipeline's
 * decisions; daemon_attach.c keeps the data plane configured and attached;
 * daemon_house.c runs the housekeeping timer; daemon_services.c wires the
 * Postfix policy service and the CrowdSec LAPI client. */
#ifndef RG_DAEMON_H
#define RG_DAEMON_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <sys/types.h>

#include "bans.h"
#include "config.h"
#include "evidence.h"
#include "metrics.h"
#include "pipeline.h"

/* Alerts decided while the ring buffer is drained are run after it, so
 * that spawning alert_command never delays the ban that follows them. */
#define MAX_PENDING_ALERTS 8

struct mta_watch;

/* epoll tags of the daemon's loop */
enum { EV_RING, EV_SIGNAL, EV_TIMER, EV_LINK, EV_POLICY, EV_CROWDSEC, EV_MTA };

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
	struct escalate *esc; /* ipv6_escalate */
	struct alerter *alerts;
	struct link_watch *links;
	struct crowdsec *cs;	/* NULL: no crowdsec_lapi_url */
	struct policysvc *psvc; /* the Postfix policy service, or NULL */
	struct mta_watch *mta;	/* local_domains = postfix:DIR, or NULL */
	__u32 hash_seed; /* config.hash_seed: where flows live in `flows` */
	struct evidence_dir evidence; /* state_dir/evidence within its bound */
	/* The last pcap written: an accepted relay's alert and its ban
	 * (same flow, same sample) share one file. */
	struct {
		struct rg_flow_key key;
		uint64_t sample_ns;
		char path[4096];
	} last_evidence;
	int epfd, sigfd, timerfd;
	int lock_fd; /* instance_lock on the pin dir, held until exit */
	FILE *events;

	struct reaction_hist reaction;
	struct daemon_counters cnt;
	uint64_t bans_by_reason[RG_REASON_MAX];
	uint64_t next_sweep, next_snapshot, next_metrics;
	bool sweeping;		      /* a stepped sweep is under way */
	uint64_t priority_rest_until; /* after SIGXCPU: normal priority until */
	pid_t snap_pid; /* the periodic snapshot's writer, while it runs */
	bool restored; /* snapshots may be written (never before the restore) */
	char *pending_alert[MAX_PENDING_ALERTS];
	unsigned int n_pending;
	bool stop;
};

static inline void daemon_state_path(const struct daemon *d, const char *name,
				     char *buf, size_t size)
{
	snprintf(buf, size, "%s/%s", d->conf.state_dir, name);
}

/* Watch fd for EPOLLIN under tag. 0 or -errno. */
static inline int daemon_epoll_add(int epfd, int fd, int tag)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = tag };

	return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) ? -errno : 0;
}

/* daemon_actions.c: decisions into bans, alerts, events and evidence. */
extern const struct pipeline_ops daemon_pipeline_ops;
void daemon_decide(void *ctx, const struct decision *dec);
void daemon_run_pending_alerts(struct daemon *d);
void daemon_drop_pending_alerts(struct daemon *d);
/* (Re)open the event log: at start, on SIGHUP and SIGUSR1 (logrotate). */
void daemon_events_reopen(struct daemon *d);
/* bans_sweep_step's callback: an expired ban, logged and as an event. */
void daemon_unbanned(const struct ban_entry *e, void *ctx);

/* daemon_attach.c: the config map, trusted networks, attach and links. */
int daemon_write_dp_config(struct daemon *d);
void daemon_write_trusted(struct daemon *d);
void daemon_attach_all(struct daemon *d);
/* The sessions the data plane was sampling before this daemon started (a
 * restart, an upgrade) into the pipeline (pipeline_adopt), then what the
 * programs an upgrade replaced sampled meanwhile. */
void daemon_adopt_flows(struct daemon *d);
/* After a reload: detach what is no longer configured, attach the rest. */
void daemon_apply_interfaces(struct daemon *d, const struct rg_conf *old);
/* link_watch's callback: re-attach an interface that came back. */
void daemon_on_link(void *ctx, const char *ifname, int ifindex, bool present,
		    bool up);

/* daemon_house.c: the timer's work, snapshots, metrics, priority. */
void daemon_on_timer(struct daemon *d);
/* The snapshot of state_dir/bans.gz put back at start. */
void daemon_restore(struct daemon *d, bool fresh_maps);
/* The last snapshot's writer, once it has exited (wait: block for it). */
void daemon_snapshot_reap(struct daemon *d, bool wait);
/* The last snapshot, at stop: after the child's, written here. */
void daemon_snapshot_final(struct daemon *d);
void daemon_write_metrics(struct daemon *d);
void daemon_priority_set(struct daemon *d);
/* RLIMIT_RTTIME's SIGXCPU: rest at normal priority for a while. */
void daemon_on_cpu_limit(struct daemon *d);

/* daemon_services.c: the Postfix policy service and the LAPI client. */
void daemon_psvc_open(struct daemon *d);
void daemon_psvc_close(struct daemon *d);
void daemon_psvc_reload(struct daemon *d, const struct rg_conf *old);
/* Start the LAPI client (none when crowdsec_lapi_url is unset). */
int daemon_crowdsec_start(struct daemon *d);
/* New LAPI settings: a new client. */
void daemon_crowdsec_reload(struct daemon *d, const struct rg_conf *old);

/* daemon_mta.c: local_domains = postfix:DIR followed (mtawatch.h). */
/* After d->conf changed (start, reload): sets d->conf.mta, reads Postfix
 * again, writes the local domains state file. */
void daemon_mta_apply(struct daemon *d);
/* Into the loop once it exists (start). */
void daemon_mta_epoll(struct daemon *d);
/* The fd was readable, SIGCHLD came or the timer ticked. */
void daemon_mta_run(struct daemon *d);
void daemon_mta_close(struct daemon *d);

#endif
