// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The data plane as the config says: the config map, trusted_networks in
 * the allow maps, the programs attached to each configured interface (and
 * again when a link comes back), detached from those no longer listed. */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "daemon.h"
#include "clock.h"
#include "dpconfig.h"
#include "flowmap.h"
#include "loader.h"
#include "log.h"
#include "ringdrain.h"
#include "trusted.h"

int daemon_write_dp_config(struct daemon *d)
{
	struct rg_config cfg = d->conf.dp;
	int err = dpconfig_store(d->maps->config, &cfg);

	if (err) {
		log_err("cannot write the config map: %s", log_strerror(err));
		return err;
	}
	maps_acl_changed(d->maps);
	d->hash_seed = cfg.hash_seed;
	return 0;
}

void daemon_write_trusted(struct daemon *d)
{
	struct trusted_sync_result r;
	int err = trusted_sync(d->maps, &d->conf, &r);

	if (err)
		log_err("cannot write trusted_networks into the allow maps: %s",
			log_strerror(err));
	if (r.added || r.removed)
		log_info(
			"trusted_networks: %u added to the allow maps, %u removed",
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

void daemon_attach_all(struct daemon *d)
{
	unsigned int i;

	for (i = 0; i < d->conf.n_interfaces; i++)
		ensure_attached(d, d->conf.interfaces[i], false);
}

void daemon_on_link(void *ctx, const char *ifname, int ifindex, bool present,
		    bool up)
{
	struct daemon *d = ctx;

	(void)ifindex;
	(void)up;
	if (!ifname) {
		daemon_attach_all(d);
		return;
	}
	if (!configured(&d->conf, ifname))
		return;
	if (!present) {
		log_warn(
			"interface %s went away; will re-attach when it comes back",
			ifname);
		return;
	}
	if (ensure_attached(d, ifname, true) == 1)
		d->cnt.link_reattach++;
}

void daemon_apply_interfaces(struct daemon *d, const struct rg_conf *old)
{
	unsigned int i;
	int err;

	for (i = 0; i < old->n_interfaces; i++) {
		if (configured(&d->conf, old->interfaces[i]))
			continue;
		err = loader_detach(old->interfaces[i]);
		if (err)
			log_warn("cannot detach from %s: %s",
				 old->interfaces[i], log_strerror(err));
		else
			log_info("detached from %s (no longer configured)",
				 old->interfaces[i]);
	}
	daemon_attach_all(d);
}

struct adopt {
	struct daemon *d;
	uint64_t now_ns;
	unsigned int adopted, failed;
};

static void adopt_one(const struct rg_flow *f, void *ctx)
{
	struct adopt *a = ctx;
	int rc;

	if (a->now_ns - f->last_ns > RG_FLOW_IDLE_NS)
		return;
	rc = pipeline_adopt(a->d->pipe, f);
	if (rc > 0)
		a->adopted++;
	else if (rc < 0)
		a->failed++;
}

static int feed_old(void *ctx, void *data, size_t size)
{
	struct daemon *d = ctx;

	pipeline_feed(d->pipe, data, size);
	return 0;
}

/* What the replaced programs sampled while no daemon read it (the old
 * daemon stopped, the migration under way). */
static void drain_old_samples(struct daemon *d)
{
	int fd = loader_take_old_samples(d->loader), n, total = 0;
	struct ring_drain *rb;
	bool more = true;

	if (fd < 0)
		return;
	rb = ring_drain_new(fd, feed_old, d, RING_DRAIN_BUDGET);
	if (!rb) {
		log_warn("cannot read the old samples ring: %s",
			 log_strerror(-errno));
		close(fd);
		return;
	}
	while (more && (n = ring_drain_run(rb, &more)) >= 0)
		total += n;
	ring_drain_free(rb);
	close(fd);
	log_info("%d sample(s) the replaced programs left read", total);
}

void daemon_adopt_flows(struct daemon *d)
{
	struct adopt a = { .d = d, .now_ns = boot_ns() };
	int err = flowmap_for_each(d->maps->flows, adopt_one, &a);

	if (err)
		log_warn("cannot read the flows map: sessions in progress are "
			 "taken up as new ones: %s",
			 log_strerror(err));
	if (a.adopted || a.failed)
		log_info("%u session(s) in progress taken up from the flows "
			 "map (%u could not be)",
			 a.adopted, a.failed);
	drain_old_samples(d);
}
