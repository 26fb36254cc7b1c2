// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The program tollgate attaches (through libxdp). It stays attached for the
 * life of the attachment and hands every frame to the current policy program
 * through a one-slot program array: a reload replaces that slot, one atomic
 * store, so each packet meets exactly one policy. The pinned state maps are
 * declared here so that they exist before any policy is loaded.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "tollgate.h"

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} policy_prog SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct tg_meta);
} meta SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, TG_MAX_COUNTER_SLOTS);
	__type(key, __u32);
	__type(value, struct tg_slot);
} slots SEC(".maps");

/* Frames that found no policy program: only while the state is broken. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} orphans SEC(".maps");

SEC("xdp.frags")
int tollgate_entry(struct xdp_md *ctx)
{
	__u32 zero = 0;
	__u64 *n;

	bpf_tail_call(ctx, &policy_prog, 0);
	/* Fail open: an empty slot must not cut a host off its network. */
	n = bpf_map_lookup_elem(&orphans, &zero);
	if (n)
		*n += 1;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
