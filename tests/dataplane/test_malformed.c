// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Frames the data plane must call malformed (docs/policy.md, Decision
 * order, step 2), and the edges of what it must still accept: every
 * truncation of a set of valid frames, bad IPv4 and IPv6 lengths, bad IHL,
 * TCP data offset and version nibbles, L4 headers in Ethernet padding,
 * jumbo frames, and frames the kernel refuses outright.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "dp_harness.h"

static const char policy[] =
	"default deny\n"
	"service web { direction in; protocol tcp; ports 443; peers any; action allow }\n"
	"service dns { direction out; protocol udp, tcp; ports 53; peers 198.51.100.53, 2001:db8::53; action allow }\n"
	"service sig { direction in; protocol sctp; ports 2905; peers 198.51.100.0/24, 2001:db8::/32; action allow }\n"
	"service ping { direction in; protocol icmp; types echo-request; peers any; action allow }\n"
	"service ping6 { direction in; protocol icmpv6; types echo-request; peers any; action allow }\n"
	"service gre { direction in; protocol 47; peers any; action allow }\n";

/* Both configurations are `replies stateless`: these tests are about what
 * parses, and the valid frames include replies (dns) and ICMP errors that
 * quote nothing, which under `replies tracked` would need flows first. */
static const struct dp_config malformed_deny = {
	.label = "malformed deny",
	.text = policy,
	.facing = TG_FACING_OUTSIDE,
	.stateless = true,
};

static const struct dp_config malformed_allow = {
	.label = "malformed allow",
	.text = "default deny\nmalformed allow\n"
		"service web { direction in; protocol tcp; ports 443; peers any; action allow }\n",
	.facing = TG_FACING_OUTSIDE,
	.stateless = true,
};

/* Valid frames, each with the decision it gets whole. */
static const struct dp_row valid_frames[] = {
	{ "tcp 203.0.113.9:50000 > 192.0.2.10:443 S payload=20", "pass web request service" },
	{ "tcp 203.0.113.9:50000 > 192.0.2.10:443 A opts=40 payload=4", "pass web request service" },
	{ "tcp 203.0.113.9:50000 > 192.0.2.10:443 S opts=4", "pass web request service" },
	{ "udp 198.51.100.53:53 > 192.0.2.10:40000 payload=30", "pass dns reply service" },
	{ "sctp 198.51.100.7:50000 > 192.0.2.10:2905 payload=16", "pass sig request service" },
	{ "icmp 198.51.100.7 > 192.0.2.10 type=8 payload=8", "pass ping request service" },
	{ "icmp 198.51.100.7 > 192.0.2.10 type=3 code=4 payload=28", "pass - - essential-icmp" },
	{ "proto=47 198.51.100.7 > 192.0.2.10 payload=24", "pass gre request service" },
	/* First fragments are TCP: pktbuild's UDP length is what the frame
	 * carries, which a first fragment's must exceed (step 2). */
	{ "tcp 198.51.100.53:53 > 192.0.2.10:40000 A frag=0 mf payload=100", "pass dns reply service" },
	{ "udp 198.51.100.53:53 > 192.0.2.10:40000 frag=100 payload=40", "pass dns fragment fragment" },
	{ "tcp [2001:db8::7]:50000 > [2001:db8:1::10]:443 S ext=0,43,60,60", "pass web request service" },
	{ "tcp [2001:db8::53]:53 > [2001:db8:1::10]:40000 A ext=0,60 frag=0 mf payload=10", "pass dns reply service" },
	{ "udp [2001:db8::53]:53 > [2001:db8:1::10]:40000 ext=0 frag=100 payload=16", "pass dns fragment fragment" },
	{ "sctp [2001:db8::7]:50000 > [2001:db8:1::10]:2905", "pass sig request service" },
	{ "icmp [2001:db8::7] > [2001:db8:1::10] type=128 ext=60 payload=8", "pass ping6 request service" },
	{ "icmp [fe80::1] > [2001:db8:1::10] type=135 payload=16", "pass - - essential-icmp" },
	{ "proto=1 [2001:db8::7] > [2001:db8:1::10] type=8", "drop - - default" },
	{ "tcp 203.0.113.9:50000 > 192.0.2.10:443 S vlan=1", "pass web request service" },
	{ "udp [2001:db8::53]:53 > [2001:db8:1::10]:40000 vlan=2 tpid=0x88a8 ext=43", "pass dns reply service" },
	{ "icmp 198.51.100.7 > 192.0.2.10 type=8 vlan=2 opts=12", "pass ping request service" },
};

/* Every cut of a valid frame, 14 bytes up to one short, is malformed: the
 * IP length then always runs past the frame, or a tag or header is cut. */
static void every_truncation_is_malformed(void **state)
{
	struct dp_fixture *fx = *state;
	static uint8_t frame[DP_FRAME_MAX];
	struct tg_reason_counters before, after;
	uint64_t cuts = 0, bytes = 0;
	char what[256];

	assert_int_equal(tg_dataplane_reason_counters(&fx->dp, TG_REASON_MALFORMED, &before), 0);
	for (size_t i = 0; i < DP_ARRAY_SIZE(valid_frames); i++) {
		size_t len = dp_build(valid_frames[i].spec, frame, sizeof(frame));

		assert_true(len > 14);
		dp_check_frame(fx, frame, len, valid_frames[i].expect, valid_frames[i].spec);
		for (size_t cut = 14; cut < len; cut++) {
			snprintf(what, sizeof(what), "%s, cut to %zu of %zu bytes", valid_frames[i].spec, cut, len);
			dp_check_frame(fx, frame, cut, "drop - - malformed", what);
			cuts++;
			bytes += cut;
		}
	}
	/* The malformed counter moved by exactly one packet per cut. */
	assert_int_equal(tg_dataplane_reason_counters(&fx->dp, TG_REASON_MALFORMED, &after), 0);
	assert_int_equal(after.verdict[TG_DROP].packets - before.verdict[TG_DROP].packets, cuts);
	assert_int_equal(after.verdict[TG_DROP].bytes - before.verdict[TG_DROP].bytes, bytes);
	assert_int_equal(after.verdict[TG_PASS].packets, before.verdict[TG_PASS].packets);
	DP_DONE(fx);
}

/* With `malformed allow` the same cuts pass, still counted as malformed. */
static void truncation_under_malformed_allow_passes(void **state)
{
	struct dp_fixture *fx = *state;
	static uint8_t frame[DP_FRAME_MAX];
	const char *spec = "tcp 203.0.113.9:50000 > 192.0.2.10:443 S vlan=1 opts=8";
	size_t len = dp_build(spec, frame, sizeof(frame));
	char what[256];

	assert_true(len > 14);
	dp_check_frame(fx, frame, len, "pass web request service", spec);
	for (size_t cut = 14; cut < len; cut++) {
		snprintf(what, sizeof(what), "%s, cut to %zu", spec, cut);
		dp_check_frame(fx, frame, cut, "pass - - malformed", what);
	}
	DP_DONE(fx);
}

static void bad_ipv4_header_lengths(void **state)
{
	static const struct dp_row rows[] = {
		{ "tcp 203.0.113.9:50000 > 192.0.2.10:443 S", "pass web request service" },
		/* IHL below 5. */
		{ "tcp 203.0.113.9:50000 > 192.0.2.10:443 S ihl=0", "drop - - malformed" },
		{ "tcp 203.0.113.9:50000 > 192.0.2.10:443 S ihl=1", "drop - - malformed" },
		{ "tcp 203.0.113.9:50000 > 192.0.2.10:443 S ihl=2", "drop - - malformed" },
		{ "tcp 203.0.113.9:50000 > 192.0.2.10:443 S ihl=3", "drop - - malformed" },
		{ "tcp 203.0.113.9:50000 > 192.0.2.10:443 S ihl=4", "drop - - malformed" },
		/* IHL past the total length, or pushing TCP past it. */
		{ "tcp 203.0.113.9:50000 > 192.0.2.10:443 S ihl=15", "drop - - malformed" },
		{ "tcp 203.0.113.9:50000 > 192.0.2.10:443 S ihl=6", "drop - - malformed" },
		/* Total length shorter than the header. */
		{ "tcp 203.0.113.9:50000 > 192.0.2.10:443 S totlen=0", "drop - - malformed" },
		{ "tcp 203.0.113.9:50000 > 192.0.2.10:443 S totlen=19", "drop - - malformed" },
		{ "tcp 203.0.113.9:50000 > 192.0.2.10:443 S opts=8 totlen=24", "drop - - malformed" },
		{ "tcp 203.0.113.9:50000 > 192.0.2.10:443 S opts=8 totlen=27", "drop - - malformed" },
		{ "proto=47 198.51.100.7 > 192.0.2.10 opts=8 totlen=27", "drop - - malformed" },
		{ "proto=47 198.51.100.7 > 192.0.2.10 opts=8 totlen=28", "pass gre request service" },
		/* Total length equal to the header: no room for TCP. */
		{ "tcp 203.0.113.9:50000 > 192.0.2.10:443 S totlen=20", "drop - - malformed" },
		{ "tcp 203.0.113.9:50000 > 192.0.2.10:443 S totlen=39", "drop - - malformed" },
		{ "tcp 203.0.113.9:50000 > 192.0.2.10:443 S totlen=41", "drop - - malformed" },
		{ "tcp 203.0.113.9:50000 > 192.0.2.10:443 S totlen=65535", "drop - - malformed" },
		/* Total length past the frame by one. */
		{ "udp 198.51.100.53:53 > 192.0.2.10:40000 payload=10 totlen=39", "drop - - malformed" },
		{ "udp 198.51.100.53:53 > 192.0.2.10:40000 payload=10 totlen=38", "pass dns reply service" },
	};
	struct dp_fixture *fx = *state;

	DP_CHECK_ROWS(fx, rows);
	DP_DONE(fx);
}

/* Ethernet padding after the IP packet is fine, but the L4 header must lie
 * inside the IP packet, not in the padding. */
static void l4_header_must_lie_inside_the_ip_packet(void **state)
{
	static const struct dp_row rows[] = {
		{ "udp 198.51.100.53:53 > 192.0.2.10:40000 pad=18", "pass dns reply service" },
		{ "tcp 203.0.113.9:50000 > 192.0.2.10:443 S pad=6", "pass web request service" },
		{ "tcp 203.0.113.9:50000 > 192.0.2.10:443 S totlen=39 pad=6", "drop - - malformed" },
		{ "udp 198.51.100.53:53 > 192.0.2.10:40000 totlen=27 pad=10", "drop - - malformed" },
		{ "udp 198.51.100.53:53 > 192.0.2.10:40000 totlen=28 pad=10", "pass dns reply service" },
		{ "sctp 198.51.100.7:50000 > 192.0.2.10:2905 totlen=31 pad=10", "drop - - malformed" },
		{ "sctp 198.51.100.7:50000 > 192.0.2.10:2905 totlen=32 pad=10", "pass sig request service" },
		/* ICMP needs its whole 8-byte header, inside the IP packet. */
		{ "icmp 198.51.100.7 > 192.0.2.10 type=8 totlen=23 pad=10", "drop - - malformed" },
		{ "icmp 198.51.100.7 > 192.0.2.10 type=8 totlen=28 pad=10", "pass ping request service" },
		{ "icmp 198.51.100.7 > 192.0.2.10 type=8 totlen=27 pad=10", "drop - - malformed" },
		{ "icmp 198.51.100.7 > 192.0.2.10 type=8 totlen=24", "drop - - malformed" },
		{ "icmp 198.51.100.7 > 192.0.2.10 type=8 totlen=24 len=38", "drop - - malformed" },
		{ "icmp 198.51.100.7 > 192.0.2.10 type=8 totlen=23 len=37", "drop - - malformed" },
		/* ICMP headers are 8 bytes in both families: 4 are malformed. */
		{ "icmp [2001:db8::7] > [2001:db8:1::10] type=128 plen=4 len=58", "drop - - malformed" },
		{ "icmp [2001:db8::7] > [2001:db8:1::10] type=128 plen=8 len=62", "pass ping6 request service" },
		{ "icmp [2001:db8::7] > [2001:db8:1::10] type=128 plen=3 len=57", "drop - - malformed" },
		{ "icmp [2001:db8::7] > [2001:db8:1::10] type=128 plen=3", "drop - - malformed" },
		/* IPv6: payload length 0 with the UDP header in the padding. */
		{ "udp [2001:db8::53]:53 > [2001:db8:1::10]:40000 plen=0", "drop - - malformed" },
		{ "udp [2001:db8::53]:53 > [2001:db8:1::10]:40000 plen=7", "drop - - malformed" },
		{ "udp [2001:db8::53]:53 > [2001:db8:1::10]:40000 plen=8 pad=10", "pass dns reply service" },
		/* Protocols without an L4 header need none. */
		{ "proto=47 198.51.100.7 > 192.0.2.10", "pass gre request service" },
		{ "proto=47 [2001:db8::7] > [2001:db8:1::10] pad=6", "pass gre request service" },
		/* ICMPv4 inside IPv6 is a bare protocol: its header is not read. */
		{ "proto=1 [2001:db8::7] > [2001:db8:1::10] plen=0", "drop - - default" },
		{ "proto=58 198.51.100.7 > 192.0.2.10 totlen=20", "drop - - default" },
		/* First fragments must hold the L4 header; later ones hold none. */
		{ "tcp 203.0.113.9:50000 > 192.0.2.10:443 S frag=0 mf totlen=28", "drop - - malformed" },
		{ "tcp 203.0.113.9:50000 > 192.0.2.10:443 S frag=0 mf totlen=28 len=42", "drop - - malformed" },
		{ "tcp [2001:db8::7]:50000 > [2001:db8:1::10]:443 S frag=0 mf plen=16 len=70", "drop - - malformed" },
		{ "udp 198.51.100.53:53 > 192.0.2.10:40000 frag=100", "pass dns fragment fragment" },
		{ "udp [2001:db8::53]:53 > [2001:db8:1::10]:40000 frag=100", "pass dns fragment fragment" },
	};
	struct dp_fixture *fx = *state;

	DP_CHECK_ROWS(fx, rows);
	DP_DONE(fx);
}

static void bad_ipv6_lengths(void **state)
{
	static const struct dp_row rows[] = {
		{ "udp [2001:db8::53]:53 > [2001:db8:1::10]:40000", "pass dns reply service" },
		{ "udp [2001:db8::53]:53 > [2001:db8:1::10]:40000 plen=9", "drop - - malformed" },
		{ "udp [2001:db8::53]:53 > [2001:db8:1::10]:40000 plen=65535", "drop - - malformed" },
		{ "udp [2001:db8::53]:53 > [2001:db8:1::10]:40000 payload=100 plen=109", "drop - - malformed" },
		{ "udp [2001:db8::53]:53 > [2001:db8:1::10]:40000 payload=100 plen=108", "pass dns reply service" },
		{ "udp [2001:db8::53]:53 > [2001:db8:1::10]:40000 ext=0,60 plen=25", "drop - - malformed" },
		/* The payload ends inside an extension header. */
		{ "udp [2001:db8::53]:53 > [2001:db8:1::10]:40000 ext=0,60 plen=12", "drop - - malformed" },
		{ "udp [2001:db8::53]:53 > [2001:db8:1::10]:40000 ext=43 plen=10", "drop - - malformed" },
		{ "udp [2001:db8::53]:53 > [2001:db8:1::10]:40000 frag=0 plen=4", "drop - - malformed" },
		{ "udp [2001:db8::53]:53 > [2001:db8:1::10]:40000 frag=0 plen=8", "drop - - malformed" },
		{ "udp [2001:db8::53]:53 > [2001:db8:1::10]:40000 frag=100 plen=8", "pass dns fragment fragment" },
		{ "udp [2001:db8::53]:53 > [2001:db8:1::10]:40000 frag=100 plen=7", "drop - - malformed" },
	};
	struct dp_fixture *fx = *state;

	DP_CHECK_ROWS(fx, rows);
	DP_DONE(fx);
}

/* Extension header lengths that run past the payload, written by hand. */
static void ipv6_extension_length_past_the_payload(void **state)
{
	static const struct {
		const char *spec;
		uint8_t hdr_len; /* the length byte of the first extension header */
		const char *expect;
	} rows[] = {
		/* Hop-by-hop of 16 bytes: the UDP header no longer fits. */
		{ "udp [2001:db8::53]:53 > [2001:db8:1::10]:40000 ext=0", 1, "drop - - malformed" },
		/* ... unless the payload holds 8 more bytes, then read as UDP
		 * (zeros: ports 0, and a UDP length 0 that is not the payload's). */
		{ "udp [2001:db8::53]:53 > [2001:db8:1::10]:40000 ext=0 payload=8", 1, "drop - - malformed" },
		{ "udp [2001:db8::53]:53 > [2001:db8:1::10]:40000 ext=60", 255, "drop - - malformed" },
		{ "udp [2001:db8::53]:53 > [2001:db8:1::10]:40000 ext=43", 2, "drop - - malformed" },
		/* AH is a protocol, not a header to walk: its length byte does not matter. */
		{ "udp [2001:db8::53]:53 > [2001:db8:1::10]:40000 ext=51", 255, "drop - - default" },
	};
	struct dp_fixture *fx = *state;
	static uint8_t frame[DP_FRAME_MAX];
	char what[256];

	for (size_t i = 0; i < DP_ARRAY_SIZE(rows); i++) {
		size_t len = dp_build(rows[i].spec, frame, sizeof(frame));

		assert_true(len > 0);
		frame[14 + 40 + 1] = rows[i].hdr_len;
		snprintf(what, sizeof(what), "%s, extension length byte %u", rows[i].spec, rows[i].hdr_len);
		dp_check_frame(fx, frame, len, rows[i].expect, what);
	}
	DP_DONE(fx);
}

static void tcp_data_offset(void **state)
{
	static const struct dp_row rows[] = {
		{ "tcp 203.0.113.9:50000 > 192.0.2.10:443 S doff=0", "drop - - malformed" },
		{ "tcp 203.0.113.9:50000 > 192.0.2.10:443 S doff=1", "drop - - malformed" },
		{ "tcp 203.0.113.9:50000 > 192.0.2.10:443 S doff=4", "drop - - malformed" },
		{ "tcp 203.0.113.9:50000 > 192.0.2.10:443 S doff=4 payload=40", "drop - - malformed" },
		{ "tcp 203.0.113.9:50000 > 192.0.2.10:443 S doff=5", "pass web request service" },
		{ "tcp 203.0.113.9:50000 > 192.0.2.10:443 S doff=6", "drop - - malformed" },
		{ "tcp 203.0.113.9:50000 > 192.0.2.10:443 S doff=6 payload=4", "pass web request service" },
		{ "tcp 203.0.113.9:50000 > 192.0.2.10:443 S doff=15 payload=40", "pass web request service" },
		{ "tcp 203.0.113.9:50000 > 192.0.2.10:443 S doff=15 payload=39", "drop - - malformed" },
		{ "tcp 203.0.113.9:50000 > 192.0.2.10:443 S doff=15 payload=40 totlen=79 pad=1", "drop - - malformed" },
		{ "tcp [2001:db8::7]:50000 > [2001:db8:1::10]:443 S doff=3", "drop - - malformed" },
		{ "tcp [2001:db8::7]:50000 > [2001:db8:1::10]:443 S ext=0 doff=8 payload=12",
		  "pass web request service" },
		{ "tcp [2001:db8::7]:50000 > [2001:db8:1::10]:443 S ext=0 doff=8 payload=11", "drop - - malformed" },
		/* Non-first fragments have no TCP header to check. */
		{ "tcp 203.0.113.9:50000 > 192.0.2.10:443 frag=100 payload=1", "pass web fragment fragment" },
	};
	struct dp_fixture *fx = *state;

	DP_CHECK_ROWS(fx, rows);
	DP_DONE(fx);
}

static void wrong_version_nibble(void **state)
{
	static const struct dp_row rows[] = {
		{ "tcp 203.0.113.9:50000 > 192.0.2.10:443 S version=0", "drop - - malformed" },
		{ "tcp 203.0.113.9:50000 > 192.0.2.10:443 S version=5", "drop - - malformed" },
		{ "tcp 203.0.113.9:50000 > 192.0.2.10:443 S version=6", "drop - - malformed" },
		{ "tcp 203.0.113.9:50000 > 192.0.2.10:443 S version=15", "drop - - malformed" },
		{ "tcp 203.0.113.9:50000 > 192.0.2.10:443 S vlan=1 version=6", "drop - - malformed" },
		{ "tcp [2001:db8::7]:50000 > [2001:db8:1::10]:443 S version=4", "drop - - malformed" },
		{ "tcp [2001:db8::7]:50000 > [2001:db8:1::10]:443 S version=0", "drop - - malformed" },
		{ "tcp [2001:db8::7]:50000 > [2001:db8:1::10]:443 S version=7", "drop - - malformed" },
	};
	struct dp_fixture *fx = *state;

	DP_CHECK_ROWS(fx, rows);
	DP_DONE(fx);
}

/* An IPv4 header behind the IPv6 ethertype, and the other way round. */
static void ethertype_and_header_disagree(void **state)
{
	struct dp_fixture *fx = *state;
	static uint8_t frame[DP_FRAME_MAX];
	size_t len;

	len = dp_build("tcp 203.0.113.9:50000 > 192.0.2.10:443 S payload=40", frame, sizeof(frame));
	assert_true(len > 0);
	frame[12] = 0x86;
	frame[13] = 0xdd;
	dp_check_frame(fx, frame, len, "drop - - malformed", "IPv4 TCP with ethertype 0x86dd");
	len = dp_build("tcp [2001:db8::7]:50000 > [2001:db8:1::10]:443 S", frame, sizeof(frame));
	assert_true(len > 0);
	frame[12] = 0x08;
	frame[13] = 0x00;
	dp_check_frame(fx, frame, len, "drop - - malformed", "IPv6 TCP with ethertype 0x0800");
	DP_DONE(fx);
}

/* Jumbo frames: pktbuild's payload is what follows the L4 header, so a
 * 9000-byte frame is its headers plus payload; all 9000 bytes are counted. */
static void jumbo_frames_match_and_count_every_byte(void **state)
{
	static const struct {
		const char *spec, *service, *expect;
		int role;
	} rows[] = {
		{ "tcp 203.0.113.9:50000 > 192.0.2.10:443 A payload=8946", "web", "pass web request service",
		  TG_ROLE_REQUEST },
		{ "udp [2001:db8::53]:53 > [2001:db8:1::10]:40000 payload=8938", "dns", "pass dns reply service",
		  TG_ROLE_REPLY },
		{ "tcp 203.0.113.9:50000 > 192.0.2.10:443 A vlan=2 tpid=0x88a8 payload=8938", "web",
		  "pass web request service", TG_ROLE_REQUEST },
		/* a first fragment: TCP, as pktbuild's UDP length would be the fragment's */
		{ "tcp [2001:db8::53]:53 > [2001:db8:1::10]:40000 A ext=0,60 frag=0 mf payload=8902", "dns",
		  "pass dns reply service", TG_ROLE_REPLY },
	};
	struct dp_fixture *fx = *state;
	static uint8_t frame[DP_FRAME_MAX];

	for (size_t i = 0; i < DP_ARRAY_SIZE(rows); i++) {
		size_t len = dp_build(rows[i].spec, frame, sizeof(frame));
		int s = dp_service_index(fx, rows[i].service);
		struct tg_service_counters before, after;
		char what[256];

		assert_int_equal(len, 9000);
		assert_true(s >= 0);
		assert_int_equal(tg_dataplane_service_counters(&fx->dp, fx->img.services[s].counter_slot, &before), 0);
		dp_check_frame(fx, frame, len, rows[i].expect, rows[i].spec);
		assert_int_equal(tg_dataplane_service_counters(&fx->dp, fx->img.services[s].counter_slot, &after), 0);
		assert_int_equal(after.role[rows[i].role].packets - before.role[rows[i].role].packets, 1);
		assert_int_equal(after.role[rows[i].role].bytes - before.role[rows[i].role].bytes, 9000);
		/* One byte short: the IP length runs past the frame. */
		snprintf(what, sizeof(what), "%s, cut to 8999 bytes", rows[i].spec);
		dp_check_frame(fx, frame, len - 1, "drop - - malformed", what);
		/* Ethernet padding after a jumbo packet is fine. */
		memset(frame + len, 0, 100);
		snprintf(what, sizeof(what), "%s, 100 bytes of padding", rows[i].spec);
		dp_check_frame(fx, frame, len + 100, rows[i].expect, what);
	}
	DP_DONE(fx);
}

/*
 * A 9000-byte IPv6 frame with n destination-options headers whose length
 * byte is len_byte ((len_byte + 1) * 8 bytes each, padded with Pad1), then
 * UDP 2001:db8::53:53 -> 40000. Returns the L4 offset.
 */
static size_t build_long_chain(uint8_t *b, int n, uint8_t len_byte, size_t total)
{
	size_t off = 54;

	memset(b, 0, total);
	memcpy(b, "\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01\x86\xdd", 14);
	b[14] = 0x60;
	b[18] = (uint8_t)((total - 54) >> 8);
	b[19] = (uint8_t)(total - 54);
	b[20] = n ? IPPROTO_DSTOPTS : IPPROTO_UDP;
	b[21] = 64;
	inet_pton(AF_INET6, "2001:db8::53", b + 22);
	inet_pton(AF_INET6, "2001:db8:1::10", b + 38);
	for (int i = 0; i < n; i++) {
		b[off] = i + 1 < n ? IPPROTO_DSTOPTS : IPPROTO_UDP;
		b[off + 1] = len_byte;
		off += ((size_t)len_byte + 1) * 8;
	}
	b[off + 1] = 53; /* source port */
	b[off + 2] = 40000 >> 8;
	b[off + 3] = 40000 & 0xff;
	b[off + 4] = (uint8_t)((total - off) >> 8);
	b[off + 5] = (uint8_t)(total - off);
	return off;
}

/*
 * docs/policy.md: every header up to the fixed part of the L4 header must end
 * within the first TG_HEADER_LIMIT (1024) bytes of the frame. Inside that,
 * a long chain in a jumbo frame classifies as usual; past it, the frame is
 * malformed (whatever multi-buffer XDP keeps in its linear part).
 */
static void ipv6_headers_must_end_within_the_header_limit(void **state)
{
	static const struct {
		int n;
		uint8_t len_byte;
		const char *expect;
	} cases[] = {
		/* One row per case, each with its comment. */
		/* clang-format off */
		{ 0, 0, "pass dns reply service" },
		{ 1, 100, "pass dns reply service" },  /* UDP ends at 870 */
		{ 1, 119, "pass dns reply service" },  /* UDP ends at 1022 */
		{ 1, 120, "drop - - malformed" },      /* UDP ends at 1030 */
		{ 1, 255, "drop - - malformed" },      /* the header ends at 2102 */
		{ 2, 255, "drop - - malformed" },      /* UDP at 4150, past the linear part too */
		/* clang-format on */
	};
	struct dp_fixture *fx = *state;
	static uint8_t frame[DP_FRAME_MAX];
	char what[128];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t l4 = build_long_chain(frame, cases[i].n, cases[i].len_byte, 9000);

		snprintf(what, sizeof(what), "9000-byte IPv6 UDP, %d x %u-byte dest options, UDP at %zu", cases[i].n,
			 (cases[i].len_byte + 1u) * 8, l4);
		dp_check_frame(fx, frame, 9000, cases[i].expect, what);
	}
	DP_DONE(fx);
}

/* BPF_PROG_TEST_RUN refuses frames without a full Ethernet header; replay
 * counts those itself. Nothing is counted. */
static void kernel_refuses_frames_under_14_bytes(void **state)
{
	struct dp_fixture *fx = *state;
	static uint8_t frame[64];
	size_t len = dp_build("tcp 203.0.113.9:50000 > 192.0.2.10:443 S", frame, sizeof(frame));

	assert_true(len > 14);
	for (size_t cut = 0; cut < 14; cut++) {
		int verdict = -1;
		struct tg_trace tr;

		assert_int_equal(tg_dataplane_run(&fx->dp, frame, cut, &verdict, &tr), -EINVAL);
	}
	DP_DONE(fx); /* every counter as before */
}

int main(void)
{
#define DENY(test) \
	cmocka_unit_test_prestate_setup_teardown(test, dp_setup_prestate, dp_teardown, (void *)&malformed_deny)
	const struct CMUnitTest tests[] = {
		DENY(every_truncation_is_malformed),
		cmocka_unit_test_prestate_setup_teardown(truncation_under_malformed_allow_passes, dp_setup_prestate,
							 dp_teardown, (void *)&malformed_allow),
		DENY(bad_ipv4_header_lengths),
		DENY(l4_header_must_lie_inside_the_ip_packet),
		DENY(bad_ipv6_lengths),
		DENY(ipv6_extension_length_past_the_payload),
		DENY(tcp_data_offset),
		DENY(wrong_version_nibble),
		DENY(ethertype_and_header_disagree),
		DENY(jumbo_frames_match_and_count_every_byte),
		DENY(ipv6_headers_must_end_within_the_header_limit),
		DENY(kernel_refuses_frames_under_14_bytes),
	};

	return cmocka_run_group_tests_name("malformed", tests, NULL, NULL) ? 1 : 0;
}
