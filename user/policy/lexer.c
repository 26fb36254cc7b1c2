// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "policy/lexer.h"
#include "lib/util.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

void tg_lexer_init(struct tg_lexer *lx, struct tg_diags *diags, uint32_t file)
{
	memset(lx, 0, sizeof(*lx));
	lx->diags = diags;
	lx->file = file;
	lx->buf = diags->sources[file].buf;
	lx->len = diags->sources[file].len;
	lx->line = 1;
	lx->at_line_start = true;
}

void tg_lexer_free(struct tg_lexer *lx)
{
	for (size_t i = 0; i < lx->nstrings; i++)
		free(lx->strings[i]);
	free(lx->strings);
	lx->strings = NULL;
	lx->nstrings = lx->strings_cap = 0;
}

const char *tg_tok_name(enum tg_tok kind)
{
	switch (kind) {
	case TOK_EOF:
		return "end of file";
	case TOK_NEWLINE:
		return "end of line";
	case TOK_WORD:
		return "word";
	case TOK_STRING:
		return "string";
	case TOK_LBRACE:
		return "'{'";
	case TOK_RBRACE:
		return "'}'";
	case TOK_COMMA:
		return "','";
	case TOK_SEMI:
		return "';'";
	}
	return "token";
}

bool tg_tok_is(const struct tg_token *t, const char *word)
{
	return t->kind == TOK_WORD && strlen(word) == t->len && memcmp(t->text, word, t->len) == 0;
}

static struct tg_loc here(const struct tg_lexer *lx)
{
	return (struct tg_loc){ lx->file, lx->line, (uint32_t)(lx->pos - lx->line_start + 1) };
}

/* ASCII only, without the locale lookup of isalnum(): a million-prefix
 * policy spends a tenth of its load time here. */
static bool is_word_char(unsigned char c)
{
	unsigned char lower = c | 0x20;

	return (c >= '0' && c <= '9') || (lower >= 'a' && lower <= 'z') || c == '.' || c == '_' || c == ':' ||
	       c == '/' || c == '-' || c == '@';
}

static void newline(struct tg_lexer *lx)
{
	lx->pos++;
	lx->line++;
	lx->line_start = lx->pos;
	lx->at_line_start = true;
}

/* Refuses an overlong line once, at the column where it crosses the limit. */
static void check_line_length(struct tg_lexer *lx)
{
	const char *nl;
	size_t line_len;

	lx->at_line_start = false;
	nl = memchr(lx->buf + lx->pos, '\n', lx->len - lx->pos);
	line_len = (nl ? (size_t)(nl - lx->buf) : lx->len) - lx->pos;
	/* A CR before the LF is part of the line end: CRLF files have the same limit. */
	if (nl && line_len && nl[-1] == '\r')
		line_len--;
	if (line_len <= TG_MAX_LINE)
		return;
	tg_error(lx->diags, (struct tg_loc){ lx->file, lx->line, TG_MAX_LINE + 1 },
		 "line is %zu bytes long; the limit is %d", line_len, TG_MAX_LINE);
	lx->pos += line_len;
}

static struct tg_token lex_string(struct tg_lexer *lx)
{
	struct tg_token t = { .kind = TOK_STRING, .loc = here(lx) };
	const char *end = memchr(lx->buf + lx->pos + 1, '\n', lx->len - lx->pos - 1);
	/* A string ends on its line, and unescaping only shortens it. */
	char *text = xmalloc((end ? (size_t)(end - lx->buf) : lx->len) - lx->pos + 1);
	size_t n = 0;

	VEC_PUSH(lx->strings, lx->nstrings, lx->strings_cap, text);
	lx->pos++;
	while (lx->pos < lx->len && lx->buf[lx->pos] != '"') {
		char c = lx->buf[lx->pos];

		if (c == '\n')
			break;
		if (c == '\\') {
			struct tg_loc esc = here(lx);
			char e = lx->pos + 1 < lx->len ? lx->buf[lx->pos + 1] : '\0';

			if (e == '\n' || lx->pos + 1 >= lx->len)
				break; /* a line break ends the string, escaped or not */
			if (e == '"' || e == '\\')
				c = e;
			else if (e == 'n')
				c = '\n';
			else if (e == 't')
				c = '\t';
			else {
				tg_error(lx->diags, esc,
					 "unknown escape sequence in string (use \\\" \\\\ \\n or \\t)");
				c = e;
			}
			lx->pos++;
		} else if ((unsigned char)c < 0x20 && c != '\t') {
			tg_error(lx->diags, here(lx), "control byte 0x%02x in string", (unsigned char)c);
		}
		text[n++] = c;
		lx->pos++;
	}
	text[n] = '\0';
	if (lx->pos >= lx->len || lx->buf[lx->pos] != '"')
		tg_error(lx->diags, t.loc, "unterminated string (a string ends on its own line)");
	else
		lx->pos++;
	t.text = text;
	t.len = n;
	return t;
}

static struct tg_token lex_word(struct tg_lexer *lx)
{
	struct tg_token t = { .kind = TOK_WORD, .loc = here(lx), .text = lx->buf + lx->pos };

	while (lx->pos < lx->len && is_word_char((unsigned char)lx->buf[lx->pos]))
		lx->pos++;
	t.len = (size_t)(lx->buf + lx->pos - t.text);
	return t;
}

static struct tg_token punct(struct tg_lexer *lx, enum tg_tok kind)
{
	struct tg_token t = { .kind = kind, .loc = here(lx), .text = lx->buf + lx->pos, .len = 1 };

	lx->pos++;
	return t;
}

/* The ASCII control characters an editor may leave in a text file. */
static const char *control_name(unsigned char c)
{
	switch (c) {
	case 0x0b:
		return ", a vertical tab";
	case 0x0c:
		return ", a form feed";
	case 0x1b:
		return ", an escape";
	case 0x7f:
		return ", a delete";
	default:
		return "";
	}
}

static void bad_byte(struct tg_lexer *lx, unsigned char c)
{
	if (c >= 0x80) {
		tg_error(lx->diags, here(lx),
			 "unexpected byte 0x%02x (only strings and comments may hold non-ASCII text)", c);
		while (lx->pos < lx->len && (unsigned char)lx->buf[lx->pos] >= 0x80)
			lx->pos++; /* one report for a whole UTF-8 sequence */
		return;
	}
	if (c == 0)
		tg_error(lx->diags, here(lx), "unexpected NUL byte (is this a binary file?)");
	else if (isprint(c))
		tg_error(lx->diags, here(lx), "unexpected character '%c'", c);
	else
		tg_error(lx->diags, here(lx),
			 "unexpected control character 0x%02x%s (use spaces or tabs between words)", c,
			 control_name(c));
	lx->pos++;
}

static struct tg_token lex_token(struct tg_lexer *lx)
{
	while (!tg_diags_too_many(lx->diags)) {
		unsigned char c;

		if (lx->pos >= lx->len)
			break;
		if (lx->at_line_start) {
			check_line_length(lx);
			continue;
		}
		c = (unsigned char)lx->buf[lx->pos];
		if (c == '\n') {
			struct tg_token t = { .kind = TOK_NEWLINE, .loc = here(lx) };

			newline(lx);
			return t;
		}
		if (c == ' ' || c == '\t' || c == '\r') {
			lx->pos++;
		} else if (c == '#') {
			while (lx->pos < lx->len && lx->buf[lx->pos] != '\n')
				lx->pos++;
		} else if (c == '"') {
			return lex_string(lx);
		} else if (c == '{') {
			return punct(lx, TOK_LBRACE);
		} else if (c == '}') {
			return punct(lx, TOK_RBRACE);
		} else if (c == ',') {
			return punct(lx, TOK_COMMA);
		} else if (c == ';') {
			return punct(lx, TOK_SEMI);
		} else if (is_word_char(c)) {
			return lex_word(lx);
		} else {
			bad_byte(lx, c);
		}
	}
	return (struct tg_token){ .kind = TOK_EOF, .loc = here(lx) };
}

struct tg_token tg_lex_next(struct tg_lexer *lx)
{
	if (lx->has_peeked) {
		lx->has_peeked = false;
		return lx->peeked;
	}
	return lex_token(lx);
}

struct tg_token tg_lex_peek(struct tg_lexer *lx)
{
	if (!lx->has_peeked) {
		lx->peeked = lex_token(lx);
		lx->has_peeked = true;
	}
	return lx->peeked;
}
