/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Link events (rtnetlink RTNLGRP_LINK through libnl-route): the daemon
 * learns that an interface appeared, went up or went away, and re-attaches
 * a configured interface that came back. The socket joins the event loop. */
#ifndef RG_NETLINK_H
#define RG_NETLINK_H

#include <stdbool.h>

struct link_watch;

/* ifname NULL: events were lost (socket overrun); re-check every
 * interface. present: the link exists (RTM_NEWLINK); up: IFF_UP. */
typedef void (*link_event_cb)(void *ctx, const char *ifname, int ifindex,
			      bool present, bool up);

int link_watch_open(link_event_cb cb, void *ctx, struct link_watch **out);
/* Non-blocking descriptor to poll for input. */
int link_watch_fd(const struct link_watch *w);
/* Read and dispatch what is pending; never blocks. */
int link_watch_read(struct link_watch *w);
void link_watch_close(struct link_watch *w);

#endif
