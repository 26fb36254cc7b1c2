// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The reference packet parser. It follows the rules of docs/policy.md with
 * plain byte offsets, sharing no code with bpf/, so a disagreement between
 * the two shows up in the differential test instead of hiding in a shared
 * helper.
 */
#include "model/packet.h"
#include "tollgate.h"

#include <netinet/in.h>
#include <string.h>

#define ETH_HLEN 14
#define MAX_VLAN_TAGS 2
#define MAX_EXT_HEADERS 8

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static bool is_vlan(uint16_t type)
{
	return type == 0x8100 || type == 0x88a8;
}

/* The L4 header must lie inside the IP packet, not in Ethernet padding. */
static bool parse_l4(const uint8_t *frame, size_t l4, size_t ip_end, struct tg_pkt *pkt)
{
	const uint8_t *h = frame + l4;
	size_t end = ip_end < TG_HEADER_LIMIT ? ip_end : TG_HEADER_LIMIT;
	size_t avail = end > l4 ? end - l4 : 0;

	switch (pkt->protocol) {
	case IPPROTO_TCP:
		if (avail < 20 || (h[12] >> 4) < 5 || (size_t)(h[12] >> 4) * 4 > avail)
			return false;
		pkt->sport = be16(h);
		pkt->dport = be16(h + 2);
		pkt->tcp_flags = h[13];
		return true;
	case IPPROTO_UDP:
	case IPPROTO_SCTP:
		if (avail < (pkt->protocol == IPPROTO_UDP ? 8u : 12u))
			return false;
		pkt->sport = be16(h);
		pkt->dport = be16(h + 2);
		return true;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		if ((pkt->protocol == IPPROTO_ICMP) != (pkt->family == TG_FAMILY_V4))
			return true; /* ICMP of the other family: just a protocol number */
		if (avail < 4)
			return false;
		pkt->icmp_type = h[0];
		return true;
	}
	return true;
}

static void parse_ipv4(const uint8_t *frame, size_t len, size_t l3, struct tg_pkt *pkt)
{
	const uint8_t *ip = frame + l3;
	size_t ihl, tot;

	pkt->family = TG_FAMILY_V4;
	if (len - l3 < 20 || (ip[0] >> 4) != 4)
		return;
	ihl = (size_t)(ip[0] & 0xf) * 4;
	tot = be16(ip + 2);
	if (ihl < 20 || tot < ihl || l3 + tot > len)
		return;
	memcpy(pkt->src, ip + 12, 4);
	memcpy(pkt->dst, ip + 16, 4);
	pkt->protocol = ip[9];
	pkt->nonfirst_fragment = (be16(ip + 6) & 0x1fff) != 0;
	if (!pkt->nonfirst_fragment && !parse_l4(frame, l3 + ihl, l3 + tot, pkt))
		return;
	pkt->kind = TG_PKT_IP;
}

static void parse_ipv6(const uint8_t *frame, size_t len, size_t l3, struct tg_pkt *pkt)
{
	const uint8_t *ip = frame + l3;
	size_t off, end;
	uint8_t nh;

	pkt->family = TG_FAMILY_V6;
	if (len - l3 < 40 || (ip[0] >> 4) != 6)
		return;
	end = l3 + 40 + be16(ip + 4);
	if (end > len)
		return;
	memcpy(pkt->src, ip + 8, 16);
	memcpy(pkt->dst, ip + 24, 16);
	nh = ip[6];
	off = l3 + 40;
	for (int i = 0;; i++) {
		size_t hlen;

		/* Delivery headers only: AH is a protocol, as in IPv4 (docs/policy.md). */
		if (nh != IPPROTO_HOPOPTS && nh != IPPROTO_ROUTING && nh != IPPROTO_DSTOPTS && nh != IPPROTO_FRAGMENT)
			break;
		if (i == MAX_EXT_HEADERS || off + 8 > end || off + 8 > TG_HEADER_LIMIT)
			return; /* too long a chain, or a header cut short */
		if (nh == IPPROTO_FRAGMENT) {
			pkt->nonfirst_fragment = (be16(frame + off + 2) >> 3) != 0;
			nh = frame[off];
			off += 8;
			if (pkt->nonfirst_fragment)
				break;
			continue;
		}
		hlen = ((size_t)frame[off + 1] + 1) * 8;
		if (off + hlen > end || off + hlen > TG_HEADER_LIMIT)
			return;
		nh = frame[off];
		off += hlen;
	}
	pkt->protocol = nh;
	if (!pkt->nonfirst_fragment && !parse_l4(frame, off, end, pkt))
		return;
	pkt->kind = TG_PKT_IP;
}

void tg_pkt_parse(const uint8_t *frame, size_t len, struct tg_pkt *pkt)
{
	size_t off = ETH_HLEN;
	uint16_t type;

	memset(pkt, 0, sizeof(*pkt));
	pkt->kind = TG_PKT_MALFORMED;
	pkt->len = (uint32_t)len;
	if (len < ETH_HLEN)
		return;
	type = be16(frame + 12);
	for (int tags = 0; is_vlan(type); tags++) {
		if (tags == MAX_VLAN_TAGS || off + 4 > len)
			return;
		type = be16(frame + off + 2);
		off += 4;
	}
	if (type == 0x0800)
		parse_ipv4(frame, len, off, pkt);
	else if (type == 0x86dd)
		parse_ipv6(frame, len, off, pkt);
	else
		pkt->kind = TG_PKT_NON_IP;
}
