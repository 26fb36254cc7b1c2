// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* make bench's trie: the floor plus one bare LPM lookup of the remote address. */
#include "parse.h"
#include "bench.h"

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 1);
	__type(key, struct tg_v4_key);
	__type(value, __u32);
} bare_v4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 1);
	__type(key, struct tg_v6_key);
	__type(value, __u32);
} bare_v6 SEC(".maps");

SEC("xdp")
int bench_lpm(struct xdp_md *ctx)
{
	struct packet pkt;
	__u32 *hit = 0, digest;
	int parsed;

	bench_next_address(ctx);
	packet_init(&pkt, (void *)(long)ctx->data, (void *)(long)ctx->data_end, (__u32)(ctx->data_end - ctx->data),
		    TG_FACING_OUTSIDE);
	parsed = parse(&pkt);
	digest = bench_parsed_digest(&pkt, parsed); /* the whole parse, as in the floor */
	if (parsed != PARSE_IP)
		return XDP_DROP;
	if (pkt.family == TG_FAMILY_V4) {
		struct tg_v4_key key = { .prefixlen = 32 };
		__u8 *a = pkt_at(&pkt, pkt.remote_off, 4);

		if (!a)
			return XDP_DROP;
		__builtin_memcpy(key.addr, a, 4);
		hit = bpf_map_lookup_elem(&bare_v4, &key);
	} else {
		struct tg_v6_key key = { .prefixlen = 128 };
		__u8 *a = pkt_at(&pkt, pkt.remote_off, 16);

		if (!a)
			return XDP_DROP;
		__builtin_memcpy(key.addr, a, 16);
		hit = bpf_map_lookup_elem(&bare_v6, &key);
	}
	return hit && *hit == 0xffffffff && digest != BENCH_UNLIKELY_DIGEST ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
