// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Building, installing and switching generations (see generation.h). */
#include "kernel/generation.h"
#include "compile/lookup.h"
#include "lib/util.h"
#include "tollgate.skel.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

const char *const tg_gen_map_names[TG_GEN_MAPS] = { "gen_peer_nodes", "gen_peer_fine", "gen_l4", "gen_masks",
						    "gen_policy" };

uint64_t tg_monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int read_templates(struct bpf_object *obj, struct tg_gen_layout *layout)
{
	for (int i = 0; i < TG_GEN_MAPS; i++) {
		struct bpf_map *outer = bpf_object__find_map_by_name(obj, tg_gen_map_names[i]);
		struct bpf_map *inner = outer ? bpf_map__inner_map(outer) : NULL;

		if (!inner)
			return -ENOENT;
		layout->map[i] = (struct tg_inner_def){ .type = bpf_map__type(inner),
							.key_size = bpf_map__key_size(inner),
							.value_size = bpf_map__value_size(inner),
							.max_entries = bpf_map__max_entries(inner),
							.flags = bpf_map__map_flags(inner) };
	}
	return 0;
}

int tg_gen_layout_read(struct bpf_object *obj, struct tg_gen_layout *layout)
{
	struct tollgate *skel;
	int err;

	if (obj)
		return read_templates(obj, layout);
	skel = tollgate__open();
	if (!skel)
		return -errno;
	err = read_templates(skel->obj, layout);
	tollgate__destroy(skel);
	return err;
}

/* Batch where the kernel can, one element at a time where it cannot. */
static int update_many(int fd, const void *keys, const void *values, uint32_t count, size_t key_size, size_t value_size)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	uint32_t n = count;

	if (!count)
		return 0;
	if (!bpf_map_update_batch(fd, keys, values, &n, &opts))
		return 0;
	for (uint32_t i = 0; i < count; i++)
		if (bpf_map_update_elem(fd, (const char *)keys + i * key_size, (const char *)values + i * value_size,
					BPF_ANY))
			return -errno;
	return 0;
}

static uint32_t *index_keys(uint32_t count)
{
	uint32_t *keys = xmalloc((count ? count : 1) * sizeof(uint32_t));

	for (uint32_t i = 0; i < count; i++)
		keys[i] = i;
	return keys;
}

/*
 * The generation's arrays are mmapable: one copy writes each, where an
 * update per element would take most of a second at a million prefixes.
 * Where the kernel refuses the mapping, batch updates do the same job.
 */
static int fill_array(int fd, const void *values, size_t count, size_t value_size)
{
	size_t stride = (value_size + 7) & ~(size_t)7; /* the kernel's element size */
	size_t len = count * stride;
	uint32_t *keys;
	uint8_t *mem;
	int err;

	if (!count)
		return 0;
	mem = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (mem != MAP_FAILED) {
		if (stride == value_size)
			memcpy(mem, values, len);
		else
			for (size_t i = 0; i < count; i++)
				memcpy(mem + i * stride, (const uint8_t *)values + i * value_size, value_size);
		munmap(mem, len);
		return 0;
	}
	keys = index_keys((uint32_t)count);
	err = update_many(fd, keys, values, (uint32_t)count, sizeof(uint32_t), value_size);
	free(keys);
	return err;
}

static int fill_lookup(struct tg_generation *gen, const struct tg_lookup *lk)
{
	return fill_array(gen->fd[TG_GEN_PEER_NODES], lk->nodes, lk->nnodes, sizeof(*lk->nodes)) ?:
		       fill_array(gen->fd[TG_GEN_PEER_FINE], lk->fine, 2 * TG_LK_FINE_WORDS, sizeof(*lk->fine));
}

static uint32_t action_of(int setting)
{
	return setting == TG_ALLOW ? TG_PASS : TG_DROP;
}

static void policy_table(const struct tg_image *img, const struct tg_lookup *lk, struct tg_policy_table *t)
{
	memset(t, 0, sizeof(*t));
	t->lookup = lk->info;
	t->settings.default_verdict = action_of(img->settings[TG_SET_DEFAULT]);
	t->settings.non_ip = action_of(img->settings[TG_SET_NON_IP]);
	t->settings.malformed = action_of(img->settings[TG_SET_MALFORMED]);
	t->settings.icmp_mode = (uint32_t)img->settings[TG_SET_ESSENTIAL_ICMP];
	t->settings.frag_mode = (uint32_t)img->settings[TG_SET_FRAGMENTS];
	t->settings.replies = (uint32_t)img->settings[TG_SET_REPLIES];
	for (int i = 0; i < TG_TIMEOUTS; i++)
		t->settings.timeout[i] = (uint32_t)img->settings[TG_SET_TIMEOUT(i)];
	for (uint32_t s = 0; s < img->nservices && s < TG_MAX_SERVICES; s++) {
		t->services[s].counter_slot = img->services[s].counter_slot;
		t->services[s].action = img->services[s].action;
		t->services[s].role = img->services[s].role;
	}
}

static int fill(struct tg_generation *gen, const struct tg_image *img, const struct tg_lookup *lk)
{
	struct tg_policy_table *table = xmalloc(sizeof(*table));
	uint32_t zero = 0;
	int err;

	policy_table(img, lk, table);
	/* clang-format off */
	err = fill_lookup(gen, lk) ?:
	      fill_array(gen->fd[TG_GEN_L4], img->l4, TG_L4_ENTRIES, sizeof(uint32_t)) ?:
	      fill_array(gen->fd[TG_GEN_MASKS], img->masks, img->nmasks, sizeof(struct tg_mask));
	/* clang-format on */
	if (!err && bpf_map_update_elem(gen->fd[TG_GEN_POLICY], &zero, table, BPF_ANY))
		err = -errno;
	free(table);
	return err;
}

/* The lookup's arrays are sized to the policy; an array cannot be empty. */
static uint32_t entries_for(enum tg_gen_map m, const struct tg_inner_def *def, const struct tg_lookup *lk)
{
	size_t n = def->max_entries;

	if (m == TG_GEN_PEER_NODES)
		n = lk->nnodes;
	return n ? (uint32_t)n : 1;
}

static int create_maps(const struct tg_gen_layout *layout, const struct tg_lookup *lk, struct tg_generation *gen)
{
	for (int i = 0; i < TG_GEN_MAPS; i++) {
		const struct tg_inner_def *def = &layout->map[i];
		LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = def->flags);
		char name[BPF_OBJ_NAME_LEN];

		/* gen_l4's inner map is tg_l4: named after its outer map. */
		snprintf(name, sizeof(name), "tg_%s", tg_gen_map_names[i] + strlen("gen_"));
		gen->fd[i] = bpf_map_create((enum bpf_map_type)def->type, name, def->key_size, def->value_size,
					    entries_for((enum tg_gen_map)i, def, lk), &opts);
		if (gen->fd[i] < 0)
			return -errno;
	}
	return 0;
}

int tg_generation_build(const struct tg_gen_layout *layout, const struct tg_image *img, struct tg_generation *gen,
			uint64_t *fill_ns)
{
	uint64_t start = tg_monotonic_ns();
	struct tg_lookup lk;
	int err;

	for (int i = 0; i < TG_GEN_MAPS; i++)
		gen->fd[i] = -1;
	err = tg_lookup_build(img, &lk);
	if (err)
		return err;
	if (lk.nnodes > UINT32_MAX)
		err = -E2BIG;
	err = err ?: create_maps(layout, &lk, gen) ?: fill(gen, img, &lk);
	tg_lookup_free(&lk);
	if (fill_ns)
		*fill_ns = tg_monotonic_ns() - start;
	if (err)
		tg_generation_close(gen);
	return err;
}

void tg_generation_close(struct tg_generation *gen)
{
	for (int i = 0; i < TG_GEN_MAPS; i++) {
		if (gen->fd[i] >= 0)
			close(gen->fd[i]);
		gen->fd[i] = -1;
	}
}

int tg_generation_install(const int outer[TG_GEN_MAPS], uint32_t slot, const struct tg_generation *gen)
{
	for (int i = 0; i < TG_GEN_MAPS; i++)
		if (bpf_map_update_elem(outer[i], &slot, &gen->fd[i], BPF_ANY))
			return -errno;
	return 0;
}

int tg_generation_activate(int active_fd, uint32_t slot)
{
	uint32_t zero = 0;

	return bpf_map_update_elem(active_fd, &zero, &slot, BPF_ANY) ? -errno : 0;
}

int tg_generation_active(int active_fd, uint32_t *slot)
{
	uint32_t zero = 0;

	return bpf_map_lookup_elem(active_fd, &zero, slot) ? -errno : 0;
}

int tg_generation_quiesce(int outer_fd, uint32_t slot)
{
	uint32_t id;
	int fd, err = 0;

	if (bpf_map_lookup_elem(outer_fd, &slot, &id))
		return errno == ENOENT ? 0 : -errno; /* an empty slot: nothing to wait for */
	fd = bpf_map_get_fd_by_id(id);
	if (fd < 0)
		return -errno;
	if (bpf_map_update_elem(outer_fd, &slot, &fd, BPF_ANY))
		err = -errno;
	close(fd);
	return err;
}
