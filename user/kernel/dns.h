/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef TG_RESOLVE_H
#define TG_RESOLVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Addresses kept per host name (A and AAAA together). */
#define TG_MAX_HOST_ADDRS 16

struct tg_resolver_opts {
	const char *server;  /* "ADDR", "ADDR:PORT" or "[V6]:PORT"; NULL: /etc/resolv.conf */
	unsigned timeout_ms; /* for the whole batch; 0: 3000 */
};

struct tg_host_addr_entry {
	bool v6;
	uint8_t addr[16];
};

struct tg_resolved {
	/* 0: answered (naddrs may be 0 when the name has no A/AAAA: NODATA);
	 * -ENOENT: NXDOMAIN; -ETIMEDOUT: no answer in time; -EIO: SERVFAIL,
	 * refused or any other failure. */
	int status;
	unsigned naddrs;
	struct tg_host_addr_entry addrs[TG_MAX_HOST_ADDRS];
	uint32_t ttl; /* smallest TTL of the answers, seconds (0 when none) */
};

/*
 * Resolves names (A and AAAA, all at once) with c-ares. out[i] is for
 * names[i]; addresses are sorted (v4 first, then bytewise) and de-duplicated.
 * Returns 0, or a negative errno when the resolver cannot be set up (a bad
 * server spec: -EINVAL; no usable resolv.conf: -ENOENT).
 */
int tg_resolve_names(const struct tg_resolver_opts *opts, const char *const *names, size_t n, struct tg_resolved *out);
const char *tg_resolve_status_name(int status);

#endif
