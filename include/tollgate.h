/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * tollgate's one ABI: map keys, map values and constants shared by the XDP
 * program (bpf/) and the loader (user/). Anything that crosses the kernel
 * boundary is defined here and nowhere else.
 *
 * Classification is a bitmap intersection. Every service has a bit (its
 * position in the policy file). The remote address selects a "peer class" in
 * the peer lookup below, the protocol and port select an "l4 class" in a flat array;
 * both classes name a service mask, and the lowest bit of their intersection
 * is the first service in file order that matches.
 *
 * A compiled policy is a "generation": those maps plus a tg_policy_table,
 * installed as inner maps at one index of the program's outer maps.
 */
#ifndef TOLLGATE_H
#define TOLLGATE_H

#include <linux/types.h>

#ifndef TG_INLINE
#ifdef __bpf__
#define TG_INLINE static __always_inline
#else
#define TG_INLINE static inline
#endif
#endif

#define TG_MAX_SERVICES 256
#define TG_MASK_WORDS (TG_MAX_SERVICES / 64)
/* Counter slots outlive a policy (reloads keep them by service name). */
#define TG_MAX_COUNTER_SLOTS 1024
#define TG_NO_SERVICE 0xffffffffu
/* Distinct service masks (classes) in one policy. */
#define TG_MAX_CLASSES 65536
#define TG_SERVICE_NAME_MAX 64

enum tg_action { TG_DROP = 0, TG_PASS = 1 };
enum tg_facing { TG_FACING_OUTSIDE = 0, TG_FACING_INSIDE = 1 };

/* How a packet matched its service; also the index of its counters. */
enum tg_role { TG_ROLE_REQUEST = 0, TG_ROLE_REPLY = 1, TG_ROLE_FRAGMENT = 2, TG_ROLES = 3 };

enum tg_reason {
	TG_REASON_SERVICE = 0,
	TG_REASON_DEFAULT,
	TG_REASON_MALFORMED,
	TG_REASON_NON_IP,
	TG_REASON_ESSENTIAL_ICMP,
	TG_REASON_FRAGMENT,
	TG_REASON_NO_FLOW, /* reply-shaped, but no live flow: the default decided */
	TG_REASONS
};

/* What to do with essential ICMP (unreachable, too big, time exceeded, ND). */
enum tg_icmp_mode { TG_ICMP_ALLOW_ESSENTIAL = 0, TG_ICMP_FILTER = 1 };
/* Non-first fragments carry no ports. */
enum tg_frag_mode { TG_FRAG_MATCH = 0, TG_FRAG_ALLOW = 1, TG_FRAG_DENY = 2 };
/* Whether a reply needs a live flow (tracked) or its ports alone (stateless). */
enum tg_replies_mode { TG_REPLIES_TRACKED = 0, TG_REPLIES_STATELESS = 1 };

/* Flow timeouts, seconds; settings `tcp-syn-timeout` ... `other-timeout`. */
enum tg_timeout {
	TG_TIMEOUT_TCP_SYN = 0,	    /* opened, no SYN+ACK yet */
	TG_TIMEOUT_TCP_ESTABLISHED, /* answered */
	TG_TIMEOUT_TCP_CLOSING,	    /* a FIN seen */
	TG_TIMEOUT_TCP_CLOSED,	    /* an RST seen */
	TG_TIMEOUT_UDP,		    /* not answered yet */
	TG_TIMEOUT_UDP_STREAM,	    /* answered */
	TG_TIMEOUT_ICMP,	    /* echo and the other query types */
	TG_TIMEOUT_OTHER,	    /* SCTP and protocols without ports */
	TG_TIMEOUTS
};

struct tg_mask {
	__u64 w[TG_MASK_WORDS];
};

/*
 * Peer lookup: the remote address -> its peer class, in a bounded number of
 * array reads at any table size (docs/design.md, "Peer lookup"). The
 * compiler's prefixes become the sorted starts of the ranges where the class
 * changes ("bounds"). Every element of the lookup's array is a 64-byte,
 * cache-line-aligned node, read whole: the first bits of the address index a
 * direct table of 2^direct_bits nodes per family (struct tg_lookup_info,
 * chosen per policy so that most nodes hold all the bounds of their range),
 * and a node is either
 *   BOUNDS: the class at the start of its range and up to TG_LK_BOUNDS4 (IPv4)
 *           or TG_LK_BOUNDS6 (IPv6) bounds inside it, searched in registers;
 *           unused places repeat the last bound, or the base class, or
 *   TABLE:  the index of the first of 2^stride consecutive nodes for the next
 *           stride bits: TG_LK_STRIDE, or fewer (1 to 3) where that many
 *           already split the bounds into nodes, or at the end of the address.
 * The array holds the IPv4 direct table, the IPv6 one (from
 * 2^direct_bits[v4]), then the tables, then the used-block filters. So at 1M
 * IPv4 prefixes most lookups read one cache line.
 *
 * Used-block filter: when a family's nodes outgrow the cache, a bitmap over
 * the first filter_bits of the address (more than TG_LK_FINE_BITS, or the
 * fine filter below would have said the same) says which blocks hold any
 * address of a class other than filter_class, the class of most of the
 * space (0 outside every prefix, or that of `any`). An address in an unused
 * block has filter_class after one read of a bitmap small enough to stay
 * cached, so a flood from addresses outside the policy's prefixes reads no
 * node. 512 bits a node: bit (block & 511) of node filter_base + block / 512.
 *
 * Coarse filter: the same bitmap over the first TG_LK_COARSE_BITS of the
 * address, built for every policy and kept in the policy table itself
 * (coarse[family]), so it is read before the lookup's call and its map
 * reads: the whole cost of an address in a block no prefix of another
 * class touches, such as most sources of a random flood against a vendor's
 * table. All ones would filter nothing.
 *
 * Fine filter: the same bitmap over the first TG_LK_FINE_BITS, in a
 * generation map of its own (gen_peer_fine) whose size is the same for every
 * policy, so that the verifier inlines its lookup: an address the coarse
 * filter lets through, in a block no prefix of another class touches, stops
 * there, still before the lookup's call. Word [family][first 16 bits] holds
 * the next 6 bits' blocks, so a coarse bit is set exactly where its word is
 * not zero.
 */
#define TG_LK_DIRECT_MIN 8
#define TG_LK_DIRECT_MAX 22
#define TG_LK_STRIDE 4
#define TG_LK_BOUNDS4 10
#define TG_LK_BOUNDS6 4
#define TG_LK_FILTER_BITS_MAX 24 /* 2 MiB of bitmap */
#define TG_LK_COARSE_BITS 16	 /* 8 KiB a family, in the policy table */
#define TG_LK_FINE_BITS 22	 /* 512 KiB a family, in gen_peer_fine */
/* A family's words in gen_peer_fine: one per block of the coarse filter. */
#define TG_LK_FINE_WORDS (1u << (TG_LK_FINE_BITS - 6))
/* Tables on one path below the direct node, at most: only the last table
 * on a path takes fewer than TG_LK_STRIDE bits. */
#define TG_LK_LEVELS_V4 ((32 - TG_LK_DIRECT_MIN + TG_LK_STRIDE - 1) / TG_LK_STRIDE)
#define TG_LK_LEVELS_V6 ((128 - TG_LK_DIRECT_MIN + TG_LK_STRIDE - 1) / TG_LK_STRIDE)

enum tg_lk_kind { TG_LK_BOUNDS_NODE = 0, TG_LK_TABLE = 1 };

/* In the generation's policy table: how its peer lookup is laid out. */
struct tg_lookup_info {
	__u32 direct_bits[2];  /* by enum tg_family */
	__u32 filter_bits[2];  /* 0: no used-block filter */
	__u32 filter_base[2];  /* the node where the filter's bitmap starts */
	__u32 filter_class[2]; /* the class of every address in an unused block, of either filter */
	__u64 coarse[2][(1u << TG_LK_COARSE_BITS) / 64]; /* the coarse filter, by family */
};

/* The head of a node: the kind in bits 30-31; BOUNDS: the class at the
 * start of the range in bits 0-15 (and IPv6's windows in bits 16-29); TABLE:
 * the stride less one in bits 28-29, its first child in bits 0-27. */
struct tg_lk_node4 {
	__u32 head;
	__u16 cls[TG_LK_BOUNDS4];
	__u32 addr[TG_LK_BOUNDS4]; /* host order, ascending */
};

/* An IPv6 node holds two clusters of up to two bounds (places 0-1, 2-3).
 * The bounds of a cluster share their first `window` bits (head bits 16-22
 * for the first cluster, 23-29 for the second; 8 to 127), of which `key`
 * holds the last 64, and each is compared by its next 64 bits (`win`), below
 * which it has none set. So two disjoint prefixes of any length fit one
 * line; a range whose bounds differ too early becomes a table. */
struct tg_lk_node6 {
	__u32 head;
	__u16 cls[TG_LK_BOUNDS6];
	__u32 pad;
	__u64 key[2];
	__u64 win[TG_LK_BOUNDS6]; /* ascending */
};

struct tg_lk_node {
	union {
		__u32 head;
		struct tg_lk_node4 v4;
		struct tg_lk_node6 v6;
		__u8 bytes[64];
	};
};

#define TG_LK_FIRST_MAX ((1u << 28) - 1)

TG_INLINE __u32 tg_lk_bounds_head(__u32 base_cls, __u32 window0, __u32 window1)
{
	return (window1 & 0x7f) << 23 | (window0 & 0x7f) << 16 | (base_cls & 0xffff);
}

TG_INLINE __u32 tg_lk_table_head(__u32 first, __u32 stride)
{
	return (__u32)TG_LK_TABLE << 30 | ((stride - 1) & 3) << 28 | (first & TG_LK_FIRST_MAX);
}

TG_INLINE __u32 tg_lk_kind(__u32 head)
{
	return head >> 30;
}

TG_INLINE __u32 tg_lk_first(__u32 head)
{
	return head & TG_LK_FIRST_MAX;
}

TG_INLINE __u32 tg_lk_stride(__u32 head)
{
	return (head >> 28 & 3) + 1;
}

/*
 * Comparisons as 0 or 1 without a branch: BPF has no conditional move, and a
 * branch on a random address is mispredicted half the time. The empty asm
 * hides the arithmetic from the compiler, which would turn it back into a
 * compare and a jump.
 */
#define TG_OPAQUE(x) __asm__ volatile("" : "+r"(x))

TG_INLINE __u64 tg_lk_less(__u64 x, __u64 y)
{
	__u64 borrow = (~x & y) | (~(x ^ y) & (x - y));

	TG_OPAQUE(borrow);
	return borrow >> 63;
}

/* Whether a block of the used-block filter holds an address of a class
 * other than filter_class; n is the block's node (block / 512 from the filter's base). */
TG_INLINE __u32 tg_lk_block_used(const struct tg_lk_node *n, __u32 block)
{
	__u64 word;

	__builtin_memcpy(&word, &n->bytes[(block >> 6 & 7) * 8], 8);
	return (__u32)(word >> (block & 63)) & 1;
}

/* Whether a block of the coarse filter (the first TG_LK_COARSE_BITS of an
 * address) holds an address of a class other than filter_class. */
TG_INLINE __u32 tg_lk_coarse_used(const struct tg_lookup_info *info, int family, __u32 block)
{
	__u64 word = info->coarse[family & 1][block >> 6 & ((1u << TG_LK_COARSE_BITS) / 64 - 1)];

	return (__u32)(word >> (block & 63)) & 1;
}

/* The word of the fine filter that holds a block (the first TG_LK_FINE_BITS
 * of an address) of a family: its index in gen_peer_fine. */
TG_INLINE __u32 tg_lk_fine_word(int family, __u32 block)
{
	return (__u32)(family & 1) * TG_LK_FINE_WORDS + (block >> 6 & (TG_LK_FINE_WORDS - 1));
}

TG_INLINE __u32 tg_lk_fine_used(__u64 word, __u32 block)
{
	return (__u32)(word >> (block & 63)) & 1;
}

/* The class of the last bound at or below addr in a node, else its base. */
TG_INLINE __u32 tg_lk_search4(const struct tg_lk_node4 *n, __u32 addr)
{
	__u64 cls = n->head & 0xffff;

	for (int i = 0; i < TG_LK_BOUNDS4; i++) {
		__u64 diff = (__u64)addr - n->addr[i], take; /* negative: the bound is above addr */

		TG_OPAQUE(diff);
		take = (diff >> 63) - 1; /* all ones: bound <= addr */
		cls = (cls & ~take) | (n->cls[i] & take);
	}
	return (__u32)cls;
}

TG_INLINE __u32 tg_lk_window6(__u32 head, int cluster)
{
	return head >> (cluster ? 23 : 16) & 0x7f;
}

/* The 64 bits of an address before `window` (key) and from it (win). */
TG_INLINE __u64 tg_lk_key6(__u64 hi, __u64 lo, __u32 window)
{
	if (window <= 64)
		return hi >> (64 - window);
	return hi << (window - 64) | lo >> (128 - window);
}

TG_INLINE __u64 tg_lk_win6(__u64 hi, __u64 lo, __u32 window)
{
	if (window < 64)
		return hi << window | lo >> (64 - window);
	return lo << (window - 64);
}

/* One cluster of an IPv6 node, as tg_lk_search4: an address whose key is
 * below the cluster's is below its bounds (cls), one above it is above them
 * (their last class). */
TG_INLINE __u64 tg_lk_cluster6(const struct tg_lk_node6 *n, int c, __u64 hi, __u64 lo, __u64 cls)
{
	__u32 window = tg_lk_window6(n->head, c);
	__u64 key, win, below, above, before = cls;

	if (window < TG_LK_DIRECT_MIN)
		return cls;
	key = tg_lk_key6(hi, lo, window);
	win = tg_lk_win6(hi, lo, window);
	below = tg_lk_less(key, n->key[c]);
	above = tg_lk_less(n->key[c], key);
	win |= -above;
	for (int i = 2 * c; i < 2 * c + 2; i++) {
		__u64 take = tg_lk_less(win, n->win[i]) - 1; /* all ones: bound <= addr */

		cls = (cls & ~take) | (n->cls[i] & take);
	}
	below = -below;
	return (cls & ~below) | (before & below);
}

/* The second cluster's bounds are above the first's: below them, the class
 * is what the first cluster says. */
TG_INLINE __u32 tg_lk_search6(const struct tg_lk_node6 *n, __u64 hi, __u64 lo)
{
	__u64 cls = tg_lk_cluster6(n, 0, hi, lo, n->head & 0xffff);

	return (__u32)tg_lk_cluster6(n, 1, hi, lo, cls);
}

/* The `stride` bits of an IPv6 address from `depth` (depth + stride <= 128). */
TG_INLINE __u32 tg_lk_bits6(__u64 hi, __u64 lo, __u32 depth, __u32 stride)
{
	__u64 window;

	if (depth < 64)
		window = depth ? hi << depth | lo >> (64 - depth) : hi;
	else
		window = lo << (depth - 64);
	return (__u32)(window >> (64 - stride));
}

/* LPM trie keys: make bench's comparison column (bpf/bench_lpm.bpf.c). */
struct tg_v4_key {
	__u32 prefixlen;
	__u8 addr[4];
};

struct tg_v6_key {
	__u32 prefixlen;
	__u8 addr[16];
};

struct tg_service_entry {
	__u32 counter_slot;
	__u8 action; /* enum tg_action */
	__u8 role;   /* TG_ROLE_REQUEST or TG_ROLE_REPLY under this facing */
	__u16 pad;
};

/* What a policy's settings say, read by the program once per packet. */
struct tg_settings {
	__u32 default_verdict;	    /* enum tg_action */
	__u32 non_ip;		    /* enum tg_action */
	__u32 malformed;	    /* enum tg_action */
	__u32 icmp_mode;	    /* enum tg_icmp_mode */
	__u32 frag_mode;	    /* enum tg_frag_mode */
	__u32 replies;		    /* enum tg_replies_mode */
	__u32 timeout[TG_TIMEOUTS]; /* seconds, by enum tg_timeout */
};

/* One generation's settings and services (the single entry of its map). */
struct tg_policy_table {
	struct tg_settings settings;
	struct tg_lookup_info lookup;
	struct tg_service_entry services[TG_MAX_SERVICES];
};

/* Outer map slots: the generation in force and the one being built (or
 * kept for a --confirm rollback). */
#define TG_GEN_SLOTS 2

struct tg_counter {
	__u64 packets;
	__u64 bytes;
};

struct tg_service_counters {
	struct tg_counter role[TG_ROLES];
};

struct tg_reason_counters {
	struct tg_counter verdict[2]; /* indexed by enum tg_action */
};

/*
 * Live trace (tollgate trace): up to TG_TRACERS tracers at once, each with
 * its own ring buffer (trace_ring0..3, pinned with the attachment), filter,
 * sampling and per-CPU rate. `tracers` says which are active; with none,
 * the data plane pays one array read and one branch per packet.
 */
#define TG_TRACERS 4
#define TG_TRACE_RING_BYTES (128 * 1024)
#define TG_TRACE_CAPTURE 128 /* the frame's first bytes, for addresses and --pcap */
#define TG_TRACE_DROPS 1u    /* tracer flag: drops only */
#define TG_TRACE_ANY_SERVICE 0xffffffffu

struct tg_tracer {
	__u32 flags;
	__u32 counter_slot; /* the service's, or TG_TRACE_ANY_SERVICE */
	__u32 rate;	    /* events per second per CPU at most; 0: no limit */
	__u32 sample;	    /* one packet in `sample` is traced; 0 or 1: all */
	__u32 pid;	    /* the tracer process, so a dead one's slot can be taken */
	__u32 pad;
};

struct tg_tracers {
	__u32 active; /* bit k: tracer k */
	__u32 pad;
	struct tg_tracer t[TG_TRACERS];
};

/* Per tracer and CPU: the rate window. */
struct tg_trace_rate {
	__u64 window_ns;
	__u64 count;
};

struct tg_trace_event {
	__u64 time_ns;	    /* bpf_ktime_get_ns() */
	__u32 counter_slot; /* TG_NO_SERVICE when no service decided */
	__u32 frame_len;
	__u8 verdict, reason, role, family; /* family: enum tg_family, or 0xff for non-IP */
	__u8 protocol, icmp_type, parsed, pad;
	__u16 sport, dport;
	__u16 remote_off, local_off; /* into bytes */
	__u16 caplen, pad2;
	__u8 bytes[TG_TRACE_CAPTURE];
};

/* Last decision, written only when the program is loaded for replay. */
struct tg_trace {
	__u32 service; /* TG_NO_SERVICE when no service decided */
	__u8 role;
	__u8 reason;
	__u8 verdict;
	__u8 pad;
};

/*
 * The l4 array: one block per role (request, reply), each holding six rows:
 * a 64K port row each for TCP, UDP and SCTP, and a 256 row each for the ICMP
 * type, the ICMPv6 type and the protocol number of anything else; then one
 * block for non-first fragments indexed by family and protocol. Port ranges
 * therefore cost nothing per range: every port already has its entry. (A row
 * of the l4 array is neither a counter slot nor a generation slot.)
 */
enum tg_l4_row {
	TG_ROW_TCP = 0,
	TG_ROW_UDP,
	TG_ROW_SCTP,
	TG_PORT_ROWS,
	TG_ROW_ICMP = TG_PORT_ROWS,
	TG_ROW_ICMPV6,
	TG_ROW_OTHER,
	TG_L4_ROWS
};

enum tg_family { TG_FAMILY_V4 = 0, TG_FAMILY_V6 = 1 };

#define TG_PORT_SPACE 65536u
#define TG_SMALL_SPACE 256u
#define TG_ROLE_ENTRIES (TG_PORT_ROWS * TG_PORT_SPACE + (TG_L4_ROWS - TG_PORT_ROWS) * TG_SMALL_SPACE)
#define TG_FRAG_BASE (2u * TG_ROLE_ENTRIES)
#define TG_L4_ENTRIES (TG_FRAG_BASE + 2u * TG_SMALL_SPACE)

/* value: the port (TCP/UDP/SCTP), the ICMP type, or the protocol number. */
TG_INLINE __u32 tg_l4_index(__u32 role, __u32 row, __u32 value)
{
	__u32 base = role * TG_ROLE_ENTRIES;

	if (row < TG_PORT_ROWS)
		return base + row * TG_PORT_SPACE + (value & 0xffff);
	return base + TG_PORT_ROWS * TG_PORT_SPACE + (row - TG_PORT_ROWS) * TG_SMALL_SPACE + (value & 0xff);
}

TG_INLINE __u32 tg_frag_index(__u32 family, __u32 protocol)
{
	return TG_FRAG_BASE + (family & 1) * TG_SMALL_SPACE + (protocol & 0xff);
}

/* ------------------------------------------------------------------
 * Flows: one table per opener, shared by every attachment of the host and
 * pinned once under TG_PIN_ROOT. A flow is keyed by its remote and local
 * ends, so the reply a NIC facing outside sees finds the flow a request
 * opened at a NIC facing inside, or at this NIC's egress.
 */
enum tg_opener {
	TG_OPENED_LOCAL = 0,  /* the protected side: `direction out` flows */
	TG_OPENED_REMOTE = 1, /* a remote client: `direction in` flows */
	TG_OPENERS
};

struct tg_flow_key {
	__u8 remote[16]; /* IPv4: the first 4 bytes, the rest 0 */
	__u8 local[16];
	__u16 remote_port; /* host order; ICMP queries: 0; other ICMP: 256 + type (never a flow) */
	__u16 local_port;  /* host order; ICMP queries: the identifier */
	__u8 family;	   /* enum tg_family */
	__u8 protocol;
	__u8 pad[2];
} __attribute__((aligned(8))); /* read as 64-bit words by tg_flow_hint_index() */

enum tg_flow_state {
	TG_FLOW_NEW = 0,     /* opened, not answered */
	TG_FLOW_ESTABLISHED, /* answered (TCP: SYN+ACK seen, or picked up mid-stream) */
	TG_FLOW_CLOSING,     /* TCP: a FIN seen */
	TG_FLOW_CLOSED,	     /* TCP: an RST seen */
	TG_FLOW_STATES
};

struct tg_flow {
	__u64 expires_ns; /* bpf_ktime_get_ns() clock (CLOCK_MONOTONIC) */
	__u32 state;	  /* enum tg_flow_state */
	__u32 flags;	  /* TG_FLOW_FIN_* */
};

#define TG_FLOW_FIN_OPENER 1u
#define TG_FLOW_FIN_RESPONDER 2u

/* Per-CPU, one entry per opener (enum tg_opener). */
struct tg_flow_stats {
	__u64 created;	/* flows opened (a new entry, or an expired one reused) */
	__u64 inserted; /* new entries: inserted - entries present = LRU evictions */
	__u64 no_flow;	/* reply-shaped packets that found no live flow */
	__u64 pad;
};

#define TG_FLOW_TABLE_DEFAULT 65536
#define TG_PIN_FLOWS_LOCAL "flows_out" /* TG_OPENED_LOCAL */
#define TG_PIN_FLOWS_REMOTE "flows_in" /* TG_OPENED_REMOTE */
#define TG_PIN_FLOW_STATS "flow_stats"
#define TG_PIN_FLOW_HINTS "flow_hints"

/*
 * Flow hints: a flat array in front of the flow tables, so that a reply
 * without a flow (a spoofed one, in a flood) is dropped after one array read
 * instead of a hash-table miss. Each table has its half of the array, so a
 * flood of remote-opened flows cannot weaken the hints of the host's own.
 * A flow's key picks one slot in its table's half; every write of the flow's
 * expiry raises the slot to at least tg_flow_hint_of(expiry), and nothing
 * lowers it. A slot at or below the current time (tg_flow_hint_now)
 * therefore proves that no flow mapped there is live; any other slot only
 * says "look in the table". Flows share a slot by chance, and evicted or
 * closed flows keep theirs raised until the expiry they last had: both cost
 * a table lookup, never a verdict. The unit is 2^30 ns (about a second), so
 * a slot is a __u32 for 136 years.
 */
#define TG_FLOW_HINT_SHIFT 30
#define TG_FLOW_HINTS_PER_ENTRY 2 /* slots per table entry: a full table raises at most 39% of its half */

TG_INLINE __u32 tg_flow_hint_of(__u64 expires_ns)
{
	return (__u32)(expires_ns >> TG_FLOW_HINT_SHIFT) + 1;
}

TG_INLINE __u32 tg_flow_hint_now(__u64 now_ns)
{
	return (__u32)(now_ns >> TG_FLOW_HINT_SHIFT);
}

/* The slots for two tables of `entries` each: a power of two. */
TG_INLINE __u32 tg_flow_hint_slots(__u32 entries)
{
	__u32 slots = 2;

	while (slots < 2 * entries * TG_FLOW_HINTS_PER_ENTRY && slots < (1u << 30))
		slots <<= 1;
	return slots;
}

/* A flow's slot: multiplicative hashing over the key's five 64-bit words
 * (the top bits mix every input bit), in the opener's half of the array.
 * `half_mask` is half the slot count minus one. */
TG_INLINE __u32 tg_flow_hint_index(const struct tg_flow_key *k, __u32 opener, __u32 half_mask)
{
	const __u64 golden = 0x9e3779b97f4a7c15ull;
	__u64 h = 0, w;

	for (int i = 0; i < (int)(sizeof(*k) / sizeof(w)); i++) {
		__builtin_memcpy(&w, (const __u8 *)k + i * sizeof(w), sizeof(w));
		h = (h ^ w) * golden;
	}
	return (opener ? half_mask + 1 : 0) + ((__u32)(h >> 32) & half_mask);
}

/* ------------------------------------------------------------------
 * Pinned state of an attached interface, under TG_PIN_ROOT/IFACE/. The CLI
 * keeps nothing else: a later tollgate process reads all of it from here.
 */
/*
 * Every header the parser needs (Ethernet through the fixed part of the L4
 * header) must end within this many bytes of the frame; a longer chain is
 * malformed. Real chains are a few hundred bytes at most, and the limit keeps
 * them inside the linear part of even a multi-buffer frame.
 */
#define TG_HEADER_LIMIT 1024

#define TG_PIN_ROOT "/sys/fs/bpf/tollgate"
#define TG_PATH_MAX 256
#define TG_HASH_HEX 65

/* One counter slot: which service owns it over which generations. A slot is
 * live at generation g when added <= g and (retired == 0 or retired > g). */
struct tg_slot {
	char name[TG_SERVICE_NAME_MAX];
	__u32 added;
	__u32 retired;
};

struct tg_policy_info {
	char path[TG_PATH_MAX];
	char hash[TG_HASH_HEX]; /* sha256 of the policy file and its includes */
	__u8 pad[3];
	__u32 nservices;
	__u64 loaded_ns; /* CLOCK_REALTIME */
};

enum tg_mode { TG_MODE_NATIVE = 0, TG_MODE_SKB = 1 };

/* How the program was attached: beside others through libxdp's dispatcher,
 * or alone because the kernel or the NIC's current program ruled that out. */
enum tg_attach_kind { TG_ATTACH_DISPATCHER = 0, TG_ATTACH_DIRECT = 1 };

#define TG_NOTE_MAX 160

struct tg_meta {
	__u32 version; /* of this layout */
	__u32 generation;
	__u32 facing;
	__u32 mode;
	struct tg_policy_info current;
	/* A reload in flight: set until the switch is recorded. */
	__u32 pending_generation;
	__u32 confirm_pending;
	__u64 confirm_deadline_ns; /* CLOCK_REALTIME */
	__u32 confirm_pid;
	__u32 active_slot; /* the generation slot of `generation` */
	struct tg_policy_info pending;
	struct tg_policy_info previous; /* what a --confirm rollback restores (the other slot) */
	__u32 prog_id;			/* the XDP program on the link */
	__u32 ifindex;
	__u32 attach_kind;	       /* enum tg_attach_kind */
	__u32 pending_rollback;	       /* the pending switch is a --confirm rollback */
	char attach_note[TG_NOTE_MAX]; /* why direct, when it is */
	__u64 netns_dev, netns_ino;    /* the network namespace of the interface */
	__u32 egress_kind;	       /* enum tg_egress_kind */
	__u32 egress_prog_id;	       /* the egress classifier that records flows */
};

/* How the egress classifier is attached: a tcx link (pinned beside the
 * maps), or a filter on a clsact qdisc where the kernel has no tcx. */
enum tg_egress_kind { TG_EGRESS_NONE = 0, TG_EGRESS_TCX = 1, TG_EGRESS_CLSACT = 2 };
#define TG_PIN_EGRESS_LINK "egress_link"
/* The clsact filter's handle and priority, so detach removes only ours. */
#define TG_CLSACT_HANDLE 0x746c
#define TG_CLSACT_PRIORITY 0x746c

#define TG_META_VERSION \
	9 /* 4: flows, the egress classifier; 5: the peer lookup; 6: its 64-byte nodes; 7: used-block filter;
	   8: coarse filter; 9: fine filter */

/* Host-name peers: what DNS last said, pinned so that a name that stops
 * resolving keeps its last known addresses across tollgate processes. */
#define TG_MAX_HOSTS 64
#define TG_HOST_NAME_LEN 256
#define TG_HOST_ADDRS 16

struct tg_host_state {
	char name[TG_HOST_NAME_LEN]; /* empty: unused entry */
	__u32 naddrs;
	__u32 v6_mask; /* bit i: addrs[i] is IPv6 */
	__u8 addrs[TG_HOST_ADDRS][16];
	__u64 resolved_ns;  /* last answer (CLOCK_REALTIME), 0: never */
	__u64 attempted_ns; /* last question; the asker's TTL floor and ceiling say when to ask again */
	__u64 failures;	    /* failed attempts so far */
	__s32 last_status;  /* 0, or the negative errno of the last attempt */
	__u32 ttl;	    /* of the last answer, seconds */
	__u32 flags;	    /* TG_HOST_FIXED: given with --host, never asked */
	__u32 pad;
};

#define TG_HOST_FIXED 1u

#endif /* TOLLGATE_H */
