// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The reference model (user/model/classify.c, packet.c), the oracle the
 * data plane is compared with, checked against docs/policy.md itself: the
 * role table of "Requests and replies", the decision order, and the worked
 * packets of "Complete example and worked packets", row by row. Expected
 * values are read from the documentation, never from user/compile/.
 */
#include "helpers.h"
#include "compile/analyse.h"
#include "lib/util.h"
#include "model/classify.h"
#include "model/packet.h"
#include "tollgate.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define SYN 0x02
#define ACK TG_TCP_ACK
#define SYNACK (SYN | ACK)

/* An expected decision; service by name (NULL: none). */
struct want {
	const char *service;
	int verdict, reason, role;
};

static void expect_decision(const struct loaded *l, const struct tg_hostmap *hosts, int facing,
			    const struct tg_pkt *pkt, struct want w, const char *what)
{
	struct tg_decision d;
	int s = w.service ? service_index(&l->pol, w.service) : -1;

	if (w.service && s < 0)
		fail_msg("%s: no service '%s' in the policy", what, w.service);
	memset(&d, 0x5a, sizeof(d));
	tg_reference_classify(&l->pol, hosts, facing, pkt, &d);
	if (d.service != s || d.verdict != w.verdict || d.reason != w.reason || d.role != w.role)
		fail_msg("%s (facing %s): got service %d verdict %d reason %s role %s; want service %d (%s) verdict %d "
			 "reason %s role %s",
			 what, facing == TG_FACING_OUTSIDE ? "outside" : "inside", d.service, d.verdict,
			 tg_reason_name(d.reason), tg_role_name(d.role), s, w.service ? w.service : "-", w.verdict,
			 tg_reason_name(w.reason), tg_role_name(w.role));
}

static struct want by_service(const char *name, int verdict, int role)
{
	return (struct want){ name, verdict, TG_REASON_SERVICE, role };
}

static struct want by_setting(int verdict, int reason)
{
	return (struct want){ NULL, verdict, reason, -1 };
}

static struct tg_pkt icmp_packet(const char *src, const char *dst, uint8_t type)
{
	struct tg_pkt p = ip_packet(src, dst, strchr(src, ':') ? 58 : 1, 0, 0, 0);

	p.icmp_type = type;
	return p;
}

static struct tg_pkt fragment(const char *src, const char *dst, uint8_t protocol)
{
	struct tg_pkt p = ip_packet(src, dst, protocol, 0, 0, 0);

	p.nonfirst_fragment = true;
	return p;
}

static struct tg_pkt of_kind(enum tg_pkt_kind kind)
{
	struct tg_pkt p = { .kind = kind };

	return p;
}

static void load_ok(struct loaded *l, const char *text)
{
	int rc = load_text(l, text);

	if (rc)
		fail_msg("policy did not parse (%d):\n%s", rc, text);
}

/* --------------------------------------------------- the worked example */

/* docs/policy.md, "Complete example and worked packets", verbatim. */
static const char web1_policy[] =
	"default deny\n"
	"non-ip allow\n"
	"malformed deny\n"
	"essential-icmp allow\n"
	"fragments match\n"
	"replies tracked\n"
	"set admins {\n"
	"    192.0.2.0/28\n"
	"    2001:db8:a::/48\n"
	"}\n"
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

#define WEB1 "10.0.0.1"
#define WEB1_V6 "2001:db8:ffff::1"

struct row {
	const char *what;
	struct tg_pkt pkt;
	struct want want;
};

static void web1_outside_matches_the_documented_table(void **state)
{
	struct loaded l;
	const struct row rows[] = {
		{ "TCP SYN admin -> 22", ip_packet("192.0.2.5", WEB1, 6, 50000, 22, SYN),
		  by_service("ssh-admin", TG_PASS, TG_ROLE_REQUEST) },
		{ "TCP SYN internet -> 22", ip_packet("198.51.100.7", WEB1, 6, 50000, 22, SYN),
		  by_setting(TG_DROP, TG_REASON_DEFAULT) },
		{ "TCP SYN internet -> 443", ip_packet("198.51.100.7", WEB1, 6, 50000, 443, SYN),
		  by_service("web", TG_PASS, TG_ROLE_REQUEST) },
		{ "TCP ACK internet -> 443", ip_packet("198.51.100.7", WEB1, 6, 50000, 443, ACK),
		  by_service("web", TG_PASS, TG_ROLE_REQUEST) },
		{ "TCP SYN blocked -> 443", ip_packet("203.0.113.9", WEB1, 6, 50000, 443, SYN),
		  by_service("blocklist", TG_DROP, TG_ROLE_REQUEST) },
		{ "GRE blocked", ip_packet("203.0.113.9", WEB1, 47, 0, 0, 0),
		  by_service("blocklist", TG_DROP, TG_ROLE_REQUEST) },
		{ "UDP resolver:53 ->", ip_packet("198.51.100.53", WEB1, 17, 53, 40000, 0),
		  by_service("dns", TG_PASS, TG_ROLE_REPLY) },
		{ "TCP SYN+ACK resolver:53 ->", ip_packet("198.51.100.53", WEB1, 6, 53, 40000, SYNACK),
		  by_service("dns", TG_PASS, TG_ROLE_REPLY) },
		{ "TCP SYN resolver:53 ->", ip_packet("198.51.100.53", WEB1, 6, 53, 40000, SYN),
		  by_setting(TG_DROP, TG_REASON_DEFAULT) },
		{ "UDP non-resolver:53 ->", ip_packet("198.51.100.7", WEB1, 17, 53, 40000, 0),
		  by_setting(TG_DROP, TG_REASON_DEFAULT) },
		{ "echo-request admin", icmp_packet("192.0.2.5", WEB1, 8),
		  by_service("ping-admin", TG_PASS, TG_ROLE_REQUEST) },
		{ "echo-request internet", icmp_packet("198.51.100.7", WEB1, 8),
		  by_setting(TG_DROP, TG_REASON_DEFAULT) },
		{ "echo-reply internet", icmp_packet("198.51.100.7", WEB1, 0),
		  by_service("ping-out", TG_PASS, TG_ROLE_REPLY) },
		{ "ICMPv6 echo-request admin", icmp_packet("2001:db8:a::5", WEB1_V6, 128),
		  by_setting(TG_DROP, TG_REASON_DEFAULT) },
		{ "fragmentation-needed blocked", icmp_packet("203.0.113.9", WEB1, 3),
		  by_setting(TG_PASS, TG_REASON_ESSENTIAL_ICMP) },
		{ "neighbour-solicitation", icmp_packet("fe80::1", WEB1_V6, 135),
		  by_setting(TG_PASS, TG_REASON_ESSENTIAL_ICMP) },
		{ "UDP fragment resolver",
		  fragment("198.51.100.53", WEB1, 17),
		  { "dns", TG_PASS, TG_REASON_FRAGMENT, TG_ROLE_FRAGMENT } },
		{ "TCP fragment internet",
		  fragment("198.51.100.7", WEB1, 6),
		  { "web", TG_PASS, TG_REASON_FRAGMENT, TG_ROLE_FRAGMENT } },
		{ "UDP fragment internet", fragment("198.51.100.7", WEB1, 17), by_setting(TG_DROP, TG_REASON_DEFAULT) },
		{ "ARP", of_kind(TG_PKT_NON_IP), by_setting(TG_PASS, TG_REASON_NON_IP) },
		{ "IHL 4", of_kind(TG_PKT_MALFORMED), by_setting(TG_DROP, TG_REASON_MALFORMED) },
	};

	(void)state;
	load_ok(&l, web1_policy);
	for (size_t i = 0; i < ARRAY_SIZE(rows); i++)
		expect_decision(&l, NULL, TG_FACING_OUTSIDE, &rows[i].pkt, rows[i].want, rows[i].what);
	unload(&l);
}

static void web1_inside_matches_the_documented_table(void **state)
{
	struct loaded l;
	const struct row rows[] = {
		{ "TCP SYN -> resolver:53", ip_packet(WEB1, "198.51.100.53", 6, 40000, 53, SYN),
		  by_service("dns", TG_PASS, TG_ROLE_REQUEST) },
		{ "UDP -> resolver:53", ip_packet(WEB1, "198.51.100.53", 17, 40000, 53, 0),
		  by_service("dns", TG_PASS, TG_ROLE_REQUEST) },
		{ "UDP -> non-resolver:53", ip_packet(WEB1, "198.51.100.7", 17, 40000, 53, 0),
		  by_setting(TG_DROP, TG_REASON_DEFAULT) },
		{ "TCP SYN+ACK 443 ->", ip_packet(WEB1, "198.51.100.7", 6, 443, 50000, SYNACK),
		  by_service("web", TG_PASS, TG_ROLE_REPLY) },
		{ "TCP SYN 443 ->", ip_packet(WEB1, "198.51.100.7", 6, 443, 50000, SYN),
		  by_setting(TG_DROP, TG_REASON_DEFAULT) },
		{ "TCP SYN+ACK 443 -> blocked", ip_packet(WEB1, "203.0.113.9", 6, 443, 50000, SYNACK),
		  by_service("blocklist", TG_DROP, TG_ROLE_REPLY) },
		{ "UDP 5000 -> blocked", ip_packet(WEB1, "203.0.113.9", 17, 5000, 5000, 0),
		  by_service("blocklist", TG_DROP, TG_ROLE_REPLY) },
		{ "TCP SYN+ACK 22 -> admin", ip_packet(WEB1, "192.0.2.5", 6, 22, 50000, SYNACK),
		  by_service("ssh-admin", TG_PASS, TG_ROLE_REPLY) },
		{ "TCP SYN -> internet:80", ip_packet(WEB1, "198.51.100.7", 6, 40000, 80, SYN),
		  by_setting(TG_DROP, TG_REASON_DEFAULT) },
		{ "echo-request -> internet", icmp_packet(WEB1, "198.51.100.7", 8),
		  by_service("ping-out", TG_PASS, TG_ROLE_REQUEST) },
		{ "echo-reply -> admin", icmp_packet(WEB1, "192.0.2.5", 0),
		  by_service("ping-admin", TG_PASS, TG_ROLE_REPLY) },
		{ "echo-reply -> internet", icmp_packet(WEB1, "198.51.100.7", 0),
		  by_setting(TG_DROP, TG_REASON_DEFAULT) },
	};

	(void)state;
	load_ok(&l, web1_policy);
	for (size_t i = 0; i < ARRAY_SIZE(rows); i++)
		expect_decision(&l, NULL, TG_FACING_INSIDE, &rows[i].pkt, rows[i].want, rows[i].what);
	unload(&l);
}

/* ------------------------------------------------------------ role table */

/*
 * "Requests and replies": outside+in and inside+out admit requests (the
 * destination port is in `ports`), outside+out and inside+in admit replies
 * (the source port is). The remote is the source outside, the destination
 * inside. UDP, so that no flag test gets in the way.
 */
static void roles_follow_direction_and_facing(void **state)
{
	static const struct {
		const char *dir;
		int facing, role;
	} table[] = {
		{ "in", TG_FACING_OUTSIDE, TG_ROLE_REQUEST },
		{ "out", TG_FACING_OUTSIDE, TG_ROLE_REPLY },
		{ "in", TG_FACING_INSIDE, TG_ROLE_REPLY },
		{ "out", TG_FACING_INSIDE, TG_ROLE_REQUEST },
	};
	const char *const peer = "192.0.2.9", *const local = "10.0.0.1";

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(table); i++) {
		char text[256];
		struct loaded l;
		bool outside = table[i].facing == TG_FACING_OUTSIDE;
		const char *src = outside ? peer : local, *dst = outside ? local : peer;
		bool request = table[i].role == TG_ROLE_REQUEST;
		/* The port on the responder's side is 700, the other one 40000. */
		struct tg_pkt right = ip_packet(src, dst, 17, request ? 40000 : 700, request ? 700 : 40000, 0);
		struct tg_pkt wrong = ip_packet(src, dst, 17, request ? 700 : 40000, request ? 40000 : 700, 0);
		/* The same packet with local and remote swapped: not from a peer. */
		struct tg_pkt reversed = ip_packet(dst, src, 17, right.sport, right.dport, 0);

		snprintf(text, sizeof(text),
			 "default deny\nservice s { direction %s; protocol udp; ports 700; peers 192.0.2.0/24; "
			 "action allow }\n",
			 table[i].dir);
		load_ok(&l, text);
		expect_decision(&l, NULL, table[i].facing, &right, by_service("s", TG_PASS, table[i].role),
				table[i].dir);
		expect_decision(&l, NULL, table[i].facing, &wrong, by_setting(TG_DROP, TG_REASON_DEFAULT),
				table[i].dir);
		expect_decision(&l, NULL, table[i].facing, &reversed, by_setting(TG_DROP, TG_REASON_DEFAULT),
				table[i].dir);
		unload(&l);
	}
}

/* TCP replies need ACK; requests take any flags. */
static void tcp_replies_need_ack_requests_do_not(void **state)
{
	struct loaded l;

	(void)state;
	load_ok(&l, "default deny\n"
		    "service srv { direction in; protocol tcp; ports 22; peers any; action allow }\n"
		    "service cli { direction out; protocol tcp; ports 443; peers any; action allow }\n");
	for (unsigned flags = 0; flags < 0x40; flags++) {
		struct tg_pkt req = ip_packet("192.0.2.1", "10.0.0.1", 6, 50000, 22, (uint8_t)flags);
		struct tg_pkt rep = ip_packet("192.0.2.1", "10.0.0.1", 6, 443, 50000, (uint8_t)flags);

		expect_decision(&l, NULL, TG_FACING_OUTSIDE, &req, by_service("srv", TG_PASS, TG_ROLE_REQUEST),
				"request");
		expect_decision(&l, NULL, TG_FACING_OUTSIDE, &rep,
				flags & ACK ? by_service("cli", TG_PASS, TG_ROLE_REPLY) :
					      by_setting(TG_DROP, TG_REASON_DEFAULT),
				"reply");
	}
	unload(&l);
}

/* Other protocols match in either role; `any` still needs ACK on the reply
 * side for TCP, and takes every port. */
static void other_protocols_and_any(void **state)
{
	struct loaded l;
	struct tg_pkt gre_in = ip_packet("192.0.2.1", "10.0.0.1", 47, 0, 0, 0);
	struct tg_pkt gre_out = ip_packet("10.0.0.1", "192.0.2.1", 47, 0, 0, 0);
	struct tg_pkt esp = ip_packet("198.51.100.1", "10.0.0.1", 50, 0, 0, 0);
	struct tg_pkt syn = ip_packet("198.51.100.1", "10.0.0.1", 6, 1, 2, SYN);
	struct tg_pkt ack = ip_packet("198.51.100.1", "10.0.0.1", 6, 1, 2, ACK);
	struct tg_pkt udp = ip_packet("198.51.100.1", "10.0.0.1", 17, 9, 65535, 0);

	(void)state;
	load_ok(&l, "default deny\n"
		    "service gre { direction out; protocol 47; peers 192.0.2.0/24; action allow }\n"
		    "service all { direction out; protocol any; peers 198.51.100.0/24; action deny }\n");
	expect_decision(&l, NULL, TG_FACING_OUTSIDE, &gre_in, by_service("gre", TG_PASS, TG_ROLE_REPLY), "gre outside");
	expect_decision(&l, NULL, TG_FACING_INSIDE, &gre_out, by_service("gre", TG_PASS, TG_ROLE_REQUEST),
			"gre inside");
	expect_decision(&l, NULL, TG_FACING_OUTSIDE, &esp, by_service("all", TG_DROP, TG_ROLE_REPLY), "esp");
	expect_decision(&l, NULL, TG_FACING_OUTSIDE, &syn, by_setting(TG_DROP, TG_REASON_DEFAULT), "any syn");
	expect_decision(&l, NULL, TG_FACING_OUTSIDE, &ack, by_service("all", TG_DROP, TG_ROLE_REPLY), "any ack");
	expect_decision(&l, NULL, TG_FACING_OUTSIDE, &udp, by_service("all", TG_DROP, TG_ROLE_REPLY), "any udp");
	unload(&l);
}

/* `icmp` is IPv4 only, `icmpv6` IPv6 only; protocol 1 inside IPv6 is just a number. */
static void icmp_families_do_not_mix(void **state)
{
	struct loaded l;
	struct tg_pkt v4 = icmp_packet("192.0.2.1", "10.0.0.1", 8);
	struct tg_pkt v6 = icmp_packet("2001:db8::1", "2001:db8::2", 128);
	struct tg_pkt one_in_v6 = ip_packet("2001:db8::1", "2001:db8::2", 1, 0, 0, 0);

	(void)state;
	load_ok(&l, "default allow\n"
		    "service p4 { direction in; protocol icmp; peers any; action deny }\n"
		    "service p6 { direction in; protocol icmpv6; peers any; action deny }\n");
	expect_decision(&l, NULL, TG_FACING_OUTSIDE, &v4, by_service("p4", TG_DROP, TG_ROLE_REQUEST), "icmp");
	expect_decision(&l, NULL, TG_FACING_OUTSIDE, &v6, by_service("p6", TG_DROP, TG_ROLE_REQUEST), "icmpv6");
	expect_decision(&l, NULL, TG_FACING_OUTSIDE, &one_in_v6, by_setting(TG_PASS, TG_REASON_DEFAULT),
			"icmp in ipv6");
	unload(&l);
}

/* `types 0-255` on the reply side matches only reply types (0, 14, 16,
 * 18); no `types` matches every type on both sides. */
static void icmp_reply_side_matches_reply_types_only(void **state)
{
	struct loaded l;

	(void)state;
	load_ok(&l, "default deny\nessential-icmp filter\n"
		    "service listed { direction out; protocol icmp; types 0-255; peers 192.0.2.0/24; action allow }\n"
		    "service all { direction out; protocol icmp; peers 198.51.100.0/24; action allow }\n");
	for (unsigned t = 0; t < 256; t++) {
		struct tg_pkt a = icmp_packet("192.0.2.1", "10.0.0.1", (uint8_t)t);
		struct tg_pkt b = icmp_packet("198.51.100.1", "10.0.0.1", (uint8_t)t);
		bool reply = t == 0 || t == 14 || t == 16 || t == 18;

		expect_decision(&l, NULL, TG_FACING_OUTSIDE, &a,
				reply ? by_service("listed", TG_PASS, TG_ROLE_REPLY) :
					by_setting(TG_DROP, TG_REASON_DEFAULT),
				"types 0-255");
		expect_decision(&l, NULL, TG_FACING_OUTSIDE, &b, by_service("all", TG_PASS, TG_ROLE_REPLY), "no types");
	}
	unload(&l);
}

/* ------------------------------------------------------ decision order */

static void essential_icmp_filter_hands_errors_to_services(void **state)
{
	struct loaded l;
	struct tg_pkt unreach = icmp_packet("203.0.113.9", "10.0.0.1", 3);
	struct tg_pkt ptb = icmp_packet("2001:db8::9", "2001:db8::1", 2);

	(void)state;
	load_ok(&l, "default allow\nessential-icmp filter\n"
		    "service block { direction in; protocol any; peers 203.0.113.0/24, 2001:db8::/32; action deny }\n");
	expect_decision(&l, NULL, TG_FACING_OUTSIDE, &unreach, by_service("block", TG_DROP, TG_ROLE_REQUEST), "v4");
	expect_decision(&l, NULL, TG_FACING_OUTSIDE, &ptb, by_service("block", TG_DROP, TG_ROLE_REQUEST), "v6");
	unload(&l);
	/* The same under the default `essential-icmp allow`: before the deny row. */
	load_ok(&l, "default allow\n"
		    "service block { direction in; protocol any; peers 203.0.113.0/24, 2001:db8::/32; action deny }\n");
	expect_decision(&l, NULL, TG_FACING_OUTSIDE, &unreach, by_setting(TG_PASS, TG_REASON_ESSENTIAL_ICMP), "v4");
	expect_decision(&l, NULL, TG_FACING_OUTSIDE, &ptb, by_setting(TG_PASS, TG_REASON_ESSENTIAL_ICMP), "v6");
	unload(&l);
}

static void settings_decide_what_no_service_does(void **state)
{
	struct loaded l;
	struct tg_pkt non_ip = of_kind(TG_PKT_NON_IP), bad = of_kind(TG_PKT_MALFORMED);
	struct tg_pkt frag = fragment("192.0.2.1", "10.0.0.1", 6);
	struct tg_pkt tcp = ip_packet("198.51.100.1", "10.0.0.1", 6, 1, 2, SYN);

	(void)state;
	load_ok(&l, "default allow\nnon-ip deny\nmalformed allow\nfragments deny\n"
		    "service s { direction in; protocol any; peers any; action allow }\n");
	expect_decision(&l, NULL, TG_FACING_OUTSIDE, &non_ip, by_setting(TG_DROP, TG_REASON_NON_IP), "non-ip deny");
	expect_decision(&l, NULL, TG_FACING_INSIDE, &bad, by_setting(TG_PASS, TG_REASON_MALFORMED), "malformed allow");
	expect_decision(&l, NULL, TG_FACING_OUTSIDE, &frag, by_setting(TG_DROP, TG_REASON_FRAGMENT), "fragments deny");
	unload(&l);
	load_ok(&l, "default deny\nfragments allow\n");
	expect_decision(&l, NULL, TG_FACING_OUTSIDE, &frag, by_setting(TG_PASS, TG_REASON_FRAGMENT), "fragments allow");
	expect_decision(&l, NULL, TG_FACING_OUTSIDE, &tcp, by_setting(TG_DROP, TG_REASON_DEFAULT), "default deny");
	unload(&l);
}

/* "First match, not best match", the documentation's own example. */
static void first_service_wins_not_the_longest_prefix(void **state)
{
	struct loaded l;
	struct tg_pkt from_narrow = ip_packet("10.1.2.3", "172.16.0.1", 6, 50000, 22, SYN);
	struct tg_pkt from_other = ip_packet("192.0.2.3", "172.16.0.1", 6, 50000, 22, SYN);

	(void)state;
	load_ok(&l, "default deny\n"
		    "service wide   { direction in; protocol tcp; ports 22; peers 10.0.0.0/8; action deny }\n"
		    "service narrow { direction in; protocol tcp; ports 22; peers 10.1.0.0/16, 192.0.2.0/24; "
		    "action allow }\n");
	expect_decision(&l, NULL, TG_FACING_OUTSIDE, &from_narrow, by_service("wide", TG_DROP, TG_ROLE_REQUEST),
			"10.1.2.3");
	expect_decision(&l, NULL, TG_FACING_OUTSIDE, &from_other, by_service("narrow", TG_PASS, TG_ROLE_REQUEST),
			"192.0.2.3");
	unload(&l);
}

/* Fragments under `match`: the first service whose protocol and peers
 * match, ports ignored, whichever direction it has. */
static void fragments_go_to_the_first_service_for_the_protocol_and_peer(void **state)
{
	struct loaded l;
	struct tg_pkt tcp = fragment("192.0.2.1", "10.0.0.1", 6);
	struct tg_pkt inside = fragment("10.0.0.1", "192.0.2.1", 6);
	struct tg_pkt udp = fragment("192.0.2.1", "10.0.0.1", 17);

	(void)state;
	load_ok(&l, "default allow\n"
		    "service deny25 { direction out; protocol tcp; ports 25; peers 192.0.2.0/24; action deny }\n"
		    "service ssh { direction in; protocol tcp; ports 22; peers 192.0.2.0/24; action allow }\n");
	expect_decision(&l, NULL, TG_FACING_OUTSIDE, &tcp,
			(struct want){ "deny25", TG_DROP, TG_REASON_FRAGMENT, TG_ROLE_FRAGMENT }, "tcp fragment");
	expect_decision(&l, NULL, TG_FACING_INSIDE, &inside,
			(struct want){ "deny25", TG_DROP, TG_REASON_FRAGMENT, TG_ROLE_FRAGMENT },
			"tcp fragment inside");
	expect_decision(&l, NULL, TG_FACING_OUTSIDE, &udp, by_setting(TG_PASS, TG_REASON_DEFAULT), "udp fragment");
	unload(&l);
}

/* ---------------------------------------------------------------- peers */

static void nested_sets_and_host_names(void **state)
{
	struct loaded l;
	struct tg_hostmap hosts = { 0 };
	struct tg_pkt deep = ip_packet("198.51.100.77", "10.0.0.1", 17, 1, 53, 0);
	struct tg_pkt vpn4 = ip_packet("203.0.113.5", "10.0.0.1", 17, 1, 53, 0);
	struct tg_pkt vpn6 = ip_packet("2001:db8::5", "2001:db8:1::1", 17, 1, 53, 0);
	struct tg_pkt near = ip_packet("203.0.113.6", "10.0.0.1", 17, 1, 53, 0);

	(void)state;
	load_ok(&l, "default deny\n"
		    "set outer { @inner }\n"
		    "set inner { 198.51.100.64/26 }\n"
		    "service s { direction in; protocol udp; ports 53; peers @outer; action allow }\n"
		    "service h { direction in; protocol udp; ports 53; peers VPN.example.com; action allow }\n");
	expect_decision(&l, NULL, TG_FACING_OUTSIDE, &deep, by_service("s", TG_PASS, TG_ROLE_REQUEST), "nested set");
	/* A host name without an address matches nothing. */
	expect_decision(&l, NULL, TG_FACING_OUTSIDE, &vpn4, by_setting(TG_DROP, TG_REASON_DEFAULT), "no --host");
	assert_int_equal(tg_hostmap_add_spec(&hosts, "vpn.example.com=203.0.113.5,2001:db8::5"), 0);
	expect_decision(&l, &hosts, TG_FACING_OUTSIDE, &vpn4, by_service("h", TG_PASS, TG_ROLE_REQUEST), "host v4");
	expect_decision(&l, &hosts, TG_FACING_OUTSIDE, &vpn6, by_service("h", TG_PASS, TG_ROLE_REQUEST), "host v6");
	/* Exact addresses only: a host is a /32. */
	expect_decision(&l, &hosts, TG_FACING_OUTSIDE, &near, by_setting(TG_DROP, TG_REASON_DEFAULT), "neighbour");
	tg_hostmap_free(&hosts);
	unload(&l);
}

static void prefix_edges_are_exact(void **state)
{
	struct loaded l;
	static const struct {
		const char *src;
		bool in;
	} cases[] = {
		{ "192.0.2.16", true },	    { "192.0.2.23", true },	{ "192.0.2.15", false },
		{ "192.0.2.24", false },    { "2001:db8:a::", true },	{ "2001:db8:a:ffff::1", true },
		{ "2001:db8:b::1", false }, { "2001:db9:a::1", false },
	};

	(void)state;
	load_ok(&l, "default deny\n"
		    "service s { direction in; protocol udp; peers 192.0.2.16/29, 2001:db8:a::/48; action allow }\n");
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		bool v6 = strchr(cases[i].src, ':') != NULL;
		struct tg_pkt p = ip_packet(cases[i].src, v6 ? "2001:db8:ffff::1" : "10.0.0.1", 17, 1, 2, 0);

		expect_decision(&l, NULL, TG_FACING_OUTSIDE, &p,
				cases[i].in ? by_service("s", TG_PASS, TG_ROLE_REQUEST) :
					      by_setting(TG_DROP, TG_REASON_DEFAULT),
				cases[i].src);
	}
	unload(&l);
}

/* --------------------------------------------------------------- frames */

struct frame {
	uint8_t b[1600];
	size_t len;
};

static void put(struct frame *f, const void *p, size_t n)
{
	assert_true(f->len + n <= sizeof(f->b));
	memcpy(f->b + f->len, p, n);
	f->len += n;
}

static void put8(struct frame *f, uint8_t v)
{
	put(f, &v, 1);
}

static void put16(struct frame *f, uint16_t v)
{
	uint8_t b[2] = { (uint8_t)(v >> 8), (uint8_t)v };

	put(f, b, 2);
}

static void zeros(struct frame *f, size_t n)
{
	assert_true(f->len + n <= sizeof(f->b));
	memset(f->b + f->len, 0, n);
	f->len += n;
}

/* Ethernet with these ethertypes: the first is the outer one; each further
 * one follows a VLAN tag. */
static void eth(struct frame *f, int ntypes, const uint16_t *types)
{
	static const uint8_t macs[12] = { 2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2 };

	f->len = 0;
	put(f, macs, sizeof(macs));
	put16(f, types[0]);
	for (int i = 1; i < ntypes; i++) {
		put16(f, 100); /* TCI: VLAN 100 */
		put16(f, types[i]);
	}
}

static void addr(struct frame *f, int af, const char *text)
{
	uint8_t a[16];

	assert_int_equal(inet_pton(af, text, a), 1);
	put(f, a, af == AF_INET ? 4 : 16);
}

/* IPv4 header with `options` bytes of options (NOPs); tot counts from it. */
static void ipv4(struct frame *f, size_t options, uint16_t tot, uint8_t protocol, uint16_t frag, const char *src,
		 const char *dst)
{
	put8(f, (uint8_t)(0x40 | ((20 + options) / 4)));
	put8(f, 0);
	put16(f, tot);
	put16(f, 1);	/* id */
	put16(f, frag); /* flags and offset */
	put8(f, 64);
	put8(f, protocol);
	put16(f, 0); /* checksum: not checked */
	addr(f, AF_INET, src);
	addr(f, AF_INET, dst);
	for (size_t i = 0; i < options; i++)
		put8(f, 1);
}

static void ipv6(struct frame *f, uint16_t payload, uint8_t next, const char *src, const char *dst)
{
	put8(f, 0x60);
	zeros(f, 3);
	put16(f, payload);
	put8(f, next);
	put8(f, 64);
	addr(f, AF_INET6, src);
	addr(f, AF_INET6, dst);
}

/* TCP with data offset words*4 bytes (options as NOPs). */
static void tcp(struct frame *f, uint16_t sport, uint16_t dport, unsigned words, uint8_t flags)
{
	put16(f, sport);
	put16(f, dport);
	zeros(f, 8); /* seq, ack */
	put8(f, (uint8_t)(words << 4));
	put8(f, flags);
	put16(f, 65535);
	zeros(f, 4); /* checksum, urgent */
	for (unsigned i = 5; i < words; i++)
		put(f, "\x01\x01\x01\x01", 4);
}

static void udp(struct frame *f, uint16_t sport, uint16_t dport, uint16_t len)
{
	put16(f, sport);
	put16(f, dport);
	put16(f, len);
	put16(f, 0);
}

static struct tg_pkt parsed(const struct frame *f)
{
	struct tg_pkt p;

	memset(&p, 0xa5, sizeof(p));
	tg_pkt_parse(f->b, f->len, &p);
	return p;
}

static void ipv4_tcp_with_options_is_parsed(void **state)
{
	struct frame f;
	struct tg_pkt p;
	uint8_t src[4], dst[4];

	(void)state;
	eth(&f, 1, (const uint16_t[]){ 0x0800 });
	ipv4(&f, 8, 28 + 28, 6, 0x4000 /* DF */, "192.0.2.5", "10.0.0.1");
	tcp(&f, 50000, 443, 7, SYNACK);
	p = parsed(&f);
	assert_int_equal(p.kind, TG_PKT_IP);
	assert_int_equal(p.family, TG_FAMILY_V4);
	assert_int_equal(p.protocol, 6);
	assert_int_equal(p.sport, 50000);
	assert_int_equal(p.dport, 443);
	assert_int_equal(p.tcp_flags, SYNACK);
	assert_false(p.nonfirst_fragment);
	assert_int_equal(p.len, f.len);
	inet_pton(AF_INET, "192.0.2.5", src);
	inet_pton(AF_INET, "10.0.0.1", dst);
	assert_memory_equal(p.src, src, 4);
	assert_memory_equal(p.dst, dst, 4);
}

static void vlan_tags_are_skipped_up_to_two(void **state)
{
	struct frame f;
	struct tg_pkt p;

	(void)state;
	eth(&f, 2, (const uint16_t[]){ 0x8100, 0x0800 });
	ipv4(&f, 0, 28, 17, 0, "192.0.2.5", "10.0.0.1");
	udp(&f, 53, 40000, 8);
	p = parsed(&f);
	assert_int_equal(p.kind, TG_PKT_IP);
	assert_int_equal(p.protocol, 17);
	assert_int_equal(p.sport, 53);
	assert_int_equal(p.dport, 40000);

	eth(&f, 3, (const uint16_t[]){ 0x88a8, 0x8100, 0x0800 });
	ipv4(&f, 0, 28, 17, 0, "192.0.2.5", "10.0.0.1");
	udp(&f, 123, 123, 8);
	p = parsed(&f);
	assert_int_equal(p.kind, TG_PKT_IP);
	assert_int_equal(p.sport, 123);

	/* A third tag is malformed, whatever follows. */
	eth(&f, 4, (const uint16_t[]){ 0x88a8, 0x8100, 0x8100, 0x0800 });
	ipv4(&f, 0, 28, 17, 0, "192.0.2.5", "10.0.0.1");
	udp(&f, 123, 123, 8);
	assert_int_equal(parsed(&f).kind, TG_PKT_MALFORMED);
}

static void non_ip_frames_are_non_ip(void **state)
{
	struct frame f;

	(void)state;
	eth(&f, 1, (const uint16_t[]){ 0x0806 }); /* ARP */
	zeros(&f, 28);
	assert_int_equal(parsed(&f).kind, TG_PKT_NON_IP);
	eth(&f, 2, (const uint16_t[]){ 0x8100, 0x88cc }); /* LLDP behind a tag */
	zeros(&f, 46);
	assert_int_equal(parsed(&f).kind, TG_PKT_NON_IP);
	/* A bare Ethernet header is enough to tell. */
	eth(&f, 1, (const uint16_t[]){ 0x0806 });
	assert_int_equal(parsed(&f).kind, TG_PKT_NON_IP);
}

static void truncated_and_inconsistent_frames_are_malformed(void **state)
{
	struct frame f, good, gre;
	struct tg_pkt p;

	(void)state;
	eth(&good, 1, (const uint16_t[]){ 0x0800 });
	ipv4(&good, 0, 40, 6, 0, "192.0.2.5", "10.0.0.1");
	tcp(&good, 1, 2, 5, ACK);
	assert_int_equal(parsed(&good).kind, TG_PKT_IP);

	/* Every cut of the good frame is malformed, down to a half Ethernet header. */
	for (size_t cut = 0; cut < good.len; cut++) {
		f = good;
		f.len = cut;
		p = parsed(&f);
		if (p.kind != TG_PKT_MALFORMED)
			fail_msg("frame cut to %zu bytes parsed as kind %d", cut, p.kind);
	}

	/* The IP header's own checks, on GRE so that no L4 header can hide
	 * them: the good one first. */
	eth(&gre, 1, (const uint16_t[]){ 0x0800 });
	ipv4(&gre, 0, 24, 47, 0, "192.0.2.5", "10.0.0.1");
	put(&gre, "\0\0\x08\0", 4);
	assert_int_equal(parsed(&gre).kind, TG_PKT_IP);
	/* IHL 4. */
	f = gre;
	f.b[14] = 0x44;
	assert_int_equal(parsed(&f).kind, TG_PKT_MALFORMED);
	/* Total length beyond the frame. */
	f = gre;
	f.b[17] = 25;
	assert_int_equal(parsed(&f).kind, TG_PKT_MALFORMED);
	/* Total length shorter than the header. */
	f = gre;
	f.b[17] = 19;
	assert_int_equal(parsed(&f).kind, TG_PKT_MALFORMED);
	/* IP version 6 in an IPv4 ethertype. */
	f = gre;
	f.b[14] = 0x65;
	assert_int_equal(parsed(&f).kind, TG_PKT_MALFORMED);
	/* TCP data offset 4, or beyond the packet. */
	f = good;
	f.b[14 + 20 + 12] = 4 << 4;
	assert_int_equal(parsed(&f).kind, TG_PKT_MALFORMED);
	f = good;
	f.b[14 + 20 + 12] = 6 << 4;
	assert_int_equal(parsed(&f).kind, TG_PKT_MALFORMED);
}

/* The UDP header lies in Ethernet padding, outside the IP packet. */
static void l4_header_in_padding_is_malformed(void **state)
{
	struct frame f;

	(void)state;
	eth(&f, 1, (const uint16_t[]){ 0x0800 });
	ipv4(&f, 0, 24, 17, 0, "192.0.2.5", "10.0.0.1");
	udp(&f, 53, 53, 8);
	zeros(&f, 60 - f.len);
	assert_int_equal(parsed(&f).kind, TG_PKT_MALFORMED);
	/* With the whole header inside the packet, padding after it is fine. */
	f.b[17] = 28;
	assert_int_equal(parsed(&f).kind, TG_PKT_IP);
	assert_int_equal(parsed(&f).len, 60);
}

/* The parse rules of issue 12 (docs/policy.md, Decision order, step 2). */
static void flow_era_parse_rules(void **state)
{
	struct frame f;
	struct tg_pkt p;

	(void)state;
	/* UDP: the length must be the IP payload's ... */
	eth(&f, 1, (const uint16_t[]){ 0x0800 });
	ipv4(&f, 0, 28, 17, 0, "192.0.2.5", "10.0.0.1");
	udp(&f, 53, 40000, 8);
	assert_int_equal(parsed(&f).kind, TG_PKT_IP);
	f.b[14 + 20 + 5] = 9;
	assert_int_equal(parsed(&f).kind, TG_PKT_MALFORMED);
	/* ... and more than it in a first fragment (MF) */
	f.b[14 + 6] = 0x20;
	assert_int_equal(parsed(&f).kind, TG_PKT_IP);
	assert_true(parsed(&f).more_fragments);
	f.b[14 + 20 + 5] = 8;
	assert_int_equal(parsed(&f).kind, TG_PKT_MALFORMED);
	/* a TCP fragment at offset 1 is malformed, at 2 it is a fragment */
	eth(&f, 1, (const uint16_t[]){ 0x0800 });
	ipv4(&f, 0, 28, 6, 1, "192.0.2.5", "10.0.0.1");
	zeros(&f, 8);
	assert_int_equal(parsed(&f).kind, TG_PKT_MALFORMED);
	f.b[14 + 7] = 2;
	assert_int_equal(parsed(&f).kind, TG_PKT_IP);
	/* ICMP: 8 header bytes, the identifier, and the quoted packet */
	eth(&f, 1, (const uint16_t[]){ 0x0800 });
	ipv4(&f, 0, 20 + 8 + 28, 1, 0, "198.51.100.1", "10.0.0.1");
	put(&f, "\x03\x04\0\0\x12\x34\0\0", 8);
	ipv4(&f, 0, 28, 17, 0, "10.0.0.1", "192.0.2.9");
	udp(&f, 40000, 53, 8);
	p = parsed(&f);
	assert_int_equal(p.kind, TG_PKT_IP);
	assert_int_equal(p.icmp_id, 0x1234);
	assert_true(p.has_quoted);
	assert_int_equal(p.quoted.protocol, 17);
	assert_int_equal(p.quoted.sport, 40000);
	assert_int_equal(p.quoted.dport, 53);
	f.b[14 + 3] = 20 + 7; /* 7 bytes of ICMP */
	assert_int_equal(parsed(&f).kind, TG_PKT_MALFORMED);
	/* IPv6 addresses that embed IPv4 ones */
	eth(&f, 1, (const uint16_t[]){ 0x86dd });
	ipv6(&f, 0, 59, "::ffff:192.0.2.5", "2001:db8::1");
	assert_int_equal(parsed(&f).kind, TG_PKT_MALFORMED);
	eth(&f, 1, (const uint16_t[]){ 0x86dd });
	ipv6(&f, 0, 59, "2001:db8::1", "::192.0.2.5");
	assert_int_equal(parsed(&f).kind, TG_PKT_MALFORMED);
	eth(&f, 1, (const uint16_t[]){ 0x86dd });
	ipv6(&f, 0, 59, "::1", "2001:db8::1");
	assert_int_equal(parsed(&f).kind, TG_PKT_IP);
}

static void non_first_fragments_carry_no_ports(void **state)
{
	struct frame f;
	struct tg_pkt p;

	(void)state;
	eth(&f, 1, (const uint16_t[]){ 0x0800 });
	ipv4(&f, 0, 24, 6, 0x2000 | 185, "192.0.2.5", "10.0.0.1"); /* MF, offset 185: 4 bytes of data */
	put(&f, "\x12\x34\x56\x78", 4);
	p = parsed(&f);
	assert_int_equal(p.kind, TG_PKT_IP);
	assert_true(p.nonfirst_fragment);
	assert_int_equal(p.protocol, 6);
	assert_int_equal(p.sport, 0);
	assert_int_equal(p.dport, 0);

	/* A first fragment (offset 0, MF) is parsed like any packet, so its
	 * L4 header must be whole. */
	eth(&f, 1, (const uint16_t[]){ 0x0800 });
	ipv4(&f, 0, 24, 6, 0x2000, "192.0.2.5", "10.0.0.1");
	put(&f, "\x12\x34\x56\x78", 4);
	assert_int_equal(parsed(&f).kind, TG_PKT_MALFORMED);
}

static void ipv6_extension_headers_are_walked(void **state)
{
	struct frame f;
	struct tg_pkt p;
	uint8_t src[16];

	(void)state;
	/* Hop-by-hop, then TCP. */
	eth(&f, 1, (const uint16_t[]){ 0x86dd });
	ipv6(&f, 8 + 20, 0, "2001:db8::5", "2001:db8::1");
	put8(&f, 6);
	zeros(&f, 7);
	tcp(&f, 22, 50000, 5, ACK);
	p = parsed(&f);
	assert_int_equal(p.kind, TG_PKT_IP);
	assert_int_equal(p.family, TG_FAMILY_V6);
	assert_int_equal(p.protocol, 6);
	assert_int_equal(p.sport, 22);
	assert_int_equal(p.dport, 50000);
	inet_pton(AF_INET6, "2001:db8::5", src);
	assert_memory_equal(p.src, src, 16);

	/* A non-first fragment header ends the walk. */
	eth(&f, 1, (const uint16_t[]){ 0x86dd });
	ipv6(&f, 8 + 8, 44, "2001:db8::5", "2001:db8::1");
	put8(&f, 17);
	put8(&f, 0);
	put16(&f, 100 << 3); /* offset 100 */
	zeros(&f, 4 + 8);
	p = parsed(&f);
	assert_int_equal(p.kind, TG_PKT_IP);
	assert_true(p.nonfirst_fragment);
	assert_int_equal(p.protocol, 17);

	/* ICMPv6 neighbour solicitation. */
	eth(&f, 1, (const uint16_t[]){ 0x86dd });
	ipv6(&f, 24, 58, "fe80::1", "ff02::1:ff00:1");
	put8(&f, 135);
	zeros(&f, 23);
	p = parsed(&f);
	assert_int_equal(p.kind, TG_PKT_IP);
	assert_int_equal(p.protocol, 58);
	assert_int_equal(p.icmp_type, 135);
}

/* At most eight extension headers (docs/policy.md, "Decision order"). */
static void ipv6_extension_chain_is_limited(void **state)
{
	(void)state;
	for (int n = 7; n <= 9; n++) {
		struct frame f;

		eth(&f, 1, (const uint16_t[]){ 0x86dd });
		ipv6(&f, (uint16_t)(8 * n + 8), 60, "2001:db8::5", "2001:db8::1");
		for (int i = 0; i < n; i++) {
			put8(&f, i == n - 1 ? 17 : 60); /* destination options, then UDP */
			zeros(&f, 7);
		}
		udp(&f, 1, 2, 8);
		if (parsed(&f).kind != (n <= 8 ? TG_PKT_IP : TG_PKT_MALFORMED))
			fail_msg("%d extension headers parsed as kind %d", n, parsed(&f).kind);
	}
}

/* ICMPv4 inside IPv6 is just protocol 1: no type is read and no ICMP
 * header is needed. */
static void icmp_of_the_other_family_is_just_a_number(void **state)
{
	struct frame f;
	struct tg_pkt p;

	(void)state;
	eth(&f, 1, (const uint16_t[]){ 0x86dd });
	ipv6(&f, 2, 1, "2001:db8::5", "2001:db8::1");
	put8(&f, 8);
	put8(&f, 0);
	p = parsed(&f);
	assert_int_equal(p.kind, TG_PKT_IP);
	assert_int_equal(p.protocol, 1);
	assert_int_equal(p.icmp_type, 0);
	/* Real ICMPv4 needs its 4 header bytes. */
	eth(&f, 1, (const uint16_t[]){ 0x0800 });
	ipv4(&f, 0, 22, 1, 0, "192.0.2.5", "10.0.0.1");
	put8(&f, 8);
	put8(&f, 0);
	assert_int_equal(parsed(&f).kind, TG_PKT_MALFORMED);
}

/* Parsed frames through the model: the parser and the classifier agree
 * on what a frame is. */
static void parsed_frames_classify_like_the_table(void **state)
{
	struct loaded l;
	struct frame f;
	struct tg_pkt p;

	(void)state;
	load_ok(&l, web1_policy);
	eth(&f, 2, (const uint16_t[]){ 0x8100, 0x0800 });
	ipv4(&f, 4, 24 + 20, 6, 0, "192.0.2.5", WEB1);
	tcp(&f, 50000, 22, 5, SYN);
	p = parsed(&f);
	expect_decision(&l, NULL, TG_FACING_OUTSIDE, &p, by_service("ssh-admin", TG_PASS, TG_ROLE_REQUEST),
			"frame ssh");
	f.b[14 + 4 + 9] = 17; /* the same bytes as UDP: port 22 is nobody's */
	f.b[18 + 24 + 4] = 0; /* with a UDP length that is the IP payload's (20) */
	f.b[18 + 24 + 5] = 20;
	p = parsed(&f);
	expect_decision(&l, NULL, TG_FACING_OUTSIDE, &p, by_setting(TG_DROP, TG_REASON_DEFAULT), "frame udp");
	f.len = 30;
	p = parsed(&f);
	expect_decision(&l, NULL, TG_FACING_OUTSIDE, &p, by_setting(TG_DROP, TG_REASON_MALFORMED), "frame cut");
	unload(&l);
}

/*
 * Sets that refer to the next level twice: s0 -> {s1, t1} -> ... -> {s31,
 * t31}, as deep as sets may nest. A walk that does not remember where it has
 * been visits 2^31 sets per packet (the SSH guard ran it under the interface
 * lock: minutes); each set must be looked into once (microseconds). The
 * watchdog turns the old behaviour into a failure instead of a hang; the
 * time itself is measured in make bench.
 */
#define DIAMOND_LEVELS (TG_MAX_SET_DEPTH - 1)
#define DIAMOND_WATCHDOG_SECONDS 60

static void diamond_watchdog(int sig)
{
	static const char msg[] = "set_walks_are_linear_and_right: a set walk ran for 60 s: it is exponential\n";

	(void)sig;
	if (write(2, msg, sizeof(msg) - 1) < 0)
		_exit(2);
	_exit(1);
}

static char *diamond_policy(void)
{
	size_t cap = 64 * (DIAMOND_LEVELS + 4), used = 0;
	char *text = xmalloc(cap);

	used += (size_t)snprintf(text + used, cap - used, "default deny\n");
	for (int i = 0; i < DIAMOND_LEVELS; i++)
		used += (size_t)snprintf(text + used, cap - used, "set s%d { @s%d, @t%d }\nset t%d { @s%d, @t%d }\n", i,
					 i + 1, i + 1, i, i + 1, i + 1);
	used += (size_t)snprintf(text + used, cap - used,
				 "set s%d { 192.0.2.0/25 }\nset t%d { 198.51.100.7, leaf.example.com }\n",
				 DIAMOND_LEVELS, DIAMOND_LEVELS);
	snprintf(text + used, cap - used,
		 "service ssh { direction in; protocol tcp; ports 22; peers @s0; action allow }\n");
	return text;
}

static void set_walks_are_linear_and_right(void **state)
{
	struct loaded l;
	char *text = diamond_policy();
	struct tg_image img;
	const struct tg_image *one[] = { &img };
	struct tg_pkt inside = ip_packet("198.51.100.7", "192.0.2.200", IPPROTO_TCP, 50000, 22, ACK);
	struct tg_pkt outside = ip_packet("203.0.113.9", "192.0.2.200", IPPROTO_TCP, 50000, 22, ACK);

	(void)state;
	signal(SIGALRM, diamond_watchdog);
	alarm(DIAMOND_WATCHDOG_SECONDS);
	assert_int_equal(load_text(&l, text), 0);
	expect_decision(&l, NULL, TG_FACING_OUTSIDE, &inside, by_service("ssh", TG_PASS, TG_ROLE_REQUEST),
			"a peer in the deepest set");
	expect_decision(&l, NULL, TG_FACING_OUTSIDE, &outside, by_setting(TG_DROP, TG_REASON_DEFAULT),
			"a peer in no set, after a walk of every set");
	/* The analysis walks the same sets for host names. */
	assert_int_equal(tg_compile(&l.pol, TG_FACING_OUTSIDE, NULL, &img), 0);
	tg_report_analysis(&l.pol, NULL, one, 1, &l.diags);
	tg_image_free(&img);
	alarm(0);
	unload(&l);
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(web1_outside_matches_the_documented_table),
		cmocka_unit_test(web1_inside_matches_the_documented_table),
		cmocka_unit_test(roles_follow_direction_and_facing),
		cmocka_unit_test(tcp_replies_need_ack_requests_do_not),
		cmocka_unit_test(other_protocols_and_any),
		cmocka_unit_test(icmp_families_do_not_mix),
		cmocka_unit_test(icmp_reply_side_matches_reply_types_only),
		cmocka_unit_test(essential_icmp_filter_hands_errors_to_services),
		cmocka_unit_test(settings_decide_what_no_service_does),
		cmocka_unit_test(first_service_wins_not_the_longest_prefix),
		cmocka_unit_test(fragments_go_to_the_first_service_for_the_protocol_and_peer),
		cmocka_unit_test(nested_sets_and_host_names),
		cmocka_unit_test(prefix_edges_are_exact),
		cmocka_unit_test(ipv4_tcp_with_options_is_parsed),
		cmocka_unit_test(vlan_tags_are_skipped_up_to_two),
		cmocka_unit_test(non_ip_frames_are_non_ip),
		cmocka_unit_test(truncated_and_inconsistent_frames_are_malformed),
		cmocka_unit_test(l4_header_in_padding_is_malformed),
		cmocka_unit_test(non_first_fragments_carry_no_ports),
		cmocka_unit_test(ipv6_extension_headers_are_walked),
		cmocka_unit_test(ipv6_extension_chain_is_limited),
		cmocka_unit_test(icmp_of_the_other_family_is_just_a_number),
		cmocka_unit_test(parsed_frames_classify_like_the_table),
		cmocka_unit_test(flow_era_parse_rules),
		cmocka_unit_test(set_walks_are_linear_and_right),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
