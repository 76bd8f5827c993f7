// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* sock_diag_tcp_uid (netlink.c): the uid owning a local TCP socket, found
 * by its 4-tuple, on real loopback connections: root's, another user's
 * (a child that dropped to nobody), none once the owner closed, none for
 * a tuple nobody holds. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "netlink.h"
#include "unit.h"

#define NOBODY 65534

struct pair {
	int lfd, cfd, afd;			/* listener, client, accepted */
	struct sockaddr_storage client, server; /* the client's view */
};

static void listen_on(struct pair *p, int family)
{
	struct sockaddr_storage a = { .ss_family = family };
	socklen_t len = family == AF_INET ? sizeof(struct sockaddr_in)
					  : sizeof(struct sockaddr_in6);

	if (family == AF_INET)
		((struct sockaddr_in *)&a)->sin_addr.s_addr =
			htonl(INADDR_LOOPBACK);
	else
		((struct sockaddr_in6 *)&a)->sin6_addr = in6addr_loopback;
	p->lfd = socket(family, SOCK_STREAM, 0);
	assert_true(p->lfd >= 0);
	assert_int_equal(bind(p->lfd, (struct sockaddr *)&a, len), 0);
	assert_int_equal(listen(p->lfd, 4), 0);
	len = sizeof(p->server);
	assert_int_equal(
		getsockname(p->lfd, (struct sockaddr *)&p->server, &len), 0);
}

/* Connect from this process (or, in a child, as it runs). */
static int connect_to(const struct pair *p)
{
	socklen_t len = p->server.ss_family == AF_INET
				? sizeof(struct sockaddr_in)
				: sizeof(struct sockaddr_in6);
	int fd = socket(p->server.ss_family, SOCK_STREAM, 0);

	if (fd < 0 || connect(fd, (const struct sockaddr *)&p->server, len))
		return -1;
	return fd;
}

static void accept_peer(struct pair *p)
{
	socklen_t len = sizeof(p->client);

	p->afd = accept(p->lfd, (struct sockaddr *)&p->client, &len);
	assert_true(p->afd >= 0);
}

static int uid_of_client(const struct pair *p, uid_t *uid)
{
	return sock_diag_tcp_uid((const struct sockaddr *)&p->client,
				 (const struct sockaddr *)&p->server, uid);
}

static void own_connection(int family)
{
	struct pair p;
	uid_t uid = 4242;

	listen_on(&p, family);
	p.cfd = connect_to(&p);
	assert_true(p.cfd >= 0);
	accept_peer(&p);
	assert_int_equal(uid_of_client(&p, &uid), 0);
	assert_int_equal(uid, getuid());
	/* the owner closes: its socket lingers (FIN_WAIT) with no owner */
	close(p.cfd);
	assert_int_equal(uid_of_client(&p, &uid), -ENOENT);
	close(p.afd);
	close(p.lfd);
}

static void test_own_v4(void **state)
{
	(void)state;
	own_connection(AF_INET);
}

static void test_own_v6(void **state)
{
	(void)state;
	own_connection(AF_INET6);
}

/* A child drops to nobody, connects and waits until told to go. */
static void test_other_user(void **state)
{
	struct pair p;
	int go[2], status;
	uid_t uid = 0;
	pid_t pid;
	char c = 0;

	(void)state;
	if (geteuid() != 0)
		skip();
	listen_on(&p, AF_INET);
	assert_int_equal(pipe(go), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(go[1]);
		if (setgid(NOBODY) || setuid(NOBODY) || connect_to(&p) < 0)
			_exit(1);
		_exit(read(go[0], &c, 1) < 0);
	}
	close(go[0]);
	accept_peer(&p);
	assert_int_equal(uid_of_client(&p, &uid), 0);
	assert_int_equal(uid, NOBODY);
	close(go[1]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	close(p.afd);
	close(p.lfd);
}

static void test_nobody_holds_it(void **state)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_port = htons(1),
				 .sin_addr.s_addr = htonl(0x7f000001) },
			   b = a;
	struct sockaddr_in6 c = { .sin6_family = AF_INET6 };
	uid_t uid;

	(void)state;
	b.sin_port = htons(2);
	assert_int_equal(sock_diag_tcp_uid((struct sockaddr *)&a,
					   (struct sockaddr *)&b, &uid),
			 -ENOENT);
	assert_int_equal(sock_diag_tcp_uid((struct sockaddr *)&a,
					   (struct sockaddr *)&c, &uid),
			 -EAFNOSUPPORT);
}

UNIT_TEST_MAIN(cmocka_unit_test(test_own_v4), cmocka_unit_test(test_own_v6),
	       cmocka_unit_test(test_other_user),
	       cmocka_unit_test(test_nobody_holds_it))
