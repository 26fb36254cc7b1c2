// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Builds the peer lookup (see lookup.h). Addresses are handled as 128-bit
 * integers whatever the family; an IPv4 address is one of 32 bits.
 *
 * First the nested prefixes become bounds: the sorted addresses where the
 * class changes. Then each direct entry covers 2^(bits - direct bits)
 * addresses and gets a LEAF when no bound falls strictly inside its range,
 * a BLOCK when at most TG_LK_BLOCK do, and a TABLE of TG_LK_FANOUT smaller
 * ranges otherwise, recursively. Every bound lies strictly inside the ranges
 * of exactly one path, so the blocks hold each bound once and a table exists
 * only where more than TG_LK_BLOCK bounds share its range.
 */
#include "compile/lookup.h"
#include "lib/util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

typedef unsigned __int128 u128;

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
	int err;
};

/* A block of bounds items[lo, hi), its unused places repeating the last. */
static uint64_t add_block(struct builder *bd, size_t lo, size_t hi, uint32_t base)
{
	struct tg_lookup *lk = bd->lk;
	size_t index = bd->family == TG_FAMILY_V4 ? lk->nblocks4 : lk->nblocks6;

	if (index > UINT32_MAX) {
		bd->err = -E2BIG;
		return tg_lk_leaf(0);
	}
	if (bd->family == TG_FAMILY_V4) {
		struct tg_lk_block4 blk;

		for (size_t k = 0; k < TG_LK_BLOCK; k++) {
			const struct bound *x = &bd->b->items[lo + k < hi ? lo + k : hi - 1];

			blk.bound[k] = (uint64_t)x->start << 32 | x->cls;
		}
		VEC_PUSH(lk->blocks4, lk->nblocks4, lk->blocks4_cap, blk);
	} else {
		struct tg_lk_block6 blk;

		for (size_t k = 0; k < TG_LK_BLOCK; k++) {
			const struct bound *x = &bd->b->items[lo + k < hi ? lo + k : hi - 1];

			blk.hi[k] = (uint64_t)(x->start >> 64);
			blk.lo[k] = (uint64_t)x->start;
			blk.cls[k] = x->cls;
		}
		VEC_PUSH(lk->blocks6, lk->nblocks6, lk->blocks6_cap, blk);
	}
	return tg_lk_block((uint32_t)index, base);
}

static void grow_nodes(struct tg_lookup *lk, size_t more)
{
	while (lk->nnodes + more > lk->nodes_cap) {
		lk->nodes_cap = lk->nodes_cap ? lk->nodes_cap * 2 : 1024;
		lk->nodes = xrealloc(lk->nodes, lk->nodes_cap * sizeof(*lk->nodes));
	}
}

static size_t reserve_table(struct tg_lookup *lk)
{
	size_t first = lk->nnodes;

	grow_nodes(lk, TG_LK_FANOUT);
	lk->nnodes += TG_LK_FANOUT;
	return first;
}

/* The bounds strictly inside the range that starts at `start` and holds the
 * addresses whose first `depth` bits are start's are items[lo, hi); `base` is
 * the class at `start`. */
static uint64_t build_range(struct builder *bd, u128 start, unsigned depth, size_t lo, size_t hi, uint32_t base,
			    unsigned tables_above);

static uint64_t build_table(struct builder *bd, u128 start, unsigned depth, size_t lo, size_t hi, uint32_t base,
			    unsigned tables_above)
{
	struct tg_lookup *lk = bd->lk;
	unsigned child_bits = bd->bits - depth - TG_LK_STRIDE;
	size_t table = reserve_table(lk), i = lo;

	if (table > UINT32_MAX - TG_LK_FANOUT) {
		bd->err = -E2BIG;
		return tg_lk_leaf(0);
	}
	if (tables_above + 1 > lk->depth[bd->family])
		lk->depth[bd->family] = tables_above + 1;
	lk->ntables[bd->family]++;
	for (unsigned k = 0; k < TG_LK_FANOUT; k++) {
		u128 child = start | (u128)k << child_bits, last = child | ones(child_bits);
		size_t inner;
		uint64_t e;

		/* Bounds at the child's start give it its class, not a place in its block. */
		while (i < hi && bd->b->items[i].start <= child)
			base = bd->b->items[i++].cls;
		for (inner = i; inner < hi && bd->b->items[inner].start <= last; inner++)
			;
		e = build_range(bd, child, depth + TG_LK_STRIDE, i, inner, base, tables_above + 1);
		lk->nodes[table + k] = e;
		i = inner;
		if (i > lo)
			base = bd->b->items[i - 1].cls;
	}
	return tg_lk_table((uint32_t)table);
}

static uint64_t build_range(struct builder *bd, u128 start, unsigned depth, size_t lo, size_t hi, uint32_t base,
			    unsigned tables_above)
{
	if (lo == hi)
		return tg_lk_leaf(base);
	if (hi - lo <= TG_LK_BLOCK || depth >= bd->bits)
		return add_block(bd, lo, hi, base);
	return build_table(bd, start, depth, lo, hi, base, tables_above);
}

/* At most TG_LK_BLOCK bounds per direct entry on average, so that most
 * entries are a leaf or one block; a small policy's table stays small
 * enough for the cache. */
static unsigned direct_bits_for(size_t nbounds)
{
	unsigned bits = TG_LK_DIRECT_MIN;

	while (bits < TG_LK_DIRECT_MAX && ((size_t)TG_LK_BLOCK << bits) < nbounds)
		bits += TG_LK_STRIDE;
	return bits;
}

/* Fills the direct table of one family, which starts at nodes[base_node]. */
static int build_family(struct tg_lookup *lk, const struct bounds *b, int family, size_t base_node)
{
	struct builder bd = { .lk = lk, .b = b, .family = family, .bits = family_bits(family) };
	unsigned direct_bits = lk->info.direct_bits[family], chunk_bits = bd.bits - direct_bits;
	size_t i = 0;

	/* items[i] is the last bound at or before the chunk's start. */
	for (uint32_t c = 0; c < 1u << direct_bits && !bd.err; c++) {
		u128 start = (u128)c << chunk_bits, last = start | ones(chunk_bits);
		size_t inner;

		while (i + 1 < b->n && b->items[i + 1].start <= start)
			i++;
		for (inner = i + 1; inner < b->n && b->items[inner].start <= last; inner++)
			;
		uint64_t e = build_range(&bd, start, direct_bits, i + 1, inner, b->items[i].cls, 0);

		lk->nodes[base_node + c] = e; /* after the call: building may move lk->nodes */
	}
	return bd.err;
}

int tg_lookup_build(const struct tg_image *img, struct tg_lookup *lk)
{
	struct bounds b[2] = { { 0 }, { 0 } };
	size_t direct[2];
	int err;

	memset(lk, 0, sizeof(*lk));
	/* Both direct tables first, IPv4's then IPv6's; the tables follow. */
	for (int f = 0; f < 2; f++) {
		prefixes_to_bounds(img, f, &b[f]);
		lk->nranges[f] = b[f].n;
		lk->info.direct_bits[f] = direct_bits_for(b[f].n);
		direct[f] = (size_t)1 << lk->info.direct_bits[f];
	}
	/* Room for what a random feed needs, reserved once: growing by copies
	 * costs a large policy's reload more than building does. Pages that stay
	 * unused are never touched. */
	grow_nodes(lk, direct[0] + direct[1] + b[0].n + b[1].n);
	lk->nnodes = direct[0] + direct[1];
	lk->blocks4_cap = b[0].n;
	lk->blocks4 = xmalloc((b[0].n ? b[0].n : 1) * sizeof(*lk->blocks4));
	lk->blocks6_cap = b[1].n;
	lk->blocks6 = xmalloc((b[1].n ? b[1].n : 1) * sizeof(*lk->blocks6));
	err = build_family(lk, &b[TG_FAMILY_V4], TG_FAMILY_V4, 0) ?:
		      build_family(lk, &b[TG_FAMILY_V6], TG_FAMILY_V6, direct[0]);
	free(b[0].items);
	free(b[1].items);
	if (err)
		tg_lookup_free(lk);
	return err;
}

void tg_lookup_free(struct tg_lookup *lk)
{
	free(lk->nodes);
	free(lk->blocks4);
	free(lk->blocks6);
	memset(lk, 0, sizeof(*lk));
}

size_t tg_lookup_bytes(const struct tg_lookup *lk)
{
	return lk->nnodes * sizeof(*lk->nodes) + lk->nblocks4 * sizeof(*lk->blocks4) +
	       lk->nblocks6 * sizeof(*lk->blocks6);
}

/* -------------------------------------------------------------- lookup */

uint32_t tg_lookup_find(const struct tg_lookup *lk, int family, const uint8_t *addr)
{
	unsigned bits = family_bits(family), depth = lk->info.direct_bits[family];
	u128 a = address_value(family, addr);
	size_t base = family == TG_FAMILY_V4 ? 0 : (size_t)1 << lk->info.direct_bits[TG_FAMILY_V4];
	uint64_t e = lk->nodes[base + (size_t)(a >> (bits - depth))];

	while (tg_lk_kind(e) == TG_LK_TABLE) {
		uint32_t nibble = (uint32_t)(a >> (bits - depth - TG_LK_STRIDE)) & (TG_LK_FANOUT - 1);

		e = lk->nodes[tg_lk_child(e, nibble)];
		depth += TG_LK_STRIDE;
	}
	if (tg_lk_kind(e) != TG_LK_BLOCK_ENTRY)
		return (uint32_t)e;
	if (family == TG_FAMILY_V4)
		return tg_lk_search4(&lk->blocks4[tg_lk_block_index(e)], (uint32_t)a, (uint32_t)e & 0xffff);
	return tg_lk_search6(&lk->blocks6[tg_lk_block_index(e)], (uint64_t)(a >> 64), (uint64_t)a,
			     (uint32_t)e & 0xffff);
}
