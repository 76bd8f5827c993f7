/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Look-ups in tables of names, both ways: arrays of strings indexed by an
 * enum's value ([RG_REASON_MANUAL] = "manual", NULL where a value has no
 * name), and arrays of structs with a name member (config keys, maps). */
#ifndef RG_NAMES_H
#define RG_NAMES_H

#include <errno.h>
#include <stddef.h>
#include <string.h>

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* The index of the first of the n elements of size bytes at base whose
 * string at offset off is name (a NULL string matches nothing), or
 * -EINVAL. */
static inline int names_index_(const void *base, size_t n, size_t size,
			       size_t off, const char *name)
{
	const char *elem = base;
	const char *s;
	size_t i;

	for (i = 0; i < n; i++, elem += size) {
		s = *(const char *const *)(elem + off);
		if (s && !strcmp(s, name))
			return (int)i;
	}
	return -EINVAL;
}

static inline const char *names_at_(const char *const *names, size_t n,
				    size_t value, const char *none)
{
	return value < n && names[value] ? names[value] : none;
}

/* names[value] of the string array names, or none where value is past its
 * end or has no name. */
#define name_of(names, value, none)                                            \
	names_at_((names), ARRAY_LEN(names), (value), (none))
/* The index of name in the string array names, or -EINVAL. */
#define name_index(names, name)                                                \
	names_index_((names), ARRAY_LEN(names), sizeof((names)[0]), 0, (name))
/* The index of the element of the array a[0..n) whose const char *member
 * is name, or -EINVAL. */
#define name_index_by(a, n, member, name)                                      \
	names_index_((a), (n), sizeof((a)[0]),                                 \
		     offsetof(__typeof__((a)[0]), member), (name))

#endif
