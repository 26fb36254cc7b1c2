/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The compiled form of a policy for one facing: what the loader writes into
 * the maps, and nothing the data plane must derive.
 */
#ifndef TG_IMAGE_H
#define TG_IMAGE_H

#include "policy/policy.h"
#include "tollgate.h"

#include <stdbool.h>
#include <stdio.h>

struct tg_image_service {
	const char *name; /* borrowed from the policy */
	uint8_t action;	  /* enum tg_action */
	uint8_t role;	  /* enum tg_role under the image's facing */
	uint32_t counter_slot;
	bool shadowed;		    /* earlier services take all of its traffic */
	bool unmatched;		    /* no address, protocol or port reaches it */
	struct tg_mask shadowed_by; /* earlier services that take some of it */
};

struct tg_image_prefix {
	uint8_t addr[16];
	uint8_t prefixlen;
	uint32_t cls;
};

struct tg_image {
	int facing;
	int settings[TG_SETTINGS];
	uint32_t nservices;
	struct tg_image_service *services;
	struct tg_mask *masks; /* class -> service mask; class 0 is empty */
	uint32_t nmasks;
	struct tg_image_prefix *prefixes[2]; /* by enum tg_family, sorted */
	size_t nprefixes[2];
	uint32_t *l4; /* TG_L4_ENTRIES classes, see tollgate.h */
	size_t unresolved_hosts;
};

void tg_image_free(struct tg_image *img);
/* A setting's value as the policy would spell it (timeouts in seconds). */
void tg_format_setting(const struct tg_image *img, int setting, char *buf, size_t size);
/* The text `tollgate compile` prints (tests/golden holds examples). */
void tg_image_print(const struct tg_image *img, FILE *out);

static inline bool tg_mask_test(const struct tg_mask *m, unsigned bit)
{
	return m->w[bit / 64] >> (bit % 64) & 1;
}

static inline void tg_mask_set(struct tg_mask *m, unsigned bit)
{
	m->w[bit / 64] |= 1ull << (bit % 64);
}

#endif
