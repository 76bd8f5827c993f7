// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* fsutil: mkdir -p creates every missing level and accepts what exists;
 * fs_replace leaves either the old file or the whole new one, never a
 * half-written one nor a temp file, and honours its flags. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "fsutil.h"

static char dir[] = "/tmp/rg-test-fsutil-XXXXXX";

static void path_in(char *buf, size_t size, const char *name)
{
	snprintf(buf, size, "%s/%s", dir, name);
}

/* The files here hold one line. */
static void assert_content(const char *path, const char *want)
{
	char line[64] = "";
	FILE *f = fopen(path, "r");

	assert_non_null(f);
	assert_non_null(fgets(line, sizeof(line), f));
	fclose(f);
	assert_string_equal(line, want);
}

/* No temp file left beside path. */
static void assert_no_tmp(const char *path)
{
	char tmp[300];

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	assert_int_equal(access(tmp, F_OK), -1);
}

static int fill_text(FILE *f, void *ctx)
{
	fputs(ctx, f);
	return 0;
}

/* Writes half, then fails as a fill does when its source breaks. */
static int fill_fails(FILE *f, void *ctx)
{
	(void)ctx;
	fputs("half", f);
	return -EIO;
}

static void test_mkdirs(void **state)
{
	char deep[256], file[256];
	struct stat st;

	(void)state;
	path_in(deep, sizeof(deep), "a/b/c");
	assert_int_equal(fs_mkdirs(deep, 0750), 0);
	assert_int_equal(stat(deep, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(fs_mkdirs(deep, 0750), 0); /* exists: fine */
	path_in(file, sizeof(file), "d/e/events.json");
	assert_int_equal(fs_mkdirs_for(file, 0755), 0);
	path_in(deep, sizeof(deep), "d/e");
	assert_int_equal(stat(deep, &st), 0);
	path_in(deep, sizeof(deep), "d/e/events.json");
	assert_int_equal(stat(deep, &st), -1); /* the file itself: not made */
}

static void test_mkdirs_through_a_file(void **state)
{
	char file[256], below[256];
	FILE *f;

	(void)state;
	path_in(file, sizeof(file), "plain");
	f = fopen(file, "w");
	assert_non_null(f);
	fclose(f);
	path_in(below, sizeof(below), "plain/sub");
	assert_int_equal(fs_mkdirs(below, 0755), -ENOTDIR);
}

static void test_replace(void **state)
{
	char path[256];

	(void)state;
	path_in(path, sizeof(path), "state");
	assert_int_equal(fs_replace(path, 0, fill_text, "one\n"), 0);
	assert_content(path, "one\n");
	assert_int_equal(fs_replace(path, FS_DURABLE, fill_text, "two\n"), 0);
	assert_content(path, "two\n");
	assert_no_tmp(path);
}

static void test_replace_fails_whole(void **state)
{
	char path[256];

	(void)state;
	path_in(path, sizeof(path), "kept");
	assert_int_equal(fs_replace(path, 0, fill_text, "old\n"), 0);
	assert_int_equal(fs_replace(path, 0, fill_fails, NULL), -EIO);
	assert_content(path, "old\n");
	assert_no_tmp(path);
	/* a directory that is not there: an error, nothing written */
	path_in(path, sizeof(path), "missing/file");
	assert_int_equal(fs_replace(path, 0, fill_text, "x"), -ENOENT);
}

static void test_replace_private_per_pid(void **state)
{
	char path[256];
	struct stat st;

	(void)state;
	path_in(path, sizeof(path), "private");
	assert_int_equal(fs_replace(path, FS_PRIVATE | FS_TMP_PER_PID,
				    fill_text, "secret\n"),
			 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_content(path, "secret\n");
}

static void test_name_too_long(void **state)
{
	char path[4100];

	(void)state;
	memset(path, 'a', sizeof(path) - 1);
	path[0] = '/';
	path[sizeof(path) - 1] = '\0';
	assert_int_equal(fs_replace(path, 0, fill_text, "x"), -ENAMETOOLONG);
	assert_int_equal(fs_mkdirs(path, 0755), -ENAMETOOLONG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mkdirs),
		cmocka_unit_test(test_mkdirs_through_a_file),
		cmocka_unit_test(test_replace),
		cmocka_unit_test(test_replace_fails_whole),
		cmocka_unit_test(test_replace_private_per_pid),
		cmocka_unit_test(test_name_too_long),
	};
	char cmd[128];
	int rc;

	if (!mkdtemp(dir))
		return 1;
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	snprintf(cmd, sizeof(cmd), "rm -rf -- '%s'", dir);
	if (system(cmd))
		rc = rc ? rc : 1;
	return rc;
}
