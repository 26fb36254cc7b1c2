/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * A policy as its services enforce it: for each service, every peer prefix
 * it names, through sets and host names, once. What `tollgate show` prints
 * and `reload --dry-run` compares.
 */
#ifndef TG_VIEW_H
#define TG_VIEW_H

#include "policy/hostmap.h"
#include "policy/policy.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct tg_view_prefix {
	uint8_t v6;
	uint8_t prefixlen;
	uint8_t addr[16];
};

struct tg_service_view {
	const struct tg_service *svc;	 /* borrowed from the policy */
	struct tg_view_prefix *prefixes; /* sorted: IPv4 first, by address and length */
	size_t nprefixes, n4, n6;
	const char **hosts; /* host names it names, directly or through sets, in first-use order */
	size_t nhosts;
};

struct tg_policy_view {
	struct tg_service_view *services; /* in policy order */
	size_t nservices;
};

/* hosts gives the host names' addresses (may be NULL: names without any). */
void tg_view_build(const struct tg_policy *pol, const struct tg_hostmap *hosts, struct tg_policy_view *view);
void tg_view_free(struct tg_policy_view *view);
int tg_view_prefix_cmp(const struct tg_view_prefix *a, const struct tg_view_prefix *b);
void tg_view_prefix_format(const struct tg_view_prefix *p, char *buf, size_t size);
/* "443, 829, 1000-2000" (or "all"): a service's ports or ICMP types. */
void tg_view_ranges(const struct tg_service *svc, char *buf, size_t size);

#endif
