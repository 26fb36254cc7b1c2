/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * For make bench only. BPF_PROG_TEST_RUN repeats one frame; a lookup of the
 * same address a million times measures a warm cache, not a trie. With this
 * prelude every run takes the next remote address from a trace, so that the
 * floor, the bare trie and tollgate all pay for the same rewrite and see the
 * same varied addresses. In production cfg_bench is 0 and it is dead code.
 */
#ifndef TG_BPF_BENCH_H
#define TG_BPF_BENCH_H

#include "parse.h"
#include "bench_parse.h"

/* Entries in bench_trace; set with it by the benchmark. */
const volatile __u32 bench_trace_len = 1;

struct tg_bench_addr {
	__u8 addr[16];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1); /* the benchmark sizes it */
	__type(key, __u32);
	__type(value, struct tg_bench_addr);
} bench_trace SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} bench_cursor SEC(".maps");

/* The frame must be untagged Ethernet; the remote address is the source. */
static __always_inline void bench_next_address(struct xdp_md *ctx)
{
	__u32 zero = 0, *cursor = bpf_map_lookup_elem(&bench_cursor, &zero);
	struct tg_bench_addr *next;
	__u8 *eth_type = ptr_at(ctx, 12, 2), *src;
	__u32 index;

	if (!cursor || !eth_type)
		return;
	index = *cursor;
	*cursor = index + 1 >= bench_trace_len ? 0 : index + 1;
	next = bpf_map_lookup_elem(&bench_trace, &index);
	if (!next)
		return;
	if (eth_type[0] == 0x08 && eth_type[1] == 0x00) {
		src = ptr_at(ctx, ETH_HLEN + 12, 4);
		if (src)
			__builtin_memcpy(src, next->addr, 4);
	} else {
		src = ptr_at(ctx, ETH_HLEN + 8, 16);
		if (src)
			__builtin_memcpy(src, next->addr, 16);
	}
}

#endif /* TG_BPF_BENCH_H */
