// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* relayguardctl: manage and inspect relayguard through its pinned maps.
 * Works while relayguardd is down. bpftool-style: OBJECT COMMAND [ARGS],
 * unique prefixes, -j for JSON, errors as {"error": ...} in JSON mode. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "dpconfig.h"
#include "log.h"
#include "parse.h"

static const char grammar[] =
	"Usage: relayguardctl [-j|--json] [-p|--pretty] [--pin-dir DIR] OBJECT "
	"COMMAND [ARGS]\n"
	"  status                                  attached interfaces, XDP "
	"mode, program ids, map fill levels, mode, daemon alive\n"
	"  attach IFACE [native|generic|auto]      load (or reuse pinned maps) "
	"and attach XDP + TC egress\n"
	"  detach IFACE [--purge]                  detach; --purge also "
	"removes the pinned maps\n"
	"  reload                                  relayguardd --check-config, "
	"then SIGHUP to it (pid from --pid-file)\n"
	"  ban add ADDR[/LEN] [for DURATION] [reason TEXT] [--force]\n"
	"  ban del ADDR[/LEN]\n"
	"  ban list [--sort hits|expiry]           address, reason, hits, time "
	"left\n"
	"  ban flush\n"
	"  ban import FILE | ban export [FILE]     one entry a line: "
	"ADDR[/LEN] [DURATION] [REASON]; '#' comments\n"
	"  allow|deny add|del CIDR...\n"
	"  allow|deny list\n"
	"  allow|deny import FILE\n"
	"  stats [--prometheus]                    counters summed over CPUs\n"
	"  config show | config set KEY VALUE      the runtime config map "
	"(ports, rates, sampling, mode)\n"
	"  help\n"
	"\n"
	"Options: -j|--json  -p|--pretty  --pin-dir DIR "
	"(default " RG_PIN_DIR_DEFAULT ")\n"
	"         --pid-file PATH (default " CTL_PID_FILE_DEFAULT
	")  --force  -d|--debug\n"
	"Durations take s m h d w suffixes and permanent (the default). Unique "
	"prefixes\n"
	"of objects and commands are accepted (relayguardctl ba l).\n";

static void print_list(const char *title, const char *const *names)
{
	int i;

	printf("%s", title);
	for (i = 0; names[i]; i++)
		printf(" %s", names[i]);
	printf("\n");
}

static int do_help(int argc, char **argv)
{
	unsigned int i;

	(void)argc;
	(void)argv;
	if (ctl.json) {
		jw_start_object(&ctl.jw);
		jw_string_field(&ctl.jw, "usage", grammar);
		jw_end_object(&ctl.jw);
		return 0;
	}
	fputs(grammar, stdout);
	printf("REASON:");
	for (i = RG_REASON_MANUAL; i < RG_REASON_MAX; i++)
		printf(" %s", reason_name(i));
	printf("\n");
	print_list("KEY:", dpconfig_keys);
	return 0;
}

static const struct ctl_cmd objects[] = {
	{ "status", do_status }, { "attach", do_attach },
	{ "detach", do_detach }, { "reload", do_reload },
	{ "ban", do_ban },	 { "allow", do_allow },
	{ "deny", do_deny },	 { "stats", do_stats },
	{ "config", do_config }, { "help", do_help },
	{ NULL, NULL },
};

/* Options may come anywhere before a "--"; take them out of argv and leave
 * the words (and command options such as --purge) in order. */
static int take_options(int *argc, char **argv, bool *pretty, bool *debug)
{
	int i, out = 1;

	for (i = 1; i < *argc; i++) {
		const char *a = argv[i];
		const char **dst = NULL;

		if (!strcmp(a, "--")) {
			while (++i < *argc)
				argv[out++] = argv[i];
			break;
		}
		if (!strcmp(a, "-j") || !strcmp(a, "--json"))
			ctl.json = true;
		else if (!strcmp(a, "-p") || !strcmp(a, "--pretty"))
			ctl.json = *pretty = true;
		else if (!strcmp(a, "--force"))
			ctl.force = true;
		else if (!strcmp(a, "-d") || !strcmp(a, "--debug"))
			*debug = true;
		else if (!strcmp(a, "-h") || !strcmp(a, "--help"))
			argv[out++] = "help";
		else if (!strcmp(a, "--pin-dir"))
			dst = &ctl.pin_dir;
		else if (!strcmp(a, "--pid-file"))
			dst = &ctl.pid_file;
		else
			argv[out++] = argv[i];
		if (!dst)
			continue;
		if (i + 1 >= *argc || !argv[i + 1][0])
			return ctl_err(-EINVAL, "%s needs an argument", a);
		*dst = argv[++i];
	}
	*argc = out;
	return 0;
}

/* First line of what the command logged, without the "relayguardctl: "
 * prefix: the JSON error message. */
static void json_error(const char *logged, int err)
{
	char msg[512];
	const char *p = logged, *nl;
	size_t n;

	if (!strncmp(p, "relayguardctl: ", 15))
		p += 15;
	nl = strchr(p, '\n');
	n = nl ? (size_t)(nl - p) : strlen(p);
	if (n == 0) {
		snprintf(msg, sizeof(msg), "%s", log_strerror(err));
	} else {
		if (n >= sizeof(msg))
			n = sizeof(msg) - 1;
		memcpy(msg, p, n);
		msg[n] = '\0';
	}
	jw_init(&ctl.jw, stdout, false);
	jw_start_object(&ctl.jw);
	jw_string_field(&ctl.jw, "error", msg);
	jw_end_object(&ctl.jw);
	putchar('\n');
}

int main(int argc, char **argv)
{
	bool pretty = false, debug = false;
	FILE *real_stderr = stderr, *cap;
	char *logged = NULL;
	size_t logged_len = 0;
	int err;

	log_init("relayguardctl", false, LOG_LVL_ERR);
	/* Capture what the modules log, to turn it into the JSON error. */
	cap = open_memstream(&logged, &logged_len);
	if (cap)
		stderr = cap;
	err = take_options(&argc, argv, &pretty, &debug);
	if (debug)
		log_set_level(LOG_LVL_DEBUG);
	jw_init(&ctl.jw, stdout, pretty);
	if (!err)
		err = ctl_dispatch("OBJECT", objects, argc - 1, argv + 1);
	fflush(stdout);
	if (cap) {
		fclose(cap);
		stderr = real_stderr;
	}
	if (err && ctl.json)
		json_error(logged ? logged : "", err);
	else if (ctl.json && !pretty)
		putchar('\n'); /* the pretty writer ends its own line */
	if (logged && logged_len && (!ctl.json || !err || debug))
		fputs(logged, stderr);
	else if (err && !ctl.json && (!logged || !logged_len))
		fprintf(stderr, "relayguardctl: %s\n", log_strerror(err));
	free(logged);
	return err ? 1 : 0;
}
