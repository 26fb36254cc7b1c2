// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Builds the peer lookup (see lookup.h). Addresses are handled as 128-bit
 * integers whatever the family; an IPv4 address is one of 32 bits.
 *
 * First the nested prefixes become bounds: the sorted addresses where the
 * class changes. Then each direct node covers 2^(bits - direct bits)
 * addresses and holds the bounds strictly inside its range when they fit
 * (TG_LK_BOUNDS4 or TG_LK_BOUNDS6); otherwise it is a TABLE of 2^stride
 * smaller ranges, recursively. Every bound lies strictly inside the ranges of
 * exactly one path, so the nodes hold each bound once and a table exists only
 * where more bounds share its range than a node holds.
 */
#include "compile/lookup.h"
#include "lib/util.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

typedef unsigned __int128 u128;

_Static_assert(sizeof(struct tg_lk_node) == 64, "a lookup node is one cache line");

struct bound {
	u128 start;
	uint32_t cls;
};

struct bounds {
	struct bound *items;
	size_t n, cap;
};

static unsigned family_bits(int family)
{
	return family == TG_FAMILY_V4 ? 32 : 128;
}

static u128 ones(unsigned bits)
{
	return bits >= 128 ? ~(u128)0 : ((u128)1 << bits) - 1;
}

static u128 address_value(int family, const uint8_t *addr)
{
	u128 v = 0;

	for (unsigned i = 0; i < family_bits(family) / 8; i++)
		v = v << 8 | addr[i];
	return v;
}

/* Appends a bound; one at the same address replaces the last, and a bound
 * that does not change the class is not one. */
static void emit(struct bounds *b, u128 at, uint32_t cls)
{
	if (b->n && b->items[b->n - 1].start == at)
		b->n--;
	if (b->n && b->items[b->n - 1].cls == cls)
		return;
	struct bound x = { at, cls };
	VEC_PUSH(b->items, b->n, b->cap, x);
}

/* Sorted by address then length, each prefix follows those that contain it:
 * a stack of open prefixes says which class resumes where one ends. */
static void prefixes_to_bounds(const struct tg_image *img, int family, struct bounds *b)
{
	unsigned bits = family_bits(family);
	struct {
		u128 end;
		uint32_t cls;
	} stack[129];
	unsigned depth = 0;

	b->cap = 2 * img->nprefixes[family] + 1; /* a start and an end each, and 0 */
	b->items = xmalloc(b->cap * sizeof(*b->items));
	emit(b, 0, 0);
	for (size_t i = 0; i <= img->nprefixes[family]; i++) {
		const struct tg_image_prefix *p = i < img->nprefixes[family] ? &img->prefixes[family][i] : NULL;
		u128 start = p ? address_value(family, p->addr) : 0;

		while (depth && (!p || stack[depth - 1].end < start)) {
			u128 end = stack[--depth].end;

			if (end != ones(bits))
				emit(b, end + 1, depth ? stack[depth - 1].cls : 0);
		}
		if (!p)
			break;
		emit(b, start, p->cls);
		stack[depth].end = start | ones(bits - p->prefixlen);
		stack[depth].cls = p->cls;
		depth++;
	}
}

/* ------------------------------------------------------------ building */

struct builder {
	struct tg_lookup *lk;
	const struct bounds *b;
	int family;
	unsigned bits;
};

/* The bound in place k of a node holding items[lo, hi): unused places
 * repeat the last bound, or the range's start with its class when there is
 * none, so that they never change the search's answer. */
static struct bound place(const struct builder *bd, size_t lo, size_t hi, size_t k, u128 start, uint32_t base)
{
	if (lo + k < hi)
		return bd->b->items[lo + k];
	if (hi > lo)
		return bd->b->items[hi - 1];
	return (struct bound){ start, base };
}

/* The bits past a bound's last set bit are zero; IPv6 compares 64 of them. */
static unsigned significant_bits(u128 x)
{
	unsigned zeros = 0;

	if (!x)
		return 0;
	while (!(x & 1)) {
		x >>= 1;
		zeros++;
	}
	return 128 - zeros;
}

static unsigned common_prefix(u128 a, u128 b)
{
	unsigned n = 0;

	while (n < 128 && !((a ^ b) >> (127 - n) & 1))
		n++;
	return n;
}

/* Where the 64-bit window of a cluster of IPv6 bounds items[lo, hi) starts
 * (include/tollgate.h), or 0 when they differ before the bits that the
 * window must cover. */
static unsigned window6(const struct builder *bd, size_t lo, size_t hi, unsigned depth)
{
	unsigned need = 0;

	if (lo == hi)
		return depth < 127 ? depth : 127;
	for (size_t i = lo; i < hi; i++) {
		unsigned sig = significant_bits(bd->b->items[i].start);

		if (sig > 64 + need)
			need = sig - 64;
	}
	if (need < depth)
		need = depth;
	return need <= common_prefix(bd->b->items[lo].start, bd->b->items[hi - 1].start) ? need : 0;
}

/* Where items[lo, hi) split into an IPv6 node's two clusters, [lo, *mid)
 * and [*mid, hi); false when they do not fit. Two bounds always do, one in
 * each cluster. */
static bool split6(const struct builder *bd, size_t lo, size_t hi, unsigned depth, size_t *mid)
{
	if (hi - lo > TG_LK_BOUNDS6)
		return false;
	for (*mid = hi - lo > 2 ? hi - 2 : lo; *mid <= lo + 2 && *mid <= hi; ++*mid)
		if (window6(bd, lo, *mid, depth) && window6(bd, *mid, hi, depth))
			return true;
	return false;
}

static bool fits_node(const struct builder *bd, size_t lo, size_t hi, unsigned depth)
{
	size_t mid;

	if (bd->family == TG_FAMILY_V4)
		return hi - lo <= TG_LK_BOUNDS4;
	return split6(bd, lo, hi, depth, &mid);
}

static void bounds_node4(struct builder *bd, struct tg_lk_node *n, u128 start, size_t lo, size_t hi, uint32_t base)
{
	n->head = tg_lk_bounds_head(base, 0, 0);
	for (size_t k = 0; k < TG_LK_BOUNDS4; k++) {
		struct bound x = place(bd, lo, hi, k, start, base);

		n->v4.addr[k] = (uint32_t)x.start;
		n->v4.cls[k] = (uint16_t)x.cls;
	}
}

/* A cluster of at most two bounds items[lo, hi) in places 2c and 2c + 1. */
static void cluster6(struct builder *bd, struct tg_lk_node6 *n, int c, u128 start, unsigned depth, size_t lo, size_t hi,
		     uint32_t base)
{
	unsigned window = window6(bd, lo, hi, depth);

	n->key[c] = (uint64_t)(place(bd, lo, hi, 0, start, base).start >> (128 - window));
	n->head |= (window & 0x7f) << (c ? 23 : 16);
	for (size_t k = 0; k < 2; k++) {
		struct bound x = place(bd, lo, hi, k, start, base);

		n->win[2 * c + k] = (uint64_t)((x.start << window) >> 64);
		n->cls[2 * c + k] = (uint16_t)x.cls;
	}
}

/* An empty second cluster repeats the first one's last bound, which
 * changes nothing. */
static void bounds_node6(struct builder *bd, struct tg_lk_node *n, u128 start, unsigned depth, size_t lo, size_t hi,
			 uint32_t base)
{
	size_t mid = hi;

	split6(bd, lo, hi, depth, &mid); /* build_node() checked that it fits */
	n->head = tg_lk_bounds_head(base, 0, 0);
	cluster6(bd, &n->v6, 0, start, depth, lo, mid, base);
	if (mid < hi)
		cluster6(bd, &n->v6, 1, start, depth, mid, hi, base);
	else if (hi > lo)
		cluster6(bd, &n->v6, 1, start, depth, hi - 1, hi, base);
	else
		cluster6(bd, &n->v6, 1, start, depth, lo, hi, base);
}

static void bounds_node(struct builder *bd, size_t slot, u128 start, unsigned depth, size_t lo, size_t hi,
			uint32_t base)
{
	struct tg_lk_node *n = &bd->lk->nodes[slot];

	memset(n, 0, sizeof(*n));
	if (bd->family == TG_FAMILY_V4)
		bounds_node4(bd, n, start, lo, hi, base);
	else
		bounds_node6(bd, n, start, depth, lo, hi, base);
}

static void grow_nodes(struct tg_lookup *lk, size_t more)
{
	while (lk->nnodes + more > lk->nodes_cap) {
		lk->nodes_cap = lk->nodes_cap ? lk->nodes_cap * 2 : 1024;
		lk->nodes = xrealloc(lk->nodes, lk->nodes_cap * sizeof(*lk->nodes));
	}
}

/* The bounds strictly inside the range that starts at `start` and holds the
 * addresses whose first `depth` bits are start's are items[lo, hi); `base` is
 * the class at `start`. The node goes to nodes[slot]. */
static int build_node(struct builder *bd, size_t slot, u128 start, unsigned depth, size_t lo, size_t hi, uint32_t base,
		      unsigned tables_above);

/* Calls visit(child, its first bound, the end of its bounds, its base) for
 * each of the 2^stride parts of a range; stops at the first nonzero. */
typedef int (*child_fn)(struct builder *bd, void *ctx, unsigned k, u128 child, size_t lo, size_t hi, uint32_t base);

static int each_child(struct builder *bd, u128 start, unsigned depth, unsigned stride, size_t lo, size_t hi,
		      uint32_t base, child_fn visit, void *ctx)
{
	unsigned child_bits = bd->bits - depth - stride;
	size_t i = lo;
	int err = 0;

	for (unsigned k = 0; k < 1u << stride && !err; k++) {
		u128 child = start | (u128)k << child_bits, last = child | ones(child_bits);
		size_t inner;

		/* Bounds at the child's start give it its class, not a place in its node. */
		while (i < hi && bd->b->items[i].start <= child)
			base = bd->b->items[i++].cls;
		for (inner = i; inner < hi && bd->b->items[inner].start <= last; inner++)
			;
		err = visit(bd, ctx, k, child, i, inner, base);
		i = inner;
		if (i > lo)
			base = bd->b->items[i - 1].cls;
	}
	return err;
}

struct table_ctx {
	size_t first;
	unsigned depth, tables_above;
};

static int misfit(struct builder *bd, void *ctx, unsigned k, u128 child, size_t lo, size_t hi, uint32_t base)
{
	(void)k, (void)child, (void)base;
	return !fits_node(bd, lo, hi, *(unsigned *)ctx);
}

static int build_child(struct builder *bd, void *ctx, unsigned k, u128 child, size_t lo, size_t hi, uint32_t base)
{
	struct table_ctx *t = ctx;

	return build_node(bd, t->first + k, child, t->depth, lo, hi, base, t->tables_above);
}

/* The fewest bits that split the range into nodes, so that a table below a
 * crowded range costs 2 to 8 nodes rather than 16; TG_LK_STRIDE when none
 * does (the children split further). */
static unsigned stride_for(struct builder *bd, u128 start, unsigned depth, size_t lo, size_t hi, uint32_t base)
{
	unsigned most = bd->bits - depth < TG_LK_STRIDE ? bd->bits - depth : TG_LK_STRIDE;

	for (unsigned stride = 1; stride < most; stride++) {
		unsigned child_depth = depth + stride;

		if (!each_child(bd, start, depth, stride, lo, hi, base, misfit, &child_depth))
			return stride;
	}
	return most;
}

static int build_table(struct builder *bd, size_t slot, u128 start, unsigned depth, size_t lo, size_t hi, uint32_t base,
		       unsigned tables_above)
{
	struct tg_lookup *lk = bd->lk;
	unsigned stride = stride_for(bd, start, depth, lo, hi, base);
	struct table_ctx t = { lk->nnodes, depth + stride, tables_above + 1 };

	if (t.first + (1u << stride) > TG_LK_FIRST_MAX)
		return -E2BIG;
	grow_nodes(lk, 1u << stride);
	lk->nnodes += 1u << stride;
	memset(&lk->nodes[slot], 0, sizeof(lk->nodes[slot])); /* the map gets no stray bytes */
	lk->nodes[slot].head = tg_lk_table_head((uint32_t)t.first, stride);
	if (tables_above + 1 > lk->depth[bd->family])
		lk->depth[bd->family] = tables_above + 1;
	lk->ntables[bd->family]++;
	return each_child(bd, start, depth, stride, lo, hi, base, build_child, &t);
}

static int build_node(struct builder *bd, size_t slot, u128 start, unsigned depth, size_t lo, size_t hi, uint32_t base,
		      unsigned tables_above)
{
	/* A range of one address has no bound strictly inside it. */
	if (depth >= bd->bits || fits_node(bd, lo, hi, depth)) {
		bounds_node(bd, slot, start, depth, lo, hi, base);
		return 0;
	}
	return build_table(bd, slot, start, depth, lo, hi, base, tables_above);
}

/*
 * The direct table's size: the smallest that averages TG_LOOKUP_FILL_* bounds
 * a node or fewer. In a random feed the bounds per node are about Poisson,
 * so 6 leaves about 4% of IPv4 nodes with more than their 10 places, and
 * fewer as the average falls below 6; a small policy's table stays small
 * enough for the cache.
 */
static unsigned direct_bits_for(int family, size_t nbounds)
{
	size_t per_node = family == TG_FAMILY_V4 ? TG_LOOKUP_FILL_V4 : TG_LOOKUP_FILL_V6;
	unsigned bits = TG_LK_DIRECT_MIN;

	while (bits < TG_LK_DIRECT_MAX && (per_node << bits) < nbounds)
		bits++;
	return bits;
}

/* Fills the direct table of one family, which starts at nodes[base_node]. */
static int build_family(struct tg_lookup *lk, const struct bounds *b, int family, size_t base_node)
{
	struct builder bd = { .lk = lk, .b = b, .family = family, .bits = family_bits(family) };
	unsigned direct_bits = lk->info.direct_bits[family], chunk_bits = bd.bits - direct_bits;
	size_t i = 0;
	int err = 0;

	/* items[i] is the last bound at or before the chunk's start. */
	for (uint32_t c = 0; c < 1u << direct_bits && !err; c++) {
		u128 start = (u128)c << chunk_bits, last = start | ones(chunk_bits);
		size_t inner;

		while (i + 1 < b->n && b->items[i + 1].start <= start)
			i++;
		for (inner = i + 1; inner < b->n && b->items[inner].start <= last; inner++)
			;
		err = build_node(&bd, base_node + c, start, direct_bits, i + 1, inner, b->items[i].cls, 0);
	}
	return err;
}

/* ------------------------------------------------- used-block filter */

/* About 8 blocks a bound: few enough bytes to stay cached beside the
 * nodes, enough blocks that a random address outside the policy mostly
 * falls in an unused one. */
static unsigned filter_bits_for(size_t nbounds)
{
	unsigned bits = TG_LK_FILTER_BITS_MIN;

	while (bits < TG_LK_FILTER_BITS_MAX && ((size_t)1 << bits) < 8 * nbounds)
		bits++;
	return bits;
}

/* The class of most of the address space: outside every prefix, or the
 * class of `any` when a service takes any peer. */
static uint32_t background_class(const struct bounds *b, int family)
{
	u128 *span = xcalloc(TG_MAX_CLASSES, sizeof(*span));
	uint32_t best = 0;

	for (size_t i = 0; i < b->n; i++) {
		u128 last = i + 1 < b->n ? b->items[i + 1].start - 1 : ones(family_bits(family));
		uint32_t cls = b->items[i].cls % TG_MAX_CLASSES;

		span[cls] += last - b->items[i].start; /* one short: the sum never wraps */
		if (span[cls] > span[best])
			best = cls;
	}
	free(span);
	return best;
}

/* Marks the blocks that hold an address of a class other than `background`;
 * returns how many. */
static size_t mark_used_blocks(const struct bounds *b, int family, unsigned filter_bits, uint32_t background,
			       __u64 *map)
{
	unsigned shift = family_bits(family) - filter_bits;
	size_t used = 0;

	for (size_t i = 0; i < b->n; i++) {
		u128 end = i + 1 < b->n ? b->items[i + 1].start - 1 : ones(family_bits(family));

		if (b->items[i].cls == background)
			continue;
		/* At most 2^TG_LK_FILTER_BITS_MAX blocks: no overflow. */
		for (uint32_t block = (uint32_t)(b->items[i].start >> shift); block <= (uint32_t)(end >> shift);
		     block++) {
			used += !(map[block / 64] >> (block % 64) & 1);
			map[block / 64] |= (uint64_t)1 << (block % 64);
		}
	}
	return used;
}

/* The coarse filter from the fine one: a fine word holds the 64 fine blocks
 * of one coarse block, so the coarse block is used where its word is not
 * zero. Returns the used coarse blocks. */
static size_t coarse_from_fine(const __u64 *fine, __u64 *coarse)
{
	size_t used = 0;

	_Static_assert(TG_LK_FINE_BITS - TG_LK_COARSE_BITS == 6, "a fine word is one coarse block");
	for (uint32_t block = 0; block < TG_LK_FINE_WORDS; block++) {
		if (!fine[block])
			continue;
		coarse[block / 64] |= (uint64_t)1 << (block % 64);
		used++;
	}
	return used;
}

/* Appends a family's filter when its nodes would not stay cached, the
 * filter is finer than the fine filter (which an address has already
 * passed, so a coarser bitmap would stop none) and it would spare most
 * addresses the read of the nodes. */
static void build_filter(struct tg_lookup *lk, const struct bounds *b, int family, size_t family_nodes)
{
	unsigned bits = filter_bits_for(b->n);
	size_t blocks = (size_t)1 << bits, nodes = blocks / 512;
	uint32_t background = lk->info.filter_class[family];
	__u64 *map;

	if (family_nodes < TG_LOOKUP_FILTER_FROM || bits <= TG_LK_FINE_BITS)
		return;
	map = xcalloc(blocks / 64, sizeof(*map));
	lk->filter_blocks[family] = blocks;
	lk->filter_used[family] = mark_used_blocks(b, family, bits, background, map);
	if (lk->filter_used[family] <= blocks / 2) {
		grow_nodes(lk, nodes);
		memcpy(&lk->nodes[lk->nnodes], map, blocks / 8);
		lk->info.filter_bits[family] = bits;
		lk->info.filter_base[family] = (uint32_t)lk->nnodes;
		lk->nnodes += nodes;
	}
	free(map);
}

int tg_lookup_build(const struct tg_image *img, struct tg_lookup *lk)
{
	struct bounds b[2] = { { 0 }, { 0 } };
	size_t direct[2], tables_v4_end;
	int err;

	memset(lk, 0, sizeof(*lk));
	lk->fine = xcalloc(2 * TG_LK_FINE_WORDS, sizeof(*lk->fine));
	/* Both direct tables first, IPv4's then IPv6's; the tables follow. */
	for (int f = 0; f < 2; f++) {
		prefixes_to_bounds(img, f, &b[f]);
		lk->nranges[f] = b[f].n;
		lk->info.direct_bits[f] = direct_bits_for(f, b[f].n);
		lk->info.filter_class[f] = background_class(&b[f], f);
		lk->fine_used[f] = mark_used_blocks(&b[f], f, TG_LK_FINE_BITS, lk->info.filter_class[f],
						    lk->fine + (size_t)f * TG_LK_FINE_WORDS);
		lk->coarse_used[f] = coarse_from_fine(lk->fine + (size_t)f * TG_LK_FINE_WORDS, lk->info.coarse[f]);
		direct[f] = (size_t)1 << lk->info.direct_bits[f];
	}
	/* Room for the direct tables and a few tables, reserved once; a large
	 * vector grows in place (mremap), so growing costs no copy. */
	grow_nodes(lk, direct[0] + direct[1] + 1024);
	lk->nnodes = direct[0] + direct[1];
	err = build_family(lk, &b[TG_FAMILY_V4], TG_FAMILY_V4, 0);
	tables_v4_end = lk->nnodes;
	err = err ?: build_family(lk, &b[TG_FAMILY_V6], TG_FAMILY_V6, direct[0]);
	if (!err && lk->nnodes + 2 * ((size_t)1 << TG_LK_FILTER_BITS_MAX) / 512 > TG_LK_FIRST_MAX)
		err = -E2BIG;
	if (!err) {
		size_t v6_nodes = direct[1] + lk->nnodes - tables_v4_end;

		build_filter(lk, &b[TG_FAMILY_V4], TG_FAMILY_V4, tables_v4_end - direct[1]);
		build_filter(lk, &b[TG_FAMILY_V6], TG_FAMILY_V6, v6_nodes);
	}
	free(b[0].items);
	free(b[1].items);
	if (err)
		tg_lookup_free(lk);
	return err;
}

void tg_lookup_free(struct tg_lookup *lk)
{
	free(lk->nodes);
	free(lk->fine);
	memset(lk, 0, sizeof(*lk));
}

size_t tg_lookup_bytes(const struct tg_lookup *lk)
{
	return lk->nnodes * sizeof(*lk->nodes);
}

/* -------------------------------------------------------------- lookup */

uint32_t tg_lookup_find(const struct tg_lookup *lk, int family, const uint8_t *addr)
{
	unsigned bits = family_bits(family), depth = lk->info.direct_bits[family];
	u128 a = address_value(family, addr);
	size_t base = family == TG_FAMILY_V4 ? 0 : (size_t)1 << lk->info.direct_bits[TG_FAMILY_V4];
	unsigned filter_bits = lk->info.filter_bits[family];
	uint32_t fine_block = (uint32_t)(a >> (bits - TG_LK_FINE_BITS));
	const struct tg_lk_node *n;

	if (!tg_lk_coarse_used(&lk->info, family, (uint32_t)(a >> (bits - TG_LK_COARSE_BITS))) ||
	    !tg_lk_fine_used(lk->fine[tg_lk_fine_word(family, fine_block)], fine_block))
		return lk->info.filter_class[family];
	if (filter_bits) {
		uint32_t block = (uint32_t)(a >> (bits - filter_bits));

		if (!tg_lk_block_used(&lk->nodes[lk->info.filter_base[family] + block / 512], block))
			return lk->info.filter_class[family];
	}
	n = &lk->nodes[base + (size_t)(a >> (bits - depth))];
	while (tg_lk_kind(n->head) == TG_LK_TABLE) {
		unsigned stride = tg_lk_stride(n->head);
		uint32_t child = (uint32_t)(a >> (bits - depth - stride)) & ((1u << stride) - 1);

		n = &lk->nodes[tg_lk_first(n->head) + child];
		depth += stride;
	}
	if (family == TG_FAMILY_V4)
		return tg_lk_search4(&n->v4, (uint32_t)a);
	return tg_lk_search6(&n->v6, (uint64_t)(a >> 64), (uint64_t)a);
}
