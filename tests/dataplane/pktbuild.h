/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Builds test frames byte by byte: Ethernet, VLANs, IPv4/IPv6, L4. */
#ifndef TG_PKTBUILD_H
#define TG_PKTBUILD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PB_MAX_EXT 10

struct pb_packet {
	uint16_t ethertype;  /* 0: from family */
	int vlan_tags;	     /* 0, 1, 2 (or more, to test refusal) */
	uint16_t outer_tpid; /* 0x8100 or 0x88a8 for the first tag */
	int family;	     /* 4 or 6 */
	uint8_t src[16], dst[16];
	uint8_t protocol; /* IPv4 protocol or the last IPv6 next header */
	uint16_t sport, dport;
	uint8_t tcp_flags;
	uint8_t icmp_type, icmp_code;
	unsigned ipv4_options;	 /* bytes, a multiple of 4, at most 40 */
	uint8_t ext[PB_MAX_EXT]; /* IPv6 extension headers in order: 0, 43, 60, 51, 44 */
	int next;
	bool fragment;	      /* IPv4: set MF/offset; IPv6: add a fragment header */
	uint16_t frag_offset; /* in 8-byte units */
	bool more_fragments;
	size_t payload;
};

/* Fills in addresses from text; returns false on a bad address. */
bool pb_addrs(struct pb_packet *p, const char *src, const char *dst);
/* Writes the frame into buf; returns its length (0 if it does not fit). */
size_t pb_build(const struct pb_packet *p, uint8_t *buf, size_t cap);

#endif
