// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* XDP attach mode names (see xdpmode.h). */
#include <errno.h>
#include <string.h>

#include "xdpmode.h"

static const char *const mode_names[] = {
	[XDP_ATTACH_AUTO] = "auto",
	[XDP_ATTACH_NATIVE] = "native",
	[XDP_ATTACH_GENERIC] = "generic",
};

const char *xdp_attach_mode_name(enum xdp_attach_mode mode)
{
	return mode <= XDP_ATTACH_GENERIC ? mode_names[mode] : "unknown";
}

int xdp_attach_mode_parse(const char *s, enum xdp_attach_mode *mode)
{
	unsigned int i;

	for (i = 0; i <= XDP_ATTACH_GENERIC; i++) {
		if (!strcmp(s, mode_names[i])) {
			*mode = i;
			return 0;
		}
	}
	return -EINVAL;
}
