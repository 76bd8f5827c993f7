// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* relayguardctl stats [--prometheus]. */
#include <bpf/bpf.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "ctl.h"
#include "dpconfig.h"
#include "log.h"
#include "stats.h"

int do_stats(int argc, char **argv)
{
	bool prom = false;
	struct rg_maps maps;
	struct rg_stats s;
	size_t i;
	int err;

	if (argc == 1 && !strcmp(argv[0], "--prometheus"))
		prom = true;
	else if (argc)
		return ctl_err(-EINVAL,
			       "stats: expected [--prometheus], got '%s'",
			       ctl_quote(argv[0]));
	err = ctl_open_maps(&maps);
	if (err)
		return err;
	err = stats_read(maps.stats, &s);
	maps_close(&maps);
	if (err)
		return err;
	if (prom && !ctl.json) {
		stats_print_prometheus(&s, stdout);
		return 0;
	}
	print_obj_start(NULL);
	for (i = 0; i < stats_n_fields; i++) {
		print_text("%-24s", stats_fields[i].name);
		print_uint(stats_fields[i].name, " %llu\n",
			   stats_value(&s, &stats_fields[i]));
	}
	print_obj_end();
	return 0;
}
