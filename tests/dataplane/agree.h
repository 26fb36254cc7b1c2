/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Whether the data plane decided a frame as the reference model did: the
 * differential test and the packet fuzzer ask the same question. */
#ifndef TG_TEST_AGREE_H
#define TG_TEST_AGREE_H

#include "model/classify.h"
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

/*
 * The data plane's known deviation from docs/policy.md (issue 12, see
 * test_differential.c): ICMP types looked up the other way round (a quoted
 * packet, an egress packet) lose the services without `types`. A mismatch on
 * an ICMP error that quotes an ICMP message may be that; callers that are
 * not strict let it pass.
 */
static inline bool tg_known_deviation(const struct tg_pkt *pkt)
{
	bool v6 = pkt->family == TG_FAMILY_V6;

	return pkt->kind == TG_PKT_IP && pkt->has_quoted && pkt->quoted.protocol == (v6 ? 58 : 1);
}

#endif
