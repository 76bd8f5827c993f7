// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Two independent request chains share one curl multi handle: the
 * bouncer's pulls and the machine's login/push. Each has at most one
 * request in flight and its own schedule (next_pull, next_push) with
 * exponential backoff after failures. The multi handle's sockets and its
 * timeout (a timerfd), a schedule timerfd and the timerfd that paces the
 * slices of answers being applied (cs_apply.h) sit in a private epoll set
 * whose descriptor the daemon's loop watches. */
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "bans.h"
#include "clock.h"
#include "config.h"
#include "cs_client.h"
#include "events.h"
#include "fsutil.h"
#include "log.h"
#include "cs_report.h"
#include "cs_secret.h"

#define PULL_TIMEOUT_MS	   60000 /* a startup stream can be large */
#define PUSH_TIMEOUT_MS	   15000
#define CONNECT_TIMEOUT_MS 5000
#define BACKOFF_MAX_NS	   (30 * NSEC_PER_SEC)
#define QUEUE_MAX	   4096 /* alerts waiting for the LAPI */
#define PUSH_BATCH	   100	/* alerts per POST */
#define ANSWER_MAX	   (256U << 20)
#define TOKEN_MAX	   4096
#define SECRET_MAX	   512
/* a JWT is renewed this long before it expires (or at half its life) */
#define RENEW_BEFORE_S 300
/* crowdsec 1.4's stream can lose decisions: a delta is "created after the
 * bouncer's last pull", and rows a writer commits just after the pull read
 * but stamped before it are never sent (seen with `cscli decisions
 * import` and SQLite). So once a burst of deltas has calmed down (an empty
 * delta, or after RESYNC_BUSY_NS of steady news) the next pull takes the
 * whole set again: at most every RESYNC_MIN_NS, and at most 1/RESYNC_SHARE
 * of the time goes into taking whole sets (a large set costs ~1 s per
 * 100,000 decisions). */
#define RESYNC_MIN_NS  (2 * NSEC_PER_SEC)
#define RESYNC_SHARE   20
#define RESYNC_BUSY_NS (60 * NSEC_PER_SEC)
enum tag { TAG_SOCKET, TAG_CURL_TIMER, TAG_SCHEDULE, TAG_WORK, TAG_PARSED };

enum req_kind { REQ_PULL, REQ_LOGIN, REQ_PUSH };

struct request {
	struct crowdsec *cs;
	enum req_kind kind;
	CURL *easy;
	struct curl_slist *headers;
	char *body; /* answer */
	size_t len;
	bool too_large;
	size_t n_alerts;  /* REQ_PUSH: queue entries in this POST */
	bool startup;	  /* REQ_PULL */
	uint64_t started; /* boot clock */
};

struct crowdsec {
	struct bans *bans;
	struct csdeny *deny; /* CrowdSec's wide ranges in the deny tries */
	const struct rg_conf *conf;
	char url[CONF_PATH_LEN]; /* without a trailing '/' */
	char bouncer_key[SECRET_MAX];
	char machine_id[CONF_PATH_LEN];
	char password[SECRET_MAX];
	char state_path[4096];
	uint64_t poll_ns;

	CURLM *multi;
	int epfd, curl_timer, schedule, work;
	struct request *pull, *machine_req; /* in flight */
	struct csapply *apply;		    /* answers being applied */

	bool startup; /* the next pull asks for the whole set */
	uint64_t next_pull, pull_backoff;
	bool news; /* deltas brought decisions since the last whole set */
	uint64_t news_since, last_whole; /* boot clock */
	uint64_t whole_cost;		 /* the last whole set's work, ns */
	char token[TOKEN_MAX];
	int64_t token_renew_unix; /* 0: no token */
	uint64_t next_push, push_backoff;

	struct lapi_alert *queue; /* ring of QUEUE_MAX */
	size_t q_head, q_len;
	bool queue_full_logged;

	struct crowdsec_counters cnt;
};

/* ---- state ---------------------------------------------------------- */

static int fill_state(FILE *f, void *ctx)
{
	const struct crowdsec *cs = ctx;

	fprintf(f, "lapi_url=%s\n", cs->url);
	crowdsec_print_state(f, &cs->cnt);
	return 0;
}

static void write_state(struct crowdsec *cs)
{
	if (cs->state_path[0])
		fs_replace(cs->state_path, 0, fill_state, cs);
}

/* One log line per change of state, not per attempt. */
static void set_state(struct crowdsec *cs, bool bouncer, enum crowdsec_state s,
		      const char *why)
{
	enum crowdsec_state *cur =
		bouncer ? &cs->cnt.bouncer : &cs->cnt.machine;
	const char *who = bouncer ? "bouncer" : "machine";

	if (*cur == s)
		return;
	*cur = s;
	if (s == CS_UP)
		log_info("crowdsec %s: LAPI %s up", who, cs->url);
	else
		log_warn("crowdsec %s: LAPI %s %s: %s (local enforcement "
			 "goes on; retrying with backoff)",
			 who, cs->url, crowdsec_state_name(s), why);
	write_state(cs);
}

/* ---- timers --------------------------------------------------------- */

static void arm(int fd, uint64_t ns)
{
	struct itimerspec its = { 0 };

	if (ns != UINT64_MAX) {
		ns = ns ? ns : 1; /* 0 would disarm */
		its.it_value.tv_sec = ns / NSEC_PER_SEC;
		its.it_value.tv_nsec = ns % NSEC_PER_SEC;
	}
	timerfd_settime(fd, 0, &its, NULL);
}

static uint64_t backoff_next(uint64_t *backoff, uint64_t base)
{
	*backoff = *backoff ? *backoff * 2 : base;
	if (*backoff > BACKOFF_MAX_NS)
		*backoff = BACKOFF_MAX_NS;
	return *backoff;
}

static bool machine_on(const struct crowdsec *cs)
{
	return cs->machine_id[0];
}

/* A pull may start: none in flight, room for its answer, and no second
 * whole set while one waits to be applied (memory; the newer one would
 * only replace it). */
static bool pull_allowed(const struct crowdsec *cs)
{
	return cs->bouncer_key[0] && !cs->pull &&
	       csapply_pending(cs->apply) < CSAPPLY_QUEUE &&
	       !(cs->startup && csapply_has_whole(cs->apply));
}

/* The schedule timer at the earliest thing due. */
static void rearm_schedule(struct crowdsec *cs)
{
	uint64_t now = boot_ns(), next = UINT64_MAX;

	if (pull_allowed(cs))
		next = cs->next_pull;
	if (machine_on(cs) && !cs->machine_req && cs->next_push < next &&
	    (cs->q_len || !cs->token_renew_unix))
		next = cs->next_push;
	arm(cs->schedule, next == UINT64_MAX ? next
			  : next > now	     ? next - now
					     : 0);
}

/* ---- curl glue ------------------------------------------------------ */

static int on_socket(CURL *easy, curl_socket_t s, int what, void *userp,
		     void *socketp)
{
	struct crowdsec *cs = userp;
	struct epoll_event ev = {
		.data.u64 = ((uint64_t)TAG_SOCKET << 32) | (uint32_t)s,
	};

	(void)easy;
	(void)socketp;
	if (what == CURL_POLL_REMOVE) {
		epoll_ctl(cs->epfd, EPOLL_CTL_DEL, s, NULL);
		return 0;
	}
	ev.events = (what & CURL_POLL_IN ? EPOLLIN : 0) |
		    (what & CURL_POLL_OUT ? EPOLLOUT : 0);
	if (epoll_ctl(cs->epfd, EPOLL_CTL_MOD, s, &ev) && errno == ENOENT)
		epoll_ctl(cs->epfd, EPOLL_CTL_ADD, s, &ev);
	return 0;
}

static int on_curl_timer(CURLM *multi, long timeout_ms, void *userp)
{
	struct crowdsec *cs = userp;

	(void)multi;
	arm(cs->curl_timer,
	    timeout_ms < 0 ? UINT64_MAX : (uint64_t)timeout_ms * 1000000ULL);
	return 0;
}

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct request *r = userdata;
	size_t n = size * nmemb;
	char *nb;

	if (r->len + n + 1 > ANSWER_MAX) {
		r->too_large = true;
		return 0;
	}
	nb = realloc(r->body, r->len + n + 1);
	if (!nb)
		return 0;
	memcpy(nb + r->len, ptr, n);
	r->body = nb;
	r->len += n;
	r->body[r->len] = '\0';
	return n;
}

/* Not inherited by alert_command's children. */
static int on_sockopt(void *clientp, curl_socket_t fd, curlsocktype purpose)
{
	(void)clientp;
	(void)purpose;
	fcntl(fd, F_SETFD, FD_CLOEXEC);
	return CURL_SOCKOPT_OK;
}

static void request_free(struct request *r)
{
	if (!r)
		return;
	if (r->easy) {
		curl_multi_remove_handle(r->cs->multi, r->easy);
		curl_easy_cleanup(r->easy);
	}
	curl_slist_free_all(r->headers);
	free(r->body);
	free(r);
}

static bool add_header(struct curl_slist **list, const char *line)
{
	struct curl_slist *n = curl_slist_append(*list, line);

	if (n)
		*list = n;
	return n;
}

static struct request *request_start(struct crowdsec *cs, enum req_kind kind,
				     const char *path, const char *header,
				     const char *post, long timeout_ms)
{
	struct request *r = calloc(1, sizeof(*r));
	char url[CONF_PATH_LEN + 64];

	if (!r)
		return NULL;
	r->cs = cs;
	r->kind = kind;
	r->started = boot_ns();
	r->easy = curl_easy_init();
	snprintf(url, sizeof(url), "%s%s", cs->url, path);
	if (!r->easy ||
	    !add_header(&r->headers, "User-Agent: relayguard-bouncer/1") ||
	    (header && !add_header(&r->headers, header)) ||
	    (post &&
	     !add_header(&r->headers, "Content-Type: application/json")))
		goto fail;
	curl_easy_setopt(r->easy, CURLOPT_URL, url);
	curl_easy_setopt(r->easy, CURLOPT_HTTPHEADER, r->headers);
	curl_easy_setopt(r->easy, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(r->easy, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(r->easy, CURLOPT_PRIVATE, r);
	curl_easy_setopt(r->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(r->easy, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(r->easy, CURLOPT_CONNECTTIMEOUT_MS,
			 (long)CONNECT_TIMEOUT_MS);
	curl_easy_setopt(r->easy, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(r->easy, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(r->easy, CURLOPT_SOCKOPTFUNCTION, on_sockopt);
	if (post)
		curl_easy_setopt(r->easy, CURLOPT_COPYPOSTFIELDS, post);
	if (curl_multi_add_handle(cs->multi, r->easy) != CURLM_OK)
		goto fail;
	return r;
fail:
	if (r->easy)
		curl_easy_cleanup(r->easy);
	r->easy = NULL;
	request_free(r);
	return NULL;
}

/* ---- the bouncer ---------------------------------------------------- */

static void start_pull(struct crowdsec *cs)
{
	char header[SECRET_MAX + 16];

	snprintf(header, sizeof(header), "X-Api-Key: %s", cs->bouncer_key);
	cs->pull =
		request_start(cs, REQ_PULL,
			      cs->startup ? "/v1/decisions/stream?startup=true"
					  : "/v1/decisions/stream",
			      header, NULL, PULL_TIMEOUT_MS);
	if (cs->pull)
		cs->pull->startup = cs->startup;
	else
		cs->next_pull = boot_ns() + cs->poll_ns;
}

/* Why an exchange failed, in a few words; the state it puts us in. */
static enum crowdsec_state failure(const struct request *r, CURLcode res,
				   long status, char *why, size_t size)
{
	char msg[200];

	if (res != CURLE_OK) {
		snprintf(why, size, "%s",
			 r->too_large ? "answer too large"
				      : curl_easy_strerror(res));
		return r->too_large ? CS_ERROR : CS_UNREACHABLE;
	}
	lapi_error_message(r->body ? r->body : "", r->len, msg, sizeof(msg));
	snprintf(why, size, "HTTP %ld%s%s", status, msg[0] ? ": " : "", msg);
	return status == 401 || status == 403 ? CS_REFUSED : CS_ERROR;
}

/* Whether the next pull asks for the whole set (see RESYNC_MIN_NS), once
 * an answer is applied. Never cleared here: a whole set asked for after a
 * failure stays asked for until one is received. */
static void resync_after_news(struct crowdsec *cs, bool whole, size_t n,
			      uint64_t now)
{
	uint64_t gap = cs->whole_cost * RESYNC_SHARE;

	if (whole) {
		cs->news = false;
		cs->last_whole = now;
		return;
	}
	if (n && !cs->news) {
		cs->news = true;
		cs->news_since = now;
	}
	if (gap < RESYNC_MIN_NS)
		gap = RESYNC_MIN_NS;
	if (!cs->startup && cs->news && now >= cs->last_whole + gap &&
	    (!n || now >= cs->news_since + RESYNC_BUSY_NS)) {
		cs->startup = true;
		cs->cnt.resyncs++;
	}
}

static void log_whole_set(const struct crowdsec *cs,
			  const struct csapply_result *r)
{
	char at[40];

	event_format_time(boot_to_wall_ns(r->received_ns), at, sizeof(at));
	/* logged when the LAPI comes (back); resyncs are routine */
	log_msg(cs->cnt.bouncer == CS_UP ? LOG_LVL_DEBUG : LOG_LVL_INFO,
		"crowdsec bouncer: whole set: %zu decisions, %zu deleted, %zu "
		"stale bans from CrowdSec removed (%zu bytes from the LAPI in "
		"%.3f s, received at %s, applied in %.3f s: %.3f s of work in "
		"%u slices)",
		r->n_added, r->n_deleted, r->stale, r->len, r->fetch_ns / 1e9,
		at, (r->done_ns - r->received_ns) / 1e9, r->work_ns / 1e9,
		r->slices);
}

static void update_apply_counters(struct crowdsec *cs)
{
	cs->cnt.apply = *csapply_stats(cs->apply);
	cs->cnt.apply_pending = csapply_pending(cs->apply);
}

/* csapply's word on an answer, in the order they came. */
static void answer_done(void *ctx, const struct csapply_result *r)
{
	struct crowdsec *cs = ctx;
	char src[PREFIX_STRLEN];

	update_apply_counters(cs);
	if (r->rc) {
		cs->cnt.pull_errors++;
		cs->startup = true; /* the LAPI moved on: take the whole set */
		set_state(cs, true, CS_ERROR, r->err);
		cs->next_pull = r->done_ns +
				backoff_next(&cs->pull_backoff, cs->poll_ns);
		return;
	}
	if (r->whole)
		cs->whole_cost = r->work_ns;
	resync_after_news(cs, r->whole, r->n_added + r->n_deleted, r->done_ns);
	if (r->whole) {
		log_whole_set(cs, r);
	} else if (r->n_added + r->n_deleted) {
		format_prefix(&r->first_added, src, sizeof(src));
		log_debug("crowdsec bouncer: %zu new (first %s), %zu deleted "
			  "decisions",
			  r->n_added, r->n_added ? src : "-", r->n_deleted);
	}
	cs->cnt.deleted_stale += r->stale;
	cs->pull_backoff = 0;
	cs->cnt.last_pull_unix = time(NULL);
	set_state(cs, true, CS_UP, "");
	write_state(cs);
}

/* A good answer goes to be applied in slices; pulls go on meanwhile. */
static void take_answer(struct crowdsec *cs, struct request *r)
{
	uint64_t now = boot_ns();
	struct csapply_answer a = {
		.body = r->body,
		.len = r->len,
		.whole = r->startup,
		.received_ns = now,
		.fetch_ns = now - r->started,
	};

	if (csapply_submit(cs->apply, &a)) { /* pull_allowed makes room */
		cs->cnt.pull_errors++;
		cs->startup = true;
		cs->next_pull = now + cs->poll_ns;
		return;
	}
	r->body = NULL;
	if (r->startup)
		cs->startup = false;
	cs->next_pull = now + cs->poll_ns;
	update_apply_counters(cs);
	if (csapply_pending(cs->apply) == 1)
		arm(cs->work, 0); /* idle until now: a slice at once */
}

static void pull_done(struct crowdsec *cs, struct request *r, CURLcode res,
		      long status)
{
	enum crowdsec_state st;
	char why[256];

	cs->cnt.pulls++;
	/* wide ranges expire here, whether the LAPI answers or not */
	cs->cnt.dec.deleted +=
		csdeny_sweep(cs->deny, bans_maps(cs->bans), boot_ns(), 0);
	if (res == CURLE_OK && status == 200) {
		take_answer(cs, r);
		return;
	}
	st = failure(r, res, status, why, sizeof(why));
	cs->cnt.pull_errors++;
	cs->startup = true;
	set_state(cs, true, st, why);
	cs->next_pull =
		boot_ns() + backoff_next(&cs->pull_backoff, cs->poll_ns);
}

/* ---- the machine ---------------------------------------------------- */

static void start_login(struct crowdsec *cs)
{
	char *body = lapi_login_json(cs->machine_id, cs->password);

	if (body)
		cs->machine_req =
			request_start(cs, REQ_LOGIN, "/v1/watchers/login", NULL,
				      body, PUSH_TIMEOUT_MS);
	free(body);
	if (!cs->machine_req)
		cs->next_push = boot_ns() + NSEC_PER_SEC;
}

static void start_push(struct crowdsec *cs)
{
	struct lapi_alert batch[PUSH_BATCH];
	char header[TOKEN_MAX + 32];
	size_t i, n = cs->q_len < PUSH_BATCH ? cs->q_len : PUSH_BATCH;
	char *body;

	for (i = 0; i < n; i++)
		batch[i] = cs->queue[(cs->q_head + i) % QUEUE_MAX];
	body = lapi_alerts_json(batch, n);
	snprintf(header, sizeof(header), "Authorization: Bearer %s", cs->token);
	if (body)
		cs->machine_req = request_start(cs, REQ_PUSH, "/v1/alerts",
						header, body, PUSH_TIMEOUT_MS);
	free(body);
	if (cs->machine_req)
		cs->machine_req->n_alerts = n;
	else
		cs->next_push = boot_ns() + NSEC_PER_SEC;
}

static void machine_failed(struct crowdsec *cs, struct request *r, CURLcode res,
			   long status)
{
	enum crowdsec_state st;
	char why[256];

	st = failure(r, res, status, why, sizeof(why));
	if (r->kind == REQ_LOGIN)
		cs->cnt.login_errors++;
	else
		cs->cnt.push_errors++;
	if (status == 401)
		cs->token_renew_unix = 0; /* log in again first */
	set_state(cs, false, st, why);
	cs->next_push =
		boot_ns() + backoff_next(&cs->push_backoff, NSEC_PER_SEC);
}

static void login_done(struct crowdsec *cs, struct request *r)
{
	int64_t expire, now = time(NULL), life;
	char err[256];

	if (lapi_parse_login(r->body ? r->body : "", r->len, cs->token,
			     sizeof(cs->token), &expire, err, sizeof(err))) {
		cs->cnt.login_errors++;
		set_state(cs, false, CS_ERROR, err);
		cs->next_push = boot_ns() +
				backoff_next(&cs->push_backoff, NSEC_PER_SEC);
		return;
	}
	cs->cnt.logins++;
	life = expire > now ? expire - now : 0;
	cs->token_renew_unix =
		now +
		(life > 2 * RENEW_BEFORE_S ? life - RENEW_BEFORE_S : life / 2);
	if (cs->token_renew_unix <= now)
		cs->token_renew_unix = now + 1;
	set_state(cs, false, CS_UP, "");
	cs->push_backoff = 0;
	cs->next_push = boot_ns();
}

static void push_done(struct crowdsec *cs, struct request *r)
{
	size_t n = r->n_alerts;

	cs->q_head = (cs->q_head + n) % QUEUE_MAX;
	cs->q_len -= n;
	cs->cnt.queued = cs->q_len;
	cs->cnt.alerts_pushed += n;
	if (!cs->q_len)
		cs->queue_full_logged = false;
	cs->push_backoff = 0;
	set_state(cs, false, CS_UP, "");
	cs->next_push = boot_ns();
	write_state(cs);
}

static void machine_done(struct crowdsec *cs, struct request *r, CURLcode res,
			 long status)
{
	bool ok = res == CURLE_OK && status >= 200 && status < 300;

	if (!ok)
		machine_failed(cs, r, res, status);
	else if (r->kind == REQ_LOGIN)
		login_done(cs, r);
	else
		push_done(cs, r);
}

/* ---- the schedule --------------------------------------------------- */

static void run_schedule(struct crowdsec *cs)
{
	uint64_t now = boot_ns();

	if (pull_allowed(cs) && now >= cs->next_pull)
		start_pull(cs);
	if (machine_on(cs) && !cs->machine_req && now >= cs->next_push) {
		if (!cs->token_renew_unix || time(NULL) >= cs->token_renew_unix)
			start_login(cs);
		else if (cs->q_len)
			start_push(cs);
	}
	rearm_schedule(cs);
}

static void reap_done(struct crowdsec *cs)
{
	struct request *r;
	CURLMsg *m;
	long status;
	int left;

	while ((m = curl_multi_info_read(cs->multi, &left))) {
		if (m->msg != CURLMSG_DONE)
			continue;
		r = NULL;
		status = 0;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, &r);
		curl_easy_getinfo(m->easy_handle, CURLINFO_RESPONSE_CODE,
				  &status);
		if (!r)
			continue;
		if (r == cs->pull) {
			cs->pull = NULL;
			pull_done(cs, r, m->data.result, status);
		} else {
			cs->machine_req = NULL;
			machine_done(cs, r, m->data.result, status);
		}
		request_free(r); /* m is invalid from here */
	}
	run_schedule(cs);
}

/* One slice of the answers being applied, then a pause. */
static void run_slice(struct crowdsec *cs)
{
	if (csapply_slice(cs->apply, CSAPPLY_UNITS, CSAPPLY_SLICE_NS))
		arm(cs->work, CSAPPLY_PAUSE_NS);
	update_apply_counters(cs);
}

void crowdsec_dispatch(struct crowdsec *cs)
{
	struct epoll_event evs[16];
	bool slice = false; /* one a wakeup, whichever fd asked */
	uint64_t ticks;
	int n, i, running, flags;

	n = epoll_wait(cs->epfd, evs, 16, 0);
	for (i = 0; i < n; i++) {
		switch (evs[i].data.u64 >> 32) {
		case TAG_SOCKET:
			flags = (evs[i].events & EPOLLIN ? CURL_CSELECT_IN
							 : 0) |
				(evs[i].events & EPOLLOUT ? CURL_CSELECT_OUT
							  : 0) |
				(evs[i].events & (EPOLLERR | EPOLLHUP)
					 ? CURL_CSELECT_ERR
					 : 0);
			curl_multi_socket_action(
				cs->multi,
				(curl_socket_t)(uint32_t)evs[i].data.u64, flags,
				&running);
			break;
		case TAG_CURL_TIMER:
			if (read(cs->curl_timer, &ticks, sizeof(ticks)) > 0)
				curl_multi_socket_action(cs->multi,
							 CURL_SOCKET_TIMEOUT, 0,
							 &running);
			break;
		case TAG_SCHEDULE:
			if (read(cs->schedule, &ticks, sizeof(ticks)) < 0)
				break;
			run_schedule(cs);
			curl_multi_socket_action(cs->multi, CURL_SOCKET_TIMEOUT,
						 0, &running);
			break;
		case TAG_WORK:
			slice |= read(cs->work, &ticks, sizeof(ticks)) > 0;
			break;
		case TAG_PARSED:
			slice = true;
			break;
		}
	}
	if (slice)
		run_slice(cs);
	reap_done(cs);
}

/* ---- the queue ------------------------------------------------------ */

void crowdsec_push(struct crowdsec *cs, const struct lapi_alert *a)
{
	if (!cs || !machine_on(cs))
		return;
	if (cs->q_len == QUEUE_MAX) {
		/* the oldest goes: the newest bans matter most to the fleet */
		cs->q_head = (cs->q_head + 1) % QUEUE_MAX;
		cs->q_len--;
		cs->cnt.alerts_dropped++;
		if (!cs->queue_full_logged)
			log_warn("crowdsec machine: %d alerts wait for the "
				 "LAPI: dropping the oldest",
				 QUEUE_MAX);
		cs->queue_full_logged = true;
	}
	cs->queue[(cs->q_head + cs->q_len) % QUEUE_MAX] = *a;
	cs->q_len++;
	cs->cnt.queued = cs->q_len;
	if (!cs->machine_req)
		run_schedule(cs); /* curl's timer then starts the request */
}

/* ---- life ----------------------------------------------------------- */

static int epoll_add_tag(int epfd, int fd, enum tag tag)
{
	struct epoll_event ev = {
		.events = EPOLLIN,
		.data.u64 = (uint64_t)tag << 32 | (uint32_t)fd,
	};

	return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) ? -errno : 0;
}

static int load_secrets(struct crowdsec *cs, const struct rg_conf *conf,
			char *err, size_t errlen)
{
	int rc;

	if (!conf->crowdsec_bouncer_key_file[0] &&
	    !conf->crowdsec_machine_id[0]) {
		snprintf(err, errlen,
			 "crowdsec_lapi_url is set but neither "
			 "crowdsec_bouncer_key_file nor crowdsec_machine_id");
		return -EINVAL;
	}
	if (!conf->crowdsec_machine_id[0] !=
	    !conf->crowdsec_machine_password_file[0]) {
		snprintf(err, errlen,
			 "crowdsec_machine_id and "
			 "crowdsec_machine_password_file "
			 "go together");
		return -EINVAL;
	}
	if (conf->crowdsec_bouncer_key_file[0]) {
		rc = crowdsec_read_secret(conf->crowdsec_bouncer_key_file,
					  cs->bouncer_key,
					  sizeof(cs->bouncer_key), err, errlen);
		if (rc)
			return rc;
	}
	if (conf->crowdsec_machine_id[0]) {
		rc = crowdsec_read_secret(conf->crowdsec_machine_password_file,
					  cs->password, sizeof(cs->password),
					  err, errlen);
		if (rc)
			return rc;
		snprintf(cs->machine_id, sizeof(cs->machine_id), "%s",
			 conf->crowdsec_machine_id);
	}
	return 0;
}

static int setup_io(struct crowdsec *cs)
{
	static bool curl_ready;

	if (!curl_ready && curl_global_init(CURL_GLOBAL_DEFAULT))
		return -ENOMEM;
	curl_ready = true;
	cs->epfd = epoll_create1(EPOLL_CLOEXEC);
	cs->curl_timer =
		timerfd_create(CLOCK_BOOTTIME, TFD_NONBLOCK | TFD_CLOEXEC);
	cs->schedule =
		timerfd_create(CLOCK_BOOTTIME, TFD_NONBLOCK | TFD_CLOEXEC);
	cs->work = timerfd_create(CLOCK_BOOTTIME, TFD_NONBLOCK | TFD_CLOEXEC);
	if (cs->epfd < 0 || cs->curl_timer < 0 || cs->schedule < 0 ||
	    cs->work < 0)
		return -errno;
	if (epoll_add_tag(cs->epfd, cs->curl_timer, TAG_CURL_TIMER) ||
	    epoll_add_tag(cs->epfd, cs->schedule, TAG_SCHEDULE) ||
	    epoll_add_tag(cs->epfd, cs->work, TAG_WORK) ||
	    epoll_add_tag(cs->epfd, csapply_fd(cs->apply), TAG_PARSED))
		return -errno;
	cs->multi = curl_multi_init();
	if (!cs->multi)
		return -ENOMEM;
	curl_multi_setopt(cs->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
	curl_multi_setopt(cs->multi, CURLMOPT_SOCKETDATA, cs);
	curl_multi_setopt(cs->multi, CURLMOPT_TIMERFUNCTION, on_curl_timer);
	curl_multi_setopt(cs->multi, CURLMOPT_TIMERDATA, cs);
	return 0;
}

struct crowdsec *crowdsec_new(const struct rg_conf *conf, struct bans *bans,
			      const char *state_path, int *rc, char *err,
			      size_t errlen)
{
	struct crowdsec *cs;
	size_t n;

	*rc = 0;
	if (!conf->crowdsec_lapi_url[0])
		return NULL;
	cs = calloc(1, sizeof(*cs));
	if (cs)
		cs->epfd = cs->curl_timer = cs->schedule = cs->work = -1;
	if (!cs || !(cs->queue = calloc(QUEUE_MAX, sizeof(*cs->queue))) ||
	    !(cs->deny = csdeny_new()) ||
	    !(cs->apply = csapply_new(bans, conf, cs->deny, &cs->cnt.dec,
				      answer_done, cs))) {
		snprintf(err, errlen, "out of memory");
		*rc = -ENOMEM;
		goto fail;
	}
	cs->bans = bans;
	cs->conf = conf;
	cs->poll_ns = conf->crowdsec_poll_interval * NSEC_PER_SEC;
	cs->startup = true;
	snprintf(cs->url, sizeof(cs->url), "%s", conf->crowdsec_lapi_url);
	n = strlen(cs->url);
	while (n && cs->url[n - 1] == '/')
		cs->url[--n] = '\0';
	snprintf(cs->state_path, sizeof(cs->state_path), "%s",
		 state_path ? state_path : "");
	*rc = load_secrets(cs, conf, err, errlen);
	if (!*rc) {
		*rc = setup_io(cs);
		if (*rc)
			snprintf(err, errlen,
				 "cannot set up the HTTP client: %s",
				 log_strerror(*rc));
	}
	if (*rc)
		goto fail;
	cs->cnt.bouncer = cs->bouncer_key[0] ? CS_STARTING : CS_OFF;
	cs->cnt.machine = machine_on(cs) ? CS_STARTING : CS_OFF;
	write_state(cs);
	run_schedule(cs);
	return cs;
fail:
	crowdsec_free(cs);
	return NULL;
}

void crowdsec_free(struct crowdsec *cs)
{
	if (!cs)
		return;
	request_free(cs->pull);
	request_free(cs->machine_req);
	if (cs->multi)
		curl_multi_cleanup(cs->multi);
	fs_close(cs->epfd);
	fs_close(cs->curl_timer);
	fs_close(cs->schedule);
	fs_close(cs->work);
	if (cs->state_path[0])
		unlink(cs->state_path);
	memset(cs->bouncer_key, 0, sizeof(cs->bouncer_key));
	memset(cs->password, 0, sizeof(cs->password));
	memset(cs->token, 0, sizeof(cs->token));
	free(cs->queue);
	csapply_free(cs->apply);
	csdeny_free(cs->deny);
	free(cs);
}

int crowdsec_fd(const struct crowdsec *cs)
{
	return cs->epfd;
}

const struct crowdsec_counters *crowdsec_counters(const struct crowdsec *cs)
{
	return &cs->cnt;
}
