/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* systemd's readiness protocol (Type=notify), without libsystemd: one
 * datagram to $NOTIFY_SOCKET. A no-op when not run by systemd. */
#ifndef RG_SDNOTIFY_H
#define RG_SDNOTIFY_H

/* msg: "READY=1", "RELOADING=1", "STOPPING=1"... */
void sd_notify_msg(const char *msg);

#endif
