/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef TG_COMPILE_H
#define TG_COMPILE_H

#include "compile/image.h"
#include "policy/hostmap.h"
#include "policy/policy.h"

/*
 * Compiles a resolved policy for one facing into img, and marks what the
 * analysis finds (see analyse.h). hosts may be NULL. Returns 0, -E2BIG for
 * too many services, or -EDOM for too many peer classes; img is then empty.
 */
int tg_compile(const struct tg_policy *pol, int facing, const struct tg_hostmap *hosts, struct tg_image *img);

/* Role a service of this direction plays on a NIC of this facing. */
int tg_service_role(int direction, int facing);

#endif
