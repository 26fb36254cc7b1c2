// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * tollgate's data plane: parse, classify against the compiled policy, count,
 * pass or drop. The semantics are docs/policy.md's; the map layout is
 * include/tollgate.h's; parsing is in parse.h.
 */
#include "parse.h"
#include "bench.h"

/* Per-attach settings: constants at load time, so dead paths are pruned. */
const volatile __u32 cfg_facing = TG_FACING_OUTSIDE;
const volatile __u32 cfg_default = TG_DROP;
const volatile __u32 cfg_non_ip = TG_PASS;
const volatile __u32 cfg_malformed = TG_DROP;
const volatile __u32 cfg_icmp_mode = TG_ICMP_ALLOW_ESSENTIAL;
const volatile __u32 cfg_frag_mode = TG_FRAG_MATCH;
const volatile __u32 cfg_trace = 0;
/* Set where the kernel has multi-buffer XDP (5.18): jumbo frames then span
 * fragments, headers stay in the linear part, and lengths come from the
 * helper. Left 0, the helper call is dead code and older kernels load us. */
const volatile __u32 cfg_multi_buffer = 0;
/* make bench only: rewrite each frame's remote address from a trace. */
const volatile __u32 cfg_bench = 0;

/* The loader sizes the tries and the mask array to the policy. */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 1);
	__type(key, struct tg_v4_key);
	__type(value, __u32);
} peers_v4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 1);
	__type(key, struct tg_v6_key);
	__type(value, __u32);
} peers_v6 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, TG_L4_ENTRIES);
	__type(key, __u32);
	__type(value, __u32);
} l4_classes SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct tg_mask);
} masks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, TG_MAX_SERVICES);
	__type(key, __u32);
	__type(value, struct tg_service_entry);
} services SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, TG_MAX_COUNTER_SLOTS);
	__type(key, __u32);
	__type(value, struct tg_service_counters);
} service_counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, TG_REASONS);
	__type(key, __u32);
	__type(value, struct tg_reason_counters);
} reason_counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct tg_trace);
} trace SEC(".maps");

struct decision {
	__u32 verdict;
	__u32 reason;
	__u32 service;
	__u32 role;
	__u32 counter_slot; /* the service's, looked up once with its action */
};

/* ------------------------------------------------------------- lookup */

/*
 * The one place that turns a remote address into a peer class. Replacing the
 * LPM tries with another structure changes this function only.
 */
static __always_inline __u32 lookup_peer_class(struct packet *pkt)
{
	__u32 *cls = 0;

	if (pkt->family == TG_FAMILY_V4) {
		struct tg_v4_key key = { .prefixlen = 32 };
		__u8 *a = ptr_at(pkt->ctx, pkt->remote_off, 4);

		if (!a)
			return 0;
		__builtin_memcpy(key.addr, a, 4);
		cls = bpf_map_lookup_elem(&peers_v4, &key);
	} else {
		struct tg_v6_key key = { .prefixlen = 128 };
		__u8 *a = ptr_at(pkt->ctx, pkt->remote_off, 16);

		if (!a)
			return 0;
		__builtin_memcpy(key.addr, a, 16);
		cls = bpf_map_lookup_elem(&peers_v6, &key);
	}
	return cls ? *cls : 0;
}

static __always_inline __u32 l4_class(__u32 index)
{
	__u32 *cls = bpf_map_lookup_elem(&l4_classes, &index);

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
static __always_inline __u32 first_common(__u32 a, __u32 b, __u32 b2)
{
	struct tg_mask *ma = bpf_map_lookup_elem(&masks, &a);
	struct tg_mask *mb = bpf_map_lookup_elem(&masks, &b);
	struct tg_mask *mb2 = bpf_map_lookup_elem(&masks, &b2);
	__u32 w;

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

static __always_inline __u32 l4_slot(struct packet *pkt, __u32 *value_req, __u32 *value_rep)
{
	switch (pkt->protocol) {
	case IPPROTO_TCP:
		*value_req = pkt->dport;
		*value_rep = pkt->sport;
		return TG_SLOT_TCP;
	case IPPROTO_UDP:
		*value_req = pkt->dport;
		*value_rep = pkt->sport;
		return TG_SLOT_UDP;
	case IPPROTO_SCTP:
		*value_req = pkt->dport;
		*value_rep = pkt->sport;
		return TG_SLOT_SCTP;
	}
	if (pkt->family == TG_FAMILY_V4 && pkt->protocol == IPPROTO_ICMP) {
		*value_req = *value_rep = pkt->icmp_type;
		return TG_SLOT_ICMP;
	}
	if (pkt->family == TG_FAMILY_V6 && pkt->protocol == IPPROTO_ICMPV6) {
		*value_req = *value_rep = pkt->icmp_type;
		return TG_SLOT_ICMPV6;
	}
	*value_req = *value_rep = pkt->protocol;
	return TG_SLOT_OTHER;
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

static __always_inline void decide_service(struct decision *d, __u32 service, __u32 role_override, __u32 reason)
{
	struct tg_service_entry *svc = bpf_map_lookup_elem(&services, &service);

	if (!svc) {
		decide(d, cfg_default, TG_REASON_DEFAULT);
		return;
	}
	d->verdict = svc->action;
	d->reason = reason;
	d->service = service;
	d->role = role_override < TG_ROLES ? role_override : svc->role;
	d->counter_slot = svc->counter_slot;
}

static __always_inline void classify(struct packet *pkt, struct decision *d)
{
	__u32 peer, service, slot, value_req = 0, value_rep = 0, rep_cls = 0;

	if (cfg_icmp_mode == TG_ICMP_ALLOW_ESSENTIAL && !pkt->nonfirst_fragment && is_essential_icmp(pkt))
		return decide(d, TG_PASS, TG_REASON_ESSENTIAL_ICMP);
	if (pkt->nonfirst_fragment && cfg_frag_mode != TG_FRAG_MATCH)
		return decide(d, cfg_frag_mode == TG_FRAG_ALLOW ? TG_PASS : TG_DROP, TG_REASON_FRAGMENT);

	peer = lookup_peer_class(pkt);
	if (!peer)
		return decide(d, cfg_default, TG_REASON_DEFAULT);
	if (pkt->nonfirst_fragment) {
		service = first_common(peer, l4_class(tg_frag_index(pkt->family, pkt->protocol)), 0);
		if (service == TG_NO_SERVICE)
			return decide(d, cfg_default, TG_REASON_DEFAULT);
		return decide_service(d, service, TG_ROLE_FRAGMENT, TG_REASON_FRAGMENT);
	}
	slot = l4_slot(pkt, &value_req, &value_rep);
	/* A TCP segment without ACK (a SYN, say) is never a reply. */
	if (pkt->protocol != IPPROTO_TCP || (pkt->tcp_flags & TCP_ACK))
		rep_cls = l4_class(tg_l4_index(TG_ROLE_REPLY, slot, value_rep));
	service = first_common(peer, l4_class(tg_l4_index(TG_ROLE_REQUEST, slot, value_req)), rep_cls);
	if (service == TG_NO_SERVICE)
		return decide(d, cfg_default, TG_REASON_DEFAULT);
	decide_service(d, service, TG_ROLES, TG_REASON_SERVICE);
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

SEC("xdp.frags")
int tollgate_xdp(struct xdp_md *ctx)
{
	struct packet pkt = { .ctx = ctx, .frame_len = frame_length(ctx), .facing = cfg_facing };
	struct decision d;
	int parsed;

	if (cfg_bench)
		bench_next_address(ctx);
	parsed = parse(&pkt);

	if (parsed == PARSE_NON_IP)
		decide(&d, cfg_non_ip, TG_REASON_NON_IP);
	else if (parsed == PARSE_MALFORMED)
		decide(&d, cfg_malformed, TG_REASON_MALFORMED);
	else
		classify(&pkt, &d);
	account(&d, pkt.frame_len);
	return d.verdict == TG_PASS ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
