// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* What keeping the evidence directory within its bound costs per ban, in a
 * directory as full as the default bound makes it (64 MB of ~1 KB files:
 * 60,000 files): scanning the directory after every file (the baseline,
 * what relayguardd did) against evidence_account (count new files, scan
 * only past the bound, prune to 7/8). Both run on the same directory in the
 * same run, each over BANS new files starting from a fresh daemon (the
 * first file always scans); mean ms per ban and the ratio are printed. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "evidence.h"

#define FILES 60000
#define FILE_BYTES 1024
#define BANS 200

static char dir[] = "/tmp/rg-bench-evidence-XXXXXX";
static unsigned long seq;

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int add_file(void)
{
	static const char block[FILE_BYTES];
	char path[sizeof(dir) + 32];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%08lu.pcap.gz", dir, seq++);
	f = fopen(path, "w");
	if (!f)
		return -errno;
	if (fwrite(block, 1, sizeof(block), f) != sizeof(block)) {
		fclose(f);
		return -EIO;
	}
	return fclose(f) ? -errno : 0;
}

/* BANS new files, the bound kept after each by scanning (scan_each) or by
 * evidence_account. The bound is the directory's size when it starts, so
 * every ban is over it: the steady state of a full directory. */
static int run(int scan_each, double *ms_per_ban)
{
	uint64_t max = (uint64_t)FILES * FILE_BYTES, left;
	struct evidence_dir ed = { 0 };
	double t0 = now_ms();
	int i, err = 0;

	for (i = 0; i < BANS && !err; i++) {
		err = add_file();
		if (err)
			break;
		if (scan_each)
			err = evidence_prune(dir, max, max, &left);
		else
			err = evidence_account(&ed, dir, FILE_BYTES, max);
		err = err < 0 ? err : 0;
	}
	*ms_per_ban = (now_ms() - t0) / BANS;
	return err;
}

int main(void)
{
	double scan_ms, account_ms;
	char cmd[sizeof(dir) + 16];
	int i, err = 0;

	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	for (i = 0; i < FILES && !err; i++)
		err = add_file();
	if (!err)
		err = run(1, &scan_ms);
	if (!err)
		err = run(0, &account_ms);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd))
		fprintf(stderr, "bench_evidence: cannot remove %s\n", dir);
	if (err) {
		fprintf(stderr, "bench_evidence: %s\n", strerror(-err));
		return 1;
	}
	printf("evidence dir bound, %d files of %d bytes, %d bans each\n\n",
	       FILES, FILE_BYTES, BANS);
	printf("%-34s %12s\n", "method", "ms per ban");
	printf("%-34s %12.3f\n", "scan after every file (baseline)", scan_ms);
	printf("%-34s %12.3f\n", "evidence_account", account_ms);
	printf("\nratio baseline / evidence_account: %.1fx\n",
	       scan_ms / account_ms);
	return 0;
}
