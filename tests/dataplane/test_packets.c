// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Every service of the seed policies, and the worked packets of
 * docs/policy.md, through the real XDP program under both facings. Each
 * frame is checked against the expected decision, the reference classifier
 * and the counters (dp_harness.h).
 *
 * Outside facing: the remote is the source; `in` services admit requests
 * (destination port), `out` services replies (source port, TCP with ACK).
 * Inside facing: the remote is the destination; `out` services admit
 * requests, `in` services replies.
 *
 * The seed policies and the worked packets are loaded `replies stateless`
 * (the reply rows come without their requests, as docs/policy.md's tables
 * show them); the "tracked" tests at the end send the requests first,
 * through the egress classifier or the other facing, and check that replies
 * without a flow are dropped with reason no-flow.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "dp_harness.h"

/* Host names of notarius.policy, given documentation addresses. */
/* ============================================================ notarius */

/* The workstation is 192.0.2.10 (2001:db8:1::10); replies come back to it. */
static void notarius_outside_replies_per_service(void **state)
{
	static const struct dp_row rows[] = {
		{ "tcp 206.55.89.17:443 > 192.0.2.10:50000 SA", "pass consigno-licensing reply service" },
		{ "tcp 206.55.89.17:443 > 192.0.2.10:50000 A", "pass consigno-licensing reply service" },
		{ "tcp 192.252.131.70:443 > 192.0.2.10:50000 PA", "pass consigno-licensing reply service" },
		{ "tcp 192.252.131.70:829 > 192.0.2.10:50001 SA", "pass signature-generation reply service" },
		{ "tcp 206.55.89.17:829 > 192.0.2.10:50001 FA", "pass signature-generation reply service" },
		{ "tcp 206.55.89.17:80 > 192.0.2.10:50002 SA", "pass timestamp-authority reply service" },
		{ "tcp 192.252.131.70:80 > 192.0.2.10:50002 A", "pass timestamp-authority reply service" },
		{ "tcp 206.55.89.17:389 > 192.0.2.10:50003 SA", "pass crl reply service" },
		{ "tcp 192.252.131.70:389 > 192.0.2.10:50003 RA", "pass crl reply service" },
		{ "tcp 206.55.89.17:24250 > 192.0.2.10:50004 SA", "pass certifio-manager reply service" },
		{ "tcp 206.55.89.17:24251 > 192.0.2.10:50005 SA", "pass certifio-manager-server reply service" },
		{ "tcp 206.55.89.17:24260 > 192.0.2.10:50005 A", "pass certifio-manager-server reply service" },
		{ "tcp 192.252.131.70:24270 > 192.0.2.10:50005 A", "pass certifio-manager-server reply service" },
		/* Traffic of the counted-under rows is counted under the first row. */
		{ "tcp 206.55.89.17:443 > 192.0.2.10:50006 A payload=1200", "pass consigno-licensing reply service" },
		{ "tcp 206.55.89.17:80 > 192.0.2.10:50007 A payload=500", "pass timestamp-authority reply service" },
	};
	struct dp_fixture *fx = *state;

	DP_CHECK_ROWS(fx, rows);
	DP_DONE(fx);
}

static void notarius_outside_port_edges(void **state)
{
	static const struct dp_row rows[] = {
		{ "tcp 206.55.89.17:24249 > 192.0.2.10:50000 SA", "drop - - default" },
		{ "tcp 206.55.89.17:24250 > 192.0.2.10:50000 SA", "pass certifio-manager reply service" },
		{ "tcp 206.55.89.17:24251 > 192.0.2.10:50000 SA", "pass certifio-manager-server reply service" },
		{ "tcp 206.55.89.17:24270 > 192.0.2.10:50000 SA", "pass certifio-manager-server reply service" },
		{ "tcp 206.55.89.17:24271 > 192.0.2.10:50000 SA", "drop - - default" },
		{ "tcp 206.55.89.17:442 > 192.0.2.10:50000 SA", "drop - - default" },
		{ "tcp 206.55.89.17:444 > 192.0.2.10:50000 SA", "drop - - default" },
		{ "tcp 206.55.89.17:79 > 192.0.2.10:50000 SA", "drop - - default" },
		{ "tcp 206.55.89.17:81 > 192.0.2.10:50000 SA", "drop - - default" },
		{ "tcp 206.55.89.17:388 > 192.0.2.10:50000 SA", "drop - - default" },
		{ "tcp 206.55.89.17:390 > 192.0.2.10:50000 SA", "drop - - default" },
		{ "tcp 206.55.89.17:828 > 192.0.2.10:50000 SA", "drop - - default" },
		{ "tcp 206.55.89.17:830 > 192.0.2.10:50000 SA", "drop - - default" },
		{ "tcp 206.55.89.17:22 > 192.0.2.10:50000 A", "drop - - default" },
		{ "tcp 206.55.89.17:1 > 192.0.2.10:50000 A", "drop - - default" },
		{ "tcp 206.55.89.17:65535 > 192.0.2.10:50000 A", "drop - - default" },
		/* The right port as the destination is a request, which no `out`
		 * service admits on an outside-facing NIC. */
		{ "tcp 206.55.89.17:50000 > 192.0.2.10:443 S", "drop - - default" },
		{ "tcp 206.55.89.17:50000 > 192.0.2.10:443 A", "drop - - default" },
		{ "tcp 206.55.89.17:50000 > 192.0.2.10:24250 A", "drop - - default" },
		/* TCP only. */
		{ "udp 206.55.89.17:443 > 192.0.2.10:50000", "drop - - default" },
		{ "sctp 206.55.89.17:443 > 192.0.2.10:50000", "drop - - default" },
		{ "udp 206.55.89.17:24250 > 192.0.2.10:50000", "drop - - default" },
	};
	struct dp_fixture *fx = *state;

	DP_CHECK_ROWS(fx, rows);
	DP_DONE(fx);
}

/* 206.55.89.0/27 is .0-.31; 192.252.131.64/28 is .64-.79. */
static void notarius_outside_peer_edges(void **state)
{
	static const struct dp_row rows[] = {
		{ "tcp 206.55.88.255:443 > 192.0.2.10:50000 A", "drop - - default" },
		{ "tcp 206.55.89.0:443 > 192.0.2.10:50000 A", "pass consigno-licensing reply service" },
		{ "tcp 206.55.89.31:443 > 192.0.2.10:50000 A", "pass consigno-licensing reply service" },
		{ "tcp 206.55.89.32:443 > 192.0.2.10:50000 A", "drop - - default" },
		{ "tcp 192.252.131.63:443 > 192.0.2.10:50000 A", "drop - - default" },
		{ "tcp 192.252.131.64:443 > 192.0.2.10:50000 A", "pass consigno-licensing reply service" },
		{ "tcp 192.252.131.79:443 > 192.0.2.10:50000 A", "pass consigno-licensing reply service" },
		{ "tcp 192.252.131.80:443 > 192.0.2.10:50000 A", "drop - - default" },
		{ "tcp 206.55.89.0:24270 > 192.0.2.10:50000 A", "pass certifio-manager-server reply service" },
		{ "tcp 192.252.131.79:829 > 192.0.2.10:50000 A", "pass signature-generation reply service" },
		{ "tcp 206.55.89.32:829 > 192.0.2.10:50000 A", "drop - - default" },
		{ "tcp 192.252.131.80:389 > 192.0.2.10:50000 A", "drop - - default" },
		/* The local side is never examined: a Notarius address as the
		 * destination of a stranger's reply. */
		{ "tcp 203.0.113.9:443 > 206.55.89.17:50000 A", "drop - - default" },
		/* No IPv6 ranges: IPv6 from anywhere but download's address. */
		{ "tcp [2001:db8:ffff::1]:443 > [2001:db8:1::10]:50000 A", "drop - - default" },
	};
	struct dp_fixture *fx = *state;

	DP_CHECK_ROWS(fx, rows);
	DP_DONE(fx);
}

/* support.notarius.com=198.51.100.7; download.notarius.com=198.51.100.8, 2001:db8::8. */
static void notarius_outside_host_names(void **state)
{
	static const struct dp_row rows[] = {
		{ "tcp 198.51.100.7:443 > 192.0.2.10:50000 SA", "pass notarius-support reply service" },
		{ "tcp 198.51.100.7:443 > 192.0.2.10:50000 A", "pass notarius-support reply service" },
		{ "tcp 198.51.100.7:80 > 192.0.2.10:50000 SA", "drop - - default" },
		{ "tcp 198.51.100.7:443 > 192.0.2.10:50000 S", "drop - - default" },
		{ "tcp 198.51.100.6:443 > 192.0.2.10:50000 SA", "drop - - default" },
		{ "tcp 198.51.100.8:80 > 192.0.2.10:50000 SA", "pass notarius-download reply service" },
		{ "tcp 198.51.100.8:443 > 192.0.2.10:50000 A", "pass notarius-download reply service" },
		{ "tcp 198.51.100.8:829 > 192.0.2.10:50000 A", "drop - - default" },
		{ "tcp 198.51.100.9:443 > 192.0.2.10:50000 A", "drop - - default" },
		{ "tcp [2001:db8::8]:443 > [2001:db8:1::10]:50000 SA", "pass notarius-download reply service" },
		{ "tcp [2001:db8::8]:80 > [2001:db8:1::10]:50000 A", "pass notarius-download reply service" },
		{ "tcp [2001:db8::8]:80 > [2001:db8:1::10]:50000 S", "drop - - default" },
		{ "tcp [2001:db8::9]:443 > [2001:db8:1::10]:50000 A", "drop - - default" },
		{ "tcp [2001:db8::7]:443 > [2001:db8:1::10]:50000 A", "drop - - default" },
		{ "udp [2001:db8::8]:443 > [2001:db8:1::10]:50000", "drop - - default" },
	};
	struct dp_fixture *fx = *state;

	DP_CHECK_ROWS(fx, rows);
	DP_DONE(fx);
}

/* Notarius may not open connections to the workstation. */
static void notarius_outside_syn_from_service_port_is_no_reply(void **state)
{
	static const struct dp_row rows[] = {
		{ "tcp 206.55.89.17:443 > 192.0.2.10:50000 S", "drop - - default" },
		{ "tcp 206.55.89.17:80 > 192.0.2.10:50000 S", "drop - - default" },
		{ "tcp 206.55.89.17:24260 > 192.0.2.10:50000 S", "drop - - default" },
		{ "tcp 206.55.89.17:443 > 192.0.2.10:50000 0", "drop - - default" },
		{ "tcp 206.55.89.17:443 > 192.0.2.10:50000 R", "drop - - default" },
		{ "tcp 206.55.89.17:443 > 192.0.2.10:50000 F", "drop - - default" },
		{ "tcp 206.55.89.17:443 > 192.0.2.10:50000 FSRPU", "drop - - default" },
		{ "tcp 206.55.89.17:443 > 192.0.2.10:50000 FSRPAUEC", "pass consigno-licensing reply service" },
	};
	struct dp_fixture *fx = *state;

	DP_CHECK_ROWS(fx, rows);
	DP_DONE(fx);
}

static void notarius_outside_icmp_and_non_ip(void **state)
{
	static const struct dp_row rows[] = {
		{ "icmp 206.55.89.17 > 192.0.2.10 type=3 code=4", "pass - - essential-icmp" },
		{ "icmp 198.51.100.1 > 192.0.2.10 type=11", "pass - - essential-icmp" },
		{ "icmp 206.55.89.17 > 192.0.2.10 type=8", "drop - - default" },
		{ "icmp 206.55.89.17 > 192.0.2.10 type=0", "drop - - default" },
		{ "icmp [2001:db8::8] > [2001:db8:1::10] type=2", "pass - - essential-icmp" },
		{ "icmp [2001:db8::8] > [2001:db8:1::10] type=129", "drop - - default" },
		{ "ether=0x0806 payload=28", "pass - - non-ip" },
	};
	struct dp_fixture *fx = *state;

	DP_CHECK_ROWS(fx, rows);
	DP_DONE(fx);
}

/* Fragments match: the first service for the protocol and peer. */
static void notarius_outside_fragments(void **state)
{
	static const struct dp_row rows[] = {
		{ "tcp 206.55.89.17:443 > 192.0.2.10:50000 A frag=0 mf", "pass consigno-licensing reply service" },
		{ "tcp 206.55.89.17:24260 > 192.0.2.10:50000 A frag=0 mf payload=100",
		  "pass certifio-manager-server reply service" },
		{ "tcp 206.55.89.17:24271 > 192.0.2.10:50000 A frag=0 mf", "drop - - default" },
		{ "tcp 206.55.89.17:24271 > 192.0.2.10:50000 A frag=185", "pass consigno-licensing fragment fragment" },
		{ "tcp 192.252.131.79:1 > 192.0.2.10:1 frag=2 mf payload=64",
		  "pass consigno-licensing fragment fragment" },
		{ "tcp 198.51.100.7:1 > 192.0.2.10:1 frag=185", "pass notarius-support fragment fragment" },
		{ "tcp 198.51.100.8:1 > 192.0.2.10:1 frag=185", "pass notarius-download fragment fragment" },
		{ "tcp [2001:db8::8]:1 > [2001:db8:1::10]:1 frag=185", "pass notarius-download fragment fragment" },
		{ "tcp 206.55.89.32:1 > 192.0.2.10:1 frag=185", "drop - - default" },
		{ "udp 206.55.89.17:1 > 192.0.2.10:1 frag=185", "drop - - default" },
		{ "icmp 206.55.89.17 > 192.0.2.10 type=3 frag=185", "drop - - default" },
	};
	struct dp_fixture *fx = *state;

	DP_CHECK_ROWS(fx, rows);
	DP_DONE(fx);
}

/* Inside: the workstation's requests, remote = destination, flags ignored. */
static void notarius_inside_requests_per_service(void **state)
{
	static const struct dp_row rows[] = {
		{ "tcp 192.0.2.10:50000 > 206.55.89.17:443 S", "pass consigno-licensing request service" },
		{ "tcp 192.0.2.10:50000 > 206.55.89.17:443 A", "pass consigno-licensing request service" },
		{ "tcp 192.0.2.10:50000 > 192.252.131.70:443 PA payload=300",
		  "pass consigno-licensing request service" },
		{ "tcp 192.0.2.10:50000 > 206.55.89.17:443 0", "pass consigno-licensing request service" },
		{ "tcp 192.0.2.10:50000 > 206.55.89.17:443 R", "pass consigno-licensing request service" },
		{ "tcp 192.0.2.10:50000 > 206.55.89.17:443 FA", "pass consigno-licensing request service" },
		{ "tcp 192.0.2.10:50001 > 206.55.89.17:829 S", "pass signature-generation request service" },
		{ "tcp 192.0.2.10:50002 > 192.252.131.70:80 S", "pass timestamp-authority request service" },
		{ "tcp 192.0.2.10:50003 > 206.55.89.17:389 S", "pass crl request service" },
		{ "tcp 192.0.2.10:50004 > 206.55.89.17:24250 S", "pass certifio-manager request service" },
		{ "tcp 192.0.2.10:50005 > 206.55.89.17:24251 S", "pass certifio-manager-server request service" },
		{ "tcp 192.0.2.10:50005 > 192.252.131.70:24270 A", "pass certifio-manager-server request service" },
		{ "tcp 192.0.2.10:50000 > 198.51.100.7:443 S", "pass notarius-support request service" },
		{ "tcp 192.0.2.10:50000 > 198.51.100.7:80 S", "drop - - default" },
		{ "tcp 192.0.2.10:50000 > 198.51.100.8:80 S", "pass notarius-download request service" },
		{ "tcp 192.0.2.10:50000 > 198.51.100.8:443 A", "pass notarius-download request service" },
		{ "tcp [2001:db8:1::10]:50000 > [2001:db8::8]:443 S", "pass notarius-download request service" },
		{ "tcp [2001:db8:1::10]:50000 > [2001:db8::8]:80 S", "pass notarius-download request service" },
		{ "tcp [2001:db8:1::10]:50000 > [2001:db8::9]:80 S", "drop - - default" },
	};
	struct dp_fixture *fx = *state;

	DP_CHECK_ROWS(fx, rows);
	DP_DONE(fx);
}

static void notarius_inside_edges(void **state)
{
	static const struct dp_row rows[] = {
		{ "tcp 192.0.2.10:50000 > 206.55.89.17:24249 S", "drop - - default" },
		{ "tcp 192.0.2.10:50000 > 206.55.89.17:24250 S", "pass certifio-manager request service" },
		{ "tcp 192.0.2.10:50000 > 206.55.89.17:24251 S", "pass certifio-manager-server request service" },
		{ "tcp 192.0.2.10:50000 > 206.55.89.17:24270 S", "pass certifio-manager-server request service" },
		{ "tcp 192.0.2.10:50000 > 206.55.89.17:24271 S", "drop - - default" },
		{ "tcp 192.0.2.10:50000 > 206.55.88.255:443 S", "drop - - default" },
		{ "tcp 192.0.2.10:50000 > 206.55.89.0:443 S", "pass consigno-licensing request service" },
		{ "tcp 192.0.2.10:50000 > 206.55.89.31:443 S", "pass consigno-licensing request service" },
		{ "tcp 192.0.2.10:50000 > 206.55.89.32:443 S", "drop - - default" },
		{ "tcp 192.0.2.10:50000 > 192.252.131.63:443 S", "drop - - default" },
		{ "tcp 192.0.2.10:50000 > 192.252.131.64:443 S", "pass consigno-licensing request service" },
		{ "tcp 192.0.2.10:50000 > 192.252.131.79:443 S", "pass consigno-licensing request service" },
		{ "tcp 192.0.2.10:50000 > 192.252.131.80:443 S", "drop - - default" },
		/* Replies do not arrive on the inside NIC: none admitted. */
		{ "tcp 192.0.2.10:443 > 206.55.89.17:50000 SA", "drop - - default" },
		{ "tcp 192.0.2.10:80 > 206.55.89.17:50000 A", "drop - - default" },
		/* The source is never examined. */
		{ "tcp 206.55.89.17:50000 > 203.0.113.5:443 S", "drop - - default" },
		{ "tcp 203.0.113.5:50000 > 206.55.89.17:443 S", "pass consigno-licensing request service" },
		{ "udp 192.0.2.10:50000 > 206.55.89.17:443", "drop - - default" },
		{ "icmp 192.0.2.10 > 206.55.89.17 type=8", "drop - - default" },
		{ "icmp 192.0.2.10 > 206.55.89.17 type=3", "pass - - essential-icmp" },
		{ "tcp 192.0.2.10:1 > 206.55.89.17:1 frag=185", "pass consigno-licensing fragment fragment" },
		{ "tcp 192.0.2.10:1 > 198.51.100.7:1 frag=185", "pass notarius-support fragment fragment" },
		{ "ether=0x88cc payload=40", "pass - - non-ip" },
	};
	struct dp_fixture *fx = *state;

	DP_CHECK_ROWS(fx, rows);
	DP_DONE(fx);
}

/* ========================================================== cryptshare */

/* The server is 192.0.2.10 (2001:db8:1::10). */
static void cryptshare_outside_requests(void **state)
{
	static const struct dp_row rows[] = {
		{ "tcp 203.0.113.9:51000 > 192.0.2.10:80 S", "pass ui-http request service" },
		{ "tcp 203.0.113.9:51000 > 192.0.2.10:80 A payload=400", "pass ui-http request service" },
		{ "tcp 203.0.113.9:51000 > 192.0.2.10:443 S", "pass ui-https request service" },
		{ "tcp 10.1.2.3:51000 > 192.0.2.10:443 PA", "pass ui-https request service" },
		{ "tcp [2001:db8:ffff::9]:51000 > [2001:db8:1::10]:443 S", "pass ui-https request service" },
		{ "tcp [2001:db8:ffff::9]:51000 > [2001:db8:1::10]:80 S", "pass ui-http request service" },
		{ "tcp 10.1.2.3:51000 > 192.0.2.10:8080 S", "pass admin-https request service" },
		{ "tcp 203.0.113.9:51000 > 192.0.2.10:8080 S", "drop - - default" },
		{ "tcp 172.16.0.1:51000 > 192.0.2.10:9090 S", "pass admin-http request service" },
		{ "tcp 203.0.113.9:51000 > 192.0.2.10:9090 S", "drop - - default" },
		{ "tcp 192.168.7.7:51000 > 192.0.2.10:22 S", "pass admin-ssh request service" },
		{ "tcp 203.0.113.9:51000 > 192.0.2.10:22 S", "drop - - default" },
		{ "tcp [fd00::5]:51000 > [2001:db8:1::10]:9090 S", "pass admin-http request service" },
		{ "tcp [fc00::1]:51000 > [2001:db8:1::10]:8080 A", "pass admin-https request service" },
		{ "tcp [fd00::5]:51000 > [2001:db8:1::10]:22 S", "pass admin-ssh request service" },
		{ "tcp [2001:db8:ffff::9]:51000 > [2001:db8:1::10]:22 S", "drop - - default" },
		{ "tcp 203.0.113.9:51000 > 192.0.2.10:81 S", "drop - - default" },
		{ "tcp 203.0.113.9:51000 > 192.0.2.10:444 S", "drop - - default" },
		{ "tcp 10.1.2.3:51000 > 192.0.2.10:8081 S", "drop - - default" },
		{ "tcp 10.1.2.3:51000 > 192.0.2.10:9089 S", "drop - - default" },
		{ "udp 203.0.113.9:51000 > 192.0.2.10:443", "drop - - default" },
		{ "udp 10.1.2.3:51000 > 192.0.2.10:22", "drop - - default" },
	};
	struct dp_fixture *fx = *state;

	DP_CHECK_ROWS(fx, rows);
	DP_DONE(fx);
}

/* intranet: 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, fc00::/7. */
static void cryptshare_outside_intranet_edges(void **state)
{
	static const struct dp_row rows[] = {
		{ "tcp 9.255.255.255:51000 > 192.0.2.10:22 S", "drop - - default" },
		{ "tcp 10.0.0.0:51000 > 192.0.2.10:22 S", "pass admin-ssh request service" },
		{ "tcp 10.255.255.255:51000 > 192.0.2.10:22 S", "pass admin-ssh request service" },
		{ "tcp 11.0.0.0:51000 > 192.0.2.10:22 S", "drop - - default" },
		{ "tcp 172.15.255.255:51000 > 192.0.2.10:22 S", "drop - - default" },
		{ "tcp 172.16.0.0:51000 > 192.0.2.10:22 S", "pass admin-ssh request service" },
		{ "tcp 172.31.255.255:51000 > 192.0.2.10:22 S", "pass admin-ssh request service" },
		{ "tcp 172.32.0.0:51000 > 192.0.2.10:22 S", "drop - - default" },
		{ "tcp 192.167.255.255:51000 > 192.0.2.10:22 S", "drop - - default" },
		{ "tcp 192.168.0.0:51000 > 192.0.2.10:22 S", "pass admin-ssh request service" },
		{ "tcp 192.168.255.255:51000 > 192.0.2.10:22 S", "pass admin-ssh request service" },
		{ "tcp 192.169.0.0:51000 > 192.0.2.10:22 S", "drop - - default" },
		{ "tcp [fbff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:51000 > [2001:db8:1::10]:22 S", "drop - - default" },
		{ "tcp [fc00::]:51000 > [2001:db8:1::10]:22 S", "pass admin-ssh request service" },
		{ "tcp [fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:51000 > [2001:db8:1::10]:22 S",
		  "pass admin-ssh request service" },
		{ "tcp [fe00::]:51000 > [2001:db8:1::10]:22 S", "drop - - default" },
		{ "tcp [fe80::1]:51000 > [2001:db8:1::10]:22 S", "drop - - default" },
		/* An IPv4-mapped intranet address is IPv6, not 10.0.0.0/8. */
		/* an IPv4-mapped source is malformed (RFC 4942 2.2) */
		{ "tcp [::ffff:10.1.2.3]:51000 > [2001:db8:1::10]:22 S", "drop - - malformed" },
	};
	struct dp_fixture *fx = *state;

	DP_CHECK_ROWS(fx, rows);
	DP_DONE(fx);
}

static void cryptshare_outside_replies(void **state)
{
	static const struct dp_row rows[] = {
		{ "tcp 203.0.113.50:80 > 192.0.2.10:40000 SA", "pass os-updates reply service" },
		{ "tcp [2001:db8:ffff::50]:80 > [2001:db8:1::10]:40000 A", "pass os-updates reply service" },
		{ "tcp 203.0.113.50:80 > 192.0.2.10:40000 S", "drop - - default" },
		{ "tcp 198.51.100.80:443 > 192.0.2.10:40001 SA", "pass cryptshare-updates reply service" },
		{ "tcp 198.51.100.81:443 > 192.0.2.10:40001 SA", "drop - - default" },
		{ "tcp 203.0.113.50:443 > 192.0.2.10:40001 A", "drop - - default" },
		{ "tcp 192.0.2.25:25 > 192.0.2.10:40002 SA", "pass smtp reply service" },
		{ "tcp 192.0.2.25:465 > 192.0.2.10:40002 A", "pass smtps reply service" },
		{ "tcp 192.0.2.25:587 > 192.0.2.10:40002 A", "pass submission reply service" },
		{ "tcp 192.0.2.26:25 > 192.0.2.10:40002 SA", "drop - - default" },
		{ "tcp 192.0.2.25:24 > 192.0.2.10:40002 SA", "drop - - default" },
		{ "tcp 192.0.2.89:389 > 192.0.2.10:40003 SA", "pass ldap reply service" },
		{ "tcp 192.0.2.89:686 > 192.0.2.10:40003 A", "pass ldaps reply service" },
		{ "tcp 192.0.2.89:636 > 192.0.2.10:40003 A", "drop - - default" },
		{ "tcp 192.0.2.68:3268 > 192.0.2.10:40004 SA", "pass ad-global-catalog reply service" },
		{ "tcp 192.0.2.89:3268 > 192.0.2.10:40004 SA", "drop - - default" },
		{ "tcp 192.0.2.22:22 > 192.0.2.10:40005 SA", "pass archive-ssh reply service" },
		{ "tcp 192.0.2.22:22 > 192.0.2.10:40005 S", "drop - - default" },
		{ "tcp 192.0.2.23:22 > 192.0.2.10:40005 SA", "drop - - default" },
		{ "udp 192.0.2.53:53 > 192.0.2.10:40006", "pass dns reply service" },
		{ "udp 192.0.2.53:53 > 192.0.2.10:40006 payload=512", "pass dns reply service" },
		{ "tcp 192.0.2.53:53 > 192.0.2.10:40006 SA", "pass dns reply service" },
		{ "tcp 192.0.2.53:53 > 192.0.2.10:40006 S", "drop - - default" },
		{ "udp [2001:db8::53]:53 > [2001:db8:1::10]:40006", "pass dns reply service" },
		{ "tcp [2001:db8::53]:53 > [2001:db8:1::10]:40006 A", "pass dns reply service" },
		{ "udp [2001:db8::54]:53 > [2001:db8:1::10]:40006", "drop - - default" },
		{ "udp 192.0.2.54:53 > 192.0.2.10:40006", "drop - - default" },
		{ "udp 192.0.2.53:54 > 192.0.2.10:40006", "drop - - default" },
		{ "sctp 192.0.2.53:53 > 192.0.2.10:40006", "drop - - default" },
		/* The client side of dns is not a service of this host. */
		{ "udp 192.0.2.53:40006 > 192.0.2.10:53", "drop - - default" },
	};
	struct dp_fixture *fx = *state;

	DP_CHECK_ROWS(fx, rows);
	DP_DONE(fx);
}

/* First match in file order when a packet fits a request and a reply row. */
static void cryptshare_outside_first_match(void **state)
{
	static const struct dp_row rows[] = {
		/* ui-http (0, request on 80) before os-updates (5, reply from 80). */
		{ "tcp 203.0.113.50:80 > 192.0.2.10:80 A", "pass ui-http request service" },
		/* ui-https (1) before dns (14). */
		{ "tcp 192.0.2.53:53 > 192.0.2.10:443 A", "pass ui-https request service" },
		/* admin-ssh needs the intranet; archive-ssh takes the reply. */
		{ "tcp 192.0.2.22:22 > 192.0.2.10:22 A", "pass archive-ssh reply service" },
		{ "tcp 10.1.2.3:22 > 192.0.2.10:22 A", "pass admin-ssh request service" },
		{ "udp 192.0.2.53:53 > 192.0.2.10:53", "pass dns reply service" },
		{ "icmp [fe80::1] > [2001:db8:1::10] type=135", "pass - - essential-icmp" },
		{ "icmp [fe80::1] > [2001:db8:1::10] type=128", "drop - - default" },
	};
	struct dp_fixture *fx = *state;

	DP_CHECK_ROWS(fx, rows);
	DP_DONE(fx);
}

static void cryptshare_outside_fragments(void **state)
{
	static const struct dp_row rows[] = {
		/* first fragments are TCP: pktbuild's UDP length would be the
		 * fragment's, which is malformed with MF (docs/policy.md step 2) */
		{ "tcp 192.0.2.53:53 > 192.0.2.10:40006 A frag=0 mf payload=1400", "pass dns reply service" },
		{ "udp 192.0.2.53:53 > 192.0.2.10:40006 frag=0 mf payload=1400", "drop - - malformed" },
		{ "udp 192.0.2.53:53 > 192.0.2.10:40006 frag=175 payload=100", "pass dns fragment fragment" },
		{ "udp 192.0.2.53:53 > 192.0.2.10:40006 frag=1 mf payload=8", "pass dns fragment fragment" },
		{ "tcp 203.0.113.9:51000 > 192.0.2.10:8080 S frag=0 mf", "drop - - default" },
		{ "tcp 203.0.113.9:51000 > 192.0.2.10:8080 S frag=100", "pass ui-http fragment fragment" },
		{ "tcp 10.1.2.3:1 > 192.0.2.10:1 frag=100", "pass ui-http fragment fragment" },
		{ "udp 203.0.113.9:1 > 192.0.2.10:1 frag=100", "drop - - default" },
		{ "sctp 192.0.2.53:1 > 192.0.2.10:1 frag=100", "drop - - default" },
		{ "tcp [fd00::5]:1 > [2001:db8:1::10]:1 frag=100", "pass ui-http fragment fragment" },
		{ "tcp [2001:db8::53]:53 > [2001:db8:1::10]:40006 A frag=0 mf payload=1400", "pass dns reply service" },
		{ "udp [2001:db8::53]:1 > [2001:db8:1::10]:1 frag=100", "pass dns fragment fragment" },
		{ "udp [2001:db8::54]:1 > [2001:db8:1::10]:1 frag=100", "drop - - default" },
	};
	struct dp_fixture *fx = *state;

	DP_CHECK_ROWS(fx, rows);
	DP_DONE(fx);
}

/* Inside: `in` services now admit the server's replies, `out` its requests. */
static void cryptshare_inside_replies(void **state)
{
	static const struct dp_row rows[] = {
		{ "tcp 192.0.2.10:80 > 203.0.113.9:51000 SA", "pass ui-http reply service" },
		{ "tcp 192.0.2.10:443 > 203.0.113.9:51000 A", "pass ui-https reply service" },
		{ "tcp [2001:db8:1::10]:443 > [2001:db8:ffff::9]:51000 A", "pass ui-https reply service" },
		{ "tcp 192.0.2.10:443 > 203.0.113.9:51000 S", "drop - - default" },
		{ "tcp 192.0.2.10:8080 > 10.1.2.3:51000 SA", "pass admin-https reply service" },
		{ "tcp 192.0.2.10:8080 > 203.0.113.9:51000 SA", "drop - - default" },
		{ "tcp [2001:db8:1::10]:9090 > [fd00::5]:51000 A", "pass admin-http reply service" },
		{ "tcp 192.0.2.10:9090 > 172.31.255.255:51000 A", "pass admin-http reply service" },
		{ "tcp 192.0.2.10:9090 > 172.32.0.0:51000 A", "drop - - default" },
		{ "tcp 192.0.2.10:22 > 192.168.7.7:51000 SA", "pass admin-ssh reply service" },
		{ "tcp 192.0.2.10:22 > 192.168.7.7:51000 S", "drop - - default" },
		{ "tcp [2001:db8:1::10]:22 > [fe00::]:51000 A", "drop - - default" },
		/* The request direction of an `in` service does not leave here. */
		{ "tcp 192.0.2.10:51000 > 203.0.113.9:443 S", "drop - - default" },
	};
	struct dp_fixture *fx = *state;

	DP_CHECK_ROWS(fx, rows);
	DP_DONE(fx);
}

static void cryptshare_inside_requests(void **state)
{
	static const struct dp_row rows[] = {
		{ "tcp 192.0.2.10:40000 > 203.0.113.50:80 S", "pass os-updates request service" },
		{ "tcp [2001:db8:1::10]:40000 > [2001:db8:ffff::50]:80 S", "pass os-updates request service" },
		{ "tcp 192.0.2.10:40001 > 198.51.100.80:443 S", "pass cryptshare-updates request service" },
		{ "tcp 192.0.2.10:40001 > 203.0.113.50:443 S", "drop - - default" },
		{ "tcp 192.0.2.10:40002 > 192.0.2.25:25 S", "pass smtp request service" },
		{ "tcp 192.0.2.10:40002 > 192.0.2.25:465 S", "pass smtps request service" },
		{ "tcp 192.0.2.10:40002 > 192.0.2.25:587 PA", "pass submission request service" },
		{ "tcp 192.0.2.10:40002 > 192.0.2.26:587 S", "drop - - default" },
		{ "tcp 192.0.2.10:40003 > 192.0.2.89:389 S", "pass ldap request service" },
		{ "tcp 192.0.2.10:40003 > 192.0.2.89:686 S", "pass ldaps request service" },
		{ "tcp 192.0.2.10:40003 > 192.0.2.89:636 S", "drop - - default" },
		{ "tcp 192.0.2.10:40004 > 192.0.2.68:3268 S", "pass ad-global-catalog request service" },
		{ "tcp 192.0.2.10:40005 > 192.0.2.22:22 S", "pass archive-ssh request service" },
		{ "tcp 192.0.2.10:40005 > 10.1.2.3:22 S", "drop - - default" },
		{ "udp 192.0.2.10:40006 > 192.0.2.53:53", "pass dns request service" },
		{ "tcp 192.0.2.10:40006 > 192.0.2.53:53 S", "pass dns request service" },
		{ "udp [2001:db8:1::10]:40006 > [2001:db8::53]:53", "pass dns request service" },
		{ "udp [2001:db8:1::10]:40006 > [2001:db8::54]:53", "drop - - default" },
		{ "udp 192.0.2.10:53 > 192.0.2.53:40006", "drop - - default" },
		/* First match: ui-http's reply (0) before os-updates' request (5). */
		{ "tcp 192.0.2.10:80 > 203.0.113.50:80 A", "pass ui-http reply service" },
		/* admin-ssh's reply needs the intranet; archive-ssh's request fits. */
		{ "tcp 192.0.2.10:22 > 192.0.2.22:22 A", "pass archive-ssh request service" },
		/* The source is never examined. */
		{ "tcp 203.0.113.9:40000 > 192.0.2.25:25 S", "pass smtp request service" },
		{ "udp 192.0.2.10:1 > 192.0.2.53:1 frag=100", "pass dns fragment fragment" },
		{ "icmp 192.0.2.10 > 203.0.113.9 type=11", "pass - - essential-icmp" },
	};
	struct dp_fixture *fx = *state;

	DP_CHECK_ROWS(fx, rows);
	DP_DONE(fx);
}

/* ==================================================== docs/policy.md */

/* The complete example of docs/policy.md; web1 is 192.0.2.200. */
static const char web1_policy[] =
	"default deny\n"
	"non-ip allow\n"
	"malformed deny\n"
	"essential-icmp allow\n"
	"fragments match\n"
	"replies tracked\n"
	"set admins { 192.0.2.0/28; 2001:db8:a::/48 }\n"
	"set resolvers { 198.51.100.53, 2001:db8:53::53 }\n"
	"set blocked { 203.0.113.0/24 }\n"
	"service blocklist { direction in; protocol any; peers @blocked; action deny }\n"
	"service ssh-admin { direction in; protocol tcp; ports 22; peers @admins; action allow }\n"
	"service web { direction in; protocol tcp; ports 80, 443; peers any; action allow }\n"
	"service dns { direction out; protocol udp, tcp; ports 53; peers @resolvers; action allow }\n"
	"service ping-admin { direction in; protocol icmp; types echo-request; peers @admins; "
	"action allow }\n"
	"service ping-out { direction out; protocol icmp; types echo-request; peers any; "
	"action allow }\n";

static const struct dp_config web1_outside = {
	.label = "web1 outside",
	.text = web1_policy,
	.facing = TG_FACING_OUTSIDE,
	.stateless = true, /* see the file comment */
};
static const struct dp_config web1_inside = {
	.label = "web1 inside",
	.text = web1_policy,
	.facing = TG_FACING_INSIDE,
	.stateless = true, /* see the file comment */
};

static void doc_worked_packets_outside(void **state)
{
	static const struct dp_row rows[] = {
		{ "tcp 192.0.2.5:50000 > 192.0.2.200:22 S", "pass ssh-admin request service" },
		{ "tcp 198.51.100.7:50000 > 192.0.2.200:22 S", "drop - - default" },
		{ "tcp 198.51.100.7:50000 > 192.0.2.200:443 S", "pass web request service" },
		{ "tcp 198.51.100.7:50000 > 192.0.2.200:443 A", "pass web request service" },
		{ "tcp 203.0.113.9:50000 > 192.0.2.200:443 S", "drop blocklist request service" },
		{ "proto=47 203.0.113.9 > 192.0.2.200", "drop blocklist request service" },
		{ "udp 198.51.100.53:53 > 192.0.2.200:40000", "pass dns reply service" },
		{ "tcp 198.51.100.53:53 > 192.0.2.200:40000 SA", "pass dns reply service" },
		{ "tcp 198.51.100.53:53 > 192.0.2.200:40000 S", "drop - - default" },
		{ "udp 198.51.100.7:53 > 192.0.2.200:40000", "drop - - default" },
		{ "icmp 192.0.2.5 > 192.0.2.200 type=8", "pass ping-admin request service" },
		{ "icmp 198.51.100.7 > 192.0.2.200 type=8", "drop - - default" },
		{ "icmp 198.51.100.7 > 192.0.2.200 type=0", "pass ping-out reply service" },
		{ "icmp [2001:db8:a::5] > [2001:db8:ffff::200] type=128", "drop - - default" },
		{ "icmp 203.0.113.9 > 192.0.2.200 type=3 code=4", "pass - - essential-icmp" },
		{ "icmp [fe80::1] > [2001:db8:ffff::200] type=135", "pass - - essential-icmp" },
		{ "udp 198.51.100.53:53 > 192.0.2.200:40000 frag=100", "pass dns fragment fragment" },
		{ "tcp 198.51.100.7:50000 > 192.0.2.200:443 frag=100", "pass web fragment fragment" },
		{ "udp 198.51.100.7:50000 > 192.0.2.200:443 frag=100", "drop - - default" },
		{ "ether=0x0806 payload=28", "pass - - non-ip" },
		{ "tcp 192.0.2.5:50000 > 192.0.2.200:22 S ihl=4", "drop - - malformed" },
		/* And the IPv6 side of the sets. */
		{ "tcp [2001:db8:a::5]:50000 > [2001:db8:ffff::200]:22 S", "pass ssh-admin request service" },
		{ "udp [2001:db8:53::53]:53 > [2001:db8:ffff::200]:40000", "pass dns reply service" },
		{ "udp [2001:db8:53::54]:53 > [2001:db8:ffff::200]:40000", "drop - - default" },
		{ "proto=47 [2001:db8::1] > [2001:db8:ffff::200]", "drop - - default" },
	};
	struct dp_fixture *fx = *state;

	DP_CHECK_ROWS(fx, rows);
	DP_DONE(fx);
}

static void doc_worked_packets_inside(void **state)
{
	static const struct dp_row rows[] = {
		{ "tcp 192.0.2.200:40000 > 198.51.100.53:53 S", "pass dns request service" },
		{ "udp 192.0.2.200:40000 > 198.51.100.53:53", "pass dns request service" },
		{ "udp 192.0.2.200:40000 > 198.51.100.7:53", "drop - - default" },
		{ "tcp 192.0.2.200:443 > 198.51.100.7:50000 SA", "pass web reply service" },
		{ "tcp 192.0.2.200:443 > 198.51.100.7:50000 S", "drop - - default" },
		{ "tcp 192.0.2.200:443 > 203.0.113.9:50000 SA", "drop blocklist reply service" },
		{ "udp 192.0.2.200:5000 > 203.0.113.9:5000", "drop blocklist reply service" },
		{ "tcp 192.0.2.200:22 > 192.0.2.5:50000 SA", "pass ssh-admin reply service" },
		{ "tcp 192.0.2.200:40000 > 198.51.100.7:80 S", "drop - - default" },
		{ "icmp 192.0.2.200 > 198.51.100.7 type=8", "pass ping-out request service" },
		{ "icmp 192.0.2.200 > 192.0.2.5 type=0", "pass ping-admin reply service" },
		{ "icmp 192.0.2.200 > 198.51.100.7 type=0", "drop - - default" },
		/* `any` on the reply side still needs ACK for TCP. */
		{ "tcp 192.0.2.200:40000 > 203.0.113.9:80 S", "drop - - default" },
		{ "proto=47 192.0.2.200 > 203.0.113.9", "drop blocklist reply service" },
	};
	struct dp_fixture *fx = *state;

	DP_CHECK_ROWS(fx, rows);
	DP_DONE(fx);
}

/* "First match, not best match" (docs/policy.md, Decision order). */
static const struct dp_config first_match_outside = {
	.label = "first match",
	.text = "default deny\n"
		"service wide   { direction in; protocol tcp; ports 22; peers 10.0.0.0/8; action deny }\n"
		"service narrow { direction in; protocol tcp; ports 22; peers 10.1.0.0/16, 192.0.2.0/24; action allow }\n",
	.facing = TG_FACING_OUTSIDE,
	.stateless = true, /* see the file comment */
};

static void doc_first_match_not_best_match(void **state)
{
	static const struct dp_row rows[] = {
		{ "tcp 10.1.2.3:50000 > 198.51.100.1:22 S", "drop wide request service" },
		{ "tcp 10.2.0.1:50000 > 198.51.100.1:22 S", "drop wide request service" },
		{ "tcp 192.0.2.9:50000 > 198.51.100.1:22 S", "pass narrow request service" },
		{ "tcp 11.1.2.3:50000 > 198.51.100.1:22 S", "drop - - default" },
	};
	struct dp_fixture *fx = *state;

	DP_CHECK_ROWS(fx, rows);
	DP_DONE(fx);
}

/* ============================================================= tracked */

/* The worked example's policy with flows (`replies tracked`, the default):
 * replies need the request first. */
static const struct dp_config web1_tracked_outside = {
	.label = "web1 tracked outside",
	.text = web1_policy,
	.facing = TG_FACING_OUTSIDE,
};
static const struct dp_config web1_tracked_inside = {
	.label = "web1 tracked inside",
	.text = web1_policy,
	.facing = TG_FACING_INSIDE,
};

static void tracked_outside_replies_need_requests(void **state)
{
	struct dp_fixture *fx = *state;

	/* spoofed replies: the right ports, no flow */
	dp_check(fx, "udp 198.51.100.53:53 > 192.0.2.200:40000", "drop - - no-flow");
	dp_check(fx, "tcp 198.51.100.53:53 > 192.0.2.200:40000 SA", "drop - - no-flow");
	dp_check(fx, "icmp 198.51.100.7 > 192.0.2.200 type=0", "drop - - no-flow");
	/* a reply without a flow is not a reply: web takes it as a request */
	dp_check(fx, "tcp 198.51.100.53:53 > 192.0.2.200:443 A", "pass web request service");
	/* the host's own requests leave through egress and open flows */
	dp_egress(fx, "udp 192.0.2.200:40000 > 198.51.100.53:53");
	dp_egress(fx, "tcp 192.0.2.200:40000 > 198.51.100.53:53 S");
	dp_egress(fx, "icmp 192.0.2.200 > 198.51.100.7 type=8");
	dp_check(fx, "udp 198.51.100.53:53 > 192.0.2.200:40000", "pass dns reply service");
	dp_check(fx, "tcp 198.51.100.53:53 > 192.0.2.200:40000 SA", "pass dns reply service");
	dp_check(fx, "icmp 198.51.100.7 > 192.0.2.200 type=0", "pass ping-out reply service");
	/* another local port, or another resolver: another flow */
	dp_check(fx, "udp 198.51.100.53:53 > 192.0.2.200:40001", "drop - - no-flow");
	dp_check(fx, "udp [2001:db8:53::53]:53 > [2001:db8:ffff::200]:40000", "drop - - no-flow");
	/* an answered UDP flow lives udp-stream-timeout (120 s) from its last packet */
	dp_advance(fx, 119);
	dp_check(fx, "udp 198.51.100.53:53 > 192.0.2.200:40000", "pass dns reply service");
	dp_advance(fx, 120);
	dp_check(fx, "udp 198.51.100.53:53 > 192.0.2.200:40000", "drop - - no-flow");
	/* the TCP flow is established (5 days): an RST closes it, 10 s later it is gone */
	dp_check(fx, "tcp 198.51.100.53:53 > 192.0.2.200:40000 RA", "pass dns reply service");
	dp_advance(fx, 9);
	dp_check(fx, "tcp 198.51.100.53:53 > 192.0.2.200:40000 A", "pass dns reply service");
	dp_advance(fx, 11);
	dp_check(fx, "tcp 198.51.100.53:53 > 192.0.2.200:40000 A", "drop - - no-flow");
	/* ICMP errors: related to nothing, they are decided like any packet */
	dp_check(fx, "icmp 203.0.113.9 > 192.0.2.200 type=3 code=4", "drop blocklist request service");
	dp_check(fx, "icmp [fe80::1] > [2001:db8:ffff::200] type=135", "pass - - essential-icmp");
	DP_DONE(fx);
}

/* On the LAN NIC, a local server's answer needs the flow its client opened
 * at the outside NIC: here the egress of this NIC sees that request (the
 * other facing's view). The LAN clients' requests arriving here open flows. */
static void tracked_inside_answers_need_clients(void **state)
{
	struct dp_fixture *fx = *state;

	dp_check(fx, "tcp 192.0.2.200:443 > 198.51.100.7:50000 SA", "drop - - no-flow");
	dp_egress(fx, "tcp 198.51.100.7:50000 > 192.0.2.200:443 S");
	dp_check(fx, "tcp 192.0.2.200:443 > 198.51.100.7:50000 SA", "pass web reply service");
	dp_check(fx, "tcp 192.0.2.200:443 > 198.51.100.7:50001 SA", "drop - - no-flow");
	/* requests arriving from the LAN open flows; their replies leave here */
	dp_check(fx, "udp 192.0.2.200:40000 > 198.51.100.53:53", "pass dns request service");
	dp_check(fx, "icmp 192.0.2.200 > 198.51.100.7 type=8", "pass ping-out request service");
	DP_DONE(fx);
}

/* ================================================================ main */

#define SETUP(name)                                   \
	static int name##_setup(void **state)         \
	{                                             \
		return dp_setup_config(state, &name); \
	}
SETUP(notarius_outside)
SETUP(notarius_inside)
SETUP(cryptshare_outside)
SETUP(cryptshare_inside)
SETUP(web1_outside)
SETUP(web1_inside)
SETUP(web1_tracked_outside)
SETUP(web1_tracked_inside)

int main(void)
{
	const struct CMUnitTest notarius_out[] = {
		cmocka_unit_test(notarius_outside_replies_per_service),
		cmocka_unit_test(notarius_outside_port_edges),
		cmocka_unit_test(notarius_outside_peer_edges),
		cmocka_unit_test(notarius_outside_host_names),
		cmocka_unit_test(notarius_outside_syn_from_service_port_is_no_reply),
		cmocka_unit_test(notarius_outside_icmp_and_non_ip),
		cmocka_unit_test(notarius_outside_fragments),
	};
	const struct CMUnitTest notarius_in[] = {
		cmocka_unit_test(notarius_inside_requests_per_service),
		cmocka_unit_test(notarius_inside_edges),
	};
	const struct CMUnitTest cryptshare_out[] = {
		cmocka_unit_test(cryptshare_outside_requests),	cmocka_unit_test(cryptshare_outside_intranet_edges),
		cmocka_unit_test(cryptshare_outside_replies),	cmocka_unit_test(cryptshare_outside_first_match),
		cmocka_unit_test(cryptshare_outside_fragments),
	};
	const struct CMUnitTest cryptshare_in[] = {
		cmocka_unit_test(cryptshare_inside_replies),
		cmocka_unit_test(cryptshare_inside_requests),
	};
	const struct CMUnitTest doc_out[] = { cmocka_unit_test(doc_worked_packets_outside) };
	const struct CMUnitTest doc_in[] = { cmocka_unit_test(doc_worked_packets_inside) };
	const struct CMUnitTest doc_first[] = {
		cmocka_unit_test_prestate_setup_teardown(doc_first_match_not_best_match, dp_setup_prestate, dp_teardown,
							 (void *)&first_match_outside),
	};
	const struct CMUnitTest tracked_out[] = { cmocka_unit_test(tracked_outside_replies_need_requests) };
	const struct CMUnitTest tracked_in[] = { cmocka_unit_test(tracked_inside_answers_need_clients) };
	int failed = 0;

	failed += cmocka_run_group_tests_name("notarius outside", notarius_out, notarius_outside_setup, dp_teardown);
	failed += cmocka_run_group_tests_name("notarius inside", notarius_in, notarius_inside_setup, dp_teardown);
	failed += cmocka_run_group_tests_name("cryptshare outside", cryptshare_out, cryptshare_outside_setup,
					      dp_teardown);
	failed += cmocka_run_group_tests_name("cryptshare inside", cryptshare_in, cryptshare_inside_setup, dp_teardown);
	failed += cmocka_run_group_tests_name("docs outside", doc_out, web1_outside_setup, dp_teardown);
	failed += cmocka_run_group_tests_name("docs inside", doc_in, web1_inside_setup, dp_teardown);
	failed += cmocka_run_group_tests_name("docs first match", doc_first, NULL, NULL);
	failed += cmocka_run_group_tests_name("tracked outside", tracked_out, web1_tracked_outside_setup, dp_teardown);
	failed += cmocka_run_group_tests_name("tracked inside", tracked_in, web1_tracked_inside_setup, dp_teardown);
	return failed ? 1 : 0;
}
