/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* How the XDP program is attached (the xdp_mode key, `relayguardctl
 * attach IFACE MODE`): a header of its own so that the config, which names
 * it, does not depend on the loader. */
#ifndef RG_XDPMODE_H
#define RG_XDPMODE_H

enum xdp_attach_mode {
	XDP_ATTACH_AUTO = 0, /* native, falling back to generic */
	XDP_ATTACH_NATIVE,
	XDP_ATTACH_GENERIC,
};

const char *xdp_attach_mode_name(enum xdp_attach_mode mode);
int xdp_attach_mode_parse(const char *s, enum xdp_attach_mode *mode);

#endif
