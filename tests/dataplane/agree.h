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

#endif
