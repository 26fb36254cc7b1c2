/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The peer lookup (include/tollgate.h, docs/design.md): built from an image's
 * prefixes in user space, written into the generation's arrays in bulk, read
 * by the data plane in a bounded number of steps.
 */
#ifndef TG_LOOKUP_H
#define TG_LOOKUP_H

#include "compile/image.h"

#include <stddef.h>
#include <stdint.h>

struct tg_lookup {
	struct tg_lk_node *nodes; /* both direct tables, then the tables */
	size_t nnodes, nodes_cap;
	struct tg_lookup_info info; /* what the program reads in the policy table */
	__u64 *fine;		    /* the fine filter: 2 * TG_LK_FINE_WORDS, IPv4's then IPv6's */
	size_t ntables[2];	    /* by family */
	unsigned depth[2];	    /* the most tables on one path, by family */
	size_t nranges[2];	    /* bounds, by family */
	size_t filter_blocks[2];    /* blocks of the filter, by family, kept or not */
	size_t filter_used[2];	    /* of them, those used */
	size_t coarse_used[2];	    /* blocks of the coarse filter used, by family */
	size_t fine_used[2];	    /* blocks of the fine filter used, by family */
};

/* Bounds per direct node, on average at most: a node holds 10 IPv4 or 4
 * IPv6 bounds, and few overflow into tables (docs/design.md). */
#define TG_LOOKUP_FILL_V4 6
#define TG_LOOKUP_FILL_V6 2

/* A family gets a used-block filter (include/tollgate.h) from this many
 * nodes (1 MiB), past what stays cached, when it is finer than the fine
 * filter, unless more than half of its blocks are used. It has about 8
 * blocks a bound, from 2^TG_LK_FILTER_BITS_MIN up to 2^TG_LK_FILTER_BITS_MAX,
 * so only a family of more than 2^22 / 8 = 524,288 bounds (about 300K
 * random prefixes) gets one, of 2^23 or 2^24 blocks. */
#define TG_LOOKUP_FILTER_FROM 16384
#define TG_LK_FILTER_BITS_MIN 9

/* Builds lk from img's prefixes (sorted, nested, each with its effective
 * class, as tg_compile leaves them). Returns 0 or -ENOMEM/-E2BIG. */
int tg_lookup_build(const struct tg_image *img, struct tg_lookup *lk);
void tg_lookup_free(struct tg_lookup *lk);

/* The class of addr (4 or 16 bytes, network order), walked the way the data
 * plane walks it: the tests compare it with a plain longest-prefix scan. */
uint32_t tg_lookup_find(const struct tg_lookup *lk, int family, const uint8_t *addr);

/* Bytes the arrays take. */
size_t tg_lookup_bytes(const struct tg_lookup *lk);

#endif
