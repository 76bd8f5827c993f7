// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>
#include <netlink/socket.h>
#include <stdlib.h>

#include "log.h"
#include "netlink.h"

struct link_watch {
	struct nl_sock *sk;
	link_event_cb cb;
	void *ctx;
	int msg_type; /* of the message being parsed */
};

static void on_link(struct nl_object *obj, void *arg)
{
	struct link_watch *w = arg;
	struct rtnl_link *link = (struct rtnl_link *)obj;
	const char *name = rtnl_link_get_name(link);

	if (!name)
		return;
	w->cb(w->ctx, name, rtnl_link_get_ifindex(link),
	      w->msg_type == RTM_NEWLINK, rtnl_link_get_flags(link) & IFF_UP);
}

static int on_msg(struct nl_msg *msg, void *arg)
{
	struct link_watch *w = arg;
	int type = nlmsg_hdr(msg)->nlmsg_type;

	if (type != RTM_NEWLINK && type != RTM_DELLINK)
		return NL_OK;
	w->msg_type = type;
	nl_msg_parse(msg, on_link, w);
	return NL_OK;
}

int link_watch_open(link_event_cb cb, void *ctx, struct link_watch **out)
{
	struct link_watch *w;
	int err;

	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->cb = cb;
	w->ctx = ctx;
	w->sk = nl_socket_alloc();
	if (!w->sk) {
		free(w);
		return -ENOMEM;
	}
	nl_socket_disable_seq_check(w->sk);
	nl_socket_modify_cb(w->sk, NL_CB_VALID, NL_CB_CUSTOM, on_msg, w);
	err = nl_connect(w->sk, NETLINK_ROUTE);
	if (!err)
		err = nl_socket_add_membership(w->sk, RTNLGRP_LINK);
	if (!err)
		err = nl_socket_set_nonblocking(w->sk);
	if (err) {
		log_err("cannot watch links (rtnetlink): %s", nl_geterror(err));
		link_watch_close(w);
		return -EIO;
	}
	*out = w;
	return 0;
}

int link_watch_fd(const struct link_watch *w)
{
	return nl_socket_get_fd(w->sk);
}

int link_watch_read(struct link_watch *w)
{
	int err;

	for (;;) {
		err = nl_recvmsgs_default(w->sk);
		if (err >= 0)
			continue;
		if (err == -NLE_AGAIN)
			return 0;
		if (err == -NLE_NOMEM) {
			/* ENOBUFS: the kernel dropped events for us. */
			log_warn(
				"link events lost (socket overrun): re-checking every interface");
			w->cb(w->ctx, NULL, 0, false, false);
			continue;
		}
		log_warn("reading link events: %s", nl_geterror(err));
		return -EIO;
	}
}

void link_watch_close(struct link_watch *w)
{
	if (!w)
		return;
	nl_socket_free(w->sk);
	free(w);
}
