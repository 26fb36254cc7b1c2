// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * make bench, data plane: per-packet cost through BPF_PROG_TEST_RUN of
 * tollgate next to a floor (the same parser, then drop) and a bare LPM trie
 * of the same prefixes, for the seed policies and random policies of growing
 * size. Every run rewrites the remote address from a trace of varied
 * addresses (bpf/bench.h), so no configuration gets a warm cache for free.
 *
 * Then flow tracking (issue 12): the request path (the egress classifier
 * refreshing the host's flow, XDP opening a remote client's flow) and the
 * reply path (a reply inside a live flow) under `replies tracked` next to
 * `replies stateless`, and spoofed replies (no flow) next to a default-deny
 * drop, all measured in the same run.
 *
 *   bench_dataplane [--repeat N] [--runs N] [--quick] [--flows-only] [--only NAMES] [--json FILE]
 *
 * Numbers only: this is never a pass/fail test.
 */
#include "model/classify.h"
#include "compile/compile.h"
#include "compile/lookup.h"
#include "kernel/dataplane.h"
#include "pktbuild.h"
#include "policy/policy.h"
#include "lib/util.h"
#include "tollgate.skel.h"
#include "bench_floor.skel.h"
#include "bench_lpm.skel.h"
#include "bench_mem.skel.h"

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <math.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/mman.h>
#include <unistd.h>

#define TRACE_LEN 65536
#define MAX_RUNS 15

struct config {
	const char *name;
	const char *policy; /* a file, or NULL to generate */
	long v4, v6;
	bool ports;
	int family;
};

static const struct config configs[] = {
	{ "notarius", "policies/notarius.policy", 0, 0, false, TG_FAMILY_V4 },
	{ "cryptshare", "policies/cryptshare.policy", 0, 0, false, TG_FAMILY_V4 },
	{ "v4-1k", NULL, 1000, 0, false, TG_FAMILY_V4 },
	{ "v4-10k", NULL, 10000, 0, false, TG_FAMILY_V4 },
	{ "v4-100k", NULL, 100000, 0, false, TG_FAMILY_V4 },
	{ "v4-1m", NULL, 1000000, 0, false, TG_FAMILY_V4 },
	{ "v6-10k", NULL, 0, 10000, false, TG_FAMILY_V6 },
	{ "v6-100k", NULL, 0, 100000, false, TG_FAMILY_V6 },
	{ "v4-10k-ranges", NULL, 10000, 0, true, TG_FAMILY_V4 },
};

static unsigned repeat = 1000000, runs = 5;

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t next_random(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, unsigned n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static double elapsed_s(const struct timespec *a)
{
	struct timespec b;

	clock_gettime(CLOCK_MONOTONIC, &b);
	return (double)(b.tv_sec - a->tv_sec) + (double)(b.tv_nsec - a->tv_nsec) / 1e9;
}

/* Writes a generated policy with the same generator as the compile benchmark. */
static int generate(const struct config *c, char *path, size_t size)
{
	char cmd[512];

	snprintf(path, size, "/tmp/tollgate-bench-%d-%s.policy", getpid(), c->name);
	snprintf(cmd, sizeof(cmd), "build/bench/gen_policy --seed 42 %s %ld %ld > %s", c->ports ? "--ports" : "", c->v4,
		 c->v6, path);
	return system(cmd) == 0 ? 0 : -EIO;
}

/* Half the trace hits the policy's prefixes, half is anywhere. */
static void make_trace(const struct tg_image *img, int family, uint8_t (*trace)[16])
{
	size_t n = img->nprefixes[family];

	for (uint32_t i = 0; i < TRACE_LEN; i++) {
		for (int b = 0; b < 16; b += 8) {
			uint64_t r = next_random();

			memcpy(trace[i] + b, &r, 8);
		}
		if (n && (i & 1)) {
			const struct tg_image_prefix *p = &img->prefixes[family][next_random() % n];
			unsigned len = p->prefixlen;

			for (unsigned bit = 0; bit < len; bit++) {
				uint8_t m = (uint8_t)(0x80 >> (bit % 8));

				trace[i][bit / 8] = (uint8_t)((trace[i][bit / 8] & ~m) | (p->addr[bit / 8] & m));
			}
		}
	}
}

static size_t make_frame(int family, uint8_t *buf, size_t cap)
{
	struct pb_packet p = { .protocol = 6, .sport = 443, .dport = 50000, .tcp_flags = 0x10 };

	pb_addrs(&p, family == TG_FAMILY_V4 ? "198.51.100.1" : "2001:db8::1",
		 family == TG_FAMILY_V4 ? "192.0.2.10" : "2001:db8::10");
	return pb_build(&p, buf, cap);
}

/* One BPF_PROG_TEST_RUN of `repeat` packets: ns per packet. */
static double time_once(int prog_fd, const uint8_t *frame, size_t len)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame, .data_size_in = (uint32_t)len, .repeat = repeat);

	if (bpf_prog_test_run_opts(prog_fd, &opts)) {
		fprintf(stderr, "bench: test run failed: %s\n", strerror(errno));
		exit(1);
	}
	return opts.duration;
}

/*
 * Two frames (through one program or two), run after run in turn, so that both see
 * the same machine: their medians, and the median of the per-run ratios
 * (steadier than the ratio of medians on a noisy host).
 */
struct pair_time {
	double a, b, ratio;
};

static struct pair_time time_pair(int prog_a, const uint8_t *frame_a, size_t len_a, int prog_b, const uint8_t *frame_b,
				  size_t len_b)
{
	double sa[MAX_RUNS], sb[MAX_RUNS], ratio[MAX_RUNS];
	struct pair_time t;

	for (unsigned r = 0; r < runs; r++) {
		sa[r] = time_once(prog_a, frame_a, len_a);
		sb[r] = time_once(prog_b, frame_b, len_b);
		ratio[r] = sb[r] > 0 ? sa[r] / sb[r] : 0;
	}
	t.a = median(sa, runs);
	t.b = median(sb, runs);
	t.ratio = median(ratio, runs);
	return t;
}

/* The floor and the bare trie, loaded once per config, timed in turn with tollgate. */
static struct bench_floor *load_floor(uint8_t (*trace)[16])
{
	struct bench_floor *s = bench_floor__open();

	if (!s)
		exit(1);
	s->rodata->bench_trace_len = TRACE_LEN;
	bpf_map__set_max_entries(s->maps.bench_trace, TRACE_LEN);
	if (bench_floor__load(s) ||
	    tg_fill_bench_trace(bpf_map__fd(s->maps.bench_trace), (const uint8_t(*)[16])trace, TRACE_LEN)) {
		fprintf(stderr, "bench: cannot load the floor program\n");
		exit(1);
	}
	return s;
}

static struct bench_lpm *load_lpm(const struct tg_image *img, int family, uint8_t (*trace)[16], uint64_t *memory)
{
	struct bench_lpm *s = bench_lpm__open();
	size_t n = img->nprefixes[family];
	struct bpf_map *map;
	int fd;

	if (!s)
		exit(1);
	map = family == TG_FAMILY_V4 ? s->maps.bare_v4 : s->maps.bare_v6;
	s->rodata->bench_trace_len = TRACE_LEN;
	bpf_map__set_max_entries(s->maps.bench_trace, TRACE_LEN);
	bpf_map__set_max_entries(map, n ? (uint32_t)n : 1);
	if (bench_lpm__load(s) ||
	    tg_fill_bench_trace(bpf_map__fd(s->maps.bench_trace), (const uint8_t(*)[16])trace, TRACE_LEN)) {
		fprintf(stderr, "bench: cannot load the trie program\n");
		exit(1);
	}
	fd = bpf_map__fd(map);
	for (size_t i = 0; i < n; i++) {
		struct tg_v6_key key = { .prefixlen = img->prefixes[family][i].prefixlen };
		uint32_t one = 1;

		memcpy(key.addr, img->prefixes[family][i].addr, 16);
		bpf_map_update_elem(fd, &key, &one, BPF_ANY);
	}
	*memory = tg_map_memory(fd);
	return s;
}

/* ------------------------------------------------------- flow tracking */

static const char flow_policy[] =
	"default deny\n"
	"service ntp { direction out; protocol udp; ports 123; peers any; action allow }\n"
	"service dns-server { direction in; protocol udp; ports 53; peers any; action allow }\n";

enum flow_frame { F_EGRESS_REQ, F_REMOTE_REQ, F_REPLY, F_SPOOF, F_DENY, F_FRAMES };

/* UDP over IPv4, facing outside; local 192.0.2.10, remote 198.51.100.1. */
static size_t flow_frame(enum flow_frame which, uint8_t *buf, size_t cap)
{
	static const struct {
		bool outbound;
		uint16_t sport, dport;
	} f[F_FRAMES] = {
		[F_EGRESS_REQ] = { true, 50000, 123 }, /* the host asks the remote's NTP */
		[F_REMOTE_REQ] = { false, 40000, 53 }, /* a remote client asks our DNS */
		[F_REPLY] = { false, 123, 50000 },     /* the answer to F_EGRESS_REQ */
		[F_SPOOF] = { false, 123, 40001 },     /* from :123 to a port that asked nothing */
		[F_DENY] = { false, 9999, 40001 },     /* no service at all */
	};
	struct pb_packet p = { .protocol = 17, .sport = f[which].sport, .dport = f[which].dport, .payload = 48 };

	if (f[which].outbound)
		pb_addrs(&p, "192.0.2.10", "198.51.100.1");
	else
		pb_addrs(&p, "198.51.100.1", "192.0.2.10");
	return pb_build(&p, buf, cap);
}

struct flow_bench {
	struct tg_policy pol;
	struct tg_image img;
	struct tg_dataplane dp;
	struct tg_diags diags;
};

/* The flow policy with `replies MODE`; trace: every packet from the next
 * remote address; no_live_trace: tollgate trace compiled out. */
static int flow_load(struct flow_bench *b, const char *mode, uint8_t (*trace)[16], bool no_live_trace)
{
	struct tg_load_opts opts = { .bench_addrs = (const uint8_t(*)[16])trace,
				     .bench_count = trace ? TRACE_LEN : 0,
				     .no_live_trace = no_live_trace };
	char path[256];
	FILE *f;
	int err;

	snprintf(path, sizeof(path), "/tmp/tollgate-bench-%d-flows.policy", getpid());
	f = fopen(path, "w");
	if (!f)
		return -errno;
	fprintf(f, "replies %s\n%s", mode, flow_policy);
	fclose(f);
	tg_diags_init(&b->diags, stderr);
	err = tg_policy_parse_file(&b->pol, &b->diags, path) || tg_compile(&b->pol, TG_FACING_OUTSIDE, NULL, &b->img);
	unlink(path);
	if (err)
		return -EINVAL;
	err = tg_dataplane_load(&b->dp, &b->img, &opts);
	if (err)
		fprintf(stderr, "bench: cannot load tollgate (flows, %s): %s\n", mode, opts.log ? opts.log : "");
	else if (!trace)
		printf("verified (%s): xdp %u instructions, egress %u (the limit is 1,000,000)\n", mode,
		       opts.verified_xdp, opts.verified_egress);
	free(opts.log);
	return err;
}

static void flow_unload(struct flow_bench *b)
{
	tg_dataplane_destroy(&b->dp);
	tg_image_free(&b->img);
	tg_policy_free(&b->pol);
	tg_diags_free(&b->diags);
}

static int egress_fd(struct flow_bench *b)
{
	return bpf_program__fd(b->dp.skel->progs.tollgate_egress);
}

/* What the program decides for one frame: the benchmark times only paths it has checked. */
static void expect_verdict(struct flow_bench *b, uint8_t (*frames)[128], size_t *lens, enum flow_frame which, int want,
			   const char *what)
{
	int verdict = -1;

	if (tg_dataplane_run(&b->dp, frames[which], lens[which], &verdict, NULL) || verdict != want) {
		fprintf(stderr, "bench: %s: the program says %s, not %s\n", what, verdict == TG_PASS ? "pass" : "drop",
			want == TG_PASS ? "pass" : "drop");
		exit(1);
	}
}

struct flow_row {
	const char *name, *left, *right;
	double l, r, ratio; /* ratio 0: l / r */
};

static void flow_print(FILE *json, const struct flow_row *rows, size_t n)
{
	printf("\nflow tracking (UDP over IPv4, facing outside): median of %u runs x %u repeats, one CPU\n", runs,
	       repeat);
	printf("%-48s %10s %10s %7s\n", "path", "ns", "vs ns", "ratio");
	for (size_t i = 0; i < n; i++) {
		double ratio = rows[i].ratio ? rows[i].ratio : rows[i].l / rows[i].r;

		printf("%-48s %10.1f %10.1f %6.2fx   (%s vs %s)\n", rows[i].name, rows[i].l, rows[i].r, ratio,
		       rows[i].left, rows[i].right);
		fprintf(json, "%s{\"name\": \"%s\", \"%s_ns\": %.2f, \"%s_ns\": %.2f, \"ratio\": %.3f}",
			i ? ",\n  " : "", rows[i].name, rows[i].left, rows[i].l, rows[i].right, rows[i].r, ratio);
	}
}

/* Checks each path of one loaded mode before anything is timed. The host's
 * request goes out first: its flow is live from then on. */
static int flow_check(struct flow_bench *b, uint8_t (*frames)[128], size_t *lens, bool tracked)
{
	expect_verdict(b, frames, lens, F_DENY, TG_DROP, "no service");
	expect_verdict(b, frames, lens, F_SPOOF, tracked ? TG_DROP : TG_PASS, "a reply without a request");
	if (tg_dataplane_run_egress(&b->dp, frames[F_EGRESS_REQ], lens[F_EGRESS_REQ]))
		return -1;
	expect_verdict(b, frames, lens, F_REPLY, TG_PASS, "the reply to the host's request");
	expect_verdict(b, frames, lens, F_REMOTE_REQ, TG_PASS, "a remote client's request");
	return 0;
}

/*
 * Both modes are loaded at once, so that each row times its two sides in
 * turn (time_pair): tracked and stateless, or a spoofed reply and a
 * default deny in the tracked program.
 */
static int bench_flows(FILE *json)
{
	static uint8_t trace[TRACE_LEN][16];
	static const char *modes[2] = { "tracked", "stateless" };
	uint8_t frames[F_FRAMES][128];
	size_t lens[F_FRAMES];
	struct flow_bench fixed[2], varied[2], untraced;
	struct pair_time egress, remote_req, remote_open, reply, spoof, spoof_varied, idle_trace;
	int xdp[2], xdp_varied[2];

	for (int i = 0; i < F_FRAMES; i++)
		lens[i] = flow_frame((enum flow_frame)i, frames[i], sizeof(frames[i]));
	/* Remote addresses for the varied runs: anywhere in 198.18.0.0/15. */
	for (uint32_t i = 0; i < TRACE_LEN; i++) {
		uint32_t a = htonl(0xc6120000u | (uint32_t)(next_random() & 0x1ffff));

		memset(trace[i], 0, 16);
		memcpy(trace[i], &a, 4);
	}
	for (int m = 0; m < 2; m++) {
		/* Varied remote addresses: each remote request opens a flow (the
		 * table churns as an LRU), each spoof misses the table. */
		if (flow_load(&fixed[m], modes[m], NULL, false) || flow_check(&fixed[m], frames, lens, m == 0) ||
		    flow_load(&varied[m], modes[m], trace, false))
			return -1;
		xdp[m] = tg_dataplane_prog_fd(&fixed[m].dp);
		xdp_varied[m] = tg_dataplane_prog_fd(&varied[m].dp);
	}
	egress = time_pair(egress_fd(&fixed[0]), frames[F_EGRESS_REQ], lens[F_EGRESS_REQ], egress_fd(&fixed[1]),
			   frames[F_EGRESS_REQ], lens[F_EGRESS_REQ]);
	remote_req = time_pair(xdp[0], frames[F_REMOTE_REQ], lens[F_REMOTE_REQ], xdp[1], frames[F_REMOTE_REQ],
			       lens[F_REMOTE_REQ]);
	reply = time_pair(xdp[0], frames[F_REPLY], lens[F_REPLY], xdp[1], frames[F_REPLY], lens[F_REPLY]);
	spoof = time_pair(xdp[0], frames[F_SPOOF], lens[F_SPOOF], xdp[0], frames[F_DENY], lens[F_DENY]);
	remote_open = time_pair(xdp_varied[0], frames[F_REMOTE_REQ], lens[F_REMOTE_REQ], xdp_varied[1],
				frames[F_REMOTE_REQ], lens[F_REMOTE_REQ]);
	spoof_varied =
		time_pair(xdp_varied[0], frames[F_SPOOF], lens[F_SPOOF], xdp_varied[0], frames[F_DENY], lens[F_DENY]);
	/* tollgate trace with nobody tracing: one array read and a branch. */
	if (flow_load(&untraced, modes[1], NULL, true))
		return -1;
	idle_trace = time_pair(xdp[1], frames[F_REMOTE_REQ], lens[F_REMOTE_REQ], tg_dataplane_prog_fd(&untraced.dp),
			       frames[F_REMOTE_REQ], lens[F_REMOTE_REQ]);
	flow_unload(&untraced);
	for (int m = 0; m < 2; m++) {
		flow_unload(&fixed[m]);
		flow_unload(&varied[m]);
	}
	const struct flow_row rows[] = {
		{ "egress: the host's request (refreshes its flow)", "tracked", "stateless", egress.a, egress.b,
		  egress.ratio },
		{ "xdp: a remote client's request (refreshes)", "tracked", "stateless", remote_req.a, remote_req.b,
		  remote_req.ratio },
		{ "xdp: remote requests, 65536 sources (opens)", "tracked", "stateless", remote_open.a, remote_open.b,
		  remote_open.ratio },
		{ "xdp: a reply inside a live flow", "tracked", "stateless", reply.a, reply.b, reply.ratio },
		{ "xdp: spoofed reply (no flow) vs default deny", "spoof", "deny", spoof.a, spoof.b, spoof.ratio },
		{ "xdp: the same, 65536 sources", "spoof", "deny", spoof_varied.a, spoof_varied.b, spoof_varied.ratio },
		{ "xdp: a request, trace idle vs compiled out", "idle", "none", idle_trace.a, idle_trace.b,
		  idle_trace.ratio },
	};
	fprintf(json, "\n], \"flows\": [\n  ");
	flow_print(json, rows, ARRAY_SIZE(rows));
	printf("tracked vs stateless: the same frame under `replies tracked` and `replies stateless`; spoof vs deny:\n"
	       "a reply-shaped packet without a flow (dropped, no-flow) next to one no service matches (dropped,\n"
	       "default), both tracked. Fixed frames repeat one flow; \"65536 sources\" varies the remote address.\n"
	       "idle vs none: stateless, with tollgate trace's check and nobody tracing, and with it compiled out.\n"
	       "Each row times its two sides in turn, run after run; the ratio is the median of the runs' ratios\n");
	return 0;
}

static void pin_to_last_cpu(void)
{
	cpu_set_t set;
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	CPU_ZERO(&set);
	CPU_SET(n > 1 ? (int)n - 1 : 0, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		perror("bench: sched_setaffinity");
}

/* Addresses anywhere that no prefix of the policy covers: a flood from
 * random sources that tollgate must drop (the DDoS case). */
static bool make_drop_trace(const struct tg_lookup *lk, int family, uint8_t (*trace)[16])
{
	uint64_t tries = 0;

	for (uint32_t i = 0; i < TRACE_LEN;) {
		if (++tries > 64ull * TRACE_LEN)
			return false; /* the policy covers (nearly) everything: `peers any` */
		for (int b = 0; b < 16; b += 8) {
			uint64_t r = next_random();

			memcpy(trace[i] + b, &r, 8);
		}
		if (tg_lookup_find(lk, family, trace[i]) == 0)
			i++;
	}
	return true;
}

/* null where a figure could not be measured */
static const char *json_number(char *buf, double v)
{
	if (isnan(v))
		return "null";
	snprintf(buf, 32, "%.2f", v);
	return buf;
}

struct one_result {
	double floor_ns, lpm_ns, tg_ns;
	uint64_t lpm_mem, tg_mem;
	unsigned depth;
};

/*
 * Runs the programs in turn, run after run, so that all see the same
 * machine: each one's median, and the medians of the per-run ratios of
 * program 0 to program 1 and of program 2 to program 0.
 */
struct three_times {
	double ns[3], ratio01, ratio20;
};

static struct three_times time_three(const int fds[3], const uint8_t *frame, size_t len)
{
	double s[3][MAX_RUNS], r01[MAX_RUNS], r20[MAX_RUNS];
	struct three_times t;

	for (unsigned r = 0; r < runs; r++) {
		for (int p = 0; p < 3; p++)
			s[p][r] = time_once(fds[p], frame, len);
		r01[r] = s[0][r] / s[1][r];
		r20[r] = s[2][r] / s[0][r];
	}
	for (int p = 0; p < 3; p++)
		t.ns[p] = median(s[p], runs);
	t.ratio01 = median(r01, runs);
	t.ratio20 = median(r20, runs);
	return t;
}

static int refill_traces(struct tg_dataplane *dp, struct bench_floor *fl, struct bench_lpm *lpm, uint8_t (*trace)[16])
{
	const uint8_t(*t)[16] = (const uint8_t(*)[16])trace;

	return tg_fill_bench_trace(bpf_map__fd(dp->skel->maps.bench_trace), t, TRACE_LEN)   ?:
		       tg_fill_bench_trace(bpf_map__fd(fl->maps.bench_trace), t, TRACE_LEN) ?:
		       tg_fill_bench_trace(bpf_map__fd(lpm->maps.bench_trace), t, TRACE_LEN);
}

/*
 * The frame is a TCP ACK from port 443, which svc0 (and Notarius' services)
 * take as a reply. The image is switched to `replies stateless` so that the
 * program decides on the ports and the peer alone: under `replies tracked`
 * such a frame without a flow is dropped before the peer lookup (the flows
 * section below measures that path).
 */
static int bench_one(const struct config *c, FILE *json, bool first)
{
	static uint8_t trace[TRACE_LEN][16];
	struct tg_diags diags;
	struct tg_policy pol;
	struct tg_image img;
	struct tg_lookup lk;
	struct tg_load_opts opts = { 0 };
	struct one_result r = { 0 };
	char path[256];
	uint8_t frame[128];
	size_t len = make_frame(c->family, frame, sizeof(frame));
	double compile_s;
	struct timespec t0;
	size_t nprefixes, policy_prefixes;
	char n1[32], n2[32], n3[32], drop_cols[32];
	struct tg_dataplane dp;
	struct bench_floor *fl;
	struct bench_lpm *lpm;
	struct three_times hits, drops;
	int fds[3];

	if (c->policy)
		snprintf(path, sizeof(path), "%s", c->policy);
	else if (generate(c, path, sizeof(path)))
		return -1;
	tg_diags_init(&diags, stderr);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (tg_policy_parse_file(&pol, &diags, path) || tg_compile(&pol, TG_FACING_OUTSIDE, NULL, &img))
		return -1;
	compile_s = elapsed_s(&t0);
	if (!c->policy)
		unlink(path);
	img.settings[TG_SET_REPLIES] = TG_REPLIES_STATELESS;
	nprefixes = img.nprefixes[c->family];
	policy_prefixes = c->family == TG_FAMILY_V4 ? pol.nprefixes_v4 : pol.nprefixes_v6;
	if (tg_lookup_build(&img, &lk))
		return -1;
	r.depth = lk.depth[c->family];
	make_trace(&img, c->family, trace);
	opts.bench_addrs = (const uint8_t(*)[16])trace;
	opts.bench_count = TRACE_LEN;
	if (tg_dataplane_load(&dp, &img, &opts)) {
		fprintf(stderr, "bench: cannot load tollgate for %s: %s\n", c->name, opts.log ? opts.log : "");
		return -1;
	}
	r.tg_mem = tg_map_memory(dp.gen.fd[TG_GEN_PEER_NODES]) + tg_map_memory(dp.gen.fd[TG_GEN_PEER_FINE]);
	fl = load_floor(trace);
	lpm = load_lpm(&img, c->family, trace, &r.lpm_mem);
	fds[0] = tg_dataplane_prog_fd(&dp);
	fds[1] = bpf_program__fd(fl->progs.bench_floor);
	fds[2] = bpf_program__fd(lpm->progs.bench_lpm);
	hits = time_three(fds, frame, len);
	r.tg_ns = hits.ns[0];
	r.floor_ns = hits.ns[1];
	r.lpm_ns = hits.ns[2];
	drops.ratio01 = drops.ns[0] = drops.ns[1] = NAN; /* no address is outside the policy */
	if (make_drop_trace(&lk, c->family, trace)) {
		if (refill_traces(&dp, fl, lpm, trace))
			return -1;
		drops = time_three(fds, frame, len);
	}
	tg_dataplane_destroy(&dp);
	bench_floor__destroy(fl);
	bench_lpm__destroy(lpm);
	if (isnan(drops.ns[0]))
		snprintf(drop_cols, sizeof(drop_cols), "%7s %6s", "-", "-");
	else
		snprintf(drop_cols, sizeof(drop_cols), "%7.1f %5.0f%%", drops.ns[0], 100 / drops.ratio01);
	printf("%-14s %8zu %8zu %6.1f %7.1f %7.1f %6.2fx %6.1fx %s %6.1f %6.1f %3u %6.3f %6.3f\n", c->name,
	       policy_prefixes, nprefixes, r.floor_ns, r.lpm_ns, r.tg_ns, hits.ratio01, hits.ratio20, drop_cols,
	       nprefixes ? (double)r.tg_mem / (double)nprefixes : 0.0,
	       nprefixes ? (double)r.lpm_mem / (double)nprefixes : 0.0, r.depth, (double)opts.fill_ns / 1e9, compile_s);
	fprintf(json,
		"%s{\"name\": \"%s\", \"policy_prefixes\": %zu, \"trie_prefixes\": %zu, \"floor_ns\": %.2f, \"lpm_ns\": %.2f, \"tollgate_ns\": %.2f, \"ratio\": %.3f, \"lpm_vs_tollgate\": %.3f, \"drop_floor_ns\": %s, \"drop_ns\": %s, \"drop_pct_of_floor\": %s, \"map_bytes\": %llu, \"lpm_bytes\": %llu, \"bytes_per_prefix\": %.1f, \"lpm_bytes_per_prefix\": %.1f, \"tables_on_a_path\": %u, \"fill_seconds\": %.4f, \"compile_seconds\": %.4f}",
		first ? "" : ",\n  ", c->name, policy_prefixes, nprefixes, r.floor_ns, r.lpm_ns, r.tg_ns, hits.ratio01,
		hits.ratio20, json_number(n1, drops.ns[1]), json_number(n2, drops.ns[0]),
		json_number(n3, 100 / drops.ratio01), (unsigned long long)r.tg_mem, (unsigned long long)r.lpm_mem,
		nprefixes ? (double)r.tg_mem / (double)nprefixes : 0.0,
		nprefixes ? (double)r.lpm_mem / (double)nprefixes : 0.0, r.depth, (double)opts.fill_ns / 1e9,
		compile_s);
	free(opts.log);
	tg_lookup_free(&lk);
	tg_image_free(&img);
	tg_policy_free(&pol);
	tg_diags_free(&diags);
	return 0;
}

/*
 * What one dependent read costs at each array size: the peer lookup reads
 * one node of an array of 64-byte nodes, and once the array outgrows the
 * caches that read is a memory latency, whatever the structure. Sattolo's
 * shuffle makes one cycle through every line, so that no line repeats
 * before all have been read.
 */
#define MEM_CHAIN 16 /* BENCH_MEM_CHAIN */

struct mem_line { /* struct bench_mem_line */
	uint64_t next, pad[7];
};

static int time_memory(uint32_t lines, double *ns)
{
	struct bench_mem *s = bench_mem__open();
	struct mem_line *mem = MAP_FAILED;
	double run[MAX_RUNS];
	uint8_t frame[64] = { 0 };
	int err = -1;

	if (!s)
		return -1;
	bpf_map__set_max_entries(s->maps.bench_lines, lines);
	if (bench_mem__load(s))
		goto out;
	mem = mmap(NULL, (size_t)lines * sizeof(*mem), PROT_READ | PROT_WRITE, MAP_SHARED,
		   bpf_map__fd(s->maps.bench_lines), 0);
	if (mem == MAP_FAILED)
		goto out;
	for (uint32_t i = 0; i < lines; i++)
		mem[i].next = i;
	for (uint32_t i = lines - 1; i > 0; i--) {
		uint32_t j = (uint32_t)(next_random() % i);
		uint64_t t = mem[i].next;

		mem[i].next = mem[j].next;
		mem[j].next = t;
	}
	for (unsigned r = 0; r < runs; r++)
		run[r] = time_once(bpf_program__fd(s->progs.bench_mem), frame, sizeof(frame)) / MEM_CHAIN;
	*ns = median(run, runs);
	err = 0;
out:
	if (mem != MAP_FAILED)
		munmap(mem, (size_t)lines * sizeof(*mem));
	bench_mem__destroy(s);
	return err;
}

static int bench_memory(FILE *json)
{
	static const unsigned mib[] = { 1, 2, 4, 8, 16, 32, 64 };

	printf("\nmemory latency: one dependent read of a 64-byte line at random, by array size (an mmapable BPF\n"
	       "array, as the peer lookup's nodes); median of %u runs\n",
	       runs);
	fprintf(json, "\n], \"memory\": [\n  ");
	for (size_t i = 0; i < ARRAY_SIZE(mib); i++) {
		double ns;

		if (time_memory(mib[i] << 14, &ns))
			return -1;
		printf("%4u MiB %7.1f ns\n", mib[i], ns);
		fprintf(json, "%s{\"mib\": %u, \"read_ns\": %.1f}", i ? ",\n  " : "", mib[i], ns);
	}
	return 0;
}

int main(int argc, char **argv)
{
	const char *json_path = "build/bench/dataplane.json";
	size_t nconfigs = ARRAY_SIZE(configs), wrote = 0;
	const char *only = NULL; /* --only: configs whose names it contains, e.g. "v4-1m,v6-100k" */
	FILE *json;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--repeat") && i + 1 < argc)
			repeat = (unsigned)atoi(argv[++i]);
		else if (!strcmp(argv[i], "--runs") && i + 1 < argc)
			runs = (unsigned)atoi(argv[++i]);
		else if (!strcmp(argv[i], "--json") && i + 1 < argc)
			json_path = argv[++i];
		else if (!strcmp(argv[i], "--quick"))
			nconfigs = 4;
		else if (!strcmp(argv[i], "--flows-only"))
			nconfigs = 0;
		else if (!strcmp(argv[i], "--only") && i + 1 < argc)
			only = argv[++i];
		else {
			fprintf(stderr,
				"usage: bench_dataplane [--repeat N] [--runs N] [--quick] [--flows-only] [--only NAMES] [--json FILE]\n");
			return 2;
		}
	}
	if (runs < 1 || runs > MAX_RUNS)
		runs = 5;
	pin_to_last_cpu();
	json = fopen(json_path, "w");
	if (!json) {
		perror(json_path);
		return 1;
	}
	printf("per-packet cost through BPF_PROG_TEST_RUN: median of %u runs x %u repeats, one CPU, %d varied addresses\n",
	       runs, repeat, TRACE_LEN);
	printf("%-14s %8s %8s %6s %7s %7s %7s %7s %7s %6s %6s %6s %3s %6s %6s\n", "config", "policy", "prefixes",
	       "floor", "lpm", "tg", "tg/flr", "lpm/tg", "drop", "flr/dr", "B/pfx", "lpmB/p", "dep", "fill-s",
	       "comp-s");
	fprintf(json, "{\"repeat\": %u, \"runs\": %u, \"trace\": %d, \"results\": [\n  ", repeat, runs, TRACE_LEN);
	for (size_t i = 0; i < nconfigs; i++)
		if ((!only || strstr(only, configs[i].name)) && bench_one(&configs[i], json, !wrote++)) {
			fprintf(stderr, "bench: %s failed\n", configs[i].name);
			return 1;
		}
	printf("ns per packet, `replies stateless`, half the addresses in the policy; tg/flr: tollgate over the floor;\n"
	       "lpm/tg: how much faster tollgate is than a bare kernel LPM trie of the same prefixes; drop: tollgate with\n"
	       "addresses no prefix covers, flr/dr: the floor's time over it on the same addresses (the share of the\n"
	       "floor's packet rate an all-drop flood gets); B/pfx, lpmB/p: bytes per compiled prefix of tollgate's\n"
	       "peer lookup (its nodes and its fine filter, 1 MiB whatever the policy) and of the trie (fdinfo\n"
	       "memlock); dep: the most lookup tables on one path\n");
	if (bench_flows(json)) {
		fprintf(stderr, "bench: flows failed\n");
		return 1;
	}
	if (bench_memory(json)) {
		fprintf(stderr, "bench: memory latency failed\n");
		return 1;
	}
	fprintf(json, "\n]}\n");
	fclose(json);
	printf("results: %s\n", json_path);
	return 0;
}
