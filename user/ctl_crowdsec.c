// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The CrowdSec part of `relayguardctl status`: the state file relayguardd
 * keeps beside its pid file (cs_client.h), and the bans from CrowdSec
 * counted in the maps. The ctl never talks to the daemon. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "banstore.h"
#include "cs_client.h"
#include "ctl.h"
#include "origin.h"

static int count_crowdsec(const struct ban_entry *e, void *arg)
{
	uint64_t *n = arg;

	if (origin_is_crowdsec(&e->ban))
		(*n)++;
	return 0;
}

static bool all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

void ctl_print_state_pair(char *line, int64_t now)
{
	char *eq = strchr(line, '='), txt[600];
	unsigned long long v;

	line[strcspn(line, "\n")] = '\0';
	if (!eq || eq == line)
		return;
	*eq++ = '\0';
	if (strspn(line, "abcdefghijklmnopqrstuvwxyz_") != strlen(line))
		return; /* the key goes into a format */
	if (!all_digits(eq)) {
		snprintf(txt, sizeof(txt), "  %-20s %%s\n", line);
		print_str(line, txt, eq);
		return;
	}
	v = strtoull(eq, NULL, 10);
	if (!strncmp(line, "last_", 5)) { /* a unix time */
		snprintf(txt, sizeof(txt), "  %-20s ", line);
		print_uint(line, txt, v);
		if (v)
			print_text("%llu (%llds ago)\n", v,
				   (long long)(now - (int64_t)v));
		else
			print_text("never\n");
		return;
	}
	snprintf(txt, sizeof(txt), "  %-20s %%llu\n", line);
	print_uint(line, txt, v);
}

void status_crowdsec(const struct rg_maps *maps)
{
	uint64_t n = 0;

	if (!ctl_state_section(CROWDSEC_STATE_FILE, "crowdsec", "crowdsec",
			       "off (relayguardd runs no LAPI client)"))
		return;
	if (maps && !banstore_for_each(maps, count_crowdsec, &n))
		print_uint("bans_from_crowdsec",
			   "  bans_from_crowdsec   %llu\n", n);
	print_obj_end();
}
