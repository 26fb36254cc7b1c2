/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The files a policy was loaded from, as one blob: kept with each generation
 * (kernel/snapshot.h), so that `tollgate show` and `reload --dry-run` read
 * what is enforced, not what the files on disk say now. Parsing a snapshot
 * gives the same policy the loader compiled: the same bytes, and each include
 * resolved to the file it resolved to then.
 */
#ifndef TG_SNAPSHOT_H
#define TG_SNAPSHOT_H

#include "policy/policy.h"

#include <stddef.h>
#include <stdint.h>

struct tg_snapshot_file {
	char *path, *realpath; /* as in struct tg_source */
	char *buf;
	size_t len;
};

struct tg_snapshot {
	struct tg_snapshot_file *files; /* files[0] is the policy named on the command line */
	size_t nfiles;
	struct tg_include_alias *aliases;
	size_t naliases;
};

/* The sources and aliases of a successful parse, encoded. The caller frees *out. */
void tg_snapshot_encode(const struct tg_diags *d, uint8_t **out, size_t *len);
/* 0, or -EBADMSG for bytes that are no snapshot of ours. */
int tg_snapshot_decode(const uint8_t *in, size_t len, struct tg_snapshot *snap);
void tg_snapshot_free(struct tg_snapshot *snap);
/* Parses the snapshot's policy, reading its files from the snapshot only. */
int tg_snapshot_parse(const struct tg_snapshot *snap, struct tg_policy *pol, struct tg_diags *diags);

#endif
