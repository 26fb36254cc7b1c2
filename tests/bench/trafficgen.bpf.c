// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The packets-per-second benchmark's own BPF programs (scripts/bench-pps.sh):
 *
 *  - tgp_gen, the traffic generator. build/bench/trafficgen runs it with
 *    BPF_PROG_TEST_RUN in live-frame mode: the kernel hands it the same
 *    template frame over and over, and each XDP_TX really transmits the
 *    frame out of the veth given as the ingress device, into its peer.
 *    Before that it writes the next source address from a trace, so the
 *    receiver sees many addresses and no lookup runs on a warm cache.
 *  - tgp_rx_poll and tgp_tx_xmit, on two tracepoints, let the generator
 *    keep pace with the receiver (see "Pacing" below).
 *  - tgp_drop, the floor: counts the frame and drops it. The least any XDP
 *    program on the receiving veth can cost.
 *  - tgp_touch, the touch floor: counts the frame, reads its IPv4 source
 *    address and drops it. What any filter that decides on the source
 *    pays at least: the line of the frame that holds the address, which
 *    the generator has just written on its own CPU.
 *  - tgp_parse, the parse floor: counts the frame, runs tollgate's parser
 *    over it and drops it. What any filter that reads the headers pays
 *    before it decides: the parser's code (the frame's line itself costs
 *    about what the touch floor shows, next to nothing).
 *  - tgp_pass, counts the frame and passes it. For the nftables run: a veth
 *    receives redirected frames only while its NAPI is up, which takes an
 *    XDP program on it, and nft's own counters cannot be read quickly
 *    while its sets hold a million elements, so the frames are counted
 *    here, on their way to nft's ingress hook.
 *
 * Pacing. The veth between generator and receiver is a ring of 256 frames.
 * A generator that outruns the receiver overflows it, and every frame the
 * ring refuses is freed on the generator's CPU while the receiver frees
 * the others on its own: the two CPUs then fight over the frames' page
 * pool, and the receiver's cost depends on how far the generator outruns
 * it. So the generator counts the frames it has in flight (sent, minus
 * consumed by the receiver's NAPI polls, minus refused by the ring) and,
 * once the ring is nearly full, waits for room before it sends the next
 * frame, spinning on the receiver's counter. The receiver never runs dry
 * and never sees the generator's page churn. The counts come from the
 * napi_poll and xdp_devmap_xmit tracepoints: once per poll of up to 64
 * frames, and once per bulk of up to 16. (fexit would be cheaper, but
 * kernels without BPF trampolines, such as the development VM's, refuse
 * it.)
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>
#include "bench_parse.h"

#include "trafficgen.h"

#define IFNAMSIZ 16

/*
 * The two tracepoints' records, just the fields read; libbpf relocates them
 * against the running kernel's BTF (CO-RE), so no vmlinux.h is needed.
 */
struct trace_event_raw_napi_poll {
	__u32 __data_loc_dev_name; /* offset from the record's start | length << 16 */
	int work;
} __attribute__((preserve_access_index));

struct trace_event_raw_xdp_devmap_xmit {
	int drops;
} __attribute__((preserve_access_index));

/* Entries in trace; the loader sets it together with the map's size. */
const volatile __u32 trace_len = 1;
/*
 * Pacing: the receiving veth, the generator's process, and the frames
 * allowed in flight (0: no pacing).
 */
const volatile char rx_dev[IFNAMSIZ];
const volatile __u32 gen_tgid;
const volatile __u32 max_in_flight;

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
 * The generator's state. Each counter has one writer: the generator and
 * tgp_tx_xmit run in the process that called BPF_PROG_TEST_RUN, on its
 * CPU, and tgp_rx_poll in the receiving veth's one NAPI context, so plain
 * adds are enough. What each side writes sits on cache lines of its own.
 */
struct gen_state gen __attribute__((aligned(64)));
/* Frames the receiver's NAPI polled off the ring. */
__u64 consumed __attribute__((aligned(64)));

/* RFC 1624 incremental update: the frame keeps a valid IPv4 checksum. */
static __always_inline __u16 csum_replace4(__u16 check, __u32 from, __u32 to)
{
	__u32 sum = (__u16)~check;

	sum += (__u16)~from + (__u16) ~(from >> 16);
	sum += (__u16)to + (__u16)(to >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)~sum;
}

static __always_inline __u64 in_flight(void)
{
	/* consumed changes under us, on the receiving CPU: read it afresh. */
	return gen.sent - *(volatile __u64 *)&consumed - gen.refused - gen.lost;
}

static long wait_for_room(__u64 index, void *unused)
{
	(void)index;
	(void)unused;
	return in_flight() < max_in_flight; /* 1 stops the loop */
}

/*
 * Whether to hold this frame back because the ring is full. First the
 * generator waits for room, spinning on the receiver's counter: a frame
 * dropped here is recycled at once and the next one allocated, and that
 * churn in the frames' page pool would slow the receiver, which returns
 * its frames to the same pool. Only a longer wait drops the frame.
 *
 * A frame lost where neither tracepoint sees it would leave the count too
 * high for good; after 10 ms without progress the count starts over.
 */
static __always_inline int hold_back(void)
{
	__u64 now;

	if (!max_in_flight || in_flight() < max_in_flight) {
		gen.held_since = 0;
		return 0;
	}
	bpf_loop(TGP_SPIN_LOOPS, wait_for_room, NULL, 0);
	if (in_flight() < max_in_flight) {
		gen.held_since = 0;
		return 0;
	}
	now = bpf_ktime_get_ns();
	if (!gen.held_since) {
		gen.held_since = now;
	} else if (now - gen.held_since > 10000000) {
		gen.lost += in_flight();
		gen.held_since = 0;
		return 0;
	}
	gen.held++;
	return 1;
}

SEC("xdp")
int tgp_gen(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct iphdr *ip = data + sizeof(struct ethhdr);
	__u32 index = gen.cursor, *next;

	if ((void *)(ip + 1) > end)
		return XDP_ABORTED;
	if (hold_back())
		return XDP_DROP; /* recycled on this CPU, never seen by the receiver */
	gen.cursor = index + 1 >= trace_len ? 0 : index + 1;
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
	gen.sent++;
	/* In live-frame mode XDP_TX sends the frame out of the ingress device. */
	return XDP_TX;
}

static __always_inline int is_rx_dev(const char *name)
{
	for (int i = 0; i < IFNAMSIZ; i++) {
		if (name[i] != rx_dev[i])
			return 0;
		if (!name[i])
			break;
	}
	return 1;
}

/* Every frame the receiving veth's NAPI takes off the ring. */
SEC("tracepoint/napi/napi_poll")
int tgp_rx_poll(struct trace_event_raw_napi_poll *ctx)
{
	__u32 loc = ctx->__data_loc_dev_name;
	char name[IFNAMSIZ] = {};
	int work = ctx->work;

	if (work <= 0 || bpf_probe_read_kernel(name, sizeof(name) - 1, (void *)ctx + (loc & 0xffff)))
		return 0;
	if (is_rx_dev(name))
		consumed += (__u64)work;
	return 0;
}

/* Every frame the ring refused, from our own XDP_TX bulks only. */
SEC("tracepoint/xdp/xdp_devmap_xmit")
int tgp_tx_xmit(struct trace_event_raw_xdp_devmap_xmit *ctx)
{
	int drops = ctx->drops;

	if (bpf_get_current_pid_tgid() >> 32 == gen_tgid && drops > 0)
		gen.refused += (__u64)drops;
	return 0;
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
int tgp_touch(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct iphdr *ip = data + sizeof(struct ethhdr);

	count();
	if ((void *)(ip + 1) > end)
		return XDP_DROP;
	/* The verdict depends on the address, so the read stays. */
	return ip->saddr == BENCH_UNLIKELY_DIGEST ? XDP_PASS : XDP_DROP;
}

SEC("xdp")
int tgp_parse(struct xdp_md *ctx)
{
	struct packet pkt;
	int parsed;

	count();
	packet_init(&pkt, (void *)(long)ctx->data, (void *)(long)ctx->data_end, (__u32)(ctx->data_end - ctx->data),
		    TG_FACING_OUTSIDE);
	parsed = parse(&pkt);
	return bench_parsed_digest(&pkt, parsed) == BENCH_UNLIKELY_DIGEST ? XDP_PASS : XDP_DROP;
}

SEC("xdp")
int tgp_pass(struct xdp_md *ctx)
{
	(void)ctx;
	count();
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
