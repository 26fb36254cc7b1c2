/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef TG_HOSTMAP_H
#define TG_HOSTMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Fixed addresses for host-name peers (--host NAME=ADDR, or the resolver). */
struct tg_host_addr {
	char *name; /* lower case */
	bool v6;
	uint8_t addr[16];
};

struct tg_hostmap {
	struct tg_host_addr *items;
	size_t n, cap;
};

/* "NAME=ADDR[,ADDR...]", the name as a policy spells it (case and a trailing
 * dot do not matter). Returns 0; -EINVAL for a bad spec; -E2BIG when the name
 * would have more than TG_HOST_ADDRS addresses, as many as an attached
 * interface keeps. On error the map is unchanged. */
int tg_hostmap_add_spec(struct tg_hostmap *map, const char *spec);
/* How many addresses the map holds for name. */
size_t tg_hostmap_count(const struct tg_hostmap *map, const char *name);
void tg_hostmap_free(struct tg_hostmap *map);

#endif
