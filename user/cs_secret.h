/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The CrowdSec client's secrets (bouncer key, machine password), read as
 * the daemon and --check-config both must: refused when others may read
 * them. */
#ifndef RG_CS_SECRET_H
#define RG_CS_SECRET_H

#include <stddef.h>

/* Secrets from a file that only its owner may read: the first line, blanks
 * trimmed. -EPERM (with why in err) when group or others have any access
 * or it is no regular file. */
int crowdsec_read_secret(const char *path, char *buf, size_t size, char *err,
			 size_t errlen);

#endif
