/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Header parsing shared by the XDP program and the benchmark's floor
 * program, so that the floor parses exactly what tollgate parses. Every read
 * goes through ptr_at(), which bounds the offset for the verifier and checks
 * it against the end of the linear data.
 */
#ifndef TG_BPF_PARSE_H
#define TG_BPF_PARSE_H

#include <linux/bpf.h>
#include <linux/in.h>  /* IPPROTO_TCP, _UDP, _SCTP, _ICMP, _AH */
#include <linux/in6.h> /* IPPROTO_ICMPV6 and the IPv6 extension headers */
#include <bpf/bpf_helpers.h>

#include "tollgate.h"

#define ETH_HLEN 14
#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86DD
#define ETH_P_8021Q 0x8100
#define ETH_P_8021AD 0x88A8
#define MAX_VLAN_TAGS 2
#define MAX_EXT_HEADERS 8
#define TCP_ACK 0x10
/* Far above any header chain we accept; keeps offsets provably small. */
#define OFFSET_MASK 0x3fff

enum parse_result { PARSE_IP, PARSE_NON_IP, PARSE_MALFORMED };

struct packet {
	struct xdp_md *ctx;
	__u32 frame_len;
	__u32 facing; /* a load-time constant: which address is the remote one */
	__u32 family;
	__u32 protocol;
	__u32 nonfirst_fragment;
	__u32 sport, dport; /* host order */
	__u32 tcp_flags;
	__u32 icmp_type;
	__u32 remote_off; /* where the remote address starts */
};

static __always_inline void *ptr_at(struct xdp_md *ctx, __u32 off, __u32 len)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	void *p = data + (off & OFFSET_MASK);

	if (p + len > end)
		return 0;
	return p;
}

static __always_inline __u32 read_be16(struct xdp_md *ctx, __u32 off, int *ok)
{
	__u8 *p = ptr_at(ctx, off, 2);

	if (!p) {
		*ok = 0;
		return 0;
	}
	return (__u32)p[0] << 8 | p[1];
}

/* The L4 header must lie inside the IP packet, not in Ethernet padding. */
static __always_inline int parse_l4(struct packet *pkt, __u32 off, __u32 ip_end)
{
	__u8 *h;

	if (ip_end > TG_HEADER_LIMIT)
		ip_end = TG_HEADER_LIMIT; /* headers past the limit count as missing */

	switch (pkt->protocol) {
	case IPPROTO_TCP:
		h = ptr_at(pkt->ctx, off, 20);
		if (!h || off + 20 > ip_end || (h[12] >> 4) < 5 || off + (h[12] >> 4) * 4 > ip_end)
			return PARSE_MALFORMED;
		pkt->sport = (__u32)h[0] << 8 | h[1];
		pkt->dport = (__u32)h[2] << 8 | h[3];
		pkt->tcp_flags = h[13];
		return PARSE_IP;
	case IPPROTO_UDP:
	case IPPROTO_SCTP: {
		__u32 need = pkt->protocol == IPPROTO_UDP ? 8 : 12;

		h = ptr_at(pkt->ctx, off, 4);
		if (!h || off + need > ip_end)
			return PARSE_MALFORMED;
		pkt->sport = (__u32)h[0] << 8 | h[1];
		pkt->dport = (__u32)h[2] << 8 | h[3];
		return PARSE_IP;
	}
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		if ((pkt->protocol == IPPROTO_ICMP) != (pkt->family == TG_FAMILY_V4))
			return PARSE_IP; /* the other family's ICMP: a bare protocol */
		h = ptr_at(pkt->ctx, off, 4);
		if (!h || off + 4 > ip_end)
			return PARSE_MALFORMED;
		pkt->icmp_type = h[0];
		return PARSE_IP;
	}
	return PARSE_IP;
}

static __always_inline int parse_ipv4(struct packet *pkt, __u32 off)
{
	__u8 *ip = ptr_at(pkt->ctx, off, 20);
	__u32 ihl, total;

	pkt->family = TG_FAMILY_V4;
	if (!ip || (ip[0] >> 4) != 4)
		return PARSE_MALFORMED;
	ihl = (ip[0] & 0xf) * 4;
	total = (__u32)ip[2] << 8 | ip[3];
	if (ihl < 20 || total < ihl || off + total > pkt->frame_len)
		return PARSE_MALFORMED;
	pkt->protocol = ip[9];
	pkt->nonfirst_fragment = (((__u32)ip[6] << 8 | ip[7]) & 0x1fff) != 0;
	pkt->remote_off = off + (pkt->facing == TG_FACING_OUTSIDE ? 12 : 16);
	if (pkt->nonfirst_fragment)
		return PARSE_IP;
	return parse_l4(pkt, off + ihl, off + total);
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
	__u8 *ip = ptr_at(pkt->ctx, off, 40);
	__u32 end, nh, i;

	pkt->family = TG_FAMILY_V6;
	if (!ip || (ip[0] >> 4) != 6)
		return PARSE_MALFORMED;
	end = off + 40 + ((__u32)ip[4] << 8 | ip[5]);
	if (end > pkt->frame_len)
		return PARSE_MALFORMED;
	pkt->remote_off = off + (pkt->facing == TG_FACING_OUTSIDE ? 8 : 24);
	nh = ip[6];
	off += 40;
#pragma unroll
	for (i = 0; i < MAX_EXT_HEADERS; i++) {
		__u8 *h;
		__u32 hlen;

		if (!is_ext_header(nh))
			break;
		h = ptr_at(pkt->ctx, off, 8);
		if (!h || off + 8 > end || off + 8 > TG_HEADER_LIMIT)
			return PARSE_MALFORMED;
		if (nh == IPPROTO_FRAGMENT) {
			pkt->nonfirst_fragment = (((__u32)h[2] << 8 | h[3]) >> 3) != 0;
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
	if (pkt->nonfirst_fragment)
		return PARSE_IP;
	return parse_l4(pkt, off, end);
}

static __always_inline int parse(struct packet *pkt)
{
	__u32 off = ETH_HLEN, type, i;
	int ok = 1;

	type = read_be16(pkt->ctx, 12, &ok);
	if (!ok)
		return PARSE_MALFORMED;
#pragma unroll
	for (i = 0; i < MAX_VLAN_TAGS; i++) {
		if (type != ETH_P_8021Q && type != ETH_P_8021AD)
			break;
		type = read_be16(pkt->ctx, off + 2, &ok);
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

#endif /* TG_BPF_PARSE_H */
