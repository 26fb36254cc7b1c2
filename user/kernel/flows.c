// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The shared flow tables: where they are pinned, how big, what they hold. */
#include "kernel/flows.h"
#include "kernel/dataplane.h"
#include "lib/util.h"
#include "tollgate.skel.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

_Static_assert(sizeof(struct tg_flow_key) == 40, "tg_flow_hint_index() reads five 64-bit words");

static const char *const table_pins[TG_OPENERS] = { TG_PIN_FLOWS_LOCAL, TG_PIN_FLOWS_REMOTE };

static void shared_path(char *buf, size_t size, const char *name)
{
	snprintf(buf, size, "%s/%s", TG_PIN_SHARED, name);
}

/* The size of a pinned map, or 0 when there is none. */
static uint32_t pinned_size(const char *path)
{
	struct bpf_map_info info;
	uint32_t len = sizeof(info);
	int fd = bpf_obj_get(path);
	uint32_t size = 0;

	if (fd < 0)
		return 0;
	memset(&info, 0, sizeof(info));
	if (!bpf_obj_get_info_by_fd(fd, &info, &len))
		size = info.max_entries;
	close(fd);
	return size;
}

/* The hints follow the tables' size: an existing pin keeps its own. */
static int configure_hints(struct tollgate *skel, uint32_t table_size)
{
	char path[TG_PATH_MAX];
	uint32_t slots;
	int err;

	shared_path(path, sizeof(path), TG_PIN_FLOW_HINTS);
	err = bpf_map__set_pin_path(skel->maps.flow_hints, path);
	if (err)
		return err;
	slots = pinned_size(path);
	if (!slots)
		slots = tg_flow_hint_slots(table_size);
	skel->rodata->cfg_flow_hint_half_mask = slots / 2 - 1;
	return bpf_map__set_max_entries(skel->maps.flow_hints, slots);
}

int tg_flows_configure(struct tollgate *skel, uint32_t want, uint32_t *size)
{
	const char *names[] = { TG_PIN_FLOWS_LOCAL, TG_PIN_FLOWS_REMOTE, TG_PIN_FLOW_STATS };
	char path[TG_PATH_MAX];
	uint32_t table_size = want;

	if (mkdir(TG_PIN_SHARED, 0700) < 0 && errno != EEXIST)
		return -errno;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		struct bpf_map *map = bpf_object__find_map_by_name(skel->obj, names[i]);
		uint32_t have;
		int err;

		if (!map)
			return -ENOENT;
		shared_path(path, sizeof(path), names[i]);
		err = bpf_map__set_pin_path(map, path);
		if (err)
			return err;
		if (i == TG_OPENERS) /* flow_stats: a fixed size */
			continue;
		have = pinned_size(path);
		if (have)
			table_size = have;
		err = bpf_map__set_max_entries(map, have ? have : want);
		if (err)
			return err;
	}
	if (size)
		*size = table_size;
	return configure_hints(skel, table_size);
}

int tg_flows_size_unpinned(struct tollgate *skel, uint32_t entries)
{
	uint32_t slots = tg_flow_hint_slots(entries);

	skel->rodata->cfg_flow_hint_half_mask = slots / 2 - 1;
	return bpf_map__set_max_entries(skel->maps.flows_out, entries)	      ?:
		       bpf_map__set_max_entries(skel->maps.flows_in, entries) ?:
		       bpf_map__set_max_entries(skel->maps.flow_hints, slots);
}

bool tg_flows_hints_missing(void)
{
	char path[TG_PATH_MAX];

	shared_path(path, sizeof(path), TG_PIN_FLOWS_LOCAL);
	if (!pinned_size(path))
		return false;
	shared_path(path, sizeof(path), TG_PIN_FLOW_HINTS);
	return !pinned_size(path);
}

uint32_t tg_flows_size(void)
{
	char path[TG_PATH_MAX];

	shared_path(path, sizeof(path), TG_PIN_FLOWS_LOCAL);
	return pinned_size(path);
}

static uint64_t monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Walks a table key by key: its entries change under us, which only makes
 * the count approximate, never wrong by more than the churn. */
static int count_table(int fd, uint64_t now_ns, uint64_t *present, uint64_t *live)
{
	struct tg_flow_key key, next;
	struct tg_flow flow;
	void *prev = NULL;

	*present = *live = 0;
	while (!bpf_map_get_next_key(fd, prev, &next)) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, &flow))
			continue; /* evicted between the two calls */
		(*present)++;
		if (now_ns < flow.expires_ns)
			(*live)++;
	}
	return errno == ENOENT ? 0 : -errno;
}

static uint32_t map_size(int fd)
{
	struct bpf_map_info info;
	uint32_t len = sizeof(info);

	memset(&info, 0, sizeof(info));
	return bpf_obj_get_info_by_fd(fd, &info, &len) ? 0 : info.max_entries;
}

int tg_flows_summary_of(int table_fd[TG_OPENERS], int stats_fd, uint64_t now_ns, struct tg_flow_summary *out)
{
	int err = 0;

	memset(out, 0, sizeof(*out));
	for (uint32_t o = 0; !err && o < TG_OPENERS; o++) {
		out->size[o] = map_size(table_fd[o]);
		err = count_table(table_fd[o], now_ns, &out->present[o], &out->live[o]) ?:
			      tg_sum_percpu(stats_fd, o, (uint64_t *)&out->stats[o],
					    sizeof(out->stats[o]) / sizeof(uint64_t));
		if (!err && out->stats[o].inserted > out->present[o])
			out->evicted[o] = out->stats[o].inserted - out->present[o];
	}
	return err;
}

/* Raises one table's hints to cover its entries, as the program would have. */
static int hint_table(int table_fd, uint32_t opener, int hints_fd, uint32_t half_mask)
{
	struct tg_flow_key key, next;
	struct tg_flow flow;
	void *prev = NULL;

	while (!bpf_map_get_next_key(table_fd, prev, &next)) {
		uint32_t slot, hint;

		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(table_fd, &key, &flow))
			continue;
		slot = tg_flow_hint_index(&key, opener, half_mask);
		if (bpf_map_lookup_elem(hints_fd, &slot, &hint))
			return -errno;
		if (hint >= tg_flow_hint_of(flow.expires_ns))
			continue;
		hint = tg_flow_hint_of(flow.expires_ns);
		if (bpf_map_update_elem(hints_fd, &slot, &hint, BPF_ANY))
			return -errno;
	}
	return errno == ENOENT ? 0 : -errno;
}

int tg_flows_hint_tables(int table_fd[TG_OPENERS], int hints_fd)
{
	uint32_t slots = map_size(hints_fd);
	int err = slots >= 2 ? 0 : -EINVAL;

	for (uint32_t o = 0; !err && o < TG_OPENERS; o++)
		err = hint_table(table_fd[o], o, hints_fd, slots / 2 - 1);
	return err;
}

static int open_shared(const char *name)
{
	char path[TG_PATH_MAX];
	int fd;

	shared_path(path, sizeof(path), name);
	fd = bpf_obj_get(path);
	return fd < 0 ? -errno : fd;
}

int tg_flows_summary(struct tg_flow_summary *out)
{
	int fds[TG_OPENERS] = { -1, -1 }, stats_fd, err = 0;

	stats_fd = open_shared(TG_PIN_FLOW_STATS);
	if (stats_fd < 0)
		return stats_fd;
	for (int o = 0; !err && o < TG_OPENERS; o++) {
		fds[o] = open_shared(table_pins[o]);
		if (fds[o] < 0)
			err = fds[o];
	}
	if (!err)
		err = tg_flows_summary_of(fds, stats_fd, monotonic_ns(), out);
	for (int o = 0; o < TG_OPENERS; o++)
		if (fds[o] >= 0)
			close(fds[o]);
	close(stats_fd);
	return err;
}

int tg_flows_rebuild_hints(void)
{
	int fds[TG_OPENERS] = { -1, -1 }, hints_fd, err = 0;

	hints_fd = open_shared(TG_PIN_FLOW_HINTS);
	if (hints_fd < 0)
		return hints_fd;
	for (int o = 0; !err && o < TG_OPENERS; o++) {
		fds[o] = open_shared(table_pins[o]);
		if (fds[o] < 0)
			err = fds[o];
	}
	if (!err)
		err = tg_flows_hint_tables(fds, hints_fd);
	for (int o = 0; o < TG_OPENERS; o++)
		if (fds[o] >= 0)
			close(fds[o]);
	close(hints_fd);
	return err;
}

void tg_flows_remove(void)
{
	char path[TG_PATH_MAX];

	for (int o = 0; o < TG_OPENERS; o++) {
		shared_path(path, sizeof(path), table_pins[o]);
		unlink(path);
	}
	shared_path(path, sizeof(path), TG_PIN_FLOW_STATS);
	unlink(path);
	shared_path(path, sizeof(path), TG_PIN_FLOW_HINTS);
	unlink(path);
	rmdir(TG_PIN_SHARED);
}
