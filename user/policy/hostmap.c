// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Fixed addresses for host names: --host NAME=ADDR[,ADDR...]. */
#include "policy/hostmap.h"
#include "lib/util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

int tg_hostmap_add_spec(struct tg_hostmap *map, const char *spec)
{
	const char *eq = strchr(spec, '=');
	char *list, *tok, *save = NULL;
	int err = 0;

	if (!eq || eq == spec || !eq[1])
		return -EINVAL;
	list = xstrdup(eq + 1);
	for (tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		struct tg_host_addr h = { 0 };

		h.v6 = strchr(tok, ':') != NULL;
		if (inet_pton(h.v6 ? AF_INET6 : AF_INET, tok, h.addr) != 1) {
			err = -EINVAL;
			break;
		}
		h.name = xstrndup(spec, (size_t)(eq - spec));
		for (char *c = h.name; *c; c++)
			if (*c >= 'A' && *c <= 'Z')
				*c = (char)(*c - 'A' + 'a');
		VEC_PUSH(map->items, map->n, map->cap, h);
	}
	free(list);
	return err;
}

void tg_hostmap_free(struct tg_hostmap *map)
{
	for (size_t i = 0; i < map->n; i++)
		free(map->items[i].name);
	free(map->items);
	memset(map, 0, sizeof(*map));
}
