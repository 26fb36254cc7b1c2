/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The host's flow tables: one LRU table per opener, shared by every
 * attachment and pinned once under TG_PIN_SHARED (not per interface), so a
 * request admitted on one NIC opens the flow another NIC's reply needs, and
 * flows outlive reloads.
 */
#ifndef TG_FLOWS_H
#define TG_FLOWS_H

#include "tollgate.h"

#include <stdbool.h>
#include <stdint.h>

struct tollgate;

#define TG_PIN_SHARED "/sys/fs/bpf/tollgate-host"

/* Points the object's flow maps (tables, stats, hints) at the shared pins.
 * A table that is already pinned keeps its size (reported in *size);
 * otherwise it is created with `want` entries. */
int tg_flows_configure(struct tollgate *skel, uint32_t want, uint32_t *size);
/* A test run's own tables, `entries` each, and their hints. */
int tg_flows_size_unpinned(struct tollgate *skel, uint32_t entries);
/* Tables pinned without hints (pinned by a tollgate before the hints): the
 * next load creates the hints, and tg_flows_rebuild_hints() must fill them
 * before a program that reads them runs. */
bool tg_flows_hints_missing(void);
int tg_flows_rebuild_hints(void);
/* Raises the hints to cover every entry of the tables. */
int tg_flows_hint_tables(int table_fd[TG_OPENERS], int hints_fd);

struct tg_flow_summary {
	uint32_t size[TG_OPENERS];		/* entries each table can hold */
	uint64_t present[TG_OPENERS];		/* entries in the table, expired or not */
	uint64_t live[TG_OPENERS];		/* entries not expired */
	struct tg_flow_stats stats[TG_OPENERS]; /* summed over CPUs */
	uint64_t evicted[TG_OPENERS];		/* inserted - present: what the LRU pushed out */
};

/* The entries each pinned table holds, or 0 when none is pinned. */
uint32_t tg_flows_size(void);
/* Reads the shared tables; -ENOENT when none is pinned. */
int tg_flows_summary(struct tg_flow_summary *out);
/* The same from a program's own (unpinned) maps, for test runs. */
int tg_flows_summary_of(int table_fd[TG_OPENERS], int stats_fd, uint64_t now_ns, struct tg_flow_summary *out);
/* Removes the shared pins: only when no interface is attached any more. */
void tg_flows_remove(void);

#endif
