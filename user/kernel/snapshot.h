/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * A generation's policy snapshot (policy/snapshot.h), pinned beside its maps
 * as TG_PIN_SNAPSHOT<slot>: an array of 4 KiB elements that the data plane
 * never reads. It lives and dies with the pinned state, like everything else
 * a later tollgate process reads.
 */
#ifndef TG_KERNEL_SNAPSHOT_H
#define TG_KERNEL_SNAPSHOT_H

#include <stddef.h>
#include <stdint.h>

#define TG_PIN_SNAPSHOT "snapshot"

/* Replaces the slot's snapshot in dir; 0 or a negative errno. */
int tg_snapshot_store(const char *dir, uint32_t slot, const uint8_t *data, size_t len);
/* Removes the slot's snapshot: better none than one of another generation. */
void tg_snapshot_forget(const char *dir, uint32_t slot);
/* The slot's snapshot (the caller frees *data); -ENOENT when an older
 * tollgate made the generation, -EBADMSG when the map is not one. */
int tg_snapshot_load(const char *dir, uint32_t slot, uint8_t **data, size_t *len);

#endif
