// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Pinned state. Everything tollgate enforces lives under
 * /sys/fs/bpf/tollgate/IFACE/ so that no tollgate process, and no crash of
 * one, changes what is enforced. Commands on one interface take a lock, and
 * a switch records its intent (meta.pending_generation) before it flips
 * `active`, so the next command can tell how far it got.
 */
#include "kernel/state.h"
#include "kernel/egress.h"
#include "kernel/flows.h"
#include "lib/util.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>

#define LOCK_DIR "/run/tollgate"

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
	st->lock_fd = st->meta_fd = st->slots_fd = st->hosts_fd = st->active_fd = -1;
	st->service_counters_fd = st->reason_counters_fd = st->orphans_fd = -1;
	for (int i = 0; i < TG_GEN_MAPS; i++)
		st->outer_fd[i] = -1;
}

int tg_bpffs_check(void)
{
	struct statfs fs;

	if (statfs("/sys/fs/bpf", &fs) < 0)
		return errno == EACCES || errno == EPERM ? -EACCES : -ENOTDIR;
	return fs.f_type == BPF_FS_MAGIC ? 0 : -ENOTDIR;
}

static void lock_path(const struct tg_state *st, char *path, size_t size)
{
	snprintf(path, size, LOCK_DIR "/%s.lock", st->ifname);
}

/* Whether fd is still the file at path: tg_state_close() removes the lock
 * file of an interface that has no state, and a process that was waiting on
 * the removed file holds a lock nobody else will ever ask for. */
static bool still_linked(int fd, const char *path)
{
	struct stat held, named;

	return fstat(fd, &held) == 0 && stat(path, &named) == 0 && held.st_dev == named.st_dev &&
	       held.st_ino == named.st_ino;
}

int tg_state_lock(struct tg_state *st)
{
	char path[TG_PATH_MAX + 32];
	int err;

	if (mkdir(LOCK_DIR, 0700) < 0 && errno != EEXIST)
		return -errno;
	lock_path(st, path, sizeof(path));
	for (;;) {
		st->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
		if (st->lock_fd < 0)
			return -errno;
		if (flock(st->lock_fd, LOCK_EX) < 0) {
			err = -errno;
			close(st->lock_fd);
			st->lock_fd = -1;
			return err;
		}
		if (still_linked(st->lock_fd, path))
			return 0;
		close(st->lock_fd); /* removed while we waited: take the new one */
	}
}

/* ':' is never in an interface name, so this lock is no interface's. */
#define HOST_LOCK LOCK_DIR "/flows:host.lock"

int tg_host_lock(void)
{
	int fd;

	if (mkdir(LOCK_DIR, 0700) < 0 && errno != EEXIST)
		return -errno;
	fd = open(HOST_LOCK, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (flock(fd, LOCK_EX) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

void tg_host_unlock(int fd)
{
	if (fd >= 0)
		close(fd);
}

static int get_pinned(const struct tg_state *st, const char *name)
{
	char path[TG_PATH_MAX + 32];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", st->dir, name);
	fd = bpf_obj_get(path);
	return fd < 0 ? -errno : fd;
}

int tg_state_peek_meta(const char *ifname, struct tg_meta *meta)
{
	struct tg_state st;
	uint32_t zero = 0;
	int fd, err = 0;

	tg_state_init(&st, ifname);
	fd = get_pinned(&st, TG_PIN_META);
	if (fd < 0)
		return fd;
	if (bpf_map_lookup_elem(fd, &zero, meta))
		err = -errno;
	else if (meta->version != TG_META_VERSION)
		err = -EPROTO;
	close(fd);
	return err;
}

bool tg_state_exists(const char *ifname)
{
	char path[TG_PATH_MAX + 32];
	struct stat sb;

	snprintf(path, sizeof(path), "%s/%s/%s", TG_PIN_ROOT, ifname, TG_PIN_META);
	return stat(path, &sb) == 0;
}

static int read_tables(struct tg_state *st)
{
	for (uint32_t i = 0; i < TG_MAX_COUNTER_SLOTS; i++)
		if (bpf_map_lookup_elem(st->slots_fd, &i, &st->slots[i]))
			return -errno;
	for (uint32_t i = 0; i < TG_MAX_HOSTS; i++)
		if (bpf_map_lookup_elem(st->hosts_fd, &i, &st->hosts[i]))
			return -errno;
	return 0;
}

int tg_state_open_maps(struct tg_state *st)
{
	struct {
		int *fd;
		const char *name;
	} pins[] = {
		{ &st->meta_fd, TG_PIN_META },
		{ &st->slots_fd, TG_PIN_SLOTS },
		{ &st->hosts_fd, TG_PIN_HOSTS },
		{ &st->active_fd, TG_PIN_ACTIVE },
		{ &st->service_counters_fd, TG_PIN_SERVICE_COUNTERS },
		{ &st->reason_counters_fd, TG_PIN_REASON_COUNTERS },
		{ &st->orphans_fd, TG_PIN_ORPHANS },
	};

	for (size_t i = 0; i < ARRAY_SIZE(pins); i++) {
		*pins[i].fd = get_pinned(st, pins[i].name);
		if (*pins[i].fd < 0)
			return *pins[i].fd;
	}
	for (int i = 0; i < TG_GEN_MAPS; i++) {
		st->outer_fd[i] = get_pinned(st, tg_gen_map_names[i]);
		if (st->outer_fd[i] < 0)
			return st->outer_fd[i];
	}
	return 0;
}

int tg_state_open(struct tg_state *st)
{
	uint32_t zero = 0;
	int err;

	if (!tg_state_exists(st->ifname)) {
		struct stat sb;

		/* Not root: the pin root is 0700, so say that, not "not attached". */
		if (stat(TG_PIN_ROOT, &sb) < 0 && (errno == EACCES || errno == EPERM))
			return -EACCES;
		if (stat(st->dir, &sb) < 0 && (errno == EACCES || errno == EPERM))
			return -EACCES;
		return -ENOENT;
	}
	err = tg_state_open_maps(st);
	if (err == -ENOENT)
		return -EPROTO; /* meta is there, the rest is of another layout */
	if (err)
		return err;
	if (bpf_map_lookup_elem(st->meta_fd, &zero, &st->meta))
		return -errno;
	if (st->meta.version != TG_META_VERSION)
		return -EPROTO;
	return read_tables(st);
}

int tg_state_acquire(struct tg_state *st, const char *ifname)
{
	tg_state_init(st, ifname);
	return tg_bpffs_check() ?: tg_state_lock(st) ?: tg_state_open(st) ?: tg_state_recover(st);
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
	close_fd(&st->hosts_fd);
	close_fd(&st->active_fd);
	close_fd(&st->service_counters_fd);
	close_fd(&st->reason_counters_fd);
	close_fd(&st->orphans_fd);
	for (int i = 0; i < TG_GEN_MAPS; i++)
		close_fd(&st->outer_fd[i]);
	/* An interface without state (detached, or never attached: a typo)
	 * leaves no lock file behind; removed while still held, see
	 * still_linked(). */
	if (st->lock_fd >= 0 && !tg_state_exists(st->ifname)) {
		char path[TG_PATH_MAX + 32];

		lock_path(st, path, sizeof(path));
		unlink(path);
	}
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

int tg_state_apply_slot_plan(struct tg_state *st, const struct tg_slot_plan *plan)
{
	for (uint32_t i = 0; i < plan->nzero; i++) {
		int err = zero_counters(st->service_counters_fd, plan->zero[i]);

		if (err)
			return err;
	}
	memcpy(st->slots, plan->slots, sizeof(st->slots));
	return 0;
}

void tg_state_remove(struct tg_state *st)
{
	DIR *dir;
	struct dirent *e;
	int lock;

	/* A clsact filter is no pin: it goes explicitly (a tcx link goes with its
	 * pin). State of another layout cannot say whether there is one: then any
	 * filter of tollgate's classifier under tollgate's handle goes, so that
	 * an attach after an upgrade does not meet the old one. */
	if (st->meta.version == TG_META_VERSION && st->meta.egress_kind == TG_EGRESS_CLSACT)
		tg_egress_detach(st->dir, (int)st->meta.ifindex, st->meta.egress_kind, st->meta.egress_prog_id);
	else if (st->meta.version != TG_META_VERSION)
		tg_egress_detach(st->dir, (int)if_nametoindex(st->ifname), TG_EGRESS_CLSACT, 0);
	dir = opendir(st->dir);
	/* The directory holds our pins and nothing else. */
	while (dir && (e = readdir(dir)))
		if (e->d_name[0] != '.')
			unlinkat(dirfd(dir), e->d_name, 0);
	if (dir)
		closedir(dir);
	rmdir(st->dir);
	/* Only when no other interface is left; the flows go with the last
	 * one. Under the host lock, so an attach elsewhere cannot pin new
	 * tables between the two steps and lose them. */
	lock = tg_host_lock();
	if (rmdir(TG_PIN_ROOT) == 0)
		tg_flows_remove();
	tg_host_unlock(lock);
}

/* ------------------------------------------------------------- switching */

int tg_state_record_switch(struct tg_state *st)
{
	uint32_t left = st->meta.active_slot;
	int err;

	st->meta.active_slot ^= 1u;
	st->meta.generation = st->meta.pending_generation;
	st->meta.current = st->meta.pending;
	if (st->meta.pending_rollback) {
		st->meta.confirm_deadline_ns = 0;
		st->meta.confirm_pid = 0;
		memset(&st->meta.previous, 0, sizeof(st->meta.previous));
	}
	st->meta.confirm_pending = st->meta.confirm_deadline_ns != 0;
	st->meta.pending_rollback = 0;
	st->meta.pending_generation = 0;
	memset(&st->meta.pending, 0, sizeof(st->meta.pending));
	err = tg_state_write_meta(st);
	/* The next reload refills the slot just left: no packet may still use it. */
	return err ?: tg_generation_quiesce(st->outer_fd[TG_GEN_POLICY], left);
}

/* A --confirm whose timer died: any later command enforces the deadline. */
#define CONFIRM_GRACE_NS (5ull * 1000000000ull)

static int forget_pending(struct tg_state *st)
{
	tg_slots_forget_after(st->slots, st->meta.generation);
	st->meta.pending_generation = 0;
	st->meta.pending_rollback = 0;
	memset(&st->meta.pending, 0, sizeof(st->meta.pending));
	/* A reload's --confirm never began; an interrupted rollback is retried
	 * by the next command, so its confirm stays. */
	if (!st->meta.confirm_pending) {
		st->meta.confirm_deadline_ns = 0;
		st->meta.confirm_pid = 0;
		memset(&st->meta.previous, 0, sizeof(st->meta.previous));
	}
	return tg_state_write_slots(st) ?: tg_state_write_meta(st);
}

int tg_state_recover(struct tg_state *st)
{
	uint32_t in_force;
	int err;

	if (!st->meta.pending_generation) {
		if (st->meta.confirm_pending && tg_realtime_ns() > st->meta.confirm_deadline_ns + CONFIRM_GRACE_NS)
			return tg_state_rollback(st);
		return 0;
	}
	err = tg_generation_active(st->active_fd, &in_force);
	if (err)
		return err;
	if (in_force != st->meta.active_slot)
		return tg_state_record_switch(st); /* the switch happened */
	return forget_pending(st);
}

/* The spare slot holds a whole generation (a reload filled all of it). */
static bool spare_filled(struct tg_state *st)
{
	uint32_t slot = tg_state_spare_slot(st), id;

	for (int i = 0; i < TG_GEN_MAPS; i++)
		if (bpf_map_lookup_elem(st->outer_fd[i], &slot, &id))
			return false;
	return true;
}

int tg_state_rollback(struct tg_state *st)
{
	uint32_t gen = st->meta.generation;
	int err;

	if (!st->meta.confirm_pending || !spare_filled(st))
		return -ENOENT;
	tg_slots_roll_back(st->slots, gen);
	/* Recorded as a switch like any other, so a crash in between recovers. */
	st->meta.pending_generation = gen + 1;
	st->meta.pending = st->meta.previous;
	st->meta.pending.loaded_ns = tg_realtime_ns();
	st->meta.pending_rollback = 1;
	/* clang-format off */
	err = tg_state_write_slots(st) ?: tg_state_write_meta(st) ?:
	      tg_generation_activate(st->active_fd, tg_state_spare_slot(st));
	/* clang-format on */
	return err ?: tg_state_record_switch(st);
}

int tg_list_attached(char (*names)[IF_NAMESIZE], int max)
{
	struct dirent **list = NULL;
	int n = scandir(TG_PIN_ROOT, &list, NULL, alphasort), found = 0;

	if (n < 0)
		return errno == ENOENT ? 0 : -errno;

	for (int i = 0; i < n; i++) {
		if (list[i]->d_name[0] != '.' && found < max && strlen(list[i]->d_name) < IF_NAMESIZE &&
		    tg_state_exists(list[i]->d_name))
			memcpy(names[found++], list[i]->d_name, strlen(list[i]->d_name) + 1);
		free(list[i]);
	}
	free(list);
	return found;
}
