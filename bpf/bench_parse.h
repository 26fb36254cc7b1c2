/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* For the benchmarks' reference programs only: a parse that really runs. */
#ifndef TG_BPF_BENCH_PARSE_H
#define TG_BPF_BENCH_PARSE_H

#include "parse.h"

/*
 * Every field tollgate's classification reads, folded into one word. The
 * floor and the bare trie put it in their verdict: a program that used only
 * a field or two would let clang drop the rest of the parse (the checks
 * still run, the stores and what feeds them do not), and the floor measured
 * that way cost about half of the real parse (docs/benchmarks.md).
 */
static __always_inline __u32 bench_parsed_digest(const struct packet *pkt, int parsed)
{
	return (__u32)parsed ^ pkt->family ^ pkt->protocol << 2 ^ pkt->nonfirst_fragment << 10 ^
	       pkt->more_fragments << 11 ^ pkt->sport << 12 ^ pkt->dport ^ pkt->tcp_flags << 20 ^ pkt->icmp_type << 3 ^
	       pkt->icmp_id << 7 ^ pkt->remote_off << 16 ^ pkt->local_off << 24 ^ pkt->l4_off << 8;
}

/* A digest no benchmark frame produces: the verdict stays a drop. */
#define BENCH_UNLIKELY_DIGEST 0x5a5aa5a5u

#endif /* TG_BPF_BENCH_PARSE_H */
