/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Header parsing shared by the XDP program and the benchmark's floor
 * program, so that the floor parses exactly what tollgate parses. Every read
 * goes through pkt_at(), which bounds the offset for the verifier and checks
 * it against the end of the linear data.
 */
#ifndef TG_BPF_PARSE_H
#define TG_BPF_PARSE_H

#include <linux/bpf.h>
#include <linux/in.h>  /* IPPROTO_TCP, _UDP, _SCTP, _ICMP, _AH */
#include <linux/in6.h> /* IPPROTO_ICMPV6 and the IPv6 extension headers */
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "tollgate.h"

#define ETH_HLEN 14
#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86DD
#define ETH_P_8021Q 0x8100
#define ETH_P_8021AD 0x88A8
#define MAX_VLAN_TAGS 2
#define MAX_EXT_HEADERS 8
#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_ACK 0x10
/* Far above any header chain we accept; keeps offsets provably small. */
#define OFFSET_MASK 0x3fff

enum parse_result { PARSE_IP, PARSE_NON_IP, PARSE_MALFORMED };

struct packet {
	void *data, *data_end; /* of an XDP frame or a TC skb's linear part */
	__u32 frame_len;
	__u32 facing; /* which address is the remote one (the hook's view) */
	__u32 family;
	__u32 protocol;
	__u32 nonfirst_fragment;
	__u32 more_fragments; /* MF set: a first fragment when offset is 0 */
	__u32 sport, dport;   /* host order */
	__u32 tcp_flags;
	__u32 icmp_type;
	__u32 icmp_id;	  /* bytes 4-5 of the ICMP header: the query identifier */
	__u32 remote_off; /* where the remote address starts */
	__u32 local_off;  /* where the local address starts */
	__u32 l4_off;	  /* where the transport header starts */
};

static __always_inline void packet_init(struct packet *pkt, void *data, void *data_end, __u32 frame_len, __u32 facing)
{
	__builtin_memset(pkt, 0, sizeof(*pkt));
	pkt->data = data;
	pkt->data_end = data_end;
	pkt->frame_len = frame_len;
	pkt->facing = facing;
}

static __always_inline void *ptr_at(struct xdp_md *ctx, __u32 off, __u32 len)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	void *p = data + (off & OFFSET_MASK);

	if (p + len > end)
		return 0;
	return p;
}

/* The same bounds check on a parsed packet's frame. */
static __always_inline void *pkt_at(struct packet *pkt, __u32 off, __u32 len)
{
	void *p = pkt->data + (off & OFFSET_MASK);

	if (p + len > pkt->data_end)
		return 0;
	return p;
}

static __always_inline __u32 read_be16(struct packet *pkt, __u32 off, int *ok)
{
	__u8 *p = pkt_at(pkt, off, 2);

	if (!p) {
		*ok = 0;
		return 0;
	}
	return (__u32)p[0] << 8 | p[1];
}

/* A UDP length must say what the IP length says; in a first fragment the
 * datagram goes on, so it must say more. */
static __always_inline int udp_length_ok(struct packet *pkt, __u8 *h, __u32 ip_payload)
{
	__u32 udp_len = (__u32)h[4] << 8 | h[5];

	if (udp_len < 8)
		return 0;
	return pkt->more_fragments ? udp_len > ip_payload : udp_len == ip_payload;
}

/*
 * The L4 header must lie inside the IP packet, not in Ethernet padding, and
 * within TG_HEADER_LIMIT. ICMP headers are 8 bytes in both families (type,
 * code, checksum, then the identifier or an unused word): shorter is
 * malformed.
 */
static __always_inline int parse_l4(struct packet *pkt, __u32 off, __u32 ip_end)
{
	__u32 limit = ip_end > TG_HEADER_LIMIT ? TG_HEADER_LIMIT : ip_end;
	__u8 *h;

	pkt->l4_off = off;
	switch (pkt->protocol) {
	case IPPROTO_TCP:
		h = pkt_at(pkt, off, 20);
		if (!h || off + 20 > limit || (h[12] >> 4) < 5 || off + (h[12] >> 4) * 4 > limit)
			return PARSE_MALFORMED;
		pkt->sport = (__u32)h[0] << 8 | h[1];
		pkt->dport = (__u32)h[2] << 8 | h[3];
		pkt->tcp_flags = h[13];
		return PARSE_IP;
	case IPPROTO_UDP:
		h = pkt_at(pkt, off, 8);
		if (!h || off + 8 > limit || !udp_length_ok(pkt, h, ip_end - off))
			return PARSE_MALFORMED;
		pkt->sport = (__u32)h[0] << 8 | h[1];
		pkt->dport = (__u32)h[2] << 8 | h[3];
		return PARSE_IP;
	case IPPROTO_SCTP:
		h = pkt_at(pkt, off, 4);
		if (!h || off + 12 > limit)
			return PARSE_MALFORMED;
		pkt->sport = (__u32)h[0] << 8 | h[1];
		pkt->dport = (__u32)h[2] << 8 | h[3];
		return PARSE_IP;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		if ((pkt->protocol == IPPROTO_ICMP) != (pkt->family == TG_FAMILY_V4))
			return PARSE_IP; /* the other family's ICMP: a bare protocol */
		h = pkt_at(pkt, off, 8);
		if (!h || off + 8 > limit)
			return PARSE_MALFORMED;
		pkt->icmp_type = h[0];
		pkt->icmp_id = (__u32)h[4] << 8 | h[5];
		return PARSE_IP;
	}
	return PARSE_IP;
}

/* RFC 1858 / RFC 3128: a TCP fragment at offset 1 (8 bytes) can only be
 * meant to rewrite the flags of the first fragment's header. */
static __always_inline int tiny_tcp_overlap(struct packet *pkt, __u32 offset_units)
{
	return pkt->protocol == IPPROTO_TCP && offset_units == 1;
}

static __always_inline int parse_ipv4(struct packet *pkt, __u32 off)
{
	__u8 *ip = pkt_at(pkt, off, 20);
	__u32 ihl, total, frag;

	pkt->family = TG_FAMILY_V4;
	if (!ip || (ip[0] >> 4) != 4)
		return PARSE_MALFORMED;
	ihl = (ip[0] & 0xf) * 4;
	total = (__u32)ip[2] << 8 | ip[3];
	if (ihl < 20 || total < ihl || off + total > pkt->frame_len)
		return PARSE_MALFORMED;
	pkt->protocol = ip[9];
	frag = (__u32)ip[6] << 8 | ip[7];
	pkt->nonfirst_fragment = (frag & 0x1fff) != 0;
	pkt->more_fragments = (frag & 0x2000) != 0;
	pkt->remote_off = off + (pkt->facing == TG_FACING_OUTSIDE ? 12 : 16);
	pkt->local_off = off + (pkt->facing == TG_FACING_OUTSIDE ? 16 : 12);
	if (tiny_tcp_overlap(pkt, frag & 0x1fff))
		return PARSE_MALFORMED;
	if (pkt->nonfirst_fragment)
		return PARSE_IP;
	return parse_l4(pkt, off + ihl, off + total);
}

/*
 * RFC 4942 2.2: IPv4-mapped (::ffff:0:0/96) and IPv4-compatible (::/96
 * but :: and ::1) addresses have no business on the wire; letting them in
 * would let an IPv4 address bypass the IPv4 tables.
 */
static __always_inline int embeds_ipv4(__u8 *a)
{
	__u32 *w = (__u32 *)a;

	if (w[0] || w[1])
		return 0;
	if (w[2] == bpf_htonl(0xffff))
		return 1;
	return !w[2] && w[3] && w[3] != bpf_htonl(1);
}

/*
 * The IPv6 extension headers walked to find a packet's protocol: those that
 * only describe delivery. AH (51) and ESP (50) are IPsec protocols in both
 * families, as in IPv4, so that `protocol 51` means the same everywhere
 * (docs/policy.md, "protocol").
 */
static __always_inline int is_ext_header(__u32 nh)
{
	return nh == IPPROTO_HOPOPTS || nh == IPPROTO_ROUTING || nh == IPPROTO_DSTOPTS || nh == IPPROTO_FRAGMENT;
}

static __always_inline int parse_ipv6(struct packet *pkt, __u32 off)
{
	__u8 *ip = pkt_at(pkt, off, 40);
	__u32 end, nh, i, offset_units = 0;

	pkt->family = TG_FAMILY_V6;
	if (!ip || (ip[0] >> 4) != 6)
		return PARSE_MALFORMED;
	end = off + 40 + ((__u32)ip[4] << 8 | ip[5]);
	if (end > pkt->frame_len || embeds_ipv4(ip + 8) || embeds_ipv4(ip + 24))
		return PARSE_MALFORMED;
	pkt->remote_off = off + (pkt->facing == TG_FACING_OUTSIDE ? 8 : 24);
	pkt->local_off = off + (pkt->facing == TG_FACING_OUTSIDE ? 24 : 8);
	nh = ip[6];
	off += 40;
#pragma unroll
	for (i = 0; i < MAX_EXT_HEADERS; i++) {
		__u8 *h;
		__u32 hlen;

		if (!is_ext_header(nh))
			break;
		h = pkt_at(pkt, off, 8);
		if (!h || off + 8 > end || off + 8 > TG_HEADER_LIMIT)
			return PARSE_MALFORMED;
		if (nh == IPPROTO_FRAGMENT) {
			offset_units = ((__u32)h[2] << 8 | h[3]) >> 3;
			pkt->nonfirst_fragment = offset_units != 0;
			pkt->more_fragments = h[3] & 1;
			nh = h[0];
			off += 8;
			if (pkt->nonfirst_fragment)
				break;
			continue;
		}
		hlen = ((__u32)h[1] + 1) * 8;
		if (off + hlen > end || off + hlen > TG_HEADER_LIMIT)
			return PARSE_MALFORMED;
		nh = h[0];
		off += hlen;
	}
	if (!pkt->nonfirst_fragment && is_ext_header(nh))
		return PARSE_MALFORMED; /* longer chain than we walk */
	pkt->protocol = nh;
	if (tiny_tcp_overlap(pkt, offset_units))
		return PARSE_MALFORMED;
	if (pkt->nonfirst_fragment)
		return PARSE_IP;
	return parse_l4(pkt, off, end);
}

static __always_inline int parse(struct packet *pkt)
{
	__u32 off = ETH_HLEN, type, i;
	int ok = 1;

	type = read_be16(pkt, 12, &ok);
	if (!ok)
		return PARSE_MALFORMED;
#pragma unroll
	for (i = 0; i < MAX_VLAN_TAGS; i++) {
		if (type != ETH_P_8021Q && type != ETH_P_8021AD)
			break;
		type = read_be16(pkt, off + 2, &ok);
		if (!ok)
			return PARSE_MALFORMED;
		off += 4;
	}
	if (type == ETH_P_8021Q || type == ETH_P_8021AD)
		return PARSE_MALFORMED;
	if (type == ETH_P_IP)
		return parse_ipv4(pkt, off);
	if (type == ETH_P_IPV6)
		return parse_ipv6(pkt, off);
	return PARSE_NON_IP;
}

/*
 * The packet an ICMP error quotes, as far as flows need it: addresses,
 * protocol and ports (or the query identifier). It was sent the other way,
 * so its remote address is on the other side of the view. No extension
 * headers are walked: a quoted packet with them relates to no flow.
 */
static __always_inline int parse_quoted(struct packet *q, void *data, void *data_end, __u32 family, __u32 error_l4_off,
					__u32 error_facing)
{
	__u32 off = (error_l4_off & OFFSET_MASK) + 8, l4;
	__u8 *h;

	packet_init(q, data, data_end, 0, error_facing ^ 1);
	q->family = family & 1;
	if (q->family == TG_FAMILY_V4) {
		__u8 *ip = pkt_at(q, off, 20);

		if (!ip || (ip[0] >> 4) != 4 || (ip[0] & 0xf) < 5)
			return 0;
		q->protocol = ip[9];
		if ((((__u32)ip[6] << 8 | ip[7]) & 0x1fff) != 0)
			return 0;
		q->remote_off = off + (q->facing == TG_FACING_OUTSIDE ? 12 : 16);
		q->local_off = off + (q->facing == TG_FACING_OUTSIDE ? 16 : 12);
		l4 = off + (ip[0] & 0xf) * 4;
	} else {
		__u8 *ip = pkt_at(q, off, 40);

		if (!ip || (ip[0] >> 4) != 6)
			return 0;
		q->protocol = ip[6];
		q->remote_off = off + (q->facing == TG_FACING_OUTSIDE ? 8 : 24);
		q->local_off = off + (q->facing == TG_FACING_OUTSIDE ? 24 : 8);
		l4 = off + 40;
	}
	q->l4_off = l4;
	h = pkt_at(q, l4, 8); /* all an ICMPv4 error is sure to quote */
	if (!h)
		return 0;
	if (q->protocol == IPPROTO_TCP || q->protocol == IPPROTO_UDP || q->protocol == IPPROTO_SCTP) {
		__u8 *flags = pkt_at(q, l4 + 13, 1);

		q->sport = (__u32)h[0] << 8 | h[1];
		q->dport = (__u32)h[2] << 8 | h[3];
		q->tcp_flags = flags ? *flags : TCP_ACK;
	} else {
		q->icmp_type = h[0];
		q->icmp_id = (__u32)h[4] << 8 | h[5];
	}
	return 1;
}

#endif /* TG_BPF_PARSE_H */
