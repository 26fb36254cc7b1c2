// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "pktbuild.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

bool pb_addrs(struct pb_packet *p, const char *src, const char *dst)
{
	int af;

	p->family = strchr(src, ':') ? 6 : 4;
	af = p->family == 6 ? AF_INET6 : AF_INET;
	memset(p->src, 0, 16);
	memset(p->dst, 0, 16);
	return inet_pton(af, src, p->src) == 1 && inet_pton(af, dst, p->dst) == 1;
}

static void put16(uint8_t *b, unsigned v)
{
	b[0] = (uint8_t)(v >> 8);
	b[1] = (uint8_t)v;
}

static size_t l4_len(const struct pb_packet *p)
{
	switch (p->protocol) {
	case IPPROTO_TCP:
		return 20;
	case IPPROTO_UDP:
		return 8;
	case IPPROTO_SCTP:
		return 12;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		return 8;
	}
	return 0;
}

static void write_l4(const struct pb_packet *p, uint8_t *b)
{
	switch (p->protocol) {
	case IPPROTO_TCP:
		put16(b, p->sport);
		put16(b + 2, p->dport);
		b[12] = 5 << 4;
		b[13] = p->tcp_flags;
		put16(b + 14, 65535);
		break;
	case IPPROTO_UDP:
	case IPPROTO_SCTP:
		put16(b, p->sport);
		put16(b + 2, p->dport);
		if (p->protocol == IPPROTO_UDP)
			put16(b + 4, (unsigned)(8 + p->payload));
		break;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		b[0] = p->icmp_type;
		b[1] = p->icmp_code;
		break;
	}
}

static size_t ext_len(uint8_t type)
{
	return type == IPPROTO_AH ? 12 : 8;
}

size_t pb_build(const struct pb_packet *p, uint8_t *buf, size_t cap)
{
	bool nonfirst = p->fragment && p->frag_offset;
	size_t l4 = nonfirst ? 0 : l4_len(p), off = 12, ip, exts = 0, total;
	uint16_t type = p->ethertype ? p->ethertype : p->family == 6 ? 0x86dd : 0x0800;
	int n_ext = p->next;

	if (p->family == 6 && p->fragment) {
		n_ext++;
	}
	for (int i = 0; i < p->next; i++)
		exts += ext_len(p->ext[i]);
	if (p->family == 6 && p->fragment)
		exts += 8;
	total = 14 + 4 * (size_t)p->vlan_tags + (p->family == 6 ? 40 + exts : 20 + p->ipv4_options) + l4 + p->payload;
	if (total > cap)
		return 0;
	memset(buf, 0, total);
	memcpy(buf, "\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01", 12);
	for (int t = 0; t < p->vlan_tags; t++) {
		put16(buf + off, t == 0 && p->outer_tpid ? p->outer_tpid : 0x8100);
		put16(buf + off + 2, (unsigned)(100 + t));
		off += 4;
	}
	put16(buf + off, type);
	ip = off + 2;
	if (type != 0x0800 && type != 0x86dd)
		return total;
	if (p->family == 4) {
		size_t ihl = 20 + p->ipv4_options;

		buf[ip] = (uint8_t)(0x40 | ihl / 4);
		put16(buf + ip + 2, (unsigned)(ihl + l4 + p->payload));
		put16(buf + ip + 6, (p->more_fragments ? 0x2000u : 0) | (p->fragment ? p->frag_offset : 0));
		buf[ip + 8] = 64;
		buf[ip + 9] = p->protocol;
		memcpy(buf + ip + 12, p->src, 4);
		memcpy(buf + ip + 16, p->dst, 4);
		for (size_t o = 0; o < p->ipv4_options; o++)
			buf[ip + 20 + o] = 1; /* NOP options */
		write_l4(p, buf + ip + ihl);
		return total;
	}
	buf[ip] = 0x60;
	put16(buf + ip + 4, (unsigned)(exts + l4 + p->payload));
	buf[ip + 7] = 64;
	memcpy(buf + ip + 8, p->src, 16);
	memcpy(buf + ip + 24, p->dst, 16);
	{
		uint8_t *nh = buf + ip + 6;
		size_t at = ip + 40;

		for (int i = 0; i < n_ext; i++) {
			uint8_t t = i < p->next ? p->ext[i] : IPPROTO_FRAGMENT;

			*nh = t;
			nh = buf + at;
			if (t == IPPROTO_FRAGMENT) {
				put16(buf + at + 2, (unsigned)(p->frag_offset << 3) | (p->more_fragments ? 1u : 0));
				at += 8;
			} else if (t == IPPROTO_AH) {
				buf[at + 1] = 1; /* (1 + 2) * 4 = 12 bytes */
				at += 12;
			} else {
				at += 8; /* length 0: 8 bytes */
			}
		}
		*nh = p->protocol;
		write_l4(p, buf + at);
	}
	return total;
}
