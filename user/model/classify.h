/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef TG_CLASSIFY_H
#define TG_CLASSIFY_H

#include "model/flows.h"
#include "model/packet.h"
#include "policy/hostmap.h"
#include "policy/policy.h"

#include <stddef.h>
#include <stdint.h>

struct tg_decision {
	int verdict; /* enum tg_action */
	int service; /* index, or -1 */
	int role;    /* enum tg_role, or -1 */
	int reason;  /* enum tg_reason */
};

/*
 * The reference classifier: a plain first-match walk over the parsed policy,
 * used as the oracle for the data plane. Slow and obvious on purpose. It
 * knows no flows: replies are decided as under `replies stateless`.
 */
void tg_reference_classify(const struct tg_policy *pol, const struct tg_hostmap *hosts, int facing,
			   const struct tg_pkt *pkt, struct tg_decision *out);

/*
 * A packet arriving at the XDP hook, with flows (docs/policy.md, "Flows"):
 * under `replies tracked` a reply needs a live flow in flows, and an allowed
 * request opens or refreshes its flow there. With flows NULL, or under
 * `replies stateless`, this is tg_reference_classify.
 */
void tg_reference_arrive(const struct tg_policy *pol, const struct tg_hostmap *hosts, int facing,
			 struct tg_flow_model *flows, const struct tg_pkt *pkt, struct tg_decision *out);

/* A packet leaving through the egress classifier of an attachment with this
 * facing: it decides nothing, but records flows (requests open, replies
 * refresh) as the other facing sees them. */
void tg_reference_egress(const struct tg_policy *pol, const struct tg_hostmap *hosts, int facing,
			 struct tg_flow_model *flows, const struct tg_pkt *pkt);

#endif
