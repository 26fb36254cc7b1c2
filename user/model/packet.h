/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef TG_PACKET_H
#define TG_PACKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum tg_pkt_kind { TG_PKT_IP, TG_PKT_NON_IP, TG_PKT_MALFORMED };

/* What the classifier needs of a packet, in host order. */
struct tg_pkt {
	enum tg_pkt_kind kind;
	int family; /* enum tg_family */
	uint8_t src[16], dst[16];
	uint8_t protocol;
	bool nonfirst_fragment;
	uint16_t sport, dport; /* TCP, UDP, SCTP */
	uint8_t tcp_flags;
	uint8_t icmp_type;
	uint32_t len; /* the whole frame */
};

#define TG_TCP_ACK 0x10

/*
 * Parses an Ethernet frame the way docs/policy.md says the data plane must.
 * Written independently of bpf/ so that the two can be compared.
 */
void tg_pkt_parse(const uint8_t *frame, size_t len, struct tg_pkt *pkt);

#endif
