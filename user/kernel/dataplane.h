/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef TG_DATAPLANE_H
#define TG_DATAPLANE_H

#include "compile/compile.h"
#include "kernel/generation.h"

#include <stddef.h>
#include <stdint.h>

struct tollgate;

/* One loaded instance of the XDP program with its maps filled from an image. */
struct tg_dataplane {
	struct tollgate *skel;
	struct tg_generation gen; /* the one generation, at slot 0 */
	bool trace;
};

struct tg_load_opts {
	bool trace; /* record each decision, for replay and tests */
	/* make bench: each run takes the next remote address from this trace. */
	const uint8_t (*bench_addrs)[16];
	uint32_t bench_count;
	/* Flow timeouts follow tg_dataplane_set_clock(), not the host's clock. */
	bool clock_from_map;
	/* make bench: the live trace compiled out, to time its idle check. */
	bool no_live_trace;
	char *log;	  /* out: libbpf/verifier messages on failure (caller frees) */
	uint64_t load_ns; /* out: open and verify */
	uint64_t fill_ns; /* out: writing the image into the maps */
	/* out: instructions the verifier processed (5.16+; else 0), for make bench */
	uint32_t verified_xdp, verified_egress;
};

/* For test runs (replay, tests, make bench): a program of its own, unpinned,
 * with img as its only generation. */
int tg_dataplane_load(struct tg_dataplane *dp, const struct tg_image *img, struct tg_load_opts *opts);
/* What every load sets before the kernel sees the object. */
void tg_dataplane_configure(struct tollgate *skel, int facing, bool trace);
/* libbpf and libxdp speak through tollgate's log (-v shows them). */
void tg_route_library_logs(void);
/* libbpf's messages from now on are also kept, for a load error's report. */
void tg_dataplane_capture_log(void);
char *tg_dataplane_take_log(void); /* caller frees */
void tg_dataplane_destroy(struct tg_dataplane *dp);
int tg_dataplane_prog_fd(const struct tg_dataplane *dp);

/* Runs one frame through the program (BPF_PROG_TEST_RUN). */
/* verdict: enum tg_action. */
int tg_dataplane_run(struct tg_dataplane *dp, const uint8_t *frame, size_t len, int *verdict, struct tg_trace *trace);

/* Runs one frame through the egress classifier, which only records flows. */
int tg_dataplane_run_egress(struct tg_dataplane *dp, const uint8_t *frame, size_t len);
/* The time the program sees, with clock_from_map (ns, CLOCK_MONOTONIC-like). */
int tg_dataplane_set_clock(struct tg_dataplane *dp, uint64_t now_ns);
/* The program's own flow tables and their counters. */
struct tg_flow_summary;
int tg_dataplane_flows(struct tg_dataplane *dp, uint64_t now_ns, struct tg_flow_summary *out);
/* The program's flow tables (by opener) and their hints, for tests. */
void tg_dataplane_flow_maps(struct tg_dataplane *dp, int table_fd[TG_OPENERS], int *hints_fd);

/* The sum over CPUs of a per-CPU map's value at key, as nwords u64s. */
int tg_sum_percpu(int fd, uint32_t key, uint64_t *out, size_t nwords);
/* Sums of the per-CPU counters. */
int tg_dataplane_service_counters(struct tg_dataplane *dp, uint32_t slot, struct tg_service_counters *out);
int tg_dataplane_reason_counters(struct tg_dataplane *dp, uint32_t reason, struct tg_reason_counters *out);

/* Multi-buffer XDP (5.18); programs load without the frags flag elsewhere. */
bool tg_kernel_has_multi_buffer(void);

/* Kernel memory of a map (fdinfo memlock), or 0 when the kernel does not say. */
uint64_t tg_map_memory(int map_fd);
/* Writes a benchmark trace into any object that includes bpf/bench.h. */
int tg_fill_bench_trace(int map_fd, const uint8_t (*addrs)[16], uint32_t count);

#endif
