/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Captures what the code under test writes to stdout or stderr, through
 * the file descriptor, so fputs, fprintf and getopt's own messages are all
 * seen. Header-only on purpose, like helpers.h. */
#ifndef TG_TEST_CAPTURE_H
#define TG_TEST_CAPTURE_H

#include "lib/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

struct capture {
	FILE *stream; /* stdout or stderr */
	FILE *tmp;
	int saved;
};

static inline void capture_start(struct capture *c, FILE *stream)
{
	c->stream = stream;
	fflush(stream);
	c->tmp = tmpfile();
	c->saved = dup(fileno(stream));
	if (!c->tmp || c->saved < 0 || dup2(fileno(c->tmp), fileno(stream)) < 0)
		abort();
}

/* Puts the stream back and returns what was written (malloc'd, NUL-ended). */
static inline char *capture_end(struct capture *c)
{
	long size;
	char *text;

	fflush(c->stream);
	dup2(c->saved, fileno(c->stream));
	close(c->saved);
	size = (long)lseek(fileno(c->tmp), 0, SEEK_END);
	text = calloc(1, (size_t)(size > 0 ? size : 0) + 1);
	if (!text)
		abort();
	rewind(c->tmp);
	if (size > 0 && fread(text, 1, (size_t)size, c->tmp) != (size_t)size)
		abort();
	fclose(c->tmp);
	return text;
}

/* cmocka setup and teardown that keep a test's -v/-q from leaking into the next. */
static enum tg_log_level capture_saved_level;

static inline int save_level(void **state)
{
	(void)state;
	capture_saved_level = tg_log_get_level();
	return 0;
}

static inline int restore_level(void **state)
{
	(void)state;
	tg_log_set_level(capture_saved_level);
	return 0;
}

#endif
