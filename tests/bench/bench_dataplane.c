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
 *   bench_dataplane [--repeat N] [--runs N] [--quick] [--flows-only] [--json FILE]
 *
 * Numbers only: this is never a pass/fail test.
 */
#include "model/classify.h"
#include "compile/compile.h"
#include "kernel/dataplane.h"
#include "pktbuild.h"
#include "policy/policy.h"
#include "lib/util.h"
#include "tollgate.skel.h"
#include "bench_floor.skel.h"
#include "bench_lpm.skel.h"

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
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

static double time_prog(int prog_fd, const uint8_t *frame, size_t len)
{
	double samples[MAX_RUNS];

	for (unsigned r = 0; r < runs; r++)
		samples[r] = time_once(prog_fd, frame, len);
	return median(samples, runs);
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

static double time_floor(uint8_t (*trace)[16], const uint8_t *frame, size_t len)
{
	struct bench_floor *s = bench_floor__open();
	double ns;

	if (!s)
		exit(1);
	s->rodata->bench_trace_len = TRACE_LEN;
	bpf_map__set_max_entries(s->maps.bench_trace, TRACE_LEN);
	if (bench_floor__load(s) ||
	    tg_fill_bench_trace(bpf_map__fd(s->maps.bench_trace), (const uint8_t(*)[16])trace, TRACE_LEN)) {
		fprintf(stderr, "bench: cannot load the floor program\n");
		exit(1);
	}
	ns = time_prog(bpf_program__fd(s->progs.bench_floor), frame, len);
	bench_floor__destroy(s);
	return ns;
}

static double time_lpm(const struct tg_image *img, int family, uint8_t (*trace)[16], const uint8_t *frame, size_t len,
		       uint64_t *memory)
{
	struct bench_lpm *s = bench_lpm__open();
	size_t n = img->nprefixes[family];
	struct bpf_map *map;
	double ns;
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
	ns = time_prog(bpf_program__fd(s->progs.bench_lpm), frame, len);
	bench_lpm__destroy(s);
	return ns;
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

/* The flow policy with `replies MODE`; trace: every packet from the next remote address. */
static int flow_load(struct flow_bench *b, const char *mode, uint8_t (*trace)[16])
{
	struct tg_load_opts opts = { .bench_addrs = (const uint8_t(*)[16])trace, .bench_count = trace ? TRACE_LEN : 0 };
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
	struct flow_bench fixed[2], varied[2];
	struct pair_time egress, remote_req, remote_open, reply, spoof, spoof_varied;
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
		if (flow_load(&fixed[m], modes[m], NULL) || flow_check(&fixed[m], frames, lens, m == 0) ||
		    flow_load(&varied[m], modes[m], trace))
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
	};
	fprintf(json, "\n], \"flows\": [\n  ");
	flow_print(json, rows, ARRAY_SIZE(rows));
	printf("tracked vs stateless: the same frame under `replies tracked` and `replies stateless`; spoof vs deny:\n"
	       "a reply-shaped packet without a flow (dropped, no-flow) next to one no service matches (dropped,\n"
	       "default), both tracked. Fixed frames repeat one flow; \"65536 sources\" varies the remote address.\n"
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

static int bench_one(const struct config *c, FILE *json)
{
	static uint8_t trace[TRACE_LEN][16];
	struct tg_diags diags;
	struct tg_policy pol;
	struct tg_image img;
	struct tg_dataplane dp;
	struct tg_load_opts opts = { .bench_addrs = (const uint8_t(*)[16])trace, .bench_count = TRACE_LEN };
	char path[256];
	uint8_t frame[128];
	size_t len = make_frame(c->family, frame, sizeof(frame));
	double compile_s, floor_ns, tg_ns, lpm_ns;
	uint64_t lpm_mem = 0, tg_mem;
	struct timespec t0;
	size_t nprefixes, policy_prefixes;

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
	nprefixes = img.nprefixes[c->family];
	policy_prefixes = c->family == TG_FAMILY_V4 ? pol.nprefixes_v4 : pol.nprefixes_v6;
	make_trace(&img, c->family, trace);
	if (tg_dataplane_load(&dp, &img, &opts)) {
		fprintf(stderr, "bench: cannot load tollgate for %s: %s\n", c->name, opts.log ? opts.log : "");
		return -1;
	}
	tg_mem = tg_map_memory(dp.gen.fd[c->family == TG_FAMILY_V4 ? TG_GEN_V4 : TG_GEN_V6]);
	tg_ns = time_prog(tg_dataplane_prog_fd(&dp), frame, len);
	tg_dataplane_destroy(&dp);
	floor_ns = time_floor(trace, frame, len);
	lpm_ns = time_lpm(&img, c->family, trace, frame, len, &lpm_mem);
	printf("%-15s %8zu %8zu %8.1f %8.1f %8.1f %7.2fx %7.2fx %9.1f %8.2f %8.3f\n", c->name, policy_prefixes,
	       nprefixes, floor_ns, lpm_ns, tg_ns, tg_ns / floor_ns, lpm_ns / floor_ns,
	       nprefixes ? (double)tg_mem / (double)nprefixes : 0.0, (double)opts.fill_ns / 1e9, compile_s);
	fprintf(json,
		"%s{\"name\": \"%s\", \"policy_prefixes\": %zu, \"trie_prefixes\": %zu, \"floor_ns\": %.2f, \"lpm_ns\": %.2f, \"tollgate_ns\": %.2f, \"ratio\": %.3f, \"lpm_ratio\": %.3f, \"map_bytes\": %llu, \"bytes_per_prefix\": %.1f, \"fill_seconds\": %.4f, \"compile_seconds\": %.4f}",
		c == configs ? "" : ",\n  ", c->name, policy_prefixes, nprefixes, floor_ns, lpm_ns, tg_ns,
		tg_ns / floor_ns, lpm_ns / floor_ns, (unsigned long long)tg_mem,
		nprefixes ? (double)tg_mem / (double)nprefixes : 0.0, (double)opts.fill_ns / 1e9, compile_s);
	free(opts.log);
	tg_image_free(&img);
	tg_policy_free(&pol);
	tg_diags_free(&diags);
	return 0;
}

int main(int argc, char **argv)
{
	const char *json_path = "build/bench/dataplane.json";
	size_t nconfigs = ARRAY_SIZE(configs);
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
		else {
			fprintf(stderr,
				"usage: bench_dataplane [--repeat N] [--runs N] [--quick] [--flows-only] [--json FILE]\n");
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
	printf("%-15s %8s %8s %8s %8s %8s %8s %8s %9s %8s %8s\n", "config", "policy", "trie", "floor", "lpm",
	       "tollgate", "tg/flr", "lpm/flr", "B/prefix", "fill-s", "comp-s");
	fprintf(json, "{\"repeat\": %u, \"runs\": %u, \"trace\": %d, \"results\": [\n  ", repeat, runs, TRACE_LEN);
	for (size_t i = 0; i < nconfigs; i++)
		if (bench_one(&configs[i], json)) {
			fprintf(stderr, "bench: %s failed\n", configs[i].name);
			return 1;
		}
	printf("ns per packet; ratios to the floor measured in this run; B/prefix is tollgate's trie memory (fdinfo memlock)\n");
	if (bench_flows(json)) {
		fprintf(stderr, "bench: flows failed\n");
		return 1;
	}
	fprintf(json, "\n]}\n");
	fclose(json);
	printf("results: %s\n", json_path);
	return 0;
}
