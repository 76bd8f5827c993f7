// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* XDP attach mode names (see xdpmode.h). */
#include "names.h"
#include "xdpmode.h"

static const char *const mode_names[] = {
	[XDP_ATTACH_AUTO] = "auto",
	[XDP_ATTACH_NATIVE] = "native",
	[XDP_ATTACH_GENERIC] = "generic",
};

const char *xdp_attach_mode_name(enum xdp_attach_mode mode)
{
	return name_of(mode_names, mode, "unknown");
}

int xdp_attach_mode_parse(const char *s, enum xdp_attach_mode *mode)
{
	int i = name_index(mode_names, s);

	if (i < 0)
		return i;
	*mode = i;
	return 0;
}
