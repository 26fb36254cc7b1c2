// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Counter slot planning (see slots.h). */
#include "kernel/slots.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

bool tg_slot_live(const struct tg_slot *slot, uint32_t generation)
{
	return slot->name[0] && slot->added <= generation && (slot->retired == 0 || slot->retired > generation);
}

/* A slot nobody can need again: empty, left by a crashed reload, or retired
 * at or before the live generation (a pending rollback is refused before we get here). */
static bool slot_free(const struct tg_slot *slot, uint32_t generation)
{
	return !slot->name[0] || slot->added > generation || (slot->retired && slot->retired <= generation);
}

static int find_live(const struct tg_slot *slots, const char *name, uint32_t generation)
{
	for (int i = 0; i < TG_MAX_COUNTER_SLOTS; i++)
		if (tg_slot_live(&slots[i], generation) && !strcmp(slots[i].name, name))
			return i;
	return -1;
}

int tg_plan_slots(const struct tg_slot current[TG_MAX_COUNTER_SLOTS], uint32_t live, uint32_t next,
		  struct tg_image *img, struct tg_slot_plan *plan)
{
	bool taken[TG_MAX_COUNTER_SLOTS] = { 0 };
	int cursor = 0;

	memset(plan, 0, sizeof(*plan));
	memcpy(plan->slots, current, sizeof(plan->slots));
	for (uint32_t s = 0; s < img->nservices; s++) {
		int slot = find_live(plan->slots, img->services[s].name, live);

		if (slot >= 0) {
			taken[slot] = true;
			plan->slots[slot].retired = 0; /* a crashed reload may have marked it */
			img->services[s].counter_slot = (uint32_t)slot;
			plan->kept++;
			continue;
		}
		while (cursor < TG_MAX_COUNTER_SLOTS && (taken[cursor] || !slot_free(&plan->slots[cursor], live)))
			cursor++;
		if (cursor == TG_MAX_COUNTER_SLOTS || plan->nzero == TG_MAX_SERVICES)
			return -ENOSPC;
		memset(&plan->slots[cursor], 0, sizeof(plan->slots[cursor]));
		snprintf(plan->slots[cursor].name, sizeof(plan->slots[cursor].name), "%s", img->services[s].name);
		plan->slots[cursor].added = next;
		taken[cursor] = true;
		plan->zero[plan->nzero++] = (uint32_t)cursor;
		img->services[s].counter_slot = (uint32_t)cursor;
		plan->added++;
	}
	for (int i = 0; i < TG_MAX_COUNTER_SLOTS; i++)
		if (!taken[i] && tg_slot_live(&plan->slots[i], live)) {
			plan->slots[i].retired = next;
			plan->retired++;
		}
	return 0;
}

void tg_slots_roll_back(struct tg_slot slots[TG_MAX_COUNTER_SLOTS], uint32_t gen)
{
	for (int i = 0; i < TG_MAX_COUNTER_SLOTS; i++) {
		if (slots[i].added == gen && tg_slot_live(&slots[i], gen))
			slots[i].retired = gen + 1;
		else if (slots[i].retired == gen)
			slots[i].retired = 0;
	}
}

void tg_slots_forget_after(struct tg_slot slots[TG_MAX_COUNTER_SLOTS], uint32_t live)
{
	/* Slots it added lie beyond the live generation and count as free. */
	for (int i = 0; i < TG_MAX_COUNTER_SLOTS; i++)
		if (slots[i].retired > live)
			slots[i].retired = 0;
}
