/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * tollgate trace's side of the attachment: a tracer slot in the pinned
 * `tracers` map (include/tollgate.h) and its ring buffer. Claim and release
 * under the interface's lock; the ring is read without it.
 */
#ifndef TG_KERNEL_TRACE_H
#define TG_KERNEL_TRACE_H

#include "tollgate.h"

/* Takes a free tracer slot (or one whose process is gone) for this
 * process: its index, -EBUSY when all TG_TRACERS are taken, -ENOENT when
 * the attachment has no tracers map (an older tollgate attached it). */
int tg_trace_claim(const char *dir, const struct tg_tracer *want);
/* Frees slot k, if this process still holds it. */
void tg_trace_release(const char *dir, int k);
/* The ring buffer of slot k: an fd, or a negative errno. */
int tg_trace_ring(const char *dir, int k);

#endif
