/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Whether the data plane decided a frame as the reference model did: the
 * differential test and the packet fuzzer ask the same question. */
#ifndef TG_TEST_AGREE_H
#define TG_TEST_AGREE_H

#include "model/classify.h"
#include "policy/policy.h"
#include "tollgate.h"

#include <stdbool.h>

static inline bool tg_decisions_agree(const struct tg_decision *want, int verdict, const struct tg_trace *t)
{
	if (want->verdict != verdict || t->verdict != verdict || want->reason != t->reason)
		return false;
	if (want->service < 0)
		return t->service == TG_NO_SERVICE;
	return t->service == (uint32_t)want->service && t->role == want->role;
}

/* An ICMP query type or its reply's (echo, timestamp, info, address mask). */
static inline bool tg_icmp_query_or_reply(bool v6, unsigned type)
{
	if (tg_icmp_reply_type(v6, type) >= 0)
		return true;
	for (unsigned t = 0; t < 256; t++)
		if (tg_icmp_reply_type(v6, t) == (int)type)
			return true;
	return false;
}

/*
 * The data plane's known deviations from docs/policy.md, found by the
 * differential test (issue 12; see test_differential.c). Callers that are
 * not strict let a mismatch pass when it is one of them:
 *  - ICMP types looked up the other way round (a quoted packet, an egress
 *    packet) lose the services without `types`: an ICMP error that quotes
 *    an ICMP message may be decided otherwise;
 *  - an ICMP message that is no query (a redirect, an unrelated error, ...)
 *    is keyed like an echo flow with identifier 0, so with such a flow live
 *    it passes as that flow's reply.
 */
static inline bool tg_known_deviation(const struct tg_pkt *pkt, const struct tg_decision *want,
				      const struct tg_trace *t)
{
	bool v6 = pkt->family == TG_FAMILY_V6;

	if (pkt->kind != TG_PKT_IP || pkt->protocol != (v6 ? 58 : 1))
		return false;
	if (pkt->has_quoted && pkt->quoted.protocol == (v6 ? 58 : 1))
		return true;
	return !tg_icmp_query_or_reply(v6, pkt->icmp_type) && t->reason == TG_REASON_SERVICE &&
	       t->role == TG_ROLE_REPLY && want->role != TG_ROLE_REPLY;
}

#endif
