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

/* "NAME=ADDR[,ADDR...]"; returns 0 or -EINVAL. */
int tg_hostmap_add_spec(struct tg_hostmap *map, const char *spec);
void tg_hostmap_free(struct tg_hostmap *map);

#endif
