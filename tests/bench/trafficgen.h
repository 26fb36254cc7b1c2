/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The generator's counters, shared by trafficgen.bpf.c and trafficgen.c. */
#ifndef TG_BENCH_TRAFFICGEN_H
#define TG_BENCH_TRAFFICGEN_H

#include <linux/types.h>

/* Pacing: frames in flight at most, of the veth ring's 256. */
#define TGP_MAX_IN_FLIGHT 192
/* Pacing: how long to wait for room in the ring, in reads of a counter (a ms or so). */
#define TGP_SPIN_LOOPS (1 << 20)

/*
 * Written only by the generator and tgp_tx_xmit, on the generator's CPU.
 * The receiving CPU's one counter lives elsewhere (trafficgen.bpf.c).
 */
struct gen_state {
	__u32 cursor;	  /* where the generator is in the trace */
	__u64 sent;	  /* frames returned with XDP_TX */
	__u64 held;	  /* frames dropped by pacing */
	__u64 refused;	  /* frames the veth ring did not take */
	__u64 lost;	  /* frames given up on by the 10 ms rule (see hold_back()) */
	__u64 held_since; /* when pacing began to hold frames back, in ns */
};

#endif
