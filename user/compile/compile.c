// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Policy -> map image. Peers become a partition of the address space into
 * LPM prefixes whose value is the mask of every service covering them
 * (longest match must carry the shorter prefixes' services too). Protocols
 * and ports become classes in the flat l4 array. Equal masks share a class.
 */
#include "compile/compile.h"
#include "compile/analyse.h"
#include "lib/util.h"

#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------ mask pool */

struct mask_pool {
	struct tg_mask *masks;
	uint32_t n, cap;
	uint32_t *buckets; /* open addressing: class + 1, 0 = free */
	uint32_t nbuckets;
};

static uint64_t mask_hash(const struct tg_mask *m)
{
	uint64_t h = 0x9e3779b97f4a7c15ull;

	for (int i = 0; i < TG_MASK_WORDS; i++) {
		h ^= m->w[i];
		h *= 0xff51afd7ed558ccdull;
		h ^= h >> 32;
	}
	return h;
}

static void pool_rehash(struct mask_pool *pool)
{
	uint32_t nbuckets = pool->nbuckets ? pool->nbuckets * 2 : 64;

	free(pool->buckets);
	pool->buckets = xcalloc(nbuckets, sizeof(uint32_t));
	pool->nbuckets = nbuckets;
	for (uint32_t c = 0; c < pool->n; c++) {
		uint32_t i = (uint32_t)mask_hash(&pool->masks[c]) & (nbuckets - 1);

		while (pool->buckets[i])
			i = (i + 1) & (nbuckets - 1);
		pool->buckets[i] = c + 1;
	}
}

static uint32_t pool_intern(struct mask_pool *pool, const struct tg_mask *m)
{
	uint32_t i;

	if ((pool->n + 1) * 2 > pool->nbuckets)
		pool_rehash(pool);
	i = (uint32_t)mask_hash(m) & (pool->nbuckets - 1);
	while (pool->buckets[i]) {
		uint32_t c = pool->buckets[i] - 1;

		if (memcmp(&pool->masks[c], m, sizeof(*m)) == 0)
			return c;
		i = (i + 1) & (pool->nbuckets - 1);
	}
	VEC_PUSH(pool->masks, pool->n, pool->cap, *m);
	pool->buckets[i] = pool->n;
	return pool->n - 1;
}

static void pool_init(struct mask_pool *pool)
{
	struct tg_mask empty = { 0 };

	memset(pool, 0, sizeof(*pool));
	pool_intern(pool, &empty); /* class 0: no service */
}

static void pool_free(struct mask_pool *pool)
{
	free(pool->masks);
	free(pool->buckets);
}

static void mask_or(struct tg_mask *dst, const struct tg_mask *src)
{
	for (int i = 0; i < TG_MASK_WORDS; i++)
		dst->w[i] |= src->w[i];
}

static bool mask_empty(const struct tg_mask *m)
{
	for (int i = 0; i < TG_MASK_WORDS; i++)
		if (m->w[i])
			return false;
	return true;
}

/* ------------------------------------------------------------- prefixes */

struct prefix_entry {
	uint8_t addr[16];
	uint8_t prefixlen;
	uint32_t own; /* class in the "own" pool: services that list it directly */
};

struct prefix_entries {
	struct prefix_entry *items;
	size_t n, cap;
};

struct peer_builder {
	const struct tg_policy *pol;
	const struct tg_hostmap *hosts;
	struct mask_pool own;
	struct prefix_entries fam[2];
	size_t unresolved_hosts;
};

static void emit(struct peer_builder *b, int family, const uint8_t *addr, unsigned prefixlen, uint32_t own)
{
	struct prefix_entry e = { .prefixlen = (uint8_t)prefixlen, .own = own };

	memcpy(e.addr, addr, family == TG_FAMILY_V4 ? 4 : 16);
	VEC_PUSH(b->fam[family].items, b->fam[family].n, b->fam[family].cap, e);
}

static void emit_peer(struct peer_builder *b, const struct tg_peer *peer, uint32_t own)
{
	static const uint8_t zero[16];
	bool found = false;

	switch (peer->kind) {
	case TG_PEER_V4:
		emit(b, TG_FAMILY_V4, peer->addr, peer->prefixlen, own);
		break;
	case TG_PEER_V6:
		emit(b, TG_FAMILY_V6, peer->addr, peer->prefixlen, own);
		break;
	case TG_PEER_ANY:
		emit(b, TG_FAMILY_V4, zero, 0, own);
		emit(b, TG_FAMILY_V6, zero, 0, own);
		break;
	case TG_PEER_HOST:
		for (size_t i = 0; b->hosts && i < b->hosts->n; i++) {
			const struct tg_host_addr *h = &b->hosts->items[i];

			if (strcmp(h->name, peer->name) != 0)
				continue;
			found = true;
			emit(b, h->v6 ? TG_FAMILY_V6 : TG_FAMILY_V4, h->addr, h->v6 ? 128 : 32, own);
		}
		if (!found)
			b->unresolved_hosts++;
		break;
	case TG_PEER_SET:
		break; /* sets emit their own elements once, with all their users */
	}
}

/* Marks every set reachable from list as used by the service bit. */
static void mark_sets(const struct tg_policy *pol, const struct tg_peer_list *list, unsigned bit,
		      struct tg_mask *set_masks)
{
	for (size_t i = 0; i < list->n; i++) {
		int s = list->items[i].set;

		if (list->items[i].kind != TG_PEER_SET || s < 0 || tg_mask_test(&set_masks[s], bit))
			continue;
		tg_mask_set(&set_masks[s], bit);
		mark_sets(pol, &pol->sets[s].peers, bit, set_masks);
	}
}

static void collect_peers(struct peer_builder *b)
{
	const struct tg_policy *pol = b->pol;
	struct tg_mask *set_masks = xcalloc(pol->nsets ? pol->nsets : 1, sizeof(*set_masks));

	for (unsigned s = 0; s < pol->nservices; s++) {
		struct tg_mask own = { 0 };
		uint32_t cls;

		tg_mask_set(&own, s);
		cls = pool_intern(&b->own, &own);
		for (size_t i = 0; i < pol->services[s].peers.n; i++)
			emit_peer(b, &pol->services[s].peers.items[i], cls);
		mark_sets(pol, &pol->services[s].peers, s, set_masks);
	}
	for (size_t i = 0; i < pol->nsets; i++) {
		uint32_t cls;

		if (mask_empty(&set_masks[i]))
			continue;
		cls = pool_intern(&b->own, &set_masks[i]);
		for (size_t k = 0; k < pol->sets[i].peers.n; k++)
			emit_peer(b, &pol->sets[i].peers.items[k], cls);
	}
	free(set_masks);
}

static uint64_t be64_at(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return be64toh(v);
}

/* Two integer comparisons rather than a memcmp call: sorting a million
 * prefixes is most of a large policy's compile time. */
static int cmp_prefix_entry(const void *a, const void *b)
{
	const struct prefix_entry *x = a, *y = b;
	uint64_t xh = be64_at(x->addr), yh = be64_at(y->addr), xl, yl;

	if (xh != yh)
		return xh < yh ? -1 : 1;
	xl = be64_at(x->addr + 8);
	yl = be64_at(y->addr + 8);
	if (xl != yl)
		return xl < yl ? -1 : 1;
	return (int)x->prefixlen - (int)y->prefixlen;
}

static bool contains(const struct prefix_entry *outer, const struct prefix_entry *inner)
{
	unsigned full = outer->prefixlen / 8, rest = outer->prefixlen % 8;

	if (outer->prefixlen > inner->prefixlen || memcmp(outer->addr, inner->addr, full) != 0)
		return false;
	return !rest || ((outer->addr[full] ^ inner->addr[full]) & (uint8_t)(0xff00 >> rest)) == 0;
}

/* Key byte `pass` of an entry, least significant first: the length, then
 * the address from its last byte to its first. */
static uint8_t sort_byte(const struct prefix_entry *e, unsigned pass)
{
	return pass ? e->addr[16 - pass] : e->prefixlen;
}

/*
 * Sorts by address then length (cmp_prefix_entry's order): a radix sort,
 * least significant byte first, skipping the bytes every entry shares (the
 * last twelve of every IPv4 address). A comparison sort of a million
 * prefixes took a quarter of a large policy's reload.
 */
static void sort_prefix_entries(struct prefix_entries *es)
{
	struct prefix_entry *tmp = xmalloc((es->n ? es->n : 1) * sizeof(*tmp));

	for (unsigned pass = 0; pass <= 16; pass++) {
		size_t count[256] = { 0 }, pos[256], at = 0;

		for (size_t i = 0; i < es->n; i++)
			count[sort_byte(&es->items[i], pass)]++;
		if (es->n == 0 || count[sort_byte(&es->items[0], pass)] == es->n)
			continue; /* one value: the order stands */
		for (unsigned b = 0; b < 256; b++) {
			pos[b] = at;
			at += count[b];
		}
		for (size_t i = 0; i < es->n; i++)
			tmp[pos[sort_byte(&es->items[i], pass)]++] = es->items[i];
		memcpy(es->items, tmp, es->n * sizeof(*tmp));
	}
	free(tmp);
}

/*
 * Sorted by address then length, each prefix follows the prefixes that
 * contain it, so a stack of open prefixes gives every prefix the services of
 * all that cover it. A prefix that adds nothing to its parent is dropped.
 */
static void build_family(struct peer_builder *b, int family, struct mask_pool *pool, struct tg_image *img)
{
	struct prefix_entries *es = &b->fam[family];
	struct {
		size_t entry;
		uint32_t cls;
	} *stack = xmalloc(129 * sizeof(*stack));
	size_t depth = 0, n = 0, cap = 0, merged = 0;
	struct tg_image_prefix *out = NULL;

	sort_prefix_entries(es);
	/* Merge duplicates: one prefix, the union of its listers. */
	for (size_t i = 0; i < es->n; i++) {
		if (merged && cmp_prefix_entry(&es->items[merged - 1], &es->items[i]) == 0) {
			struct tg_mask m = b->own.masks[es->items[merged - 1].own];

			mask_or(&m, &b->own.masks[es->items[i].own]);
			es->items[merged - 1].own = pool_intern(&b->own, &m);
		} else {
			es->items[merged++] = es->items[i];
		}
	}
	es->n = merged;
	for (size_t i = 0; i < es->n; i++) {
		struct prefix_entry *e = &es->items[i];
		struct tg_mask eff = b->own.masks[e->own];
		uint32_t cls;

		while (depth && !contains(&es->items[stack[depth - 1].entry], e))
			depth--;
		if (depth)
			mask_or(&eff, &pool->masks[stack[depth - 1].cls]);
		cls = pool_intern(pool, &eff);
		if (!depth || cls != stack[depth - 1].cls) {
			struct tg_image_prefix p = { .prefixlen = e->prefixlen, .cls = cls };

			memcpy(p.addr, e->addr, 16);
			VEC_PUSH(out, n, cap, p);
		}
		stack[depth].entry = i;
		stack[depth].cls = cls;
		depth++;
	}
	free(stack);
	img->prefixes[family] = out;
	img->nprefixes[family] = n;
}

/* ------------------------------------------------------------------- l4 */

struct interval {
	uint32_t lo, hi;
	unsigned service;
};

struct intervals {
	struct interval *items;
	size_t n, cap;
};

static void add_interval(struct intervals *iv, uint32_t lo, uint32_t hi, unsigned service)
{
	struct interval i = { lo, hi, service };

	VEC_PUSH(iv->items, iv->n, iv->cap, i);
}

/* What service svc contributes to one row of one role's table. */
static void row_intervals(const struct tg_service *svc, unsigned s, int role, int row, struct intervals *iv)
{
	unsigned typed = row == TG_ROW_ICMP ? TG_P_ICMP : TG_P_ICMPV6;

	if (row < TG_PORT_ROWS) {
		unsigned bit = row == TG_ROW_TCP ? TG_P_TCP : row == TG_ROW_UDP ? TG_P_UDP : TG_P_SCTP;

		if (svc->protos & TG_P_ANY || ((svc->protos & bit) && svc->nranges == 0))
			add_interval(iv, 0, 65535, s);
		else if (svc->protos & bit)
			for (size_t i = 0; i < svc->nranges; i++)
				add_interval(iv, svc->ranges[i].lo, svc->ranges[i].hi, s);
	} else if (row == TG_ROW_OTHER) {
		if (svc->protos & TG_P_ANY)
			add_interval(iv, 0, 255, s);
		else if (svc->protos & TG_P_NUMBER)
			add_interval(iv, svc->proto_number, svc->proto_number, s);
	} else if (svc->protos & TG_P_ANY || ((svc->protos & typed) && svc->nranges == 0)) {
		add_interval(iv, 0, 255, s);
	} else if (svc->protos & typed) {
		for (size_t i = 0; i < svc->nranges; i++)
			for (uint32_t t = svc->ranges[i].lo; t <= svc->ranges[i].hi; t++) {
				int reply = tg_icmp_reply_type(row == TG_ROW_ICMPV6, t);

				if (role == TG_ROLE_REQUEST)
					add_interval(iv, t, t, s);
				else if (reply >= 0)
					add_interval(iv, (uint32_t)reply, (uint32_t)reply, s);
			}
	}
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* Cuts [0, space) at every interval edge; each piece gets one class. */
static void fill_row(struct mask_pool *pool, const struct intervals *iv, uint32_t space, uint32_t *table)
{
	uint32_t *cuts = xmalloc((2 * iv->n + 2) * sizeof(uint32_t));
	size_t ncuts = 0;

	cuts[ncuts++] = 0;
	cuts[ncuts++] = space;
	for (size_t i = 0; i < iv->n; i++) {
		cuts[ncuts++] = iv->items[i].lo;
		cuts[ncuts++] = iv->items[i].hi + 1;
	}
	qsort(cuts, ncuts, sizeof(*cuts), cmp_u32);
	for (size_t c = 0; c + 1 < ncuts; c++) {
		struct tg_mask m = { 0 };
		uint32_t cls;

		if (cuts[c] == cuts[c + 1])
			continue;
		for (size_t i = 0; i < iv->n; i++)
			if (iv->items[i].lo <= cuts[c] && cuts[c] <= iv->items[i].hi)
				tg_mask_set(&m, iv->items[i].service);
		cls = pool_intern(pool, &m);
		for (uint32_t v = cuts[c]; v < cuts[c + 1]; v++)
			table[v] = cls;
	}
	free(cuts);
}

static void build_role_tables(const struct tg_policy *pol, const struct tg_image *img, struct mask_pool *pool)
{
	struct intervals iv = { 0 };

	for (int role = TG_ROLE_REQUEST; role <= TG_ROLE_REPLY; role++)
		for (int row = 0; row < TG_L4_ROWS; row++) {
			uint32_t space = row < TG_PORT_ROWS ? TG_PORT_SPACE : TG_SMALL_SPACE;

			iv.n = 0;
			for (unsigned s = 0; s < pol->nservices; s++)
				if (img->services[s].role == role)
					row_intervals(&pol->services[s], s, role, row, &iv);
			fill_row(pool, &iv, space, img->l4 + tg_l4_index((uint32_t)role, (uint32_t)row, 0));
		}
	free(iv.items);
}

static bool service_has_protocol(const struct tg_service *svc, int family, unsigned proto)
{
	if (svc->protos & TG_P_ANY)
		return true;
	if ((svc->protos & TG_P_NUMBER) && svc->proto_number == proto)
		return true;
	switch (proto) {
	case IPPROTO_TCP:
		return svc->protos & TG_P_TCP;
	case IPPROTO_UDP:
		return svc->protos & TG_P_UDP;
	case IPPROTO_SCTP:
		return svc->protos & TG_P_SCTP;
	case IPPROTO_ICMP:
		return family == TG_FAMILY_V4 && (svc->protos & TG_P_ICMP);
	case IPPROTO_ICMPV6:
		return family == TG_FAMILY_V6 && (svc->protos & TG_P_ICMPV6);
	}
	return false;
}

/* Non-first fragments: protocol and peers only, either role. */
static void build_fragment_table(const struct tg_policy *pol, struct mask_pool *pool, uint32_t *l4)
{
	for (int family = 0; family < 2; family++)
		for (unsigned proto = 0; proto < TG_SMALL_SPACE; proto++) {
			struct tg_mask m = { 0 };

			for (unsigned s = 0; s < pol->nservices; s++)
				if (service_has_protocol(&pol->services[s], family, proto))
					tg_mask_set(&m, s);
			l4[tg_frag_index((uint32_t)family, proto)] = pool_intern(pool, &m);
		}
}

/* ---------------------------------------------------------------- compile */

int tg_service_role(int direction, int facing)
{
	bool request = facing == TG_FACING_OUTSIDE ? direction == TG_DIR_IN : direction == TG_DIR_OUT;

	return request ? TG_ROLE_REQUEST : TG_ROLE_REPLY;
}

int tg_compile(const struct tg_policy *pol, int facing, const struct tg_hostmap *hosts, struct tg_image *img)
{
	struct peer_builder b = { .pol = pol, .hosts = hosts };
	struct mask_pool pool;

	memset(img, 0, sizeof(*img));
	if (pol->nservices > TG_MAX_SERVICES)
		return -E2BIG;
	img->facing = facing;
	memcpy(img->settings, pol->setting, sizeof(img->settings));
	img->nservices = (uint32_t)pol->nservices;
	img->services = xcalloc(pol->nservices, sizeof(*img->services));
	for (unsigned s = 0; s < pol->nservices; s++) {
		img->services[s].name = pol->services[s].name;
		img->services[s].action = pol->services[s].action == TG_ALLOW ? TG_PASS : TG_DROP;
		img->services[s].role = (uint8_t)tg_service_role(pol->services[s].direction, facing);
		img->services[s].counter_slot = s;
	}
	pool_init(&pool);
	pool_init(&b.own);
	collect_peers(&b);
	for (int family = 0; family < 2; family++) {
		build_family(&b, family, &pool, img);
		free(b.fam[family].items);
	}
	img->unresolved_hosts = b.unresolved_hosts;
	pool_free(&b.own);
	img->l4 = xcalloc(TG_L4_ENTRIES, sizeof(uint32_t));
	build_role_tables(pol, img, &pool);
	build_fragment_table(pol, &pool, img->l4);
	img->masks = pool.masks;
	img->nmasks = pool.n;
	free(pool.buckets);
	/* The program's class array has a fixed size, so its lookups are inlined. */
	if (img->nmasks > TG_MAX_CLASSES) {
		tg_image_free(img);
		return -EDOM;
	}
	tg_image_analyse(img);
	return 0;
}
