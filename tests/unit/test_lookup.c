// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The peer lookup's builder (user/compile/lookup.c) against a plain
 * longest-prefix scan: random tables of both families, from empty to 10^5
 * prefixes, with /0, hosts (/32, /128), nested, adjacent and duplicate-free
 * prefixes; every table is probed at the edges of its prefixes and at random.
 * The data plane walks the same array and searches nodes with the same
 * functions (tests/dataplane check that side).
 */
#include "helpers.h"
#include "compile/lookup.h"

#include <stdlib.h>

struct rng {
	uint64_t s;
};

static uint64_t rnext(struct rng *r)
{
	r->s ^= r->s << 13;
	r->s ^= r->s >> 7;
	r->s ^= r->s << 17;
	return r->s;
}

static unsigned rbelow(struct rng *r, unsigned n)
{
	return (unsigned)(rnext(r) % n);
}

static unsigned family_bits(int family)
{
	return family == TG_FAMILY_V4 ? 32 : 128;
}

static void mask_to(uint8_t *addr, unsigned len, unsigned bits)
{
	for (unsigned i = len; i < bits; i++)
		addr[i / 8] &= (uint8_t) ~(0x80 >> (i % 8));
}

static bool covers(const struct tg_image_prefix *p, const uint8_t *addr)
{
	unsigned full = p->prefixlen / 8, rest = p->prefixlen % 8;

	if (memcmp(p->addr, addr, full))
		return false;
	return !rest || ((p->addr[full] ^ addr[full]) & (uint8_t)(0xff00 >> rest)) == 0;
}

/* The reference: the class of the longest prefix covering addr, else 0. */
static uint32_t naive(const struct tg_image *img, int family, const uint8_t *addr)
{
	int best = -1;
	uint32_t cls = 0;

	for (size_t i = 0; i < img->nprefixes[family]; i++) {
		const struct tg_image_prefix *p = &img->prefixes[family][i];

		if ((int)p->prefixlen > best && covers(p, addr)) {
			best = p->prefixlen;
			cls = p->cls;
		}
	}
	return cls;
}

static int cmp_prefix(const void *a, const void *b)
{
	const struct tg_image_prefix *x = a, *y = b;
	int c = memcmp(x->addr, y->addr, 16);

	return c ? c : (int)x->prefixlen - (int)y->prefixlen;
}

/* Sorted by address then length, without duplicates: as tg_compile leaves them. */
static void sort_unique(struct tg_image *img, int family)
{
	struct tg_image_prefix *p = img->prefixes[family];
	size_t n = img->nprefixes[family], k = 0;

	if (!n)
		return;
	qsort(p, n, sizeof(*p), cmp_prefix);
	for (size_t i = 0; i < n; i++)
		if (!k || cmp_prefix(&p[k - 1], &p[i]))
			p[k++] = p[i];
	img->nprefixes[family] = k;
}

/* A prefix related to the earlier ones: fresh, nested, adjacent or containing. */
static void random_prefix(struct rng *r, int family, struct tg_image_prefix *out, const struct tg_image_prefix *prev,
			  size_t nprev, bool clustered)
{
	unsigned bits = family_bits(family), k = rbelow(r, 100);

	memset(out, 0, sizeof(*out));
	if (!nprev || k < 40) {
		for (unsigned i = 0; i < bits / 8; i++)
			out->addr[i] = (uint8_t)rnext(r);
		if (clustered) /* one corner of the space: deep tables */
			out->addr[0] = 0x20, out->addr[1] = 0x01, out->addr[2] &= 0x0f;
		out->prefixlen = (uint8_t)(k < 2 ? 0 : k < 10 ? bits : 1 + rbelow(r, bits));
	} else {
		*out = prev[rbelow(r, (unsigned)nprev)];
		if (k < 65 && out->prefixlen < bits) { /* nested */
			unsigned len = out->prefixlen + 1 + rbelow(r, bits - out->prefixlen);

			for (unsigned i = out->prefixlen; i < bits; i++)
				if (rnext(r) & 1)
					out->addr[i / 8] |= (uint8_t)(0x80 >> (i % 8));
			out->prefixlen = (uint8_t)len;
		} else if (k < 85 && out->prefixlen) { /* adjacent: the sibling */
			out->addr[(out->prefixlen - 1) / 8] ^= (uint8_t)(0x80 >> ((out->prefixlen - 1) % 8));
		} else if (out->prefixlen) { /* containing */
			out->prefixlen = (uint8_t)rbelow(r, out->prefixlen);
		}
	}
	mask_to(out->addr, out->prefixlen, bits);
	out->cls = 1 + rbelow(r, 65535);
}

static void random_table(struct rng *r, struct tg_image *img, int family, size_t n, bool clustered)
{
	img->prefixes[family] = calloc(n ? n : 1, sizeof(struct tg_image_prefix));
	for (size_t i = 0; i < n; i++)
		random_prefix(r, family, &img->prefixes[family][i], img->prefixes[family], i, clustered);
	img->nprefixes[family] = n;
	sort_unique(img, family);
}

/* An address at an edge of a prefix (first, last, just before, just
 * after), inside it, or anywhere. */
static void probe_address(struct rng *r, const struct tg_image *img, int family, uint8_t *addr)
{
	unsigned bits = family_bits(family), bytes = bits / 8, k = rbelow(r, 6);
	size_t n = img->nprefixes[family];

	memset(addr, 0, 16);
	for (unsigned i = 0; i < bytes; i++)
		addr[i] = (uint8_t)rnext(r);
	if (!n || k == 5)
		return;
	const struct tg_image_prefix *p = &img->prefixes[family][rbelow(r, (unsigned)n)];

	memcpy(addr, p->addr, bytes);
	if (k == 1 || k == 3 || k == 4) /* the last, just after, inside */
		for (unsigned i = p->prefixlen; i < bits; i++)
			if (k != 4 || rnext(r) & 1)
				addr[i / 8] |= (uint8_t)(0x80 >> (i % 8));
	if (k == 2) /* just before */
		for (int i = (int)bytes - 1; i >= 0 && addr[i]-- == 0; i--)
			;
	if (k == 3)
		for (int i = (int)bytes - 1; i >= 0 && ++addr[i] == 0; i--)
			;
}

static void check_table(struct rng *r, size_t n4, size_t n6, unsigned probes, bool clustered)
{
	struct tg_image img = { 0 };
	struct tg_lookup lk;

	random_table(r, &img, TG_FAMILY_V4, n4, clustered);
	random_table(r, &img, TG_FAMILY_V6, n6, clustered);
	assert_int_equal(tg_lookup_build(&img, &lk), 0);
	for (int f = 0; f < 2; f++) {
		assert_true(lk.depth[f] <= (f == TG_FAMILY_V4 ? TG_LK_LEVELS_V4 : TG_LK_LEVELS_V6));
		for (unsigned i = 0; i < probes; i++) {
			uint8_t addr[16];
			uint32_t want, got;

			probe_address(r, &img, f, addr);
			want = naive(&img, f, addr);
			got = tg_lookup_find(&lk, f, addr);
			if (want != got)
				fail_msg("family %d, %zu prefixes, probe %u: class %u, the scan says %u", f,
					 img.nprefixes[f], i, got, want);
		}
	}
	tg_lookup_free(&lk);
	free(img.prefixes[0]);
	free(img.prefixes[1]);
}

static void small_tables_agree_with_a_scan(void **state)
{
	struct rng r = { 0x9e3779b97f4a7c15ull };

	(void)state;
	for (unsigned t = 0; t < 400; t++)
		check_table(&r, rbelow(&r, 40), rbelow(&r, 40), 400, t % 4 == 3);
}

static void large_tables_agree_with_a_scan(void **state)
{
	struct rng r = { 0xd1b54a32d192ed03ull };

	(void)state;
	check_table(&r, 1000, 1000, 3000, false);
	check_table(&r, 20000, 0, 1000, false);
	check_table(&r, 0, 20000, 1000, true);
	check_table(&r, 100000, 0, 150, false);
	check_table(&r, 0, 100000, 150, false);
}

/* Every address of a small space, not a sample: IPv4 prefixes inside one
 * /20, so that the direct table, the tables and the nodes all meet. */
static void every_address_of_a_block(void **state)
{
	struct rng r = { 42 };
	struct tg_image img = { 0 };
	struct tg_lookup lk;

	(void)state;
	img.prefixes[TG_FAMILY_V4] = calloc(3000, sizeof(struct tg_image_prefix));
	for (size_t i = 0; i < 3000; i++) {
		struct tg_image_prefix *p = &img.prefixes[TG_FAMILY_V4][i];
		uint32_t a = 0xc6120000u | (uint32_t)(rnext(&r) & 0xfff);

		p->prefixlen = (uint8_t)(20 + rbelow(&r, 13));
		a &= ~0u << (32 - p->prefixlen);
		p->addr[0] = (uint8_t)(a >> 24), p->addr[1] = (uint8_t)(a >> 16);
		p->addr[2] = (uint8_t)(a >> 8), p->addr[3] = (uint8_t)a;
		p->cls = 1 + rbelow(&r, 200);
	}
	img.nprefixes[TG_FAMILY_V4] = 3000;
	sort_unique(&img, TG_FAMILY_V4);
	assert_int_equal(tg_lookup_build(&img, &lk), 0);
	assert_true(lk.ntables[TG_FAMILY_V4] > 0);
	for (uint32_t a = 0xc611f000u; a < 0xc6121400u; a++) {
		uint8_t addr[16] = { (uint8_t)(a >> 24), (uint8_t)(a >> 16), (uint8_t)(a >> 8), (uint8_t)a };

		if (tg_lookup_find(&lk, TG_FAMILY_V4, addr) != naive(&img, TG_FAMILY_V4, addr))
			fail_msg("address %08x", a);
	}
	tg_lookup_free(&lk);
	free(img.prefixes[0]);
}

/* The deepest path the structure can have: IPv6 hosts that differ in the
 * last bits only, more of them than a node holds. */
static void the_deepest_path_is_bounded(void **state)
{
	struct tg_image img = { 0 };
	struct tg_lookup lk;
	const size_t n = 4 * TG_LK_BOUNDS6 + 2;

	(void)state;
	img.prefixes[TG_FAMILY_V6] = calloc(n, sizeof(struct tg_image_prefix));
	for (size_t i = 0; i < n; i++) {
		struct tg_image_prefix *p = &img.prefixes[TG_FAMILY_V6][i];

		p->addr[0] = 0x20, p->addr[1] = 0x01, p->addr[2] = 0x0d, p->addr[3] = 0xb8;
		p->addr[15] = (uint8_t)(2 * i); /* every other address: a bound at each end */
		p->prefixlen = 128;
		p->cls = (uint32_t)(i % 3 + 1);
	}
	img.nprefixes[TG_FAMILY_V6] = n;
	assert_int_equal(tg_lookup_build(&img, &lk), 0);
	assert_true(lk.depth[TG_FAMILY_V6] <= TG_LK_LEVELS_V6);
	assert_true(lk.depth[TG_FAMILY_V6] >= (128 - TG_LK_DIRECT_MIN) / TG_LK_STRIDE - 2);
	for (size_t i = 0; i < n; i++) {
		uint8_t addr[16] = { 0x20, 0x01, 0x0d, 0xb8 };

		addr[15] = (uint8_t)(2 * i);
		assert_int_equal(tg_lookup_find(&lk, TG_FAMILY_V6, addr), i % 3 + 1);
		addr[15]++;
		assert_int_equal(tg_lookup_find(&lk, TG_FAMILY_V6, addr), 0);
	}
	tg_lookup_free(&lk);
	free(img.prefixes[1]);
}

/* The direct table grows with the table: at most TG_LOOKUP_FILL_V4 IPv4
 * bounds a node on average. */
static void direct_tables_follow_the_size(void **state)
{
	struct rng r = { 7 };
	struct tg_image img = { 0 };
	struct tg_lookup lk;

	(void)state;
	assert_int_equal(tg_lookup_build(&img, &lk), 0);
	assert_int_equal(lk.info.direct_bits[0], TG_LK_DIRECT_MIN);
	assert_int_equal(lk.info.direct_bits[1], TG_LK_DIRECT_MIN);
	assert_int_equal(tg_lookup_find(&lk, TG_FAMILY_V4, (const uint8_t[16]){ 1, 2, 3, 4 }), 0);
	tg_lookup_free(&lk);
	random_table(&r, &img, TG_FAMILY_V4, 200000, false);
	assert_int_equal(tg_lookup_build(&img, &lk), 0);
	assert_true(lk.info.direct_bits[0] >= 15);
	assert_true(lk.nranges[0] <= (size_t)TG_LOOKUP_FILL_V4 << lk.info.direct_bits[0]);
	assert_true(lk.nranges[0] > (size_t)TG_LOOKUP_FILL_V4 << (lk.info.direct_bits[0] - 1));
	/* Memory, for a random table: a 64-byte direct node for every 3
	 * bounds or more, and tables only where more than a node's worth meet. */
	assert_true(tg_lookup_bytes(&lk) <= 64 * img.nprefixes[0] + 16 * ((size_t)1 << TG_LK_DIRECT_MIN));
	tg_lookup_free(&lk);
	free(img.prefixes[0]);
}

static void set_prefix(struct tg_image_prefix *p, int family, const uint8_t *addr, unsigned len, uint32_t cls)
{
	memset(p, 0, sizeof(*p));
	memcpy(p->addr, addr, family == TG_FAMILY_V4 ? 4 : 16);
	p->prefixlen = (uint8_t)len;
	mask_to(p->addr, len, family_bits(family));
	p->cls = cls;
}

/* Two disjoint IPv6 prefixes in one direct range fit its node, whatever
 * their lengths: the two bounds of a prefix make one cluster. No table, so
 * one read. */
static void two_ipv6_prefixes_share_a_node(void **state)
{
	struct rng r = { 0x51ed2701 };

	(void)state;
	for (unsigned t = 0; t < 2000; t++) {
		struct tg_image img = { 0 };
		struct tg_lookup lk;
		unsigned len_a = 9 + rbelow(&r, 120), len_b = 9 + rbelow(&r, 120);
		unsigned shorter = len_a < len_b ? len_a : len_b, differ = 8 + rbelow(&r, shorter - 8);
		uint8_t a[16], b[16];

		for (unsigned i = 0; i < 16; i++)
			a[i] = (uint8_t)rnext(&r), b[i] = (uint8_t)rnext(&r);
		/* The same first `differ` bits, so the same direct range of 2^8. */
		memcpy(b, a, differ / 8 + 1);
		b[differ / 8] ^= (uint8_t)(0x80 >> (differ % 8));
		img.prefixes[TG_FAMILY_V6] = calloc(2, sizeof(struct tg_image_prefix));
		set_prefix(&img.prefixes[1][0], TG_FAMILY_V6, a, len_a, 1 + rbelow(&r, 9));
		set_prefix(&img.prefixes[1][1], TG_FAMILY_V6, b, len_b, 10 + rbelow(&r, 9));
		img.nprefixes[TG_FAMILY_V6] = 2;
		sort_unique(&img, TG_FAMILY_V6);
		assert_int_equal(tg_lookup_build(&img, &lk), 0);
		assert_int_equal(lk.info.direct_bits[TG_FAMILY_V6], TG_LK_DIRECT_MIN);
		assert_int_equal(lk.ntables[TG_FAMILY_V6], 0);
		for (unsigned i = 0; i < 64; i++) {
			uint8_t addr[16];

			probe_address(&r, &img, TG_FAMILY_V6, addr);
			addr[0] = a[0];
			assert_int_equal(tg_lookup_find(&lk, TG_FAMILY_V6, addr), naive(&img, TG_FAMILY_V6, addr));
		}
		tg_lookup_free(&lk);
		free(img.prefixes[1]);
	}
}

/* Six IPv4 hosts, twelve bounds, two more than a node holds, split by their
 * first bit below the direct table: a table of 2 nodes, not 16. */
static void a_crowded_range_splits_with_few_bits(void **state)
{
	struct tg_image img = { 0 };
	struct tg_lookup lk;
	const size_t hosts = 6; /* 2 bounds each, 12 in all: 6 on each side */

	(void)state;
	img.prefixes[TG_FAMILY_V4] = calloc(hosts, sizeof(struct tg_image_prefix));
	for (size_t i = 0; i < hosts; i++) {
		const uint8_t addr[4] = { 198, i < hosts / 2 ? 18 : 146, 0, (uint8_t)(2 * i + 1) };

		set_prefix(&img.prefixes[0][i], TG_FAMILY_V4, addr, 32, (uint32_t)(i + 1));
	}
	img.nprefixes[TG_FAMILY_V4] = hosts;
	assert_int_equal(tg_lookup_build(&img, &lk), 0);
	assert_int_equal(lk.ntables[TG_FAMILY_V4], 1);
	assert_int_equal(lk.nnodes, ((size_t)2 << TG_LK_DIRECT_MIN) + 2);
	for (size_t i = 0; i < hosts; i++) {
		const uint8_t in[16] = { 198, i < hosts / 2 ? 18 : 146, 0, (uint8_t)(2 * i + 1) };
		const uint8_t after[16] = { 198, i < hosts / 2 ? 18 : 146, 0, (uint8_t)(2 * i + 2) };

		assert_int_equal(tg_lookup_find(&lk, TG_FAMILY_V4, in), i + 1);
		assert_int_equal(tg_lookup_find(&lk, TG_FAMILY_V4, after), 0);
	}
	tg_lookup_free(&lk);
	free(img.prefixes[0]);
}

/* A feed: random IPv4 /20-/32 or IPv6 /32-/128 prefixes, some of them
 * holes of class 0 inside another, which leave blocks unused. */
static void feed_table(struct rng *r, struct tg_image *img, int family, size_t n)
{
	unsigned bits = family_bits(family), shortest = family == TG_FAMILY_V4 ? 20 : 32;

	img->prefixes[family] = calloc(n, sizeof(struct tg_image_prefix));
	for (size_t i = 0; i < n; i++) {
		struct tg_image_prefix *p = &img->prefixes[family][i];

		if (i && rbelow(r, 10) == 0) {
			*p = img->prefixes[family][rbelow(r, (unsigned)i)];
			p->prefixlen = (uint8_t)(p->prefixlen + rbelow(r, bits - p->prefixlen + 1));
			p->addr[bits / 8 - 1] ^= (uint8_t)rnext(r);
			p->cls = 0;
		} else {
			for (unsigned k = 0; k < bits / 8; k++)
				p->addr[k] = (uint8_t)rnext(r);
			p->prefixlen = (uint8_t)(shortest + rbelow(r, bits - shortest + 1));
			p->cls = 1 + rbelow(r, 1000);
		}
		mask_to(p->addr, p->prefixlen, bits);
	}
	img->nprefixes[family] = n;
	sort_unique(img, family);
}

/* A copy of lk that filters nothing before its nodes: every bit of the
 * coarse and fine filters set. Free with free(copy->fine); the nodes are lk's. */
static void without_front_filters(const struct tg_lookup *lk, struct tg_lookup *copy)
{
	*copy = *lk;
	memset(copy->info.coarse, 0xff, sizeof(copy->info.coarse));
	copy->fine = malloc(2 * TG_LK_FINE_WORDS * sizeof(*copy->fine));
	assert_non_null(copy->fine);
	memset(copy->fine, 0xff, 2 * TG_LK_FINE_WORDS * sizeof(*copy->fine));
}

/* A feed large enough that the used-block filter is finer than the fine
 * filter (more than 524,288 bounds), so each family gets one; the lookup
 * answers as without it, and most random addresses stop at the filter,
 * with the class outside the feed: 0, or that of ::/0. */
static void feeds_get_a_used_block_filter(void **state)
{
	struct rng r = { 0x7011ea7e };
	struct tg_image img = { 0 };
	struct tg_lookup lk, unfiltered;

	(void)state;
	feed_table(&r, &img, TG_FAMILY_V4, 300000);
	feed_table(&r, &img, TG_FAMILY_V6, 300000);
	/* A service open to any IPv6 peer: ::/0 is the background, class 3. */
	img.prefixes[1] = realloc(img.prefixes[1], (img.nprefixes[1] + 1) * sizeof(struct tg_image_prefix));
	set_prefix(&img.prefixes[1][img.nprefixes[1]++], TG_FAMILY_V6, (const uint8_t[16]){ 0 }, 0, 3);
	sort_unique(&img, TG_FAMILY_V6);
	assert_int_equal(tg_lookup_build(&img, &lk), 0);
	assert_int_equal(lk.info.filter_class[0], 0);
	assert_int_equal(lk.info.filter_class[1], 3);
	without_front_filters(&lk, &unfiltered);
	unfiltered.info.filter_bits[0] = unfiltered.info.filter_bits[1] = 0;
	for (int f = 0; f < 2; f++) {
		unsigned stopped = 0, probes = 200000;

		assert_true(lk.info.filter_bits[f] > TG_LK_FINE_BITS);
		assert_true(lk.info.filter_bits[f] <= TG_LK_FILTER_BITS_MAX);
		assert_true(lk.filter_used[f] > 0);
		assert_int_equal(lk.filter_blocks[f], (size_t)1 << lk.info.filter_bits[f]);
		assert_true(lk.filter_used[f] <= lk.filter_blocks[f] / 2);
		for (unsigned i = 0; i < probes; i++) {
			uint8_t addr[16];
			uint32_t got;

			probe_address(&r, &img, f, addr);
			got = tg_lookup_find(&lk, f, addr);
			if (got != tg_lookup_find(&unfiltered, f, addr))
				fail_msg("family %d, probe %u: class %u with the filter, %u without", f, i, got,
					 tg_lookup_find(&unfiltered, f, addr));
			if (i < 300)
				assert_int_equal(got, naive(&img, f, addr));
		}
		for (unsigned i = 0; i < probes; i++) {
			uint8_t addr[16];
			unsigned block;

			for (unsigned k = 0; k < 16; k++)
				addr[k] = (uint8_t)rnext(&r);
			block = (unsigned)((uint32_t)addr[0] << 16 | addr[1] << 8 | addr[2]) >>
				(TG_LK_FILTER_BITS_MAX - lk.info.filter_bits[f]);
			if (!tg_lk_block_used(&lk.nodes[lk.info.filter_base[f] + block / 512], block)) {
				stopped++;
				assert_int_equal(tg_lookup_find(&unfiltered, f, addr), lk.info.filter_class[f]);
			}
		}
		assert_true(stopped > probes * 8 / 10);
	}
	free(unfiltered.fine);
	tg_lookup_free(&lk);
	free(img.prefixes[0]);
	free(img.prefixes[1]);
}

/* An address in block `block` of the coarse filter: its first or last, or
 * any. */
static void address_in_coarse_block(struct rng *r, int family, uint32_t block, unsigned which, uint8_t *addr)
{
	unsigned bytes = family_bits(family) / 8;

	for (unsigned i = 0; i < bytes; i++)
		addr[i] = (uint8_t)(which == 0 ? 0 : which == 1 ? 0xff : rnext(r));
	addr[0] = (uint8_t)(block >> 8); /* TG_LK_COARSE_BITS is 16 */
	addr[1] = (uint8_t)block;
}

/* An address in block `block` of the fine filter (the first 22 bits). */
static void address_in_fine_block(struct rng *r, int family, uint32_t block, unsigned which, uint8_t *addr)
{
	address_in_coarse_block(r, family, block >> 6, which, addr);
	addr[2] = (uint8_t)((block & 63) << 2 | (addr[2] & 3));
}

/* The fine filter's blocks that a used coarse block holds: each clear one
 * holds only the background class. Returns how many are used. */
static size_t check_fine_blocks(struct rng *r, const struct tg_image *img, const struct tg_lookup *lk, int f,
				uint32_t coarse_block)
{
	uint64_t word = lk->fine[tg_lk_fine_word(f, coarse_block << 6)];
	size_t used = 0;

	for (uint32_t block = coarse_block << 6; block < (coarse_block + 1) << 6; block++) {
		if (tg_lk_fine_used(word, block)) {
			used++;
			continue;
		}
		for (unsigned which = 0; which < 3; which++) {
			uint8_t addr[16];

			address_in_fine_block(r, f, block, which, addr);
			if (naive(img, f, addr) != lk->info.filter_class[f])
				fail_msg("family %d: fine block %u is clear, class %u is not %u", f, block,
					 naive(img, f, addr), lk->info.filter_class[f]);
		}
	}
	return used;
}

/*
 * Every table gets the coarse filter in its policy table and the fine
 * filter in its own map. A block either leaves clear holds only the
 * background class (checked at its first, last and a random address, for
 * every clear coarse block and every clear fine block of a used coarse
 * one), a coarse block is used exactly where its fine word is not zero, the
 * lookup answers as with every bit set (which filters nothing), and a table
 * of a few hundred prefixes leaves most blocks clear. The random tables hold
 * /0, nested, adjacent and containing prefixes, so the background is not
 * always 0.
 */
static void every_table_gets_coarse_and_fine_filters(void **state)
{
	struct rng r = { 0xc0a75e };
	_Static_assert(TG_LK_COARSE_BITS == 16, "address_in_coarse_block writes two bytes");
	_Static_assert(TG_LK_FINE_BITS == 22, "address_in_fine_block writes six bits more");

	(void)state;
	for (unsigned t = 0; t < 12; t++) {
		struct tg_image img = { 0 };
		struct tg_lookup lk, unfiltered;

		random_table(&r, &img, TG_FAMILY_V4, 1 + rbelow(&r, 60), t % 3 == 2);
		random_table(&r, &img, TG_FAMILY_V6, 1 + rbelow(&r, 60), t % 3 == 2);
		assert_int_equal(tg_lookup_build(&img, &lk), 0);
		without_front_filters(&lk, &unfiltered);
		for (int f = 0; f < 2; f++) {
			size_t used = 0, fine_used = 0;

			for (uint32_t block = 0; block < 1u << TG_LK_COARSE_BITS; block++) {
				bool word_used = lk.fine[tg_lk_fine_word(f, block << 6)] != 0;

				assert_int_equal(tg_lk_coarse_used(&lk.info, f, block), word_used);
				if (word_used) {
					used++;
					fine_used += check_fine_blocks(&r, &img, &lk, f, block);
					continue;
				}
				for (unsigned which = 0; which < 3; which++) {
					uint8_t addr[16];

					address_in_coarse_block(&r, f, block, which, addr);
					if (naive(&img, f, addr) != lk.info.filter_class[f])
						fail_msg("table %u, family %d: block %u is clear, class %u is not %u",
							 t, f, block, naive(&img, f, addr), lk.info.filter_class[f]);
				}
			}
			assert_int_equal(used, lk.coarse_used[f]);
			assert_int_equal(fine_used, lk.fine_used[f]);
			for (unsigned i = 0; i < 3000; i++) {
				uint8_t addr[16];
				uint32_t got;

				probe_address(&r, &img, f, addr);
				got = tg_lookup_find(&lk, f, addr);
				assert_int_equal(got, naive(&img, f, addr));
				assert_int_equal(got, tg_lookup_find(&unfiltered, f, addr));
			}
		}
		free(unfiltered.fine);
		tg_lookup_free(&lk);
		free(img.prefixes[0]);
		free(img.prefixes[1]);
	}

	/* A vendor's table: 300 IPv4 and 100 IPv6 prefixes of /20 to /32 and
	 * /32 to /128 use at most a coarse block each, out of 65,536, and at
	 * most four fine blocks each (a /20 spans four /22s). */
	{
		struct tg_image img = { 0 };
		struct tg_lookup lk;

		feed_table(&r, &img, TG_FAMILY_V4, 300);
		feed_table(&r, &img, TG_FAMILY_V6, 100);
		assert_int_equal(tg_lookup_build(&img, &lk), 0);
		for (int f = 0; f < 2; f++) {
			assert_int_equal(lk.info.filter_class[f], 0);
			assert_true(lk.coarse_used[f] >= 1);
			assert_true(lk.coarse_used[f] <= img.nprefixes[f]);
			assert_true(lk.fine_used[f] >= lk.coarse_used[f]);
			assert_true(lk.fine_used[f] <= 4 * img.nprefixes[f]);
		}
		tg_lookup_free(&lk);
		free(img.prefixes[0]);
		free(img.prefixes[1]);
	}
}

/* No used-block filter where the nodes stay cached, nor where it would be
 * no finer than the fine filter (100K prefixes: 2^22 blocks at most), nor
 * where most blocks are used (here a /1 of its own class beside the feed's
 * other half): it would cost a read and spare few. */
static void no_filter_for_small_or_covering_tables(void **state)
{
	struct rng r = { 0xc0ffee };
	struct tg_image img = { 0 };
	struct tg_lookup lk;

	(void)state;
	feed_table(&r, &img, TG_FAMILY_V4, 1000);
	assert_int_equal(tg_lookup_build(&img, &lk), 0);
	assert_int_equal(lk.info.filter_bits[0], 0);
	assert_int_equal(lk.info.filter_bits[1], 0);
	tg_lookup_free(&lk);
	free(img.prefixes[0]);

	feed_table(&r, &img, TG_FAMILY_V4, 100000);
	assert_int_equal(tg_lookup_build(&img, &lk), 0);
	assert_true(lk.info.direct_bits[0] >= 15);
	assert_true(lk.nnodes >= TG_LOOKUP_FILTER_FROM);
	assert_int_equal(lk.info.filter_bits[0], 0);
	tg_lookup_free(&lk);
	free(img.prefixes[0]);

	feed_table(&r, &img, TG_FAMILY_V4, 300000);
	set_prefix(&img.prefixes[0][0], TG_FAMILY_V4, (const uint8_t[4]){ 0 }, 1, 7); /* 0.0.0.0/1 */
	sort_unique(&img, TG_FAMILY_V4);
	assert_int_equal(tg_lookup_build(&img, &lk), 0);
	assert_int_equal(lk.info.filter_bits[0], 0);
	assert_true(lk.filter_blocks[0] > (size_t)1 << TG_LK_FINE_BITS);
	assert_true(lk.filter_used[0] > lk.filter_blocks[0] / 2);
	tg_lookup_free(&lk);
	free(img.prefixes[0]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(small_tables_agree_with_a_scan),
		cmocka_unit_test(large_tables_agree_with_a_scan),
		cmocka_unit_test(every_address_of_a_block),
		cmocka_unit_test(the_deepest_path_is_bounded),
		cmocka_unit_test(direct_tables_follow_the_size),
		cmocka_unit_test(two_ipv6_prefixes_share_a_node),
		cmocka_unit_test(a_crowded_range_splits_with_few_bits),
		cmocka_unit_test(feeds_get_a_used_block_filter),
		cmocka_unit_test(no_filter_for_small_or_covering_tables),
		cmocka_unit_test(every_table_gets_coarse_and_fine_filters),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
