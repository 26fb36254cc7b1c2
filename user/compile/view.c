// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "compile/view.h"
#include "lib/util.h"

#include <stdlib.h>
#include <string.h>

struct collector {
	const struct tg_policy *pol;
	const struct tg_hostmap *hosts;
	struct tg_service_view *sv;
	size_t prefixes_cap, hosts_cap;
};

static void add_prefix(struct collector *c, bool v6, const uint8_t *addr, unsigned prefixlen)
{
	struct tg_view_prefix p = { .v6 = v6, .prefixlen = (uint8_t)prefixlen };

	memcpy(p.addr, addr, v6 ? 16 : 4);
	VEC_PUSH(c->sv->prefixes, c->sv->nprefixes, c->prefixes_cap, p);
}

static void add_host(struct collector *c, const char *name)
{
	for (size_t i = 0; i < c->sv->nhosts; i++)
		if (!strcmp(c->sv->hosts[i], name))
			return;
	VEC_PUSH(c->sv->hosts, c->sv->nhosts, c->hosts_cap, name);
	for (size_t i = 0; c->hosts && i < c->hosts->n; i++)
		if (!strcmp(c->hosts->items[i].name, name))
			add_prefix(c, c->hosts->items[i].v6, c->hosts->items[i].addr, c->hosts->items[i].v6 ? 128 : 32);
}

/* Sets nest at most TG_MAX_SET_DEPTH deep (the parser refuses more, and loops). */
static void collect(struct collector *c, const struct tg_peer_list *list, unsigned depth)
{
	static const uint8_t zero[16];

	for (size_t i = 0; i < list->n; i++) {
		const struct tg_peer *p = &list->items[i];

		switch (p->kind) {
		case TG_PEER_V4:
		case TG_PEER_V6:
			add_prefix(c, p->kind == TG_PEER_V6, p->addr, p->prefixlen);
			break;
		case TG_PEER_ANY:
			add_prefix(c, false, zero, 0);
			add_prefix(c, true, zero, 0);
			break;
		case TG_PEER_HOST:
			add_host(c, p->name);
			break;
		case TG_PEER_SET:
			if (p->set >= 0 && (size_t)p->set < c->pol->nsets && depth < TG_MAX_SET_DEPTH)
				collect(c, &c->pol->sets[p->set].peers, depth + 1);
			break;
		}
	}
}

int tg_view_prefix_cmp(const struct tg_view_prefix *a, const struct tg_view_prefix *b)
{
	int d = memcmp(a->addr, b->addr, 16);

	if (a->v6 != b->v6)
		return a->v6 - b->v6;
	return d ? d : a->prefixlen - b->prefixlen;
}

static int cmp_prefix(const void *a, const void *b)
{
	return tg_view_prefix_cmp(a, b);
}

static void sort_unique(struct tg_service_view *sv)
{
	size_t kept = 0;

	if (sv->nprefixes)
		qsort(sv->prefixes, sv->nprefixes, sizeof(*sv->prefixes), cmp_prefix);
	for (size_t i = 0; i < sv->nprefixes; i++)
		if (!kept || tg_view_prefix_cmp(&sv->prefixes[kept - 1], &sv->prefixes[i]))
			sv->prefixes[kept++] = sv->prefixes[i];
	sv->nprefixes = kept;
	for (size_t i = 0; i < kept; i++)
		*(sv->prefixes[i].v6 ? &sv->n6 : &sv->n4) += 1;
}

void tg_view_build(const struct tg_policy *pol, const struct tg_hostmap *hosts, struct tg_policy_view *view)
{
	view->nservices = pol->nservices;
	view->services = xcalloc(pol->nservices ? pol->nservices : 1, sizeof(*view->services));
	for (size_t s = 0; s < pol->nservices; s++) {
		struct collector c = { .pol = pol, .hosts = hosts, .sv = &view->services[s] };

		c.sv->svc = &pol->services[s];
		collect(&c, &pol->services[s].peers, 0);
		sort_unique(c.sv);
	}
}

void tg_view_free(struct tg_policy_view *view)
{
	for (size_t s = 0; s < view->nservices; s++) {
		free(view->services[s].prefixes);
		free(view->services[s].hosts);
	}
	free(view->services);
	memset(view, 0, sizeof(*view));
}

void tg_view_prefix_format(const struct tg_view_prefix *p, char *buf, size_t size)
{
	tg_format_prefix(p->addr, p->prefixlen, p->v6, buf, size);
}

void tg_view_ranges(const struct tg_service *svc, char *buf, size_t size)
{
	size_t used = 0;

	if (!svc->nranges) {
		snprintf(buf, size, "all");
		return;
	}
	buf[0] = '\0';
	for (size_t i = 0; i < svc->nranges && used < size; i++) {
		const struct tg_range *r = &svc->ranges[i];

		if (r->lo == r->hi)
			used += (size_t)snprintf(buf + used, size - used, "%s%u", i ? ", " : "", r->lo);
		else
			used += (size_t)snprintf(buf + used, size - used, "%s%u-%u", i ? ", " : "", r->lo, r->hi);
	}
}
