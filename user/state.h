/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef TG_STATE_H
#define TG_STATE_H

#include "compile.h"
#include "../include/tollgate.h"

#include <net/if.h>
#include <stdbool.h>

/* What one interface's pinned directory holds, opened. */
struct tg_state {
	char ifname[IF_NAMESIZE];
	char dir[TG_PATH_MAX];
	int lock_fd;
	int meta_fd, slots_fd, prog_array_fd;
	int service_counters_fd, reason_counters_fd, orphans_fd, hosts_fd;
	struct tg_meta meta;
	struct tg_slot slots[TG_MAX_COUNTER_SLOTS];
	struct tg_host_state hosts[TG_MAX_HOSTS];
};

/* Pin names inside the interface's directory. */
#define TG_PIN_META "meta"
#define TG_PIN_SLOTS "slots"
#define TG_PIN_PROG_ARRAY "policy_prog"
#define TG_PIN_SERVICE_COUNTERS "service_counters"
#define TG_PIN_REASON_COUNTERS "reason_counters"
#define TG_PIN_ORPHANS "orphans"
#define TG_PIN_HOSTS "hosts"
#define TG_PIN_POLICY "policy"     /* the program in policy_prog */
#define TG_PIN_PENDING "pending"   /* a reload's program until it is recorded */
#define TG_PIN_PREVIOUS "previous" /* what a --confirm rollback restores */

void tg_state_init(struct tg_state *st, const char *ifname);
/* 0, or -ENOTDIR when bpffs is not mounted at /sys/fs/bpf. */
int tg_bpffs_check(void);
/* Serialises tollgate commands on one interface (flock under /run/tollgate). */
int tg_state_lock(struct tg_state *st);
/* Opens the pins; -ENOENT when the interface has no tollgate. */
int tg_state_open(struct tg_state *st);
void tg_state_close(struct tg_state *st);
bool tg_state_exists(const char *ifname);

int tg_state_write_meta(struct tg_state *st);
int tg_state_write_slots(struct tg_state *st);
int tg_state_write_hosts(struct tg_state *st);
int tg_state_pin(struct tg_state *st, int fd, const char *name);
int tg_state_unpin(struct tg_state *st, const char *name);
int tg_state_get_pinned(struct tg_state *st, const char *name);
/* Removes every pin and the directory. */
void tg_state_remove(struct tg_state *st);

bool tg_slot_live(const struct tg_slot *slot, uint32_t generation);
/*
 * Gives every service of img a counter slot for generation `next`: a service
 * keeps the slot it has now, a new one gets a free slot with its counters
 * zeroed, and a service no longer present has its slot retired at `next`.
 * Works on st->slots; the caller writes them back.
 */
int tg_assign_slots(struct tg_state *st, struct tg_image *img, uint32_t next);

int tg_state_rename_pin(struct tg_state *st, const char *from, const char *to);
/* Records that the prog array now holds the pending program. */
int tg_state_record_switch(struct tg_state *st);
/* Finishes or forgets a reload that a crash interrupted. */
int tg_state_recover(struct tg_state *st);
/* Switches back to the pinned previous policy as a new generation. */
int tg_state_rollback(struct tg_state *st);

uint64_t tg_realtime_ns(void);

#endif
