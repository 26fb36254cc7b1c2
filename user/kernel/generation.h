/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * A generation: one compiled policy as a set of BPF maps, installed at one
 * slot of the resident program's outer maps. Building one touches nothing
 * that runs; activating it is one map update. See docs/design.md.
 */
#ifndef TG_GENERATION_H
#define TG_GENERATION_H

#include "compile/compile.h"

#include <stdint.h>

struct bpf_object;

/* The outer maps, in the order of their inner maps below. */
enum tg_gen_map { TG_GEN_PEER_NODES, TG_GEN_PEER_FINE, TG_GEN_L4, TG_GEN_MASKS, TG_GEN_POLICY, TG_GEN_MAPS };

/* Names of the outer maps in the BPF object, which are also their pin names. */
extern const char *const tg_gen_map_names[TG_GEN_MAPS];

/* How to create each inner map: read from the BPF object's templates, so that
 * the layout is declared once (bpf/tollgate.bpf.c). */
struct tg_gen_layout {
	struct tg_inner_def {
		uint32_t type, key_size, value_size, max_entries, flags;
	} map[TG_GEN_MAPS];
};

struct tg_generation {
	int fd[TG_GEN_MAPS]; /* inner maps; -1 when not made */
};

/* From an opened object, before it is loaded (libbpf then drops the
 * templates); NULL: a fresh copy of tollgate's own. */
int tg_gen_layout_read(struct bpf_object *obj, struct tg_gen_layout *layout);

/* Creates and fills the inner maps of img; fill_ns (may be NULL) gets the
 * time spent building the peer lookup and writing the maps. On failure
 * nothing is left behind. */
int tg_generation_build(const struct tg_gen_layout *layout, const struct tg_image *img, struct tg_generation *gen,
			uint64_t *fill_ns);
void tg_generation_close(struct tg_generation *gen);

/* Puts gen at slot of the outer maps (outer[i] holds inner map i). */
int tg_generation_install(const int outer[TG_GEN_MAPS], uint32_t slot, const struct tg_generation *gen);
/* The switch: packets read `active` once each, so from here on every packet
 * meets the generation at slot. */
int tg_generation_activate(int active_fd, uint32_t slot);
/*
 * Returns once no packet can still be using a slot that `active` no longer
 * names, so that the slot may be refilled. An update of an array of maps
 * makes the kernel wait for running BPF programs (synchronize_rcu in
 * maybe_wait_bpf_programs); we store an outer slot's own inner map again.
 */
int tg_generation_quiesce(int outer_fd, uint32_t slot);
/* The slot `active` names. */
int tg_generation_active(int active_fd, uint32_t *slot);

uint64_t tg_monotonic_ns(void);

#endif
