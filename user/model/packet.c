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

/*
 * The packet an ICMP message quotes after its 8-byte header: the IP header
 * (no extension headers walked: the next header is the protocol) and the
 * first 8 bytes of its transport header. It is read as far as the frame
 * goes, as the data plane reads it.
 */
static void parse_quoted(const uint8_t *frame, size_t len, size_t at, struct tg_pkt *pkt)
{
	struct tg_quoted *q = &pkt->quoted;
	const uint8_t *ip = frame + at, *h;
	size_t l4;

	if (pkt->family == TG_FAMILY_V4) {
		if (at + 20 > len || ip[0] >> 4 != 4 || (ip[0] & 0xf) < 5 || (be16(ip + 6) & 0x1fff))
			return;
		memcpy(q->src, ip + 12, 4);
		memcpy(q->dst, ip + 16, 4);
		q->protocol = ip[9];
		l4 = at + (size_t)(ip[0] & 0xf) * 4;
	} else {
		if (at + 40 > len || ip[0] >> 4 != 6)
			return;
		memcpy(q->src, ip + 8, 16);
		memcpy(q->dst, ip + 24, 16);
		q->protocol = ip[6];
		l4 = at + 40;
	}
	if (l4 + 8 > len)
		return;
	h = frame + l4;
	if (q->protocol == IPPROTO_TCP || q->protocol == IPPROTO_UDP || q->protocol == IPPROTO_SCTP) {
		q->sport = be16(h);
		q->dport = be16(h + 2);
		q->tcp_flags = l4 + 14 <= len ? h[13] : TG_TCP_ACK;
	} else {
		q->icmp_type = h[0];
		q->icmp_id = be16(h + 4);
	}
	pkt->has_quoted = true;
}

/* The L4 header must lie inside the IP packet, not in Ethernet padding. */
static bool parse_l4(const uint8_t *frame, size_t len, size_t l4, size_t ip_end, struct tg_pkt *pkt)
{
	const uint8_t *h = frame + l4;
	size_t end = ip_end < TG_HEADER_LIMIT ? ip_end : TG_HEADER_LIMIT;
	size_t avail = end > l4 ? end - l4 : 0;
	size_t payload = ip_end > l4 ? ip_end - l4 : 0, udp_len;

	switch (pkt->protocol) {
	case IPPROTO_TCP:
		if (avail < 20 || (h[12] >> 4) < 5 || (size_t)(h[12] >> 4) * 4 > avail)
			return false;
		pkt->sport = be16(h);
		pkt->dport = be16(h + 2);
		pkt->tcp_flags = h[13];
		return true;
	case IPPROTO_UDP:
		if (avail < 8)
			return false;
		/* the UDP length is the IP payload's; a first fragment's
		 * datagram goes on beyond it */
		udp_len = be16(h + 4);
		if (udp_len < 8 || (pkt->more_fragments ? udp_len <= payload : udp_len != payload))
			return false;
		pkt->sport = be16(h);
		pkt->dport = be16(h + 2);
		return true;
	case IPPROTO_SCTP:
		if (avail < 12)
			return false;
		pkt->sport = be16(h);
		pkt->dport = be16(h + 2);
		return true;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		if ((pkt->protocol == IPPROTO_ICMP) != (pkt->family == TG_FAMILY_V4))
			return true; /* ICMP of the other family: just a protocol number */
		if (avail < 8)
			return false; /* both families' headers are 8 bytes */
		pkt->icmp_type = h[0];
		pkt->icmp_id = be16(h + 4);
		parse_quoted(frame, len, l4 + 8, pkt);
		return true;
	}
	return true;
}

/* RFC 4942 2.2: an IPv6 address that embeds an IPv4 one, IPv4-mapped
 * ::ffff:0:0/96 or IPv4-compatible ::/96 (but :: and ::1). */
static bool embeds_ipv4(const uint8_t *a)
{
	static const uint8_t zero[12], mapped[12] = { [10] = 0xff, [11] = 0xff };
	static const uint8_t none[4], one[4] = { 0, 0, 0, 1 };

	if (!memcmp(a, mapped, 12))
		return true;
	return !memcmp(a, zero, 12) && memcmp(a + 12, none, 4) && memcmp(a + 12, one, 4);
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
	pkt->more_fragments = (be16(ip + 6) & 0x2000) != 0;
	/* RFC 3128: a TCP fragment at offset 1 can only rewrite the flags */
	if (pkt->protocol == IPPROTO_TCP && (be16(ip + 6) & 0x1fff) == 1)
		return;
	if (!pkt->nonfirst_fragment && !parse_l4(frame, len, l3 + ihl, l3 + tot, pkt))
		return;
	pkt->kind = TG_PKT_IP;
}

static void parse_ipv6(const uint8_t *frame, size_t len, size_t l3, struct tg_pkt *pkt)
{
	const uint8_t *ip = frame + l3;
	size_t off, end;
	uint8_t nh;
	unsigned offset = 0;

	pkt->family = TG_FAMILY_V6;
	if (len - l3 < 40 || (ip[0] >> 4) != 6)
		return;
	end = l3 + 40 + be16(ip + 4);
	if (end > len || embeds_ipv4(ip + 8) || embeds_ipv4(ip + 24))
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
			offset = be16(frame + off + 2) >> 3;
			pkt->nonfirst_fragment = offset != 0;
			pkt->more_fragments = frame[off + 3] & 1;
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
	if (nh == IPPROTO_TCP && offset == 1)
		return; /* RFC 3128, as in IPv4 */
	if (!pkt->nonfirst_fragment && !parse_l4(frame, len, off, end, pkt))
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

const uint8_t *tg_pkt_remote(const struct tg_pkt *pkt, int facing)
{
	return facing == TG_FACING_OUTSIDE ? pkt->src : pkt->dst;
}

const uint8_t *tg_pkt_local(const struct tg_pkt *pkt, int facing)
{
	return facing == TG_FACING_OUTSIDE ? pkt->dst : pkt->src;
}
