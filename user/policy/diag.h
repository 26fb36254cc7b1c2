/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef TG_DIAG_H
#define TG_DIAG_H

#include <stdint.h>
#include <stdio.h>
#include <stddef.h>

/* A place in a policy source: file index into tg_sources, 1-based line/col. */
struct tg_loc {
	uint32_t file;
	uint32_t line;
	uint32_t col;
};

struct tg_source {
	char *path;	/* as the user or the include named it */
	char *realpath; /* for include-loop detection */
	char *buf;
	size_t len;
	size_t *line_starts; /* built on the first diagnostic that needs a line */
	size_t nlines;
};

/* How an include named a file that was read (or skipped as read already):
 * enough to read the policy again from its sources alone (snapshot.h). */
struct tg_include_alias {
	char *path;	/* as computed from the including file and the name */
	char *realpath; /* the file it resolved to */
};

struct tg_diags {
	struct tg_source *sources;
	size_t nsources, cap;
	struct tg_include_alias *aliases;
	size_t naliases, aliases_cap;
	unsigned errors;
	unsigned warnings;
	unsigned max_errors; /* stop reporting (and parsing) past this many */
	FILE *out;	     /* NULL: count only (fuzzing, tests) */
};

void tg_diags_init(struct tg_diags *d, FILE *out);
void tg_diags_free(struct tg_diags *d);
void tg_diags_add_alias(struct tg_diags *d, const char *path, const char *realpath);
/* Takes ownership of buf. Returns the file index. */
uint32_t tg_diags_add_source(struct tg_diags *d, const char *path, const char *realpath, char *buf, size_t len);

__attribute__((format(printf, 3, 4))) void tg_error(struct tg_diags *d, struct tg_loc loc, const char *fmt, ...);
__attribute__((format(printf, 3, 4))) void tg_warning(struct tg_diags *d, struct tg_loc loc, const char *fmt, ...);
__attribute__((format(printf, 3, 4))) void tg_note(struct tg_diags *d, struct tg_loc loc, const char *fmt, ...);
/* An error that belongs to no line (a missing file named on the command line). */
__attribute__((format(printf, 3, 4))) void tg_error_file(struct tg_diags *d, const char *path, const char *fmt, ...);

int tg_diags_too_many(const struct tg_diags *d);

#endif
