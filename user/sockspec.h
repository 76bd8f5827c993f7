/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Postfix's notation for a socket, `inet:ADDR:PORT` (`[ADDR]` for IPv6)
 * or `unix:/PATH`, as a sockaddr: the policy service's listening address,
 * parsed where the config is validated. */
#ifndef RG_SOCKSPEC_H
#define RG_SOCKSPEC_H

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>

/* "inet:127.0.0.1:10040", "inet:[::1]:10040", "unix:/run/x/policy". */
struct sockspec {
	union {
		struct sockaddr sa;
		struct sockaddr_in in;
		struct sockaddr_in6 in6;
		struct sockaddr_un un;
	} u;
	socklen_t len;
};
int sockspec_parse(const char *spec, struct sockspec *out);

#endif
