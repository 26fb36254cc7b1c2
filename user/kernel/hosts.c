// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Host-name peers. DNS answers are kept per interface in a pinned table
 * (struct tg_host_state): the addresses, when they were learned and when to
 * ask again (the answer's TTL, held between a floor and a ceiling). A name
 * that stops resolving keeps its last known addresses; one that never did
 * has none, and the rest of the policy loads regardless.
 */
#include "kernel/hosts.h"
#include "kernel/state.h"
#include "lib/log.h"
#include "lib/util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool fixed_name(const struct tg_hostmap *fixed, const char *name)
{
	for (size_t i = 0; fixed && i < fixed->n; i++)
		if (!strcmp(fixed->items[i].name, name))
			return true;
	return false;
}

/* A name given with --host: its addresses as given, and DNS never asked. */
static void set_fixed(struct tg_host_state *e, const struct tg_hostmap *fixed, uint64_t now)
{
	e->naddrs = 0;
	e->v6_mask = 0;
	for (size_t i = 0; i < fixed->n && e->naddrs < TG_HOST_ADDRS; i++)
		if (!strcmp(fixed->items[i].name, e->name)) {
			memcpy(e->addrs[e->naddrs], fixed->items[i].addr, 16);
			e->v6_mask |= (uint32_t)fixed->items[i].v6 << e->naddrs;
			e->naddrs++;
		}
	e->flags = TG_HOST_FIXED;
	e->resolved_ns = now;
	e->attempted_ns = now;
	e->last_status = 0;
}

const struct tg_host_state *tg_hosts_find(const struct tg_host_state *table, const char *name)
{
	for (int i = 0; i < TG_MAX_HOSTS; i++)
		if (!strcmp(table[i].name, name))
			return &table[i];
	return NULL;
}

/* The entry for a name, taking a free one (or the stalest unused one). */
static struct tg_host_state *entry_for(struct tg_host_state *table, const char *name, const char **in_use, size_t n)
{
	struct tg_host_state *e = (struct tg_host_state *)tg_hosts_find(table, name);

	if (e)
		return e;
	for (int i = 0; i < TG_MAX_HOSTS; i++)
		if (!table[i].name[0] || !tg_name_listed(in_use, n, table[i].name)) {
			memset(&table[i], 0, sizeof(table[i]));
			snprintf(table[i].name, sizeof(table[i].name), "%s", name);
			return &table[i];
		}
	return NULL;
}

static bool same_addresses(const struct tg_host_state *e, const struct tg_resolved *r)
{
	if (e->naddrs != r->naddrs)
		return false;
	for (unsigned i = 0; i < r->naddrs; i++)
		if (((e->v6_mask >> i) & 1) != r->addrs[i].v6 || memcmp(e->addrs[i], r->addrs[i].addr, 16))
			return false;
	return true;
}

static uint64_t clamp_ttl(const struct tg_dns_opts *opts, uint32_t ttl)
{
	uint64_t s = ttl < opts->ttl_min ? opts->ttl_min : ttl > opts->ttl_max ? opts->ttl_max : ttl;

	return s * 1000000000ull;
}

/* When to ask about a name again: its answer's TTL after the answer, or the
 * floor after a failure. 0 for a name never asked. */
uint64_t tg_host_due(const struct tg_host_state *e, const struct tg_dns_opts *opts)
{
	if (!e->attempted_ns)
		return 0;
	if (e->last_status || !e->resolved_ns)
		return e->attempted_ns + clamp_ttl(opts, 0);
	return e->resolved_ns + clamp_ttl(opts, e->ttl);
}

/* Records one answer; true when the name's addresses changed. */
static bool record(struct tg_host_state *e, const struct tg_resolved *r, uint64_t now)
{
	bool changed = false;

	e->last_status = r->status;
	e->attempted_ns = now;
	if (r->status) {
		e->failures++; /* and keep what we knew */
		return false;
	}
	if (!same_addresses(e, r) || !e->resolved_ns) {
		changed = !same_addresses(e, r);
		e->naddrs = r->naddrs;
		e->v6_mask = 0;
		memset(e->addrs, 0, sizeof(e->addrs));
		for (unsigned i = 0; i < r->naddrs && i < TG_HOST_ADDRS; i++) {
			memcpy(e->addrs[i], r->addrs[i].addr, 16);
			e->v6_mask |= (uint32_t)r->addrs[i].v6 << i;
		}
	}
	e->ttl = r->ttl;
	e->resolved_ns = now;
	return changed;
}

int tg_hosts_refresh(struct tg_host_state *table, const struct tg_policy *pol, const struct tg_hostmap *fixed,
		     const struct tg_dns_opts *opts, bool force, bool *changed)
{
	const char **names, **due;
	size_t n = tg_policy_host_names(pol, &names), ndue = 0;
	uint64_t now = tg_realtime_ns();
	struct tg_resolved *answers;
	int err = 0;

	*changed = false;
	due = xcalloc(n ? n : 1, sizeof(*due));
	for (size_t i = 0; i < n && !err; i++) {
		struct tg_host_state *e = entry_for(table, names[i], names, n);

		if (!e) {
			err = -ENOSPC;
		} else if (fixed && fixed_name(fixed, names[i])) {
			set_fixed(e, fixed, now);
		} else if (fixed || !(e->flags & TG_HOST_FIXED)) {
			/* Without a fixed map (tollgate dns) fixed names stay fixed. */
			if (e->flags & TG_HOST_FIXED) {
				e->flags = 0;
				e->attempted_ns = 0;
			}
			if (force || tg_host_due(e, opts) <= now)
				due[ndue++] = names[i];
		}
	}
	answers = xcalloc(ndue ? ndue : 1, sizeof(*answers));
	if (!err && ndue)
		err = tg_resolve_names(&opts->resolver, due, ndue, answers);
	for (size_t i = 0; !err && i < ndue; i++)
		*changed |= record((struct tg_host_state *)tg_hosts_find(table, due[i]), &answers[i], now);
	/* Names the policy no longer uses leave the table (and status, metrics). */
	for (int i = 0; !err && i < TG_MAX_HOSTS; i++)
		if (table[i].name[0] && !tg_name_listed(names, n, table[i].name))
			memset(&table[i], 0, sizeof(table[i]));
	free(answers);
	free(due);
	free(names);
	return err;
}

void tg_hosts_to_map(const struct tg_host_state *table, struct tg_hostmap *out)
{
	memset(out, 0, sizeof(*out));
	for (int i = 0; i < TG_MAX_HOSTS; i++)
		for (unsigned k = 0; table[i].name[0] && k < table[i].naddrs && k < TG_HOST_ADDRS; k++) {
			struct tg_host_addr h = { .name = xstrdup(table[i].name), .v6 = (table[i].v6_mask >> k) & 1 };

			memcpy(h.addr, table[i].addrs[k], 16);
			VEC_PUSH(out->items, out->n, out->cap, h);
		}
}

uint64_t tg_hosts_next_due(const struct tg_host_state *table, const struct tg_dns_opts *opts)
{
	uint64_t next = 0;

	for (int i = 0; i < TG_MAX_HOSTS; i++) {
		uint64_t due = tg_host_due(&table[i], opts);

		if (table[i].name[0] && !(table[i].flags & TG_HOST_FIXED) && (!next || due < next))
			next = due;
	}
	return next;
}
