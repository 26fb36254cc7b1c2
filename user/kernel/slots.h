/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Counter slots: which service owns which row of the per-CPU counters over
 * which generations. Pure planning on a copy of the pinned slot table, so
 * that attach, reload, rollback and crash recovery share one set of rules
 * and unit tests can call them without BPF.
 */
#ifndef TG_SLOTS_H
#define TG_SLOTS_H

#include "compile/compile.h"
#include "tollgate.h"

#include <stdbool.h>
#include <stdint.h>

/* A slot is live at generation g when added <= g and (retired == 0 or retired > g). */
bool tg_slot_live(const struct tg_slot *slot, uint32_t generation);

struct tg_slot_plan {
	struct tg_slot slots[TG_MAX_COUNTER_SLOTS]; /* the table to write back */
	uint32_t zero[TG_MAX_SERVICES];		    /* slots whose counters start from 0 */
	uint32_t nzero;
	unsigned kept, added, retired;
};

/*
 * Gives every service of img a counter slot for generation `next` (written
 * into img->services[].counter_slot): a service live at `live` keeps its
 * slot, a new one takes a free slot, and a live service no longer present
 * is retired at `next`. For an attach, pass an empty table and live = 0.
 * -ENOSPC when no slot is free.
 */
int tg_plan_slots(const struct tg_slot current[TG_MAX_COUNTER_SLOTS], uint32_t live, uint32_t next,
		  struct tg_image *img, struct tg_slot_plan *plan);

/* A rollback from generation gen to the one before it, as generation gen + 1:
 * slots gen added are retired, those it retired are live again. */
void tg_slots_roll_back(struct tg_slot slots[TG_MAX_COUNTER_SLOTS], uint32_t gen);

/* Forgets a reload past generation live that never switched. */
void tg_slots_forget_after(struct tg_slot slots[TG_MAX_COUNTER_SLOTS], uint32_t live);

#endif
