// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* xdpmode: the names of the XDP attach modes (the xdp_mode key, `attach
 * IFACE MODE`, status) both ways; a name that is no mode is refused and
 * leaves the mode as it was. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "names.h"
#include "unit.h"
#include "xdpmode.h"

static void test_mode_names(void **state)
{
	static const struct {
		enum xdp_attach_mode mode;
		const char *name;
	} cases[] = {
		{ XDP_ATTACH_AUTO, "auto" },
		{ XDP_ATTACH_NATIVE, "native" },
		{ XDP_ATTACH_GENERIC, "generic" },
	};
	enum xdp_attach_mode mode;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_LEN(cases); i++) {
		assert_string_equal(xdp_attach_mode_name(cases[i].mode),
				    cases[i].name);
		mode = cases[(i + 1) % ARRAY_LEN(cases)].mode;
		assert_int_equal(xdp_attach_mode_parse(cases[i].name, &mode),
				 0);
		assert_int_equal(mode, cases[i].mode);
	}
	assert_string_equal(xdp_attach_mode_name(XDP_ATTACH_GENERIC + 1),
			    "unknown");
}

static void test_not_a_mode(void **state)
{
	static const char *const bad[] = { "Native", "gen",	"generic ",
					   "",	     "unknown", "turbo" };
	enum xdp_attach_mode mode;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_LEN(bad); i++) {
		mode = XDP_ATTACH_NATIVE;
		assert_int_equal(xdp_attach_mode_parse(bad[i], &mode), -EINVAL);
		assert_int_equal(mode, XDP_ATTACH_NATIVE);
	}
}

UNIT_TEST_MAIN(cmocka_unit_test(test_mode_names),
	       cmocka_unit_test(test_not_a_mode))
