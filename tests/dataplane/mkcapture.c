// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Writes scenario captures for replay tests, with the verdict each packet
 * must get next to it:
 *   mkcapture SCENARIO OUT OUT.expect
 * OUT.expect holds one line per packet: "VERDICT SERVICE|- MATCH|- REASON"
 * ("out - - egress" for a packet the host sent).
 * OUT's name picks the format: *.pcapng (Ethernet, with each packet's
 * direction in epb_flags when the scenario gives one; *.be.pcapng in the
 * other byte order), *.sll.pcap and
 * *.sll2.pcap (Linux cooked capture v1 and v2: the packet type says
 * outgoing or to-us), any other name a plain Ethernet pcap (no direction).
 * Scenarios: notarius, cryptshare (facing outside), mixed (every link-layer
 * feature), flows (the host's requests, their replies and spoofed replies:
 * with the policy in tests/suites/70-replay.sh), flows-timeout (a reply after the
 * flow expired, by the capture's clock).
 */
#include "pktbuild.h"

#include <netinet/in.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum direction { DIR_NONE = 0, DIR_IN = 1, DIR_OUT = 2 }; /* epb_flags' values */
enum framing { FRAME_ETHERNET, FRAME_SLL, FRAME_SLL2 };

struct out {
	pcap_dumper_t *dump;
	FILE *pcapng; /* libpcap cannot write pcapng; these blocks are simple */
	FILE *expect;
	enum framing framing;
	unsigned n;
	unsigned skew; /* seconds added to the capture's clock */
};

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n > m && !strcmp(s + n - m, suffix);
}

/* pcapng in the writer's byte order, or swapped (*.be.pcapng on x86). */
static bool swapped;

static void put32(FILE *f, uint32_t v)
{
	if (swapped)
		v = __builtin_bswap32(v);
	fwrite(&v, 4, 1, f);
}

static void put16(FILE *f, uint16_t v)
{
	if (swapped)
		v = __builtin_bswap16(v);
	fwrite(&v, 2, 1, f);
}

/* Section header and one Ethernet interface (pcapng, little endian). */
static void pcapng_start(FILE *f)
{
	put32(f, 0x0a0d0d0a);
	put32(f, 28);
	put32(f, 0x1a2b3c4d);
	put16(f, 1); /* version 1.0 */
	put16(f, 0);
	put32(f, 0xffffffff);
	put32(f, 0xffffffff); /* section length unknown */
	put32(f, 28);
	put32(f, 1); /* interface description */
	put32(f, 20);
	put16(f, 1); /* LINKTYPE_ETHERNET */
	put16(f, 0);
	put32(f, 65535);
	put32(f, 20);
}

static void pcapng_packet(FILE *f, const struct pcap_pkthdr *h, const uint8_t *data, enum direction dir)
{
	uint32_t padded = (h->caplen + 3) & ~3u, total = 32 + padded + (dir ? 12 : 0);
	uint64_t usec = (uint64_t)h->ts.tv_sec * 1000000u + (uint64_t)h->ts.tv_usec;
	static const uint8_t zeros[4];

	put32(f, 6); /* enhanced packet block */
	put32(f, total);
	put32(f, 0);
	put32(f, (uint32_t)(usec >> 32));
	put32(f, (uint32_t)usec);
	put32(f, h->caplen);
	put32(f, h->len);
	fwrite(data, 1, h->caplen, f);
	fwrite(zeros, 1, padded - h->caplen, f);
	if (dir) {
		put16(f, 2); /* epb_flags, 4 bytes: bits 0-1 are the direction */
		put16(f, 4);
		put32(f, dir);
		put32(f, 0); /* opt_endofopt */
	}
	put32(f, total);
}

/* Linux cooked capture headers in place of the Ethernet header (big endian). */
static size_t to_cooked(enum framing framing, enum direction dir, const uint8_t *eth, size_t len, uint8_t *out)
{
	uint8_t type = dir == DIR_OUT ? 4 : 0; /* PACKET_OUTGOING, PACKET_HOST */
	size_t hlen = framing == FRAME_SLL ? 16 : 20;

	memset(out, 0, hlen);
	if (framing == FRAME_SLL) {
		out[1] = type;
		out[3] = 1; /* ARPHRD_ETHER */
		out[5] = 6; /* address length */
		memcpy(out + 6, dir == DIR_OUT ? eth + 6 : eth, 6);
		memcpy(out + 14, eth + 12, 2);
	} else {
		memcpy(out, eth + 12, 2);
		out[7] = 2; /* interface index */
		out[9] = 1; /* ARPHRD_ETHER */
		out[10] = type;
		out[11] = 6;
		memcpy(out + 12, dir == DIR_OUT ? eth + 6 : eth, 6);
	}
	memcpy(out + hlen, eth + 14, len - 14);
	return hlen + len - 14;
}

static void emit_dir(struct out *o, const struct pb_packet *p, enum direction dir, const char *expect)
{
	static uint8_t buf[10000], cooked[10000 + 20];
	struct pcap_pkthdr h = { 0 };
	size_t len = pb_build(p, buf, sizeof(buf));
	const uint8_t *data = buf;

	if (len < 14) {
		fprintf(stderr, "mkcapture: packet %u does not fit\n", o->n + 1);
		exit(1);
	}
	if (o->framing != FRAME_ETHERNET) {
		if (p->vlan_tags) {
			fprintf(stderr, "mkcapture: packet %u: cooked captures carry no VLAN tags here\n", o->n + 1);
			exit(1);
		}
		len = to_cooked(o->framing, dir, buf, len, cooked);
		data = cooked;
	}
	h.ts.tv_sec = 1700000000 + o->skew + o->n++;
	h.caplen = h.len = (bpf_u_int32)len;
	if (o->pcapng)
		pcapng_packet(o->pcapng, &h, data, dir);
	else
		pcap_dump((u_char *)o->dump, &h, data);
	fprintf(o->expect, "%s\n", expect);
}

static void emit(struct out *o, const struct pb_packet *p, const char *expect)
{
	emit_dir(o, p, DIR_NONE, expect);
}

static struct pb_packet tcp(const char *src, const char *dst, unsigned sport, unsigned dport, uint8_t flags)
{
	struct pb_packet p = {
		.protocol = IPPROTO_TCP, .sport = (uint16_t)sport, .dport = (uint16_t)dport, .tcp_flags = flags
	};

	if (!pb_addrs(&p, src, dst))
		abort();
	return p;
}

#define SYN 0x02
#define ACK 0x10
#define SYNACK 0x12

/* Replies from Notarius to a workstation; a host NIC facing outside. */
static void notarius(struct out *o)
{
	struct pb_packet p;
	static const struct {
		unsigned port;
		const char *service;
	} rows[] = {
		{ 443, "consigno-licensing" },	      { 829, "signature-generation" },
		{ 80, "timestamp-authority" },	      { 389, "crl" },
		{ 24250, "certifio-manager" },	      { 24251, "certifio-manager-server" },
		{ 24260, "certifio-manager-server" }, { 24270, "certifio-manager-server" },
	};
	char line[128];

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const char *peer = i % 2 ? "192.252.131.70" : "206.55.89.17";

		p = tcp(peer, "192.0.2.10", rows[i].port, 50000 + (unsigned)i, SYNACK);
		snprintf(line, sizeof(line), "pass %s reply service", rows[i].service);
		emit(o, &p, line);
	}
	p = tcp("206.55.89.31", "192.0.2.10", 443, 50100, ACK);
	emit(o, &p, "pass consigno-licensing reply service");
	/* The edges of the ranges, just outside. */
	p = tcp("206.55.89.32", "192.0.2.10", 443, 50101, ACK);
	emit(o, &p, "drop - - default");
	p = tcp("192.252.131.63", "192.0.2.10", 443, 50102, ACK);
	emit(o, &p, "drop - - default");
	p = tcp("192.252.131.80", "192.0.2.10", 443, 50103, ACK);
	emit(o, &p, "drop - - default");
	/* Ports the table does not list, and a port just past the range. */
	p = tcp("206.55.89.17", "192.0.2.10", 22, 50104, ACK);
	emit(o, &p, "drop - - default");
	p = tcp("206.55.89.17", "192.0.2.10", 24271, 50105, ACK);
	emit(o, &p, "drop - - default");
	/* Notarius may not open connections to us: a SYN from 443 is no reply. */
	p = tcp("206.55.89.17", "192.0.2.10", 443, 50106, SYN);
	emit(o, &p, "drop - - default");
	p = tcp("206.55.89.17", "192.0.2.10", 50000, 443, SYN);
	emit(o, &p, "drop - - default");
	/* UDP on a listed port is not TCP. */
	p = tcp("206.55.89.17", "192.0.2.10", 443, 50107, 0);
	p.protocol = IPPROTO_UDP;
	emit(o, &p, "drop - - default");
	/* Essential ICMP passes, an echo request does not. */
	p = tcp("198.51.100.1", "192.0.2.10", 0, 0, 0);
	p.protocol = IPPROTO_ICMP;
	p.icmp_type = 3;
	p.icmp_code = 4;
	emit(o, &p, "pass - - essential-icmp");
	p.icmp_type = 8;
	p.icmp_code = 0;
	emit(o, &p, "drop - - default");
	/* ARP is not IP. */
	p = tcp("198.51.100.1", "192.0.2.10", 0, 0, 0);
	p.ethertype = 0x0806;
	p.payload = 28;
	emit(o, &p, "pass - - non-ip");
}

static void cryptshare(struct out *o)
{
	struct pb_packet p;

	p = tcp("203.0.113.9", "192.0.2.10", 51000, 443, SYN);
	emit(o, &p, "pass ui-https request service");
	p = tcp("203.0.113.9", "192.0.2.10", 51000, 80, SYN);
	emit(o, &p, "pass ui-http request service");
	p = tcp("10.1.2.3", "192.0.2.10", 51000, 8080, SYN);
	emit(o, &p, "pass admin-https request service");
	p = tcp("203.0.113.9", "192.0.2.10", 51000, 8080, SYN);
	emit(o, &p, "drop - - default");
	p = tcp("192.168.7.7", "192.0.2.10", 51000, 22, SYN);
	emit(o, &p, "pass admin-ssh request service");
	p = tcp("203.0.113.9", "192.0.2.10", 51000, 22, SYN);
	emit(o, &p, "drop - - default");
	p = tcp("fd00::5", "2001:db8::10", 51000, 9090, SYN);
	emit(o, &p, "pass admin-http request service");
	p = tcp("192.0.2.25", "192.0.2.10", 25, 40000, SYNACK);
	emit(o, &p, "pass smtp reply service");
	p = tcp("192.0.2.89", "192.0.2.10", 686, 40001, ACK);
	emit(o, &p, "pass ldaps reply service");
	p = tcp("192.0.2.89", "192.0.2.10", 636, 40002, ACK);
	emit(o, &p, "drop - - default");
	p = tcp("192.0.2.22", "192.0.2.10", 22, 40003, ACK);
	emit(o, &p, "pass archive-ssh reply service");
	p = tcp("192.0.2.53", "192.0.2.10", 53, 40004, 0);
	p.protocol = IPPROTO_UDP;
	emit(o, &p, "pass dns reply service");
	p = tcp("2001:db8::53", "2001:db8::10", 53, 40005, 0);
	p.protocol = IPPROTO_UDP;
	emit(o, &p, "pass dns reply service");
	p = tcp("203.0.113.50", "192.0.2.10", 80, 40006, SYNACK);
	emit(o, &p, "pass os-updates reply service");
}

/* The same allowed reply through every framing the parser knows. */
static void mixed(struct out *o)
{
	struct pb_packet p = tcp("206.55.89.17", "192.0.2.10", 443, 50000, ACK);

	p.vlan_tags = 1;
	emit(o, &p, "pass consigno-licensing reply service");
	p.vlan_tags = 2;
	p.outer_tpid = 0x88a8;
	emit(o, &p, "pass consigno-licensing reply service");
	p.vlan_tags = 3;
	emit(o, &p, "drop - - malformed");
	p.vlan_tags = 0;
	p.ipv4_options = 40;
	emit(o, &p, "pass consigno-licensing reply service");
	p.ipv4_options = 0;
	p.fragment = true;
	p.more_fragments = true;
	emit(o, &p, "pass consigno-licensing reply service");
	p.frag_offset = 185;
	p.more_fragments = false;
	emit(o, &p, "pass consigno-licensing - fragment");
	p = tcp("206.55.89.17", "192.0.2.10", 443, 50000, ACK);
	p.payload = 8900;
	emit(o, &p, "pass consigno-licensing reply service");
}

static struct pb_packet udp(const char *src, const char *dst, unsigned sport, unsigned dport)
{
	struct pb_packet p = tcp(src, dst, sport, dport, 0);

	p.protocol = IPPROTO_UDP;
	return p;
}

#define EGRESS "out - - egress"
#define LOCAL4 "192.0.2.10"
#define LOCAL6 "2001:db8::10"

/* The host's own requests (sent), their replies, and replies nobody asked
 * for; with the policy of tests/suites/70-replay.sh on the host's NIC (facing outside). */
static void flows(struct out *o)
{
	struct pb_packet p;

	/* DNS: a request, its reply; a "reply" to a port never used. */
	p = udp(LOCAL4, "198.51.100.53", 40000, 53);
	emit_dir(o, &p, DIR_OUT, EGRESS);
	p = udp("198.51.100.53", LOCAL4, 53, 40000);
	emit_dir(o, &p, DIR_IN, "pass dns reply service");
	p = udp("198.51.100.53", LOCAL4, 53, 40001);
	emit_dir(o, &p, DIR_IN, "drop - - no-flow");
	/* The same over IPv6. */
	p = udp(LOCAL6, "2001:db8:53::53", 40002, 53);
	emit_dir(o, &p, DIR_OUT, EGRESS);
	p = udp("2001:db8:53::53", LOCAL6, 53, 40002);
	emit_dir(o, &p, DIR_IN, "pass dns reply service");
	p = udp("2001:db8:53::53", LOCAL6, 53, 40003);
	emit_dir(o, &p, DIR_IN, "drop - - no-flow");
	/* HTTPS: SYN out, SYN+ACK back; an ACK from :443 to another port, and
	 * from another server, are not replies. */
	p = tcp(LOCAL4, "203.0.113.80", 50000, 443, SYN);
	emit_dir(o, &p, DIR_OUT, EGRESS);
	p = tcp("203.0.113.80", LOCAL4, 443, 50000, SYNACK);
	emit_dir(o, &p, DIR_IN, "pass https reply service");
	p = tcp(LOCAL4, "203.0.113.80", 50000, 443, ACK);
	emit_dir(o, &p, DIR_OUT, EGRESS);
	p = tcp("203.0.113.80", LOCAL4, 443, 50000, ACK);
	emit_dir(o, &p, DIR_IN, "pass https reply service");
	p = tcp("203.0.113.80", LOCAL4, 443, 50001, ACK);
	emit_dir(o, &p, DIR_IN, "drop - - no-flow");
	p = tcp("203.0.113.81", LOCAL4, 443, 50000, ACK);
	emit_dir(o, &p, DIR_IN, "drop - - no-flow");
}

/* Flows expire by the capture's clock: udp-timeout is 30 s by default. */
static void flows_timeout(struct out *o)
{
	struct pb_packet p;

	p = udp(LOCAL4, "198.51.100.53", 40000, 53);
	emit_dir(o, &p, DIR_OUT, EGRESS);
	p = udp(LOCAL4, "198.51.100.53", 40001, 53);
	emit_dir(o, &p, DIR_OUT, EGRESS);
	o->skew += 20; /* within the timeout */
	p = udp("198.51.100.53", LOCAL4, 53, 40000);
	emit_dir(o, &p, DIR_IN, "pass dns reply service");
	o->skew += 200; /* 200 s after the second request, never answered */
	p = udp("198.51.100.53", LOCAL4, 53, 40001);
	emit_dir(o, &p, DIR_IN, "drop - - no-flow");
}

int main(int argc, char **argv)
{
	struct out o = { 0 };
	pcap_t *dead;

	if (argc != 4) {
		fprintf(stderr,
			"usage: mkcapture notarius|cryptshare|mixed|flows|flows-timeout OUT.pcap|OUT.pcapng|OUT.sll.pcap|OUT.sll2.pcap OUT.expect\n");
		return 2;
	}
	if (ends_with(argv[2], ".sll.pcap"))
		o.framing = FRAME_SLL;
	else if (ends_with(argv[2], ".sll2.pcap"))
		o.framing = FRAME_SLL2;
	dead = pcap_open_dead(o.framing == FRAME_SLL  ? DLT_LINUX_SLL :
			      o.framing == FRAME_SLL2 ? DLT_LINUX_SLL2 :
							DLT_EN10MB,
			      65535);
	swapped = ends_with(argv[2], ".be.pcapng");
	if (ends_with(argv[2], ".pcapng")) {
		o.pcapng = fopen(argv[2], "wb");
		if (o.pcapng)
			pcapng_start(o.pcapng);
	} else {
		o.dump = pcap_dump_open(dead, argv[2]);
	}
	o.expect = fopen(argv[3], "w");
	if (!(o.dump || o.pcapng) || !o.expect) {
		fprintf(stderr, "mkcapture: cannot write %s or %s\n", argv[2], argv[3]);
		return 1;
	}
	if (!strcmp(argv[1], "notarius"))
		notarius(&o);
	else if (!strcmp(argv[1], "cryptshare"))
		cryptshare(&o);
	else if (!strcmp(argv[1], "mixed"))
		mixed(&o);
	else if (!strcmp(argv[1], "flows"))
		flows(&o);
	else if (!strcmp(argv[1], "flows-timeout"))
		flows_timeout(&o);
	else {
		fprintf(stderr, "mkcapture: unknown scenario '%s'\n", argv[1]);
		return 2;
	}
	if (o.pcapng)
		fclose(o.pcapng);
	else
		pcap_dump_close(o.dump);
	pcap_close(dead);
	fclose(o.expect);
	return 0;
}
