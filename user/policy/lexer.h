/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef TG_LEXER_H
#define TG_LEXER_H

#include "policy/diag.h"

#include <stdbool.h>

/* Longer lines are refused: a policy is written by people. */
#define TG_MAX_LINE 4096

enum tg_tok {
	TOK_EOF,
	TOK_NEWLINE,
	TOK_WORD,   /* names, numbers, addresses, ranges, @set references */
	TOK_STRING, /* "...", text holds the unescaped value */
	TOK_LBRACE,
	TOK_RBRACE,
	TOK_COMMA,
	TOK_SEMI,
};

struct tg_token {
	enum tg_tok kind;
	struct tg_loc loc;
	const char *text; /* words: into the source; strings: a copy the lexer owns until freed */
	size_t len;
};

struct tg_lexer {
	struct tg_diags *diags;
	uint32_t file;
	const char *buf;
	size_t len;
	size_t pos;
	uint32_t line;
	size_t line_start;
	bool at_line_start;
	/* Every string token's text, each in its own allocation: a caller may
	 * keep a token while the parser peeks or skips any number of others,
	 * so no token may point into a buffer that lexing later moves. */
	char **strings;
	size_t nstrings, strings_cap;
	struct tg_token peeked;
	bool has_peeked;
};

void tg_lexer_init(struct tg_lexer *lx, struct tg_diags *diags, uint32_t file);
void tg_lexer_free(struct tg_lexer *lx);
/* The next token; after too many errors it only returns TOK_EOF. */
struct tg_token tg_lex_next(struct tg_lexer *lx);
struct tg_token tg_lex_peek(struct tg_lexer *lx);
const char *tg_tok_name(enum tg_tok kind);
bool tg_tok_is(const struct tg_token *t, const char *word);

#endif
