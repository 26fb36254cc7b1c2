// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * tollgate trace: the data plane's decisions as they happen, from a tracer
 * slot of the attachment (kernel/trace.h). Filtering by verdict and
 * service, sampling and the per-CPU rate happen in the data plane, so a
 * flood costs the ring what the rate allows and no more.
 */
#include "cli/apply.h"
#include "kernel/slots.h"
#include "kernel/trace.h"
#include "lib/log.h"
#include "lib/util.h"

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
/* pcap/bpf.h and linux/bpf.h both define struct bpf_insn. */
#define PCAP_DONT_INCLUDE_PCAP_BPF_H
#include <pcap/pcap.h>
#include <pcap/dlt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct trace_args {
	bool json;
	const char *service;
	const char *pcap_path;
	struct tg_tracer want;
};

struct tracer {
	const struct trace_args *a;
	const char *ifname;
	char dir[TG_PATH_MAX];
	struct tg_slot slots[TG_MAX_COUNTER_SLOTS];
	pcap_t *pcap;
	pcap_dumper_t *dumper;
};

static volatile sig_atomic_t stop_tracing;

static void on_signal(int sig)
{
	(void)sig;
	stop_tracing = 1;
}

/* ------------------------------------------------------------- an event */

static void read_slots(struct tracer *t)
{
	char path[TG_PATH_MAX + 16];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", t->dir, TG_PIN_SLOTS);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return;
	for (uint32_t i = 0; i < TG_MAX_COUNTER_SLOTS; i++)
		bpf_map_lookup_elem(fd, &i, &t->slots[i]);
	close(fd);
}

/* The service a counter slot counts; a reload since we started may have
 * given the slot its service, so look again once. */
static const char *service_name(struct tracer *t, uint32_t slot)
{
	if (slot >= TG_MAX_COUNTER_SLOTS)
		return NULL;
	if (!t->slots[slot].name[0])
		read_slots(t);
	return t->slots[slot].name[0] ? t->slots[slot].name : NULL;
}

static const char *protocol_name(unsigned p, char *buf, size_t size)
{
	switch (p) {
	case IPPROTO_TCP:
		return "tcp";
	case IPPROTO_UDP:
		return "udp";
	case IPPROTO_SCTP:
		return "sctp";
	case IPPROTO_ICMP:
		return "icmp";
	case IPPROTO_ICMPV6:
		return "icmpv6";
	}
	snprintf(buf, size, "%u", p);
	return buf;
}

static bool has_ports(unsigned p)
{
	return p == IPPROTO_TCP || p == IPPROTO_UDP || p == IPPROTO_SCTP;
}

/* Source and destination from the captured bytes; "-" without them. */
static void addresses(const struct tg_trace_event *ev, char *src, char *dst, size_t size)
{
	bool v6 = ev->family == TG_FAMILY_V6;
	unsigned len = v6 ? 16 : 4, first = ev->remote_off < ev->local_off ? ev->remote_off : ev->local_off,
		 second = ev->remote_off < ev->local_off ? ev->local_off : ev->remote_off;

	snprintf(src, size, "-");
	snprintf(dst, size, "-");
	if (ev->family > TG_FAMILY_V6 || second + len > ev->caplen)
		return;
	inet_ntop(v6 ? AF_INET6 : AF_INET, ev->bytes + first, src, (socklen_t)size);
	inet_ntop(v6 ? AF_INET6 : AF_INET, ev->bytes + second, dst, (socklen_t)size);
}

/* bpf_ktime_get_ns() is CLOCK_MONOTONIC; the line wants the wall clock. */
static void event_time(uint64_t mono_ns, char *buf, size_t size, struct timespec *wall)
{
	struct timespec now_mono, now_real;
	int64_t ago;
	uint64_t real;
	char date[32];

	clock_gettime(CLOCK_MONOTONIC, &now_mono);
	clock_gettime(CLOCK_REALTIME, &now_real);
	ago = (int64_t)((uint64_t)now_mono.tv_sec * 1000000000ull + (uint64_t)now_mono.tv_nsec - mono_ns);
	real = (uint64_t)now_real.tv_sec * 1000000000ull + (uint64_t)now_real.tv_nsec - (uint64_t)(ago > 0 ? ago : 0);
	wall->tv_sec = (time_t)(real / 1000000000ull);
	wall->tv_nsec = (long)(real % 1000000000ull);
	tg_rfc3339(real, date, sizeof(date));
	/* "...T11:05:48Z" -> "...T11:05:48.123456Z" */
	date[strlen(date) - 1] = '\0';
	snprintf(buf, size, "%s.%06uZ", date, (unsigned)(real % 1000000000ull / 1000));
}

static void print_text(struct tracer *t, const struct tg_trace_event *ev, const char *when)
{
	char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN], proto[8];
	const char *svc = ev->counter_slot == TG_NO_SERVICE ? NULL : service_name(t, ev->counter_slot);

	addresses(ev, src, dst, sizeof(src));
	printf("%s %s %s %s %s %s", when, t->ifname, ev->verdict == TG_PASS ? "pass" : "drop",
	       tg_reason_name(ev->reason), svc ? svc : "-", tg_role_name(ev->role));
	if (ev->family > TG_FAMILY_V6) {
		printf(" non-ip len %u\n", ev->frame_len);
		return;
	}
	printf(" %s %s ", ev->family == TG_FAMILY_V6 ? "ipv6" : "ipv4",
	       protocol_name(ev->protocol, proto, sizeof(proto)));
	if (has_ports(ev->protocol))
		printf("%s:%u -> %s:%u", src, ev->sport, dst, ev->dport);
	else if (ev->protocol == IPPROTO_ICMP || ev->protocol == IPPROTO_ICMPV6)
		printf("%s -> %s type %u", src, dst, ev->icmp_type);
	else
		printf("%s -> %s", src, dst);
	printf(" len %u\n", ev->frame_len);
}

static void json_text_or_null(const char *key, const char *value)
{
	printf(", \"%s\": ", key);
	if (value)
		tg_json_string(stdout, value);
	else
		printf("null");
}

static void print_json(struct tracer *t, const struct tg_trace_event *ev, const char *when)
{
	char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN], proto[8];
	const char *svc = ev->counter_slot == TG_NO_SERVICE ? NULL : service_name(t, ev->counter_slot);
	bool ip = ev->family <= TG_FAMILY_V6, ported = ip && has_ports(ev->protocol);
	bool icmp = ip && (ev->protocol == IPPROTO_ICMP || ev->protocol == IPPROTO_ICMPV6);

	addresses(ev, src, dst, sizeof(src));
	printf("{\"time\": \"%s\"", when);
	json_text_or_null("interface", t->ifname);
	printf(", \"verdict\": \"%s\", \"reason\": \"%s\"", ev->verdict == TG_PASS ? "pass" : "drop",
	       tg_reason_name(ev->reason));
	json_text_or_null("service", svc);
	printf(", \"role\": \"%s\"", tg_role_name(ev->role));
	json_text_or_null("family", !ip ? NULL : ev->family == TG_FAMILY_V6 ? "ipv6" : "ipv4");
	json_text_or_null("protocol", ip ? protocol_name(ev->protocol, proto, sizeof(proto)) : NULL);
	json_text_or_null("src", ip && strcmp(src, "-") ? src : NULL);
	json_text_or_null("dst", ip && strcmp(dst, "-") ? dst : NULL);
	if (ported)
		printf(", \"sport\": %u, \"dport\": %u, \"icmp_type\": null", ev->sport, ev->dport);
	else if (icmp)
		printf(", \"sport\": null, \"dport\": null, \"icmp_type\": %u", ev->icmp_type);
	else
		printf(", \"sport\": null, \"dport\": null, \"icmp_type\": null");
	printf(", \"length\": %u}\n", ev->frame_len);
}

static int on_event(void *ctx, void *data, size_t size)
{
	struct tracer *t = ctx;
	const struct tg_trace_event *ev = data;
	struct timespec wall;
	char when[64];

	if (size < sizeof(*ev))
		return 0;
	event_time(ev->time_ns, when, sizeof(when), &wall);
	if (t->a->json)
		print_json(t, ev, when);
	else
		print_text(t, ev, when);
	if (t->dumper && ev->caplen) {
		struct pcap_pkthdr h = { .caplen = ev->caplen, .len = ev->frame_len };

		h.ts.tv_sec = wall.tv_sec;
		h.ts.tv_usec = wall.tv_nsec / 1000;
		pcap_dump((u_char *)t->dumper, &h, ev->bytes);
		pcap_dump_flush(t->dumper);
	}
	fflush(stdout);
	return 0;
}

/* ---------------------------------------------------------------- setup */

/* The service's counter slot in the generation in force. */
static int find_service(const struct tg_state *st, const char *name, uint32_t *slot)
{
	for (uint32_t i = 0; i < TG_MAX_COUNTER_SLOTS; i++)
		if (tg_slot_live(&st->slots[i], st->meta.generation) && !strcmp(st->slots[i].name, name)) {
			*slot = i;
			return 0;
		}
	tg_err("%s: no service '%s' in the policy in force (see 'tollgate show %s')\n", st->ifname, name, st->ifname);
	return TG_EXIT_INPUT;
}

static int claim(struct tracer *t, struct trace_args *a, int *slot)
{
	struct tg_state st;
	int rc = 0, err = tg_state_acquire(&st, t->ifname);

	if (err) {
		rc = tg_report_state_error(t->ifname, err);
		tg_state_close(&st);
		return rc;
	}
	snprintf(t->dir, sizeof(t->dir), "%s", st.dir);
	memcpy(t->slots, st.slots, sizeof(t->slots));
	if (a->service)
		rc = find_service(&st, a->service, &a->want.counter_slot);
	if (!rc) {
		*slot = tg_trace_claim(st.dir, &a->want);
		if (*slot == -ENOENT) {
			tg_err("%s: attached by a tollgate without tracing; detach and attach again to trace it\n",
			       t->ifname);
			rc = TG_EXIT_INPUT;
		} else if (*slot == -EBUSY) {
			tg_err("%s: %d tracers already run; stop one first\n", t->ifname, TG_TRACERS);
			rc = TG_EXIT_INPUT;
		} else if (*slot < 0) {
			rc = tg_report_state_error(t->ifname, *slot);
		}
	}
	tg_state_close(&st);
	return rc;
}

static void release(struct tracer *t, int slot)
{
	struct tg_state st;

	/* Detached meanwhile: the slot went with the state. */
	if (tg_state_acquire(&st, t->ifname) == 0)
		tg_trace_release(st.dir, slot);
	tg_state_close(&st);
}

static int open_pcap(struct tracer *t)
{
	if (!t->a->pcap_path)
		return 0;
	t->pcap = pcap_open_dead(DLT_EN10MB, TG_TRACE_CAPTURE);
	t->dumper = t->pcap ? pcap_dump_open(t->pcap, t->a->pcap_path) : NULL;
	if (!t->dumper) {
		tg_err("cannot write '%s': %s\n", t->a->pcap_path, t->pcap ? pcap_geterr(t->pcap) : "out of memory");
		return TG_EXIT_INPUT;
	}
	return 0;
}

static int follow(struct tracer *t, int slot)
{
	struct ring_buffer *rb;
	int fd = tg_trace_ring(t->dir, slot), err = 0;

	if (fd < 0)
		return tg_report_state_error(t->ifname, fd);
	rb = ring_buffer__new(fd, on_event, t, NULL);
	if (!rb) {
		close(fd);
		return tg_report_state_error(t->ifname, -errno);
	}
	tg_info("tracing %s (tracer %d); stop with Ctrl-C\n", t->ifname, slot);
	while (!stop_tracing && (err = ring_buffer__poll(rb, 200)) >= 0)
		;
	ring_buffer__free(rb);
	close(fd);
	return err < 0 && err != -EINTR ? tg_report_state_error(t->ifname, err) : TG_EXIT_OK;
}

static int trace(struct trace_args *a, const char *ifname)
{
	struct tracer *t = xcalloc(1, sizeof(*t));
	int slot = -1, rc;

	t->a = a;
	t->ifname = ifname;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	rc = open_pcap(t) ?: claim(t, a, &slot);
	if (!rc) {
		rc = follow(t, slot);
		release(t, slot);
	}
	if (t->dumper)
		pcap_dump_close(t->dumper);
	if (t->pcap)
		pcap_close(t->pcap);
	free(t);
	return rc;
}

/* ----------------------------------------------------------------- args */

static int trace_option(void *ctx, int id, const char *arg)
{
	struct trace_args *a = ctx;
	unsigned n;

	switch (id) {
	case 'j':
		a->json = true;
		return 0;
	case 'd':
		a->want.flags |= TG_TRACE_DROPS;
		return 0;
	case 's':
		a->service = arg;
		return 0;
	case 'w':
		a->pcap_path = arg;
		return 0;
	case 'r':
		if (tg_parse_seconds(arg, 1, 1000000, &n))
			return tg_bad_value("rate", "events per second per CPU, from 1 to 1000000", arg);
		a->want.rate = n;
		return 0;
	default: /* 'n' */
		if (tg_parse_seconds(arg, 1, 1000000, &n))
			return tg_bad_value("sample", "a number from 1 to 1000000", arg);
		a->want.sample = n;
		return 0;
	}
}

static int run_trace(const struct tg_command *cmd, int argc, char **argv)
{
	struct trace_args a = { .want = { .counter_slot = TG_TRACE_ANY_SERVICE, .rate = 1000, .sample = 1 } };
	struct tg_operands ops;
	int rc = tg_parse_command(cmd, argc, argv, trace_option, &a, &ops);

	if (rc || ops.help)
		return rc;
	return tg_check_ifname(ops.v[0]) ?: trace(&a, ops.v[0]);
}

static const struct tg_option trace_options[] = {
	{ "drops", 'd', NULL, 0, NULL, "only the packets dropped" },
	{ "service", 's', "NAME", 0, NULL, "only the packets service NAME decided" },
	{ "json", 'j', NULL, 0, NULL, "one JSON object per line" },
	{ "pcap", 'w', "FILE", 0, NULL, "also write the frames' first 128 bytes to FILE (pcap)" },
	{ "rate", 'r', "N", 0, NULL, "at most N events per second per CPU (default 1000)" },
	{ "sample", 'n', "N", 0, NULL, "trace one packet in N (default 1: all)" },
	TG_OPT_END,
};

const struct tg_command tg_cmd_trace = {
	.name = "trace",
	.run = run_trace,
	.options = trace_options,
	.operands = "IFACE",
	.min_operands = 1,
	.max_operands = 1,
	.summary = "Prints IFACE's decisions as they happen: verdict, reason, service, addresses and ports.",
};
