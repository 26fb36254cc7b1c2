// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Pinned state. Everything tollgate enforces lives under
 * /sys/fs/bpf/tollgate/IFACE/ so that no tollgate process, and no crash of
 * one, changes what is enforced. Commands on one interface take a lock, and
 * a reload records its intent (meta.pending_generation and the "pending" pin)
 * before switching, so the next command can tell how far it got.
 */
#include "state.h"
#include "util.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>

#define LOCK_DIR "/run/tollgate"

static const char *const pins[] = { TG_PIN_META,	     TG_PIN_SLOTS,	     TG_PIN_PROG_ARRAY,
				    TG_PIN_SERVICE_COUNTERS, TG_PIN_REASON_COUNTERS, TG_PIN_ORPHANS,
				    TG_PIN_POLICY,	     TG_PIN_PENDING,	     TG_PIN_PREVIOUS,
				    TG_PIN_HOSTS };

uint64_t tg_realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void tg_state_init(struct tg_state *st, const char *ifname)
{
	memset(st, 0, sizeof(*st));
	snprintf(st->ifname, sizeof(st->ifname), "%s", ifname);
	snprintf(st->dir, sizeof(st->dir), "%s/%s", TG_PIN_ROOT, ifname);
	st->lock_fd = st->meta_fd = st->slots_fd = st->prog_array_fd = -1;
	st->service_counters_fd = st->reason_counters_fd = st->orphans_fd = st->hosts_fd = -1;
}

int tg_bpffs_check(void)
{
	struct statfs fs;

	if (statfs("/sys/fs/bpf", &fs) < 0 || fs.f_type != BPF_FS_MAGIC)
		return -ENOTDIR;
	return 0;
}

int tg_state_lock(struct tg_state *st)
{
	char path[TG_PATH_MAX + 32];

	if (mkdir(LOCK_DIR, 0700) < 0 && errno != EEXIST)
		return -errno;
	snprintf(path, sizeof(path), LOCK_DIR "/%s.lock", st->ifname);
	st->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (st->lock_fd < 0)
		return -errno;
	if (flock(st->lock_fd, LOCK_EX) < 0)
		return -errno;
	return 0;
}

static void pin_path(const struct tg_state *st, const char *name, char *buf, size_t size)
{
	snprintf(buf, size, "%s/%s", st->dir, name);
}

int tg_state_get_pinned(struct tg_state *st, const char *name)
{
	char path[TG_PATH_MAX + 32];
	int fd;

	pin_path(st, name, path, sizeof(path));
	fd = bpf_obj_get(path);
	return fd < 0 ? -errno : fd;
}

bool tg_state_exists(const char *ifname)
{
	char path[TG_PATH_MAX + 32];
	struct stat sb;

	snprintf(path, sizeof(path), "%s/%s/%s", TG_PIN_ROOT, ifname, TG_PIN_META);
	return stat(path, &sb) == 0;
}

static int read_slots(struct tg_state *st)
{
	for (uint32_t i = 0; i < TG_MAX_COUNTER_SLOTS; i++)
		if (bpf_map_lookup_elem(st->slots_fd, &i, &st->slots[i]))
			return -errno;
	for (uint32_t i = 0; i < TG_MAX_HOSTS; i++)
		if (bpf_map_lookup_elem(st->hosts_fd, &i, &st->hosts[i]))
			return -errno;
	return 0;
}

int tg_state_open(struct tg_state *st)
{
	uint32_t zero = 0;
	int err;

	st->meta_fd = tg_state_get_pinned(st, TG_PIN_META);
	if (st->meta_fd < 0)
		return st->meta_fd == -ENOENT ? -ENOENT : st->meta_fd;
	st->slots_fd = tg_state_get_pinned(st, TG_PIN_SLOTS);
	st->prog_array_fd = tg_state_get_pinned(st, TG_PIN_PROG_ARRAY);
	st->service_counters_fd = tg_state_get_pinned(st, TG_PIN_SERVICE_COUNTERS);
	st->reason_counters_fd = tg_state_get_pinned(st, TG_PIN_REASON_COUNTERS);
	st->orphans_fd = tg_state_get_pinned(st, TG_PIN_ORPHANS);
	st->hosts_fd = tg_state_get_pinned(st, TG_PIN_HOSTS);
	if (st->slots_fd < 0 || st->prog_array_fd < 0 || st->service_counters_fd < 0 || st->reason_counters_fd < 0 ||
	    st->hosts_fd < 0)
		return -EBADFD;
	if (bpf_map_lookup_elem(st->meta_fd, &zero, &st->meta))
		return -errno;
	if (st->meta.version != TG_META_VERSION)
		return -EPROTO;
	err = read_slots(st);
	return err;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

void tg_state_close(struct tg_state *st)
{
	close_fd(&st->meta_fd);
	close_fd(&st->slots_fd);
	close_fd(&st->prog_array_fd);
	close_fd(&st->service_counters_fd);
	close_fd(&st->reason_counters_fd);
	close_fd(&st->orphans_fd);
	close_fd(&st->hosts_fd);
	close_fd(&st->lock_fd); /* releases the flock */
}

int tg_state_write_meta(struct tg_state *st)
{
	uint32_t zero = 0;

	return bpf_map_update_elem(st->meta_fd, &zero, &st->meta, BPF_ANY) ? -errno : 0;
}

int tg_state_write_slots(struct tg_state *st)
{
	for (uint32_t i = 0; i < TG_MAX_COUNTER_SLOTS; i++)
		if (bpf_map_update_elem(st->slots_fd, &i, &st->slots[i], BPF_ANY))
			return -errno;
	return 0;
}

int tg_state_write_hosts(struct tg_state *st)
{
	for (uint32_t i = 0; i < TG_MAX_HOSTS; i++)
		if (bpf_map_update_elem(st->hosts_fd, &i, &st->hosts[i], BPF_ANY))
			return -errno;
	return 0;
}

int tg_state_pin(struct tg_state *st, int fd, const char *name)
{
	char path[TG_PATH_MAX + 32];

	if (mkdir(TG_PIN_ROOT, 0700) < 0 && errno != EEXIST)
		return -errno;
	if (mkdir(st->dir, 0700) < 0 && errno != EEXIST)
		return -errno;
	pin_path(st, name, path, sizeof(path));
	unlink(path); /* replace: a pin is a name, the object lives on */
	return bpf_obj_pin(fd, path) ? -errno : 0;
}

int tg_state_unpin(struct tg_state *st, const char *name)
{
	char path[TG_PATH_MAX + 32];

	pin_path(st, name, path, sizeof(path));
	return unlink(path) < 0 && errno != ENOENT ? -errno : 0;
}

void tg_state_remove(struct tg_state *st)
{
	for (size_t i = 0; i < ARRAY_SIZE(pins); i++)
		tg_state_unpin(st, pins[i]);
	rmdir(st->dir);
	rmdir(TG_PIN_ROOT); /* only when no other interface is left */
}

/* ----------------------------------------------------------------- slots */

bool tg_slot_live(const struct tg_slot *slot, uint32_t generation)
{
	return slot->name[0] && slot->added <= generation && (slot->retired == 0 || slot->retired > generation);
}

/* A slot nobody can need again: empty, left by a crashed reload, or retired
 * before the live generation (a pending rollback is refused before we get here). */
static bool slot_free(const struct tg_slot *slot, uint32_t generation)
{
	return !slot->name[0] || slot->added > generation || (slot->retired && slot->retired <= generation);
}

static int zero_counters(int fd, uint32_t slot)
{
	int ncpus = libbpf_num_possible_cpus();
	struct tg_service_counters *zeros;
	int err = 0;

	if (ncpus < 0)
		return ncpus;
	zeros = xcalloc((size_t)ncpus, sizeof(*zeros));
	if (bpf_map_update_elem(fd, &slot, zeros, BPF_ANY))
		err = -errno;
	free(zeros);
	return err;
}

static int find_live(const struct tg_state *st, const char *name, uint32_t generation)
{
	for (int i = 0; i < TG_MAX_COUNTER_SLOTS; i++)
		if (tg_slot_live(&st->slots[i], generation) && !strcmp(st->slots[i].name, name))
			return i;
	return -1;
}

int tg_assign_slots(struct tg_state *st, struct tg_image *img, uint32_t next)
{
	uint32_t live = st->meta.generation;
	bool kept[TG_MAX_COUNTER_SLOTS] = { 0 };
	int free_cursor = 0, err;

	for (uint32_t s = 0; s < img->nservices; s++) {
		int slot = find_live(st, img->services[s].name, live);

		if (slot >= 0) {
			kept[slot] = true;
			st->slots[slot].retired = 0; /* a crashed reload may have marked it */
			img->services[s].counter_slot = (uint32_t)slot;
			continue;
		}
		while (free_cursor < TG_MAX_COUNTER_SLOTS &&
		       (kept[free_cursor] || !slot_free(&st->slots[free_cursor], live)))
			free_cursor++;
		if (free_cursor == TG_MAX_COUNTER_SLOTS)
			return -ENOSPC;
		err = zero_counters(st->service_counters_fd, (uint32_t)free_cursor);
		if (err)
			return err;
		memset(&st->slots[free_cursor], 0, sizeof(st->slots[free_cursor]));
		snprintf(st->slots[free_cursor].name, sizeof(st->slots[free_cursor].name), "%s", img->services[s].name);
		st->slots[free_cursor].added = next;
		kept[free_cursor] = true;
		img->services[s].counter_slot = (uint32_t)free_cursor;
	}
	for (int i = 0; i < TG_MAX_COUNTER_SLOTS; i++)
		if (!kept[i] && tg_slot_live(&st->slots[i], live))
			st->slots[i].retired = next;
	return 0;
}

/* ------------------------------------------------------------- recovery */

/* The id of the program in the prog array (0 when empty). */
static uint32_t live_prog_id(struct tg_state *st)
{
	uint32_t zero = 0, id = 0;

	if (bpf_map_lookup_elem(st->prog_array_fd, &zero, &id))
		return 0;
	return id;
}

static uint32_t pinned_prog_id(struct tg_state *st, const char *name)
{
	struct bpf_prog_info info = { 0 };
	uint32_t len = sizeof(info);
	int fd = tg_state_get_pinned(st, name);

	if (fd < 0)
		return 0;
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		info.id = 0;
	close(fd);
	return info.id;
}

int tg_state_rename_pin(struct tg_state *st, const char *from, const char *to)
{
	int fd = tg_state_get_pinned(st, from), err;

	if (fd < 0)
		return fd;
	err = tg_state_pin(st, fd, to);
	close(fd);
	return err ?: tg_state_unpin(st, from);
}

int tg_state_record_switch(struct tg_state *st)
{
	st->meta.generation = st->meta.pending_generation;
	st->meta.current = st->meta.pending;
	st->meta.confirm_pending = st->meta.confirm_deadline_ns != 0;
	st->meta.pending_generation = 0;
	memset(&st->meta.pending, 0, sizeof(st->meta.pending));
	return tg_state_rename_pin(st, TG_PIN_PENDING, TG_PIN_POLICY) ?: tg_state_write_meta(st);
}

/* A --confirm whose timer died: any later command enforces the deadline. */
#define CONFIRM_GRACE_NS (5ull * 1000000000ull)

int tg_state_recover(struct tg_state *st)
{
	uint32_t pending_id;

	if (!st->meta.pending_generation) {
		if (st->meta.confirm_pending && tg_realtime_ns() > st->meta.confirm_deadline_ns + CONFIRM_GRACE_NS)
			return tg_state_rollback(st);
		return 0;
	}
	pending_id = pinned_prog_id(st, TG_PIN_PENDING);
	if (pending_id && pending_id == live_prog_id(st))
		return tg_state_record_switch(st); /* the switch happened */
	/* It did not: forget the half-made reload. Slots it added lie beyond the
	 * live generation and count as free; slots it retired come back. */
	tg_state_unpin(st, TG_PIN_PENDING);
	tg_state_unpin(st, TG_PIN_PREVIOUS);
	for (int i = 0; i < TG_MAX_COUNTER_SLOTS; i++)
		if (st->slots[i].retired > st->meta.generation)
			st->slots[i].retired = 0;
	st->meta.pending_generation = 0;
	st->meta.confirm_deadline_ns = 0;
	st->meta.confirm_pid = 0;
	memset(&st->meta.pending, 0, sizeof(st->meta.pending));
	memset(&st->meta.previous, 0, sizeof(st->meta.previous));
	return tg_state_write_slots(st) ?: tg_state_write_meta(st);
}

int tg_state_rollback(struct tg_state *st)
{
	uint32_t gen = st->meta.generation, next = gen + 1, zero = 0;
	int prev_fd = tg_state_get_pinned(st, TG_PIN_PREVIOUS);
	int err;

	if (prev_fd < 0)
		return prev_fd;
	/* Slots the unconfirmed generation added go; those it retired return. */
	for (int i = 0; i < TG_MAX_COUNTER_SLOTS; i++) {
		if (st->slots[i].added == gen && tg_slot_live(&st->slots[i], gen))
			st->slots[i].retired = next;
		else if (st->slots[i].retired == gen)
			st->slots[i].retired = 0;
	}
	err = tg_state_write_slots(st);
	if (!err && bpf_map_update_elem(st->prog_array_fd, &zero, &prev_fd, BPF_ANY))
		err = -errno;
	if (!err)
		err = tg_state_pin(st, prev_fd, TG_PIN_POLICY);
	close(prev_fd);
	if (err)
		return err;
	tg_state_unpin(st, TG_PIN_PREVIOUS);
	st->meta.generation = next;
	st->meta.current = st->meta.previous;
	st->meta.current.loaded_ns = tg_realtime_ns();
	st->meta.confirm_pending = 0;
	st->meta.confirm_pid = 0;
	st->meta.confirm_deadline_ns = 0;
	memset(&st->meta.previous, 0, sizeof(st->meta.previous));
	return tg_state_write_meta(st);
}
