// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Counter slot planning: the one owner of slots for attach, reload,
 * rollback and crash recovery (user/slots.c), without BPF. */
#include "helpers.h"
#include "kernel/slots.h"

#include <stdlib.h>

/* An image whose services have these names, in order. */
static void image_of(struct tg_image *img, const char *const *names, uint32_t n)
{
	memset(img, 0, sizeof(*img));
	img->nservices = n;
	img->services = calloc(n ? n : 1, sizeof(*img->services));
	for (uint32_t i = 0; i < n; i++)
		img->services[i].name = names[i];
}

static int slot_of(const struct tg_slot *slots, const char *name, uint32_t gen)
{
	for (int i = 0; i < TG_MAX_COUNTER_SLOTS; i++)
		if (tg_slot_live(&slots[i], gen) && !strcmp(slots[i].name, name))
			return i;
	return -1;
}

static void attach_gives_each_service_a_fresh_slot(void **state)
{
	static const char *const names[] = { "a", "b", "c" };
	struct tg_slot *empty = calloc(TG_MAX_COUNTER_SLOTS, sizeof(*empty));
	struct tg_slot_plan *plan = calloc(1, sizeof(*plan));
	struct tg_image img;

	(void)state;
	image_of(&img, names, 3);
	assert_int_equal(tg_plan_slots(empty, 0, 1, &img, plan), 0);
	assert_int_equal(plan->added, 3);
	assert_int_equal(plan->kept + plan->retired, 0);
	assert_int_equal(plan->nzero, 3);
	for (uint32_t i = 0; i < 3; i++) {
		assert_int_equal(slot_of(plan->slots, names[i], 1), (int)img.services[i].counter_slot);
		assert_int_equal(plan->zero[i], img.services[i].counter_slot);
	}
	free(img.services);
	free(plan);
	free(empty);
}

/* Generation 1 {a, b, c} -> generation 2 {c, d, a}: a and c keep their
 * counters, b is retired at 2, d is new and starts from zero. */
static void reload_keeps_counters_by_name(void **state)
{
	static const char *const first[] = { "a", "b", "c" }, *const second[] = { "c", "d", "a" };
	struct tg_slot_plan *p1 = calloc(1, sizeof(*p1)), *p2 = calloc(1, sizeof(*p2));
	struct tg_slot *empty = calloc(TG_MAX_COUNTER_SLOTS, sizeof(*empty));
	struct tg_image i1, i2;
	int b;

	(void)state;
	image_of(&i1, first, 3);
	image_of(&i2, second, 3);
	assert_int_equal(tg_plan_slots(empty, 0, 1, &i1, p1), 0);
	assert_int_equal(tg_plan_slots(p1->slots, 1, 2, &i2, p2), 0);
	assert_int_equal(p2->kept, 2);
	assert_int_equal(p2->added, 1);
	assert_int_equal(p2->retired, 1);
	assert_int_equal(i2.services[0].counter_slot, i1.services[2].counter_slot); /* c */
	assert_int_equal(i2.services[2].counter_slot, i1.services[0].counter_slot); /* a */
	b = (int)i1.services[1].counter_slot;
	assert_int_equal(p2->slots[b].retired, 2);
	assert_true(tg_slot_live(&p2->slots[b], 1) && !tg_slot_live(&p2->slots[b], 2));
	/* d must not reuse b's slot while generation 1 may still be rolled back to. */
	assert_int_not_equal((int)i2.services[1].counter_slot, b);
	assert_int_equal(p2->nzero, 1);
	assert_int_equal(p2->zero[0], i2.services[1].counter_slot);
	free(i1.services);
	free(i2.services);
	free(p1);
	free(p2);
	free(empty);
}

static void rollback_restores_the_previous_owners(void **state)
{
	static const char *const first[] = { "a", "b" }, *const second[] = { "a", "c" };
	struct tg_slot_plan *p1 = calloc(1, sizeof(*p1)), *p2 = calloc(1, sizeof(*p2));
	struct tg_slot *empty = calloc(TG_MAX_COUNTER_SLOTS, sizeof(*empty));
	struct tg_image i1, i2;

	(void)state;
	image_of(&i1, first, 2);
	image_of(&i2, second, 2);
	assert_int_equal(tg_plan_slots(empty, 0, 1, &i1, p1), 0);
	assert_int_equal(tg_plan_slots(p1->slots, 1, 2, &i2, p2), 0);
	tg_slots_roll_back(p2->slots, 2); /* generation 3 enforces generation 1's policy */
	assert_int_equal(slot_of(p2->slots, "a", 3), (int)i1.services[0].counter_slot);
	assert_int_equal(slot_of(p2->slots, "b", 3), (int)i1.services[1].counter_slot);
	assert_int_equal(slot_of(p2->slots, "c", 3), -1);
	free(i1.services);
	free(i2.services);
	free(p1);
	free(p2);
	free(empty);
}

static void forgotten_reload_frees_what_it_took(void **state)
{
	static const char *const first[] = { "a", "b" }, *const second[] = { "c" };
	struct tg_slot_plan *p1 = calloc(1, sizeof(*p1)), *p2 = calloc(1, sizeof(*p2));
	struct tg_slot *empty = calloc(TG_MAX_COUNTER_SLOTS, sizeof(*empty));
	struct tg_image i1, i2;

	(void)state;
	image_of(&i1, first, 2);
	image_of(&i2, second, 1);
	assert_int_equal(tg_plan_slots(empty, 0, 1, &i1, p1), 0);
	assert_int_equal(tg_plan_slots(p1->slots, 1, 2, &i2, p2), 0);
	tg_slots_forget_after(p2->slots, 1); /* the switch to 2 never happened */
	assert_int_equal(slot_of(p2->slots, "a", 1), (int)i1.services[0].counter_slot);
	assert_int_equal(slot_of(p2->slots, "b", 1), (int)i1.services[1].counter_slot);
	assert_true(tg_slot_live(&p2->slots[slot_of(p2->slots, "a", 1)], 2)); /* no longer retired */
	free(i1.services);
	free(i2.services);
	free(p1);
	free(p2);
	free(empty);
}

static void a_full_table_is_enospc(void **state)
{
	static const char *const one[] = { "fresh" };
	struct tg_slot *full = calloc(TG_MAX_COUNTER_SLOTS, sizeof(*full));
	struct tg_slot_plan *plan = calloc(1, sizeof(*plan));
	struct tg_image img;

	(void)state;
	for (int i = 0; i < TG_MAX_COUNTER_SLOTS; i++) {
		snprintf(full[i].name, sizeof(full[i].name), "s%d", i);
		full[i].added = 1;
	}
	image_of(&img, one, 1);
	assert_int_equal(tg_plan_slots(full, 1, 2, &img, plan), -ENOSPC);
	free(img.services);
	free(plan);
	free(full);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(attach_gives_each_service_a_fresh_slot),
		cmocka_unit_test(reload_keeps_counters_by_name),
		cmocka_unit_test(rollback_restores_the_previous_owners),
		cmocka_unit_test(forgotten_reload_frees_what_it_took),
		cmocka_unit_test(a_full_table_is_enospc),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
