// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* relayguardctl status, attach, detach, reload. */
#include <errno.h>
#include <net/if.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "ctl.h"
#include "dpconfig.h"
#include "flowmap.h"
#include "log.h"
#include "parse.h"

static int no_more_args(int argc, char **argv, const char *cmd)
{
	if (argc > 0)
		return ctl_err(-EINVAL, "%s: unexpected argument '%s'", cmd,
			       ctl_quote(argv[0]));
	return 0;
}

static int check_iface_name(const char *name)
{
	if (!name[0] || strlen(name) >= IF_NAMESIZE)
		return ctl_err(-EINVAL, "bad interface name '%s'",
			       ctl_quote(name));
	if (!if_nametoindex(name))
		return ctl_err(-ENODEV, "no interface %s", ctl_quote(name));
	return 0;
}

static void print_attach_state(const char *ifname,
			       const struct attach_state *st)
{
	print_obj_start(NULL);
	print_str("interface", "%-16s", ifname);
	print_bool("xdp", " xdp %s", st->xdp);
	if (st->xdp) {
		print_str("xdp_mode", " (%s", xdp_attach_mode_name(st->mode));
		print_uint("xdp_prog_id", ", prog id %llu)", st->xdp_prog_id);
	}
	print_bool("tc_egress", "  tc egress %s", st->tc);
	if (st->tc)
		print_uint("tc_prog_id", " (prog id %llu)", st->tc_prog_id);
	print_text("\n");
	print_obj_end();
}

int do_attach(int argc, char **argv)
{
	enum xdp_attach_mode mode = XDP_ATTACH_AUTO, used;
	struct attach_state st;
	struct loader *l = NULL;
	int err;

	if (argc < 1)
		return ctl_err(-EINVAL, "attach: missing IFACE");
	err = check_iface_name(argv[0]);
	if (err)
		return err;
	if (argc > 1 && xdp_attach_mode_parse(argv[1], &mode))
		return ctl_err(-EINVAL,
			       "attach: bad mode '%s': native, generic or auto",
			       ctl_quote(argv[1]));
	err = no_more_args(argc - 2 > 0 ? argc - 2 : 0, argv + 2, "attach");
	if (err)
		return err;
	err = loader_load(ctl.pin_dir, &l);
	if (err)
		return err;
	err = loader_attach(l, argv[0], mode, &used);
	loader_free(l);
	if (err)
		return err;
	err = loader_query(argv[0], &st);
	if (err)
		return ctl_err(err, "attached to %s but cannot query it: %s",
			       argv[0], log_strerror(err));
	print_text("attached ");
	print_attach_state(argv[0], &st);
	return 0;
}

/* Purging maps that programs elsewhere still use would leave those
 * programs enforcing bans nobody can see or lift: refused, nothing
 * changed. */
static int purge_allowed(const char *ifname)
{
	struct attach_state st;
	long user;

	if (loader_query(ifname, &st))
		memset(&st, 0, sizeof(st));
	user = loader_maps_user(ctl.pin_dir, st.xdp_prog_id);
	if (user < 0)
		return ctl_err(user, "detach %s --purge: cannot list BPF "
			       "programs: %s", ifname, log_strerror(user));
	if (user)
		return ctl_err(-EBUSY, "detach %s --purge: the maps under %s "
			       "are still used by relayguard XDP program %ld "
			       "(on another interface, or loaded by a running "
			       "relayguardd); detach or stop it first; nothing "
			       "changed", ifname, ctl.pin_dir, user);
	return 0;
}

int do_detach(int argc, char **argv)
{
	bool purge = false;
	int err, i;

	if (argc < 1)
		return ctl_err(-EINVAL, "detach: missing IFACE");
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--purge"))
			return no_more_args(argc - i, argv + i, "detach");
		purge = true;
	}
	err = check_iface_name(argv[0]);
	if (err)
		return err;
	if (purge) {
		err = purge_allowed(argv[0]);
		if (err)
			return err;
	}
	err = loader_detach(argv[0]);
	if (err)
		return err;
	if (purge) {
		err = loader_purge(ctl.pin_dir);
		if (err)
			return err;
	}
	print_obj_start(NULL);
	print_str("detached", "detached %s", argv[0]);
	print_bool("purged", purge ? ", maps purged\n" : "\n", purge);
	print_obj_end();
	return 0;
}

/* The pid in the daemon's pid file; 0 with *why set when there is none. */
static pid_t daemon_pid(const char **why)
{
	unsigned long pid;
	char buf[32], *nl;
	FILE *f;

	f = fopen(ctl.pid_file, "r");
	if (!f) {
		*why = strerror(errno);
		return 0;
	}
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = '\0';
	fclose(f);
	nl = strchr(buf, '\n');
	if (nl)
		*nl = '\0';
	if (parse_ulong(buf, 1, 4194304, &pid)) {
		*why = "no pid in it";
		return 0;
	}
	return pid;
}

/* Alive: the pid exists and its command is relayguardd. */
static bool daemon_alive(pid_t pid)
{
	char path[64], comm[32] = "";
	FILE *f;

	if (kill(pid, 0) && errno != EPERM)
		return false;
	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return false;
	if (!fgets(comm, sizeof(comm), f))
		comm[0] = '\0';
	fclose(f);
	return !strncmp(comm, "relayguardd", 11);
}

int do_reload(int argc, char **argv)
{
	const char *why = NULL;
	pid_t pid;
	int err;

	err = no_more_args(argc, argv, "reload");
	if (err)
		return err;
	pid = daemon_pid(&why);
	if (!pid)
		return ctl_err(-ESRCH, "cannot read pid file %s: %s",
			       ctl.pid_file, why);
	if (!daemon_alive(pid))
		return ctl_err(-ESRCH,
			       "relayguardd (pid %d from %s) is not running",
			       (int)pid, ctl.pid_file);
	if (kill(pid, SIGHUP))
		return ctl_err(-errno, "cannot signal relayguardd (pid %d): %s",
			       (int)pid, strerror(errno));
	print_obj_start(NULL);
	print_uint("reloaded", "sent SIGHUP to relayguardd (pid %llu)\n", pid);
	print_obj_end();
	return 0;
}

static void status_interfaces(void)
{
	struct if_nameindex *ifs, *i;
	struct attach_state st;
	int n = 0;

	print_arr_start("interfaces");
	ifs = if_nameindex();
	for (i = ifs; i && i->if_index; i++) {
		if (loader_query(i->if_name, &st) || (!st.xdp && !st.tc))
			continue;
		if (!n++)
			print_text("attached:\n  ");
		else
			print_text("  ");
		print_attach_state(i->if_name, &st);
	}
	if (ifs)
		if_freenameindex(ifs);
	if (!n)
		print_text("attached: none\n");
	print_arr_end();
}

static int array_fill(int fd, long used_off, unsigned long *entries,
		      unsigned long *max)
{
	struct bpf_map_info info = {0};
	__u32 len = sizeof(info);
	long used;

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	used = flowmap_used(fd, used_off);
	if (used < 0)
		return used;
	*entries = used;
	*max = info.max_entries;
	return 0;
}

static void status_maps(const struct rg_maps *m)
{
	/* used: for the self-hashed arrays, where a slot's family byte is */
	static const struct {
		const char *name;
		size_t off;
		long used;
	} counted[] = {
#define M(f) {#f, offsetof(struct rg_maps, f), -1}
		M(bans4), M(bans6), M(allow4), M(allow6), M(deny4), M(deny6),
#undef M
		{"ratelimit", offsetof(struct rg_maps, ratelimit),
		 offsetof(struct rg_bucket, src.family)},
		{"flows", offsetof(struct rg_maps, flows),
		 offsetof(struct rg_flow, key.family)},
	};
	unsigned long entries, max;
	size_t i;
	int fd;

	print_text("maps:\n");
	print_arr_start("maps");
	for (i = 0; i < sizeof(counted) / sizeof(counted[0]); i++) {
		fd = *(const int *)((const char *)m + counted[i].off);
		if (counted[i].used < 0 ? ctl_map_fill(fd, &entries, &max) :
		    array_fill(fd, counted[i].used, &entries, &max))
			continue;
		print_obj_start(NULL);
		print_str("name", "  %-10s", counted[i].name);
		print_uint("entries", " %9llu", entries);
		print_uint("max_entries", " / %llu", max);
		print_text(" (%.1f%%)\n", max ? 100.0 * entries / max : 0.0);
		print_obj_end();
	}
	print_arr_end();
}

static void status_daemon(void)
{
	const char *why = NULL;
	pid_t pid = daemon_pid(&why);
	bool alive = pid && daemon_alive(pid);

	print_obj_start("daemon");
	print_str("pid_file", "daemon: %s", ctl.pid_file);
	if (pid)
		print_uint("pid", " pid %llu", pid);
	else
		print_null("pid", " (%s)", why);
	print_bool("alive", ", alive: %s\n", alive);
	print_obj_end();
}

int do_status(int argc, char **argv)
{
	struct rg_config cfg;
	struct rg_maps maps;
	char mode[32] = "unknown", path[4096];
	bool pinned;
	__u32 key = 0;
	int err;

	err = no_more_args(argc, argv, "status");
	if (err)
		return err;
	snprintf(path, sizeof(path), "%s/%s", ctl.pin_dir, RG_MAP_CONFIG);
	pinned = !access(path, F_OK);
	if (pinned) {
		err = maps_open_pinned(ctl.pin_dir, &maps);
		if (err)
			return err;
	}
	if (pinned && !bpf_map_lookup_elem(maps.config, &key, &cfg))
		dpconfig_get(&cfg, "mode", mode, sizeof(mode));
	print_obj_start(NULL);
	print_str("pin_dir", "pin dir: %s", ctl.pin_dir);
	print_bool("maps_pinned", ", maps pinned: %s\n", pinned);
	if (pinned)
		print_str("mode", "mode: %s\n", mode);
	else
		print_null("mode", "mode: %s\n", "unknown (no maps)");
	status_interfaces();
	if (pinned)
		status_maps(&maps);
	status_daemon();
	status_crowdsec(pinned ? &maps : NULL);
	if (pinned)
		maps_close(&maps);
	print_obj_end();
	return 0;
}
