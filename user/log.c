// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <bpf/libbpf.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include "log.h"

static struct {
	const char *ident;
	bool to_syslog;
	enum log_level level;
	bool libbpf_muted;
} log_state = { "relayguard", false, LOG_LVL_INFO, false };

static const int syslog_prio[] = {
	[LOG_LVL_ERR] = LOG_ERR,
	[LOG_LVL_WARN] = LOG_WARNING,
	[LOG_LVL_INFO] = LOG_INFO,
	[LOG_LVL_DEBUG] = LOG_DEBUG,
};

static void log_vmsg(enum log_level level, const char *fmt, va_list ap)
{
	if (level > log_state.level)
		return;
	if (log_state.to_syslog) {
		vsyslog(syslog_prio[level], fmt, ap);
		return;
	}
	fprintf(stderr, "%s: ", log_state.ident);
	vfprintf(stderr, fmt, ap);
	if (fmt[0] && fmt[strlen(fmt) - 1] != '\n')
		fputc('\n', stderr);
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(level, fmt, ap);
	va_end(ap);
}

/* libbpf is chatty at debug level and ends its lines with '\n'. */
static int libbpf_print(enum libbpf_print_level level, const char *fmt,
			va_list ap)
{
	enum log_level mapped = level == LIBBPF_WARN   ? LOG_LVL_WARN
				: level == LIBBPF_INFO ? LOG_LVL_INFO
						       : LOG_LVL_DEBUG;

	if (!log_state.libbpf_muted)
		log_vmsg(mapped, fmt, ap);
	return 0;
}

void log_init(const char *ident, bool to_syslog, enum log_level level)
{
	log_state.ident = ident;
	log_state.to_syslog = to_syslog;
	log_state.level = level;
	if (to_syslog)
		openlog(ident, LOG_PID, LOG_DAEMON);
	libbpf_set_print(libbpf_print);
}

void log_mute_libbpf(bool mute)
{
	log_state.libbpf_muted = mute;
}

void log_set_level(enum log_level level)
{
	log_state.level = level;
}

const char *log_strerror(int err)
{
	static __thread char buf[128];

	if (err < 0)
		err = -err;
	libbpf_strerror(err, buf, sizeof(buf));
	return buf;
}
