/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef TG_STATE_H
#define TG_STATE_H

#include "compile/compile.h"
#include "kernel/generation.h"
#include "kernel/slots.h"
#include "tollgate.h"

#include <net/if.h>
#include <stdbool.h>

/*
 * What one interface's pinned directory holds, opened. The maps are declared
 * once, in bpf/tollgate.bpf.c, and pinned there by name (LIBBPF_PIN_BY_NAME
 * with this directory as the pin root); these are those names.
 */
struct tg_state {
	char ifname[IF_NAMESIZE];
	char dir[TG_PATH_MAX];
	int lock_fd;
	int meta_fd, slots_fd, hosts_fd, active_fd;
	int service_counters_fd, reason_counters_fd, orphans_fd;
	int outer_fd[TG_GEN_MAPS]; /* the generation maps, by enum tg_gen_map */
	struct tg_meta meta;
	struct tg_slot slots[TG_MAX_COUNTER_SLOTS];
	struct tg_host_state hosts[TG_MAX_HOSTS];
};

#define TG_PIN_META "meta"
#define TG_PIN_SLOTS "slots"
#define TG_PIN_HOSTS "hosts"
#define TG_PIN_ACTIVE "active"
#define TG_PIN_SERVICE_COUNTERS "service_counters"
#define TG_PIN_REASON_COUNTERS "reason_counters"
#define TG_PIN_ORPHANS "orphans"

void tg_state_init(struct tg_state *st, const char *ifname);
/* 0, or -ENOTDIR when bpffs is not mounted at /sys/fs/bpf. */
int tg_bpffs_check(void);
/* Serialises tollgate commands on one interface (flock under /run/tollgate). */
int tg_state_lock(struct tg_state *st);
/* Serialises what every interface shares: making the host's flow tables
 * and removing them with the last interface. Returns the lock's fd. */
int tg_host_lock(void);
void tg_host_unlock(int fd);
/* Opens the pinned maps only (an attach, before it writes meta). */
int tg_state_open_maps(struct tg_state *st);
/* Opens the pins and reads meta, slots and hosts; -ENOENT when the
 * interface has no tollgate, -EPROTO when another layout version wrote it. */
int tg_state_open(struct tg_state *st);
/* bpffs, lock, open, recover: what every command on an attached interface does first. */
int tg_state_acquire(struct tg_state *st, const char *ifname);
void tg_state_close(struct tg_state *st);
bool tg_state_exists(const char *ifname);
/* Reads IFNAME's meta alone, without the lock: a look, not a basis for a
 * change (tollgate dns --watch compares generations with it). 0 or -errno. */
int tg_state_peek_meta(const char *ifname, struct tg_meta *meta);

int tg_state_write_meta(struct tg_state *st);
int tg_state_write_slots(struct tg_state *st);
int tg_state_write_hosts(struct tg_state *st);
/* Gives the slots a plan adds fresh counters and takes the plan's table. */
int tg_state_apply_slot_plan(struct tg_state *st, const struct tg_slot_plan *plan);
/* Removes every pin and the directory. */
void tg_state_remove(struct tg_state *st);

/* The slot a reload fills: the one not in force. */
static inline uint32_t tg_state_spare_slot(const struct tg_state *st)
{
	return st->meta.active_slot ^ 1u;
}

/* Records that `active` now names the pending generation's slot. */
int tg_state_record_switch(struct tg_state *st);
/* Finishes or forgets a reload or rollback that a crash interrupted, and
 * enforces an overdue --confirm. */
int tg_state_recover(struct tg_state *st);
/* Switches back to the previous generation (still in the spare slot) as a
 * new generation. */
int tg_state_rollback(struct tg_state *st);

uint64_t tg_realtime_ns(void);

/* The names of attached interfaces, sorted; returns how many (at most max),
 * or a negative errno when the pin root cannot be read (-EACCES: not root). */
int tg_list_attached(char (*names)[IF_NAMESIZE], int max);

#endif
