// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* make bench's floor: tollgate's parser, the same trace rewrite, then drop.
 * Every parsed field feeds the verdict, so the whole parse runs. */
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
	return bench_parsed_digest(&pkt, parsed) == BENCH_UNLIKELY_DIGEST ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
