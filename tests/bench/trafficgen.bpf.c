// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The packets-per-second benchmark's own XDP programs (scripts/bench-pps.sh):
 *
 *  - tgp_gen, the traffic generator. build/bench/trafficgen runs it with
 *    BPF_PROG_TEST_RUN in live-frame mode: the kernel hands it the same
 *    template frame over and over, and each XDP_TX really transmits the
 *    frame out of the veth given as the ingress device, into its peer.
 *    Before that it writes the next source address from a trace, so the
 *    receiver sees many addresses and no lookup runs on a warm cache.
 *  - tgp_drop, the floor: counts the frame and drops it. The least any XDP
 *    program on the receiving veth can cost.
 *  - tgp_pass, counts the frame and passes it. For the nftables run: a veth
 *    receives redirected frames only while its NAPI is up, which takes an
 *    XDP program on it, and nft's own counters cannot be read quickly
 *    while its sets hold a million elements, so the frames are counted
 *    here, on their way to nft's ingress hook.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>

/* Entries in trace; the loader sets it together with the map's size. */
const volatile __u32 trace_len = 1;

/* Source addresses, network byte order, in the order they are sent. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1); /* sized by the loader */
	__type(key, __u32);
	__type(value, __u32);
} trace SEC(".maps");

/* Frames seen by tgp_drop or tgp_pass: per CPU, so counting needs no atomics. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} tgp_count SEC(".maps");

/*
 * Where the generator is in the trace. A plain global: the generator runs
 * on the one CPU that called BPF_PROG_TEST_RUN, so nothing races on it.
 */
__u32 cursor;

/* RFC 1624 incremental update: the frame keeps a valid IPv4 checksum. */
static __always_inline __u16 csum_replace4(__u16 check, __u32 from, __u32 to)
{
	__u32 sum = (__u16)~check;

	sum += (__u16)~from + (__u16)~(from >> 16);
	sum += (__u16)to + (__u16)(to >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)~sum;
}

SEC("xdp")
int tgp_gen(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct iphdr *ip = data + sizeof(struct ethhdr);
	__u32 index = cursor, *next;

	if ((void *)(ip + 1) > end)
		return XDP_ABORTED;
	cursor = index + 1 >= trace_len ? 0 : index + 1;
	next = bpf_map_lookup_elem(&trace, &index);
	if (!next)
		return XDP_ABORTED;
	/*
	 * The kernel does not reset a recycled frame, so the old address may
	 * be any earlier one; an incremental update from what is there is
	 * right whatever it was.
	 */
	ip->check = csum_replace4(ip->check, ip->saddr, *next);
	ip->saddr = *next;
	/* In live-frame mode XDP_TX sends the frame out of the ingress device. */
	return XDP_TX;
}

static __always_inline void count(void)
{
	__u32 zero = 0;
	__u64 *n = bpf_map_lookup_elem(&tgp_count, &zero);

	if (n)
		*n += 1;
}

SEC("xdp")
int tgp_drop(struct xdp_md *ctx)
{
	(void)ctx;
	count();
	return XDP_DROP;
}

SEC("xdp")
int tgp_pass(struct xdp_md *ctx)
{
	(void)ctx;
	count();
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
