// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * nfq_delay: add link delay where no netem qdisc exists. Every packet that an
 * iptables NFQUEUE rule puts on queue Q is held for DELAY ms (plus a random
 * 0..JITTER ms, which reorders segments) and then accepted. The helper stops
 * by itself after a bounded time, and accepts everything it still holds when
 * it stops, so a test that forgets it loses nothing.
 *
 *   nfq_delay [-q QUEUE] [-d DELAY_MS] [-j JITTER_MS] [-t SECONDS] [-s SEED]
 *
 * Pair it with a rule like
 *   iptables-legacy -A OUTPUT -p tcp --dport 25 -j NFQUEUE --queue-num 7 --queue-bypass
 * inside the namespace whose link is slow (--queue-bypass: packets pass
 * undelayed when the helper is not running).
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/netfilter.h>
#include <libnetfilter_queue/libnetfilter_queue.h>

#define MAX_HELD 65536
#define MAX_DELAY_MS 10000
#define MAX_SECONDS 3600

struct held {
	uint64_t release_ns;
	uint32_t id;
};

/* Packets held, a min-heap on release time. */
struct delayer {
	struct nfq_q_handle *qh;
	struct held heap[MAX_HELD];
	unsigned int n;
	uint64_t delay_ns;
	uint64_t jitter_ns;
	unsigned long queued;
	unsigned long released;
	unsigned long overflow;
	unsigned long verdict_errors;
	unsigned int max_held;
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void heap_swap(struct held *a, struct held *b)
{
	struct held t = *a;

	*a = *b;
	*b = t;
}

static void heap_push(struct delayer *d, struct held h)
{
	unsigned int i = d->n++;

	d->heap[i] = h;
	while (i > 0 && d->heap[(i - 1) / 2].release_ns > d->heap[i].release_ns) {
		heap_swap(&d->heap[(i - 1) / 2], &d->heap[i]);
		i = (i - 1) / 2;
	}
}

static struct held heap_pop(struct delayer *d)
{
	struct held top = d->heap[0];
	unsigned int i = 0;

	d->heap[0] = d->heap[--d->n];
	for (;;) {
		unsigned int l = 2 * i + 1, r = l + 1, m = i;

		if (l < d->n && d->heap[l].release_ns < d->heap[m].release_ns)
			m = l;
		if (r < d->n && d->heap[r].release_ns < d->heap[m].release_ns)
			m = r;
		if (m == i)
			break;
		heap_swap(&d->heap[m], &d->heap[i]);
		i = m;
	}
	return top;
}

static void accept_packet(struct delayer *d, uint32_t id)
{
	if (nfq_set_verdict(d->qh, id, NF_ACCEPT, 0, NULL) < 0)
		d->verdict_errors++;
	else
		d->released++;
}

static int on_packet(struct nfq_q_handle *qh, struct nfgenmsg *msg,
		     struct nfq_data *nfa, void *data)
{
	struct nfqnl_msg_packet_hdr *ph = nfq_get_msg_packet_hdr(nfa);
	struct delayer *d = data;
	struct held h;

	(void)qh;
	(void)msg;
	if (!ph)
		return 0;
	h.id = ntohl(ph->packet_id);
	d->queued++;
	if (d->n == MAX_HELD) {
		d->overflow++;
		accept_packet(d, h.id);
		return 0;
	}
	h.release_ns = now_ns() + d->delay_ns;
	if (d->jitter_ns)
		h.release_ns += (uint64_t)random() % (d->jitter_ns + 1);
	heap_push(d, h);
	if (d->n > d->max_held)
		d->max_held = d->n;
	return 0;
}

/* Accept every held packet whose time has come (all of them if ALL). */
static void release_due(struct delayer *d, int all)
{
	uint64_t now = now_ns();

	while (d->n && (all || d->heap[0].release_ns <= now))
		accept_packet(d, heap_pop(d).id);
}

/* Milliseconds until the next release, capped by the end of the run. */
static int next_timeout_ms(const struct delayer *d, uint64_t end_ns)
{
	uint64_t now = now_ns(), until = end_ns;

	if (d->n && d->heap[0].release_ns < until)
		until = d->heap[0].release_ns;
	if (until <= now)
		return 0;
	return (int)((until - now + 999999) / 1000000);
}

static int parse_uint(const char *s, unsigned long max, unsigned long *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	if (*s < '0' || *s > '9')
		return -EINVAL;
	v = strtoul(s, &end, 10);
	if (errno || *end || v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: nfq_delay [-q QUEUE] [-d DELAY_MS] [-j JITTER_MS] "
		   "[-t SECONDS] [-s SEED]\n"
		   "  holds each packet of NFQUEUE QUEUE (0) for DELAY_MS (20) "
		   "+ 0..JITTER_MS (0), then accepts it;\n"
		   "  stops after SECONDS (60, at most %d)\n",
		MAX_SECONDS);
}

struct options {
	unsigned long queue, delay_ms, jitter_ms, seconds, seed;
};

static int parse_options(int argc, char **argv, struct options *o)
{
	int c;

	*o = (struct options){ .delay_ms = 20, .seconds = 60,
			       .seed = (unsigned long)getpid() };
	while ((c = getopt(argc, argv, "q:d:j:t:s:h")) != -1) {
		int err = 0;

		switch (c) {
		case 'q': err = parse_uint(optarg, 65535, &o->queue); break;
		case 'd': err = parse_uint(optarg, MAX_DELAY_MS, &o->delay_ms); break;
		case 'j': err = parse_uint(optarg, MAX_DELAY_MS, &o->jitter_ms); break;
		case 't': err = parse_uint(optarg, MAX_SECONDS, &o->seconds); break;
		case 's': err = parse_uint(optarg, UINT_MAX, &o->seed); break;
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); return -EINVAL;
		}
		if (err) {
			fprintf(stderr, "nfq_delay: bad value '%s' for -%c\n",
				optarg, c);
			return err;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "nfq_delay: unexpected argument '%s'\n",
			argv[optind]);
		return -EINVAL;
	}
	return 0;
}

static int run(struct nfq_handle *h, struct delayer *d, uint64_t end_ns)
{
	static char buf[65536] __attribute__((aligned));
	struct pollfd pfd = { .fd = nfq_fd(h), .events = POLLIN };

	while (!stop && now_ns() < end_ns) {
		int n = poll(&pfd, 1, next_timeout_ms(d, end_ns));

		if (n < 0 && errno != EINTR)
			return -errno;
		if (n > 0) {
			ssize_t len;

			while ((len = recv(pfd.fd, buf, sizeof(buf),
					   MSG_DONTWAIT)) > 0)
				nfq_handle_packet(h, buf, (int)len);
			if (len < 0 && errno != EAGAIN && errno != ENOBUFS)
				return -errno;
		}
		release_due(d, 0);
	}
	return 0;
}

int main(int argc, char **argv)
{
	static struct delayer d;
	struct nfq_handle *h;
	struct options o;
	int err;

	if (parse_options(argc, argv, &o))
		return 2;
	srandom((unsigned int)o.seed);
	d.delay_ns = o.delay_ms * 1000000ULL;
	d.jitter_ns = o.jitter_ms * 1000000ULL;
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);

	h = nfq_open();
	if (!h) {
		fprintf(stderr, "nfq_delay: nfq_open: %s\n", strerror(errno));
		return 1;
	}
	d.qh = nfq_create_queue(h, (uint16_t)o.queue, on_packet, &d);
	if (!d.qh) {
		fprintf(stderr, "nfq_delay: cannot bind queue %lu: %s "
			"(another listener? nfnetlink_queue loaded?)\n",
			o.queue, strerror(errno));
		err = -EBUSY;
		goto out;
	}
	if (nfq_set_mode(d.qh, NFQNL_COPY_META, 0) < 0) {
		fprintf(stderr, "nfq_delay: set copy mode: %s\n",
			strerror(errno));
		err = -EIO;
		goto out;
	}
	nfq_set_queue_maxlen(d.qh, MAX_HELD);
	fprintf(stderr, "nfq_delay: queue %lu, delay %lu ms, jitter %lu ms, "
		"for %lu s\n", o.queue, o.delay_ms, o.jitter_ms, o.seconds);

	err = run(h, &d, now_ns() + o.seconds * 1000000000ULL);
	if (err)
		fprintf(stderr, "nfq_delay: receive: %s\n", strerror(-err));
	release_due(&d, 1);
	fprintf(stderr, "nfq_delay: %lu packets queued, %lu released, "
		"%lu over the cap, %lu verdict errors, at most %u held\n",
		d.queued, d.released, d.overflow, d.verdict_errors, d.max_held);
out:
	if (d.qh)
		nfq_destroy_queue(d.qh);
	nfq_close(h);
	return err ? 1 : 0;
}
