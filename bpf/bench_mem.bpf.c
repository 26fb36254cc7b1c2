// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* make bench's memory latency: a chain of dependent reads through an array of
 * 64-byte elements, each holding the index of the next (a random cycle the
 * loader writes), so that every read waits for the one before, as the peer
 * lookup's reads do. The array is mmapable, like the lookup's. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define BENCH_MEM_CHAIN 16

struct bench_mem_line {
	__u64 next, pad[7];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1); /* sized by the loader */
	__type(key, __u32);
	__type(value, struct bench_mem_line);
} bench_lines SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} bench_cursor SEC(".maps");

SEC("xdp")
int bench_mem(struct xdp_md *ctx)
{
	__u32 zero = 0, *cursor = bpf_map_lookup_elem(&bench_cursor, &zero), at;

	(void)ctx;
	if (!cursor)
		return XDP_ABORTED;
	at = *cursor;
	for (int i = 0; i < BENCH_MEM_CHAIN; i++) {
		struct bench_mem_line *line = bpf_map_lookup_elem(&bench_lines, &at);

		if (!line)
			return XDP_ABORTED;
		at = (__u32)line->next;
	}
	*cursor = at;
	return XDP_DROP;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
