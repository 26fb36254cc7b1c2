// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Flow tracking (issue 12) through the real XDP program and its egress
 * classifier: replies need a live flow that an allowed request opened, the
 * TCP and UDP state machines and their timeouts, related ICMP errors, a full
 * table, the flow counters, and the malformed checks that came with it
 * (tiny and overlapping fragments, IPv4-embedding IPv6 addresses, UDP and
 * ICMP lengths). docs/policy.md, "Flows (`replies tracked`)", "ICMP" and
 * "Decision order".
 *
 * Every expectation here is written by hand from the documentation: there
 * is no reference model of flows to agree with. The clock is the program's
 * `clock` map (tg_load_opts.clock_from_map), set by each case.
 *
 * Test runs load a program with private maps, so a flow opened by one load
 * cannot admit a reply in another: the two-NIC gateway is covered by the
 * end-to-end suite. Within one load, the egress classifier of an
 * inside-facing program is the outside view of the same tables, which is
 * what the inside-facing case uses.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "dp_harness.h"
#include "kernel/flows.h"

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <netinet/in.h>

#define NS 1000000000ull
/* Far from 0, so that an unset expiry can never look live. */
#define T0 (1000 * NS)

struct fl {
	const char *label;
	struct tg_diags diags;
	struct tg_policy pol;
	struct tg_image img;
	struct tg_dataplane dp;
	bool loaded;
	uint64_t now;
	unsigned checked, failures;
};

static void fl_free(struct fl *f)
{
	if (!f)
		return;
	if (f->loaded)
		tg_dataplane_destroy(&f->dp);
	tg_image_free(&f->img);
	tg_policy_free(&f->pol);
	tg_diags_free(&f->diags);
	free(f);
}

static void fl_clock(struct fl *f, uint64_t now)
{
	f->now = now;
	assert_int_equal(tg_dataplane_set_clock(&f->dp, now), 0);
}

/* Advances the program's clock by whole seconds. */
static void fl_wait(struct fl *f, unsigned seconds)
{
	fl_clock(f, f->now + seconds * NS);
}

static struct fl *fl_load(const char *label, const char *text, int facing)
{
	struct fl *f = calloc(1, sizeof(*f));
	struct tg_load_opts opts = { .trace = true, .clock_from_map = true };
	int err;

	assert_non_null(f);
	f->label = label;
	tg_diags_init(&f->diags, stderr);
	err = tg_policy_parse_buffer(&f->pol, &f->diags, label, text, strlen(text));
	if (err || f->diags.errors)
		fail_msg("[%s] the policy does not parse (%d)", label, err);
	err = tg_compile(&f->pol, facing, NULL, &f->img);
	if (err)
		fail_msg("[%s] tg_compile: %d", label, err);
	err = tg_dataplane_load(&f->dp, &f->img, &opts);
	if (err) {
		tg_report_load_error(err, opts.log);
		free(opts.log);
		fail_msg("[%s] cannot load the data plane", label);
	}
	f->loaded = true;
	fl_clock(f, T0);
	return f;
}

static void fl_report(struct fl *f, const char *spec, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void fl_report(struct fl *f, const char *spec, const char *fmt, ...)
{
	va_list ap;

	f->failures++;
	fprintf(stderr, "error: [%s] at t=%llus: %s\n", f->label, (unsigned long long)(f->now / NS), spec);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
}

/* Runs a built frame through XDP and compares the decision with `want`
 * ("pass ntp reply service", "drop - - no-flow"). */
static bool fl_run_frame(struct fl *f, const uint8_t *frame, size_t len, const char *what, const char *want)
{
	struct dp_expect e;
	struct tg_trace tr = { 0 };
	char canon[128], got[128];
	const char *svc = NULL;
	int verdict = -1, err;

	f->checked++;
	if (!dp_parse_expect(want, &e)) {
		fl_report(f, what, "    bad expectation '%s'\n", want);
		return false;
	}
	dp_format(canon, sizeof(canon), e.verdict, strcmp(e.service, "-") ? e.service : NULL, e.role, e.reason);
	err = tg_dataplane_run(&f->dp, frame, len, &verdict, &tr);
	if (err) {
		fl_report(f, what, "    tg_dataplane_run: %s\n", strerror(-err));
		return false;
	}
	if (tr.service != TG_NO_SERVICE)
		svc = tr.service < f->img.nservices ? f->img.services[tr.service].name : "?bad-index";
	dp_format(got, sizeof(got), verdict, svc, tr.role, tr.reason);
	if (strcmp(canon, got) || tr.verdict != verdict) {
		fl_report(f, what, "    expected:   %s\n    data plane: %s\n", canon, got);
		return false;
	}
	return true;
}

/* Runs a frame whose verdict the case does not predict (random traffic). */
static void fl_run_any(struct fl *f, const char *spec)
{
	static uint8_t buf[DP_FRAME_MAX];
	size_t len = dp_build(spec, buf, sizeof(buf));
	int verdict = -1;

	if (!len || tg_dataplane_run(&f->dp, buf, len, &verdict, NULL))
		fl_report(f, spec, "    cannot build or run the frame\n");
}

/* Builds a spec (dp_harness.h's format) and checks it. */
static bool fl_expect(struct fl *f, const char *spec, const char *want)
{
	static uint8_t buf[DP_FRAME_MAX];
	size_t len = dp_build(spec, buf, sizeof(buf));

	if (!len) {
		fl_report(f, spec, "    cannot build the frame\n");
		return false;
	}
	return fl_run_frame(f, buf, len, spec, want);
}

/* The frame leaves through the egress classifier (the host's own packet). */
static void fl_egress_frame(struct fl *f, const uint8_t *frame, size_t len, const char *what)
{
	int err = tg_dataplane_run_egress(&f->dp, frame, len);

	if (err)
		fl_report(f, what, "    tg_dataplane_run_egress: %s\n", strerror(-err));
}

static void fl_egress(struct fl *f, const char *spec)
{
	static uint8_t buf[DP_FRAME_MAX];
	size_t len = dp_build(spec, buf, sizeof(buf));

	if (!len) {
		fl_report(f, spec, "    cannot build the frame\n");
		return;
	}
	fl_egress_frame(f, buf, len, spec);
}

static void fl_summary(struct fl *f, struct tg_flow_summary *s)
{
	memset(s, 0, sizeof(*s));
	assert_int_equal(tg_dataplane_flows(&f->dp, f->now, s), 0);
}

static void fl_expect_u64(struct fl *f, const char *what, uint64_t got, uint64_t want)
{
	if (got != want)
		fl_report(f, what, "    got %llu, want %llu\n", (unsigned long long)got, (unsigned long long)want);
}

/* Ends a case: fails it with the number of mismatches, and frees. */
static void fl_done(struct fl *f)
{
	unsigned failures = f->failures, checked = f->checked;
	char label[64];

	snprintf(label, sizeof(label), "%s", f->label);
	fl_free(f);
	if (failures)
		fail_msg("[%s] %u mismatches (%u frames checked)", label, failures, checked);
}

/* ---------------------------------------------------- frames by hand */

static size_t build_or_die(const char *spec, uint8_t *buf, size_t cap, size_t *l4)
{
	struct pb_packet p;
	struct dp_pokes pk;
	size_t len = dp_build(spec, buf, cap);

	if (!len || !dp_parse_spec(spec, &p, &pk))
		fail_msg("cannot build %s", spec);
	*l4 = dp_l4_offset(&p);
	return len;
}

static void put16(uint8_t *b, unsigned v)
{
	b[0] = (uint8_t)(v >> 8);
	b[1] = (uint8_t)v;
}

/* An ICMP query (echo) with its identifier. */
static size_t icmp_query(const char *spec, unsigned id, uint8_t *buf, size_t cap)
{
	size_t l4, len = build_or_die(spec, buf, cap, &l4);

	put16(buf + l4 + 4, id);
	return len;
}

/*
 * An ICMP error: `outer` is "icmp SRC > DST type=N" without payload, and the
 * quoted packet is `inner`'s IP packet (everything after its Ethernet
 * header), cut to `quote` bytes (0: whole), then `extra` bytes of 0xa5.
 */
static size_t icmp_error(const char *outer, const char *inner, size_t quote, size_t extra, uint8_t *buf, size_t cap)
{
	uint8_t in[2048];
	size_t in_l4, out_l4, in_len = build_or_die(inner, in, sizeof(in), &in_l4);
	size_t len = build_or_die(outer, buf, cap, &out_l4), q = in_len - 14;
	bool v6 = buf[12] == 0x86 && buf[13] == 0xdd;

	(void)in_l4;
	if (quote && quote < q)
		q = quote;
	assert_true(len == out_l4 + 8);
	assert_true(len + q + extra <= cap);
	memcpy(buf + len, in + 14, q);
	memset(buf + len + q, 0xa5, extra);
	len += q + extra;
	if (v6)
		put16(buf + 14 + 4, (unsigned)(len - 14 - 40));
	else
		put16(buf + 14 + 2, (unsigned)(len - 14));
	return len;
}

/* ============================================================= UDP out */

static const char ntp_policy[] = "default deny\n"
				 "service ntp { direction out; protocol udp; ports 123; peers any; action allow }\n";

/* `out udp 123 any`: a datagram from :123 is a reply only to a request
 * the host sent, to that address and port, from that local port. */
static void udp_reply_needs_the_request(void **state)
{
	struct fl *f = fl_load("udp out", ntp_policy, TG_FACING_OUTSIDE);

	(void)state;
	fl_expect(f, "udp 203.0.113.9:123 > 192.0.2.10:40000", "drop - - no-flow");
	fl_expect(f, "udp 203.0.113.9:123 > 192.0.2.10:22", "drop - - no-flow");
	fl_expect(f, "udp [2001:db8::9]:123 > [2001:db8:1::10]:40000", "drop - - no-flow");

	fl_egress(f, "udp 192.0.2.10:40000 > 203.0.113.9:123");
	fl_egress(f, "udp [2001:db8:1::10]:40000 > [2001:db8::9]:123");
	fl_expect(f, "udp 203.0.113.9:123 > 192.0.2.10:40000", "pass ntp reply service");
	fl_expect(f, "udp 203.0.113.9:123 > 192.0.2.10:40000 payload=48", "pass ntp reply service");
	fl_expect(f, "udp [2001:db8::9]:123 > [2001:db8:1::10]:40000", "pass ntp reply service");
	/* Another remote port is no service at all; another remote address or
	 * local port has no flow. */
	fl_expect(f, "udp 203.0.113.9:1123 > 192.0.2.10:40000", "drop - - default");
	fl_expect(f, "udp 203.0.113.8:123 > 192.0.2.10:40000", "drop - - no-flow");
	fl_expect(f, "udp 198.51.100.9:123 > 192.0.2.10:40000", "drop - - no-flow");
	fl_expect(f, "udp 203.0.113.9:123 > 192.0.2.10:40001", "drop - - no-flow");
	fl_expect(f, "udp 203.0.113.9:123 > 192.0.2.11:40000", "drop - - no-flow");
	fl_expect(f, "udp [2001:db8::8]:123 > [2001:db8:1::10]:40000", "drop - - no-flow");
	/* A flow of another protocol is not this one. */
	fl_expect(f, "tcp 203.0.113.9:123 > 192.0.2.10:40000 A", "drop - - default");
	/* The remote side's own datagram to :123 opens nothing. */
	fl_expect(f, "udp 203.0.113.7:123 > 192.0.2.10:123", "drop - - no-flow");
	fl_done(f);
}

/* ============================================================= TCP out */

static const char web_policy[] = "default deny\n"
				 "tcp-syn-timeout 30s\n"
				 "tcp-established-timeout 1h\n"
				 "tcp-closing-timeout 20s\n"
				 "tcp-closed-timeout 5s\n"
				 "service web { direction out; protocol tcp; ports 80; peers any; action allow }\n";

static void tcp_follows_the_handshake_and_the_close(void **state)
{
	struct fl *f = fl_load("tcp out", web_policy, TG_FACING_OUTSIDE);

	(void)state;
	/* An ACK from :80 to a local listener: no flow. */
	fl_expect(f, "tcp 203.0.113.9:80 > 192.0.2.10:8080 A", "drop - - no-flow");
	fl_expect(f, "tcp 203.0.113.9:80 > 192.0.2.10:22 RA", "drop - - no-flow");
	fl_expect(f, "tcp 203.0.113.9:80 > 192.0.2.10:40000 SA", "drop - - no-flow");

	/* Flow 1: SYN out, SYN+ACK in, data both ways, then an RST. */
	fl_egress(f, "tcp 192.0.2.10:40000 > 203.0.113.9:80 S");
	fl_expect(f, "tcp 203.0.113.9:80 > 192.0.2.10:40000 SA", "pass web reply service");
	fl_egress(f, "tcp 192.0.2.10:40000 > 203.0.113.9:80 A");
	fl_expect(f, "tcp 203.0.113.9:80 > 192.0.2.10:40000 A", "pass web reply service");
	fl_expect(f, "tcp 203.0.113.9:80 > 192.0.2.10:40000 PA payload=1000", "pass web reply service");
	/* A bare SYN from :80 is never a reply. */
	fl_expect(f, "tcp 203.0.113.9:80 > 192.0.2.10:40000 S", "drop - - default");

	/* Flow 2 (FIN) and flow 3 (stays established), opened alongside. */
	fl_egress(f, "tcp 192.0.2.10:40001 > 203.0.113.9:80 S");
	fl_expect(f, "tcp 203.0.113.9:80 > 192.0.2.10:40001 SA", "pass web reply service");
	fl_egress(f, "tcp 192.0.2.10:40002 > 203.0.113.9:80 S");
	fl_expect(f, "tcp 203.0.113.9:80 > 192.0.2.10:40002 SA", "pass web reply service");

	/* RST: closed, lives tcp-closed-timeout (5 s) from its last packet. */
	fl_expect(f, "tcp 203.0.113.9:80 > 192.0.2.10:40000 RA", "pass web reply service");
	fl_wait(f, 4);
	fl_expect(f, "tcp 203.0.113.9:80 > 192.0.2.10:40000 A", "pass web reply service");
	fl_wait(f, 6);
	fl_expect(f, "tcp 203.0.113.9:80 > 192.0.2.10:40000 A", "drop - - no-flow");
	fl_expect(f, "tcp 203.0.113.9:80 > 192.0.2.10:40000 RA", "drop - - no-flow");

	/* FIN from the host: closing, lives tcp-closing-timeout (20 s). */
	fl_egress(f, "tcp 192.0.2.10:40001 > 203.0.113.9:80 FA");
	fl_wait(f, 19);
	fl_expect(f, "tcp 203.0.113.9:80 > 192.0.2.10:40001 FA", "pass web reply service");
	fl_wait(f, 19);
	fl_expect(f, "tcp 203.0.113.9:80 > 192.0.2.10:40001 A", "pass web reply service");
	fl_wait(f, 21);
	fl_expect(f, "tcp 203.0.113.9:80 > 192.0.2.10:40001 A", "drop - - no-flow");

	/* Established: an hour, untouched by the others' timeouts. */
	fl_expect(f, "tcp 203.0.113.9:80 > 192.0.2.10:40002 A", "pass web reply service");

	/* A bare SYN from the host reopens a closed flow's ports. */
	fl_egress(f, "tcp 192.0.2.10:40000 > 203.0.113.9:80 S");
	fl_expect(f, "tcp 203.0.113.9:80 > 192.0.2.10:40000 SA", "pass web reply service");

	/* Unanswered SYN: tcp-syn-timeout (30 s). */
	fl_egress(f, "tcp 192.0.2.10:40003 > 203.0.113.9:80 S");
	fl_wait(f, 31);
	fl_expect(f, "tcp 203.0.113.9:80 > 192.0.2.10:40003 SA", "drop - - no-flow");
	fl_done(f);
}

/* ============================================================== expiry */

static const char ntp_short_policy[] =
	"default deny\n"
	"udp-timeout 5s\n"
	"udp-stream-timeout 60s\n"
	"service ntp { direction out; protocol udp; ports 123; peers any; action allow }\n";

static void udp_flows_expire(void **state)
{
	struct fl *f = fl_load("udp expiry", ntp_short_policy, TG_FACING_OUTSIDE);

	(void)state;
	/* Unanswered: 5 s. */
	fl_egress(f, "udp 192.0.2.10:40000 > 203.0.113.9:123");
	fl_egress(f, "udp 192.0.2.10:40001 > 203.0.113.9:123");
	fl_egress(f, "udp 192.0.2.10:40002 > 203.0.113.9:123");
	fl_wait(f, 4);
	fl_expect(f, "udp 203.0.113.9:123 > 192.0.2.10:40001", "pass ntp reply service");
	fl_wait(f, 2); /* 6 s after the requests */
	fl_expect(f, "udp 203.0.113.9:123 > 192.0.2.10:40000", "drop - - no-flow");
	/* A request refreshes: 40002 sent again now lives 5 s more. */
	fl_egress(f, "udp 192.0.2.10:40002 > 203.0.113.9:123");
	fl_wait(f, 4);
	fl_expect(f, "udp 203.0.113.9:123 > 192.0.2.10:40002", "pass ntp reply service");

	/* Answered (40001 at 4 s, 40002 now): udp-stream-timeout, 60 s. */
	fl_wait(f, 30);
	fl_expect(f, "udp 203.0.113.9:123 > 192.0.2.10:40002", "pass ntp reply service");
	fl_wait(f, 59);
	fl_expect(f, "udp 203.0.113.9:123 > 192.0.2.10:40002", "pass ntp reply service");
	fl_expect(f, "udp 203.0.113.9:123 > 192.0.2.10:40001", "drop - - no-flow");
	fl_wait(f, 61);
	fl_expect(f, "udp 203.0.113.9:123 > 192.0.2.10:40002", "drop - - no-flow");
	fl_done(f);
}

/* ============================================================ stateless */

static void stateless_replies_pass_by_ports(void **state)
{
	static const char text[] = "default deny\n"
				   "replies stateless\n"
				   "service ntp { direction out; protocol udp; ports 123; peers any; action allow }\n"
				   "service web { direction out; protocol tcp; ports 80; peers any; action allow }\n";
	struct fl *f = fl_load("stateless", text, TG_FACING_OUTSIDE);
	struct tg_flow_summary s;

	(void)state;
	fl_expect(f, "udp 203.0.113.9:123 > 192.0.2.10:40000", "pass ntp reply service");
	fl_expect(f, "udp [2001:db8::9]:123 > [2001:db8:1::10]:22", "pass ntp reply service");
	fl_expect(f, "tcp 203.0.113.9:80 > 192.0.2.10:8080 A", "pass web reply service");
	fl_expect(f, "tcp 203.0.113.9:80 > 192.0.2.10:8080 S", "drop - - default");
	/* The egress classifier records nothing. */
	fl_egress(f, "udp 192.0.2.10:40000 > 203.0.113.9:123");
	fl_summary(f, &s);
	fl_expect_u64(f, "stateless: flows created", s.stats[TG_OPENED_LOCAL].created, 0);
	fl_expect_u64(f, "stateless: no-flow counted", s.stats[TG_OPENED_LOCAL].no_flow, 0);
	fl_done(f);
}

/* =============================================== a reply without a flow */

static void reply_without_flow_falls_to_requests(void **state)
{
	static const char deny_text[] =
		"default deny\n"
		"service ntp { direction out; protocol udp; ports 123; peers any; action allow }\n"
		"service mdns { direction in; protocol udp; ports 5353; peers any; action allow }\n";
	static const char allow_text[] =
		"default allow\n"
		"service ntp { direction out; protocol udp; ports 123; peers any; action allow }\n";
	struct fl *f = fl_load("no flow, default deny", deny_text, TG_FACING_OUTSIDE);
	struct tg_flow_summary s;

	(void)state;
	/* From :123 to :5353: not ntp's reply without a flow, but mdns's
	 * request, which opens a remote flow. */
	fl_expect(f, "udp 203.0.113.9:123 > 192.0.2.10:5353", "pass mdns request service");
	fl_expect(f, "udp 203.0.113.9:123 > 192.0.2.10:40000", "drop - - no-flow");
	fl_summary(f, &s);
	fl_expect_u64(f, "mdns request: remote flows created", s.stats[TG_OPENED_REMOTE].created, 1);
	fl_expect_u64(f, "no-flow misses (local)", s.stats[TG_OPENED_LOCAL].no_flow, 2);
	/* With the flow, ntp's reply decides. */
	fl_egress(f, "udp 192.0.2.10:5353 > 203.0.113.9:123");
	fl_expect(f, "udp 203.0.113.9:123 > 192.0.2.10:5353", "pass ntp reply service");
	fl_done(f);

	f = fl_load("no flow, default allow", allow_text, TG_FACING_OUTSIDE);
	fl_expect(f, "udp 203.0.113.9:123 > 192.0.2.10:40000", "pass - - no-flow");
	fl_expect(f, "udp 203.0.113.9:124 > 192.0.2.10:40000", "pass - - default");
	fl_egress(f, "udp 192.0.2.10:40000 > 203.0.113.9:123");
	fl_expect(f, "udp 203.0.113.9:123 > 192.0.2.10:40000", "pass ntp reply service");
	fl_done(f);
}

/* ======================================================= inside facing */

/*
 * An inside-facing program on a gateway's LAN NIC. Its XDP hook sees LAN
 * clients' requests (they open local flows) and local servers' answers;
 * its egress classifier sees the packets going to the LAN: the outside
 * view of the same tables. Cross-program sharing (a reply at the OUTSIDE
 * NIC's XDP hook) needs two loads sharing maps, which test runs do not
 * do: the end-to-end suite covers it.
 */
static void inside_facing_opens_and_answers(void **state)
{
	static const char text[] =
		"default deny\n"
		"udp-timeout 5s\n"
		"udp-stream-timeout 60s\n"
		"service dns { direction out; protocol udp; ports 53; peers any; action allow }\n"
		"service https-in { direction in; protocol tcp; ports 443; peers any; action allow }\n";
	struct fl *f = fl_load("inside", text, TG_FACING_INSIDE);
	struct tg_flow_summary s;

	(void)state;
	/* A LAN client's request at the inside NIC: a local flow. */
	fl_expect(f, "udp 192.0.2.50:40000 > 198.51.100.53:53", "pass dns request service");
	fl_summary(f, &s);
	fl_expect_u64(f, "LAN request: local flows created", s.stats[TG_OPENED_LOCAL].created, 1);
	fl_expect_u64(f, "LAN request: local flows live", s.live[TG_OPENED_LOCAL], 1);
	/* The resolver's answer on its way to the LAN finds the flow: it is
	 * now answered and lives udp-stream-timeout, not udp-timeout. */
	fl_egress(f, "udp 198.51.100.53:53 > 192.0.2.50:40000");
	fl_wait(f, 30);
	fl_summary(f, &s);
	fl_expect_u64(f, "answered LAN flow live after 30 s", s.live[TG_OPENED_LOCAL], 1);
	/* An unanswered one does not. */
	fl_expect(f, "udp 192.0.2.50:40001 > 198.51.100.53:53", "pass dns request service");
	fl_wait(f, 6);
	fl_summary(f, &s);
	fl_expect_u64(f, "unanswered LAN flow gone after 6 s", s.live[TG_OPENED_LOCAL], 1);

	/* A local server's answer at the inside NIC needs a flow the remote
	 * client opened. */
	fl_expect(f, "tcp 192.0.2.10:443 > 203.0.113.9:50000 SA", "drop - - no-flow");
	fl_summary(f, &s);
	fl_expect_u64(f, "server answer without flow: no_flow (remote)", s.stats[TG_OPENED_REMOTE].no_flow, 1);
	fl_egress(f, "tcp 203.0.113.9:50000 > 192.0.2.10:443 S");
	fl_expect(f, "tcp 192.0.2.10:443 > 203.0.113.9:50000 SA", "pass https-in reply service");
	fl_expect(f, "tcp 192.0.2.10:443 > 203.0.113.9:50000 PA payload=500", "pass https-in reply service");
	fl_expect(f, "tcp 192.0.2.10:443 > 203.0.113.9:50001 A", "drop - - no-flow");
	fl_expect(f, "tcp 192.0.2.10:443 > 203.0.113.8:50000 A", "drop - - no-flow");
	fl_done(f);
}

/* ============================================================ ICMP echo */

static void icmp_echo_by_identifier(void **state)
{
	static const char text[] =
		"default deny\n"
		"service ping { direction out; protocol icmp; types echo-request; peers any; action allow }\n"
		"service ping6 { direction out; protocol icmpv6; types echo-request; peers any; action allow }\n";
	struct fl *f = fl_load("icmp echo", text, TG_FACING_OUTSIDE);
	static uint8_t buf[DP_FRAME_MAX];
	size_t len;

	(void)state;
	len = icmp_query("icmp 203.0.113.9 > 192.0.2.10 type=0 payload=56", 0x1234, buf, sizeof(buf));
	fl_run_frame(f, buf, len, "echo-reply id 0x1234, no flow", "drop - - no-flow");

	len = icmp_query("icmp 192.0.2.10 > 203.0.113.9 type=8 payload=56", 0x1234, buf, sizeof(buf));
	fl_egress_frame(f, buf, len, "echo-request id 0x1234 out");
	len = icmp_query("icmp [2001:db8:1::10] > [2001:db8::9] type=128 payload=56", 0x4321, buf, sizeof(buf));
	fl_egress_frame(f, buf, len, "echo-request v6 id 0x4321 out");

	len = icmp_query("icmp 203.0.113.9 > 192.0.2.10 type=0 payload=56", 0x1234, buf, sizeof(buf));
	fl_run_frame(f, buf, len, "echo-reply id 0x1234", "pass ping reply service");
	len = icmp_query("icmp 203.0.113.9 > 192.0.2.10 type=0 payload=56", 0x1235, buf, sizeof(buf));
	fl_run_frame(f, buf, len, "echo-reply id 0x1235", "drop - - no-flow");
	len = icmp_query("icmp 203.0.113.8 > 192.0.2.10 type=0 payload=56", 0x1234, buf, sizeof(buf));
	fl_run_frame(f, buf, len, "echo-reply id 0x1234 from another address", "drop - - no-flow");
	len = icmp_query("icmp [2001:db8::9] > [2001:db8:1::10] type=129 payload=56", 0x4321, buf, sizeof(buf));
	fl_run_frame(f, buf, len, "echo-reply v6 id 0x4321", "pass ping6 reply service");
	len = icmp_query("icmp [2001:db8::9] > [2001:db8:1::10] type=129 payload=56", 0x1234, buf, sizeof(buf));
	fl_run_frame(f, buf, len, "echo-reply v6 id 0x1234", "drop - - no-flow");
	/* The remote side's echo-request is no service here. */
	len = icmp_query("icmp 203.0.113.9 > 192.0.2.10 type=8 payload=56", 0x1234, buf, sizeof(buf));
	fl_run_frame(f, buf, len, "echo-request from outside", "drop - - default");
	fl_done(f);
}

/* ========================================================= related ICMP */

static const char related_policy[] =
	"default deny\n"
	"service ntp { direction out; protocol udp; ports 123; peers any; action allow }\n"
	"service web { direction out; protocol tcp; ports 80; peers any; action allow }\n"
	"service https-in { direction in; protocol tcp; ports 443; peers any; action allow }\n";

static void related_icmp_errors(void **state)
{
	struct fl *f = fl_load("related icmp", related_policy, TG_FACING_OUTSIDE);
	static uint8_t buf[DP_FRAME_MAX];
	size_t len;

	(void)state;
	fl_egress(f, "udp 192.0.2.10:40000 > 203.0.113.9:123");
	fl_egress(f, "udp [2001:db8:1::10]:40000 > [2001:db8::9]:123");
	fl_egress(f, "tcp 192.0.2.10:40010 > 198.51.100.80:80 S");

	/* Quoting a live flow: essential. */
	len = icmp_error("icmp 198.51.100.1 > 192.0.2.10 type=3 code=3", "udp 192.0.2.10:40000 > 203.0.113.9:123", 0, 0,
			 buf, sizeof(buf));
	fl_run_frame(f, buf, len, "unreachable quoting the ntp flow", "pass - - essential-icmp");
	len = icmp_error("icmp 198.51.100.1 > 192.0.2.10 type=11", "udp 192.0.2.10:40000 > 203.0.113.9:123", 28, 0, buf,
			 sizeof(buf));
	fl_run_frame(f, buf, len, "time-exceeded quoting the ntp flow (28 bytes)", "pass - - essential-icmp");
	len = icmp_error("icmp 198.51.100.1 > 192.0.2.10 type=3 code=4", "tcp 192.0.2.10:40010 > 198.51.100.80:80 S", 0,
			 0, buf, sizeof(buf));
	fl_run_frame(f, buf, len, "frag-needed quoting the web flow", "pass - - essential-icmp");
	len = icmp_error("icmp [2001:db8::1] > [2001:db8:1::10] type=1",
			 "udp [2001:db8:1::10]:40000 > [2001:db8::9]:123", 0, 0, buf, sizeof(buf));
	fl_run_frame(f, buf, len, "v6 unreachable quoting the ntp flow", "pass - - essential-icmp");
	len = icmp_error("icmp [2001:db8::1] > [2001:db8:1::10] type=3",
			 "udp [2001:db8:1::10]:40000 > [2001:db8::9]:123", 0, 0, buf, sizeof(buf));
	fl_run_frame(f, buf, len, "v6 time-exceeded quoting the ntp flow", "pass - - essential-icmp");

	/* No flow for a request the policy allows (ntp's request to any
	 * :123): not related, since every allowed request opens a flow
	 * (docs/policy.md, "Related errors"). The services and the default
	 * decide it. */
	len = icmp_error("icmp 198.51.100.1 > 192.0.2.10 type=11", "udp 192.0.2.10:40001 > 203.0.113.9:123", 0, 0, buf,
			 sizeof(buf));
	fl_run_frame(f, buf, len, "time-exceeded quoting an allowed request, no flow", "drop - - default");
	len = icmp_error("icmp [2001:db8::1] > [2001:db8:1::10] type=1",
			 "udp [2001:db8:1::10]:40001 > [2001:db8::8]:123", 0, 0, buf, sizeof(buf));
	fl_run_frame(f, buf, len, "v6 unreachable quoting an allowed request, no flow", "drop - - default");

	/* Quoting an unknown tuple that no service allows: services and
	 * default decide the error. */
	len = icmp_error("icmp 198.51.100.1 > 192.0.2.10 type=11", "udp 192.0.2.10:40000 > 203.0.113.9:9999", 0, 0, buf,
			 sizeof(buf));
	fl_run_frame(f, buf, len, "time-exceeded quoting an unknown udp tuple", "drop - - default");
	len = icmp_error("icmp 198.51.100.1 > 192.0.2.10 type=3", "tcp 192.0.2.10:40010 > 198.51.100.80:81 S", 0, 0,
			 buf, sizeof(buf));
	fl_run_frame(f, buf, len, "unreachable quoting an unknown tcp tuple", "drop - - default");
	len = icmp_error("icmp 198.51.100.1 > 192.0.2.10 type=12", "udp 192.0.2.10:40000 > 203.0.113.9:124", 0, 0, buf,
			 sizeof(buf));
	fl_run_frame(f, buf, len, "parameter-problem quoting a port no service has", "drop - - default");
	len = icmp_error("icmp [2001:db8::1] > [2001:db8:1::10] type=3",
			 "udp [2001:db8:1::10]:40000 > [2001:db8::9]:9999", 0, 0, buf, sizeof(buf));
	fl_run_frame(f, buf, len, "v6 time-exceeded quoting an unknown tuple", "drop - - default");
	/* The remote side's packet quoted back at us relates to nothing. */
	len = icmp_error("icmp 198.51.100.1 > 192.0.2.10 type=3", "udp 203.0.113.9:123 > 192.0.2.10:40000", 0, 0, buf,
			 sizeof(buf));
	fl_run_frame(f, buf, len, "unreachable quoting a packet the other way", "drop - - default");
	/* Nothing quoted, or 1000 bytes of garbage. */
	fl_expect(f, "icmp 198.51.100.1 > 192.0.2.10 type=11", "drop - - default");
	fl_expect(f, "icmp 198.51.100.1 > 192.0.2.10 type=11 payload=1000", "drop - - default");
	len = icmp_error("icmp 198.51.100.1 > 192.0.2.10 type=11", "udp 192.0.2.10:40000 > 203.0.113.9:123", 1, 999,
			 buf, sizeof(buf));
	buf[14 + 20 + 8] = 0xa5; /* the quoted version nibble: garbage too */
	fl_run_frame(f, buf, len, "time-exceeded with 1000 bytes of garbage", "drop - - default");
	fl_expect(f, "icmp [2001:db8::1] > [2001:db8:1::10] type=2 payload=1000", "drop - - default");

	/* Packet-too-big for an inbound service, quoting the server's reply:
	 * no flow needed. */
	len = icmp_error("icmp [2001:db8::1] > [2001:db8:1::10] type=2",
			 "tcp [2001:db8:1::10]:443 > [2001:db8::9]:50000 A payload=1400", 0, 0, buf, sizeof(buf));
	fl_run_frame(f, buf, len, "v6 packet-too-big quoting the https server's reply", "pass - - essential-icmp");
	len = icmp_error("icmp 198.51.100.1 > 192.0.2.10 type=3 code=4",
			 "tcp 192.0.2.10:443 > 203.0.113.9:50000 A payload=1400", 0, 0, buf, sizeof(buf));
	fl_run_frame(f, buf, len, "frag-needed quoting the https server's reply", "pass - - essential-icmp");
	len = icmp_error("icmp 198.51.100.1 > 192.0.2.10 type=3 code=4",
			 "tcp 192.0.2.10:444 > 203.0.113.9:50000 A payload=1400", 0, 0, buf, sizeof(buf));
	fl_run_frame(f, buf, len, "frag-needed quoting a port no service has", "drop - - default");

	/* Neighbour discovery is no error: it passes. */
	fl_expect(f, "icmp [fe80::1] > [2001:db8:1::10] type=135", "pass - - essential-icmp");
	fl_expect(f, "icmp [fe80::1] > [2001:db8:1::10] type=136", "pass - - essential-icmp");
	fl_expect(f, "icmp [fe80::1] > [ff02::1] type=134", "pass - - essential-icmp");
	fl_done(f);
}

static void stateless_passes_every_essential_type(void **state)
{
	static const char text[] = "default deny\n"
				   "replies stateless\n"
				   "service ntp { direction out; protocol udp; ports 123; peers any; action allow }\n";
	static const unsigned v4[] = { 3, 11, 12 };
	static const unsigned v6[] = { 1, 2, 3, 4, 133, 134, 135, 136, 137 };
	struct fl *f = fl_load("stateless icmp", text, TG_FACING_OUTSIDE);
	char spec[128];

	(void)state;
	for (size_t i = 0; i < DP_ARRAY_SIZE(v4); i++) {
		snprintf(spec, sizeof(spec), "icmp 198.51.100.1 > 192.0.2.10 type=%u", v4[i]);
		fl_expect(f, spec, "pass - - essential-icmp");
		snprintf(spec, sizeof(spec), "icmp 198.51.100.1 > 192.0.2.10 type=%u payload=1000", v4[i]);
		fl_expect(f, spec, "pass - - essential-icmp");
	}
	for (size_t i = 0; i < DP_ARRAY_SIZE(v6); i++) {
		snprintf(spec, sizeof(spec), "icmp [2001:db8::1] > [2001:db8:1::10] type=%u", v6[i]);
		fl_expect(f, spec, "pass - - essential-icmp");
		snprintf(spec, sizeof(spec), "icmp [2001:db8::1] > [2001:db8:1::10] type=%u payload=1000", v6[i]);
		fl_expect(f, spec, "pass - - essential-icmp");
	}
	fl_done(f);
}

/* ============================================================ fragments */

static void tiny_and_overlapping_fragments_are_malformed(void **state)
{
	static const char text[] = "default deny\n"
				   "fragments match\n"
				   "service web-in { direction in; protocol tcp; ports 80; peers any; action allow }\n"
				   "service dns-in { direction in; protocol udp; ports 53; peers any; action allow }\n";
	struct fl *f = fl_load("fragments", text, TG_FACING_OUTSIDE);

	(void)state;
	/* Offset 1: malformed, though web-in matches fragments. */
	fl_expect(f, "tcp 203.0.113.9:1 > 192.0.2.10:80 frag=1", "drop - - malformed");
	fl_expect(f, "tcp 203.0.113.9:1 > 192.0.2.10:80 frag=1 mf", "drop - - malformed");
	fl_expect(f, "tcp 203.0.113.9:1 > 192.0.2.10:80 frag=1 payload=16", "drop - - malformed");
	fl_expect(f, "tcp [2001:db8::9]:1 > [2001:db8:1::10]:80 frag=1", "drop - - malformed");
	fl_expect(f, "tcp [2001:db8::9]:1 > [2001:db8:1::10]:80 frag=1 mf payload=16", "drop - - malformed");
	/* The neighbours of offset 1 are ordinary fragments. */
	fl_expect(f, "tcp 203.0.113.9:1 > 192.0.2.10:80 frag=2 payload=16", "pass web-in fragment fragment");
	fl_expect(f, "tcp [2001:db8::9]:1 > [2001:db8:1::10]:80 frag=2 payload=16", "pass web-in fragment fragment");
	fl_expect(f, "udp 203.0.113.9:1 > 192.0.2.10:53 frag=1 payload=16", "pass dns-in fragment fragment");
	fl_expect(f, "tcp 203.0.113.9:50000 > 192.0.2.10:80 S frag=0 mf", "pass web-in request service");

	/* A first fragment too short for its transport header. */
	fl_expect(f, "tcp 203.0.113.9:50000 > 192.0.2.10:80 S frag=0 mf totlen=28 len=42", "drop - - malformed");
	fl_expect(f, "tcp 203.0.113.9:50000 > 192.0.2.10:80 S frag=0 mf totlen=36 len=50", "drop - - malformed");
	fl_expect(f, "tcp [2001:db8::9]:50000 > [2001:db8:1::10]:80 S frag=0 mf plen=16 len=70", "drop - - malformed");
	fl_expect(f, "udp 203.0.113.9:50000 > 192.0.2.10:53 frag=0 mf totlen=24 len=38", "drop - - malformed");
	/* Under `malformed allow` they pass as malformed. */
	fl_done(f);

	f = fl_load("fragments, malformed allow",
		    "default deny\nmalformed allow\n"
		    "service web-in { direction in; protocol tcp; ports 80; peers any; action allow }\n",
		    TG_FACING_OUTSIDE);
	fl_expect(f, "tcp 203.0.113.9:1 > 192.0.2.10:80 frag=1", "pass - - malformed");
	fl_done(f);
}

/* ================================================ IPv4-embedding IPv6 */

static void ipv4_embedding_ipv6_addresses_are_malformed(void **state)
{
	static const char text[] = "default deny\n"
				   "service dns-in { direction in; protocol udp; ports 53; peers any; action allow }\n";
	struct fl *f = fl_load("mapped addresses", text, TG_FACING_OUTSIDE);

	(void)state;
	fl_expect(f, "udp [::ffff:203.0.113.9]:5000 > [2001:db8:1::10]:53", "drop - - malformed");
	fl_expect(f, "udp [::203.0.113.9]:5000 > [2001:db8:1::10]:53", "drop - - malformed");
	fl_expect(f, "udp [2001:db8::9]:5000 > [::ffff:192.0.2.10]:53", "drop - - malformed");
	fl_expect(f, "udp [2001:db8::9]:5000 > [::192.0.2.10]:53", "drop - - malformed");
	fl_expect(f, "udp [::0.0.0.2]:5000 > [2001:db8:1::10]:53", "drop - - malformed");
	/* :: and ::1 are not embeddings. */
	fl_expect(f, "udp [::]:5000 > [2001:db8:1::10]:53", "pass dns-in request service");
	fl_expect(f, "udp [::1]:5000 > [2001:db8:1::10]:53", "pass dns-in request service");
	fl_expect(f, "udp [2001:db8::9]:5000 > [::1]:53", "pass dns-in request service");
	/* Addresses that only look alike. */
	fl_expect(f, "udp [::1:ffff:203.0.113.9]:5000 > [2001:db8:1::10]:53", "pass dns-in request service");
	fl_expect(f, "udp [64:ff9b::203.0.113.9]:5000 > [2001:db8:1::10]:53", "pass dns-in request service");
	fl_done(f);
}

/* ============================================================= lengths */

static size_t udp_with_length(const char *spec, unsigned udp_len, uint8_t *buf, size_t cap)
{
	size_t l4, len = build_or_die(spec, buf, cap, &l4);

	put16(buf + l4 + 4, udp_len);
	return len;
}

static void udp_and_icmp_lengths(void **state)
{
	static const char text[] =
		"default deny\n"
		"service dns-in { direction in; protocol udp; ports 53; peers any; action allow }\n"
		"service ping-in { direction in; protocol icmp; types echo-request; peers any; action allow }\n"
		"service ping6-in { direction in; protocol icmpv6; types echo-request; peers any; action allow }\n";
	struct fl *f = fl_load("lengths", text, TG_FACING_OUTSIDE);
	static uint8_t buf[DP_FRAME_MAX];
	char spec[160];
	size_t len;

	(void)state;
	/* 8 + 20 payload bytes. */
	len = udp_with_length("udp 203.0.113.9:5000 > 192.0.2.10:53 payload=20", 28, buf, sizeof(buf));
	fl_run_frame(f, buf, len, "udp length = IP payload", "pass dns-in request service");
	len = udp_with_length("udp 203.0.113.9:5000 > 192.0.2.10:53 payload=20", 29, buf, sizeof(buf));
	fl_run_frame(f, buf, len, "udp length > IP payload", "drop - - malformed");
	len = udp_with_length("udp 203.0.113.9:5000 > 192.0.2.10:53 payload=20", 400, buf, sizeof(buf));
	fl_run_frame(f, buf, len, "udp length >> IP payload", "drop - - malformed");
	len = udp_with_length("udp 203.0.113.9:5000 > 192.0.2.10:53 payload=20", 27, buf, sizeof(buf));
	fl_run_frame(f, buf, len, "udp length < IP payload", "drop - - malformed");
	len = udp_with_length("udp 203.0.113.9:5000 > 192.0.2.10:53 payload=20", 8, buf, sizeof(buf));
	fl_run_frame(f, buf, len, "udp length 8 < IP payload", "drop - - malformed");
	len = udp_with_length("udp 203.0.113.9:5000 > 192.0.2.10:53 payload=20", 0, buf, sizeof(buf));
	fl_run_frame(f, buf, len, "udp length 0", "drop - - malformed");
	len = udp_with_length("udp [2001:db8::9]:5000 > [2001:db8:1::10]:53 payload=20", 27, buf, sizeof(buf));
	fl_run_frame(f, buf, len, "v6 udp length < IP payload", "drop - - malformed");
	len = udp_with_length("udp [2001:db8::9]:5000 > [2001:db8:1::10]:53 payload=20", 29, buf, sizeof(buf));
	fl_run_frame(f, buf, len, "v6 udp length > IP payload", "drop - - malformed");
	/* Ethernet padding is not IP payload: no mismatch. */
	fl_expect(f, "udp 203.0.113.9:5000 > 192.0.2.10:53 payload=2 pad=16", "pass dns-in request service");
	/* A first fragment: the datagram goes on, its length says more. */
	len = udp_with_length("udp 203.0.113.9:5000 > 192.0.2.10:53 frag=0 mf payload=20", 1400, buf, sizeof(buf));
	fl_run_frame(f, buf, len, "first fragment, udp length > IP payload", "pass dns-in request service");

	/* ICMP with fewer than 8 header bytes inside the IP packet. */
	for (unsigned n = 4; n <= 7; n++) {
		snprintf(spec, sizeof(spec), "icmp 203.0.113.9 > 192.0.2.10 type=8 totlen=%u len=%u", 20 + n,
			 14 + 20 + n);
		fl_expect(f, spec, "drop - - malformed");
		snprintf(spec, sizeof(spec), "icmp 203.0.113.9 > 192.0.2.10 type=8 totlen=%u pad=10", 20 + n);
		fl_expect(f, spec, "drop - - malformed");
		snprintf(spec, sizeof(spec), "icmp 203.0.113.9 > 192.0.2.10 type=3 totlen=%u len=%u", 20 + n,
			 14 + 20 + n);
		fl_expect(f, spec, "drop - - malformed");
		snprintf(spec, sizeof(spec), "icmp [2001:db8::9] > [2001:db8:1::10] type=128 plen=%u len=%u", n,
			 14 + 40 + n);
		fl_expect(f, spec, "drop - - malformed");
	}
	fl_expect(f, "icmp 203.0.113.9 > 192.0.2.10 type=8", "pass ping-in request service");
	fl_expect(f, "icmp [2001:db8::9] > [2001:db8:1::10] type=128", "pass ping6-in request service");
	fl_done(f);
}

/* ========================================================== full table */

static void full_table_evicts_the_oldest(void **state)
{
	static const char text[] = "default deny\n"
				   "flow-table 1024\n"
				   "service ntp { direction out; protocol udp; ports 123; peers any; action allow }\n";
	struct fl *f = fl_load("full table", text, TG_FACING_OUTSIDE);
	struct tg_flow_summary s;
	char spec[128];

	(void)state;
	for (unsigned i = 0; i < 3000; i++) {
		snprintf(spec, sizeof(spec), "udp 192.0.2.10:%u > 203.0.113.9:123", 10000 + i);
		fl_egress(f, spec);
	}
	fl_summary(f, &s);
	fl_expect_u64(f, "table size", s.size[TG_OPENED_LOCAL], 1024);
	fl_expect_u64(f, "flows created", s.stats[TG_OPENED_LOCAL].created, 3000);
	fl_expect_u64(f, "evicted = inserted - present", s.evicted[TG_OPENED_LOCAL],
		      s.stats[TG_OPENED_LOCAL].inserted - s.present[TG_OPENED_LOCAL]);
	if (!s.evicted[TG_OPENED_LOCAL])
		fl_report(f, "evictions", "    no evictions after 3000 flows in a 1024-entry table\n");
	if (s.present[TG_OPENED_LOCAL] > 1024)
		fl_report(f, "present", "    %llu entries in a 1024-entry table\n",
			  (unsigned long long)s.present[TG_OPENED_LOCAL]);
	fl_expect_u64(f, "remote table untouched", s.stats[TG_OPENED_REMOTE].created, 0);
	fl_expect(f, "udp 203.0.113.9:123 > 192.0.2.10:10000", "drop - - no-flow");
	fl_expect(f, "udp 203.0.113.9:123 > 192.0.2.10:12999", "pass ntp reply service");
	/* The pushed-out flow comes back when the host sends again. */
	fl_egress(f, "udp 192.0.2.10:10000 > 203.0.113.9:123");
	fl_expect(f, "udp 203.0.113.9:123 > 192.0.2.10:10000", "pass ntp reply service");
	fl_done(f);
}

/* ======================================================== flow counters */

static void flow_counters_per_opener(void **state)
{
	static const char text[] =
		"default deny\n"
		"udp-timeout 5s\n"
		"service ntp { direction out; protocol udp; ports 123; peers any; action allow }\n"
		"service https-in { direction in; protocol tcp; ports 443; peers any; action allow }\n";
	struct fl *f = fl_load("counters outside", text, TG_FACING_OUTSIDE);
	struct tg_flow_summary s;

	(void)state;
	fl_expect(f, "udp 203.0.113.9:123 > 192.0.2.10:40000", "drop - - no-flow");
	fl_expect(f, "udp 203.0.113.9:123 > 192.0.2.10:40001", "drop - - no-flow");
	fl_egress(f, "udp 192.0.2.10:40000 > 203.0.113.9:123");
	fl_egress(f, "udp 192.0.2.10:40000 > 203.0.113.9:123"); /* a refresh, not a new flow */
	fl_expect(f, "udp 203.0.113.9:123 > 192.0.2.10:40000", "pass ntp reply service");
	fl_expect(f, "tcp 203.0.113.9:50000 > 192.0.2.10:443 S", "pass https-in request service");
	/* The host's answer through egress finds the remote flow; an answer
	 * without one is not counted there (egress never decides). */
	fl_egress(f, "tcp 192.0.2.10:443 > 203.0.113.9:50000 SA");
	fl_egress(f, "tcp 192.0.2.10:443 > 203.0.113.9:50001 SA");
	fl_summary(f, &s);
	fl_expect_u64(f, "local: created", s.stats[TG_OPENED_LOCAL].created, 1);
	fl_expect_u64(f, "local: inserted", s.stats[TG_OPENED_LOCAL].inserted, 1);
	fl_expect_u64(f, "local: no_flow", s.stats[TG_OPENED_LOCAL].no_flow, 2);
	fl_expect_u64(f, "local: present", s.present[TG_OPENED_LOCAL], 1);
	fl_expect_u64(f, "local: live", s.live[TG_OPENED_LOCAL], 1);
	fl_expect_u64(f, "remote: created", s.stats[TG_OPENED_REMOTE].created, 1);
	fl_expect_u64(f, "remote: no_flow", s.stats[TG_OPENED_REMOTE].no_flow, 0);
	fl_expect_u64(f, "remote: live", s.live[TG_OPENED_REMOTE], 1);
	/* An expired entry is reused: created again, not inserted again. */
	fl_wait(f, 6);
	fl_summary(f, &s);
	fl_expect_u64(f, "local: live after expiry... answered flow", s.live[TG_OPENED_LOCAL], 1);
	fl_wait(f, 200);
	fl_summary(f, &s);
	fl_expect_u64(f, "local: live after 206 s", s.live[TG_OPENED_LOCAL], 0);
	fl_expect_u64(f, "local: present after 206 s", s.present[TG_OPENED_LOCAL], 1);
	fl_egress(f, "udp 192.0.2.10:40000 > 203.0.113.9:123");
	fl_summary(f, &s);
	fl_expect_u64(f, "local: created after reuse", s.stats[TG_OPENED_LOCAL].created, 2);
	fl_expect_u64(f, "local: inserted after reuse", s.stats[TG_OPENED_LOCAL].inserted, 1);
	fl_expect_u64(f, "local: evicted", s.evicted[TG_OPENED_LOCAL], 0);
	fl_done(f);

	f = fl_load("counters inside", text, TG_FACING_INSIDE);
	fl_expect(f, "tcp 192.0.2.10:443 > 203.0.113.9:50000 SA", "drop - - no-flow");
	fl_expect(f, "tcp 192.0.2.10:443 > 203.0.113.9:50000 A", "drop - - no-flow");
	fl_expect(f, "tcp 192.0.2.10:443 > 203.0.113.9:50001 A", "drop - - no-flow");
	fl_summary(f, &s);
	fl_expect_u64(f, "inside remote: no_flow", s.stats[TG_OPENED_REMOTE].no_flow, 3);
	fl_expect_u64(f, "inside local: no_flow", s.stats[TG_OPENED_LOCAL].no_flow, 0);
	fl_done(f);
}

/* ============================================================= hints */

/* The flow hints (include/tollgate.h) may say "look" for a slot no live
 * flow uses, never "no flow" for a live one. */

static uint32_t fl_hint_half_mask(int hints_fd)
{
	struct bpf_map_info info;
	uint32_t len = sizeof(info);

	memset(&info, 0, sizeof(info));
	assert_int_equal(bpf_obj_get_info_by_fd(hints_fd, &info, &len), 0);
	assert_true(info.max_entries >= 2);
	return info.max_entries / 2 - 1;
}

/* Walks both tables: every live entry's slot must be above the clock.
 * Returns the live entries seen. */
static unsigned fl_check_hints(struct fl *f, const char *when)
{
	int tables[TG_OPENERS], hints;
	unsigned live = 0;

	tg_dataplane_flow_maps(&f->dp, tables, &hints);
	uint32_t half_mask = fl_hint_half_mask(hints);

	for (uint32_t o = 0; o < TG_OPENERS; o++) {
		struct tg_flow_key key, next;
		struct tg_flow flow;
		void *prev = NULL;

		while (!bpf_map_get_next_key(tables[o], prev, &next)) {
			uint32_t slot, hint = 0;

			key = next;
			prev = &key;
			if (bpf_map_lookup_elem(tables[o], &key, &flow) || flow.expires_ns <= f->now)
				continue;
			live++;
			slot = tg_flow_hint_index(&key, o, half_mask);
			assert_int_equal(bpf_map_lookup_elem(hints, &slot, &hint), 0);
			if (hint <= tg_flow_hint_now(f->now))
				fl_report(f, when,
					  "    a live flow (opener %u, expires %llu s) under hint %u at slot %u\n", o,
					  (unsigned long long)(flow.expires_ns / NS), hint, slot);
		}
	}
	return live;
}

/* The reply each live UDP flow of the host expects must pass. */
static void fl_answer_live_udp(struct fl *f, const char *when)
{
	int tables[TG_OPENERS], hints;
	struct tg_flow_key key, next;
	struct tg_flow flow;
	void *prev = NULL;
	char spec[128], r[INET_ADDRSTRLEN], l[INET_ADDRSTRLEN];
	unsigned answered = 0;

	tg_dataplane_flow_maps(&f->dp, tables, &hints);
	while (!bpf_map_get_next_key(tables[TG_OPENED_LOCAL], prev, &next)) {
		key = next;
		prev = &key;
		if (key.protocol != IPPROTO_UDP || key.family != TG_FAMILY_V4 ||
		    bpf_map_lookup_elem(tables[TG_OPENED_LOCAL], &key, &flow) || flow.expires_ns <= f->now)
			continue;
		inet_ntop(AF_INET, key.remote, r, sizeof(r));
		inet_ntop(AF_INET, key.local, l, sizeof(l));
		snprintf(spec, sizeof(spec), "udp %s:%u > %s:%u", r, key.remote_port, l, key.local_port);
		if (!fl_expect(f, spec, "pass ntp reply service"))
			fl_report(f, when, "    the reply above belongs to a live flow\n");
		answered++;
	}
	if (!answered)
		fl_report(f, when, "    no live UDP flow to answer\n");
}

static uint64_t fl_random(uint64_t *state)
{
	*state ^= *state << 13;
	*state ^= *state >> 7;
	*state ^= *state << 17;
	return *state;
}

/* Thousands of flows in a small table, each kind of write (open, refresh,
 * answer, FIN, RST, expiry, eviction, entry reuse) with the clock moving:
 * after each phase every live flow is still covered by its hint. */
static void hints_cover_every_live_flow(void **state)
{
	static const char text[] = "default deny\n"
				   "flow-table 1024\n"
				   "udp-timeout 20s\n"
				   "udp-stream-timeout 40s\n"
				   "tcp-syn-timeout 30s\n"
				   "tcp-established-timeout 10m\n"
				   "tcp-closing-timeout 20s\n"
				   "tcp-closed-timeout 5s\n"
				   "service ntp { direction out; protocol udp; ports 123; peers any; action allow }\n"
				   "service web { direction out; protocol tcp; ports 80; peers any; action allow }\n"
				   "service dns { direction in; protocol udp; ports 53; peers any; action allow }\n";
	struct fl *f = fl_load("hints", text, TG_FACING_OUTSIDE);
	static const char *const tcp_in[] = { "SA", "A", "FA", "RA" };
	uint64_t rng = 0x2545f4914f6cdd1dull;
	char spec[128];
	unsigned live;

	(void)state;
	for (unsigned round = 0; round < 6; round++) {
		for (unsigned i = 0; i < 700; i++) {
			unsigned port = 10000 + (unsigned)(fl_random(&rng) % 1500),
				 remote = 1 + (unsigned)(fl_random(&rng) % 4);

			switch (fl_random(&rng) % 5) {
			case 0: /* the host asks (opens or refreshes) */
				snprintf(spec, sizeof(spec), "udp 192.0.2.10:%u > 203.0.113.%u:123", port, remote);
				fl_egress(f, spec);
				break;
			case 1: /* an answer, flow or not */
				snprintf(spec, sizeof(spec), "udp 203.0.113.%u:123 > 192.0.2.10:%u", remote, port);
				fl_run_any(f, spec);
				break;
			case 2:
				snprintf(spec, sizeof(spec), "tcp 192.0.2.10:%u > 203.0.113.%u:80 S", port, remote);
				fl_egress(f, spec);
				break;
			case 3:
				snprintf(spec, sizeof(spec), "tcp 203.0.113.%u:80 > 192.0.2.10:%u %s", remote, port,
					 tcp_in[fl_random(&rng) % 4]);
				fl_run_any(f, spec);
				break;
			default: /* a remote client of the DNS service */
				snprintf(spec, sizeof(spec), "udp 198.51.100.%u:%u > 192.0.2.10:53", remote, port);
				fl_run_any(f, spec);
				break;
			}
			if (i % 100 == 99)
				fl_wait(f, (unsigned)(fl_random(&rng) % 9));
		}
		snprintf(spec, sizeof(spec), "after round %u", round);
		live = fl_check_hints(f, spec);
		if (!live)
			fl_report(f, spec, "    no live flow to check\n");
		fl_answer_live_udp(f, spec);
	}
	/* Everything expires; new flows then raise their slots again. */
	fl_wait(f, 3600);
	fl_expect_u64(f, "live after an hour", fl_check_hints(f, "after an hour"), 0);
	fl_egress(f, "udp 192.0.2.10:10000 > 203.0.113.1:123");
	fl_expect(f, "udp 203.0.113.1:123 > 192.0.2.10:10000", "pass ntp reply service");
	fl_check_hints(f, "after a new flow");
	fl_done(f);
}

/* Slots are the program's only word on "no flow": cleared, every reply is
 * dropped; rebuilt from the tables in user space (what attach does for
 * tables pinned without hints), the replies pass again. The user-space
 * and BPF hashes must agree for that. */
static void hints_rebuilt_from_the_tables(void **state)
{
	struct fl *f = fl_load("hints rebuilt", ntp_policy, TG_FACING_OUTSIDE);
	int tables[TG_OPENERS], hints;
	char spec[128];
	uint32_t slots, zero = 0;

	(void)state;
	for (unsigned i = 0; i < 50; i++) {
		snprintf(spec, sizeof(spec), "udp 192.0.2.10:%u > 203.0.113.9:123", 20000 + i);
		fl_egress(f, spec);
	}
	tg_dataplane_flow_maps(&f->dp, tables, &hints);
	slots = 2 * (fl_hint_half_mask(hints) + 1);
	for (uint32_t slot = 0; slot < slots; slot++)
		assert_int_equal(bpf_map_update_elem(hints, &slot, &zero, BPF_ANY), 0);
	fl_expect(f, "udp 203.0.113.9:123 > 192.0.2.10:20000", "drop - - no-flow");
	fl_expect(f, "udp 203.0.113.9:123 > 192.0.2.10:20049", "drop - - no-flow");
	assert_int_equal(tg_flows_hint_tables(tables, hints), 0);
	fl_expect_u64(f, "live flows covered", fl_check_hints(f, "rebuilt"), 50);
	for (unsigned i = 0; i < 50; i++) {
		snprintf(spec, sizeof(spec), "udp 203.0.113.9:123 > 192.0.2.10:%u", 20000 + i);
		fl_expect(f, spec, "pass ntp reply service");
	}
	fl_done(f);
}

/* A reply whose slot a live flow raised is checked in the table: no flow
 * there, no pass, and the miss is counted like any other. */
static void hint_collision_still_needs_the_flow(void **state)
{
	static const char text[] = "default deny\n"
				   "flow-table 1024\n"
				   "service ntp { direction out; protocol udp; ports 123; peers any; action allow }\n";
	struct fl *f = fl_load("hint collision", text, TG_FACING_OUTSIDE);
	struct tg_flow_key k = { .remote = { 203, 0, 113, 9 },
				 .local = { 192, 0, 2, 10 },
				 .remote_port = 123,
				 .local_port = 40000,
				 .family = TG_FAMILY_V4,
				 .protocol = IPPROTO_UDP };
	int tables[TG_OPENERS], hints;
	struct tg_flow_summary s;
	uint32_t half_mask, slot;
	unsigned port = 0;
	char spec[128];

	(void)state;
	tg_dataplane_flow_maps(&f->dp, tables, &hints);
	half_mask = fl_hint_half_mask(hints);
	slot = tg_flow_hint_index(&k, TG_OPENED_LOCAL, half_mask);
	for (unsigned p = 1; p < 65536 && !port; p++) {
		k.local_port = (uint16_t)p;
		if (p != 40000 && tg_flow_hint_index(&k, TG_OPENED_LOCAL, half_mask) == slot)
			port = p;
	}
	assert_true(port != 0);
	fl_egress(f, "udp 192.0.2.10:40000 > 203.0.113.9:123");
	fl_expect_u64(f, "live flows covered", fl_check_hints(f, "opened"), 1);
	snprintf(spec, sizeof(spec), "udp 203.0.113.9:123 > 192.0.2.10:%u", port);
	fl_expect(f, spec, "drop - - no-flow");
	fl_expect(f, "udp 203.0.113.9:123 > 192.0.2.10:40000", "pass ntp reply service");
	fl_summary(f, &s);
	fl_expect_u64(f, "misses counted", s.stats[TG_OPENED_LOCAL].no_flow, 1);
	fl_done(f);
}

/* The local port whose hint slot (in the host's half) is the one `taken`
 * maps to, for replies from remote:rport; 0 if none. */
static unsigned colliding_port(int hints_fd, const struct tg_flow_key *taken, const uint8_t remote[4], unsigned rport)
{
	uint32_t half_mask = fl_hint_half_mask(hints_fd), slot = tg_flow_hint_index(taken, TG_OPENED_LOCAL, half_mask);
	struct tg_flow_key k = *taken;

	memcpy(k.remote, remote, 4);
	k.remote_port = (uint16_t)rport;
	for (unsigned p = 1024; p < 65536; p++) {
		k.local_port = (uint16_t)p;
		if (p != taken->local_port && tg_flow_hint_index(&k, TG_OPENED_LOCAL, half_mask) == slot)
			return p;
	}
	return 0;
}

/* Under default deny, a packet only a reply could be needs a live flow
 * before its address is looked at: without one it is no-flow, whoever sent
 * it (docs/policy.md, "Flows"). Under default allow the address decides
 * first, as ever. */
static void reply_only_packets_need_a_flow_first(void **state)
{
	static const char deny_text[] =
		"default deny\n"
		"flow-table 1024\n"
		"service blocked { direction out; protocol udp; ports 123; peers 198.51.100.0/24; action deny }\n"
		"service ntp { direction out; protocol udp; ports 123; peers 203.0.113.0/24; action allow }\n"
		"service web { direction out; protocol tcp; ports 80; peers 203.0.113.0/24; action allow }\n";
	static const char allow_text[] =
		"default allow\n"
		"service blocked { direction out; protocol udp; ports 123; peers 198.51.100.0/24; action deny }\n"
		"service ntp { direction out; protocol udp; ports 123; peers 203.0.113.0/24; action allow }\n";
	static const uint8_t unlisted[4] = { 198, 18, 0, 9 }, blocked[4] = { 198, 51, 100, 9 };
	struct tg_flow_key taken = { .remote = { 203, 0, 113, 9 },
				     .local = { 192, 0, 2, 10 },
				     .remote_port = 123,
				     .local_port = 40000,
				     .family = TG_FAMILY_V4,
				     .protocol = IPPROTO_UDP };
	struct fl *f = fl_load("reply only, default deny", deny_text, TG_FACING_OUTSIDE);
	int tables[TG_OPENERS], hints;
	struct tg_flow_summary s;
	unsigned port;
	char spec[128];

	(void)state;
	fl_expect(f, "udp 203.0.113.9:123 > 192.0.2.10:40000", "drop - - no-flow");
	fl_expect(f, "udp 198.51.100.9:123 > 192.0.2.10:40000", "drop - - no-flow");
	fl_expect(f, "udp 198.18.0.9:123 > 192.0.2.10:40000", "drop - - no-flow");
	fl_expect(f, "udp [2001:db8::9]:123 > [2001:db8:1::10]:40000", "drop - - no-flow");
	fl_expect(f, "tcp 198.18.0.9:80 > 192.0.2.10:40000 A", "drop - - no-flow");
	/* A SYN is never a reply, and ports no service takes are no reply. */
	fl_expect(f, "tcp 198.18.0.9:80 > 192.0.2.10:40000 S", "drop - - default");
	fl_expect(f, "udp 198.18.0.9:124 > 192.0.2.10:40000", "drop - - default");
	fl_summary(f, &s);
	fl_expect_u64(f, "misses counted", s.stats[TG_OPENED_LOCAL].no_flow, 5);
	/* With the flow, the reply is classified as usual. */
	fl_egress(f, "udp 192.0.2.10:40000 > 203.0.113.9:123");
	fl_expect(f, "udp 203.0.113.9:123 > 192.0.2.10:40000", "pass ntp reply service");
	/* A hint the live flow raised sends the others the long way (the
	 * address, then the table): the verdict and the reason stay. */
	tg_dataplane_flow_maps(&f->dp, tables, &hints);
	port = colliding_port(hints, &taken, unlisted, 123);
	assert_true(port != 0);
	snprintf(spec, sizeof(spec), "udp 198.18.0.9:123 > 192.0.2.10:%u", port);
	fl_expect(f, spec, "drop - - no-flow");
	port = colliding_port(hints, &taken, blocked, 123);
	assert_true(port != 0);
	snprintf(spec, sizeof(spec), "udp 198.51.100.9:123 > 192.0.2.10:%u", port);
	fl_expect(f, spec, "drop - - no-flow");
	fl_summary(f, &s);
	fl_expect_u64(f, "misses counted, the long way too", s.stats[TG_OPENED_LOCAL].no_flow, 7);
	fl_done(f);

	f = fl_load("reply only, default allow", allow_text, TG_FACING_OUTSIDE);
	fl_expect(f, "udp 198.51.100.9:123 > 192.0.2.10:40000", "drop blocked reply service");
	fl_expect(f, "udp 203.0.113.9:123 > 192.0.2.10:40000", "pass - - no-flow");
	fl_expect(f, "udp 198.18.0.9:123 > 192.0.2.10:40000", "pass - - default");
	fl_done(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(udp_reply_needs_the_request),
		cmocka_unit_test(tcp_follows_the_handshake_and_the_close),
		cmocka_unit_test(udp_flows_expire),
		cmocka_unit_test(stateless_replies_pass_by_ports),
		cmocka_unit_test(reply_without_flow_falls_to_requests),
		cmocka_unit_test(inside_facing_opens_and_answers),
		cmocka_unit_test(icmp_echo_by_identifier),
		cmocka_unit_test(related_icmp_errors),
		cmocka_unit_test(stateless_passes_every_essential_type),
		cmocka_unit_test(tiny_and_overlapping_fragments_are_malformed),
		cmocka_unit_test(ipv4_embedding_ipv6_addresses_are_malformed),
		cmocka_unit_test(udp_and_icmp_lengths),
		cmocka_unit_test(full_table_evicts_the_oldest),
		cmocka_unit_test(flow_counters_per_opener),
		cmocka_unit_test(hints_cover_every_live_flow),
		cmocka_unit_test(hints_rebuilt_from_the_tables),
		cmocka_unit_test(hint_collision_still_needs_the_flow),
		cmocka_unit_test(reply_only_packets_need_a_flow_first),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
