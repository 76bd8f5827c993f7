// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <linux/inet_diag.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>
#include <netlink/socket.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

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

/* ---- sock_diag: who owns a TCP socket of this host ---- */

struct diag_req {
	struct nlmsghdr nlh;
	struct inet_diag_req_v2 r;
};

/* The request for the socket bound to `self` and connected to `remote`. */
static int diag_req_fill(struct diag_req *q, const struct sockaddr *self,
			 const struct sockaddr *remote)
{
	struct inet_diag_sockid *id = &q->r.id;

	memset(q, 0, sizeof(*q));
	q->nlh.nlmsg_len = sizeof(*q);
	q->nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	q->nlh.nlmsg_flags = NLM_F_REQUEST;
	q->nlh.nlmsg_seq = 1;
	q->r.sdiag_family = self->sa_family;
	q->r.sdiag_protocol = IPPROTO_TCP;
	q->r.idiag_states = ~0U;
	id->idiag_cookie[0] = id->idiag_cookie[1] = INET_DIAG_NOCOOKIE;
	if (self->sa_family != remote->sa_family)
		return -EAFNOSUPPORT;
	if (self->sa_family == AF_INET) {
		const struct sockaddr_in *a = (const void *)self,
					 *b = (const void *)remote;

		id->idiag_sport = a->sin_port;
		id->idiag_dport = b->sin_port;
		id->idiag_src[0] = a->sin_addr.s_addr;
		id->idiag_dst[0] = b->sin_addr.s_addr;
	} else if (self->sa_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const void *)self,
					  *b = (const void *)remote;

		id->idiag_sport = a->sin6_port;
		id->idiag_dport = b->sin6_port;
		memcpy(id->idiag_src, &a->sin6_addr, 16);
		memcpy(id->idiag_dst, &b->sin6_addr, 16);
	} else {
		return -EAFNOSUPPORT;
	}
	return 0;
}

/* The uid of the answer in buf; a socket that is closing (its owner gone:
 * TIME_WAIT, an orphan without an inode) has none: -ENOENT. */
static int diag_uid_of(const void *buf, ssize_t len, uid_t *uid)
{
	const struct nlmsghdr *h = buf;
	const struct inet_diag_msg *m;

	if (len < (ssize_t)sizeof(*h) || !NLMSG_OK(h, (size_t)len))
		return -EBADMSG;
	if (h->nlmsg_type == NLMSG_ERROR) {
		const struct nlmsgerr *e = NLMSG_DATA(h);

		if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*e)))
			return -EBADMSG;
		return e->error ? e->error : -EBADMSG;
	}
	if (h->nlmsg_type != SOCK_DIAG_BY_FAMILY ||
	    h->nlmsg_len < NLMSG_LENGTH(sizeof(*m)))
		return -EBADMSG;
	m = NLMSG_DATA(h);
	if (m->idiag_state == TCP_TIME_WAIT || m->idiag_inode == 0)
		return -ENOENT;
	*uid = m->idiag_uid;
	return 0;
}

int sock_diag_tcp_uid(const struct sockaddr *self,
		      const struct sockaddr *remote, uid_t *uid)
{
	union {
		struct nlmsghdr h;
		char buf[1024];
	} ans;
	struct diag_req q;
	ssize_t n;
	int fd, err;

	err = diag_req_fill(&q, self, remote);
	if (err)
		return err;
	fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (fd < 0)
		return -errno;
	/* the kernel answers a lookup within send(): the answer is queued
	 * when it returns, and the loop never waits for it */
	if (send(fd, &q, sizeof(q), 0) < 0) {
		err = -errno;
		goto out;
	}
	n = recv(fd, &ans, sizeof(ans), MSG_DONTWAIT);
	err = n < 0 ? -errno : diag_uid_of(&ans, n, uid);
out:
	close(fd);
	return err;
}
