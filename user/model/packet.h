/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef TG_PACKET_H
#define TG_PACKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum tg_pkt_kind { TG_PKT_IP, TG_PKT_NON_IP, TG_PKT_MALFORMED };

/* The packet an ICMP error quotes, as far as flows and services need it. */
struct tg_quoted {
	uint8_t src[16], dst[16];
	uint8_t protocol; /* the quoted IP header's protocol / next header, not walked */
	uint16_t sport, dport;
	uint8_t tcp_flags; /* TCP: ACK when the quote stops before the flags */
	uint8_t icmp_type;
	uint16_t icmp_id;
};

/* What the classifier needs of a packet, in host order. */
struct tg_pkt {
	enum tg_pkt_kind kind;
	int family; /* enum tg_family */
	uint8_t src[16], dst[16];
	uint8_t protocol;
	bool nonfirst_fragment;
	bool more_fragments;   /* MF (IPv4) or M (IPv6 fragment header) */
	uint16_t sport, dport; /* TCP, UDP, SCTP */
	uint8_t tcp_flags;
	uint8_t icmp_type;
	uint16_t icmp_id; /* bytes 4-5 of the ICMP header (queries: the identifier) */
	bool has_quoted;  /* an ICMP message whose body starts with a readable packet */
	struct tg_quoted quoted;
	uint32_t len; /* the whole frame */
};

#define TG_TCP_FIN 0x01
#define TG_TCP_SYN 0x02
#define TG_TCP_RST 0x04
#define TG_TCP_ACK 0x10

/*
 * Parses an Ethernet frame the way docs/policy.md says the data plane must.
 * Written independently of bpf/ so that the two can be compared.
 */
void tg_pkt_parse(const uint8_t *frame, size_t len, struct tg_pkt *pkt);

/* The remote and the local address of a packet seen under a facing (the
 * sender is the remote on an outside-facing view). */
const uint8_t *tg_pkt_remote(const struct tg_pkt *pkt, int facing);
const uint8_t *tg_pkt_local(const struct tg_pkt *pkt, int facing);

#endif
