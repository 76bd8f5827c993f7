// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* relayguardctl status. */
#include <errno.h>
#include <libgen.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "ctl.h"
#include "dpconfig.h"
#include "log.h"
#include "mtawatch.h"
#include "names.h"
#include "parse.h"

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
		ctl_print_attach_state(i->if_name, &st);
	}
	if (ifs)
		if_freenameindex(ifs);
	if (!n)
		print_text("attached: none\n");
	print_arr_end();
}

static void status_maps(const struct rg_maps *m)
{
	/* used: for the self-hashed arrays, where a slot's family byte is */
	static const struct {
		const char *name;
		size_t off;
		long used;
	} counted[] = {
#define M(f) { #f, offsetof(struct rg_maps, f), -1 }
		M(bans4),
		M(bans6),
		M(allow4),
		M(allow6),
		M(deny4),
		M(deny6),
#undef M
		{ "ratelimit", offsetof(struct rg_maps, ratelimit),
		  offsetof(struct rg_bucket, src.family) },
		{ "flows", offsetof(struct rg_maps, flows),
		  offsetof(struct rg_flow, key.family) },
	};
	unsigned long entries, max;
	size_t i;
	int fd;

	print_text("maps:\n");
	print_arr_start("maps");
	for (i = 0; i < ARRAY_LEN(counted); i++) {
		fd = *(const int *)((const char *)m + counted[i].off);
		if (counted[i].used < 0 ? ctl_map_fill(fd, &entries, &max)
					: ctl_array_fill(fd, counted[i].used,
							 &entries, &max))
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
	pid_t pid = ctl_daemon_pid(&why);
	bool alive = pid && ctl_daemon_alive(pid);

	print_obj_start("daemon");
	print_str("pid_file", "daemon: %s", ctl.pid_file);
	if (pid)
		print_uint("pid", " pid %llu", pid);
	else
		print_null("pid", " (%s)", why);
	print_bool("alive", ", alive: %s\n", alive);
	print_obj_end();
}

bool ctl_state_section(const char *name, const char *key, const char *title,
		       const char *absent)
{
	char dir[4096], path[4200], line[1200];
	FILE *f;

	snprintf(dir, sizeof(dir), "%s", ctl.pid_file);
	snprintf(path, sizeof(path), "%s/%s", dirname(dir), name);
	f = fopen(path, "re");
	if (!f) {
		print_text("%s: ", title);
		print_null(key, "%s\n", absent);
		return false;
	}
	print_obj_start(key);
	print_text("%s:\n", title);
	while (fgets(line, sizeof(line), f))
		ctl_print_state_pair(line, time(NULL));
	fclose(f);
	return true;
}

void status_local_domains(void)
{
	if (ctl_state_section(MTA_STATE_FILE, "local_domains", "local domains",
			      "unknown (relayguardd is not running)"))
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

	err = ctl_no_args(argc, argv, "status");
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
	status_local_domains();
	if (pinned)
		maps_close(&maps);
	print_obj_end();
	return 0;
}
