/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Link events (rtnetlink RTNLGRP_LINK through libnl-route): the daemon
 * learns that an interface appeared, went up or went away, and re-attaches
 * a configured interface that came back. The socket joins the event loop.
 * And who owns a local TCP socket (sock_diag), for the policy service. */
#ifndef RG_NETLINK_H
#define RG_NETLINK_H

#include <stdbool.h>
#include <sys/socket.h>
#include <sys/types.h>

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

/* sock_diag (NETLINK_SOCK_DIAG, INET_DIAG): the uid owning the TCP socket
 * of this network namespace bound to `self` and connected to `remote`
 * (both AF_INET or both AF_INET6). One request, answered by the kernel
 * within the call. 0 with *uid; -ENOENT when no such socket lives here
 * (a remote peer, or one already closed: TIME_WAIT, orphaned); another
 * negative errno when the query failed. */
int sock_diag_tcp_uid(const struct sockaddr *self,
		      const struct sockaddr *remote, uid_t *uid);

#endif
