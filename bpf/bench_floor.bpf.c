// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* make bench's floor: tollgate's parser, the same trace rewrite, then drop. */
#include "parse.h"
#include "bench.h"

SEC("xdp")
int bench_floor(struct xdp_md *ctx)
{
	struct packet pkt;
	int parsed;

	bench_next_address(ctx);
	packet_init(&pkt, (void *)(long)ctx->data, (void *)(long)ctx->data_end, (__u32)(ctx->data_end - ctx->data),
		    TG_FACING_OUTSIDE);
	parsed = parse(&pkt);
	/* Never true for the benchmark's frames; keeps the parse from being optimised away. */
	return parsed == PARSE_IP && pkt.dport == 1 && pkt.remote_off == 1 ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
