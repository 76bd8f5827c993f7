// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* cs_client.c's bouncer against a scripted HTTP server on loopback, with
 * real (unpinned) ban maps: an HTTP error and a malformed answer apply
 * nothing and make the next pull a startup one; a good answer bans Ip and
 * Range decisions with their origin, never over a local ban; a deleted
 * decision lifts only bans from CrowdSec; after a burst of deltas the whole
 * set is taken again and what it lacks is removed; secret files others may
 * read are refused. The client is only ever driven by its descriptor. Needs
 * root. */
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "bans.h"
#include "clock.h"
#include "config.h"
#include "cs_client.h"
#include "origin.h"
#include "testmaps.h"
#include "maptests.h"

#define MAX_EXCHANGES 8
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

struct exchange {
	int status;
	const char *body;
	char request[256]; /* request line and X-Api-Key, as received */
};

static struct {
	int fd;
	struct exchange ex[MAX_EXCHANGES];
	int n, served;
	pthread_mutex_t lock;
} srv = {.lock = PTHREAD_MUTEX_INITIALIZER};

static struct rg_maps maps;
static struct rg_conf conf;
static struct bans *bans;
static char dir[] = "/tmp/rg-test-crowdsec-XXXXXX";

static void serve_one(int c)
{
	char req[8192], resp[16384], *key;
	struct exchange *e;
	ssize_t n, len = 0;

	while (len < (ssize_t)sizeof(req) - 1 &&
	       (n = read(c, req + len, sizeof(req) - 1 - len)) > 0) {
		len += n;
		req[len] = '\0';
		if (strstr(req, "\r\n\r\n"))
			break;
	}
	req[len] = '\0';
	pthread_mutex_lock(&srv.lock);
	if (srv.served < srv.n) {
		e = &srv.ex[srv.served++];
		key = strstr(req, "X-Api-Key: ");
		snprintf(e->request, sizeof(e->request), "%.*s|%.*s",
			 (int)strcspn(req, "\r"), req,
			 key ? (int)strcspn(key, "\r") : 0, key ? key : "");
		n = snprintf(
			resp, sizeof(resp),
			"HTTP/1.1 %d X\r\nContent-Type: application/json\r\n"
			"Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
			e->status, strlen(e->body), e->body);
	} else {
		n = snprintf(resp, sizeof(resp),
			     "HTTP/1.1 503 X\r\nContent-Length: 0\r\n"
			     "Connection: close\r\n\r\n");
	}
	pthread_mutex_unlock(&srv.lock);
	if (write(c, resp, n) != n)
		fprintf(stderr, "short write\n");
	close(c);
}

static void *server(void *arg)
{
	int c;

	(void)arg;
	while ((c = accept(srv.fd, NULL, NULL)) >= 0)
		serve_one(c);
	return NULL;
}

static int start_server(void)
{
	struct sockaddr_in sa = {.sin_family = AF_INET,
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(sa);
	pthread_t t;

	srv.fd = socket(AF_INET, SOCK_STREAM, 0);
	if (srv.fd < 0 || bind(srv.fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    listen(srv.fd, 8) ||
	    getsockname(srv.fd, (struct sockaddr *)&sa, &len))
		return -1;
	snprintf(conf.crowdsec_lapi_url, sizeof(conf.crowdsec_lapi_url),
		 "http://127.0.0.1:%u/", ntohs(sa.sin_port));
	return pthread_create(&t, NULL, server, NULL) ? -1 : 0;
}

static int write_file(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return -1;
	fputs(text, f);
	fclose(f);
	return chmod(path, mode);
}

/* The value of deny4's entry for exactly p; 0 when none. */
static int deny4_value(const char *p)
{
	struct rg_lpm4_key k;
	struct prefix x;
	__u8 v = 0;

	assert_int_equal(parse_prefix(p, &x), 0);
	k.prefixlen = x.len;
	memcpy(&k.addr, x.addr, 4);
	if (bpf_map_lookup_elem(maps.deny4, &k, &v))
		return 0;
	return v;
}

static int setup(void **state)
{
	(void)state;
	if (testmaps_create(&maps, 4096, 4096, 1024) || !mkdtemp(dir))
		return -1;
	bans = bans_new(&maps);
	conf_defaults(&conf);
	conf.crowdsec_poll_interval = 1;
	snprintf(conf.crowdsec_bouncer_key_file,
		 sizeof(conf.crowdsec_bouncer_key_file), "%s/key", dir);
	if (!bans ||
	    write_file(conf.crowdsec_bouncer_key_file, "s3cr3t-key\n", 0600))
		return -1;
	return start_server();
}

static int teardown(void **state)
{
	char cmd[300];

	(void)state;
	bans_free(bans);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd);
}

static void script(int status, const char *body)
{
	pthread_mutex_lock(&srv.lock);
	srv.ex[srv.n].status = status;
	srv.ex[srv.n].body = body;
	srv.n++;
	pthread_mutex_unlock(&srv.lock);
}

static int served(void)
{
	int n;

	pthread_mutex_lock(&srv.lock);
	n = srv.served;
	pthread_mutex_unlock(&srv.lock);
	return n;
}

/* Drive the client through its descriptor until the server has answered
 * n exchanges and the client has taken in the last one (pulls counted)
 * and applied it. */
static void run_until(struct crowdsec *cs, int n, uint64_t pulls)
{
	uint64_t deadline = boot_ns() + 20 * NSEC_PER_SEC;
	struct pollfd p = {.fd = crowdsec_fd(cs), .events = POLLIN};

	while (served() < n || crowdsec_counters(cs)->pulls < pulls ||
	       crowdsec_counters(cs)->apply_pending) {
		assert_true(boot_ns() < deadline);
		if (poll(&p, 1, 100) > 0)
			crowdsec_dispatch(cs);
	}
}

static bool banned(const char *addr, struct rg_ban *b)
{
	struct prefix p;

	assert_int_equal(parse_prefix(addr, &p), 0);
	return !banstore_get(&maps, &p, b);
}

static void test_secret_refused(void **state)
{
	char err[256], path[200];
	struct rg_conf c = conf;
	int rc;

	(void)state;
	snprintf(path, sizeof(path), "%s/open-key", dir);
	assert_int_equal(write_file(path, "k\n", 0644), 0);
	snprintf(c.crowdsec_bouncer_key_file,
		 sizeof(c.crowdsec_bouncer_key_file), "%s", path);
	assert_null(crowdsec_new(&c, bans, NULL, &rc, err, sizeof(err)));
	assert_int_equal(rc, -EPERM);
	assert_non_null(strstr(err, "0644"));
	assert_int_equal(chmod(path, 0640), 0);
	assert_null(crowdsec_new(&c, bans, NULL, &rc, err, sizeof(err)));
	assert_int_equal(rc, -EPERM);
	snprintf(c.crowdsec_bouncer_key_file,
		 sizeof(c.crowdsec_bouncer_key_file), "%s", dir);
	assert_null(crowdsec_new(&c, bans, NULL, &rc, err, sizeof(err)));
	assert_int_equal(rc, -EPERM);
	assert_non_null(strstr(err, "not a regular file"));
	c.crowdsec_lapi_url[0] = '\0'; /* off: nothing read, no error */
	assert_null(crowdsec_new(&c, bans, NULL, &rc, err, sizeof(err)));
	assert_int_equal(rc, 0);
}

static const char truncated[] = "{\"new\":[{\"duration\":\"1h\",\"scope\":"
				"\"Ip\",\"value\":\"10.9.9.9\"},"
				"{\"duration\":\"1h\",\"scope\":\"Ip\",\"val";
static const char good[] =
	"{\"deleted\":null,\"new\":["
	"{\"duration\":\"3h59m58.82s\",\"origin\":\"cscli\",\"scope\":\"Ip\","
	"\"value\":\"10.9.9.1\"},"
	"{\"duration\":\"1h\",\"origin\":\"lists\",\"scenario\":\"lists:"
	"firehol_l1\","
	"\"scope\":\"Range\",\"value\":\"10.9.8.0/30\"},"
	"{\"duration\":\"1h\",\"origin\":\"crowdsec\",\"scope\":\"Ip\","
	"\"value\":\"10.9.9.2\"},"
	"{\"duration\":\"-20.5ms\",\"origin\":\"cscli\",\"scope\":\"Ip\","
	"\"value\":\"10.9.9.3\"},"
	"{\"duration\":\"1h\",\"scope\":\"Range\",\"value\":\"10.0.0.0/8\"},"
	"{\"duration\":\"1h\",\"scope\":\"Range\",\"value\":\"11.0.0.0/8\"},"
	"{\"duration\":\"1h\",\"scope\":\"Range\",\"value\":\"192.168.0.0/"
	"15\"},"
	"{\"duration\":\"1h\",\"scope\":\"Country\",\"value\":\"FR\"}]}";
static const char deltas[] =
	"{\"new\":null,\"deleted\":["
	"{\"duration\":\"-1ms\",\"scope\":\"Range\",\"value\":\"10.0.0.0/8\"},"
	"{\"duration\":\"-1ms\",\"scope\":\"Range\",\"value\":\"192.168.0.0/"
	"15\"},"
	"{\"duration\":\"-1ms\",\"origin\":\"cscli\",\"scope\":\"Ip\","
	"\"value\":\"10.9.9.1\"},"
	"{\"duration\":\"-1ms\",\"origin\":\"crowdsec\",\"scope\":\"Ip\","
	"\"value\":\"10.9.9.2\"}]}";

static const char whole[] =
	"{\"new\":[{\"duration\":\"1h\",\"origin\":\"cscli\",\"scope\":\"Ip\","
	"\"value\":\"10.9.9.7\"}],\"deleted\":null}";

static struct crowdsec *bouncer; /* the bouncer tests' client */

/* Where bouncer_start()'s script has got to (phases[]). */
enum phase_name {
	AFTER_ERROR,
	AFTER_TRUNCATED,
	AFTER_WHOLE_SET,
	AFTER_DELTAS,
	AFTER_RESYNC,
};

/* A local ban that CrowdSec also names, an operator's deny entry (value
 * 1, `relayguardctl deny add`), then the LAPI's answers in turn: an
 * error, a truncated body, the whole set, deltas, an empty delta (calm:
 * the whole set again), and that whole set. */
static void bouncer_start(void)
{
	struct rg_lpm4_key k = {.prefixlen = 15, .addr = htonl(0xc0a80000)};
	struct ban_entry local = {0};
	char err[256];
	__u8 one = 1;
	int rc;

	assert_int_equal(parse_prefix("10.9.9.2", &local.source), 0);
	local.ban.created_ns = boot_ns();
	local.ban.expires_ns = boot_ns() + 3600 * NSEC_PER_SEC;
	local.ban.reason = RG_REASON_RELAY_ATTEMPT;
	assert_int_equal(banstore_put(&maps, &local), 0);
	assert_int_equal(bpf_map_update_elem(maps.deny4, &k, &one, 0), 0);
	script(500, "{\"message\":\"boom\"}");
	script(200, truncated);
	script(200, good);
	script(200, deltas);
	script(200, "{\"new\":null,\"deleted\":null}");
	script(200, whole);
	bouncer = crowdsec_new(&conf, bans, NULL, &rc, err, sizeof(err));
	assert_non_null(bouncer);
}

/* A fresh bouncer's world: empty maps, the server's script from the
 * start, the client started. */
static int bouncer_setup(void **state)
{
	(void)state;
	bans_free(bans);
	maps_close(&maps);
	pthread_mutex_lock(&srv.lock);
	memset(srv.ex, 0, sizeof(srv.ex));
	srv.n = srv.served = 0;
	pthread_mutex_unlock(&srv.lock);
	if (testmaps_create(&maps, 4096, 4096, 1024))
		return -1;
	bans = bans_new(&maps);
	if (!bans)
		return -1;
	bouncer_start();
	return 0;
}

static int bouncer_teardown(void **state)
{
	(void)state;
	crowdsec_free(bouncer);
	bouncer = NULL;
	return 0;
}

/* What the maps hold once the server has answered `served` exchanges of
 * bouncer_start()'s script: sources banned (with their origin, where one
 * is given) and not, deny4 entries with their value (0: none). */
static const struct phase {
	int served;
	struct {
		const char *addr, *origin;
	} banned[4];
	const char *clear[2];
	struct {
		const char *prefix;
		int value;
	} deny[3];
} phases[] = {
	[AFTER_ERROR] = { .served = 1 },
	[AFTER_TRUNCATED] = { .served = 2, .clear = { "10.9.9.9" } },
	[AFTER_WHOLE_SET] = {
		.served = 3,
		.banned = { { "10.9.9.1", "crowdsec:cscli" },
			    { "10.9.8.0", "crowdsec:lists:firehol" },
			    { "10.9.8.3", "crowdsec:lists:firehol" },
			    { "10.9.9.2", "local" } },
		.clear = { "10.9.8.4", "10.9.9.3" /* expired */ },
		.deny = { { "10.0.0.0/8", CSDENY_VALUE },
			  { "11.0.0.0/8", CSDENY_VALUE },
			  { "192.168.0.0/15", 1 } },
	},
	[AFTER_DELTAS] = {
		.served = 4,
		.banned = { { "10.9.9.2" }, { "10.9.8.1" } },
		.clear = { "10.9.9.1" },
		.deny = { { "10.0.0.0/8", 0 }, { "192.168.0.0/15", 1 } },
	},
	/* the empty delta, then the whole set again */
	[AFTER_RESYNC] = {
		.served = 6,
		.banned = { { "10.9.9.7" }, { "10.9.9.2" } },
		.clear = { "10.9.8.1" },
		.deny = { { "11.0.0.0/8", 0 }, { "192.168.0.0/15", 1 } },
	},
};

/* The bouncer driven until its server has answered the exchanges of
 * phase n, the maps held to it; returns the client's counters. */
static const struct crowdsec_counters *bouncer_at(enum phase_name n)
{
	const struct phase *p = &phases[n];
	char origin[ORIGIN_STRLEN];
	struct rg_ban b;
	size_t i;

	run_until(bouncer, p->served, p->served);
	for (i = 0; i < ARRAY_SIZE(p->banned) && p->banned[i].addr; i++) {
		if (!banned(p->banned[i].addr, &b))
			fail_msg("%s not banned", p->banned[i].addr);
		origin_format(&b, origin, sizeof(origin));
		if (p->banned[i].origin && strcmp(origin, p->banned[i].origin))
			fail_msg("%s banned by %s, not %s", p->banned[i].addr,
				 origin, p->banned[i].origin);
	}
	for (i = 0; i < ARRAY_SIZE(p->clear) && p->clear[i]; i++)
		if (banned(p->clear[i], &b))
			fail_msg("%s banned", p->clear[i]);
	for (i = 0; i < ARRAY_SIZE(p->deny) && p->deny[i].prefix; i++)
		if (deny4_value(p->deny[i].prefix) != p->deny[i].value)
			fail_msg("deny4 %s: %d, not %d", p->deny[i].prefix,
				 deny4_value(p->deny[i].prefix),
				 p->deny[i].value);
	return crowdsec_counters(bouncer);
}

/* An error and a truncated answer apply nothing. */
static void test_bouncer_bad_answers(void **state)
{
	(void)state;
	assert_int_equal(bouncer_at(AFTER_ERROR)->bouncer, CS_ERROR);
	assert_int_equal(bouncer_at(AFTER_TRUNCATED)->bouncer, CS_ERROR);
	assert_int_equal(crowdsec_counters(bouncer)->dec.received, 0);
}

/* The whole set: bans with their origins and expiry, a range expanded,
 * the expired and the unknown scope skipped, the local ban kept; ranges
 * too wide to expand go into the deny tries marked CrowdSec's, the
 * operator's entry is not taken over. */
static void test_bouncer_whole_set(void **state)
{
	const struct crowdsec_counters *cnt = bouncer_at(AFTER_WHOLE_SET);
	struct rg_ban b;

	(void)state;
	assert_int_equal(cnt->bouncer, CS_UP);
	assert_true(banned("10.9.9.1", &b));
	assert_true(b.expires_ns > boot_ns() + 3 * 3600 * NSEC_PER_SEC);
	assert_true(banned("10.9.9.2", &b));
	assert_int_equal(b.reason, RG_REASON_RELAY_ATTEMPT);
	assert_int_equal(cnt->dec.applied, 5);
	assert_int_equal(cnt->dec.denied, 2);
	assert_int_equal(cnt->dec.kept_local, 2);
	assert_int_equal(cnt->dec.expired, 1);
	assert_int_equal(cnt->dec.skipped, 1);
}

/* Deltas delete CrowdSec's bans and lift its deny entries, never a local
 * ban nor the operator's entry. */
static void test_bouncer_deltas(void **state)
{
	(void)state;
	assert_int_equal(bouncer_at(AFTER_DELTAS)->dec.deleted, 2);
}

/* News, then calm: the whole set again (crowdsec 1.4 can lose rows from
 * deltas); what it no longer holds from CrowdSec goes. After a failure,
 * and at start, the whole set is asked for. */
static void test_bouncer_resync(void **state)
{
	const struct crowdsec_counters *cnt = bouncer_at(AFTER_RESYNC);

	(void)state;
	assert_int_equal(cnt->resyncs, 1);
	assert_int_equal(cnt->deleted_stale, 5);
	assert_string_equal(srv.ex[0].request,
			    "GET /v1/decisions/stream?startup=true HTTP/1.1|"
			    "X-Api-Key: s3cr3t-key");
	assert_non_null(strstr(srv.ex[1].request, "?startup=true "));
	assert_non_null(strstr(srv.ex[2].request, "?startup=true "));
	assert_non_null(strstr(srv.ex[3].request, "/v1/decisions/stream "));
	assert_non_null(strstr(srv.ex[4].request, "/v1/decisions/stream "));
	assert_non_null(strstr(srv.ex[5].request, "?startup=true "));
}

/* With the LAPI refusing everything, local bans wait in a bounded queue:
 * the oldest go first, and nothing blocks. */
static void test_queue_bounded(void **state)
{
	struct lapi_alert a = {.duration_s = 600};
	const struct crowdsec_counters *cnt;
	struct rg_conf c = conf;
	struct crowdsec *cs;
	char err[256];
	uint64_t t0;
	int rc, i;

	(void)state;
	c.crowdsec_bouncer_key_file[0] = '\0'; /* a machine only */
	snprintf(c.crowdsec_machine_id, sizeof(c.crowdsec_machine_id), "gw1");
	snprintf(c.crowdsec_machine_password_file,
		 sizeof(c.crowdsec_machine_password_file), "%s/pw", dir);
	assert_int_equal(
		write_file(c.crowdsec_machine_password_file, "pw\n", 0600), 0);
	cs = crowdsec_new(&c, bans, NULL, &rc, err, sizeof(err));
	assert_non_null(cs);
	cnt = crowdsec_counters(cs);
	assert_int_equal(cnt->bouncer, CS_OFF);
	assert_int_equal(parse_prefix("192.0.2.1", &a.source), 0);
	snprintf(a.scenario, sizeof(a.scenario), "relayguard/relay_attempt");
	t0 = boot_ns();
	for (i = 0; i < 4096 + 5; i++)
		crowdsec_push(cs, &a);
	assert_true(boot_ns() - t0 < NSEC_PER_SEC); /* no I/O on the way */
	assert_int_equal(cnt->queued, 4096);
	assert_int_equal(cnt->alerts_dropped, 5);
	crowdsec_free(cs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_secret_refused),
		cmocka_unit_test_setup_teardown(test_bouncer_bad_answers, bouncer_setup,
						bouncer_teardown),
		cmocka_unit_test_setup_teardown(test_bouncer_whole_set, bouncer_setup,
						bouncer_teardown),
		cmocka_unit_test_setup_teardown(test_bouncer_deltas, bouncer_setup,
						bouncer_teardown),
		cmocka_unit_test_setup_teardown(test_bouncer_resync, bouncer_setup,
						bouncer_teardown),
		cmocka_unit_test(test_queue_bounded),
	};

	return run_map_tests(tests, setup, teardown);
}
