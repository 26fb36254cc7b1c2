// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "policy/diag.h"
#include "lib/util.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* A 10 MB line must not reach a terminal: show a window around the column. */
#define EXCERPT_BEFORE 60
#define EXCERPT_AFTER 60

void tg_diags_init(struct tg_diags *d, FILE *out)
{
	memset(d, 0, sizeof(*d));
	d->out = out;
	d->max_errors = 50;
}

void tg_diags_free(struct tg_diags *d)
{
	for (size_t i = 0; i < d->nsources; i++) {
		free(d->sources[i].path);
		free(d->sources[i].realpath);
		free(d->sources[i].buf);
		free(d->sources[i].line_starts);
	}
	free(d->sources);
	for (size_t i = 0; i < d->naliases; i++) {
		free(d->aliases[i].path);
		free(d->aliases[i].realpath);
	}
	free(d->aliases);
	memset(d, 0, sizeof(*d));
}

void tg_diags_add_alias(struct tg_diags *d, const char *path, const char *realpath)
{
	struct tg_include_alias a = { xstrdup(path), xstrdup(realpath) };

	VEC_PUSH(d->aliases, d->naliases, d->aliases_cap, a);
}

uint32_t tg_diags_add_source(struct tg_diags *d, const char *path, const char *realpath, char *buf, size_t len)
{
	struct tg_source src = {
		.path = xstrdup(path),
		.realpath = realpath ? xstrdup(realpath) : NULL,
		.buf = buf,
		.len = len,
	};

	VEC_PUSH(d->sources, d->nsources, d->cap, src);
	return (uint32_t)(d->nsources - 1);
}

int tg_diags_too_many(const struct tg_diags *d)
{
	return d->errors >= d->max_errors;
}

static void index_lines(struct tg_source *s)
{
	size_t cap = 0;

	VEC_PUSH(s->line_starts, s->nlines, cap, 0);
	for (size_t i = 0; i < s->len; i++)
		if (s->buf[i] == '\n')
			VEC_PUSH(s->line_starts, s->nlines, cap, i + 1);
}

static void print_excerpt(FILE *out, struct tg_source *s, struct tg_loc loc)
{
	size_t start, end, col, from, to;

	if (!s->buf || loc.line == 0)
		return;
	if (!s->line_starts)
		index_lines(s);
	if (loc.line > s->nlines)
		return;
	start = s->line_starts[loc.line - 1];
	end = start;
	while (end < s->len && s->buf[end] != '\n')
		end++;
	if (end > start && s->buf[end - 1] == '\r')
		end--;
	col = loc.col ? loc.col - 1 : 0;
	if (col > end - start)
		col = end - start;
	from = col > EXCERPT_BEFORE ? col - EXCERPT_BEFORE : 0;
	to = end - start - col > EXCERPT_AFTER ? col + EXCERPT_AFTER : end - start;

	fputs("    ", out);
	if (from)
		fputs("...", out);
	for (size_t i = from; i < to; i++) {
		unsigned char c = (unsigned char)s->buf[start + i];

		fputc(c == '\t' || (isprint(c) && c < 0x80) ? c : '?', out);
	}
	if (to < end - start)
		fputs("...", out);
	fputs("\n    ", out);
	if (from)
		fputs("   ", out);
	for (size_t i = from; i < col; i++)
		fputc(s->buf[start + i] == '\t' ? '\t' : ' ', out);
	fputs("^\n", out);
}

static void report(struct tg_diags *d, struct tg_loc loc, const char *kind, const char *fmt, va_list ap)
{
	struct tg_source *s = loc.file < d->nsources ? &d->sources[loc.file] : NULL;

	if (!d->out)
		return;
	fprintf(d->out, "%s:%u:%u: %s: ", s ? s->path : "<policy>", loc.line, loc.col, kind);
	vfprintf(d->out, fmt, ap);
	fputc('\n', d->out);
	if (s)
		print_excerpt(d->out, s, loc);
}

void tg_error(struct tg_diags *d, struct tg_loc loc, const char *fmt, ...)
{
	va_list ap;

	if (tg_diags_too_many(d))
		return;
	d->errors++;
	va_start(ap, fmt);
	report(d, loc, "error", fmt, ap);
	va_end(ap);
	if (tg_diags_too_many(d) && d->out)
		fprintf(d->out, "tollgate: too many errors (%u); stopping\n", d->errors);
}

void tg_warning(struct tg_diags *d, struct tg_loc loc, const char *fmt, ...)
{
	va_list ap;

	d->warnings++;
	va_start(ap, fmt);
	report(d, loc, "warning", fmt, ap);
	va_end(ap);
}

void tg_note(struct tg_diags *d, struct tg_loc loc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	report(d, loc, "note", fmt, ap);
	va_end(ap);
}

void tg_error_file(struct tg_diags *d, const char *path, const char *fmt, ...)
{
	va_list ap;

	d->errors++;
	if (!d->out)
		return;
	fprintf(d->out, "%s: error: ", path);
	va_start(ap, fmt);
	vfprintf(d->out, fmt, ap);
	va_end(ap);
	fputc('\n', d->out);
}
