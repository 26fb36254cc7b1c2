/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef TG_HOSTS_H
#define TG_HOSTS_H

#include "compile/compile.h"
#include "kernel/dns.h"
#include "tollgate.h"

struct tg_dns_opts {
	struct tg_resolver_opts resolver;
	unsigned ttl_min; /* seconds; answers are kept at least this long */
	unsigned ttl_max; /* and at most this long */
};

#define TG_DNS_TTL_MIN_DEFAULT 30
#define TG_DNS_TTL_MAX_DEFAULT 3600

/*
 * Brings the host table up to date for a policy: names in fixed (--host)
 * take its addresses and are never asked; with fixed NULL (tollgate dns),
 * names fixed before stay so. Other names that are due (or all, with force)
 * are asked of DNS; a failed answer keeps the last known addresses. Sets
 * *changed when any name's addresses changed. DNS failures are recorded in
 * the table, not returned: only a resolver that cannot start, or a full
 * table (-ENOSPC), is an error.
 */
int tg_hosts_refresh(struct tg_host_state *table, const struct tg_policy *pol, const struct tg_hostmap *fixed,
		     const struct tg_dns_opts *opts, bool force, bool *changed);
/* The addresses to compile with. */
void tg_hosts_to_map(const struct tg_host_state *table, struct tg_hostmap *out);
/* When a name is due to be asked again (0: now). */
uint64_t tg_host_due(const struct tg_host_state *e, const struct tg_dns_opts *opts);
/* The earliest time any name is due again, or 0 when none is. */
uint64_t tg_hosts_next_due(const struct tg_host_state *table, const struct tg_dns_opts *opts);
const struct tg_host_state *tg_hosts_find(const struct tg_host_state *table, const char *name);

#endif
