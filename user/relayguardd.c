// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* relayguardd: the controller. Wires the modules together and owns the
 * single-threaded event loop (epoll over the samples ring buffer, signalfd,
 * a housekeeping timerfd and the rtnetlink socket); it holds no policy.
 * What the loop calls is in the daemon_*.c files (see daemon.h).
 * Kernel state outlives it: on stop, programs stay attached and maps
 * pinned, so bans keep working and expire on time while it is down. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "alert.h"
#include "checkconf.h"
#include "clock.h"
#include "config.h"
#include "cs_client.h"
#include "daemon.h"
#include "escalate.h"
#include "fsutil.h"
#include "instance.h"
#include "loader.h"
#include "log.h"
#include "names.h"
#include "netlink.h"
#include "pipeline.h"
#include "policysvc.h"
#include "priority.h"
#include "replay.h"
#include "ringdrain.h"
#include "sdnotify.h"

#define TICK_MS 500 /* housekeeping timer period */

/* ---- reload --------------------------------------------------------- */

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
	daemon_mta_apply(d);
	daemon_crowdsec_reload(d, old);
	daemon_write_dp_config(d);
	daemon_write_trusted(d);
	pipeline_conf_changed(d->pipe);
	daemon_psvc_reload(d, old);
	daemon_apply_interfaces(d, old);
	if (memcmp(&old->scheduling, &d->conf.scheduling,
		   sizeof(old->scheduling)) ||
	    d->priority_rest_until)
		daemon_priority_set(d);
	daemon_events_reopen(d);
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

static int on_sample(void *ctx, void *data, size_t size)
{
	struct daemon *d = ctx;

	pipeline_feed(d->pipe, data, size);
	return 0;
}

static void on_signal(struct daemon *d)
{
	struct signalfd_siginfo si;

	while (read(d->sigfd, &si, sizeof(si)) == sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGTERM:
		case SIGINT:
			log_info(
				"signal %d: stopping (programs stay attached, bans stay)",
				si.ssi_signo);
			d->stop = true;
			break;
		case SIGHUP:
			reload(d);
			break;
		case SIGUSR1:
			daemon_events_reopen(d);
			log_info("event log reopened");
			break;
		case SIGCHLD:
			alert_reap(d->alerts, boot_ns());
			daemon_snapshot_reap(d, false);
			daemon_mta_run(d);
			break;
		case SIGXCPU:
			daemon_on_cpu_limit(d);
			break;
		}
	}
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
	err = daemon_epoll_add(d->epfd, d->sigfd, EV_SIGNAL);
	if (!err)
		err = daemon_epoll_add(d->epfd, d->timerfd, EV_TIMER);
	if (!err)
		err = daemon_epoll_add(d->epfd, ring_drain_epoll_fd(d->rb),
				       EV_RING);
	if (!err && d->links)
		err = daemon_epoll_add(d->epfd, link_watch_fd(d->links),
				       EV_LINK);
	if (!err && d->cs)
		err = daemon_epoll_add(d->epfd, crowdsec_fd(d->cs),
				       EV_CROWDSEC);
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
	daemon_run_pending_alerts(d);
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
				daemon_on_timer(d);
				daemon_mta_run(d);
				break;
			case EV_MTA:
				daemon_mta_run(d);
				daemon_run_pending_alerts(d);
				break;
			case EV_LINK:
				link_watch_read(d->links);
				break;
			case EV_CROWDSEC:
				crowdsec_dispatch(d->cs);
				break;
			case EV_POLICY:
				policysvc_run(d->psvc);
				daemon_run_pending_alerts(d);
				break;
			}
		}
	}
	return 0;
}

/* ---- start and stop ------------------------------------------------- */

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
	err = daemon_write_dp_config(d);
	if (err)
		return err;
	daemon_write_trusted(d);
	daemon_mta_apply(d); /* before the pipeline copies d->conf */
	d->bans = bans_new(d->maps);
	d->esc = escalate_new();
	d->alerts = alert_new(ALERT_MAX_CHILDREN_DEFAULT);
	d->pipe = pipeline_new(&d->conf, &daemon_pipeline_ops, d);
	if (!d->bans || !d->esc || !d->alerts || !d->pipe) {
		log_err("out of memory setting up bans, escalation, alerts and the pipeline");
		return -ENOMEM;
	}
	daemon_restore(d, fresh);
	err = daemon_crowdsec_start(d); /* a refused secret: before attaching */
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
	if (link_watch_open(daemon_on_link, d, &d->links))
		log_warn(
			"link events unavailable: interfaces that come back will not be re-attached");
	daemon_attach_all(d);
	daemon_events_reopen(d);
	daemon_adopt_flows(d);
	err = setup_fds(d);
	if (err) {
		log_err("cannot set up the event loop: %s", log_strerror(err));
		return err;
	}
	daemon_psvc_open(d);
	daemon_mta_epoll(d);
	d->next_snapshot = boot_ns() + d->conf.snapshot_interval * NSEC_PER_SEC;
	return 0;
}

static void finish(struct daemon *d)
{
	daemon_drop_pending_alerts(d);
	if (d->restored)
		daemon_snapshot_final(d);
	if (d->pipe)
		daemon_write_metrics(d);
	if (d->events)
		fclose(d->events);
	alert_free(d->alerts);
	crowdsec_free(d->cs);
	link_watch_close(d->links);
	daemon_psvc_close(d);
	daemon_mta_close(d);
	ring_drain_free(d->rb);
	pipeline_free(d->pipe);
	bans_free(d->bans);
	escalate_free(d->esc);
	loader_free(d->loader);
	fs_close(d->epfd);
	fs_close(d->timerfd);
	fs_close(d->sigfd);
}

/* ---- main ----------------------------------------------------------- */

/* What the command line says, before anything acts on it. */
struct args {
	const char *config, *pin_dir, *pid_file, *metrics_file, *replay;
	bool foreground, check, debug, help;
};

/* One table drives getopt_long, the parse and the help text. */
static const struct opt_desc {
	const char *name;
	char short_name; /* 0: long only */
	const char *arg; /* the argument's name; NULL: a flag */
	const char *help;
	size_t off; /* of a const char * (with arg) or a bool in struct args */
} opt_descs[] = {
	{ "foreground", 'f', NULL, "log to stderr instead of syslog",
	  offsetof(struct args, foreground) },
	{ "config", 'c', "CONF", "config file (default " CONF_PATH_DEFAULT ")",
	  offsetof(struct args, config) },
	{ "pin-dir", 0, "DIR", "pinned maps (default " RG_PIN_DIR_DEFAULT ")",
	  offsetof(struct args, pin_dir) },
	{ "pid-file", 0, "PATH", "(default " CONF_PID_FILE_DEFAULT ")",
	  offsetof(struct args, pid_file) },
	{ "metrics-file", 0, "PATH",
	  "Prometheus textfile, rewritten every metrics_interval",
	  offsetof(struct args, metrics_file) },
	{ "replay", 0, "FILE",
	  "run the pipeline on a capture, print decisions, touch no maps",
	  offsetof(struct args, replay) },
	{ "check-config", 't', NULL,
	  "check CONF and load the programs through the verifier;\n"
	  "attach, pin and signal nothing; exit 0 if a start would take it",
	  offsetof(struct args, check) },
	{ "debug", 'd', NULL, "debug logging", offsetof(struct args, debug) },
	{ "help", 'h', NULL, "this text", offsetof(struct args, help) },
};
#define N_OPTS (ARRAY_LEN(opt_descs))

static void usage_option(FILE *f, const struct opt_desc *o)
{
	char left[48];
	const char *help = o->help, *nl;

	snprintf(left, sizeof(left), "%c%c%s --%s%s%s",
		 o->short_name ? '-' : ' ', o->short_name ? o->short_name : ' ',
		 o->short_name ? "," : " ", o->name, o->arg ? " " : "",
		 o->arg ? o->arg : "");
	while ((nl = strchr(help, '\n'))) {
		fprintf(f, "  %-21s %.*s\n", left, (int)(nl - help), help);
		left[0] = '\0';
		help = nl + 1;
	}
	fprintf(f, "  %-21s %s\n", left, help);
}

static void usage(FILE *f)
{
	size_t i;

	fputs("Usage: relayguardd [-f] [-c CONF] [--pin-dir DIR] [--pid-file PATH]\n"
	      "                   [--metrics-file PATH] [-d]\n"
	      "       relayguardd --replay FILE.pcap [-c CONF]\n"
	      "       relayguardd -t|--check-config [-c CONF]\n",
	      f);
	for (i = 0; i < N_OPTS; i++)
		usage_option(f, &opt_descs[i]);
	fputs("Signals: TERM/INT stop (programs and bans stay), HUP reload config and\n"
	      "reopen the event log, USR1 reopen the event log.\n",
	      f);
}

/* getopt_long's view of the table: val is the index + 256, or the short
 * name where there is one. */
static void build_getopt(struct option *longs, char *shorts)
{
	const struct opt_desc *o;
	size_t i;

	for (i = 0; i < N_OPTS; i++) {
		o = &opt_descs[i];
		longs[i] = (struct option){
			o->name, o->arg ? required_argument : no_argument, NULL,
			o->short_name ? o->short_name : (int)i + 256
		};
		if (o->short_name) {
			*shorts++ = o->short_name;
			if (o->arg)
				*shorts++ = ':';
		}
	}
	longs[N_OPTS] = (struct option){ 0 };
	*shorts = '\0';
}

static const struct opt_desc *opt_of(int val)
{
	size_t i;

	for (i = 0; i < N_OPTS; i++)
		if (opt_descs[i].short_name ? opt_descs[i].short_name == val
					    : (int)i + 256 == val)
			return &opt_descs[i];
	return NULL;
}

/* 0, or 2 (bad usage, said on stderr). */
static int parse_args(int argc, char **argv, struct args *a)
{
	struct option longs[N_OPTS + 1];
	char shorts[2 * N_OPTS + 1];
	const struct opt_desc *o;
	int c;

	build_getopt(longs, shorts);
	while ((c = getopt_long(argc, argv, shorts, longs, NULL)) != -1) {
		o = opt_of(c);
		if (!o) {
			usage(stderr);
			return 2;
		}
		if (o->arg)
			*(const char **)((char *)a + o->off) = optarg;
		else
			*(bool *)((char *)a + o->off) = true;
	}
	if (optind != argc) {
		fprintf(stderr, "relayguardd: unexpected argument '%s'\n",
			argv[optind]);
		usage(stderr);
		return 2;
	}
	return 0;
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

/* Running: the pid file written, systemd told, the loop until a stop. */
static int serve(struct daemon *d)
{
	int err = instance_write_pid(d->pid_file);

	if (err)
		log_warn("cannot write pid file %s: %s", d->pid_file,
			 log_strerror(err));
	log_info("running: %u interface(s), pin dir %s, mode %s",
		 d->conf.n_interfaces, d->pin_dir,
		 d->conf.dp.flags & RG_CFG_MONITOR ? "monitor" : "enforce");
	sd_notify_msg("READY=1");
	err = run_loop(d);
	sd_notify_msg("STOPPING=1");
	unlink(d->pid_file);
	return err;
}

/* The daemon proper: the config, the lock, start, the loop, stop. */
static int run_daemon(struct daemon *d)
{
	char err[512];
	int rc;

	if (conf_load(d->conf_path, &d->conf, err, sizeof(err))) {
		log_err("%s", err);
		return 1;
	}
	if (!d->pid_file)
		d->pid_file = d->conf.pid_file[0] ? d->conf.pid_file
						  : CONF_PID_FILE_DEFAULT;
	rc = take_lock(d);
	if (!rc)
		rc = start(d);
	if (!rc && d->conf.scheduling.kind != PRIORITY_NONE)
		daemon_priority_set(d);
	if (!rc)
		rc = serve(d);
	finish(d);
	return rc ? 1 : 0;
}

int main(int argc, char **argv)
{
	static struct daemon d = {
		.epfd = -1,
		.sigfd = -1,
		.timerfd = -1,
		.lock_fd = -1,
	};
	struct args a = { .pin_dir = RG_PIN_DIR_DEFAULT };
	int rc = parse_args(argc, argv, &a);

	if (rc)
		return rc;
	if (a.help) {
		usage(stdout);
		return 0;
	}
	log_init("relayguardd", !a.foreground && !a.replay && !a.check,
		 a.debug ? LOG_LVL_DEBUG : LOG_LVL_INFO);
	d.conf_path = a.config ? a.config : CONF_PATH_DEFAULT;
	if (a.replay)
		return do_replay(a.replay, d.conf_path, a.config != NULL);
	if (a.check)
		return checkconf_run(d.conf_path, stdout) ? 1 : 0;
	d.pin_dir = a.pin_dir;
	d.pid_file = a.pid_file;
	d.metrics_file = a.metrics_file;
	d.foreground = a.foreground;
	return run_daemon(&d);
}
