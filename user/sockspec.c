// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Postfix socket notation: see sockspec.h. */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "parse.h"
#include "sockspec.h"

int sockspec_parse(const char *spec, struct sockspec *out)
{
	char host[INET6_ADDRSTRLEN + 2];
	const char *port, *h = spec + 5;
	unsigned long p;
	size_t n;

	memset(out, 0, sizeof(*out));
	if (!strncmp(spec, "unix:", 5)) {
		n = strlen(h);
		if (h[0] != '/' || n >= sizeof(out->u.un.sun_path))
			return -EINVAL;
		out->u.un.sun_family = AF_UNIX;
		memcpy(out->u.un.sun_path, h, n + 1);
		out->len = sizeof(out->u.un);
		return 0;
	}
	if (strncmp(spec, "inet:", 5))
		return -EINVAL;
	port = strrchr(h, ':');
	if (!port || parse_ulong(port + 1, 1, 65535, &p))
		return -EINVAL;
	n = port - h;
	if (n >= 2 && h[0] == '[' && h[n - 1] == ']') {
		h++;
		n -= 2;
	}
	if (n == 0 || n >= sizeof(host))
		return -EINVAL;
	memcpy(host, h, n);
	host[n] = '\0';
	if (inet_pton(AF_INET, host, &out->u.in.sin_addr) == 1) {
		out->u.in.sin_family = AF_INET;
		out->u.in.sin_port = htons(p);
		out->len = sizeof(out->u.in);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &out->u.in6.sin6_addr) == 1) {
		out->u.in6.sin6_family = AF_INET6;
		out->u.in6.sin6_port = htons(p);
		out->len = sizeof(out->u.in6);
		return 0;
	}
	return -EINVAL;
}
