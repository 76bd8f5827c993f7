/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* One logging module for relayguardd and relayguardctl: stderr in the
 * foreground, syslog as a service; libbpf's messages routed into it. */
#ifndef RG_LOG_H
#define RG_LOG_H

#include <stdarg.h>
#include <stdbool.h>

enum log_level { LOG_LVL_ERR, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };

/* ident: program name; to_syslog: syslog instead of stderr. */
void log_init(const char *ident, bool to_syslog, enum log_level level);
void log_set_level(enum log_level level);
void log_msg(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define log_err(...)   log_msg(LOG_LVL_ERR, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LVL_DEBUG, __VA_ARGS__)

/* Mute libbpf's messages around calls whose failure is an expected answer
 * (querying a TC filter that is not there makes the kernel explain why). */
void log_mute_libbpf(bool mute);

/* strerror for a negative errno or a libbpf error code. */
const char *log_strerror(int err);

#endif
