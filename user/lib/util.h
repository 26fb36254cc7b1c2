/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef TG_UTIL_H
#define TG_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <stdio.h>

/*
 * Allocation failure is not recoverable for a CLI that is about to program a
 * kernel: these die with one message instead of threading -ENOMEM through
 * every parser helper.
 */
void *xmalloc(size_t size);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *ptr, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

/* Grows *items so that it holds at least need elements. */
#define VEC_RESERVE(items, cap, need)                                                \
	do {                                                                         \
		if ((need) > (cap)) {                                                \
			size_t vec_new_cap = (cap) ? 2 * (cap) : 8;                  \
			while (vec_new_cap < (need))                                 \
				vec_new_cap *= 2;                                    \
			(items) = xrealloc((items), vec_new_cap * sizeof(*(items))); \
			(cap) = vec_new_cap;                                         \
		}                                                                    \
	} while (0)

#define VEC_PUSH(items, n, cap, value)            \
	do {                                      \
		VEC_RESERVE(items, cap, (n) + 1); \
		(items)[(n)++] = (value);         \
	} while (0)

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Reads a whole file; returns 0 or a negative errno. */
int read_file(const char *path, char **buf, size_t *len);

/* Turns any negative errno of tollgate into a message (the one place). */
const char *tg_strerror(int err);

/* s as a JSON string, quotes included (bytes above 0x7f pass as they are). */
void tg_json_string(FILE *out, const char *s);
/* CLOCK_REALTIME nanoseconds as RFC 3339 in UTC ("2026-11-26T10:18:06Z"). */
void tg_rfc3339(uint64_t realtime_ns, char *buf, size_t size);

#endif
