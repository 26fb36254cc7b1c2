// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * tollgate's data plane: parse, classify against the compiled policy, count,
 * pass or drop. The semantics are docs/policy.md's; the map layout is
 * include/tollgate.h's; parsing is in parse.h.
 */
#include "parse.h"
#include "bench.h"

#include <linux/pkt_cls.h> /* TC_ACT_UNSPEC */

/*
 * Fixed for the life of an attachment: constants at load time, so dead paths
 * are pruned. Everything a reload changes lives in the generation maps below.
 */
const volatile __u32 cfg_facing = TG_FACING_OUTSIDE;
const volatile __u32 cfg_trace = 0;
/* Set where the kernel has multi-buffer XDP (5.18): jumbo frames then span
 * fragments, headers stay in the linear part, and lengths come from the
 * helper. Left 0, the helper call is dead code and older kernels load us. */
const volatile __u32 cfg_multi_buffer = 0;
/* make bench only: rewrite each frame's remote address from a trace. */
const volatile __u32 cfg_bench = 0;
/* Test runs and replay: the time comes from the `clock` map, so flow
 * timeouts follow a capture's timestamps (or a test's) instead of the host. */
const volatile __u32 cfg_clock_from_map = 0;
/* Set where the kernel has bpf_ktime_get_coarse_ns (5.11): flow timeouts
 * are seconds, and the coarse clock costs no TSC read (~30 ns in a VM). */
const volatile __u32 cfg_coarse_clock = 0;
/* Half the flow_hints slot count, minus one: fixed by the loader to the
 * size of the pinned array this program shares. */
const volatile __u32 cfg_flow_hint_half_mask = 0;
/* tollgate trace: 0 only for make bench's comparison without it. */
const volatile __u32 cfg_live_trace = 1;
/* Set where the kernel has bpf_xdp_load_bytes (5.18): traced events carry
 * the frame's first bytes (addresses, --pcap); older kernels send none. */
const volatile __u32 cfg_trace_load_bytes = 0;

/*
 * Generations. This program is loaded once per attachment and never
 * replaced; a policy is a set of inner maps, one per outer map below, all at
 * the same index (a "generation slot"). `active` names the slot in force. A
 * reload fills the other slot with new inner maps and then stores its index
 * in `active`: one atomic switch. Each packet reads `active` once, so it
 * meets exactly one generation. The loader creates the inner maps from these
 * templates (bpf_map__inner_map), so their layout is declared only here
 * (sizes rather than BTF types: clang leaves types that only an inner map
 * names as forward declarations, which libbpf cannot size).
 */
/* The peer lookup (include/tollgate.h): one array of 64-byte nodes sized to
 * each policy, which BPF_F_INNER_MAP allows, and mmapable so that the loader
 * writes it in bulk and its nodes start on cache lines. */
struct gen_peer_nodes_map {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_INNER_MAP | BPF_F_MMAPABLE);
	__uint(max_entries, 1); /* sized to each policy */
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(struct tg_lk_node));
};

/* The fine filter (include/tollgate.h): the same size for every policy and
 * without BPF_F_INNER_MAP, so that the verifier inlines its lookup. */
struct gen_peer_fine_map {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 2 * TG_LK_FINE_WORDS);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u64));
};

/* The l4 array and the masks are mmapable too: a reload writes them with
 * one copy each. */
struct gen_l4_map {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, TG_L4_ENTRIES);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
};

struct gen_masks_map {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, TG_MAX_CLASSES);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(struct tg_mask));
};

struct gen_policy_map {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(struct tg_policy_table));
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, TG_GEN_SLOTS);
	__type(key, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
	__array(values, struct gen_peer_nodes_map);
} gen_peer_nodes SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, TG_GEN_SLOTS);
	__type(key, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
	__array(values, struct gen_peer_fine_map);
} gen_peer_fine SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, TG_GEN_SLOTS);
	__type(key, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
	__array(values, struct gen_l4_map);
} gen_l4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, TG_GEN_SLOTS);
	__type(key, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
	__array(values, struct gen_masks_map);
} gen_masks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, TG_GEN_SLOTS);
	__type(key, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
	__array(values, struct gen_policy_map);
} gen_policy SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32); /* the generation slot in force */
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} active SEC(".maps");

/* ------------------------------------------------- state of an attachment */

/* Counters belong to the attachment, not to a generation: a reload keeps
 * them by service name through `slots`. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, TG_MAX_COUNTER_SLOTS);
	__type(key, __u32);
	__type(value, struct tg_service_counters);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} service_counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, TG_REASONS);
	__type(key, __u32);
	__type(value, struct tg_reason_counters);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} reason_counters SEC(".maps");

/* Frames that found no generation in force: only while the state is broken. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} orphans SEC(".maps");

/* The loader's records; the program never reads them. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct tg_meta);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} meta SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, TG_MAX_COUNTER_SLOTS);
	__type(key, __u32);
	__type(value, struct tg_slot);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} slots SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, TG_MAX_HOSTS);
	__type(key, __u32);
	__type(value, struct tg_host_state);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} hosts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct tg_trace);
} trace SEC(".maps");

/* ---------------------------------------------------------- live trace */

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct tg_tracers);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} tracers SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, TG_TRACERS);
	__type(key, __u32);
	__type(value, struct tg_trace_rate);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} trace_rate SEC(".maps");

/* The event is built once here, not on the stack (it is most of the 512
 * bytes a BPF stack has), and copied to each tracer's ring. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct tg_trace_event);
} trace_scratch SEC(".maps");

#define TRACE_RING(n)                                     \
	struct {                                          \
		__uint(type, BPF_MAP_TYPE_RINGBUF);       \
		__uint(max_entries, TG_TRACE_RING_BYTES); \
		__uint(pinning, LIBBPF_PIN_BY_NAME);      \
	} trace_ring##n SEC(".maps")

TRACE_RING(0);
TRACE_RING(1);
TRACE_RING(2);
TRACE_RING(3);

/* ------------------------------------------------------------- flows */

/* One LRU table per opener (enum tg_opener), shared by every attachment of
 * the host: the loader pins them once under TG_PIN_ROOT (the sizes are the
 * `flow-table` setting of the policy that created them). Two tables, so
 * that a flood of remote-opened flows can only evict remote-opened flows. */
struct flow_map {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, TG_FLOW_TABLE_DEFAULT);
	__type(key, struct tg_flow_key);
	__type(value, struct tg_flow);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
};

struct flow_map flows_out SEC(".maps"); /* TG_OPENED_LOCAL */
struct flow_map flows_in SEC(".maps");	/* TG_OPENED_REMOTE */

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, TG_OPENERS);
	__type(key, __u32);
	__type(value, struct tg_flow_stats);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} flow_stats SEC(".maps");

/* The expiry hints in front of both tables (include/tollgate.h), shared and
 * pinned with them; sized by the loader with tg_flow_hint_slots(). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} flow_hints SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} clock SEC(".maps");

/* The generation in force: its slot, read once per packet, and its policy
 * table. The other inner maps are looked up at that slot when needed, so a
 * packet decided early (non-IP, essential ICMP, no peer) reads no more. */
struct generation {
	__u32 slot;
	struct tg_policy_table *policy;
};

struct decision {
	__u32 verdict;
	__u32 reason;
	__u32 service;
	__u32 role;
	__u32 counter_slot; /* the service's, looked up once with its action */
};

/* ------------------------------------------------------------- lookup */

/* The generation in force; 0 when the state is broken (no slot filled). */
static __always_inline int current_generation(struct generation *g)
{
	__u32 zero = 0, *slot = bpf_map_lookup_elem(&active, &zero);
	void *policy_map;

	if (!slot)
		return 0;
	g->slot = *slot; /* read once: every lookup below uses the same slot */
	policy_map = bpf_map_lookup_elem(&gen_policy, &g->slot);
	g->policy = policy_map ? bpf_map_lookup_elem(policy_map, &zero) : 0;
	return g->policy != 0;
}

/*
 * The peer lookup (include/tollgate.h). Global functions: the verifier
 * checks each once, whatever state its callers are in, and a caller sees
 * only an unknown class (the masks map bounds it). Every read is an array
 * lookup that may fail, so a broken generation yields class 0, the default.
 * A node is read whole and searched without branches (tg_lk_search4/6).
 */
/* What peer_class_v4/v6 return for an address the used-block filter
 * (include/tollgate.h) stops: the caller gives it the filter's class. */
#define PEER_UNUSED_BLOCK 0xffffffffu

/* The used-block filter: whether the block may hold a class other than the
 * filter's. A failed read says "may", which sends the address on to the
 * nodes. */
static __always_inline int block_maybe_used(void *nodes, __u32 block, __u32 filter_base)
{
	__u32 index = filter_base + (block >> 9);
	struct tg_lk_node *n = bpf_map_lookup_elem(nodes, &index);

	return !n || tg_lk_block_used(n, block);
}

/* `bits` packs the direct table's bits (0-7) and the filter's (8-15). */
__noinline __u32 peer_class_v4(__u32 slot, __u32 addr, __u32 bits, __u32 filter_base)
{
	void *nodes = bpf_map_lookup_elem(&gen_peer_nodes, &slot);
	__u32 depth = bits & 0xff, filter_bits = bits >> 8 & 0xff, index;
	struct tg_lk_node *n;

	if (!nodes || depth < TG_LK_DIRECT_MIN || depth > TG_LK_DIRECT_MAX || filter_bits > TG_LK_FILTER_BITS_MAX)
		return 0;
	if (filter_bits && !block_maybe_used(nodes, addr >> (32 - filter_bits), filter_base))
		return PEER_UNUSED_BLOCK;
	index = addr >> (32 - depth);
	n = bpf_map_lookup_elem(nodes, &index);
	for (int level = 0; level < TG_LK_LEVELS_V4 && n && tg_lk_kind(n->head) == TG_LK_TABLE && depth < 32; level++) {
		__u32 stride = tg_lk_stride(n->head);

		if (stride > 32 - depth)
			return 0;
		index = tg_lk_first(n->head) + ((addr << depth) >> (32 - stride));
		depth += stride;
		n = bpf_map_lookup_elem(nodes, &index);
	}
	if (!n || tg_lk_kind(n->head) != TG_LK_BOUNDS_NODE)
		return 0;
	return tg_lk_search4(&n->v4, addr);
}

/* `bits` packs the direct table's bits (0-7), the filter's (8-15) and
 * IPv4's direct table's (16-23), after which IPv6's starts. */
__noinline __u32 peer_class_v6(__u32 slot, __u64 hi, __u64 lo, __u32 bits, __u32 filter_base)
{
	void *nodes = bpf_map_lookup_elem(&gen_peer_nodes, &slot);
	__u32 depth = bits & 0xff, filter_bits = bits >> 8 & 0xff, v4_bits = bits >> 16 & 0xff, index;
	struct tg_lk_node *n;

	if (!nodes || depth < TG_LK_DIRECT_MIN || depth > TG_LK_DIRECT_MAX || v4_bits > TG_LK_DIRECT_MAX ||
	    filter_bits > TG_LK_FILTER_BITS_MAX)
		return 0;
	if (filter_bits && !block_maybe_used(nodes, (__u32)(hi >> (64 - filter_bits)), filter_base))
		return PEER_UNUSED_BLOCK;
	index = (1u << v4_bits) + (__u32)(hi >> (64 - depth));
	n = bpf_map_lookup_elem(nodes, &index);
	for (int level = 0; level < TG_LK_LEVELS_V6 && n && tg_lk_kind(n->head) == TG_LK_TABLE && depth < 128;
	     level++) {
		__u32 stride = tg_lk_stride(n->head);

		if (stride > 128 - depth)
			return 0;
		index = tg_lk_first(n->head) + tg_lk_bits6(hi, lo, depth, stride);
		depth += stride;
		n = bpf_map_lookup_elem(nodes, &index);
	}
	if (!n || tg_lk_kind(n->head) != TG_LK_BOUNDS_NODE)
		return 0;
	return tg_lk_search6(&n->v6, hi, lo);
}

static __always_inline __u64 load_be64(const __u8 *p)
{
	__u64 v;

	__builtin_memcpy(&v, p, 8);
	return __builtin_bswap64(v);
}

/* The fine filter: whether a block may hold a class other than the
 * filter's. A failed read says "may", as block_maybe_used() does. */
static __always_inline int fine_block_maybe_used(struct generation *g, int family, __u32 block)
{
	__u32 key = tg_lk_fine_word(family, block);
	void *fine = bpf_map_lookup_elem(&gen_peer_fine, &g->slot);
	__u64 *word = fine ? bpf_map_lookup_elem(fine, &key) : 0;

	return !word || tg_lk_fine_used(*word, block);
}

/*
 * The one place that turns a remote address into a peer class. The coarse
 * filter is read here, in the policy table the packet already holds, then
 * the fine filter, whose lookup the verifier inlines: an address that
 * either filter stops costs no call.
 */
static __always_inline __u32 lookup_peer_class(struct generation *g, struct packet *pkt)
{
	const struct tg_lookup_info *info = &g->policy->lookup;
	int f = pkt->family == TG_FAMILY_V4 ? TG_FAMILY_V4 : TG_FAMILY_V6;
	__u32 bits = (info->direct_bits[f] & 0xff) | (info->filter_bits[f] & 0xff) << 8, cls;

	if (f == TG_FAMILY_V4) {
		__u8 *a = pkt_at(pkt, pkt->remote_off, 4);
		__u32 addr;

		if (!a)
			return 0;
		__builtin_memcpy(&addr, a, 4);
		addr = __builtin_bswap32(addr);
		if (!tg_lk_coarse_used(info, TG_FAMILY_V4, addr >> (32 - TG_LK_COARSE_BITS)) ||
		    !fine_block_maybe_used(g, TG_FAMILY_V4, addr >> (32 - TG_LK_FINE_BITS)))
			return info->filter_class[TG_FAMILY_V4];
		cls = peer_class_v4(g->slot, addr, bits, info->filter_base[f]);
	} else {
		__u8 *a = pkt_at(pkt, pkt->remote_off, 16);
		__u64 hi;

		if (!a)
			return 0;
		hi = load_be64(a);
		if (!tg_lk_coarse_used(info, TG_FAMILY_V6, (__u32)(hi >> (64 - TG_LK_COARSE_BITS))) ||
		    !fine_block_maybe_used(g, TG_FAMILY_V6, (__u32)(hi >> (64 - TG_LK_FINE_BITS))))
			return info->filter_class[TG_FAMILY_V6];
		bits |= (info->direct_bits[TG_FAMILY_V4] & 0xff) << 16;
		cls = peer_class_v6(g->slot, hi, load_be64(a + 8), bits, info->filter_base[f]);
	}
	return cls == PEER_UNUSED_BLOCK ? info->filter_class[f] : cls;
}

static __always_inline __u32 l4_class(struct generation *g, __u32 index)
{
	void *l4 = bpf_map_lookup_elem(&gen_l4, &g->slot);
	__u32 *cls = l4 ? bpf_map_lookup_elem(l4, &index) : 0;

	return cls ? *cls : 0;
}

/*
 * The index of x's lowest set bit (x != 0), without a branch: a de Bruijn
 * multiplication and a 64-entry table. The branchy binary search it
 * replaces gave the verifier a distinct constant service number on each of
 * 256 paths, and everything after the match (flows, counters) was verified
 * once per path; from the table the number is one unknown scalar.
 */
static const __u8 debruijn_lowest_bit[64] = {
	0,  1,	48, 2,	57, 49, 28, 3,	61, 58, 50, 42, 38, 29, 17, 4,	62, 55, 59, 36, 53, 51,
	43, 22, 45, 39, 33, 30, 24, 18, 12, 5,	63, 47, 56, 27, 60, 41, 37, 16, 54, 35, 52, 21,
	44, 32, 23, 11, 46, 26, 40, 15, 34, 20, 31, 10, 25, 14, 19, 9,	13, 8,	7,  6,
};

static __always_inline __u32 lowest_bit(__u64 x)
{
	return debruijn_lowest_bit[((x & -x) * 0x03f79d71b4cb0a89ull) >> 58];
}

/* The first service of a mask pair: a's bits and (b's or b2's; b2 may be
 * NULL). TG_NO_SERVICE if none. */
static __always_inline __u32 first_of(struct tg_mask *a, struct tg_mask *b, struct tg_mask *b2)
{
	__u32 w;

#pragma unroll
	for (w = 0; w < TG_MASK_WORDS; w++) {
		__u64 m = a->w[w] & (b->w[w] | (b2 ? b2->w[w] : 0));

		if (m)
			return w * 64 + lowest_bit(m);
	}
	return TG_NO_SERVICE;
}

/* First service in both masks (and in b2, if given): TG_NO_SERVICE if none.
 * The masks of a and b are kept in *ma, *mb for a second look. */
static __always_inline __u32 first_common(struct generation *g, __u32 a, __u32 b, __u32 b2, struct tg_mask **ma,
					  struct tg_mask **mb)
{
	void *masks = bpf_map_lookup_elem(&gen_masks, &g->slot);
	struct tg_mask *mb2;

	*ma = *mb = 0;
	if (!masks)
		return TG_NO_SERVICE;
	*ma = bpf_map_lookup_elem(masks, &a);
	*mb = bpf_map_lookup_elem(masks, &b);
	mb2 = bpf_map_lookup_elem(masks, &b2);
	if (!*ma || !*mb || !mb2)
		return TG_NO_SERVICE;
	return first_of(*ma, *mb, mb2);
}

/* The row of the l4 array this packet's protocol selects, and the values to
 * look up in it as a request and as a reply. */
static __always_inline __u32 l4_row(struct packet *pkt, __u32 *value_req, __u32 *value_rep)
{
	switch (pkt->protocol) {
	case IPPROTO_TCP:
		*value_req = pkt->dport;
		*value_rep = pkt->sport;
		return TG_ROW_TCP;
	case IPPROTO_UDP:
		*value_req = pkt->dport;
		*value_rep = pkt->sport;
		return TG_ROW_UDP;
	case IPPROTO_SCTP:
		*value_req = pkt->dport;
		*value_rep = pkt->sport;
		return TG_ROW_SCTP;
	}
	if (pkt->family == TG_FAMILY_V4 && pkt->protocol == IPPROTO_ICMP) {
		*value_req = *value_rep = pkt->icmp_type;
		return TG_ROW_ICMP;
	}
	if (pkt->family == TG_FAMILY_V6 && pkt->protocol == IPPROTO_ICMPV6) {
		*value_req = *value_rep = pkt->icmp_type;
		return TG_ROW_ICMPV6;
	}
	*value_req = *value_rep = pkt->protocol;
	return TG_ROW_OTHER;
}

static __always_inline int is_own_icmp(struct packet *pkt)
{
	return pkt->family == TG_FAMILY_V4 ? pkt->protocol == IPPROTO_ICMP : pkt->protocol == IPPROTO_ICMPV6;
}

static __always_inline int is_essential_icmp(struct packet *pkt)
{
	__u32 t = pkt->icmp_type;

	if (pkt->family == TG_FAMILY_V4)
		return pkt->protocol == IPPROTO_ICMP && (t == 3 || t == 11 || t == 12);
	return pkt->protocol == IPPROTO_ICMPV6 && ((t >= 1 && t <= 4) || (t >= 133 && t <= 137));
}

/* The essential types that quote a packet; the others are neighbour discovery. */
static __always_inline int is_icmp_error(struct packet *pkt)
{
	return pkt->family == TG_FAMILY_V4 || pkt->icmp_type <= 4;
}

/* ICMP queries (echo and the old IPv4 ones) and their replies: the types
 * whose identifier keys a flow. A request type's reply is one more (IPv4:
 * 8 -> 0, 13 -> 14, 15 -> 16, 17 -> 18; IPv6: 128 -> 129). */
static __always_inline int icmp_query_reply(struct packet *pkt, __u32 type)
{
	if (pkt->family == TG_FAMILY_V6)
		return type == 128 ? 129 : -1;
	if (type == 8)
		return 0;
	return type == 13 || type == 15 || type == 17 ? (int)type + 1 : -1;
}

static __always_inline int icmp_reply_request(struct packet *pkt, __u32 type)
{
	if (pkt->family == TG_FAMILY_V6)
		return type == 129 ? 128 : -1;
	if (type == 0)
		return 8;
	return type == 14 || type == 16 || type == 18 ? (int)type - 1 : -1;
}

static __always_inline int is_icmp_query(struct packet *pkt)
{
	return is_own_icmp(pkt) &&
	       (icmp_query_reply(pkt, pkt->icmp_type) >= 0 || icmp_reply_request(pkt, pkt->icmp_type) >= 0);
}

static __always_inline void decide(struct decision *d, __u32 verdict, __u32 reason)
{
	d->verdict = verdict;
	d->reason = reason;
	d->service = TG_NO_SERVICE;
	d->role = TG_ROLE_REQUEST;
}

static __always_inline void decide_service(struct generation *g, struct decision *d, __u32 service, __u32 role_override,
					   __u32 reason)
{
	struct tg_service_entry *svc;

	if (service >= TG_MAX_SERVICES) {
		decide(d, g->policy->settings.default_verdict, TG_REASON_DEFAULT);
		return;
	}
	svc = &g->policy->services[service];
	d->verdict = svc->action;
	d->reason = reason;
	d->service = service;
	d->role = role_override < TG_ROLES ? role_override : svc->role;
	d->counter_slot = svc->counter_slot;
}

/* What a packet matched, kept for a second look when a reply has no flow. */
struct match {
	__u32 peer;
	__u32 req_cls;
	__u32 rep_cls;
	__u32 flipped;
	struct tg_mask *peer_mask, *req_mask; /* NULL unless the services were matched */
};

/*
 * The generation is compiled for the attachment's facing. A packet seen the
 * other way round (leaving through egress, or quoted in an ICMP error) is a
 * request where the compiled image expects a reply and the reverse: its
 * request ports are in the image's reply block, and an ICMP request type is
 * there as the reply it gets.
 */
static __always_inline __u32 l4_lookup(struct generation *g, struct packet *pkt, __u32 image_role, __u32 row,
				       __u32 value, __u32 flipped)
{
	int mapped = (int)value;

	if (flipped && (row == TG_ROW_ICMP || row == TG_ROW_ICMPV6))
		mapped = image_role == TG_ROLE_REPLY ? icmp_query_reply(pkt, value) : icmp_reply_request(pkt, value);
	if (mapped < 0)
		return 0;
	return l4_class(g, tg_l4_index(image_role, row, (__u32)mapped));
}

/* The l4 classes of the packet's ports (or type) as a request and as a
 * reply, in the packet's view. */
static __always_inline void l4_classes(struct generation *g, struct packet *pkt, struct match *m)
{
	__u32 row, value_req = 0, value_rep = 0;
	__u32 req_role = TG_ROLE_REQUEST, rep_role = TG_ROLE_REPLY;

	m->flipped = pkt->facing != cfg_facing;
	if (m->flipped) {
		req_role = TG_ROLE_REPLY;
		rep_role = TG_ROLE_REQUEST;
	}
	row = l4_row(pkt, &value_req, &value_rep);
	m->req_cls = l4_lookup(g, pkt, req_role, row, value_req, m->flipped);
	m->rep_cls = 0;
	/* A TCP segment without ACK (a SYN, say) is never a reply. */
	if (pkt->protocol != IPPROTO_TCP || (pkt->tcp_flags & TCP_ACK))
		m->rep_cls = l4_lookup(g, pkt, rep_role, row, value_rep, m->flipped);
}

/* Stateless: the first service that takes the packet, by ports and flags.
 * l4_classes() has filled m. */
static __always_inline void match_classes(struct generation *g, struct packet *pkt, struct decision *d, struct match *m)
{
	const struct tg_settings *set = &g->policy->settings;
	__u32 service;

	m->peer_mask = m->req_mask = 0;
	m->peer = lookup_peer_class(g, pkt);
	if (!m->peer)
		return decide(d, set->default_verdict, TG_REASON_DEFAULT);
	if (pkt->nonfirst_fragment) {
		service = first_common(g, m->peer, l4_class(g, tg_frag_index(pkt->family, pkt->protocol)), 0,
				       &m->peer_mask, &m->req_mask);
		if (service == TG_NO_SERVICE)
			return decide(d, set->default_verdict, TG_REASON_DEFAULT);
		return decide_service(g, d, service, TG_ROLE_FRAGMENT, TG_REASON_FRAGMENT);
	}
	service = first_common(g, m->peer, m->req_cls, m->rep_cls, &m->peer_mask, &m->req_mask);
	if (service == TG_NO_SERVICE)
		return decide(d, set->default_verdict, TG_REASON_DEFAULT);
	decide_service(g, d, service, TG_ROLES, TG_REASON_SERVICE);
	if (m->flipped)
		d->role ^= 1; /* request <-> reply */
}

static __always_inline void match_services(struct generation *g, struct packet *pkt, struct decision *d,
					   struct match *m)
{
	l4_classes(g, pkt, m);
	match_classes(g, pkt, d, m);
}

/* ------------------------------------------------------------- flows */

static __always_inline __u64 now_ns(void)
{
	__u32 zero = 0;
	__u64 *t;

	if (!cfg_clock_from_map)
		return cfg_coarse_clock ? bpf_ktime_get_coarse_ns() : bpf_ktime_get_ns();
	t = bpf_map_lookup_elem(&clock, &zero);
	return t ? *t : 0;
}

/* A flow's key, from the view's remote and local ends; 0 if unreadable. */
static __always_inline int flow_key(struct packet *pkt, struct tg_flow_key *k)
{
	__builtin_memset(k, 0, sizeof(*k));
	if (pkt->family == TG_FAMILY_V4) {
		__u8 *r = pkt_at(pkt, pkt->remote_off, 4), *l = pkt_at(pkt, pkt->local_off, 4);

		if (!r || !l)
			return 0;
		__builtin_memcpy(k->remote, r, 4);
		__builtin_memcpy(k->local, l, 4);
	} else {
		__u8 *r = pkt_at(pkt, pkt->remote_off, 16), *l = pkt_at(pkt, pkt->local_off, 16);

		if (!r || !l)
			return 0;
		__builtin_memcpy(k->remote, r, 16);
		__builtin_memcpy(k->local, l, 16);
	}
	k->family = (__u8)pkt->family;
	k->protocol = (__u8)pkt->protocol;
	if (pkt->protocol == IPPROTO_TCP || pkt->protocol == IPPROTO_UDP || pkt->protocol == IPPROTO_SCTP) {
		int from_remote = pkt->facing == TG_FACING_OUTSIDE;

		k->remote_port = (__u16)(from_remote ? pkt->sport : pkt->dport);
		k->local_port = (__u16)(from_remote ? pkt->dport : pkt->sport);
	} else if (is_icmp_query(pkt)) {
		k->local_port = (__u16)pkt->icmp_id;
	} else if (is_own_icmp(pkt)) {
		/* No query: opens no flow, and must not find an echo flow of
		 * identifier 0 (whose remote port is 0). */
		k->remote_port = (__u16)(256 + pkt->icmp_type);
	}
	return 1;
}

static __always_inline __u32 *flow_hint(const struct tg_flow_key *k, __u32 opener)
{
	__u32 slot = tg_flow_hint_index(k, opener, cfg_flow_hint_half_mask);

	return bpf_map_lookup_elem(&flow_hints, &slot);
}

/* 0 only when no flow of the slot's keys can be live; a missing slot
 * proves nothing. A slot no flow ever raised needs no clock. */
static __always_inline int hint_may_be_live(__u32 *hint)
{
	__u32 have;

	if (!hint)
		return 1;
	have = *hint;
	return have && have > tg_flow_hint_now(now_ns());
}

/* Raises the flow's slot to cover its expiry. Two CPUs raising one slot at
 * once may both add their difference: the slot then overshoots, which only
 * costs table lookups, where a plain store could lower it under a live flow.
 * An atomic add without fetch is the one atomic every supported kernel has. */
static __always_inline void hint_raise(__u32 *hint, __u64 expires_ns)
{
	__u32 want = tg_flow_hint_of(expires_ns), have;

	if (!hint)
		return;
	have = *(volatile __u32 *)hint;
	if (have < want)
		__sync_fetch_and_add(hint, want - have);
}

static __always_inline struct tg_flow_stats *flow_stats_of(__u32 opener)
{
	return bpf_map_lookup_elem(&flow_stats, &opener);
}

static __always_inline int key_is_own_icmp(const struct tg_flow_key *k)
{
	return k->family == TG_FAMILY_V4 ? k->protocol == IPPROTO_ICMP : k->protocol == IPPROTO_ICMPV6;
}

static __always_inline __u64 flow_timeout_ns(const struct tg_settings *set, const struct tg_flow_key *k,
					     struct tg_flow *f)
{
	__u32 t = TG_TIMEOUT_OTHER;

	if (k->protocol == IPPROTO_TCP)
		t = f->state == TG_FLOW_NEW	    ? TG_TIMEOUT_TCP_SYN :
		    f->state == TG_FLOW_ESTABLISHED ? TG_TIMEOUT_TCP_ESTABLISHED :
		    f->state == TG_FLOW_CLOSING	    ? TG_TIMEOUT_TCP_CLOSING :
						      TG_TIMEOUT_TCP_CLOSED;
	else if (k->protocol == IPPROTO_UDP)
		t = f->state == TG_FLOW_NEW ? TG_TIMEOUT_UDP : TG_TIMEOUT_UDP_STREAM;
	else if (key_is_own_icmp(k))
		t = TG_TIMEOUT_ICMP;
	return (__u64)set->timeout[t & (TG_TIMEOUTS - 1)] * 1000000000ull;
}

/* The state machine (docs/design.md, "Flows"): TCP follows the handshake
 * and the close; everything else is answered or not. */
static __always_inline void flow_step(struct tg_flow *f, __u32 protocol, __u32 flags, int from_opener)
{
	if (protocol != IPPROTO_TCP) {
		if (!from_opener)
			f->state = TG_FLOW_ESTABLISHED;
		return;
	}
	if (flags & TCP_RST) {
		f->state = TG_FLOW_CLOSED;
	} else if (from_opener && (flags & (TCP_SYN | TCP_ACK)) == TCP_SYN && f->state == TG_FLOW_CLOSED) {
		f->state = TG_FLOW_NEW; /* the same ports, opened again */
		f->flags = 0;
	} else if (flags & TCP_FIN) {
		f->flags |= from_opener ? TG_FLOW_FIN_OPENER : TG_FLOW_FIN_RESPONDER;
		if (f->state != TG_FLOW_CLOSED)
			f->state = TG_FLOW_CLOSING;
	} else if (!from_opener && (flags & (TCP_SYN | TCP_ACK)) == (TCP_SYN | TCP_ACK) && f->state == TG_FLOW_NEW) {
		f->state = TG_FLOW_ESTABLISHED;
	}
}

/* An allowed request: the sender opens (or refreshes) its flow. */
static __always_inline int flow_open(void *table, struct tg_flow_key *k, __u32 *hint, __u32 opener, __u32 flags,
				     const struct tg_settings *set)
{
	struct tg_flow fresh = {}, *f;
	struct tg_flow_stats *st;
	__u64 now = now_ns();

	f = bpf_map_lookup_elem(table, k);
	if (f && now < f->expires_ns) {
		flow_step(f, k->protocol, flags, 1);
		f->expires_ns = now + flow_timeout_ns(set, k, f);
		hint_raise(hint, f->expires_ns);
		return 1;
	}
	if (k->protocol == IPPROTO_TCP && (flags & TCP_RST))
		return 0; /* an RST opens nothing */
	/* TCP without a bare SYN is picked up mid-stream: the local side, or a
	 * request the policy admits, vouches for it (conntrack's loose mode). */
	if (k->protocol == IPPROTO_TCP && (flags & (TCP_SYN | TCP_ACK)) != TCP_SYN)
		fresh.state = TG_FLOW_ESTABLISHED;
	flow_step(&fresh, k->protocol, flags, 1);
	fresh.expires_ns = now + flow_timeout_ns(set, k, &fresh);
	hint_raise(hint, fresh.expires_ns);
	st = flow_stats_of(opener);
	if (st)
		st->created++;
	if (f) {
		*f = fresh; /* an expired flow's entry, reused */
		return 1;
	}
	if (!bpf_map_update_elem(table, k, &fresh, BPF_NOEXIST) && st)
		st->inserted++;
	return 1;
}

static __always_inline void count_no_flow(__u32 opener)
{
	struct tg_flow_stats *st = flow_stats_of(opener);

	if (st)
		st->no_flow++;
}

/* A reply whose hint allowed a flow: 1 when the receiver opened a live
 * flow; counts misses. Without settings, only looks. */
static __always_inline int flow_answer(void *table, struct tg_flow_key *k, __u32 *hint, __u32 opener, __u32 flags,
				       const struct tg_settings *set, int count_miss)
{
	struct tg_flow *f = bpf_map_lookup_elem(table, k);
	__u64 now = now_ns();

	if (!f || now >= f->expires_ns) {
		if (count_miss)
			count_no_flow(opener);
		return 0;
	}
	if (!set)
		return 1; /* a look, not an answer: nothing changes */
	flow_step(f, k->protocol, flags, 0);
	f->expires_ns = now + flow_timeout_ns(set, k, f);
	hint_raise(hint, f->expires_ns);
	return 1;
}

enum flow_op {
	FLOW_OPEN = 0,
	FLOW_ANSWER,
	FLOW_REFRESH, /* an answer whose miss is not counted */
	FLOW_LOOK,    /* is there a live flow? counts a miss, changes nothing */
};

static __always_inline int flow_op(void *table, struct tg_flow_key *k, __u32 *hint, __u32 op, __u32 opener,
				   __u32 tcp_flags, const struct tg_settings *set)
{
	if (op == FLOW_OPEN)
		return flow_open(table, k, hint, opener, tcp_flags, set);
	return flow_answer(table, k, hint, opener, tcp_flags, op == FLOW_LOOK ? 0 : set, op != FLOW_REFRESH);
}

/* flow_track()'s scalars in one argument: a BPF call takes five. */
static __always_inline __u32 flow_how(__u32 op, __u32 opener, __u32 tcp_flags)
{
	return op | opener << 4 | (tcp_flags & 0xff) << 8;
}

/*
 * Everything done to a flow, in one function that is not inlined: its body
 * is in the program once instead of at every call site. It stays static
 * (verified in its callers' context) rather than global, because a global
 * function taking pointers needs 5.12 and tollgate runs on 5.10; its
 * arguments are plain memory and scalars, no packet pointers. `hint` is
 * the key's flow_hints slot (NULL if none), looked up once by the caller.
 */
static __noinline int flow_track(struct tg_flow_key *k, __u32 *hint, __u32 how, const struct tg_settings *set)
{
	__u32 op = how & 0xf, opener = (how >> 4) & 0xf, tcp_flags = how >> 8;

	if (!k || !set)
		return 0;
	/* One body per table, each with its map known: a call site that may
	 * see either map gets no inlined lookup, and costs an indirect call. */
	if (opener == TG_OPENED_LOCAL)
		return flow_op(&flows_out, k, hint, op, TG_OPENED_LOCAL, tcp_flags, set);
	return flow_op(&flows_in, k, hint, op, TG_OPENED_REMOTE, tcp_flags, set);
}

/* The side that sent the packet, in the packet's view. */
static __always_inline __u32 sender(struct packet *pkt)
{
	return pkt->facing == TG_FACING_OUTSIDE ? TG_OPENED_REMOTE : TG_OPENED_LOCAL;
}

/* An allowed request opens its flow; ICMP errors and discovery open none. */
static __always_inline void open_flow_of(struct generation *g, struct packet *pkt)
{
	struct tg_flow_key k;

	if ((is_own_icmp(pkt) && !is_icmp_query(pkt)) || !flow_key(pkt, &k))
		return;
	flow_track(&k, flow_hint(&k, sender(pkt)), flow_how(FLOW_OPEN, sender(pkt), pkt->tcp_flags),
		   &g->policy->settings);
}

/* An allowed reply: 1 when the receiver opened a live flow it belongs to. */
static __always_inline int answer_flow_of(struct generation *g, struct packet *pkt, __u32 op)
{
	__u32 opener = sender(pkt) ^ 1, *hint;
	struct tg_flow_key k;

	if (!flow_key(pkt, &k))
		return 0;
	/* The common miss, a spoofed reply, ends here: no call, no table. */
	hint = flow_hint(&k, opener);
	if (!hint_may_be_live(hint)) {
		if (op != FLOW_REFRESH)
			count_no_flow(opener);
		return 0;
	}
	return flow_track(&k, hint, flow_how(op, opener, pkt->tcp_flags), &g->policy->settings);
}

/*
 * Related ICMP: an error passes as essential only when the packet it quotes
 * belongs to a live flow (either opener), or is a reply the policy allows
 * the other way: path MTU discovery for an inbound service works without a
 * flow. A quoted request needs its flow, since every allowed request opens
 * one: otherwise `out udp 123 any` would admit any error that quotes a
 * packet to port 123 of anyone. A global function (ctx and scalars only,
 * which 5.6 allows), so the verifier checks it once rather than once per
 * parser path: it takes the frame from ctx, not the caller's parsed packet.
 */
__noinline int icmp_error_related(struct xdp_md *ctx, __u32 slot, __u32 family, __u32 l4_off)
{
	struct packet q;
	struct tg_flow_key k;
	struct generation g;
	struct decision d;
	struct match m;
	struct tg_flow *f;
	__u32 zero = 0;
	void *policy_map;
	__u64 now;

	if (!ctx)
		return 0;
	g.slot = slot;
	policy_map = bpf_map_lookup_elem(&gen_policy, &g.slot);
	g.policy = policy_map ? bpf_map_lookup_elem(policy_map, &zero) : 0;
	if (!g.policy)
		return 0;
	if (!parse_quoted(&q, (void *)(long)ctx->data, (void *)(long)ctx->data_end, family, l4_off, cfg_facing) ||
	    !flow_key(&q, &k))
		return 0;
	/* Looked up here, not through flow_track(): 6.1 allows 512 bytes of
	 * stack for a whole chain of calls. */
	now = now_ns();
	f = hint_may_be_live(flow_hint(&k, TG_OPENED_LOCAL)) ? bpf_map_lookup_elem(&flows_out, &k) : 0;
	if (f && now < f->expires_ns)
		return 1;
	f = hint_may_be_live(flow_hint(&k, TG_OPENED_REMOTE)) ? bpf_map_lookup_elem(&flows_in, &k) : 0;
	if (f && now < f->expires_ns)
		return 1;
	match_services(&g, &q, &d, &m);
	return d.reason == TG_REASON_SERVICE && d.verdict == TG_PASS && d.role == TG_ROLE_REPLY;
}

/* No live flow for a packet only a reply could be: the default decides. */
static __always_inline void no_flow(struct generation *g, struct decision *d)
{
	decide(d, g->policy->settings.default_verdict, TG_REASON_NO_FLOW);
}

/*
 * Under `default deny` with tracking, a packet that only a reply could be
 * (some service takes its ports or type as a reply, none as a request)
 * needs a live flow whatever its address: without one it is dropped as
 * no-flow. Tested from the classes themselves, not kept in a flag: a flag
 * known to the verifier as 0 on one path and 1 on another would have it
 * check everything after twice.
 */
static __always_inline int only_a_reply(struct generation *g, struct packet *pkt, struct match *m)
{
	return g->policy->settings.default_verdict == TG_DROP && !pkt->nonfirst_fragment && !m->req_cls && m->rep_cls;
}

/* With `replies tracked`: a reply passes only inside a live flow; without
 * one it is not a reply, and the request side (or the default) decides. */
static __always_inline void track(struct generation *g, struct packet *pkt, struct decision *d, struct match *m)
{
	__u32 service;

	if (d->reason != TG_REASON_SERVICE || d->verdict != TG_PASS) {
		/* Only a reply, and no service passed it: the flow still
		 * decides the reason, whatever the hint said in classify(). */
		if (only_a_reply(g, pkt, m) && !answer_flow_of(g, pkt, FLOW_LOOK))
			no_flow(g, d);
		return;
	}
	if (d->role == TG_ROLE_REQUEST)
		return open_flow_of(g, pkt);
	if (answer_flow_of(g, pkt, FLOW_ANSWER))
		return;
	/* The masks the match read: no second lookup on a spoofed reply, and
	 * no look at all when no service takes these ports as a request
	 * (class 0 is the empty mask). */
	service = m->req_cls && m->peer_mask && m->req_mask ? first_of(m->peer_mask, m->req_mask, 0) : TG_NO_SERVICE;
	if (service == TG_NO_SERVICE)
		return no_flow(g, d);
	decide_service(g, d, service, TG_ROLES, TG_REASON_SERVICE);
	if (d->verdict == TG_PASS)
		open_flow_of(g, pkt);
}

/* The hint alone: 0 when the packet's flow cannot be live (the miss is
 * counted), 1 when the table must tell. */
static __always_inline int flow_may_be_live(struct packet *pkt)
{
	__u32 opener = sender(pkt) ^ 1;
	struct tg_flow_key k;

	if (!flow_key(pkt, &k) || hint_may_be_live(flow_hint(&k, opener)))
		return 1;
	count_no_flow(opener);
	return 0;
}

/*
 * The l4 classes come first: with tracking, a packet only a reply could be
 * is checked against the flow hints before its address, so a flood of
 * spoofed replies costs a hint read, never a walk of the prefix tables;
 * with a flow (or a hint that cannot tell) it is classified as usual.
 */
static __always_inline void classify(struct xdp_md *ctx, struct generation *g, struct packet *pkt, struct decision *d)
{
	const struct tg_settings *set = &g->policy->settings;
	int tracked = set->replies == TG_REPLIES_TRACKED;
	struct match m;

	if (set->icmp_mode == TG_ICMP_ALLOW_ESSENTIAL && !pkt->nonfirst_fragment && is_essential_icmp(pkt) &&
	    (!tracked || !is_icmp_error(pkt) || icmp_error_related(ctx, g->slot, pkt->family, pkt->l4_off)))
		return decide(d, TG_PASS, TG_REASON_ESSENTIAL_ICMP);
	if (pkt->nonfirst_fragment && set->frag_mode != TG_FRAG_MATCH)
		return decide(d, set->frag_mode == TG_FRAG_ALLOW ? TG_PASS : TG_DROP, TG_REASON_FRAGMENT);
	l4_classes(g, pkt, &m);
	if (tracked && only_a_reply(g, pkt, &m) && !flow_may_be_live(pkt))
		return no_flow(g, d);
	match_classes(g, pkt, d, &m);
	if (tracked)
		track(g, pkt, d, &m);
}

/* ------------------------------------------------------------- account */

static __always_inline void account(struct decision *d, __u64 bytes)
{
	__u32 reason = d->reason;
	struct tg_reason_counters *rc = bpf_map_lookup_elem(&reason_counters, &reason);

	if (rc && d->verdict <= TG_PASS) {
		rc->verdict[d->verdict].packets++;
		rc->verdict[d->verdict].bytes += bytes;
	}
	if (d->service != TG_NO_SERVICE) {
		struct tg_service_counters *sc = bpf_map_lookup_elem(&service_counters, &d->counter_slot);

		if (sc && d->role < TG_ROLES) {
			sc->role[d->role].packets++;
			sc->role[d->role].bytes += bytes;
		}
	}
	if (cfg_trace) {
		__u32 zero = 0;
		struct tg_trace *t = bpf_map_lookup_elem(&trace, &zero);

		if (t) {
			t->service = d->service;
			t->role = (__u8)d->role;
			t->reason = (__u8)d->reason;
			t->verdict = (__u8)d->verdict;
		}
	}
}

static __always_inline __u32 frame_length(struct xdp_md *ctx)
{
	if (cfg_multi_buffer)
		return (__u32)bpf_xdp_get_buff_len(ctx);
	return (__u32)(ctx->data_end - ctx->data);
}

/* No generation in force: fail open, so that broken state cannot cut a
 * host off its network, and count it (tollgate_orphan_packets). */
static __always_inline int orphan(void)
{
	__u32 zero = 0;
	__u64 *n = bpf_map_lookup_elem(&orphans, &zero);

	if (n)
		*n += 1;
	return XDP_PASS;
}

/* ---------------------------------------------------------- live trace */

static __always_inline int tracer_wants(const struct tg_tracer *t, const struct tg_trace_event *ev)
{
	if ((t->flags & TG_TRACE_DROPS) && ev->verdict != TG_DROP)
		return 0;
	if (t->counter_slot != TG_TRACE_ANY_SERVICE && t->counter_slot != ev->counter_slot)
		return 0;
	return t->sample <= 1 || bpf_get_prandom_u32() % t->sample == 0;
}

/* At most t->rate events per second on this CPU. */
static __always_inline int tracer_admits(const struct tg_tracer *t, __u32 k, __u64 now)
{
	struct tg_trace_rate *r = bpf_map_lookup_elem(&trace_rate, &k);

	if (!t->rate)
		return 1;
	if (!r)
		return 0;
	if (now - r->window_ns >= 1000000000ull) {
		r->window_ns = now;
		r->count = 0;
	}
	if (r->count >= t->rate)
		return 0;
	r->count++;
	return 1;
}

#define TRACE_TO(k)                                                              \
	do {                                                                     \
		if ((tr->active & (1u << (k))) && tracer_wants(&tr->t[k], ev) && \
		    tracer_admits(&tr->t[k], (k), ev->time_ns))                  \
			bpf_ringbuf_output(&trace_ring##k, ev, sizeof(*ev), 0);  \
	} while (0)

/* A global function: verified once, whatever path the packet took. */
__noinline int trace_emit(struct xdp_md *ctx, struct tg_trace_event *ev)
{
	__u32 zero = 0;
	struct tg_tracers *tr = bpf_map_lookup_elem(&tracers, &zero);
	__u64 len;

	if (!ctx || !ev || !tr)
		return 0;
	len = (__u64)(ctx->data_end - ctx->data);
	ev->caplen = 0;
	if (!cfg_trace_load_bytes)
		goto out;
	if (len >= TG_TRACE_CAPTURE) {
		if (!bpf_xdp_load_bytes(ctx, 0, ev->bytes, TG_TRACE_CAPTURE))
			ev->caplen = TG_TRACE_CAPTURE;
		goto out;
	}
	if (!len)
		goto out;
	/* 1 to 127, built so that the verifier sees both bounds on the very
	 * register the helper gets: clang knows them already and would drop a
	 * plain check, and 6.1 refuses a size that may be 0. */
	len -= 1;
	asm volatile("" : "+r"(len));
	len = (len & (TG_TRACE_CAPTURE - 1)) + 1;
	if (!bpf_xdp_load_bytes(ctx, 0, ev->bytes, len))
		ev->caplen = (__u16)len;
out:
	ev->time_ns = bpf_ktime_get_ns();
	TRACE_TO(0);
	TRACE_TO(1);
	TRACE_TO(2);
	TRACE_TO(3);
	return 0;
}

/* With no tracer, one array read and one branch. */
static __always_inline void trace_decision(struct xdp_md *ctx, const struct packet *pkt, const struct decision *d,
					   int parsed)
{
	__u32 zero = 0;
	struct tg_tracers *tr = bpf_map_lookup_elem(&tracers, &zero);
	struct tg_trace_event *ev;
	__u32 slot;

	if (!tr || !tr->active)
		return;
	ev = bpf_map_lookup_elem(&trace_scratch, &zero);
	if (!ev)
		return;
	slot = d->service == TG_NO_SERVICE ? TG_NO_SERVICE : d->counter_slot;
	ev->counter_slot = slot;
	ev->frame_len = pkt->frame_len;
	ev->verdict = (__u8)d->verdict;
	ev->reason = (__u8)d->reason;
	ev->role = (__u8)d->role;
	ev->parsed = (__u8)parsed;
	ev->family = parsed == PARSE_NON_IP ? 0xff : (__u8)pkt->family;
	ev->protocol = (__u8)pkt->protocol;
	ev->icmp_type = (__u8)pkt->icmp_type;
	ev->sport = (__u16)pkt->sport;
	ev->dport = (__u16)pkt->dport;
	ev->remote_off = (__u16)(pkt->remote_off & OFFSET_MASK);
	ev->local_off = (__u16)(pkt->local_off & OFFSET_MASK);
	trace_emit(ctx, ev);
}

SEC("xdp.frags")
int tollgate_xdp(struct xdp_md *ctx)
{
	struct packet pkt;
	struct generation g;
	struct decision d;
	int parsed;

	if (!current_generation(&g))
		return orphan();
	if (cfg_bench)
		bench_next_address(ctx);
	packet_init(&pkt, (void *)(long)ctx->data, (void *)(long)ctx->data_end, frame_length(ctx), cfg_facing);
	parsed = parse(&pkt);

	if (parsed == PARSE_NON_IP)
		decide(&d, g.policy->settings.non_ip, TG_REASON_NON_IP);
	else if (parsed == PARSE_MALFORMED)
		decide(&d, g.policy->settings.malformed, TG_REASON_MALFORMED);
	else
		classify(ctx, &g, &pkt, &d);
	account(&d, pkt.frame_len);
	if (cfg_live_trace)
		trace_decision(ctx, &pkt, &d, parsed);
	return d.verdict == TG_PASS ? XDP_PASS : XDP_DROP;
}

/*
 * The egress classifier: the host's own requests leave here, and their
 * flows must exist before the replies arrive. It sees packets the other way
 * round from the XDP program, records the flows of allowed requests,
 * refreshes those its allowed replies belong to, and never drops: the
 * policy is enforced on arrival only.
 */
#define EGRESS_PULL 256 /* enough for any header chain the parser accepts in practice */

SEC("tc")
int tollgate_egress(struct __sk_buff *skb)
{
	struct packet pkt;
	struct generation g;
	struct decision d;
	struct match m;

	if (!current_generation(&g) || g.policy->settings.replies != TG_REPLIES_TRACKED)
		return TC_ACT_UNSPEC;
	if (skb->data_end - skb->data < EGRESS_PULL && skb->len > skb->data_end - skb->data)
		bpf_skb_pull_data(skb, skb->len < EGRESS_PULL ? skb->len : EGRESS_PULL);
	packet_init(&pkt, (void *)(long)skb->data, (void *)(long)skb->data_end, skb->len, cfg_facing ^ 1);
	if (parse(&pkt) != PARSE_IP)
		return TC_ACT_UNSPEC;
	match_services(&g, &pkt, &d, &m);
	if (d.reason == TG_REASON_SERVICE && d.verdict == TG_PASS) {
		if (d.role == TG_ROLE_REQUEST)
			open_flow_of(&g, &pkt);
		else
			answer_flow_of(&g, &pkt, FLOW_REFRESH);
	}
	return TC_ACT_UNSPEC; /* on to the next classifier: we only watch */
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
