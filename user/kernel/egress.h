/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The egress classifier: records the flows of the host's own allowed
 * requests before their replies arrive at the XDP program. tcx where the
 * kernel has it (6.6), a clsact filter where it does not: tried in that
 * order, never chosen by version.
 */
#ifndef TG_EGRESS_H
#define TG_EGRESS_H

#include "tollgate.h"

#include <stdint.h>

struct tg_egress {
	enum tg_egress_kind kind;
	uint32_t prog_id;
};

/* Loads the classifier against pin_dir's maps and the shared flow tables
 * and attaches it to ifindex's egress; a tcx link is pinned in pin_dir. */
int tg_egress_attach(const char *pin_dir, int facing, int ifindex, struct tg_egress *out);
/* Removes what tg_egress_attach put there (kind and prog_id as recorded;
 * prog_id 0: a clsact filter under tollgate's handle whose program is
 * tollgate's classifier, whatever its id). */
int tg_egress_detach(const char *pin_dir, int ifindex, enum tg_egress_kind kind, uint32_t prog_id);
/* "tcx", "clsact" or "none". */
const char *tg_egress_kind_name(enum tg_egress_kind kind);

#endif
