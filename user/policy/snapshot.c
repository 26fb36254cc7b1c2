// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Layout, little-endian: "TGSNAP1\0", u32 files, u32 aliases; per file u32
 * path length, path, u32 real path length (0: none), real path, u64 length,
 * bytes; per alias u32 length, path, u32 length, real path.
 */
#include "policy/snapshot.h"
#include "lib/util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const char magic[8] = "TGSNAP1";

struct writer {
	uint8_t *buf;
	size_t n, cap;
};

static void put(struct writer *w, const void *p, size_t len)
{
	while (w->n + len > w->cap) {
		w->cap = w->cap ? 2 * w->cap : 4096;
		w->buf = xrealloc(w->buf, w->cap);
	}
	memcpy(w->buf + w->n, p, len);
	w->n += len;
}

static void put_u32(struct writer *w, uint32_t v)
{
	uint8_t b[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24) };

	put(w, b, 4);
}

static void put_str(struct writer *w, const char *s)
{
	size_t len = s ? strlen(s) : 0;

	put_u32(w, (uint32_t)len);
	put(w, s, len);
}

void tg_snapshot_encode(const struct tg_diags *d, uint8_t **out, size_t *len)
{
	struct writer w = { 0 };

	put(&w, magic, sizeof(magic));
	put_u32(&w, (uint32_t)d->nsources);
	put_u32(&w, (uint32_t)d->naliases);
	for (size_t i = 0; i < d->nsources; i++) {
		const struct tg_source *s = &d->sources[i];

		put_str(&w, s->path);
		put_str(&w, s->realpath);
		put_u32(&w, (uint32_t)s->len);
		put_u32(&w, (uint32_t)((uint64_t)s->len >> 32));
		put(&w, s->buf, s->len);
	}
	for (size_t i = 0; i < d->naliases; i++) {
		put_str(&w, d->aliases[i].path);
		put_str(&w, d->aliases[i].realpath);
	}
	*out = w.buf;
	*len = w.n;
}

/* ------------------------------------------------------------- decoding */

struct reader {
	const uint8_t *p, *end;
	bool bad;
};

static const uint8_t *take(struct reader *r, size_t len)
{
	const uint8_t *at = r->p;

	if (r->bad || (size_t)(r->end - r->p) < len) {
		r->bad = true;
		return NULL;
	}
	r->p += len;
	return at;
}

static uint32_t take_u32(struct reader *r)
{
	const uint8_t *b = take(r, 4);

	return b ? (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24 : 0;
}

/* A string of the snapshot, NUL-terminated; NULL for an empty one. */
static char *take_str(struct reader *r)
{
	uint32_t len = take_u32(r);
	const uint8_t *s = take(r, len);

	return s && len ? xstrndup((const char *)s, len) : NULL;
}

int tg_snapshot_decode(const uint8_t *in, size_t len, struct tg_snapshot *snap)
{
	struct reader r = { in, in + len, false };
	const uint8_t *m = take(&r, sizeof(magic));
	uint32_t nfiles = take_u32(&r), naliases = take_u32(&r);

	memset(snap, 0, sizeof(*snap));
	/* Every file takes at least 16 bytes and every alias 8: a count the
	 * bytes cannot hold is damage, not a reason to allocate. */
	if (!m || memcmp(m, magic, sizeof(magic)) || !nfiles || nfiles > len / 16 || naliases > len / 8)
		return -EBADMSG;
	snap->files = xcalloc(nfiles, sizeof(*snap->files));
	snap->aliases = xcalloc(naliases ? naliases : 1, sizeof(*snap->aliases));
	for (uint32_t i = 0; i < nfiles && !r.bad; i++) {
		struct tg_snapshot_file *f = &snap->files[snap->nfiles++];
		uint64_t size;
		const uint8_t *bytes;

		f->path = take_str(&r);
		f->realpath = take_str(&r);
		size = take_u32(&r);
		size |= (uint64_t)take_u32(&r) << 32;
		bytes = take(&r, (size_t)size);
		if (!bytes || !f->path)
			r.bad = true;
		else {
			f->buf = xmalloc((size_t)size + 1);
			memcpy(f->buf, bytes, (size_t)size);
			f->buf[size] = '\0';
			f->len = (size_t)size;
		}
	}
	for (uint32_t i = 0; i < naliases && !r.bad; i++) {
		struct tg_include_alias *a = &snap->aliases[snap->naliases++];

		a->path = take_str(&r);
		a->realpath = take_str(&r);
		if (!a->path || !a->realpath)
			r.bad = true;
	}
	if (r.bad || r.p != r.end) {
		tg_snapshot_free(snap);
		return -EBADMSG;
	}
	return 0;
}

void tg_snapshot_free(struct tg_snapshot *snap)
{
	for (size_t i = 0; i < snap->nfiles; i++) {
		free(snap->files[i].path);
		free(snap->files[i].realpath);
		free(snap->files[i].buf);
	}
	for (size_t i = 0; i < snap->naliases; i++) {
		free(snap->aliases[i].path);
		free(snap->aliases[i].realpath);
	}
	free(snap->files);
	free(snap->aliases);
	memset(snap, 0, sizeof(*snap));
}

/* --------------------------------------------------------------- parsing */

/* The top file resolves as it did; an include through the alias it made. */
static char *snapshot_resolve(const struct tg_source_reader *rd, const char *path)
{
	const struct tg_snapshot *snap = rd->ctx;

	if (!strcmp(path, snap->files[0].path) && snap->files[0].realpath)
		return xstrdup(snap->files[0].realpath);
	for (size_t i = 0; i < snap->naliases; i++)
		if (!strcmp(snap->aliases[i].path, path))
			return xstrdup(snap->aliases[i].realpath);
	errno = ENOENT;
	return NULL;
}

static int snapshot_read(const struct tg_source_reader *rd, const char *path, const char *real, char **buf, size_t *len)
{
	const struct tg_snapshot *snap = rd->ctx;

	for (size_t i = 0; i < snap->nfiles; i++) {
		const struct tg_snapshot_file *f = &snap->files[i];

		if (real && f->realpath ? strcmp(f->realpath, real) : strcmp(f->path, path))
			continue;
		*buf = xmalloc(f->len + 1);
		memcpy(*buf, f->buf, f->len + 1);
		*len = f->len;
		return 0;
	}
	return -ENOENT;
}

int tg_snapshot_parse(const struct tg_snapshot *snap, struct tg_policy *pol, struct tg_diags *diags)
{
	struct tg_source_reader rd = { snapshot_resolve, snapshot_read, snap };

	return tg_policy_parse_from(pol, diags, snap->files[0].path, &rd);
}
