// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <stdarg.h>

#include "promtext.h"

void prom_family(FILE *f, const char *type, const char *help, const char *fmt,
		 ...)
{
	char name[128];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(name, sizeof(name), fmt, ap);
	va_end(ap);
	fprintf(f, "# HELP relayguard_%s %s\n# TYPE relayguard_%s %s\n", name,
		help, name, type);
}
