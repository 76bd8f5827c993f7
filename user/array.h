/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Arrays that grow by doubling, as the map walks collect entries. */
#ifndef RG_ARRAY_H
#define RG_ARRAY_H

#include <errno.h>
#include <stdlib.h>

static inline void *array_grow_(void *v, size_t *cap, size_t size, size_t first)
{
	size_t want = *cap ? *cap * 2 : first;
	void *nv = reallocarray(v, want, size);

	if (nv)
		*cap = want;
	return nv;
}

/* Room for element n of the array v of cap elements (both lvalues, cap a
 * size_t): when n has reached cap, v is reallocated to twice cap (first:
 * its first capacity). 0, or -ENOMEM with v and cap unchanged. */
#define array_room(v, cap, n, first)                                           \
	({                                                                     \
		__typeof__(v) nv_ =                                            \
			(n) < (cap) ? (v)                                      \
				    : array_grow_((v), &(cap), sizeof(*(v)),   \
						  (first));                    \
		if (nv_)                                                       \
			(v) = nv_;                                             \
		nv_ ? 0 : -ENOMEM;                                             \
	})

#endif
