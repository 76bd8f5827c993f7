// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Housekeeping on the daemon's timer: the stepped sweep of expired bans,
 * the ban snapshot (written by a child, restored at start), the metrics
 * file, and the scheduling priority taken again after its rest. */
#include <bpf/bpf.h>
#include <errno.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "alert.h"
#include "clock.h"
#include "daemon.h"
#include "fsutil.h"
#include "loader.h"
#include "log.h"
#include "policysvc.h"
#include "priority.h"
#include "stats.h"

#define SWEEP_EVERY_NS	(5 * NSEC_PER_SEC)
#define SWEEP_STEP_BANS 16384

void daemon_priority_set(struct daemon *d)
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
 * sleeping. Rest at normal priority, then take it again (daemon_on_timer). */
void daemon_on_cpu_limit(struct daemon *d)
{
	int err;

	if (d->conf.scheduling.kind != PRIORITY_FIFO)
		return;
	d->cnt.priority_drops++;
	err = priority_drop();
	d->priority_rest_until = boot_ns() + PRIORITY_REST_NS;
	log_warn(
		"a second on the CPU without sleeping: real-time priority dropped for %llu s%s%s",
		PRIORITY_REST_NS / NSEC_PER_SEC, err ? ": " : "",
		err ? log_strerror(err) : "");
}

static int write_snapshot(struct daemon *d)
{
	char path[4096];
	int err;

	err = fs_mkdirs(d->conf.state_dir, 0755);
	daemon_state_path(d, "bans.gz", path, sizeof(path));
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

void daemon_snapshot_reap(struct daemon *d, bool wait)
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
		log_warn(
			"cannot fork the snapshot writer (%s): writing it here",
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

void daemon_snapshot_final(struct daemon *d)
{
	daemon_snapshot_reap(d, true);
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

static uint64_t map_capacity(int fd)
{
	struct bpf_map_info info = { 0 };
	__u32 len = sizeof(info);

	return bpf_obj_get_info_by_fd(fd, &info, &len) ? 0 : info.max_entries;
}

/* What the alert rules watch: the write itself, the programs on each
 * configured interface, how full the ban maps are. */
static void fill_health(struct daemon *d, struct metrics_health *h,
			struct metrics_iface *ifaces)
{
	struct attach_state st;
	unsigned int i;

	h->written_unix = clock_ns(CLOCK_REALTIME) / NSEC_PER_SEC;
	h->interval_s = d->conf.metrics_interval;
	for (i = 0; i < d->conf.n_interfaces; i++) {
		ifaces[i].name = d->conf.interfaces[i];
		if (loader_query(d->conf.interfaces[i], &st))
			memset(&st, 0, sizeof(st)); /* gone: nothing attached */
		ifaces[i].xdp = st.xdp;
		ifaces[i].tc = st.tc;
	}
	h->ifaces = ifaces;
	h->n_ifaces = d->conf.n_interfaces;
	bans_in_maps(d->bans, &h->ban_entries[0], &h->ban_entries[1]);
	h->ban_capacity[0] = map_capacity(d->maps->bans4);
	h->ban_capacity[1] = map_capacity(d->maps->bans6);
}

void daemon_write_metrics(struct daemon *d)
{
	struct metrics_iface ifaces[CONF_MAX_INTERFACES];
	struct metrics_health health;
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
		.health = &health,
	};

	if (!d->metrics_file)
		return;
	fill_health(d, &health, ifaces);
	metrics_write(d->metrics_file, &in);
}

/* One step per tick: a million bans are swept in ~55 steps of ~5 ms
 * (~30 s), not in one ~300 ms stall during which no sample is read. */
static void sweep_step(struct daemon *d, uint64_t now)
{
	bool done;

	bans_sweep_step(d->bans, &d->conf, now, SWEEP_STEP_BANS,
			d->bans_by_reason, daemon_unbanned, d, &done);
	d->sweeping = !done;
	if (done)
		d->next_sweep = now + SWEEP_EVERY_NS;
}

void daemon_on_timer(struct daemon *d)
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
		d->next_snapshot =
			now + d->conf.snapshot_interval * NSEC_PER_SEC;
	}
	if (d->priority_rest_until && now >= d->priority_rest_until)
		daemon_priority_set(d);
	if (now >= d->next_metrics) {
		daemon_write_metrics(d);
		d->next_metrics = now + d->conf.metrics_interval * NSEC_PER_SEC;
	}
}

void daemon_restore(struct daemon *d, bool fresh_maps)
{
	unsigned long n = 0;
	char path[4096];

	daemon_state_path(d, "bans.gz", path, sizeof(path));
	bans_restore(d->bans, path, fresh_maps, &n);
	d->restored = true;
	if (n)
		log_info("restored %lu bans from %s", n, path);
}
