/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef TG_CLASSIFY_H
#define TG_CLASSIFY_H

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
 * used as the oracle for the data plane. Slow and obvious on purpose.
 */
void tg_reference_classify(const struct tg_policy *pol, const struct tg_hostmap *hosts, int facing,
			   const struct tg_pkt *pkt, struct tg_decision *out);

#endif
