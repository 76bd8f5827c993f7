// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <stdio.h>
#include <string.h>

#include "names.h"
#include "origin.h"

/* LAPI origin strings with a code of their own (enum rg_origin order). */
static const char *const known[RG_ORIGIN_MAX] = {
	[RG_ORIGIN_CS_CROWDSEC] = "crowdsec",
	[RG_ORIGIN_CS_CSCLI] = "cscli",
	[RG_ORIGIN_CS_CSCLI_IMPORT] = "cscli-import",
	[RG_ORIGIN_CS_CAPI] = "CAPI",
	[RG_ORIGIN_CS_LISTS] = "lists",
	[RG_ORIGIN_CS_CONSOLE] = "console",
};

static void set_tag(struct rg_ban *b, const char *s)
{
	size_t i, n = s ? strnlen(s, RG_ORIGIN_TAG_LEN) : 0;

	memset(b->origin_tag, 0, sizeof(b->origin_tag));
	/* from the network, printed by the ctl: printable, no blanks */
	for (i = 0; i < n; i++)
		b->origin_tag[i] = s[i] > ' ' && s[i] < 0x7f ? s[i] : '_';
}

void origin_set_crowdsec(struct rg_ban *b, const char *origin,
			 const char *scenario)
{
	const char *list;
	int code;

	b->origin = RG_ORIGIN_CS_OTHER;
	set_tag(b, origin);
	if (!origin)
		return;
	code = name_index(known, origin);
	if (code >= 0) {
		b->origin = code;
		set_tag(b, NULL);
	}
	if (b->origin == RG_ORIGIN_CS_LISTS && scenario) {
		list = strncmp(scenario, "lists:", 6) ? scenario : scenario + 6;
		set_tag(b, list);
	}
}

void origin_format(const struct rg_ban *b, char *buf, size_t size)
{
	char tag[RG_ORIGIN_TAG_LEN + 1];
	unsigned int o = b->origin;
	const char *name = name_of(known, o, NULL);

	memcpy(tag, b->origin_tag, RG_ORIGIN_TAG_LEN);
	tag[RG_ORIGIN_TAG_LEN] = '\0';
	if (o == RG_ORIGIN_LOCAL)
		snprintf(buf, size, "local");
	else if (o == RG_ORIGIN_CS_LISTS && tag[0])
		snprintf(buf, size, "crowdsec:lists:%s", tag);
	else if (name)
		snprintf(buf, size, "crowdsec:%s", name);
	else
		snprintf(buf, size, "crowdsec:%s", tag[0] ? tag : "unknown");
}
