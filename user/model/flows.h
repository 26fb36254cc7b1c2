/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef TG_MODEL_FLOWS_H
#define TG_MODEL_FLOWS_H

#include "model/packet.h"
#include "policy/policy.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * The reference flow table (docs/policy.md, "Flows"): a plain list, searched
 * from the start, with no size limit and no eviction. A flow past its expiry
 * is gone. Written from the documentation, not from bpf/.
 */
struct tg_model_flow {
	int opener; /* enum tg_opener */
	int family; /* enum tg_family */
	uint8_t protocol;
	uint8_t remote[16], local[16];
	uint16_t remote_port, local_port; /* ICMP queries: 0 and the identifier */
	int state;			  /* enum tg_flow_state */
	uint64_t expires_ns;
};

struct tg_flow_model {
	uint64_t now_ns;
	struct tg_model_flow *items;
	size_t n, cap;
};

void tg_flow_model_init(struct tg_flow_model *m);
void tg_flow_model_free(struct tg_flow_model *m);
/* Forgets every flow (the clock stays). */
void tg_flow_model_clear(struct tg_flow_model *m);
void tg_flow_model_set_clock(struct tg_flow_model *m, uint64_t now_ns);
/* Live flows of one opener (enum tg_opener), or of both with -1. */
size_t tg_flow_model_live(const struct tg_flow_model *m, int opener);

/* The flow a packet belongs to, as seen under a facing (the sender is the
 * remote on an outside-facing view); false when it can belong to none (ICMP
 * messages that are not queries). */
bool tg_flow_model_key(const struct tg_pkt *pkt, int facing, struct tg_model_flow *key);
/* The same for the packet an ICMP error quotes: it went the other way. */
bool tg_flow_model_quoted_key(const struct tg_pkt *pkt, int facing, struct tg_model_flow *key);

/* An allowed request seen under facing: opens or refreshes its flow. */
void tg_flow_model_open(struct tg_flow_model *m, const struct tg_policy *pol, const struct tg_pkt *pkt, int facing);
/* A reply seen under facing: whether the receiver's side opened a live
 * flow for it; if so, the flow takes the packet (state, expiry). */
bool tg_flow_model_answer(struct tg_flow_model *m, const struct tg_policy *pol, const struct tg_pkt *pkt, int facing);
/* Whether a reply seen under facing has a live flow, changing nothing. */
bool tg_flow_model_reply_is_live(const struct tg_flow_model *m, const struct tg_pkt *pkt, int facing);
/* Whether key (any opener) is a live flow. */
bool tg_flow_model_is_live(const struct tg_flow_model *m, const struct tg_model_flow *key);

#endif
