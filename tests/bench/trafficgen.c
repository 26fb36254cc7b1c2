// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The packets-per-second benchmark's tool (scripts/bench-pps.sh): a traffic
 * generator of our own, and the reference programs the filters are
 * compared with.
 *
 *   trafficgen hosts < FEED_PREFIXES > FEED_HOSTS
 *   trafficgen send [--cpu N] [--trace-len N] [--seed N] [--seconds S]
 *                   [--pace PEER] IFACE HOSTS DST_MAC DST_IP SPORT DPORT
 *   trafficgen attach IFACE drop|touch|parse|pass
 *   trafficgen count IFACE
 *   trafficgen detach IFACE
 *
 * hosts turns every "FEED A.B.C.D/LEN" line into "FEED A.B.C.D", one
 * address inside the prefix, so that the traffic comes from the policy's
 * own addresses and an exact-address filter can be given the same ones.
 *
 * send transmits UDP frames out of IFACE (a veth) with BPF_PROG_TEST_RUN in
 * live-frame mode (kernel 5.18+) until SIGINT or SIGTERM, each frame from
 * the next address of a trace drawn from HOSTS, each feed equally often.
 * With --pace PEER (the veth's peer, in any namespace), it keeps at most
 * TGP_MAX_IN_FLIGHT frames in the veth's ring, waiting for room rather
 * than overflowing it (see trafficgen.bpf.c for why and how). It prints
 * what it sent, held back after a long wait, saw refused by the ring, and
 * for how long.
 *
 * attach puts the floor (drop: count and drop), the touch floor (touch:
 * count, read the source address and drop), the parse floor (parse:
 * count, parse and drop) or the pass program (count and pass, for the
 * nftables run) on IFACE in native mode; count prints
 * the attached program's packet counter, summed over CPUs; detach removes
 * it. The program stays attached without a pin: the interface holds it,
 * and deleting the interface (or its namespace) removes it.
 *
 * Numbers only: this is never a pass/fail test.
 */
#include "trafficgen.h"
#include "bench/trafficgen.skel.h"

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <getopt.h>
#include <linux/if_ether.h>
#include <linux/if_link.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* The smallest Ethernet frame without its FCS: the worst case for pps. */
#define FRAME_LEN 60
/* Frames per BPF_PROG_TEST_RUN call: short enough to stop promptly. */
#define CHUNK (1u << 20)

struct send_args {
	const char *ifname, *hosts_path;
	const char *pace_dev; /* the peer veth, to keep pace with; NULL: no pacing */
	uint8_t dst_mac[ETH_ALEN];
	uint32_t dst_ip; /* network order */
	uint16_t sport, dport;
	int cpu;
	uint32_t trace_len;
	uint64_t seed;
	double seconds; /* 0: until a signal */
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int usage(void)
{
	fprintf(stderr, "usage: trafficgen hosts < FEED_PREFIXES\n"
			"       trafficgen send [--cpu N] [--trace-len N] [--seed N] [--seconds S] [--pace PEER]\n"
			"                       IFACE HOSTS DST_MAC DST_IP SPORT DPORT\n"
			"       trafficgen attach IFACE drop|touch|parse|pass\n"
			"       trafficgen count IFACE\n"
			"       trafficgen detach IFACE\n");
	return 2;
}

static uint64_t next_random(uint64_t *state)
{
	*state ^= *state << 13;
	*state ^= *state >> 7;
	*state ^= *state << 17;
	return *state;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int ifindex_of(const char *ifname)
{
	int ifindex = (int)if_nametoindex(ifname);

	if (!ifindex)
		fprintf(stderr, "trafficgen: no interface %s in this network namespace\n", ifname);
	return ifindex;
}

/* ------------------------------------------------------------- hosts */

/*
 * One address per prefix. The host part comes from a hash of the prefix,
 * not from a random stream, so the same policy always gives the same hosts
 * however often and in whatever order they are asked for.
 */
static uint32_t host_in(uint32_t addr, unsigned len)
{
	uint64_t h = ((uint64_t)addr << 8 | len) * 0x9e3779b97f4a7c15ull;
	uint32_t hostmask = len >= 32 ? 0 : ~0u >> len;

	return (addr & ~hostmask) | ((uint32_t)(h >> 32) & hostmask);
}

static int cmd_hosts(void)
{
	char line[128], prefix[64];
	unsigned feed, len;
	struct in_addr a;

	while (fgets(line, sizeof(line), stdin)) {
		char *slash;

		if (sscanf(line, "%u %63s", &feed, prefix) != 2 || !(slash = strchr(prefix, '/')))
			continue;
		*slash = 0;
		len = (unsigned)atoi(slash + 1);
		if (len > 32 || inet_pton(AF_INET, prefix, &a) != 1) {
			fprintf(stderr, "trafficgen: not an IPv4 prefix: %s", line);
			return 1;
		}
		a.s_addr = htonl(host_in(ntohl(a.s_addr), len));
		printf("%u %s\n", feed, inet_ntoa(a));
	}
	return 0;
}

/* ------------------------------------------------------------- send */

struct host {
	uint32_t feed;
	uint32_t addr; /* network order */
};

static int cmp_feed(const void *a, const void *b)
{
	const struct host *x = a, *y = b;

	return x->feed < y->feed ? -1 : x->feed > y->feed;
}

/* Reads a "FEED A.B.C.D" file, sorted by feed; returns how many hosts. */
static size_t read_hosts(const char *path, struct host **out)
{
	FILE *f = fopen(path, "r");
	char line[128], addr[64];
	size_t n = 0, cap = 0;
	unsigned feed;
	struct in_addr a;

	*out = NULL;
	if (!f) {
		perror(path);
		return 0;
	}
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%u %63s", &feed, addr) != 2 || inet_pton(AF_INET, addr, &a) != 1)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 1024;
			*out = realloc(*out, cap * sizeof(**out));
			if (!*out)
				abort();
		}
		(*out)[n++] = (struct host){ .feed = feed, .addr = a.s_addr };
	}
	fclose(f);
	if (n)
		qsort(*out, n, sizeof(**out), cmp_feed);
	return n;
}

/*
 * Each trace entry picks a feed (a service's peers) uniformly, then one of
 * its hosts: every service is as likely a source whatever its number of
 * prefixes, so the share of frames that a service passes is the same for
 * every policy size.
 */
static uint32_t *make_trace(const struct host *hosts, size_t nhosts, uint32_t len, uint64_t seed)
{
	uint32_t *trace = calloc(len, sizeof(*trace));
	size_t *starts = calloc(nhosts + 1, sizeof(*starts)), nfeeds = 0;
	uint64_t state = seed | 1;

	if (!trace || !starts)
		abort();
	for (size_t i = 0; i < nhosts; i++)
		if (!i || hosts[i].feed != hosts[i - 1].feed)
			starts[nfeeds++] = i;
	starts[nfeeds] = nhosts;
	for (uint32_t i = 0; i < len; i++) {
		size_t f = next_random(&state) % nfeeds, size = starts[f + 1] - starts[f];

		trace[i] = hosts[starts[f] + next_random(&state) % size].addr;
	}
	free(starts);
	return trace;
}

static uint16_t ip_checksum(const void *hdr, size_t len)
{
	const uint16_t *w = hdr;
	uint32_t sum = 0;

	for (size_t i = 0; i < len / 2; i++)
		sum += w[i];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static int mac_of(const char *ifname, uint8_t mac[ETH_ALEN])
{
	struct ifreq ifr = { 0 };
	int fd = socket(AF_INET, SOCK_DGRAM, 0), err;

	if (fd < 0)
		return -errno;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	err = ioctl(fd, SIOCGIFHWADDR, &ifr) ? -errno : 0;
	close(fd);
	memcpy(mac, ifr.ifr_hwaddr.sa_data, ETH_ALEN);
	return err;
}

/*
 * The template frame: UDP from the first host to the receiver's address,
 * with a valid IPv4 checksum (the generator keeps it valid) and no UDP
 * checksum, so frames that a filter passes are taken by the receiver's
 * stack like any other datagram to a closed port.
 */
static int make_frame(const struct send_args *a, uint32_t src, uint8_t frame[FRAME_LEN])
{
	struct ethhdr *eth = (struct ethhdr *)frame;
	struct iphdr *ip = (struct iphdr *)(eth + 1);
	struct udphdr *udp = (struct udphdr *)(ip + 1);
	int err;

	memset(frame, 0, FRAME_LEN);
	memcpy(eth->h_dest, a->dst_mac, ETH_ALEN);
	err = mac_of(a->ifname, eth->h_source);
	if (err)
		return err;
	eth->h_proto = htons(ETH_P_IP);
	ip->version = 4;
	ip->ihl = 5;
	ip->tot_len = htons(FRAME_LEN - sizeof(*eth));
	ip->ttl = 64;
	ip->protocol = IPPROTO_UDP;
	ip->saddr = src;
	ip->daddr = a->dst_ip;
	ip->check = ip_checksum(ip, sizeof(*ip));
	udp->source = htons(a->sport);
	udp->dest = htons(a->dport);
	udp->len = htons(FRAME_LEN - sizeof(*eth) - sizeof(*ip));
	return 0;
}

static int fill_trace(struct trafficgen *skel, const uint32_t *trace, uint32_t len)
{
	int fd = bpf_map__fd(skel->maps.trace);

	for (uint32_t i = 0; i < len; i++)
		if (bpf_map_update_elem(fd, &i, &trace[i], BPF_ANY))
			return -errno;
	return 0;
}

/* Of the object's programs, only those listed (NULL-terminated) get loaded. */
static void load_only(struct trafficgen *skel, struct bpf_program *const *keep)
{
	struct bpf_program *prog;

	bpf_object__for_each_program(prog, skel->obj) {
		bool wanted = false;

		for (struct bpf_program *const *k = keep; *k; k++)
			wanted |= *k == prog;
		bpf_program__set_autoload(prog, wanted);
	}
}

/* Loads the generator, with its two tracepoint programs when pacing. */
static struct trafficgen *open_generator(uint32_t len, const char *pace_dev)
{
	struct trafficgen *skel = trafficgen__open();

	if (!skel)
		return NULL;
	skel->rodata->trace_len = len;
	bpf_map__set_max_entries(skel->maps.trace, len);
	if (pace_dev) {
		skel->rodata->max_in_flight = TGP_MAX_IN_FLIGHT;
		skel->rodata->gen_tgid = (uint32_t)getpid();
		snprintf(skel->rodata->rx_dev, sizeof(skel->rodata->rx_dev), "%s", pace_dev);
		load_only(skel, (struct bpf_program *const[]){ skel->progs.tgp_gen, skel->progs.tgp_rx_poll,
							       skel->progs.tgp_tx_xmit, NULL });
	} else {
		load_only(skel, (struct bpf_program *const[]){ skel->progs.tgp_gen, NULL });
	}
	/* The skeleton attaches the tracepoints; the generator is only run. */
	if (trafficgen__load(skel) || (pace_dev && trafficgen__attach(skel))) {
		trafficgen__destroy(skel);
		return NULL;
	}
	return skel;
}

/* Without the tracepoints the generator still works, only unpaced. */
static struct trafficgen *load_generator(const uint32_t *trace, uint32_t len, const char *pace_dev)
{
	struct trafficgen *skel = pace_dev ? open_generator(len, pace_dev) : NULL;

	if (pace_dev && !skel)
		fprintf(stderr, "trafficgen: cannot attach to the napi and xdp tracepoints; sending without pacing\n");
	if (!skel)
		skel = open_generator(len, NULL);
	if (skel && fill_trace(skel, trace, len)) {
		trafficgen__destroy(skel);
		skel = NULL;
	}
	return skel;
}

static void pin_to_cpu(int cpu)
{
	cpu_set_t set;

	if (cpu < 0)
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		perror("trafficgen: sched_setaffinity");
}

static void catch_signals(void)
{
	/* No SA_RESTART: a signal must end the test run that is in progress. */
	struct sigaction sa = { .sa_handler = on_signal };

	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

/*
 * Runs the generator in chunks until told to stop. Only chunks that ran to
 * the end are counted, and the counters are taken as they were then: an
 * interrupted run does not say how far it got.
 */
static int transmit(const struct trafficgen *skel, int ifindex, const uint8_t *frame, double seconds, uint64_t *frames,
		    struct gen_state *counters, double *elapsed)
{
	struct xdp_md ctx = { .data_end = FRAME_LEN, .ingress_ifindex = (uint32_t)ifindex };
	int prog_fd = bpf_program__fd(skel->progs.tgp_gen);
	double start = now_s(), done = start;

	*frames = 0;
	*counters = skel->bss->gen;
	while (!stop && (seconds <= 0 || done - start < seconds)) {
		LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame, .data_size_in = FRAME_LEN, .ctx_in = &ctx,
			    .ctx_size_in = sizeof(ctx), .repeat = CHUNK, .flags = BPF_F_TEST_XDP_LIVE_FRAMES);

		if (bpf_prog_test_run_opts(prog_fd, &opts)) {
			if (errno == EINTR)
				break;
			fprintf(stderr, "trafficgen: live-frame test run failed: %s (needs kernel 5.18+)\n",
				strerror(errno));
			return -1;
		}
		*frames += CHUNK;
		*counters = skel->bss->gen;
		done = now_s();
	}
	*elapsed = done - start;
	return 0;
}

/* One line of numbers for scripts, then the rates for people. */
static void report(const struct gen_state *gen, uint64_t frames, double elapsed)
{
	double t = elapsed > 0 ? elapsed : 1;

	printf("generator seconds %.3f frames %llu sent %llu held %llu refused %llu lost %llu\n", elapsed,
	       (unsigned long long)frames, (unsigned long long)gen->sent, (unsigned long long)gen->held,
	       (unsigned long long)gen->refused, (unsigned long long)gen->lost);
	printf("generated %.3f Mpps, sent %.3f Mpps, the ring refused %.3f Mpps\n", (double)frames / t / 1e6,
	       (double)gen->sent / t / 1e6, (double)gen->refused / t / 1e6);
}

static int parse_mac(const char *s, uint8_t mac[ETH_ALEN])
{
	unsigned m[ETH_ALEN];

	if (sscanf(s, "%x:%x:%x:%x:%x:%x", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5]) != ETH_ALEN)
		return -1;
	for (int i = 0; i < ETH_ALEN; i++)
		mac[i] = (uint8_t)m[i];
	return 0;
}

static int parse_send_args(int argc, char **argv, struct send_args *a)
{
	static const struct option opts[] = {
		{ "cpu", required_argument, NULL, 'c' },  { "trace-len", required_argument, NULL, 't' },
		{ "seed", required_argument, NULL, 's' }, { "seconds", required_argument, NULL, 'S' },
		{ "pace", required_argument, NULL, 'p' }, { 0 },
	};
	int c;

	*a = (struct send_args){ .cpu = -1, .trace_len = 65536, .seed = 42 };
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'c')
			a->cpu = atoi(optarg);
		else if (c == 't')
			a->trace_len = (uint32_t)strtoul(optarg, NULL, 0);
		else if (c == 's')
			a->seed = strtoull(optarg, NULL, 0);
		else if (c == 'S')
			a->seconds = atof(optarg);
		else if (c == 'p')
			a->pace_dev = optarg;
		else
			return -1;
	}
	if (argc - optind != 6 || !a->trace_len || parse_mac(argv[optind + 2], a->dst_mac) ||
	    inet_pton(AF_INET, argv[optind + 3], &a->dst_ip) != 1)
		return -1;
	a->ifname = argv[optind];
	a->hosts_path = argv[optind + 1];
	a->sport = (uint16_t)atoi(argv[optind + 4]);
	a->dport = (uint16_t)atoi(argv[optind + 5]);
	return 0;
}

static int cmd_send(int argc, char **argv)
{
	struct send_args a;
	struct trafficgen *skel;
	struct gen_state counters;
	uint8_t frame[FRAME_LEN];
	struct host *hosts;
	uint32_t *trace;
	size_t nhosts;
	uint64_t frames;
	double elapsed;
	int ifindex, err;

	if (parse_send_args(argc, argv, &a))
		return usage();
	ifindex = ifindex_of(a.ifname);
	nhosts = read_hosts(a.hosts_path, &hosts);
	if (!ifindex || !nhosts) {
		fprintf(stderr, "trafficgen: need an interface and at least one host\n");
		return 1;
	}
	trace = make_trace(hosts, nhosts, a.trace_len, a.seed);
	if (make_frame(&a, trace[0], frame) || !(skel = load_generator(trace, a.trace_len, a.pace_dev))) {
		fprintf(stderr, "trafficgen: cannot set up the generator on %s\n", a.ifname);
		return 1;
	}
	pin_to_cpu(a.cpu);
	catch_signals();
	err = transmit(skel, ifindex, frame, a.seconds, &frames, &counters, &elapsed);
	if (!err)
		report(&counters, frames, elapsed);
	trafficgen__destroy(skel);
	free(trace);
	free(hosts);
	return err ? 1 : 0;
}

/* ------------------------------------------------- attach, count, detach */

static int cmd_attach(const char *ifname, const char *which)
{
	struct trafficgen *skel;
	struct bpf_program *prog;
	int ifindex = ifindex_of(ifname), err;

	if (!ifindex)
		return 1;
	skel = trafficgen__open();
	if (!skel)
		return 1;
	prog = !strcmp(which, "drop")  ? skel->progs.tgp_drop :
	       !strcmp(which, "touch") ? skel->progs.tgp_touch :
	       !strcmp(which, "parse") ? skel->progs.tgp_parse :
					 skel->progs.tgp_pass;
	load_only(skel, (struct bpf_program *const[]){ prog, NULL });
	err = trafficgen__load(skel);
	/* Native mode: the benchmark is about the driver's XDP hook. */
	if (!err)
		err = bpf_xdp_attach(ifindex, bpf_program__fd(prog), XDP_FLAGS_DRV_MODE | XDP_FLAGS_UPDATE_IF_NOEXIST,
				     NULL);
	if (err)
		fprintf(stderr, "trafficgen: cannot attach %s to %s: %s\n", which, ifname, strerror(-err));
	/* The interface keeps the program (and its counter) alive from here on. */
	trafficgen__destroy(skel);
	return err ? 1 : 0;
}

/* The program on the interface, if it is one of ours; else -1. */
static int our_prog_on(const char *ifname, char *name, size_t size)
{
	struct bpf_prog_info info = { 0 };
	uint32_t len = sizeof(info), id = 0;
	int ifindex = ifindex_of(ifname), fd;

	if (!ifindex || bpf_xdp_query_id(ifindex, XDP_FLAGS_DRV_MODE, &id) || !id)
		return -1;
	fd = bpf_prog_get_fd_by_id(id);
	if (fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &len) || strncmp(info.name, "tgp_", 4)) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	snprintf(name, size, "%s", info.name);
	return fd;
}

/* The per-CPU counter map of our program on an interface. */
static int counter_map_of(int prog_fd)
{
	uint32_t ids[8], nids = 8, len;
	struct bpf_prog_info info = { .nr_map_ids = nids, .map_ids = (uintptr_t)ids };

	len = sizeof(info);
	if (bpf_obj_get_info_by_fd(prog_fd, &info, &len))
		return -1;
	for (uint32_t i = 0; i < info.nr_map_ids && i < nids; i++) {
		struct bpf_map_info minfo = { 0 };
		uint32_t mlen = sizeof(minfo);
		int fd = bpf_map_get_fd_by_id(ids[i]);

		if (fd >= 0 && !bpf_obj_get_info_by_fd(fd, &minfo, &mlen) && !strcmp(minfo.name, "tgp_count"))
			return fd;
		if (fd >= 0)
			close(fd);
	}
	return -1;
}

static int cmd_count(const char *ifname)
{
	int ncpus = libbpf_num_possible_cpus(), prog_fd, map_fd;
	char name[BPF_OBJ_NAME_LEN];
	uint64_t *values, sum = 0;
	uint32_t zero = 0;

	prog_fd = our_prog_on(ifname, name, sizeof(name));
	map_fd = prog_fd >= 0 ? counter_map_of(prog_fd) : -1;
	if (map_fd < 0 || ncpus <= 0) {
		fprintf(stderr, "trafficgen: %s has no counting program of ours attached\n", ifname);
		return 1;
	}
	values = calloc((size_t)ncpus, sizeof(*values));
	if (!values || bpf_map_lookup_elem(map_fd, &zero, values)) {
		fprintf(stderr, "trafficgen: cannot read the packet counter\n");
		return 1;
	}
	for (int i = 0; i < ncpus; i++)
		sum += values[i];
	printf("%llu\n", (unsigned long long)sum);
	free(values);
	close(map_fd);
	close(prog_fd);
	return 0;
}

static int cmd_detach(const char *ifname)
{
	char name[BPF_OBJ_NAME_LEN];
	int fd = our_prog_on(ifname, name, sizeof(name)), err;

	if (fd < 0)
		return 0; /* nothing of ours there: leave the interface alone */
	close(fd);
	err = bpf_xdp_detach(ifindex_of(ifname), XDP_FLAGS_DRV_MODE, NULL);
	if (err)
		fprintf(stderr, "trafficgen: cannot detach %s from %s: %s\n", name, ifname, strerror(-err));
	return err ? 1 : 0;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return usage();
	if (!strcmp(argv[1], "hosts") && argc == 2)
		return cmd_hosts();
	if (!strcmp(argv[1], "send"))
		return cmd_send(argc - 1, argv + 1);
	if (!strcmp(argv[1], "attach") && argc == 4 &&
	    (!strcmp(argv[3], "drop") || !strcmp(argv[3], "touch") || !strcmp(argv[3], "parse") ||
	     !strcmp(argv[3], "pass")))
		return cmd_attach(argv[2], argv[3]);
	if (!strcmp(argv[1], "count") && argc == 3)
		return cmd_count(argv[2]);
	if (!strcmp(argv[1], "detach") && argc == 3)
		return cmd_detach(argv[2]);
	return usage();
}
