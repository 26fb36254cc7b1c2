/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef TG_STATS_H
#define TG_STATS_H

#include "kernel/state.h"

#include <stdio.h>

/* One interface's counters at one moment, read from the pinned maps. */
struct tg_iface_stats {
	char ifname[IF_NAMESIZE];
	struct tg_meta meta;
	uint32_t nservices;
	char names[TG_MAX_COUNTER_SLOTS][TG_SERVICE_NAME_MAX];
	struct tg_service_counters services[TG_MAX_COUNTER_SLOTS];
	struct tg_reason_counters reasons[TG_REASONS];
	struct tg_host_state hosts[TG_MAX_HOSTS];
	uint64_t read_ns; /* CLOCK_MONOTONIC, for rates */
	bool enforcing;	  /* the link runs the program this state belongs to */
	char not_enforcing_why[256];
	uint64_t orphans; /* frames passed because no generation was in force */
};

/* Reads one interface (taking its lock briefly); negative errno on failure. */
int tg_read_stats(const char *ifname, struct tg_iface_stats *out);

enum tg_stats_format { TG_STATS_TABLE, TG_STATS_JSON, TG_STATS_PROMETHEUS };

/* prev may be NULL (no rates). */
void tg_print_stats_table(FILE *out, const struct tg_iface_stats *now, const struct tg_iface_stats *prev);
void tg_print_stats_json(FILE *out, const struct tg_iface_stats *stats, int n);
/* The host's flow tables, once after the interfaces (nothing when none is pinned). */
void tg_print_flows_table(FILE *out);
/* The whole Prometheus text exposition for these interfaces. */
void tg_print_prometheus(FILE *out, const struct tg_iface_stats *stats, int n);

#endif
