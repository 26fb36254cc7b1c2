// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The parser and the decision order feature by feature, through the real
 * XDP program: VLAN tags, IPv4 options, IPv6 extension chains, fragments
 * under each `fragments` setting, TCP flags, ICMP and essential ICMP,
 * non-IP frames. Each frame is also checked against the reference
 * classifier and the counters (dp_harness.h).
 *
 * Every configuration here is `replies stateless`: these are tests of the
 * parser and of what matches, and their reply rows come without requests.
 * Flows are tested in test_packets.c and by the differential test.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "dp_harness.h"
#include "compile/lookup.h"

/* ========================================================= link layer */

/* Up to two tags, 802.1Q or 802.1ad in either place; a third is malformed. */
static void vlan_and_qinq_are_classified(void **state)
{
	static const struct dp_row rows[] = {
		{ "tcp 206.55.89.17:443 > 192.0.2.10:50000 A", "pass consigno-licensing reply service" },
		{ "tcp 206.55.89.17:443 > 192.0.2.10:50000 A vlan=1", "pass consigno-licensing reply service" },
		{ "tcp 206.55.89.17:443 > 192.0.2.10:50000 A vlan=1 tpid=0x88a8",
		  "pass consigno-licensing reply service" },
		{ "tcp 206.55.89.17:443 > 192.0.2.10:50000 A vlan=2 tpid=0x88a8",
		  "pass consigno-licensing reply service" },
		{ "tcp 206.55.89.17:443 > 192.0.2.10:50000 A vlan=2", "pass consigno-licensing reply service" },
		{ "tcp 206.55.89.17:24271 > 192.0.2.10:50000 A vlan=2 tpid=0x88a8", "drop - - default" },
		{ "tcp 206.55.89.17:443 > 192.0.2.10:50000 S vlan=2 tpid=0x88a8", "drop - - default" },
		{ "tcp [2001:db8::8]:443 > [2001:db8:1::10]:50000 A vlan=1", "pass notarius-download reply service" },
		{ "tcp [2001:db8::8]:443 > [2001:db8:1::10]:50000 A vlan=2 tpid=0x88a8",
		  "pass notarius-download reply service" },
		{ "tcp 206.55.89.17:443 > 192.0.2.10:50000 A vlan=2 opts=40", "pass consigno-licensing reply service" },
		{ "tcp [2001:db8::8]:443 > [2001:db8:1::10]:50000 A vlan=2 tpid=0x88a8 ext=0,43,60,60",
		  "pass notarius-download reply service" },
		{ "tcp 206.55.89.17:1 > 192.0.2.10:1 vlan=2 tpid=0x88a8 frag=10",
		  "pass consigno-licensing fragment fragment" },
		{ "icmp 206.55.89.17 > 192.0.2.10 type=3 vlan=2", "pass - - essential-icmp" },
		{ "ether=0x0806 vlan=1 payload=28", "pass - - non-ip" },
		{ "ether=0x0806 vlan=2 tpid=0x88a8 payload=28", "pass - - non-ip" },
		/* Three or more tags: malformed, whatever is inside. */
		{ "tcp 206.55.89.17:443 > 192.0.2.10:50000 A vlan=3", "drop - - malformed" },
		{ "tcp 206.55.89.17:443 > 192.0.2.10:50000 A vlan=3 tpid=0x88a8", "drop - - malformed" },
		{ "tcp 206.55.89.17:443 > 192.0.2.10:50000 A vlan=4", "drop - - malformed" },
		{ "tcp [2001:db8::8]:443 > [2001:db8:1::10]:50000 A vlan=3", "drop - - malformed" },
		{ "ether=0x0806 vlan=3 payload=28", "drop - - malformed" },
		/* A tag with nothing after it. */
		{ "ether=0x8100 payload=0", "drop - - malformed" },
		{ "ether=0x88a8 payload=3", "drop - - malformed" },
		{ "ether=0x0806 vlan=1 len=17", "drop - - malformed" },
	};
	struct dp_fixture *fx = *state;

	DP_CHECK_ROWS(fx, rows);
	DP_DONE(fx);
}

/* Ethertypes other than IPv4 and IPv6: non-ip, by the `non-ip` setting. */
static void non_ip_frames_pass_by_default(void **state)
{
	static const struct dp_row rows[] = {
		{ "ether=0x0806 payload=28", "pass - - non-ip" }, /* ARP */
		{ "ether=0x8035 payload=28", "pass - - non-ip" }, /* RARP */
		{ "ether=0x88cc payload=46", "pass - - non-ip" }, /* LLDP */
		{ "ether=0x8847 payload=46", "pass - - non-ip" }, /* MPLS */
		{ "ether=0x88e5 payload=46", "pass - - non-ip" }, /* MACsec */
		{ "ether=0x8863 payload=46", "pass - - non-ip" }, /* PPPoE discovery */
		{ "ether=0x002e payload=46", "pass - - non-ip" }, /* 802.3 length */
		{ "ether=0x0000 payload=0", "pass - - non-ip" },
		{ "ether=0xffff payload=0", "pass - - non-ip" },
		{ "ether=0x0806 payload=0", "pass - - non-ip" }, /* 14 bytes */
		{ "ether=0x0806 vlan=1 payload=28", "pass - - non-ip" },
		{ "ether=0x88cc vlan=2 tpid=0x88a8 payload=46", "pass - - non-ip" },
	};
	struct dp_fixture *fx = *state;

	DP_CHECK_ROWS(fx, rows);
	DP_DONE(fx);
}

static const struct dp_config non_ip_deny = {
	.label = "non-ip deny",
	.text = "default allow\n"
		"non-ip deny\n"
		"service nothing-from-doc3 { direction in; protocol any; peers 203.0.113.0/24; action deny }\n",
	.facing = TG_FACING_OUTSIDE,
	.stateless = true, /* see the file comment */
};

static void non_ip_deny_drops_non_ip(void **state)
{
	static const struct dp_row rows[] = {
		{ "ether=0x0806 payload=28", "drop - - non-ip" },
		{ "ether=0x88cc payload=46", "drop - - non-ip" },
		{ "ether=0x0806 vlan=1 payload=28", "drop - - non-ip" },
		{ "ether=0x0806 vlan=2 tpid=0x88a8 payload=28", "drop - - non-ip" },
		{ "ether=0x0806 vlan=3 payload=28", "drop - - malformed" },
		{ "tcp 198.51.100.7:50000 > 192.0.2.10:22 S", "pass - - default" },
		{ "udp [2001:db8::7]:50000 > [2001:db8:1::10]:53", "pass - - default" },
		{ "tcp 203.0.113.7:50000 > 192.0.2.10:22 S", "drop nothing-from-doc3 request service" },
	};
	struct dp_fixture *fx = *state;

	DP_CHECK_ROWS(fx, rows);
	DP_DONE(fx);
}

static const struct dp_config malformed_allow = {
	.label = "malformed allow",
	.text = "default deny\nmalformed allow\n",
	.facing = TG_FACING_OUTSIDE,
	.stateless = true, /* see the file comment */
};

static void malformed_allow_passes_malformed(void **state)
{
	static const struct dp_row rows[] = {
		{ "tcp 198.51.100.7:50000 > 192.0.2.10:22 S ihl=4", "pass - - malformed" },
		{ "tcp 198.51.100.7:50000 > 192.0.2.10:22 S vlan=3", "pass - - malformed" },
		{ "tcp 198.51.100.7:50000 > 192.0.2.10:22 S len=40", "pass - - malformed" },
		{ "tcp 198.51.100.7:50000 > 192.0.2.10:22 S", "drop - - default" },
		{ "ether=0x0806 payload=28", "pass - - non-ip" },
	};
	struct dp_fixture *fx = *state;

	DP_CHECK_ROWS(fx, rows);
	DP_DONE(fx);
}

/* ========================================================== IP headers */

/* Options of every length from 4 to 40 bytes move the L4 header along. */
static void ipv4_options_every_length(void **state)
{
	struct dp_fixture *fx = *state;
	char spec[160];

	for (unsigned opts = 0; opts <= 40; opts += 4) {
		snprintf(spec, sizeof(spec), "tcp 206.55.89.17:24251 > 192.0.2.10:50000 A opts=%u", opts);
		dp_check(fx, spec, "pass certifio-manager-server reply service");
		snprintf(spec, sizeof(spec), "tcp 206.55.89.17:24271 > 192.0.2.10:50000 A opts=%u", opts);
		dp_check(fx, spec, "drop - - default");
		snprintf(spec, sizeof(spec), "tcp 206.55.89.17:443 > 192.0.2.10:50000 S opts=%u", opts);
		dp_check(fx, spec, "drop - - default");
		snprintf(spec, sizeof(spec), "tcp 206.55.89.17:443 > 192.0.2.10:50000 A opts=%u vlan=1", opts);
		dp_check(fx, spec, "pass consigno-licensing reply service");
		snprintf(spec, sizeof(spec), "icmp 206.55.89.17 > 192.0.2.10 type=11 opts=%u", opts);
		dp_check(fx, spec, "pass - - essential-icmp");
		snprintf(spec, sizeof(spec), "tcp 206.55.89.17:1 > 192.0.2.10:1 opts=%u frag=3", opts);
		dp_check(fx, spec, "pass consigno-licensing fragment fragment");
	}
	DP_DONE(fx);
}

/* Chains of hop-by-hop (0), routing (43), destination options (60) and
 * fragment (44) headers: up to 8 are walked, a 9th is malformed. AH (51)
 * ends the walk: it is a protocol, as in IPv4. */
static void ipv6_extension_chains(void **state)
{
	static const struct dp_row rows[] = {
		{ "udp [2001:db8::53]:53 > [2001:db8:1::10]:40006", "pass dns reply service" },
		{ "udp [2001:db8::53]:53 > [2001:db8:1::10]:40006 ext=0", "pass dns reply service" },
		{ "udp [2001:db8::53]:53 > [2001:db8:1::10]:40006 ext=43", "pass dns reply service" },
		{ "udp [2001:db8::53]:53 > [2001:db8:1::10]:40006 ext=60", "pass dns reply service" },
		{ "udp [2001:db8::53]:53 > [2001:db8:1::10]:40006 ext=51", "drop - - default" },
		{ "udp [2001:db8::53]:53 > [2001:db8:1::10]:40006 ext=0,60,51", "drop - - default" },
		{ "udp [2001:db8::53]:53 > [2001:db8:1::10]:40006 frag=0", "pass dns reply service" },
		/* first fragments: TCP, as pktbuild's UDP length is the fragment's */
		{ "tcp [2001:db8::53]:53 > [2001:db8:1::10]:40006 A frag=0 mf", "pass dns reply service" },
		{ "udp [2001:db8::53]:53 > [2001:db8:1::10]:40006 ext=0,43,60,60", "pass dns reply service" },
		{ "udp [2001:db8::53]:53 > [2001:db8:1::10]:40006 ext=0,43,60,60,60,43,60", "pass dns reply service" },
		/* Eight headers: the limit. */
		{ "udp [2001:db8::53]:53 > [2001:db8:1::10]:40006 ext=0,43,60,60,60,43,60,60",
		  "pass dns reply service" },
		{ "udp [2001:db8::53]:53 > [2001:db8:1::10]:40006 ext=60,60,60,60,60,60,60,60",
		  "pass dns reply service" },
		{ "tcp [2001:db8::53]:53 > [2001:db8:1::10]:40006 A ext=0,43,60,60,60,43,60 frag=0 mf",
		  "pass dns reply service" },
		{ "tcp [fd00::5]:51000 > [2001:db8:1::10]:22 S ext=0,43,60,60,60,43,60,60",
		  "pass admin-ssh request service" },
		{ "udp [2001:db8::54]:53 > [2001:db8:1::10]:40006 ext=0,43,60,60,60,43,60,60", "drop - - default" },
		/* Nine: one past what the data plane walks. */
		{ "udp [2001:db8::53]:53 > [2001:db8:1::10]:40006 ext=0,43,60,60,60,43,60,60,60",
		  "drop - - malformed" },
		{ "udp [2001:db8::53]:53 > [2001:db8:1::10]:40006 ext=0,43,60,60,60,43,60,60 frag=0",
		  "drop - - malformed" },
		{ "udp [2001:db8::53]:53 > [2001:db8:1::10]:40006 ext=0,43,60,60,60,43,60,60 frag=100",
		  "drop - - malformed" },
		{ "tcp [fd00::5]:51000 > [2001:db8:1::10]:22 S ext=60,60,60,60,60,60,60,60,60,60",
		  "drop - - malformed" },
		/* A non-first fragment ends the chain: eight headers, the eighth
		 * the fragment header. */
		{ "udp [2001:db8::53]:1 > [2001:db8:1::10]:1 ext=0,43,60,60,60,43,60 frag=100",
		  "pass dns fragment fragment" },
		{ "udp [2001:db8::53]:1 > [2001:db8:1::10]:1 ext=0,60 frag=100 mf", "pass dns fragment fragment" },
		/* ICMPv6 behind a chain is still typed. */
		{ "icmp [fe80::1] > [2001:db8:1::10] type=135 ext=0", "pass - - essential-icmp" },
		{ "icmp [fe80::1] > [2001:db8:1::10] type=128 ext=0,60", "drop - - default" },
	};
	struct dp_fixture *fx = *state;

	DP_CHECK_ROWS(fx, rows);
	DP_DONE(fx);
}

/* ========================================================== fragments */

static const struct dp_config fragments_match = {
	.label = "fragments match",
	.text = "default deny\n"
		"fragments match\n"
		"service ssh-block { direction in; protocol tcp; ports 22; peers 203.0.113.0/24; action deny }\n"
		"service web { direction in; protocol tcp; ports 443; peers any; action allow }\n"
		"service ping { direction in; protocol icmp; types echo-request; peers 198.51.100.0/24; action allow }\n"
		"service ping6 { direction in; protocol icmpv6; types echo-request; peers 2001:db8::/32; action allow }\n"
		"service gre { direction out; protocol 47; peers 198.51.100.0/24, 2001:db8::/32; action allow }\n"
		"service lab { direction out; protocol any; peers 192.0.2.0/24; action deny }\n",
	.facing = TG_FACING_OUTSIDE,
	.stateless = true, /* see the file comment */
};

/* First service in file order with the protocol and the peer, either role;
 * ports and types ignored. */
static void fragments_match_first_service_by_protocol_and_peer(void **state)
{
	static const struct dp_row rows[] = {
		/* The caveat: ssh-block takes every TCP fragment of its peers. */
		{ "tcp 203.0.113.9:50000 > 198.51.100.1:443 frag=100", "drop ssh-block fragment fragment" },
		{ "tcp 203.0.113.9:50000 > 198.51.100.1:443 S frag=0 mf", "pass web request service" },
		{ "tcp 198.51.100.7:50000 > 192.0.2.10:22 frag=100", "pass web fragment fragment" },
		{ "tcp [2001:db8::7]:1 > [2001:db8:1::10]:1 frag=100", "pass web fragment fragment" },
		{ "icmp 198.51.100.7 > 192.0.2.10 frag=100", "pass ping fragment fragment" },
		{ "icmp 198.51.100.7 > 192.0.2.10 type=0 frag=0 mf", "drop - - default" },
		{ "icmp 198.51.100.7 > 192.0.2.10 type=8 frag=0 mf", "pass ping request service" },
		{ "icmp [2001:db8::7] > [2001:db8:1::10] frag=100", "pass ping6 fragment fragment" },
		/* ICMP of the other family is a bare protocol number. */
		{ "proto=58 198.51.100.7 > 192.0.2.10 frag=100", "drop - - default" },
		{ "proto=1 [2001:db8::7] > [2001:db8:1::10] frag=100", "drop - - default" },
		/* A reply-side service takes fragments too, counted as fragments. */
		{ "proto=47 198.51.100.7 > 192.0.2.10 frag=100", "pass gre fragment fragment" },
		{ "proto=47 [2001:db8::7] > [2001:db8:1::10] frag=100", "pass gre fragment fragment" },
		{ "proto=47 203.0.113.9 > 192.0.2.10 frag=100", "drop - - default" },
		{ "udp 192.0.2.7:1 > 198.51.100.1:1 frag=100", "drop lab fragment fragment" },
		{ "proto=50 192.0.2.7 > 198.51.100.1 frag=100", "drop lab fragment fragment" },
		{ "udp 198.51.100.7:1 > 192.0.2.10:1 frag=100", "drop - - default" },
		{ "sctp [2001:db8::7]:1 > [2001:db8:1::10]:1 frag=100", "drop - - default" },
		/* Offsets: the smallest and the largest; MF does not matter. */
		{ "tcp 198.51.100.7:1 > 192.0.2.10:1 frag=2", "pass web fragment fragment" },
		/* RFC 3128: a TCP fragment at offset 1 is malformed */
		{ "tcp 198.51.100.7:1 > 192.0.2.10:1 frag=1", "drop - - malformed" },
		{ "tcp 198.51.100.7:1 > 192.0.2.10:1 frag=8191 mf", "pass web fragment fragment" },
		{ "tcp [2001:db8::7]:1 > [2001:db8:1::10]:1 frag=8191", "pass web fragment fragment" },
		/* Essential ICMP is for first fragments; later ones carry no type. */
		{ "icmp 203.0.113.9 > 192.0.2.10 type=3 frag=100", "drop - - default" },
		{ "icmp 203.0.113.9 > 192.0.2.10 type=3 frag=0 mf", "pass - - essential-icmp" },
	};
	struct dp_fixture *fx = *state;

	DP_CHECK_ROWS(fx, rows);
	DP_DONE(fx);
}

static const struct dp_config fragments_allow = {
	.label = "fragments allow",
	.text = "default deny\n"
		"fragments allow\n"
		"service block { direction in; protocol any; peers 203.0.113.0/24; action deny }\n"
		"service web { direction in; protocol tcp; ports 443; peers 198.51.100.0/24; action allow }\n",
	.facing = TG_FACING_OUTSIDE,
	.stateless = true, /* see the file comment */
};

static const struct dp_config fragments_deny = {
	.label = "fragments deny",
	.text = "default allow\n"
		"fragments deny\n"
		"service block { direction in; protocol any; peers 203.0.113.0/24; action deny }\n"
		"service web { direction in; protocol tcp; ports 443; peers 198.51.100.0/24; action allow }\n",
	.facing = TG_FACING_OUTSIDE,
	.stateless = true, /* see the file comment */
};

/* Decided at once, before any service; first fragments are classified. */
static void fragments_allow_passes_non_first(void **state)
{
	static const struct dp_row rows[] = {
		{ "tcp 198.51.100.7:50000 > 192.0.2.10:443 frag=100", "pass - - fragment" },
		{ "tcp 203.0.113.9:50000 > 192.0.2.10:443 frag=100", "pass - - fragment" },
		{ "udp 192.0.2.1:1 > 192.0.2.10:1 frag=1 mf", "pass - - fragment" },
		{ "proto=47 203.0.113.9 > 192.0.2.10 frag=100", "pass - - fragment" },
		{ "udp [2001:db8::7]:1 > [2001:db8:1::10]:1 frag=100", "pass - - fragment" },
		{ "udp [2001:db8::7]:1 > [2001:db8:1::10]:1 ext=0,60 frag=100", "pass - - fragment" },
		{ "tcp 198.51.100.7:50000 > 192.0.2.10:443 S frag=0 mf", "pass web request service" },
		{ "tcp 203.0.113.9:50000 > 192.0.2.10:443 S frag=0 mf", "drop block request service" },
		{ "tcp 192.0.2.1:50000 > 192.0.2.10:443 S frag=0 mf", "drop - - default" },
		{ "tcp [2001:db8::7]:1 > [2001:db8:1::10]:1 A frag=0 mf", "drop - - default" },
		{ "icmp 203.0.113.9 > 192.0.2.10 type=3", "pass - - essential-icmp" },
	};
	struct dp_fixture *fx = *state;

	DP_CHECK_ROWS(fx, rows);
	DP_DONE(fx);
}

static void fragments_deny_drops_non_first(void **state)
{
	static const struct dp_row rows[] = {
		{ "tcp 198.51.100.7:50000 > 192.0.2.10:443 frag=100", "drop - - fragment" },
		{ "tcp 203.0.113.9:50000 > 192.0.2.10:443 frag=100", "drop - - fragment" },
		{ "udp 192.0.2.1:1 > 192.0.2.10:1 frag=1 mf", "drop - - fragment" },
		{ "udp [2001:db8::7]:1 > [2001:db8:1::10]:1 frag=100", "drop - - fragment" },
		{ "icmp 192.0.2.1 > 192.0.2.10 frag=100", "drop - - fragment" },
		{ "tcp 198.51.100.7:50000 > 192.0.2.10:443 S frag=0 mf", "pass web request service" },
		{ "tcp 203.0.113.9:50000 > 192.0.2.10:443 S frag=0 mf", "drop block request service" },
		{ "tcp 192.0.2.1:1 > 192.0.2.10:1 A frag=0 mf", "pass - - default" },
		{ "tcp [2001:db8::7]:1 > [2001:db8:1::10]:1 A frag=0 mf", "pass - - default" },
		{ "icmp 203.0.113.9 > 192.0.2.10 type=3", "pass - - essential-icmp" },
	};
	struct dp_fixture *fx = *state;

	DP_CHECK_ROWS(fx, rows);
	DP_DONE(fx);
}

/* ========================================================== TCP flags */

static const char tcp_flags_policy[] =
	"default deny\n"
	"service ssh { direction in; protocol tcp; ports 22; peers 198.51.100.0/24; action allow }\n"
	"service https-out { direction out; protocol tcp; ports 443; peers 203.0.113.0/24; action allow }\n"
	"service anything-out { direction out; protocol any; peers 192.0.2.0/24; action allow }\n";

static const struct dp_config tcp_flags_outside = {
	.label = "tcp flags outside",
	.text = tcp_flags_policy,
	.facing = TG_FACING_OUTSIDE,
	.stateless = true, /* see the file comment */
};
static const struct dp_config tcp_flags_inside = {
	.label = "tcp flags inside",
	.text = tcp_flags_policy,
	.facing = TG_FACING_INSIDE,
	.stateless = true, /* see the file comment */
};

/* Replies need ACK; requests take any flags. */
static void tcp_flags_outside_facing(void **state)
{
	static const struct {
		const char *flags, *ssh_request, *https_reply;
	} rows[] = {
		{ "0", "pass ssh request service", "drop - - default" },
		{ "S", "pass ssh request service", "drop - - default" },
		{ "SA", "pass ssh request service", "pass https-out reply service" },
		{ "A", "pass ssh request service", "pass https-out reply service" },
		{ "PA", "pass ssh request service", "pass https-out reply service" },
		{ "FA", "pass ssh request service", "pass https-out reply service" },
		{ "RA", "pass ssh request service", "pass https-out reply service" },
		{ "F", "pass ssh request service", "drop - - default" },
		{ "R", "pass ssh request service", "drop - - default" },
		{ "P", "pass ssh request service", "drop - - default" },
		{ "U", "pass ssh request service", "drop - - default" },
		{ "SF", "pass ssh request service", "drop - - default" },
		{ "EC", "pass ssh request service", "drop - - default" },
		{ "FSRPUEC", "pass ssh request service", "drop - - default" },
		{ "FSRPAUEC", "pass ssh request service", "pass https-out reply service" },
	};
	struct dp_fixture *fx = *state;
	char spec[128];

	for (size_t i = 0; i < DP_ARRAY_SIZE(rows); i++) {
		snprintf(spec, sizeof(spec), "tcp 198.51.100.7:50000 > 192.0.2.10:22 %s", rows[i].flags);
		dp_check(fx, spec, rows[i].ssh_request);
		snprintf(spec, sizeof(spec), "tcp 203.0.113.9:443 > 192.0.2.10:50000 %s", rows[i].flags);
		dp_check(fx, spec, rows[i].https_reply);
		/* A SYN from port 22 of an ssh peer is not a request to 22. */
		snprintf(spec, sizeof(spec), "tcp 198.51.100.7:22 > 192.0.2.10:50000 %s", rows[i].flags);
		dp_check(fx, spec, "drop - - default");
	}
	/* `any` on the reply side: TCP needs ACK, everything else passes. */
	dp_check(fx, "tcp 192.0.2.7:1234 > 198.51.100.1:5555 S", "drop - - default");
	dp_check(fx, "tcp 192.0.2.7:1234 > 198.51.100.1:5555 A", "pass anything-out reply service");
	dp_check(fx, "udp 192.0.2.7:1234 > 198.51.100.1:5555", "pass anything-out reply service");
	dp_check(fx, "sctp 192.0.2.7:1234 > 198.51.100.1:5555", "pass anything-out reply service");
	dp_check(fx, "icmp 192.0.2.7 > 198.51.100.1 type=8", "pass anything-out reply service");
	dp_check(fx, "proto=47 192.0.2.7 > 198.51.100.1", "pass anything-out reply service");
	DP_DONE(fx);
}

static void tcp_flags_inside_facing(void **state)
{
	static const struct dp_row rows[] = {
		{ "tcp 192.0.2.10:22 > 198.51.100.7:50000 SA", "pass ssh reply service" },
		{ "tcp 192.0.2.10:22 > 198.51.100.7:50000 A", "pass ssh reply service" },
		{ "tcp 192.0.2.10:22 > 198.51.100.7:50000 S", "drop - - default" },
		{ "tcp 192.0.2.10:22 > 198.51.100.7:50000 R", "drop - - default" },
		{ "tcp 192.0.2.10:22 > 198.51.100.7:50000 0", "drop - - default" },
		{ "tcp 192.0.2.10:50000 > 203.0.113.9:443 S", "pass https-out request service" },
		{ "tcp 192.0.2.10:50000 > 203.0.113.9:443 0", "pass https-out request service" },
		{ "tcp 192.0.2.10:50000 > 203.0.113.9:443 R", "pass https-out request service" },
		{ "tcp 192.0.2.10:50000 > 203.0.113.9:443 FSRPAUEC", "pass https-out request service" },
		{ "tcp 192.0.2.10:1234 > 192.0.2.7:5555 S", "pass anything-out request service" },
		{ "tcp 192.0.2.10:1234 > 192.0.2.7:5555 0", "pass anything-out request service" },
		{ "udp 192.0.2.10:1234 > 192.0.2.7:5555", "pass anything-out request service" },
		{ "icmp 192.0.2.10 > 192.0.2.7 type=0", "pass anything-out request service" },
		{ "proto=47 [2001:db8::1] > [2001:db8::2]", "drop - - default" },
	};
	struct dp_fixture *fx = *state;

	DP_CHECK_ROWS(fx, rows);
	DP_DONE(fx);
}

/* ================================================================ ICMP */

static const char icmp_policy[] =
	"default deny\n"
	"service block { direction in; protocol any; peers 203.0.113.0/24, 2001:db8:bad::/48; action deny }\n"
	"service ping-in { direction in; protocol icmp; types echo-request; peers 198.51.100.0/25; action allow }\n"
	"service ping-out { direction out; protocol icmp; types echo-request; peers any; action allow }\n"
	"service ping6-in { direction in; protocol icmpv6; types echo-request; peers 2001:db8:1::/48; action allow }\n"
	"service ping6-out { direction out; protocol icmpv6; types echo-request; peers any; action allow }\n"
	"service ts-out { direction out; protocol icmp; types timestamp-request, info-request, address-mask-request; "
	"peers 192.0.2.0/25; action allow }\n"
	"service range-out { direction out; protocol icmp; types 0-255; peers 198.51.100.128/25; action allow }\n"
	"service every-type-out { direction out; protocol icmp; peers 192.0.2.128/25; action allow }\n";

static const struct dp_config icmp_outside = {
	.label = "icmp outside",
	.text = icmp_policy,
	.facing = TG_FACING_OUTSIDE,
	.stateless = true, /* see the file comment */
};
static const struct dp_config icmp_inside = {
	.label = "icmp inside",
	.text = icmp_policy,
	.facing = TG_FACING_INSIDE,
	.stateless = true, /* see the file comment */
};

/* Essential ICMP passes before services, even from a denied peer. */
static void essential_icmp_passes_before_services(void **state)
{
	static const unsigned v4_essential[] = { 3, 11, 12 };
	static const unsigned v6_essential[] = { 1, 2, 3, 4, 133, 134, 135, 136, 137 };
	static const unsigned v4_other[] = { 0, 4, 5, 8, 9, 10, 13, 14, 15, 16, 17, 18, 255 };
	static const unsigned v6_other[] = { 0, 5, 127, 128, 129, 130, 131, 132, 138, 143, 255 };
	struct dp_fixture *fx = *state;
	char spec[128];

	for (size_t i = 0; i < DP_ARRAY_SIZE(v4_essential); i++)
		for (unsigned code = 0; code < 16; code += 4) {
			snprintf(spec, sizeof(spec), "icmp 203.0.113.9 > 192.0.2.10 type=%u code=%u", v4_essential[i],
				 code);
			dp_check(fx, spec, "pass - - essential-icmp");
		}
	for (size_t i = 0; i < DP_ARRAY_SIZE(v6_essential); i++) {
		snprintf(spec, sizeof(spec), "icmp [2001:db8:bad::1] > [2001:db8:1::10] type=%u", v6_essential[i]);
		dp_check(fx, spec, "pass - - essential-icmp");
	}
	for (size_t i = 0; i < DP_ARRAY_SIZE(v4_other); i++) {
		snprintf(spec, sizeof(spec), "icmp 203.0.113.9 > 192.0.2.10 type=%u", v4_other[i]);
		dp_check(fx, spec, "drop block request service");
	}
	for (size_t i = 0; i < DP_ARRAY_SIZE(v6_other); i++) {
		snprintf(spec, sizeof(spec), "icmp [2001:db8:bad::1] > [2001:db8:1::10] type=%u", v6_other[i]);
		dp_check(fx, spec, "drop block request service");
	}
	/* The types are per family: ICMPv4 type 3 inside IPv6, or ICMPv6
	 * packet-too-big inside IPv4, is just a protocol number. */
	dp_check(fx, "proto=1 [2001:db8:bad::1] > [2001:db8:1::10] type=3", "drop block request service");
	dp_check(fx, "proto=58 203.0.113.9 > 192.0.2.10 type=2", "drop block request service");
	dp_check(fx, "proto=58 198.51.100.7 > 192.0.2.10 type=2", "drop - - default");
	dp_check(fx, "proto=1 [2001:db8:2::1] > [2001:db8:1::10] type=3", "drop - - default");
	DP_DONE(fx);
}

static void icmp_request_and_reply_types_outside(void **state)
{
	static const struct dp_row rows[] = {
		{ "icmp 198.51.100.7 > 192.0.2.10 type=8", "pass ping-in request service" },
		{ "icmp 198.51.100.7 > 192.0.2.10 type=8 code=1", "pass ping-in request service" },
		{ "icmp 198.51.100.7 > 192.0.2.10 type=0", "pass ping-out reply service" },
		{ "icmp 192.0.2.7 > 192.0.2.10 type=8", "drop - - default" },
		{ "icmp 192.0.2.7 > 192.0.2.10 type=0", "pass ping-out reply service" },
		/* ts-out lists 13, 15, 17: their replies 14, 16, 18 come back. */
		{ "icmp 192.0.2.7 > 192.0.2.10 type=14", "pass ts-out reply service" },
		{ "icmp 192.0.2.7 > 192.0.2.10 type=16", "pass ts-out reply service" },
		{ "icmp 192.0.2.7 > 192.0.2.10 type=18", "pass ts-out reply service" },
		{ "icmp 192.0.2.7 > 192.0.2.10 type=13", "drop - - default" },
		{ "icmp 192.0.2.7 > 192.0.2.10 type=15", "drop - - default" },
		{ "icmp 192.0.2.7 > 192.0.2.10 type=17", "drop - - default" },
		/* types 0-255 on the reply side: only 0, 14, 16, 18. */
		{ "icmp 198.51.100.200 > 192.0.2.10 type=0", "pass ping-out reply service" },
		{ "icmp 198.51.100.200 > 192.0.2.10 type=14", "pass range-out reply service" },
		{ "icmp 198.51.100.200 > 192.0.2.10 type=16", "pass range-out reply service" },
		{ "icmp 198.51.100.200 > 192.0.2.10 type=18", "pass range-out reply service" },
		{ "icmp 198.51.100.200 > 192.0.2.10 type=8", "drop - - default" },
		{ "icmp 198.51.100.200 > 192.0.2.10 type=9", "drop - - default" },
		{ "icmp 198.51.100.200 > 192.0.2.10 type=13", "drop - - default" },
		{ "icmp 198.51.100.200 > 192.0.2.10 type=255", "drop - - default" },
		/* No types: every type, reply side included. */
		{ "icmp 192.0.2.200 > 192.0.2.10 type=8", "pass every-type-out reply service" },
		{ "icmp 192.0.2.200 > 192.0.2.10 type=13", "pass every-type-out reply service" },
		{ "icmp 192.0.2.200 > 192.0.2.10 type=255", "pass every-type-out reply service" },
		{ "icmp 192.0.2.200 > 192.0.2.10 type=0", "pass ping-out reply service" },
		/* ICMPv6 echo. */
		{ "icmp [2001:db8:1::7] > [2001:db8:2::10] type=128", "pass ping6-in request service" },
		{ "icmp [2001:db8:1::7] > [2001:db8:2::10] type=129", "pass ping6-out reply service" },
		{ "icmp [2001:db8:2::7] > [2001:db8:2::10] type=128", "drop - - default" },
		{ "icmp [2001:db8:2::7] > [2001:db8:2::10] type=129", "pass ping6-out reply service" },
		{ "icmp [2001:db8:1::7] > [2001:db8:2::10] type=8", "drop - - default" },
		{ "icmp [2001:db8:1::7] > [2001:db8:2::10] type=0", "drop - - default" },
		/* `icmp` is IPv4 only, `icmpv6` IPv6 only. */
		{ "proto=1 [2001:db8:1::7] > [2001:db8:2::10] type=8", "drop - - default" },
		{ "proto=1 [2001:db8:1::7] > [2001:db8:2::10] type=0", "drop - - default" },
		{ "proto=58 198.51.100.7 > 192.0.2.10 type=128", "drop - - default" },
		{ "proto=58 198.51.100.7 > 192.0.2.10 type=129", "drop - - default" },
	};
	struct dp_fixture *fx = *state;

	DP_CHECK_ROWS(fx, rows);
	DP_DONE(fx);
}

static void icmp_request_and_reply_types_inside(void **state)
{
	static const struct dp_row rows[] = {
		{ "icmp 192.0.2.10 > 198.51.100.7 type=8", "pass ping-out request service" },
		{ "icmp 192.0.2.10 > 198.51.100.7 type=0", "pass ping-in reply service" },
		{ "icmp 192.0.2.10 > 192.0.2.7 type=0", "drop - - default" },
		{ "icmp 192.0.2.10 > 203.0.113.9 type=0", "drop block reply service" },
		{ "icmp 192.0.2.10 > 203.0.113.9 type=3", "pass - - essential-icmp" },
		{ "icmp 192.0.2.10 > 192.0.2.7 type=13", "pass ts-out request service" },
		{ "icmp 192.0.2.10 > 192.0.2.7 type=15", "pass ts-out request service" },
		{ "icmp 192.0.2.10 > 192.0.2.7 type=17", "pass ts-out request service" },
		{ "icmp 192.0.2.10 > 192.0.2.7 type=14", "drop - - default" },
		{ "icmp 192.0.2.10 > 198.51.100.200 type=9", "pass range-out request service" },
		{ "icmp 192.0.2.10 > 198.51.100.200 type=0", "pass range-out request service" },
		{ "icmp 192.0.2.10 > 198.51.100.200 type=8", "pass ping-out request service" },
		{ "icmp 192.0.2.10 > 192.0.2.200 type=200", "pass every-type-out request service" },
		{ "icmp [2001:db8:2::10] > [2001:db8:2::7] type=128", "pass ping6-out request service" },
		{ "icmp [2001:db8:2::10] > [2001:db8:1::7] type=129", "pass ping6-in reply service" },
		{ "icmp [2001:db8:2::10] > [2001:db8:2::7] type=129", "drop - - default" },
	};
	struct dp_fixture *fx = *state;

	DP_CHECK_ROWS(fx, rows);
	DP_DONE(fx);
}

static const char icmp_filter_policy[] =
	"default deny\n"
	"essential-icmp filter\n"
	"service block { direction in; protocol any; peers 203.0.113.0/24; action deny }\n"
	"service v6-needed { direction in; protocol icmpv6; types packet-too-big, 133-136; peers any; action allow }\n"
	"service v4-errors { direction in; protocol icmp; types destination-unreachable, time-exceeded; peers any; "
	"action allow }\n";

static const struct dp_config icmp_filter_outside = {
	.label = "essential-icmp filter outside",
	.text = icmp_filter_policy,
	.facing = TG_FACING_OUTSIDE,
	.stateless = true, /* see the file comment */
};
static const struct dp_config icmp_filter_inside = {
	.label = "essential-icmp filter inside",
	.text = icmp_filter_policy,
	.facing = TG_FACING_INSIDE,
	.stateless = true, /* see the file comment */
};

/* With `essential-icmp filter` ICMP errors and ND are requests like any other. */
static void essential_icmp_filter_goes_through_services(void **state)
{
	static const struct dp_row rows[] = {
		{ "icmp 203.0.113.9 > 192.0.2.10 type=3 code=4", "drop block request service" },
		{ "icmp 198.51.100.7 > 192.0.2.10 type=3 code=4", "pass v4-errors request service" },
		{ "icmp 198.51.100.7 > 192.0.2.10 type=11", "pass v4-errors request service" },
		{ "icmp 198.51.100.7 > 192.0.2.10 type=12", "drop - - default" },
		{ "icmp [2001:db8::7] > [2001:db8:1::10] type=2", "pass v6-needed request service" },
		{ "icmp [fe80::1] > [2001:db8:1::10] type=133", "pass v6-needed request service" },
		{ "icmp [fe80::1] > [2001:db8:1::10] type=134", "pass v6-needed request service" },
		{ "icmp [fe80::1] > [2001:db8:1::10] type=135", "pass v6-needed request service" },
		{ "icmp [fe80::1] > [2001:db8:1::10] type=136", "pass v6-needed request service" },
		{ "icmp [fe80::1] > [2001:db8:1::10] type=137", "drop - - default" },
		{ "icmp [2001:db8::7] > [2001:db8:1::10] type=1", "drop - - default" },
		{ "icmp [2001:db8::7] > [2001:db8:1::10] type=3", "drop - - default" },
		{ "icmp [2001:db8::7] > [2001:db8:1::10] type=4", "drop - - default" },
	};
	struct dp_fixture *fx = *state;

	DP_CHECK_ROWS(fx, rows);
	DP_DONE(fx);
}

/* On the other facing the same rows are reply-side: types without replies
 * match nothing. */
static void essential_icmp_filter_inside_has_no_replies(void **state)
{
	static const struct dp_row rows[] = {
		{ "icmp [2001:db8:1::10] > [2001:db8::7] type=2", "drop - - default" },
		{ "icmp [2001:db8:1::10] > [fe80::1] type=135", "drop - - default" },
		{ "icmp 192.0.2.10 > 198.51.100.7 type=3", "drop - - default" },
		{ "icmp 192.0.2.10 > 203.0.113.9 type=3", "drop block reply service" },
	};
	struct dp_fixture *fx = *state;

	DP_CHECK_ROWS(fx, rows);
	DP_DONE(fx);
}

/* ===================================================== other protocols */

static const struct dp_config protocols_outside = {
	.label = "protocol numbers",
	.text = "default deny\n"
		"service gre { direction in; protocol 47; peers 198.51.100.0/24, 2001:db8::/32; action allow }\n"
		"service esp-back { direction out; protocol 50; peers 198.51.100.0/24; action allow }\n"
		"service tcp-by-number { direction in; protocol 6; ports 2000-2001; peers any; action allow }\n"
		"service sctp-sig { direction in; protocol sctp; ports 2905; peers 198.51.100.0/24; action allow }\n"
		"service quic { direction out; protocol udp; ports 443; peers 203.0.113.0/24; action allow }\n"
		"service lab-udp { direction in; protocol udp; peers 192.0.2.0/24; action allow }\n",
	.facing = TG_FACING_OUTSIDE,
	.stateless = true, /* see the file comment */
};

/* Other protocols match their number in either role; named numbers keep
 * their ports. */
static void protocol_numbers_and_sctp(void **state)
{
	static const struct dp_row rows[] = {
		{ "proto=47 198.51.100.7 > 192.0.2.10", "pass gre request service" },
		{ "proto=47 [2001:db8::7] > [2001:db8:1::10]", "pass gre request service" },
		{ "proto=47 203.0.113.7 > 192.0.2.10", "drop - - default" },
		{ "proto=47 198.51.100.7 > 192.0.2.10 payload=100", "pass gre request service" },
		{ "proto=50 198.51.100.7 > 192.0.2.10 payload=64", "pass esp-back reply service" },
		{ "proto=50 [2001:db8::7] > [2001:db8:1::10]", "drop - - default" },
		{ "proto=51 198.51.100.7 > 192.0.2.10", "drop - - default" },
		{ "proto=0 198.51.100.7 > 192.0.2.10", "drop - - default" },
		{ "proto=255 198.51.100.7 > 192.0.2.10", "drop - - default" },
		{ "tcp 203.0.113.7:50000 > 192.0.2.10:2000 S", "pass tcp-by-number request service" },
		{ "tcp 203.0.113.7:50000 > 192.0.2.10:2001 S", "pass tcp-by-number request service" },
		{ "tcp 203.0.113.7:50000 > 192.0.2.10:2002 S", "drop - - default" },
		{ "tcp 203.0.113.7:50000 > 192.0.2.10:1999 S", "drop - - default" },
		{ "sctp 198.51.100.7:50000 > 192.0.2.10:2905", "pass sctp-sig request service" },
		{ "sctp 198.51.100.7:50000 > 192.0.2.10:2906", "drop - - default" },
		{ "sctp [2001:db8::7]:50000 > [2001:db8:1::10]:2905", "drop - - default" },
		{ "udp 198.51.100.7:50000 > 192.0.2.10:2905", "drop - - default" },
		{ "udp 203.0.113.7:443 > 192.0.2.10:50000", "pass quic reply service" },
		{ "udp [2001:db8::7]:443 > [2001:db8:1::10]:50000", "drop - - default" },
		{ "udp 203.0.113.7:50000 > 192.0.2.10:443", "drop - - default" },
		{ "tcp 203.0.113.7:443 > 192.0.2.10:50000 A", "drop - - default" },
		/* No ports: every port, 0 included. */
		{ "udp 192.0.2.7:0 > 198.51.100.1:0", "pass lab-udp request service" },
		{ "udp 192.0.2.7:65535 > 198.51.100.1:65535", "pass lab-udp request service" },
		{ "tcp 192.0.2.7:0 > 198.51.100.1:0 S", "drop - - default" },
		{ "tcp 192.0.2.7:50000 > 198.51.100.1:0 S", "drop - - default" },
	};
	struct dp_fixture *fx = *state;

	DP_CHECK_ROWS(fx, rows);
	DP_DONE(fx);
}

/* ================================================================ main */

#define PRESTATE(test, cfg) \
	cmocka_unit_test_prestate_setup_teardown(test, dp_setup_prestate, dp_teardown, (void *)&(cfg))

static int notarius_outside_setup(void **state)
{
	return dp_setup_config(state, &notarius_outside);
}

static int cryptshare_outside_setup(void **state)
{
	return dp_setup_config(state, &cryptshare_outside);
}

/* IPsec is a protocol in both families: AH (51) ends IPv6's header walk as
 * it is IPv4's protocol, so one service with `protocol 51` takes both, and a
 * TCP service never sees the TCP an AH header carries, in either family. */
static const struct dp_config ipsec_outside = {
	.label = "ipsec outside",
	.text = "default deny\n"
		"service ah { direction in; protocol 51; peers 198.51.100.0/24, 2001:db8::/48; action allow }\n"
		"service web { direction in; protocol tcp; ports 443; peers any; action allow }\n",
	.facing = TG_FACING_OUTSIDE,
	.stateless = true, /* see the file comment */
};

static void ah_is_a_protocol_in_both_families(void **state)
{
	static const struct dp_row rows[] = {
		{ "proto=51 198.51.100.7 > 192.0.2.10 payload=24", "pass ah request service" },
		{ "proto=51 [2001:db8::7] > [2001:db8:1::10] payload=24", "pass ah request service" },
		{ "tcp [2001:db8::7]:50000 > [2001:db8:1::10]:443 S ext=51", "pass ah request service" },
		{ "tcp [2001:db8::7]:50000 > [2001:db8:1::10]:443 S ext=0,60,51", "pass ah request service" },
		{ "tcp [2001:db8::7]:50000 > [2001:db8:1::10]:443 S ext=0,60", "pass web request service" },
		{ "tcp [2001:db8:ff::7]:50000 > [2001:db8:1::10]:443 S ext=51", "drop - - default" },
		{ "proto=51 203.0.113.9 > 192.0.2.10 payload=24", "drop - - default" },
	};
	struct dp_fixture *fx = *state;

	DP_CHECK_ROWS(fx, rows);
	DP_DONE(fx);
}

/* ====================================================== a large feed */

/* A feed large enough that each family's lookup gets a used-block filter
 * (include/tollgate.h: more than 524,288 bounds), beside a service open to
 * any peer: an address in an unused block of any filter must get the class
 * of `any`, one in a feed prefix the feed's. */
#define FEED_V4 300000
#define FEED_V6 300000
#define FEED_MAX (FEED_V4 > FEED_V6 ? FEED_V4 : FEED_V6)
#define FEED_PROBES 600

struct feed_prefix {
	uint8_t addr[16];
	unsigned len;
};

static struct feed_prefix feed[2][FEED_MAX];
/* The feed's prefixes by their first 16 bits, which every one of them
 * fixes (/20 or longer, /32 or longer): bucket b is
 * feed_order[f][feed_start[f][b]] up to feed_start[f][b + 1]. */
static uint32_t feed_start[2][65537];
static uint32_t feed_order[2][FEED_MAX];
static uint64_t feed_rng = 0x5eedfeedull;

static uint64_t feed_next(void)
{
	feed_rng ^= feed_rng << 13;
	feed_rng ^= feed_rng >> 7;
	feed_rng ^= feed_rng << 17;
	return feed_rng;
}

/* Random bytes from bit `from` on; clear from bit `to` on. */
static void feed_bits(uint8_t *addr, unsigned from, unsigned to, unsigned bytes)
{
	for (unsigned i = from; i < bytes * 8; i++) {
		uint8_t bit = (uint8_t)(0x80 >> (i % 8));

		if (i < to && feed_next() & 1)
			addr[i / 8] |= bit;
		else
			addr[i / 8] &= (uint8_t)~bit;
	}
}

static unsigned feed_bucket(const uint8_t *addr)
{
	return (unsigned)addr[0] << 8 | addr[1];
}

static void feed_index(int f)
{
	size_t n = f ? FEED_V6 : FEED_V4;
	static uint32_t next[65536];

	memset(feed_start[f], 0, sizeof(feed_start[f]));
	for (size_t i = 0; i < n; i++)
		feed_start[f][feed_bucket(feed[f][i].addr) + 1]++;
	for (unsigned b = 0; b < 65536; b++)
		feed_start[f][b + 1] += feed_start[f][b];
	memcpy(next, feed_start[f], sizeof(next));
	for (size_t i = 0; i < n; i++)
		feed_order[f][next[feed_bucket(feed[f][i].addr)]++] = (uint32_t)i;
}

static bool feed_covers(int f, const uint8_t *addr)
{
	unsigned b = feed_bucket(addr);

	for (uint32_t j = feed_start[f][b]; j < feed_start[f][b + 1]; j++) {
		const struct feed_prefix *p = &feed[f][feed_order[f][j]];
		unsigned k = 0;

		while (k < p->len && !((p->addr[k / 8] ^ addr[k / 8]) & (0x80 >> (k % 8))))
			k++;
		if (k == p->len)
			return true;
	}
	return false;
}

/* As a packet spec writes it: IPv6 in brackets. */
static void feed_format(int f, const uint8_t *addr, char *buf, size_t cap)
{
	char a[INET6_ADDRSTRLEN];

	inet_ntop(f ? AF_INET6 : AF_INET, addr, a, sizeof(a));
	snprintf(buf, cap, f ? "[%s]" : "%s", a);
}

static struct dp_config feed_outside = {
	.label = "feed outside",
	.facing = TG_FACING_OUTSIDE,
	.stateless = true, /* see the file comment */
};

static int feed_setup(void **state)
{
	char *text = NULL;
	size_t size = 0;
	FILE *out = open_memstream(&text, &size);

	if (!out)
		return -1;
	fprintf(out, "default deny\nset feed {\n");
	for (int f = 0; f < 2; f++) {
		unsigned bytes = f ? 16 : 4, shortest = f ? 32 : 20;

		for (size_t i = 0; i < (f ? FEED_V6 : FEED_V4); i++) {
			struct feed_prefix *p = &feed[f][i];
			char buf[INET6_ADDRSTRLEN];

			p->len = shortest + (unsigned)(feed_next() % (bytes * 8 - shortest + 1));
			feed_bits(p->addr, 0, p->len, bytes);
			inet_ntop(f ? AF_INET6 : AF_INET, p->addr, buf, sizeof(buf));
			fprintf(out, "  %s/%u\n", buf, p->len);
		}
		feed_index(f);
	}
	fprintf(out, "}\n"
		     "service feed-https { direction in; protocol tcp; ports 443; peers @feed; action allow }\n"
		     "service dns { direction in; protocol udp; ports 53; peers any; action allow }\n");
	if (fclose(out))
		return -1;
	feed_outside.text = text;
	return dp_setup_config(state, &feed_outside);
}

static int feed_teardown(void **state)
{
	int rc = dp_teardown(state);

	free((char *)feed_outside.text);
	return rc;
}

/* The first `bits` bits of an address (at most 32). */
static uint32_t feed_first_bits(const uint8_t *addr, unsigned bits)
{
	return ((uint32_t)addr[0] << 24 | (uint32_t)addr[1] << 16 | (uint32_t)addr[2] << 8 | addr[3]) >> (32 - bits);
}

/* Whether an address passes the fine filter and stops at the used-block
 * one, as the program walks them: the path through block_maybe_used(). */
static bool feed_stops_at_used_block(const struct tg_lookup *lk, int f, const uint8_t *addr)
{
	uint32_t fine = feed_first_bits(addr, TG_LK_FINE_BITS);
	uint32_t block = feed_first_bits(addr, lk->info.filter_bits[f]);

	return tg_lk_fine_used(lk->fine[tg_lk_fine_word(f, fine)], fine) &&
	       !tg_lk_block_used(&lk->nodes[lk->info.filter_base[f] + block / 512], block);
}

static void feed_addresses_agree_through_the_filter(void **state)
{
	struct dp_fixture *fx = *state;
	struct tg_lookup lk;

	assert_int_equal(tg_lookup_build(&fx->img, &lk), 0);
	for (int f = 0; f < 2; f++) {
		unsigned bytes = f ? 16 : 4, at_used_block = 0;

		assert_true(lk.info.filter_bits[f] > TG_LK_FINE_BITS);
		assert_true(lk.info.filter_class[f] != 0); /* `any`'s */
		for (unsigned i = 0; i < 2 * FEED_PROBES; i++) {
			uint8_t addr[16] = { 0 };
			char a[64], spec[160];
			bool in;

			if (i < FEED_PROBES) { /* anywhere: mostly an unused block */
				feed_bits(addr, 0, bytes * 8, bytes);
			} else { /* inside a feed prefix */
				const struct feed_prefix *p = &feed[f][feed_next() % (f ? FEED_V6 : FEED_V4)];

				memcpy(addr, p->addr, bytes);
				feed_bits(addr, p->len, bytes * 8, bytes);
			}
			in = feed_covers(f, addr);
			at_used_block += feed_stops_at_used_block(&lk, f, addr);
			feed_format(f, addr, a, sizeof(a));
			snprintf(spec, sizeof(spec), "tcp %s:50000 > %s:443 S", a,
				 f ? "[2001:db8:1::10]" : "192.0.2.10");
			dp_check(fx, spec, in ? "pass feed-https request service" : "drop - - default");
			snprintf(spec, sizeof(spec), "udp %s:50000 > %s:53", a, f ? "[2001:db8:1::10]" : "192.0.2.10");
			dp_check(fx, spec, "pass dns request service");
		}
		assert_true(at_used_block > 0); /* some probes take each filter */
	}
	tg_lookup_free(&lk);
	DP_DONE(fx);
}

int main(void)
{
	const struct CMUnitTest notarius[] = {
		cmocka_unit_test(vlan_and_qinq_are_classified),
		cmocka_unit_test(ipv4_options_every_length),
	};
	const struct CMUnitTest cryptshare[] = {
		cmocka_unit_test(non_ip_frames_pass_by_default),
		cmocka_unit_test(ipv6_extension_chains),
	};
	const struct CMUnitTest inline_policies[] = {
		PRESTATE(non_ip_deny_drops_non_ip, non_ip_deny),
		PRESTATE(malformed_allow_passes_malformed, malformed_allow),
		PRESTATE(fragments_match_first_service_by_protocol_and_peer, fragments_match),
		PRESTATE(fragments_allow_passes_non_first, fragments_allow),
		PRESTATE(fragments_deny_drops_non_first, fragments_deny),
		PRESTATE(tcp_flags_outside_facing, tcp_flags_outside),
		PRESTATE(tcp_flags_inside_facing, tcp_flags_inside),
		PRESTATE(essential_icmp_passes_before_services, icmp_outside),
		PRESTATE(icmp_request_and_reply_types_outside, icmp_outside),
		PRESTATE(icmp_request_and_reply_types_inside, icmp_inside),
		PRESTATE(essential_icmp_filter_goes_through_services, icmp_filter_outside),
		PRESTATE(essential_icmp_filter_inside_has_no_replies, icmp_filter_inside),
		PRESTATE(protocol_numbers_and_sctp, protocols_outside),
		PRESTATE(ah_is_a_protocol_in_both_families, ipsec_outside),
	};
	const struct CMUnitTest feed_group[] = {
		cmocka_unit_test(feed_addresses_agree_through_the_filter),
	};
	int failed = 0;

	failed += cmocka_run_group_tests_name("notarius outside", notarius, notarius_outside_setup, dp_teardown);
	failed += cmocka_run_group_tests_name("cryptshare outside", cryptshare, cryptshare_outside_setup, dp_teardown);
	failed += cmocka_run_group_tests_name("inline policies", inline_policies, NULL, NULL);
	failed += cmocka_run_group_tests_name("a large feed", feed_group, feed_setup, feed_teardown);
	return failed ? 1 : 0;
}
