// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * tollgate's data plane: parse, classify against the compiled policy, count,
 * pass or drop. The semantics are docs/policy.md's; the map layout is
 * include/tollgate.h's; parsing is in parse.h.
 */
#include "parse.h"
#include "bench.h"

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
struct gen_v4_map {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 1); /* sized to each policy */
	__uint(key_size, sizeof(struct tg_v4_key));
	__uint(value_size, sizeof(__u32));
};

struct gen_v6_map {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 1);
	__uint(key_size, sizeof(struct tg_v6_key));
	__uint(value_size, sizeof(__u32));
};

struct gen_l4_map {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, TG_L4_ENTRIES);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
};

struct gen_masks_map {
	__uint(type, BPF_MAP_TYPE_ARRAY);
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
	__array(values, struct gen_v4_map);
} gen_v4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, TG_GEN_SLOTS);
	__type(key, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
	__array(values, struct gen_v6_map);
} gen_v6 SEC(".maps");

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
 * The one place that turns a remote address into a peer class. Replacing the
 * LPM tries with another structure changes this function only.
 */
static __always_inline __u32 lookup_peer_class(struct generation *g, struct packet *pkt)
{
	__u32 *cls = 0;

	if (pkt->family == TG_FAMILY_V4) {
		struct tg_v4_key key = { .prefixlen = 32 };
		__u8 *a = ptr_at(pkt->ctx, pkt->remote_off, 4);
		void *trie = bpf_map_lookup_elem(&gen_v4, &g->slot);

		if (!a || !trie)
			return 0;
		__builtin_memcpy(key.addr, a, 4);
		cls = bpf_map_lookup_elem(trie, &key);
	} else {
		struct tg_v6_key key = { .prefixlen = 128 };
		__u8 *a = ptr_at(pkt->ctx, pkt->remote_off, 16);
		void *trie = bpf_map_lookup_elem(&gen_v6, &g->slot);

		if (!a || !trie)
			return 0;
		__builtin_memcpy(key.addr, a, 16);
		cls = bpf_map_lookup_elem(trie, &key);
	}
	return cls ? *cls : 0;
}

static __always_inline __u32 l4_class(struct generation *g, __u32 index)
{
	void *l4 = bpf_map_lookup_elem(&gen_l4, &g->slot);
	__u32 *cls = l4 ? bpf_map_lookup_elem(l4, &index) : 0;

	return cls ? *cls : 0;
}

static __always_inline __u32 lowest_bit(__u64 x)
{
	__u32 n = 0;

	if (!(x & 0xffffffffull)) {
		n += 32;
		x >>= 32;
	}
	if (!(x & 0xffff)) {
		n += 16;
		x >>= 16;
	}
	if (!(x & 0xff)) {
		n += 8;
		x >>= 8;
	}
	if (!(x & 0xf)) {
		n += 4;
		x >>= 4;
	}
	if (!(x & 0x3)) {
		n += 2;
		x >>= 2;
	}
	if (!(x & 0x1))
		n += 1;
	return n;
}

/* First service in both masks (and in b2, if given): TG_NO_SERVICE if none. */
static __always_inline __u32 first_common(struct generation *g, __u32 a, __u32 b, __u32 b2)
{
	void *masks = bpf_map_lookup_elem(&gen_masks, &g->slot);
	struct tg_mask *ma, *mb, *mb2;
	__u32 w;

	if (!masks)
		return TG_NO_SERVICE;
	ma = bpf_map_lookup_elem(masks, &a);
	mb = bpf_map_lookup_elem(masks, &b);
	mb2 = bpf_map_lookup_elem(masks, &b2);
	if (!ma || !mb || !mb2)
		return TG_NO_SERVICE;
#pragma unroll
	for (w = 0; w < TG_MASK_WORDS; w++) {
		__u64 m = ma->w[w] & (mb->w[w] | mb2->w[w]);

		if (m)
			return w * 64 + lowest_bit(m);
	}
	return TG_NO_SERVICE;
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

static __always_inline int is_essential_icmp(struct packet *pkt)
{
	__u32 t = pkt->icmp_type;

	if (pkt->family == TG_FAMILY_V4)
		return pkt->protocol == IPPROTO_ICMP && (t == 3 || t == 11 || t == 12);
	return pkt->protocol == IPPROTO_ICMPV6 && ((t >= 1 && t <= 4) || (t >= 133 && t <= 137));
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

static __always_inline void classify(struct generation *g, struct packet *pkt, struct decision *d)
{
	const struct tg_settings *set = &g->policy->settings;
	__u32 peer, service, row, value_req = 0, value_rep = 0, rep_cls = 0;

	if (set->icmp_mode == TG_ICMP_ALLOW_ESSENTIAL && !pkt->nonfirst_fragment && is_essential_icmp(pkt))
		return decide(d, TG_PASS, TG_REASON_ESSENTIAL_ICMP);
	if (pkt->nonfirst_fragment && set->frag_mode != TG_FRAG_MATCH)
		return decide(d, set->frag_mode == TG_FRAG_ALLOW ? TG_PASS : TG_DROP, TG_REASON_FRAGMENT);

	peer = lookup_peer_class(g, pkt);
	if (!peer)
		return decide(d, set->default_verdict, TG_REASON_DEFAULT);
	if (pkt->nonfirst_fragment) {
		service = first_common(g, peer, l4_class(g, tg_frag_index(pkt->family, pkt->protocol)), 0);
		if (service == TG_NO_SERVICE)
			return decide(d, set->default_verdict, TG_REASON_DEFAULT);
		return decide_service(g, d, service, TG_ROLE_FRAGMENT, TG_REASON_FRAGMENT);
	}
	row = l4_row(pkt, &value_req, &value_rep);
	/* A TCP segment without ACK (a SYN, say) is never a reply. */
	if (pkt->protocol != IPPROTO_TCP || (pkt->tcp_flags & TCP_ACK))
		rep_cls = l4_class(g, tg_l4_index(TG_ROLE_REPLY, row, value_rep));
	service = first_common(g, peer, l4_class(g, tg_l4_index(TG_ROLE_REQUEST, row, value_req)), rep_cls);
	if (service == TG_NO_SERVICE)
		return decide(d, set->default_verdict, TG_REASON_DEFAULT);
	decide_service(g, d, service, TG_ROLES, TG_REASON_SERVICE);
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

SEC("xdp.frags")
int tollgate_xdp(struct xdp_md *ctx)
{
	struct packet pkt = { .ctx = ctx, .frame_len = frame_length(ctx), .facing = cfg_facing };
	struct generation g;
	struct decision d;
	int parsed;

	if (!current_generation(&g))
		return orphan();
	if (cfg_bench)
		bench_next_address(ctx);
	parsed = parse(&pkt);

	if (parsed == PARSE_NON_IP)
		decide(&d, g.policy->settings.non_ip, TG_REASON_NON_IP);
	else if (parsed == PARSE_MALFORMED)
		decide(&d, g.policy->settings.malformed, TG_REASON_MALFORMED);
	else
		classify(&g, &pkt, &d);
	account(&d, pkt.frame_len);
	return d.verdict == TG_PASS ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
