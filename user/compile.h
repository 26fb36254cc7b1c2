/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef TG_COMPILE_H
#define TG_COMPILE_H

#include "policy.h"
#include "../include/tollgate.h"

#include <stdio.h>

/* Fixed addresses for host-name peers (--host NAME=ADDR, or the resolver). */
struct tg_host_addr {
	char *name;
	bool v6;
	uint8_t addr[16];
};

struct tg_hostmap {
	struct tg_host_addr *items;
	size_t n, cap;
};

/* "NAME=ADDR[,ADDR...]"; returns 0 or -EINVAL. */
int tg_hostmap_add_spec(struct tg_hostmap *map, const char *spec);
void tg_hostmap_free(struct tg_hostmap *map);

struct tg_image_service {
	const char *name; /* borrowed from the policy */
	uint8_t action;	  /* enum tg_action */
	uint8_t role;	  /* enum tg_role under the image's facing */
	uint32_t counter_slot;
	bool shadowed;	       /* earlier services take all of its traffic */
	bool unmatched;	       /* no address, protocol or port reaches it */
	struct tg_mask shadowed_by; /* earlier services that take some of it */
};

struct tg_image_prefix {
	uint8_t addr[16];
	uint8_t prefixlen;
	uint32_t cls;
};

/* What the loader writes into the maps, and nothing the data plane must derive. */
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

/* Compiles a resolved policy for one facing; with diags, warns as below. */
int tg_compile(const struct tg_policy *pol, int facing, const struct tg_hostmap *hosts, struct tg_image *img,
	       struct tg_diags *diags);

/* Marks services an image can never reach or that earlier ones shadow. */
void tg_image_analyse(struct tg_image *img);
/* Warns about them, given images of the same policy for one or more facings. */
void tg_report_analysis(const struct tg_policy *pol, const struct tg_hostmap *hosts, const struct tg_image *const *imgs,
			size_t nimgs, struct tg_diags *diags);
void tg_image_free(struct tg_image *img);
void tg_image_print(const struct tg_image *img, FILE *out);

/* Role a service of this direction plays on a NIC of this facing. */
int tg_service_role(int direction, int facing);

static inline bool tg_mask_test(const struct tg_mask *m, unsigned bit)
{
	return m->w[bit / 64] >> (bit % 64) & 1;
}

static inline void tg_mask_set(struct tg_mask *m, unsigned bit)
{
	m->w[bit / 64] |= 1ull << (bit % 64);
}

#endif
