/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The generation switch: build a compiled image into the spare slot's maps,
 * record the intent, flip `active`, record the switch. With --confirm it
 * leaves a timer process that rolls back unless confirmed.
 */
#ifndef TG_SWITCH_H
#define TG_SWITCH_H

#include "kernel/state.h"

#include <stdbool.h>
#include <sys/types.h>

struct tg_switch_request {
	struct tg_policy_info policy; /* what the new generation enforces */
	unsigned confirm_seconds;     /* 0: no rollback timer */
	const uint8_t *snapshot;      /* the policy's files (policy/snapshot.h), kept with the generation */
	size_t snapshot_len;
};

struct tg_switch_result {
	uint32_t generation;
	unsigned kept, added, retired; /* counter slots */
	bool load_failed;	       /* the kernel refused the new maps */
	char *load_log;		       /* then libbpf's words, or NULL; the caller frees */
	int snapshot_err;	       /* the snapshot could not be kept (the switch went on) */
};

/* On failure the generation in force is untouched. */
int tg_switch_generation(struct tg_state *st, struct tg_image *img, const struct tg_switch_request *req,
			 struct tg_switch_result *res);

/* Stops a --confirm rollback timer, if pid still runs ours for ifname. */
void tg_stop_rollback_timer(pid_t pid, const char *ifname);

/* Test hook: TOLLGATE_TEST_STOP_AT=NAME stops the process there (SIGSTOP),
 * so that a test can kill -9 it at a known point without sleeping. */
void tg_test_stop_point(const char *name);

#endif
