// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cs_secret.h"

int crowdsec_read_secret(const char *path, char *buf, size_t size, char *err,
			 size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	struct stat st;
	ssize_t n;

	if (fd < 0) {
		snprintf(err, errlen, "cannot open %s: %s", path,
			 strerror(errno));
		return -errno;
	}
	if (fstat(fd, &st)) {
		int e = errno;

		snprintf(err, errlen, "cannot stat %s: %s", path, strerror(e));
		close(fd);
		return -e;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: refused, not a regular file", path);
		close(fd);
		return -EPERM;
	}
	if (st.st_mode & (S_IRWXG | S_IRWXO)) {
		snprintf(err, errlen,
			 "%s: refused, group or others may access it (mode "
			 "%04o); chmod 600 it",
			 path, (unsigned int)(st.st_mode & 07777));
		close(fd);
		return -EPERM;
	}
	n = read(fd, buf, size - 1);
	close(fd);
	if (n < 0) {
		snprintf(err, errlen, "cannot read %s: %s", path,
			 strerror(errno));
		return -EIO;
	}
	buf[n] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	while (n > 0 &&
	       (buf[strlen(buf) - 1] == ' ' || buf[strlen(buf) - 1] == '\t'))
		buf[strlen(buf) - 1] = '\0', n--;
	if (!buf[0] || (size_t)n >= size - 1) {
		snprintf(err, errlen, "%s: %s", path,
			 buf[0] ? "longer than expected" : "empty");
		return -EINVAL;
	}
	return 0;
}
