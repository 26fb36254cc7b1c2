// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Fixed addresses for host names: --host NAME=ADDR[,ADDR...]. */
#include "policy/hostmap.h"
#include "policy/policy.h"
#include "tollgate.h"
#include "lib/util.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

size_t tg_hostmap_count(const struct tg_hostmap *map, const char *name)
{
	size_t n = 0;

	for (size_t i = 0; i < map->n; i++)
		n += !strcmp(map->items[i].name, name);
	return n;
}

/* All of spec's addresses, or none: a bad one leaves the map as it was. */
int tg_hostmap_add_spec(struct tg_hostmap *map, const char *spec)
{
	const char *eq = strchr(spec, '=');
	size_t before = map->n;
	const char *item;
	int err = 0;

	if (!eq || eq == spec || !eq[1])
		return -EINVAL;
	for (item = eq + 1; !err; item++) {
		size_t len = strcspn(item, ",");
		struct tg_host_addr h = { 0 };
		char text[INET6_ADDRSTRLEN];

		if (!len || len >= sizeof(text)) { /* "a=,", "a=1.2.3.4,,5.6.7.8" */
			err = -EINVAL;
			break;
		}
		memcpy(text, item, len);
		text[len] = '\0';
		h.v6 = strchr(text, ':') != NULL;
		if (inet_pton(h.v6 ? AF_INET6 : AF_INET, text, h.addr) != 1) {
			err = -EINVAL;
			break;
		}
		h.name = xstrndup(spec, (size_t)(eq - spec));
		tg_normalize_host_name(h.name);
		if (tg_hostmap_count(map, h.name) >= TG_HOST_ADDRS) {
			free(h.name);
			err = -E2BIG;
			break;
		}
		VEC_PUSH(map->items, map->n, map->cap, h);
		item += len;
		if (!*item)
			break;
	}
	while (err && map->n > before)
		free(map->items[--map->n].name);
	return err;
}

void tg_hostmap_free(struct tg_hostmap *map)
{
	for (size_t i = 0; i < map->n; i++)
		free(map->items[i].name);
	free(map->items);
	memset(map, 0, sizeof(*map));
}
