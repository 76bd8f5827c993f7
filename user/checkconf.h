/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* `relayguardd --check-config` (`-t`): what a start or a reload would
 * refuse, found without touching the running data plane. The file is read
 * and validated whole, the secrets it names are read, the BPF programs go
 * through the kernel's verifier with no map pinned and nothing attached,
 * and each configured interface is looked up. */
#ifndef RG_CHECKCONF_H
#define RG_CHECKCONF_H

#include <stdio.h>

/* Report on out (findings) and through the log (errors); "configuration
 * ok" last. Returns 0 when a start would accept the file, else a negative
 * errno. */
int checkconf_run(const char *conf_path, FILE *out);

/* Load the BPF object through the verifier without pinning a map or
 * attaching a program; everything is released before it returns. 0 or a
 * negative errno (logged). */
int checkconf_verify_bpf(void);

#endif
