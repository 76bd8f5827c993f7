// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* relayguardctl: its state, command dispatch, errors and argument and
 * file input. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "log.h"

struct ctl ctl = {
	.pin_dir = RG_PIN_DIR_DEFAULT,
	.pid_file = CTL_PID_FILE_DEFAULT,
};

const char *ctl_quote(const char *s)
{
	static char buf[4][80];
	static int slot;
	char *out = buf[slot++ % 4];
	size_t i;

	for (i = 0; s[i] && i < 64; i++)
		out[i] =
			(unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i];
	out[i] = '\0';
	if (s[i])
		snprintf(out + i, 80 - i, "...");
	return out;
}

int ctl_parse_prefix(const char *s, struct prefix *p, const char *what,
		     const char *where)
{
	if (parse_prefix(s, p))
		return ctl_err(-EINVAL,
			       "%sbad %s '%s': expected ADDR or ADDR/LEN "
			       "(IPv4 /0-32, IPv6 /0-128, host bits clear)",
			       where, what, ctl_quote(s));
	return 0;
}

int ctl_read_lines(const char *file, long max,
		   int (*fn)(char *line, const char *where, void *arg),
		   void *arg)
{
	char *line = NULL, *hash, where[300];
	size_t cap = 0, lineno = 0;
	ssize_t n;
	FILE *f;
	int err = 0;

	f = fopen(file, "r");
	if (!f)
		return ctl_err(-errno, "cannot read %s: %s", ctl_quote(file),
			       strerror(errno));
	while ((n = getline(&line, &cap, f)) >= 0) {
		lineno++;
		snprintf(where, sizeof(where), "%s:%zu: ", ctl_quote(file),
			 lineno);
		if (n > max || memchr(line, '\0', n)) {
			err = ctl_err(
				-EINVAL,
				"%sline longer than %ld bytes or not text",
				where, max);
			break;
		}
		hash = strchr(line, '#');
		if (hash)
			*hash = '\0';
		err = fn(line, where, arg);
		if (err)
			break;
	}
	if (!err && ferror(f))
		err = ctl_err(-EIO, "cannot read %s: %s", ctl_quote(file),
			      strerror(errno));
	free(line);
	fclose(f);
	return err;
}

int ctl_err(int err, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_err("%s", msg);
	return err;
}

int ctl_dispatch(const char *what, const struct ctl_cmd *cmds, int argc,
		 char **argv)
{
	const struct ctl_cmd *found = NULL, *c;
	size_t len;

	if (argc < 1)
		return ctl_err(-EINVAL, "missing %s; try 'relayguardctl help'",
			       what);
	len = strlen(argv[0]);
	for (c = cmds; c->name; c++) {
		if (!strcmp(c->name, argv[0])) {
			found = c;
			break;
		}
		if (len && !strncmp(c->name, argv[0], len)) {
			if (found)
				return ctl_err(-EINVAL,
					       "ambiguous %s '%s': %s or %s?",
					       what, ctl_quote(argv[0]),
					       found->name, c->name);
			found = c;
		}
	}
	if (!found)
		return ctl_err(-EINVAL,
			       "unknown %s '%s'; try 'relayguardctl help'",
			       what, ctl_quote(argv[0]));
	return found->fn(argc - 1, argv + 1);
}

int ctl_no_args(int argc, char **argv, const char *cmd)
{
	if (argc > 0)
		return ctl_err(-EINVAL, "%s: unexpected argument '%s'", cmd,
			       ctl_quote(argv[0]));
	return 0;
}
