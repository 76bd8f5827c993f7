// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The Postfix policy service: see policysvc.h. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "config.h"
#include "fsutil.h"
#include "log.h"
#include "names.h"
#include "netlink.h"
#include "policy.h"
#include "policysvc.h"
#include "strlit.h"

#define OUT_MAX		  4096 /* answers waiting for the client to read them */
#define ACCEPTS_PER_RUN	  64
#define EVENTS_PER_RUN	  64
#define LOG_LINES_PER_SEC 10
#define SNDBUF_BYTES	  65536

/* ---- the protocol ---------------------------------------------------- */

/* A byte that may stand in an attribute line: printable, a tab, UTF-8.
 * (A CR is allowed right before the newline: a person with nc.) */
static const bool line_ok[256] = {
	['\t'] = true,
	[0x20 ... 0x7e] = true,
	[0x80 ... 0xff] = true,
};

/* Check one line of n bytes (its newline excluded; more bytes may follow
 * when it has no newline yet). */
static int check_line(const char *p, size_t n, bool ended, const char **why)
{
	size_t i;

	if (n > PSVC_LINE_MAX) {
		*why = "an attribute line longer than 2048 bytes";
		return -EMSGSIZE;
	}
	if (n && p[n - 1] == '\r' && ended)
		n--;
	for (i = 0; i < n; i++) {
		if (!line_ok[(unsigned char)p[i]] &&
		    !(p[i] == '\r' && !ended && i + 1 == n)) {
			*why = "a control byte in an attribute (binary input?)";
			return -EBADMSG;
		}
	}
	return 0;
}

static const char why_too_long[] =
	"a request longer than " STR_OF(PSVC_REQUEST_MAX) " bytes";
static const char why_no_end[] =
	"no empty line within " STR_OF(PSVC_REQUEST_MAX) " bytes";

/* Where the request ends (just past its empty line), 0 when it has not
 * ended yet, or a negative errno. */
static long find_end(const char *buf, size_t len, const char **why)
{
	const char *line = buf, *end = buf + len, *nl;
	int err;

	for (;;) {
		nl = memchr(line, '\n', end - line);
		err = check_line(line, (nl ? nl : end) - line, nl != NULL, why);
		if (err)
			return err;
		if (!nl)
			break;
		if (nl == line || (nl == line + 1 && line[0] == '\r')) {
			if (nl + 1 - buf > PSVC_REQUEST_MAX) {
				*why = why_too_long;
				return -EMSGSIZE;
			}
			return nl + 1 - buf;
		}
		line = nl + 1;
	}
	if (len >= PSVC_REQUEST_MAX) {
		*why = why_no_end;
		return -EMSGSIZE;
	}
	return 0;
}

static void set_attr(struct psvc_request *r, const char *name, size_t n,
		     const char *value)
{
	static const struct {
		const char *name;
		size_t len, off;
	} known[] = {
#define A(f) { #f, sizeof(#f) - 1, offsetof(struct psvc_request, f) }
		A(request),	  A(protocol_state), A(client_address),
		A(client_port),	  A(server_address), A(server_port),
		A(helo_name),	  A(sender),	     A(recipient),
		A(sasl_username), A(instance),	     A(encryption_protocol),
#undef A
	};
	size_t i;

	for (i = 0; i < ARRAY_LEN(known); i++) {
		if (known[i].len == n && known[i].name[0] == name[0] &&
		    !memcmp(known[i].name, name, n)) {
			*(const char **)((char *)r + known[i].off) = value;
			return;
		}
	}
}

int psvc_parse(char *buf, size_t len, struct psvc_request *req,
	       const char **why)
{
	char *line, *nl, *eq;
	long end;

	*why = NULL;
	end = find_end(buf, len, why);
	if (end <= 0)
		return end;
	memset(req, 0, sizeof(*req));
	for (line = buf; *line != '\n' && *line != '\r'; line = nl + 1) {
		nl = memchr(line, '\n', buf + end - line);
		*nl = '\0';
		if (nl[-1] == '\r')
			nl[-1] = '\0';
		eq = memchr(line, '=', nl - line);
		if (!eq || eq == line) {
			*why = "a line that is not name=value";
			return -EBADMSG;
		}
		if (++req->n_attrs > PSVC_ATTRS_MAX) {
			*why = "more than 64 attributes";
			return -EMSGSIZE;
		}
		*eq = '\0';
		set_attr(req, line, eq - line, eq + 1);
	}
	if (!req->request || strcmp(req->request, "smtpd_access_policy")) {
		*why = "no request=smtpd_access_policy";
		return -EBADMSG;
	}
	return end;
}

/* ---- the service ------------------------------------------------------ */

struct conn {
	struct conn *prev, *next;
	int fd;
	char peer[PREFIX_STRLEN + 8];
	size_t in_len, out_len, out_off;
	uint64_t partial_since_ns; /* 0: no request begun */
	bool want_out;		   /* EPOLLOUT armed */
	char in[PSVC_REQUEST_MAX];
	char out[OUT_MAX];
};

struct policysvc {
	const struct rg_conf *conf;
	struct policy *policy;
	struct policysvc_ops ops;
	void *ctx;
	int epfd, lfd;
	bool unix_path; /* remove the socket file at the end */
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	struct conn *conns;
	struct policysvc_stats st;
	uint64_t log_sec, cap_log_sec;
	unsigned int log_n;
};

/* One line per event, at most LOG_LINES_PER_SEC a second: a flood of bad
 * clients must not flood the log. */
static void note(struct policysvc *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void note(struct policysvc *s, const char *fmt, ...)
{
	uint64_t sec = boot_ns() / NSEC_PER_SEC;
	char line[512];
	va_list ap;

	if (sec != s->log_sec) {
		if (s->log_n > LOG_LINES_PER_SEC)
			log_warn("policy service: %u more lines suppressed",
				 s->log_n - LOG_LINES_PER_SEC);
		s->log_sec = sec;
		s->log_n = 0;
	}
	if (++s->log_n > LOG_LINES_PER_SEC) {
		s->st.log_suppressed++;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	log_warn("policy service: %s", line);
}

struct policysvc *policysvc_new(const struct rg_conf *conf,
				struct policy *policy,
				const struct policysvc_ops *ops, void *ctx)
{
	struct policysvc *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->conf = conf;
	s->policy = policy;
	if (ops)
		s->ops = *ops;
	s->ctx = ctx;
	s->lfd = -1;
	s->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (s->epfd < 0) {
		free(s);
		return NULL;
	}
	return s;
}

static void conn_close(struct policysvc *s, struct conn *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		s->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	close(c->fd); /* leaves the epoll set with it */
	s->st.active--;
	free(c);
}

void policysvc_free(struct policysvc *s)
{
	if (!s)
		return;
	while (s->conns)
		conn_close(s, s->conns);
	fs_close(s->lfd);
	if (s->unix_path)
		unlink(s->path);
	close(s->epfd);
	free(s);
}

int policysvc_fd(const struct policysvc *s)
{
	return s->epfd;
}

const struct policysvc_stats *policysvc_stats(const struct policysvc *s)
{
	return &s->st;
}

/* A stale socket file is replaced; anything else at the path is not. */
static int unlink_stale(const char *path)
{
	struct stat st;

	if (lstat(path, &st))
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode))
		return -EEXIST;
	return unlink(path) ? -errno : 0;
}

int policysvc_listen(struct policysvc *s, char *err, size_t errlen)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };
	const char *spec = s->conf->policy_service;
	struct sockspec a;
	int one = 1, ret;

	if (sockspec_parse(spec, &a)) {
		snprintf(err, errlen, "bad policy_service '%s'", spec);
		return -EINVAL;
	}
	s->lfd = socket(a.u.sa.sa_family,
			SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->lfd < 0)
		goto fail;
	if (a.u.sa.sa_family == AF_UNIX) {
		ret = unlink_stale(a.u.un.sun_path);
		if (ret) {
			errno = -ret;
			goto fail;
		}
	} else {
		setsockopt(s->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	}
	if (bind(s->lfd, &a.u.sa, a.len))
		goto fail;
	if (a.u.sa.sa_family == AF_UNIX) {
		s->unix_path = true;
		snprintf(s->path, sizeof(s->path), "%s", a.u.un.sun_path);
		/* who may connect is the directory's business (Postfix's
		 * private/ is 0700 postfix) */
		chmod(s->path, 0666);
	}
	if (listen(s->lfd, 512) ||
	    epoll_ctl(s->epfd, EPOLL_CTL_ADD, s->lfd, &ev))
		goto fail;
	return 0;
fail:
	ret = -errno;
	snprintf(err, errlen, "cannot listen on %s: %s", spec, strerror(errno));
	fs_close(s->lfd);
	s->lfd = -1;
	return ret;
}

/* inet peers: loopback and trusted_networks only; a policy client may
 * name any address, and with it get that address banned. */
static bool peer_allowed(struct policysvc *s, const struct sockaddr *sa,
			 struct prefix *p)
{
	memset(p, 0, sizeof(*p));
	if (sa->sa_family == AF_UNIX)
		return true;
	if (sa->sa_family == AF_INET) {
		p->family = AF_INET;
		p->len = 32;
		memcpy(p->addr, &((const struct sockaddr_in *)sa)->sin_addr, 4);
		if (p->addr[0] == 127)
			return true;
	} else if (sa->sa_family == AF_INET6) {
		const struct in6_addr *a6 =
			&((const struct sockaddr_in6 *)sa)->sin6_addr;

		if (IN6_IS_ADDR_V4MAPPED(a6)) { /* a dual-stack listener */
			p->family = AF_INET;
			p->len = 32;
			memcpy(p->addr, &a6->s6_addr[12], 4);
			return p->addr[0] == 127 || conf_is_trusted(s->conf, p);
		}
		p->family = AF_INET6;
		p->len = 128;
		memcpy(p->addr, a6, 16);
		if (IN6_IS_ADDR_LOOPBACK(a6))
			return true;
	} else {
		return false;
	}
	return conf_is_trusted(s->conf, p);
}

/* A v4-mapped IPv6 address (a dual-stack listener) as the IPv4 one. */
static void unmapped(const struct sockaddr *sa, struct sockaddr_storage *out)
{
	const struct sockaddr_in6 *a6 = (const struct sockaddr_in6 *)sa;
	struct sockaddr_in *a4 = (struct sockaddr_in *)out;

	if (sa->sa_family == AF_INET6 && IN6_IS_ADDR_V4MAPPED(&a6->sin6_addr)) {
		memset(out, 0, sizeof(*out));
		a4->sin_family = AF_INET;
		a4->sin_port = a6->sin6_port;
		memcpy(&a4->sin_addr, &a6->sin6_addr.s6_addr[12], 4);
	} else {
		memcpy(out, sa,
		       sa->sa_family == AF_INET ? sizeof(struct sockaddr_in)
						: sizeof(struct sockaddr_in6));
	}
}

/* addr belongs to this host (a socket can be bound to it); when that
 * cannot be told, it does. */
static bool addr_is_local(const struct sockaddr *addr)
{
	struct sockaddr_storage a;
	socklen_t len;
	int fd, ok;

	unmapped(addr, &a);
	len = a.ss_family == AF_INET ? sizeof(struct sockaddr_in)
				     : sizeof(struct sockaddr_in6);
	((struct sockaddr_in *)&a)->sin_port = 0; /* same place in both */
	fd = socket(a.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return true;
	ok = !bind(fd, (struct sockaddr *)&a, len) || errno != EADDRNOTAVAIL;
	close(fd);
	return ok;
}

/* Who is at the other end: 0 with *uid for a local peer (SO_PEERCRED on
 * a unix socket, sock_diag on TCP), 1 for a remote peer (another host: no
 * uid to check), or a negative errno when it cannot be told (a local
 * peer already gone included: what it sent must not count). */
static int peer_uid(int fd, const struct sockaddr *sa, uid_t *uid)
{
	struct sockaddr_storage self, self4, peer;
	socklen_t len = sizeof(self);
	struct ucred cred;
	int err;

	if (sa->sa_family == AF_UNIX) {
		len = sizeof(cred);
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len))
			return -errno;
		*uid = cred.uid;
		return 0;
	}
	if (getsockname(fd, (struct sockaddr *)&self, &len))
		return -errno;
	unmapped((struct sockaddr *)&self, &self4);
	unmapped(sa, &peer);
	/* the peer's socket: bound to its address, connected to ours */
	err = sock_diag_tcp_uid((struct sockaddr *)&peer,
				(struct sockaddr *)&self4, uid);
	if (err == -ENOENT && !addr_is_local((struct sockaddr *)&peer))
		return 1;
	return err;
}

static bool uid_allowed(const struct rg_conf *conf, uid_t uid)
{
	unsigned int i;

	if (uid == 0)
		return true;
	for (i = 0; i < conf->n_policy_allowed_uids; i++)
		if (conf->policy_allowed_uids[i] == uid)
			return true;
	return false;
}

/* Only root and policy_allowed_users: a local process of any other user
 * could name any address and get it banned. */
static bool user_allowed(struct policysvc *s, int fd, const struct sockaddr *sa,
			 const struct prefix *peer)
{
	char addr[PREFIX_STRLEN] = "unix socket";
	uid_t uid = 0;
	int ret = peer_uid(fd, sa, &uid);

	if (ret == 1 || (!ret && uid_allowed(s->conf, uid)))
		return true;
	s->st.refused_user++;
	if (sa->sa_family != AF_UNIX)
		format_prefix(peer, addr, sizeof(addr));
	if (ret)
		note(s,
		     "refused a connection from %s: its user cannot be told: %s",
		     addr, strerror(-ret));
	else
		note(s,
		     "refused a connection from %s: uid %u is neither root "
		     "nor in policy_allowed_users",
		     addr, (unsigned int)uid);
	return false;
}

static void accept_one(struct policysvc *s, int fd, const struct sockaddr *sa)
{
	struct epoll_event ev = { .events = EPOLLIN };
	struct prefix peer;
	struct conn *c;

	if (!peer_allowed(s, sa, &peer)) {
		char addr[PREFIX_STRLEN];

		s->st.refused_peer++;
		format_prefix(&peer, addr, sizeof(addr));
		note(s,
		     "refused a connection from %s: outside loopback and "
		     "trusted_networks",
		     addr);
		close(fd);
		return;
	}
	if (!user_allowed(s, fd, sa, &peer)) {
		close(fd);
		return;
	}
	if (s->st.active >= s->conf->policy_max_connections) {
		s->st.refused_cap++;
		/* a flood is one line a second, with the count so far */
		if (boot_ns() / NSEC_PER_SEC != s->cap_log_sec) {
			s->cap_log_sec = boot_ns() / NSEC_PER_SEC;
			note(s,
			     "refusing connections: policy_max_connections "
			     "(%u) reached (%" PRIu64 " refused so far)",
			     s->conf->policy_max_connections,
			     s->st.refused_cap);
		}
		close(fd);
		return;
	}
	c = malloc(sizeof(*c));
	if (!c) {
		close(fd);
		return;
	}
	/* a client that stops reading stops being read soon: its answers
	 * wait in a small buffer, not in megabytes of kernel memory */
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &(int){ SNDBUF_BYTES },
		   sizeof(int));
	memset(c, 0, offsetof(struct conn, in));
	c->fd = fd;
	if (sa->sa_family == AF_UNIX)
		snprintf(c->peer, sizeof(c->peer), "unix socket");
	else
		format_prefix(&peer, c->peer, sizeof(c->peer));
	ev.data.ptr = c;
	if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev)) {
		close(fd);
		free(c);
		return;
	}
	c->next = s->conns;
	if (s->conns)
		s->conns->prev = c;
	s->conns = c;
	s->st.active++;
	s->st.connections++;
}

static void accept_all(struct policysvc *s)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int i, fd;

	for (i = 0; i < ACCEPTS_PER_RUN; i++) {
		len = sizeof(ss);
		fd = accept4(s->lfd, (struct sockaddr *)&ss, &len,
			     SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR &&
			    errno != ECONNABORTED)
				note(s, "accept: %s", strerror(errno));
			return;
		}
		accept_one(s, fd, (struct sockaddr *)&ss);
	}
}

/* ---- answers ----------------------------------------------------------- */

static int host_prefix(const char *addr, struct prefix *p)
{
	if (!addr || parse_prefix(addr, p))
		return -EINVAL;
	return prefix_is_host(p) ? 0 : -EINVAL;
}

static uint16_t port_of(const char *s)
{
	unsigned long p;

	return s && !parse_ulong(s, 1, 65535, &p) ? (uint16_t)p : 0;
}

/* The event's "flow": client and server as smtpd saw them. */
static void flow_key_of(const struct psvc_request *r, const struct prefix *src,
			struct rg_flow_key *k)
{
	struct prefix srv;

	memset(k, 0, sizeof(*k));
	if (host_prefix(r->server_address, &srv) || srv.family != src->family)
		return;
	k->family = src->family;
	memcpy(k->client, src->addr, sizeof(k->client));
	memcpy(k->server, srv.addr, sizeof(k->server));
	k->client_port = htons(port_of(r->client_port));
	k->server_port = htons(port_of(r->server_port));
}

/* Decide through the policy; true when the source was banned by it. */
static bool feed_policy(struct policysvc *s, const struct psvc_request *r,
			const struct prefix *src, bool auth, uint64_t now_ns)
{
	struct verdict v[POLICY_RCPT_MAX_VERDICTS];
	struct rcpt_event e = {
		.src = src,
		.client_port = port_of(r->client_port),
		.authenticated = auth,
		.counts = true,
		.path = r->recipient,
		.now_ns = now_ns,
	};
	struct decision d = {
		.source = *src,
		.sample_ns = now_ns,
		.helo = r->helo_name,
		.mail_from = r->sender,
		.rcpt_to = r->recipient,
		.via = "policy",
	};
	char local_src[512];
	bool banned = false;
	int i, n;

	conf_local_domains_source(s->conf, local_src, sizeof(local_src));
	d.local_domains = local_src;
	flow_key_of(r, src, &d.flow_key);
	n = policy_rcpt(s->policy, &e, v);
	if (n && d.flow_key.family && s->ops.find_flow)
		d.flow = s->ops.find_flow(s->ctx, &d.flow_key);
	for (i = 0; i < n && !banned; i++) {
		d.action = v[i].action;
		d.reason = v[i].reason;
		d.code = v[i].code;
		if (s->ops.decide)
			s->ops.decide(s->ctx, &d);
		banned = v[i].action == DECISION_BAN;
	}
	return banned;
}

static size_t answer(char *out, size_t size, const char *action)
{
	int n = snprintf(out, size, "action=%s\n\n", action);

	return n > 0 && (size_t)n < size ? (size_t)n : 0;
}

size_t policysvc_answer(struct policysvc *s, const struct psvc_request *r,
			uint64_t now_ns, char *out, size_t size)
{
	bool monitor = s->conf->dp.flags & RG_CFG_MONITOR, auth, banned;
	struct prefix src;

	s->st.requests++;
	if (host_prefix(r->client_address, &src))
		return answer(out, size, "DUNNO");
	if (s->ops.banned && s->ops.banned(s->ctx, &src) && !monitor) {
		s->st.rejects++;
		return answer(out, size,
			      "REJECT 5.7.1 Access denied: "
			      "client banned for relay abuse");
	}
	if (!r->protocol_state || strcasecmp(r->protocol_state, "RCPT") ||
	    !r->recipient)
		return answer(out, size, "DUNNO");
	auth = r->sasl_username && r->sasl_username[0];
	banned = feed_policy(s, r, &src, auth, now_ns);
	if (monitor ||
	    (!banned && !policy_is_relay(s->conf, &src, auth, r->recipient)))
		return answer(out, size, "DUNNO");
	s->st.rejects++;
	return answer(out, size, "REJECT 5.7.1 Relay access denied");
}

/* ---- connections --------------------------------------------------------- */

static void bad_input(struct policysvc *s, struct conn *c, const char *why)
{
	/* the answers to the good requests before the bad bytes, if the
	 * socket takes them now */
	if (c->out_off < c->out_len &&
	    send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
		 MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
		log_debug("policy service: answers to %s lost: %s", c->peer,
			  strerror(errno));
	s->st.bad_input++;
	note(s, "closing the connection from %s: %s", c->peer, why);
	conn_close(s, c);
}

static void arm(struct policysvc *s, struct conn *c, bool want_out)
{
	struct epoll_event ev = { .data.ptr = c };

	if (c->want_out == want_out)
		return;
	/* while answers wait, read no more requests: the client's pace */
	ev.events = want_out ? EPOLLOUT : EPOLLIN;
	if (!epoll_ctl(s->epfd, EPOLL_CTL_MOD, c->fd, &ev))
		c->want_out = want_out;
}

/* Write what waits; false when the connection was closed. */
static bool flush_out(struct policysvc *s, struct conn *c)
{
	ssize_t n;

	while (c->out_off < c->out_len) {
		n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
			 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		if (n <= 0) {
			conn_close(s, c);
			return false;
		}
		c->out_off += n;
	}
	if (c->out_off == c->out_len)
		c->out_off = c->out_len = 0;
	arm(s, c, c->out_len > 0);
	return true;
}

/* Answer every whole request in c->in while answers fit; false when the
 * connection was closed. */
static bool serve(struct policysvc *s, struct conn *c)
{
	struct psvc_request r;
	const char *why = NULL;
	size_t off = 0;
	int n;

	while (OUT_MAX - c->out_len >= PSVC_ANSWER_MAX) {
		n = psvc_parse(c->in + off, c->in_len - off, &r, &why);
		if (n < 0) {
			bad_input(s, c, why ? why : "malformed request");
			return false;
		}
		if (n == 0)
			break;
		off += n;
		c->out_len +=
			policysvc_answer(s, &r, boot_ns(), c->out + c->out_len,
					 OUT_MAX - c->out_len);
	}
	memmove(c->in, c->in + off, c->in_len - off);
	c->in_len -= off;
	if (!c->in_len)
		c->partial_since_ns = 0;
	else if (off || !c->partial_since_ns)
		c->partial_since_ns = boot_ns();
	return flush_out(s, c);
}

static void conn_read(struct policysvc *s, struct conn *c)
{
	ssize_t n;

	if (c->in_len == sizeof(c->in)) {
		bad_input(s, c, why_no_end);
		return;
	}
	n = recv(c->fd, c->in + c->in_len, sizeof(c->in) - c->in_len,
		 MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		if (c->in_len) {
			s->st.stalled++;
			note(s,
			     "connection from %s closed in a request (no "
			     "empty line)",
			     c->peer);
		}
		conn_close(s, c);
		return;
	}
	c->in_len += n;
	serve(s, c);
}

void policysvc_run(struct policysvc *s)
{
	struct epoll_event evs[EVENTS_PER_RUN];
	struct conn *c;
	int i, n;

	n = epoll_wait(s->epfd, evs, EVENTS_PER_RUN, 0);
	for (i = 0; i < n; i++) {
		c = evs[i].data.ptr;
		if (!c) {
			accept_all(s);
		} else if (evs[i].events & EPOLLOUT) {
			/* the client reads again: answer what is buffered */
			if (flush_out(s, c))
				serve(s, c);
		} else {
			conn_read(s, c);
		}
	}
}

void policysvc_tick(struct policysvc *s, uint64_t now_ns)
{
	struct conn *c, *next;

	for (c = s->conns; c; c = next) {
		next = c->next;
		if (!c->partial_since_ns ||
		    now_ns - c->partial_since_ns < PSVC_PARTIAL_TIMEOUT_NS)
			continue;
		s->st.stalled++;
		note(s,
		     "closing the connection from %s: a request begun %d s "
		     "ago has no empty line",
		     c->peer, PSVC_PARTIAL_TIMEOUT_S);
		conn_close(s, c);
	}
}
