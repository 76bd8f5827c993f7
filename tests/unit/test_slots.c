// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The ratelimit slot of a source (headers/relayguard.h): an IPv4 key's
 * slot is rg_src_slot4() of its address (one multiply), every address bit
 * moves it, and sources spread over the table; an IPv6 key's slot is
 * still three rounds of rg_hash. User space (the ban's pending hits) and
 * the data plane must agree on it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <arpa/inet.h>

#include "relayguard.h"
#include "unit.h"

#define N_SLOTS	 RG_MAX_RATELIMIT
#define N_FLIPS	 1000
#define N_SPREAD (1U << 16)

/* Seeds the loader may draw, the edges among them. */
static const __u32 seeds[] = { 0,	   1,	       0x5eed1234,
			       0x80000000, 0xffffffff, 0x9e3779b9 };
#define N_SEEDS (ARRAY_LEN(seeds))

/* splitmix64: the same "random" sources on every run. */
static __u64 next_rand(__u64 *state)
{
	__u64 z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* The key of an IPv4 source whose address reads as addr in memory (the
 * 4 bytes of the packet, network order). */
static struct rg_src_key key4(__u32 addr)
{
	struct rg_src_key k = { .family = AF_INET };

	memcpy(k.addr, &addr, sizeof(addr));
	return k;
}

static void test_v4_key_slot_is_slot4(void **state)
{
	__u64 rnd = 1;
	__u32 addr, slot;
	struct rg_src_key k;
	size_t s;
	int i;

	(void)state;
	for (s = 0; s < N_SEEDS; s++) {
		for (i = 0; i < N_FLIPS; i++) {
			addr = (__u32)next_rand(&rnd);
			k = key4(addr);
			slot = rg_src_slot(&k, seeds[s]);
			assert_int_equal(slot, rg_src_slot4(addr, seeds[s]));
			assert_true(slot < N_SLOTS);
		}
	}
	/* the literal a data-plane test would compute by hand */
	k = key4(inet_addr("192.0.2.10"));
	assert_int_equal(rg_src_slot(&k, 0x5eed1234),
			 rg_src_slot4(inet_addr("192.0.2.10"), 0x5eed1234));
}

/* Slots that flipping bit of N_FLIPS random addresses moves. */
static int moved_by_bit(int bit, __u32 seed, __u64 *rnd)
{
	int i, moved = 0;
	__u32 a;

	for (i = 0; i < N_FLIPS; i++) {
		a = (__u32)next_rand(rnd);
		moved += rg_src_slot4(a, seed) !=
			 rg_src_slot4(a ^ 1U << bit, seed);
	}
	return moved;
}

static void test_v4_every_bit_moves_slot(void **state)
{
	__u64 rnd = 2;
	size_t s;
	int bit, moved;

	(void)state;
	for (s = 0; s < N_SEEDS; s++) {
		for (bit = 0; bit < 32; bit++) {
			moved = moved_by_bit(bit, seeds[s], &rnd);
			if (moved * 10 <= N_FLIPS * 9)
				fail_msg("seed %#x bit %d: slot moved %d/%d",
					 seeds[s], bit, moved, N_FLIPS);
		}
	}
}

/* The fullest slot and the slots used of n sources addr(i). */
struct spread {
	unsigned int max, used;
};

static struct spread spread_of(__u32 seed, __u32 (*addr)(__u32, __u64 *))
{
	unsigned char *count = calloc(N_SLOTS, 1);
	struct spread sp = { 0 };
	__u64 rnd = 3;
	__u32 i, slot;

	assert_non_null(count);
	for (i = 0; i < N_SPREAD; i++) {
		slot = rg_src_slot4(addr(i, &rnd), seed);
		sp.used += !count[slot];
		if (count[slot] < 255)
			count[slot]++;
		if (count[slot] > sp.max)
			sp.max = count[slot];
	}
	free(count);
	return sp;
}

static __u32 random_addr(__u32 i, __u64 *rnd)
{
	(void)i;
	return (__u32)next_rand(rnd);
}

/* 10.5.0.0/16 in order: one network's hosts, as an attack may come. */
static __u32 block_addr(__u32 i, __u64 *rnd)
{
	(void)rnd;
	return htonl(0x0a050000U | i);
}

/* 2^16 sources in 2^18 slots: ~57980 slots used if spread at random,
 * the fullest holding ~5; a block of consecutive addresses as well. */
static void test_v4_slots_spread(void **state)
{
	struct spread sp;
	size_t s;

	(void)state;
	for (s = 0; s < N_SEEDS; s++) {
		sp = spread_of(seeds[s], random_addr);
		if (sp.max > 8 || sp.used < 56000)
			fail_msg("seed %#x random: fullest slot %u, %u used",
				 seeds[s], sp.max, sp.used);
		sp = spread_of(seeds[s], block_addr);
		if (sp.max > 8 || sp.used < 56000)
			fail_msg("seed %#x /16: fullest slot %u, %u used",
				 seeds[s], sp.max, sp.used);
	}
}

static void test_v6_key_slot_is_rg_hash(void **state)
{
	struct rg_src_key k = { .family = AF_INET6 };
	__u64 rnd = 4, w[2];
	size_t s;
	int i;

	(void)state;
	for (s = 0; s < N_SEEDS; s++) {
		for (i = 0; i < N_FLIPS; i++) {
			w[0] = next_rand(&rnd);
			w[1] = i & 1 ? 0 : next_rand(&rnd); /* a /64 group */
			memcpy(k.addr, w, sizeof(w));
			assert_int_equal(rg_src_slot(&k, seeds[s]),
					 rg_hash(&k, sizeof(k) / 8, seeds[s]) &
						 (N_SLOTS - 1));
		}
	}
}

UNIT_TEST_MAIN(cmocka_unit_test(test_v4_key_slot_is_slot4),
	       cmocka_unit_test(test_v4_every_bit_moves_slot),
	       cmocka_unit_test(test_v4_slots_spread),
	       cmocka_unit_test(test_v6_key_slot_is_rg_hash))
