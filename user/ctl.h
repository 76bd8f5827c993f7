/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* relayguardctl's shared state, command dispatch (ctl_dispatch.c), map
 * access (ctl_maps.c) and print layer (ctl_print.c). Every
 * command prints through print_*(), which write either text or JSON (one
 * writer, user/json.h), like iproute2's print_*(): a command's output code
 * is the same in both modes. */
#ifndef RG_CTL_H
#define RG_CTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "config.h"
#include "json.h"
#include "parse.h"
#include "loader.h"

#define CTL_PID_FILE_DEFAULT CONF_PID_FILE_DEFAULT

struct ctl {
	bool json;
	bool force; /* --force: ban even what the allow list covers */
	const char *pin_dir;
	const char *pid_file;
	struct json_writer jw;
};

extern struct ctl ctl;

struct ctl_cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
};

/* Run the command named by argv[0] (a unique prefix will do) with the
 * remaining arguments; what names the level ("OBJECT", "ban COMMAND"). */
int ctl_dispatch(const char *what, const struct ctl_cmd *cmds, int argc,
		 char **argv);
/* -EINVAL with a message naming cmd if any argument is left. */
int ctl_no_args(int argc, char **argv, const char *cmd);
/* Log a one-line error and return err (negative errno). */
int ctl_err(int err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* A user-supplied string made safe for a one-line message: at most 64
 * bytes, control characters replaced. */
const char *ctl_quote(const char *s);
/* parse_prefix() with a one-line error on failure: where is a prefix for
 * the message ("" or "FILE:LINE: "), what names the thing ("address",
 * "CIDR"). */
int ctl_parse_prefix(const char *s, struct prefix *p, const char *what,
		     const char *where);
/* Call fn(line, where, arg) for each line of file, where being "FILE:LINE: "
 * for its messages, with any '#' comment cut off; stops at the first error.
 * A line longer than max bytes or with a NUL byte in it is an error. */
int ctl_read_lines(const char *file, long max,
		   int (*fn)(char *line, const char *where, void *arg),
		   void *arg);
/* Open the maps under --pin-dir. */
int ctl_open_maps(struct rg_maps *maps);
/* op(maps, arg) on the maps under --pin-dir, opened for the call only:
 * ctl_open_maps()'s error, or op's. */
static inline int ctl_on_maps(int (*op)(const struct rg_maps *maps, void *arg),
			      void *arg)
{
	struct rg_maps maps;
	int err = ctl_open_maps(&maps);

	if (err)
		return err;
	err = op(&maps, arg);
	maps_close(&maps);
	return err;
}
/* Number of entries and max_entries of a map (walks it). */
int ctl_map_fill(int fd, unsigned long *entries, unsigned long *max);
/* The same for a self-hashed array, whose used slots have a nonzero byte
 * at used_off. */
int ctl_array_fill(int fd, long used_off, unsigned long *entries,
		   unsigned long *max);

/* Print layer: key is used in JSON, fmt (printf, may be NULL) in text. */
void print_obj_start(const char *key);
void print_obj_end(void);
void print_arr_start(const char *key);
void print_arr_end(void);
void print_str(const char *key, const char *fmt, const char *v);
void print_uint(const char *key, const char *fmt, uint64_t v);
void print_bool(const char *key, const char *fmt, bool v);
/* JSON null; text prints text. */
void print_null(const char *key, const char *fmt, const char *text);
/* Text only. */
void print_text(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Prefixes of one allow/deny trie, read into memory (ctl_acl.c). */
struct acl_set {
	struct prefix *v;
	size_t n;
};
int acl_read(int fd, int family, struct acl_set *set);
void acl_set_free(struct acl_set *set);

/* The allow lists, to refuse bans that cover or lie in them. */
struct allow_guard {
	int fd4, fd6;
	struct acl_set s4, s6;
};
int allow_guard_init(struct allow_guard *g, const struct rg_maps *maps);
void allow_guard_free(struct allow_guard *g);
/* True if p overlaps an allow entry; *hit is that entry. */
bool allow_guard_overlaps(const struct allow_guard *g, const struct prefix *p,
			  struct prefix *hit);

/* Objects (ctl_*.c). */
int do_ban(int argc, char **argv);
int do_allow(int argc, char **argv);
int do_deny(int argc, char **argv);
int do_stats(int argc, char **argv);
int do_config(int argc, char **argv);
int do_status(int argc, char **argv);
int do_attach(int argc, char **argv);
int do_detach(int argc, char **argv);
int do_reload(int argc, char **argv);
/* One interface's XDP and TC attachment, as attach and status print it. */
void ctl_print_attach_state(const char *ifname, const struct attach_state *st);
/* The pid in the daemon's pid file; 0 with *why set when there is none. */
pid_t ctl_daemon_pid(const char **why);
/* Alive: the pid exists and its command is relayguardd. */
bool ctl_daemon_alive(pid_t pid);
/* status: the LAPI client's state and the bans from CrowdSec (maps may be
 * NULL when none are pinned). */
void status_crowdsec(const struct rg_maps *maps);
/* One key=value line of a daemon state file: a number or a string, in
 * text as "key value"; a last_* number is a unix time ("N (Xs ago)"). */
void ctl_print_state_pair(char *line, int64_t now);
/* The state file NAME relayguardd keeps beside its pid file as object key,
 * "title:" then its key=value lines (ctl_print_state_pair); true with the
 * object left open for more (the caller ends it). Without the file: key
 * null, "title: absent", false. */
bool ctl_state_section(const char *name, const char *key, const char *title,
		       const char *absent);
/* ctl_status.c: where the local domains come from, how many (the state
 * file relayguardd keeps beside its pid file, mtawatch.h). */
void status_local_domains(void);

#endif
