// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Postfix asked through child processes, its config watched with inotify.
 * See mtawatch.h. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "fsutil.h"
#include "log.h"
#include "mtawatch.h"
#include "proc.h"

enum tag { TAG_INOTIFY = 1, TAG_OUT, TAG_ERR };

/* One postconf/postmap run: stdout kept (up to MTA_OUTPUT_MAX), the start
 * of stderr kept for the log. */
struct child {
	pid_t pid;
	int fd[2]; /* stdout, stderr read ends; -1 once at their end */
	char *out;
	size_t len, cap;
	char msg[256];
	size_t msg_len;
	uint64_t deadline;
	int fail;   /* -ETIMEDOUT, -E2BIG (output), -errno; 0 */
	int status; /* waitpid's, once reaped */
	void (*done)(struct mta_watch *w, struct child *c);
};

struct mta_watch {
	char dir[256], state_path[4096];
	int epfd, ino;
	struct mta_domains *live, *next;
	struct child reading, query;
	unsigned int table_i; /* the reading's next table */
	bool again;	      /* a change came during the reading */
	uint64_t refresh_at;  /* 0: none due */
	uint64_t readings, reading_errors;
	bool error_logged, query_error_logged;
	int64_t last_reading_unix;
	char last_error[1024];
	/* the names of the files of every table a reading met (their
	 * directories watched); full: every event counts */
	char names[MTA_MAX_TABLES][64];
	unsigned int n_names;
	/* the domains the query child asks about (postmap -q -, one table
	 * after the other), and those a table had */
	char qnames[MTA_QUERY_BATCH][MTA_DOMAIN_LEN];
	bool qfound[MTA_QUERY_BATCH];
	unsigned int n_q;
	unsigned int q_table; /* the table the query child asks */
	void (*changed)(void *ctx);
	void *ctx;
};

/* ---- children ---------------------------------------------------------- */

static int epoll_watch(int epfd, int fd, uint32_t tag, struct child *c)
{
	struct epoll_event ev = { .events = EPOLLIN };

	ev.data.u64 = ((uint64_t)(uintptr_t)c << 2) | tag;
	return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) ? -errno : 0;
}

static void close_fds(struct child *c)
{
	int i;

	for (i = 0; i < 2; i++) {
		fs_close(c->fd[i]); /* leaves the epoll set with it */
		c->fd[i] = -1;
	}
}

/* in: the child's stdin (an fd the caller closes after, or PROC_NULL). */
static int child_start(struct mta_watch *w, struct child *c, char *const argv[],
		       int in, uint64_t now_ns)
{
	int out[2] = { -1, -1 }, err[2] = { -1, -1 }, ret;

	c->len = c->msg_len = 0;
	c->msg[0] = '\0';
	c->fail = c->status = 0;
	/* only our ends are non-blocking: a child writing to a full
	 * non-blocking pipe would lose its output */
	if (pipe2(out, O_CLOEXEC) || pipe2(err, O_CLOEXEC) ||
	    fcntl(out[0], F_SETFL, O_NONBLOCK) ||
	    fcntl(err[0], F_SETFL, O_NONBLOCK)) {
		ret = -errno;
		goto fail;
	}
	ret = proc_spawn(argv, in, out[1], err[1], &c->pid);
	if (ret)
		goto fail;
	close(out[1]);
	close(err[1]);
	c->fd[0] = out[0];
	c->fd[1] = err[0];
	c->deadline = now_ns + MTA_CHILD_TIMEOUT_NS;
	if (epoll_watch(w->epfd, c->fd[0], TAG_OUT, c) ||
	    epoll_watch(w->epfd, c->fd[1], TAG_ERR, c)) {
		c->fail = -errno;
		kill(c->pid, SIGKILL);
		close_fds(c);
	}
	return 0;
fail:
	c->pid = 0;
	for (int i = 0; i < 2; i++) {
		fs_close(out[i]);
		fs_close(err[i]);
	}
	return ret;
}

static void child_fail(struct child *c, int err)
{
	if (!c->fail)
		c->fail = err;
	kill(c->pid, SIGKILL);
	close_fds(c);
}

static void read_out(struct child *c)
{
	size_t cap;
	ssize_t n;
	char *p;

	for (;;) {
		if (c->len == c->cap) {
			if (c->cap >
			    MTA_OUTPUT_MAX) { /* one byte over: enough */
				child_fail(c, -E2BIG);
				return;
			}
			cap = c->cap ? c->cap * 2 : 65536;
			if (cap > MTA_OUTPUT_MAX)
				cap = MTA_OUTPUT_MAX + 1;
			p = realloc(c->out, cap + 1);
			if (!p) {
				child_fail(c, -ENOMEM);
				return;
			}
			c->out = p;
			c->cap = cap;
		}
		n = read(c->fd[0], c->out + c->len, c->cap - c->len);
		if (n > 0) {
			c->len += n;
			continue;
		}
		if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
			close(c->fd[0]);
			c->fd[0] = -1;
		}
		return;
	}
}

static void read_err(struct child *c)
{
	char buf[4096];
	ssize_t n;
	size_t k;

	while ((n = read(c->fd[1], buf, sizeof(buf))) > 0) {
		k = sizeof(c->msg) - 1 - c->msg_len;
		if ((size_t)n < k)
			k = n;
		memcpy(c->msg + c->msg_len, buf, k);
		c->msg_len += k;
		c->msg[c->msg_len] = '\0';
	}
	if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
		close(c->fd[1]);
		c->fd[1] = -1;
	}
}

/* Reaped once both pipes are at their end (or it was killed). */
static void child_poll(struct mta_watch *w, struct child *c, uint64_t now_ns)
{
	if (!c->pid)
		return;
	if (now_ns > c->deadline && (c->fd[0] >= 0 || c->fd[1] >= 0))
		child_fail(c, -ETIMEDOUT);
	if (c->fd[0] >= 0 || c->fd[1] >= 0)
		return;
	if (waitpid(c->pid, &c->status, WNOHANG) != c->pid)
		return;
	c->pid = 0;
	if (!c->fail && !(WIFEXITED(c->status) && !WEXITSTATUS(c->status)))
		c->fail =
			WIFEXITED(c->status) ? -WEXITSTATUS(c->status) : -EINTR;
	c->msg[strcspn(c->msg, "\n")] = '\0';
	c->done(w, c);
}

/* "timed out", "output over 16 MiB", the first line of its stderr ... */
static const char *child_why(const struct child *c)
{
	if (c->fail == -ETIMEDOUT)
		return "no answer within 5 s";
	if (c->fail == -E2BIG)
		return "output over 16 MiB";
	if (c->msg[0])
		return c->msg;
	return c->fail == -EINTR ? "killed by a signal" : "exit status != 0";
}

/* ---- readings ---------------------------------------------------------- */

static void watch_dir_of(struct mta_watch *w, const char *path)
{
	char buf[MTA_SPEC_LEN];

	snprintf(buf, sizeof(buf), "%s", path);
	if (inotify_add_watch(w->ino, dirname(buf),
			      IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM |
				      IN_CREATE | IN_DELETE) < 0)
		log_debug("cannot watch the directory of %s: %s", path,
			  strerror(errno));
}

static int fill_state(FILE *f, void *ctx)
{
	const struct mta_watch *w = ctx;
	const struct mta_stats *st = mta_domains_stats(w->live);

	fprintf(f,
		"source=postfix:%s\ndomains=%" PRIu64
		"\ntables_asked_per_domain=%" PRIu64 "\nreadings=%" PRIu64
		"\nlast_reading=%" PRId64 "\nreading_errors=%" PRIu64
		"\nqueries=%" PRIu64 "\nquery_errors=%" PRIu64 "\nwaiting=%u\n",
		w->dir, st->domains, st->query_tables, w->readings,
		w->last_reading_unix, w->reading_errors, st->queries,
		st->query_errors, mta_domains_pending(w->live));
	if (w->last_error[0])
		fprintf(f, "last_error=%s\n", w->last_error);
	return 0;
}

static void write_state(struct mta_watch *w)
{
	if (w->state_path[0])
		fs_replace(w->state_path, 0, fill_state, w);
}

void mta_print_literal_state(FILE *f, const char *source, unsigned int domains)
{
	fprintf(f, "source=%s\ndomains=%u\n", source, domains);
}

static void reading_failed(struct mta_watch *w, const char *what,
			   const char *why)
{
	snprintf(w->last_error, sizeof(w->last_error), "%s: %s", what, why);
	w->reading_errors++;
	if (!w->error_logged)
		log_err("cannot read what Postfix (%s) receives for: %s; "
			"keeping the last good list (%" PRIu64 " domains)",
			w->dir, w->last_error,
			mta_domains_stats(w->live)->domains);
	w->error_logged = true;
	mta_domains_free(w->next);
	w->next = NULL;
	write_state(w);
	mta_domains_give_up(w->live);
	if (w->changed)
		w->changed(w->ctx); /* RCPTs that waited for a first list */
}

static void reading_done(struct mta_watch *w)
{
	const struct mta_stats *st;

	mta_domains_finish(w->next);
	mta_domains_replace(w->live, w->next);
	mta_domains_free(w->next);
	w->next = NULL;
	w->readings++;
	w->last_reading_unix = time(NULL);
	w->last_error[0] = '\0';
	st = mta_domains_stats(w->live);
	log_info("local domains from postfix:%s: %" PRIu64 " domains, %" PRIu64
		 " tables asked per domain",
		 w->dir, st->domains, st->query_tables);
	w->error_logged = false;
	write_state(w);
	if (w->changed)
		w->changed(w->ctx);
}

static int read_file(const char *path, char **text, size_t *len)
{
	FILE *f = fopen(path, "re");
	int ret = 0;

	if (!f)
		return -errno;
	*text = malloc(MTA_OUTPUT_MAX + 1);
	if (!*text) {
		fclose(f);
		return -ENOMEM;
	}
	*len = fread(*text, 1, MTA_OUTPUT_MAX + 1, f);
	if (ferror(f))
		ret = -EIO;
	else if (*len > MTA_OUTPUT_MAX)
		ret = -E2BIG;
	fclose(f);
	return ret;
}

static void table_listed(struct mta_watch *w, struct child *c);

/* The reading's tables from table_i on: files read here, postmap -s for
 * the listable ones (one child at a time), then done. */
static void next_table(struct mta_watch *w, uint64_t now_ns)
{
	const struct mta_table *t;
	char err[600], *text = NULL;
	size_t len = 0;
	int ret;

	while ((t = mta_table(w->next, w->table_i++))) {
		if (t->kind == MTA_TABLE_QUERY)
			continue;
		if (t->kind == MTA_TABLE_LIST) {
			char *argv[] = { "postmap",	  "-c", w->dir, "-s",
					 (char *)t->spec, NULL };

			w->reading.done = table_listed;
			ret = child_start(w, &w->reading, argv, PROC_NULL,
					  now_ns);
			if (ret)
				reading_failed(w, "postmap -s", strerror(-ret));
			return;
		}
		ret = read_file(t->spec, &text, &len);
		if (!ret)
			ret = mta_parse_keys(w->next, text, len, t->parent, err,
					     sizeof(err));
		else
			snprintf(err, sizeof(err), "%s", strerror(-ret));
		free(text);
		text = NULL;
		if (ret) {
			reading_failed(w, t->spec, err);
			return;
		}
	}
	reading_done(w);
}

static void table_listed(struct mta_watch *w, struct child *c)
{
	const struct mta_table *t = mta_table(w->next, w->table_i - 1);
	char err[600];

	if (c->fail) {
		snprintf(err, sizeof(err), "postmap -s %s", t->spec);
		reading_failed(w, err, child_why(c));
		return;
	}
	if (mta_parse_keys(w->next, c->out, c->len, t->parent, err,
			   sizeof(err))) {
		reading_failed(w, t->spec, err);
		return;
	}
	next_table(w, boot_ns());
}

/* The tables a reading names are watched from then on, even when the
 * reading fails (a table not made yet: its postmap is the change). */
static void note_tables(struct mta_watch *w, const struct mta_domains *m)
{
	const struct mta_table *t;
	const char *path, *base;
	unsigned int i, k;

	for (i = 0; (t = mta_table(m, i)); i++) {
		path = strchr(t->spec, '/');
		if (!path)
			continue;
		base = strrchr(path, '/') + 1;
		for (k = 0; k < w->n_names; k++)
			if (!strcmp(w->names[k], base))
				break;
		if (k < w->n_names || w->n_names == MTA_MAX_TABLES)
			continue;
		snprintf(w->names[w->n_names++], sizeof(w->names[0]), "%s",
			 base);
		watch_dir_of(w, path);
	}
}

static void postconf_read(struct mta_watch *w, struct child *c)
{
	char err[256];

	if (c->fail) {
		reading_failed(w, "postconf", child_why(c));
		return;
	}
	if (mta_parse_postconf(w->next, c->out, c->len, err, sizeof(err))) {
		reading_failed(w, "postconf", err);
		return;
	}
	note_tables(w, w->next);
	w->table_i = 0;
	next_table(w, boot_ns());
}

static void start_reading(struct mta_watch *w, uint64_t now_ns)
{
	char *argv[5 + MTA_N_PARAMS] = { "postconf", "-c", w->dir, "-x" };
	int i, ret;

	for (i = 0; i < MTA_N_PARAMS; i++)
		argv[4 + i] = (char *)mta_params[i];
	w->refresh_at = 0;
	w->again = false;
	w->next = mta_domains_new();
	if (!w->next) {
		reading_failed(w, "postconf", "out of memory");
		return;
	}
	w->reading.done = postconf_read;
	ret = child_start(w, &w->reading, argv, PROC_NULL, now_ns);
	if (ret)
		reading_failed(w, "postconf", strerror(-ret));
}

/* ---- per-domain queries ------------------------------------------------- */

static const struct mta_table *query_table(struct mta_watch *w, unsigned int *i)
{
	const struct mta_table *t;

	for (; (t = mta_table(w->live, *i)); (*i)++)
		if (t->kind == MTA_TABLE_QUERY)
			return t;
	return NULL;
}

static void ask_table(struct mta_watch *w, uint64_t now_ns);

/* The batch answered: local where a table had it; result < 0: it could
 * not be asked. */
static void answer_all(struct mta_watch *w, int result)
{
	unsigned int i;

	for (i = 0; i < w->n_q; i++)
		mta_domains_answer(w->live, w->qnames[i],
				   result < 0 ? result : w->qfound[i]);
	w->n_q = 0;
	write_state(w);
	if (w->changed)
		w->changed(w->ctx);
}

/* "key\tvalue" lines: the keys the table had. */
static void mark_found(struct mta_watch *w, const struct child *c)
{
	const char *p = c->out, *end = c->out + c->len, *nl;
	size_t klen;
	unsigned int i;

	for (; p < end; p = nl + 1) {
		nl = memchr(p, '\n', end - p);
		if (!nl)
			nl = end;
		klen = strcspn(p, "\t \n");
		if (klen > (size_t)(nl - p))
			klen = nl - p;
		for (i = 0; i < w->n_q; i++)
			if (strlen(w->qnames[i]) == klen &&
			    !strncmp(w->qnames[i], p, klen))
				w->qfound[i] = true;
	}
}

static void queried(struct mta_watch *w, struct child *c)
{
	const struct mta_table *t = mta_table(w->live, w->q_table);

	/* exit 1 and nothing said: none of them found */
	if (c->fail && (c->fail != -1 || c->msg[0])) {
		if (!w->query_error_logged)
			log_err("postmap -q - %s: %s; %u domain(s) taken as "
				"not local",
				t ? t->spec : "?", child_why(c), w->n_q);
		w->query_error_logged = true;
		answer_all(w, c->fail);
		return;
	}
	mark_found(w, c);
	w->q_table++;
	ask_table(w, boot_ns());
}

/* The batch's names not found yet, a line each, into a pipe for the
 * child's stdin (at most 128 x 256 bytes: within the pipe's buffer). */
static int names_pipe(struct mta_watch *w, int *rd)
{
	char buf[MTA_QUERY_BATCH * (MTA_DOMAIN_LEN + 1)];
	size_t len = 0;
	unsigned int i;
	int p[2], ret = 0;

	for (i = 0; i < w->n_q; i++)
		if (!w->qfound[i])
			len += snprintf(buf + len, sizeof(buf) - len, "%s\n",
					w->qnames[i]);
	if (pipe2(p, O_CLOEXEC))
		return -errno;
	fcntl(p[1], F_SETFL, O_NONBLOCK);
	if (write(p[1], buf, len) != (ssize_t)len)
		ret = -EIO;
	close(p[1]);
	if (ret)
		close(p[0]);
	*rd = p[0];
	return ret;
}

static void ask_table(struct mta_watch *w, uint64_t now_ns)
{
	const struct mta_table *t = query_table(w, &w->q_table);
	int ret, in;

	if (!t) {
		answer_all(w, 0);
		return;
	}
	char *argv[] = { "postmap",	  "-c", w->dir, "-q", "-",
			 (char *)t->spec, NULL };

	ret = names_pipe(w, &in);
	if (!ret) {
		w->query.done = queried;
		ret = child_start(w, &w->query, argv, in, now_ns);
		close(in);
	}
	if (ret)
		answer_all(w, ret);
}

static void start_query(struct mta_watch *w, uint64_t now_ns)
{
	if (w->query.pid || w->n_q)
		return;
	while (w->n_q < MTA_QUERY_BATCH &&
	       mta_domains_next_query(w->live, w->qnames[w->n_q],
				      sizeof(w->qnames[0])))
		w->qfound[w->n_q++] = false;
	if (!w->n_q)
		return;
	w->q_table = 0;
	ask_table(w, now_ns);
}

/* ---- the watch ---------------------------------------------------------- */

/* A file of Postfix's config: main.cf, or a table's (its name, or its
 * name with a suffix: postmap's "relay.db", an editor's "relay.pcre~"). */
static bool concerns(const struct mta_watch *w, const struct inotify_event *ev)
{
	unsigned int i;

	if (!ev->len || !strcmp(ev->name, "main.cf") ||
	    w->n_names == MTA_MAX_TABLES)
		return true; /* !len: a watched directory itself changed */
	for (i = 0; i < w->n_names; i++)
		if (!strncmp(ev->name, w->names[i], strlen(w->names[i])))
			return true;
	return false;
}

static void read_inotify(struct mta_watch *w, uint64_t now_ns)
{
	char buf[4096]
		__attribute__((aligned(__alignof__(struct inotify_event))));
	const struct inotify_event *ev;
	bool due = false;
	ssize_t n, off;

	while ((n = read(w->ino, buf, sizeof(buf))) > 0) {
		for (off = 0; off < n; off += sizeof(*ev) + ev->len) {
			ev = (const struct inotify_event *)(buf + off);
			due = due || concerns(w, ev);
		}
	}
	if (due && !w->refresh_at)
		w->refresh_at = now_ns + MTA_SETTLE_NS;
}

void mta_watch_run(struct mta_watch *w, uint64_t now_ns)
{
	struct epoll_event evs[8];
	struct child *c;
	int n, i;

	while ((n = epoll_wait(w->epfd, evs, 8, 0)) > 0) {
		for (i = 0; i < n; i++) {
			c = (struct child *)(uintptr_t)(evs[i].data.u64 >> 2);
			switch (evs[i].data.u64 & 3) {
			case TAG_INOTIFY:
				read_inotify(w, now_ns);
				break;
			case TAG_OUT:
				if (c->fd[0] >= 0)
					read_out(c);
				break;
			case TAG_ERR:
				if (c->fd[1] >= 0)
					read_err(c);
				break;
			}
		}
	}
	child_poll(w, &w->reading, now_ns);
	child_poll(w, &w->query, now_ns);
	if (!w->reading.pid && !w->next &&
	    ((w->refresh_at && now_ns >= w->refresh_at) || w->again))
		start_reading(w, now_ns);
	start_query(w, now_ns);
}

void mta_watch_refresh(struct mta_watch *w)
{
	if (w->reading.pid || w->next)
		w->again = true;
	else
		w->refresh_at = 1;
	mta_watch_run(w, boot_ns());
}

struct mta_watch *mta_watch_new(const char *dir, const char *state_path,
				void (*changed)(void *ctx), void *ctx)
{
	struct mta_watch *w = calloc(1, sizeof(*w));
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = TAG_INOTIFY };

	if (!w)
		return NULL;
	snprintf(w->dir, sizeof(w->dir), "%s", dir);
	snprintf(w->state_path, sizeof(w->state_path), "%s", state_path);
	w->changed = changed;
	w->ctx = ctx;
	w->reading.fd[0] = w->reading.fd[1] = -1;
	w->query.fd[0] = w->query.fd[1] = -1;
	w->epfd = epoll_create1(EPOLL_CLOEXEC);
	w->ino = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	w->live = mta_domains_new();
	if (w->epfd < 0 || w->ino < 0 || !w->live ||
	    epoll_ctl(w->epfd, EPOLL_CTL_ADD, w->ino, &ev)) {
		mta_watch_free(w);
		return NULL;
	}
	if (inotify_add_watch(w->ino, w->dir,
			      IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM |
				      IN_CREATE | IN_DELETE) < 0)
		log_warn("cannot watch %s for changes (%s): read again on "
			 "reload only",
			 w->dir, strerror(errno));
	w->refresh_at = 1;
	return w;
}

static void child_free(struct child *c)
{
	if (c->pid) {
		kill(c->pid, SIGKILL);
		waitpid(c->pid, NULL, 0);
	}
	close_fds(c);
	free(c->out);
}

void mta_watch_free(struct mta_watch *w)
{
	if (!w)
		return;
	child_free(&w->reading);
	child_free(&w->query);
	fs_close(w->ino);
	fs_close(w->epfd);
	mta_domains_free(w->next);
	mta_domains_free(w->live);
	free(w);
}

int mta_watch_fd(const struct mta_watch *w)
{
	return w->epfd;
}

struct mta_domains *mta_watch_domains(struct mta_watch *w)
{
	return w->live;
}

const char *mta_watch_dir(const struct mta_watch *w)
{
	return w->dir;
}

uint64_t mta_watch_readings(const struct mta_watch *w)
{
	return w->readings;
}

int mta_read_now(const char *dir, uint64_t timeout_ns, struct mta_domains **out,
		 char *err, size_t errlen)
{
	struct mta_watch *w = mta_watch_new(dir, "", NULL, NULL);
	uint64_t end = boot_ns() + timeout_ns;
	struct epoll_event ev;
	int ret = -ETIMEDOUT;

	if (!w) {
		snprintf(err, errlen, "out of resources");
		return -ENOMEM;
	}
	w->error_logged = true; /* the caller says it */
	snprintf(err, errlen, "no answer within the timeout");
	while (boot_ns() < end) {
		mta_watch_run(w, boot_ns());
		if (w->readings || w->reading_errors)
			break;
		epoll_wait(w->epfd, &ev, 1, 50); /* a child may exit unheard */
	}
	if (w->readings) {
		*out = w->live;
		w->live = NULL;
		ret = 0;
	} else if (w->reading_errors) {
		snprintf(err, errlen, "%s", w->last_error);
		ret = -EIO;
	}
	mta_watch_free(w);
	return ret;
}
