// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The policy language: a recursive-descent parser over the lexer's tokens,
 * then a resolve pass (set references, cycles, required properties). Every
 * problem is reported with its position and parsing goes on, so that one run
 * shows every error.
 */
#include "policy/policy.h"
#include "policy/lexer.h"
#include "lib/util.h"
#include "tollgate.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#define MAX_INCLUDE_DEPTH 16
#define MAX_NAME 63

struct pending_type {
	char *word;
	struct tg_loc loc;
	uint32_t service;
};

struct parser {
	struct tg_policy *pol;
	struct tg_diags *diags;
	uint32_t stack[MAX_INCLUDE_DEPTH + 1]; /* files being read, outermost first */
	unsigned depth;
	bool includes_allowed;
	const struct tg_source_reader *reader;
	struct pending_type *types; /* resolved once a service's protocol is known */
	size_t ntypes, types_cap;
};

static const char *const prop_names[TG_PROPS] = {
	[TG_PROP_DESCRIPTION] = "description",
	[TG_PROP_DIRECTION] = "direction",
	[TG_PROP_PROTOCOL] = "protocol",
	[TG_PROP_PORTS] = "ports",
	[TG_PROP_TYPES] = "types",
	[TG_PROP_PEERS] = "peers",
	[TG_PROP_ACTION] = "action",
	[TG_PROP_COUNTED_UNDER] = "counted-under",
};

static struct tg_loc loc_at(const struct tg_token *t, size_t offset)
{
	struct tg_loc loc = t->loc;

	loc.col += (uint32_t)offset;
	return loc;
}

/* A printable copy of a token for messages, cut short if huge. */
static const char *show(const struct tg_token *t, char *buf, size_t size)
{
	size_t n = t->len < size - 4 ? t->len : size - 4;

	memcpy(buf, t->text, n);
	strcpy(buf + n, t->len > n ? "..." : "");
	for (size_t i = 0; i < n; i++)
		if (!isprint((unsigned char)buf[i]))
			buf[i] = '?';
	return buf;
}

/* Only descriptions are strings; everything else is written bare. */
static bool unquoted(struct parser *p, const struct tg_token *v, const struct tg_token *key)
{
	if (v->kind != TOK_STRING)
		return true;
	tg_error(p->diags, v->loc, "'%.*s' takes values without quotes", (int)key->len, key->text);
	return false;
}

static bool is_identifier(const char *s, size_t len)
{
	if (len == 0 || len > MAX_NAME || !(isalpha((unsigned char)s[0]) || s[0] == '_'))
		return false;
	for (size_t i = 1; i < len; i++)
		if (!(isalnum((unsigned char)s[i]) || s[i] == '_' || s[i] == '-'))
			return false;
	return true;
}

/* ---------------------------------------------------------------- numbers */

/* Parses digits[start, end) as a decimal no larger than max; -1 if not one. */
static long parse_decimal(const char *s, size_t start, size_t end, long max)
{
	long v = 0;

	if (start >= end || end - start > 9)
		return end - start > 9 && start < end ? max + 1 : -1;
	for (size_t i = start; i < end; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

static bool all_digits(const char *s, size_t start, size_t end)
{
	if (start >= end)
		return false;
	for (size_t i = start; i < end; i++)
		if (!isdigit((unsigned char)s[i]))
			return false;
	return true;
}

/* ------------------------------------------------------------------ peers */

static bool parse_v4_address(struct parser *p, const struct tg_token *t, size_t end, uint8_t out[4])
{
	const char *s = t->text;
	size_t pos = 0;
	char word[80];

	for (int part = 0; part < 4; part++) {
		size_t start = pos;
		long v;

		while (pos < end && s[pos] != '.')
			pos++;
		if (start == pos || !all_digits(s, start, pos)) {
			tg_error(p->diags, loc_at(t, start), "'%s' is not a valid IPv4 address",
				 show(t, word, sizeof(word)));
			return false;
		}
		v = parse_decimal(s, start, pos, 255);
		if (v > 255) {
			tg_error(p->diags, loc_at(t, start), "IPv4 octet '%.*s' is out of range (0-255)",
				 (int)(pos - start > 12 ? 12 : pos - start), s + start);
			return false;
		}
		if (pos - start > 1 && s[start] == '0') {
			tg_error(p->diags, loc_at(t, start),
				 "IPv4 octet '%.*s' has a leading zero (ambiguous: some tools read it as octal)",
				 (int)(pos - start > 12 ? 12 : pos - start), s + start);
			return false;
		}
		out[part] = (uint8_t)v;
		if (part < 3) {
			if (pos >= end) {
				tg_error(p->diags, t->loc, "IPv4 address '%s' has %d parts; it needs 4",
					 show(t, word, sizeof(word)), part + 1);
				return false;
			}
			pos++;
		}
	}
	if (pos != end) {
		tg_error(p->diags, loc_at(t, pos), "IPv4 address '%s' has more than 4 parts",
			 show(t, word, sizeof(word)));
		return false;
	}
	return true;
}

static bool parse_prefixlen(struct parser *p, const struct tg_token *t, size_t slash, unsigned max, uint8_t *out)
{
	long v;

	if (slash + 1 >= t->len) {
		tg_error(p->diags, loc_at(t, slash), "missing prefix length after '/'");
		return false;
	}
	v = parse_decimal(t->text, slash + 1, t->len, 1000);
	if (v < 0) {
		tg_error(p->diags, loc_at(t, slash + 1), "prefix length '%.*s' is not a number",
			 (int)(t->len - slash - 1 > 20 ? 20 : t->len - slash - 1), t->text + slash + 1);
		return false;
	}
	if (v > (long)max) {
		size_t n = t->len - slash - 1;

		tg_error(p->diags, loc_at(t, slash + 1), "prefix length %.*s is out of range for %s (0-%u)",
			 (int)(n > 20 ? 20 : n), t->text + slash + 1, max == 32 ? "IPv4" : "IPv6", max);
		return false;
	}
	if (t->len - slash - 1 > 1 && t->text[slash + 1] == '0') {
		tg_error(p->diags, loc_at(t, slash + 1), "prefix length '%.*s' has a leading zero",
			 (int)(t->len - slash - 1), t->text + slash + 1);
		return false;
	}
	*out = (uint8_t)v;
	return true;
}

static bool host_bits_set(const uint8_t *addr, unsigned prefixlen, unsigned bits)
{
	for (unsigned i = prefixlen; i < bits; i++)
		if (addr[i / 8] & (0x80 >> (i % 8)))
			return true;
	return false;
}

static void clear_host_bits(uint8_t *addr, unsigned prefixlen, unsigned bits)
{
	for (unsigned i = prefixlen; i < bits; i++)
		addr[i / 8] &= (uint8_t) ~(0x80 >> (i % 8));
}

static bool parse_address(struct parser *p, const struct tg_token *t, struct tg_peer *peer)
{
	const char *slash = memchr(t->text, '/', t->len);
	size_t addr_end = slash ? (size_t)(slash - t->text) : t->len;
	bool v6 = memchr(t->text, ':', t->len) != NULL;
	unsigned bits = v6 ? 128 : 32;
	char word[80], text[INET6_ADDRSTRLEN + 1];

	peer->kind = v6 ? TG_PEER_V6 : TG_PEER_V4;
	peer->prefixlen = (uint8_t)bits;
	if (v6) {
		if (addr_end >= sizeof(text) || (memcpy(text, t->text, addr_end), text[addr_end] = '\0',
						 inet_pton(AF_INET6, text, peer->addr) != 1)) {
			tg_error(p->diags, t->loc, "'%s' is not a valid IPv6 address", show(t, word, sizeof(word)));
			return false;
		}
	} else if (!parse_v4_address(p, t, addr_end, peer->addr)) {
		return false;
	}
	if (slash && !parse_prefixlen(p, t, addr_end, bits, &peer->prefixlen))
		return false;
	if (host_bits_set(peer->addr, peer->prefixlen, bits)) {
		char fixed[INET6_ADDRSTRLEN + 8];

		clear_host_bits(peer->addr, peer->prefixlen, bits);
		tg_format_prefix(peer->addr, peer->prefixlen, v6, fixed, sizeof(fixed));
		tg_warning(p->diags, t->loc, "'%s' has host bits set; it means %s", show(t, word, sizeof(word)), fixed);
	}
	return true;
}

static bool valid_host_name(const char *s, size_t len)
{
	size_t label = 0, labels = 0;
	bool last_numeric = true;

	if (len && s[len - 1] == '.')
		len--;
	if (len == 0 || len > 253)
		return false;
	for (size_t i = 0; i <= len; i++) {
		if (i == len || s[i] == '.') {
			if (label == 0 || label > 63 || s[i - 1] == '-')
				return false;
			labels++;
			if (i < len)
				last_numeric = true;
			label = 0;
			continue;
		}
		if (!(isalnum((unsigned char)s[i]) || s[i] == '-'))
			return false;
		if (label == 0 && s[i] == '-')
			return false;
		if (!isdigit((unsigned char)s[i]))
			last_numeric = false;
		label++;
	}
	return labels >= 2 && !last_numeric;
}

/* "10.0.0.0/abc": an IPv4 prefix with a bad length, not a host name. */
static bool dotted_number_before_slash(const struct tg_token *t)
{
	const char *slash = memchr(t->text, '/', t->len);
	size_t n = slash ? (size_t)(slash - t->text) : 0;

	return n && strspn(t->text, "0123456789.") >= n;
}

/* "192.0.2.10:443" or "host.example:443": someone wrote a port on a peer. */
static bool looks_like_address_with_port(const struct tg_token *t)
{
	const char *colon = memchr(t->text, ':', t->len);
	size_t before = colon ? (size_t)(colon - t->text) : 0;

	if (!colon || memchr(colon + 1, ':', t->len - before - 1) || !memchr(t->text, '.', before))
		return false;
	return all_digits(t->text, before + 1, t->len);
}

static bool parse_peer(struct parser *p, const struct tg_token *t, struct tg_peer *peer)
{
	char word[80];

	memset(peer, 0, sizeof(*peer));
	peer->loc = t->loc;
	peer->set = -1;
	if (t->kind == TOK_STRING) {
		tg_error(p->diags, t->loc, "a peer is written without quotes");
		return false;
	}
	if (tg_tok_is(t, "any")) {
		peer->kind = TG_PEER_ANY;
		return true;
	}
	if (t->text[0] == '@') {
		if (!is_identifier(t->text + 1, t->len - 1)) {
			tg_error(p->diags, t->loc, "'%s' is not a valid set reference (@ and a name)",
				 show(t, word, sizeof(word)));
			return false;
		}
		peer->kind = TG_PEER_SET;
		peer->name = xstrndup(t->text + 1, t->len - 1);
		return true;
	}
	if (looks_like_address_with_port(t)) {
		tg_error(p->diags, t->loc, "'%s' is not a valid address (a peer has no port; ports go in 'ports')",
			 show(t, word, sizeof(word)));
		return false;
	}
	if (memchr(t->text, ':', t->len) || strspn(t->text, "0123456789./") >= t->len || dotted_number_before_slash(t))
		return parse_address(p, t, peer);
	if (!memchr(t->text, '.', t->len) && is_identifier(t->text, t->len)) {
		tg_error(p->diags, t->loc, "'%s' is not an address, prefix or host name (a set is written @%s)",
			 show(t, word, sizeof(word)), show(t, word, sizeof(word)));
		return false;
	}
	if (!valid_host_name(t->text, t->len)) {
		tg_error(p->diags, t->loc, "'%s' is not a valid address, prefix or host name",
			 show(t, word, sizeof(word)));
		return false;
	}
	peer->kind = TG_PEER_HOST;
	peer->name = xstrndup(t->text, t->len);
	tg_normalize_host_name(peer->name);
	return true;
}

static void add_peer(struct parser *p, struct tg_peer_list *list, const struct tg_peer *peer)
{
	if (peer->kind == TG_PEER_V4)
		p->pol->nprefixes_v4++;
	else if (peer->kind == TG_PEER_V6)
		p->pol->nprefixes_v6++;
	else if (peer->kind == TG_PEER_HOST)
		p->pol->nhosts++;
	VEC_PUSH(list->items, list->n, list->cap, *peer);
}

/* -------------------------------------------------------------- recovery */

/* Skips the rest of a statement, including any braced block it opened. */
static void skip_statement(struct tg_lexer *lx)
{
	int depth = 0;

	for (;;) {
		struct tg_token t = tg_lex_peek(lx);

		if (t.kind == TOK_EOF)
			return;
		if (depth == 0 && (t.kind == TOK_NEWLINE || t.kind == TOK_SEMI || t.kind == TOK_RBRACE))
			return;
		tg_lex_next(lx);
		if (t.kind == TOK_LBRACE)
			depth++;
		else if (t.kind == TOK_RBRACE && --depth == 0)
			return;
	}
}

static bool starts_block(const struct tg_token *t)
{
	return tg_tok_is(t, "service") || tg_tok_is(t, "set");
}

/* The lines of a block whose '{' is missing: up to its '}' or the next block. */
static void skip_orphan_body(struct tg_lexer *lx)
{
	bool line_start = false;

	for (;;) {
		struct tg_token t = tg_lex_peek(lx);

		if (t.kind == TOK_EOF || (line_start && starts_block(&t)))
			return;
		tg_lex_next(lx);
		if (t.kind == TOK_RBRACE)
			return;
		line_start = t.kind == TOK_NEWLINE;
	}
}

static void expect_end_of_statement(struct parser *p, struct tg_lexer *lx)
{
	struct tg_token t = tg_lex_peek(lx);
	char word[80];

	if (t.kind == TOK_NEWLINE || t.kind == TOK_SEMI || t.kind == TOK_EOF || t.kind == TOK_RBRACE)
		return;
	if (t.kind == TOK_WORD)
		tg_error(p->diags, t.loc, "unexpected '%s' (expected the end of the line)",
			 show(&t, word, sizeof(word)));
	else
		tg_error(p->diags, t.loc, "unexpected %s (expected the end of the line)", tg_tok_name(t.kind));
	skip_statement(lx);
}

/* ------------------------------------------------------------------ lists */

/* A property's values: the rest of the line, or a braced block of lines. */
struct list_iter {
	bool braced;
	bool closed;
	struct tg_loc open;
};

static void list_begin(struct tg_lexer *lx, struct list_iter *it)
{
	struct tg_token t = tg_lex_peek(lx);

	memset(it, 0, sizeof(*it));
	if (t.kind == TOK_LBRACE) {
		tg_lex_next(lx);
		it->braced = true;
		it->open = t.loc;
	}
}

static bool list_next(struct parser *p, struct tg_lexer *lx, struct list_iter *it, struct tg_token *out)
{
	for (;;) {
		struct tg_token t = tg_lex_peek(lx);

		switch (t.kind) {
		case TOK_COMMA:
			tg_lex_next(lx);
			continue;
		case TOK_NEWLINE:
		case TOK_SEMI:
			if (!it->braced)
				return false;
			tg_lex_next(lx);
			continue;
		case TOK_EOF:
			if (it->braced && !it->closed)
				tg_error(p->diags, it->open, "unterminated '{': no '}' before the end of the file");
			it->closed = true;
			return false;
		case TOK_RBRACE:
			if (it->braced) {
				tg_lex_next(lx);
				it->closed = true;
			}
			return false;
		case TOK_LBRACE:
			tg_error(p->diags, t.loc, "unexpected '{' inside a list");
			skip_statement(lx);
			continue;
		case TOK_WORD:
		case TOK_STRING:
			tg_lex_next(lx);
			*out = t;
			return true;
		}
	}
}

/* ------------------------------------------------------------- settings */

enum value_kind { VALUE_KEYWORD, VALUE_COUNT, VALUE_DURATION };

struct keyword {
	const char *word;
	int value;
};

static const struct keyword actions[] = { { "allow", TG_ALLOW }, { "deny", TG_DENY }, { NULL, 0 } };
static const struct keyword icmp_modes[] = { { "allow", TG_ICMP_ALLOW_ESSENTIAL },
					     { "filter", TG_ICMP_FILTER },
					     { NULL, 0 } };
static const struct keyword frag_modes[] = { { "match", TG_FRAG_MATCH },
					     { "allow", TG_FRAG_ALLOW },
					     { "deny", TG_FRAG_DENY },
					     { NULL, 0 } };
static const struct keyword replies_modes[] = { { "tracked", TG_REPLIES_TRACKED },
						{ "stateless", TG_REPLIES_STATELESS },
						{ NULL, 0 } };

/* The messages spell these limits out: keep them with policy.h's. */
_Static_assert(TG_FLOW_TABLE_MIN == 1024 && TG_FLOW_TABLE_MAX == 4194304, "flow-table range in messages");
_Static_assert(TG_TIMEOUT_MAX == 30 * 86400, "timeout range in messages");

#define FLOW_TABLE_RANGE "a number from 1024 to 4194304"
#define DURATION_RANGE "a duration from 1s to 30d"
#define DURATION_EXPECTED "a duration such as 30s, 2m, 5d"

/* Each setting's syntax, what a message says it expects, and its default:
 * one table, so that a setting cannot be parsed but left without one. */
static const struct setting_spec {
	enum value_kind kind;
	int def;
	const char *expected;
	const struct keyword *words; /* VALUE_KEYWORD */
	long min, max;		     /* VALUE_COUNT; VALUE_DURATION in seconds */
} specs[TG_SETTINGS] = {
	[TG_SET_DEFAULT] = { VALUE_KEYWORD, TG_DENY, "allow or deny", actions, 0, 0 },
	[TG_SET_NON_IP] = { VALUE_KEYWORD, TG_ALLOW, "allow or deny", actions, 0, 0 },
	[TG_SET_MALFORMED] = { VALUE_KEYWORD, TG_DENY, "allow or deny", actions, 0, 0 },
	[TG_SET_ESSENTIAL_ICMP] = { VALUE_KEYWORD, TG_ICMP_ALLOW_ESSENTIAL, "allow or filter", icmp_modes, 0, 0 },
	[TG_SET_FRAGMENTS] = { VALUE_KEYWORD, TG_FRAG_MATCH, "match, allow or deny", frag_modes, 0, 0 },
	[TG_SET_REPLIES] = { VALUE_KEYWORD, TG_REPLIES_TRACKED, "tracked or stateless", replies_modes, 0, 0 },
	[TG_SET_FLOW_TABLE] = { VALUE_COUNT, TG_FLOW_TABLE_DEFAULT, FLOW_TABLE_RANGE, NULL, TG_FLOW_TABLE_MIN,
				TG_FLOW_TABLE_MAX },
	/* Linux conntrack's defaults: a flow lives as long here as in the hosts' own stateful firewalls. */
	[TG_SET_TCP_SYN_TIMEOUT] = { VALUE_DURATION, 120, DURATION_EXPECTED, NULL, 1, TG_TIMEOUT_MAX },
	[TG_SET_TCP_ESTABLISHED_TIMEOUT] = { VALUE_DURATION, 5 * 86400, DURATION_EXPECTED, NULL, 1, TG_TIMEOUT_MAX },
	[TG_SET_TCP_CLOSING_TIMEOUT] = { VALUE_DURATION, 120, DURATION_EXPECTED, NULL, 1, TG_TIMEOUT_MAX },
	[TG_SET_TCP_CLOSED_TIMEOUT] = { VALUE_DURATION, 10, DURATION_EXPECTED, NULL, 1, TG_TIMEOUT_MAX },
	[TG_SET_UDP_TIMEOUT] = { VALUE_DURATION, 30, DURATION_EXPECTED, NULL, 1, TG_TIMEOUT_MAX },
	[TG_SET_UDP_STREAM_TIMEOUT] = { VALUE_DURATION, 120, DURATION_EXPECTED, NULL, 1, TG_TIMEOUT_MAX },
	[TG_SET_ICMP_TIMEOUT] = { VALUE_DURATION, 30, DURATION_EXPECTED, NULL, 1, TG_TIMEOUT_MAX },
	[TG_SET_OTHER_TIMEOUT] = { VALUE_DURATION, 600, DURATION_EXPECTED, NULL, 1, TG_TIMEOUT_MAX },
};

static int find_setting(const struct tg_token *t)
{
	for (int i = 0; i < TG_SETTINGS; i++)
		if (tg_tok_is(t, tg_setting_name(i)))
			return i;
	return -1;
}

/* Seconds in a duration's unit; 0 when it is no unit. */
static long unit_seconds(const char *unit, size_t len)
{
	if (len != 1)
		return 0;
	switch (unit[0]) {
	case 's':
		return 1;
	case 'm':
		return 60;
	case 'h':
		return 3600;
	case 'd':
		return 86400;
	}
	return 0;
}

static size_t leading_digits(const struct tg_token *t)
{
	size_t n = 0;

	while (n < t->len && isdigit((unsigned char)t->text[n]))
		n++;
	return n;
}

/* digits * unit, or max + 1 when it is larger than max (never overflows). */
static long scaled_value(const char *digits, size_t n, long unit, long max)
{
	long v = 0;

	for (size_t i = 0; i < n; i++) {
		v = v * 10 + (digits[i] - '0');
		if (v > max)
			return max + 1;
	}
	return v > max / unit ? max + 1 : v * unit;
}

/* A timeout of 0 and one beyond 30 days are told apart: both are easy slips. */
static bool in_range(struct parser *p, enum tg_setting s, const struct tg_token *v, long n)
{
	const struct setting_spec *spec = &specs[s];
	char word[80];

	if (n >= spec->min && n <= spec->max)
		return true;
	show(v, word, sizeof(word));
	if (spec->kind == VALUE_COUNT)
		tg_error(p->diags, v->loc, "'%s' is out of range for '%s' (expected %s)", word, tg_setting_name(s),
			 spec->expected);
	else if (n == 0)
		tg_error(p->diags, v->loc,
			 "'%s' cannot be %s: a flow would expire at once (expected " DURATION_RANGE ")",
			 tg_setting_name(s), word);
	else
		tg_error(p->diags, v->loc, "'%s' is too long for '%s' (expected " DURATION_RANGE ")", word,
			 tg_setting_name(s));
	return false;
}

/* A flow-table size or a timeout; reports why not and returns false. A
 * letter after a timeout's digits is taken for a unit, so that '30ms' is
 * named as a bad unit; '1.5h' or '5-10' is no duration at all. */
static bool number_value(struct parser *p, enum tg_setting s, const struct tg_token *v, int *out)
{
	const struct setting_spec *spec = &specs[s];
	size_t digits = leading_digits(v);
	bool has_unit = spec->kind == VALUE_DURATION && digits && digits < v->len &&
			isalpha((unsigned char)v->text[digits]);
	long unit = has_unit ? unit_seconds(v->text + digits, v->len - digits) : 1;
	char word[80];
	long n;

	if (!digits || (digits < v->len && !has_unit)) {
		tg_error(p->diags, v->loc, "'%s' is not a value for '%s' (expected %s)", show(v, word, sizeof(word)),
			 tg_setting_name(s), spec->expected);
		return false;
	}
	if (!unit) {
		tg_error(p->diags, loc_at(v, digits), "'%s' has an unknown unit '%.*s' (expected s, m, h or d)",
			 show(v, word, sizeof(word)), (int)(v->len - digits > 20 ? 20 : v->len - digits),
			 v->text + digits);
		return false;
	}
	n = scaled_value(v->text, digits, unit, spec->max);
	if (!in_range(p, s, v, n))
		return false;
	*out = (int)n;
	return true;
}

static bool setting_value(struct parser *p, enum tg_setting s, const struct tg_token *v, int *out)
{
	char word[80];

	if (specs[s].kind != VALUE_KEYWORD)
		return number_value(p, s, v, out);
	for (const struct keyword *k = specs[s].words; k->word; k++) {
		if (tg_tok_is(v, k->word)) {
			*out = k->value;
			return true;
		}
	}
	tg_error(p->diags, v->loc, "'%s' is not a value for '%s' (expected %s)", show(v, word, sizeof(word)),
		 tg_setting_name(s), specs[s].expected);
	return false;
}

static void parse_setting(struct parser *p, struct tg_lexer *lx, const struct tg_token *key, enum tg_setting s)
{
	struct tg_token v = tg_lex_peek(lx);
	struct tg_policy *pol = p->pol;
	int value;

	pol->setting_seen[s] = true;
	if (v.kind == TOK_STRING) {
		tg_lex_next(lx);
		unquoted(p, &v, key);
		skip_statement(lx);
		return;
	}
	if (v.kind != TOK_WORD) {
		tg_error(p->diags, key->loc, "'%s' needs a value: %s", tg_setting_name(s), specs[s].expected);
		skip_statement(lx);
		return;
	}
	tg_lex_next(lx);
	if (!setting_value(p, s, &v, &value)) {
		skip_statement(lx);
		return;
	}
	if (pol->setting_given[s]) {
		struct tg_loc first = pol->setting_loc[s];

		tg_error(p->diags, key->loc, "'%s' is set twice (first at %s:%u:%u)", tg_setting_name(s),
			 p->diags->sources[first.file].path, first.line, first.col);
	} else {
		pol->setting[s] = value;
		pol->setting_given[s] = true;
		pol->setting_loc[s] = key->loc;
	}
	expect_end_of_statement(p, lx);
}

/* "set, service, include, default, ... or other-timeout": built from the
 * settings' names, so that a new setting is named here too. */
static const char *statement_names(char *buf, size_t size)
{
	size_t used = (size_t)snprintf(buf, size, "set, service, include");

	for (int i = 0; i < TG_SETTINGS; i++)
		used += (size_t)snprintf(buf + used, used < size ? size - used : 0, "%s%s",
					 i == TG_SETTINGS - 1 ? " or " : ", ", tg_setting_name(i));
	return buf;
}

/* ------------------------------------------------------------------- sets */

static int find_set(const struct tg_policy *pol, const char *name)
{
	for (size_t i = 0; i < pol->nsets; i++)
		if (strcmp(pol->sets[i].name, name) == 0)
			return (int)i;
	return -1;
}

static int find_service(const struct tg_policy *pol, const char *name, size_t limit)
{
	for (size_t i = 0; i < limit; i++)
		if (strcmp(pol->services[i].name, name) == 0)
			return (int)i;
	return -1;
}

/* Reads NAME '{' of a set or service; false (and skips) when malformed. */
static bool parse_block_head(struct parser *p, struct tg_lexer *lx, const struct tg_token *key, struct tg_token *name)
{
	struct tg_token brace;
	char word[80];

	*name = tg_lex_peek(lx);
	if (name->kind != TOK_WORD) {
		tg_error(p->diags, name->kind == TOK_NEWLINE || name->kind == TOK_EOF ? key->loc : name->loc,
			 "'%.*s' needs a name", (int)key->len, key->text);
		skip_statement(lx);
		return false;
	}
	tg_lex_next(lx);
	if (!is_identifier(name->text, name->len)) {
		tg_error(p->diags, name->loc,
			 "'%s' is not a valid name (a letter or '_', then letters, digits, '_' or '-', at most %d)",
			 show(name, word, sizeof(word)), MAX_NAME);
		skip_statement(lx);
		return false;
	}
	brace = tg_lex_peek(lx);
	if (brace.kind == TOK_LBRACE)
		return true;
	tg_error(p->diags, brace.loc, "expected '{' after '%s %s'", key->len == 3 ? "set" : "service",
		 show(name, word, sizeof(word)));
	/* Read the block anyway if it opens on a later line; else skip its body. */
	while (tg_lex_peek(lx).kind == TOK_NEWLINE)
		tg_lex_next(lx);
	if (tg_lex_peek(lx).kind == TOK_LBRACE)
		return true;
	skip_orphan_body(lx);
	return false;
}

static void parse_set(struct parser *p, struct tg_lexer *lx, const struct tg_token *key)
{
	struct tg_token name, v;
	struct list_iter it;
	struct tg_set set = { 0 };
	struct tg_peer peer;
	int dup;

	if (!parse_block_head(p, lx, key, &name))
		return;
	set.name = xstrndup(name.text, name.len);
	set.loc = name.loc;
	list_begin(lx, &it);
	while (list_next(p, lx, &it, &v))
		if (parse_peer(p, &v, &peer))
			add_peer(p, &set.peers, &peer);
	dup = find_set(p->pol, set.name);
	if (dup >= 0) {
		struct tg_loc first = p->pol->sets[dup].loc;

		tg_error(p->diags, set.loc, "set '%s' is defined twice (first at %s:%u:%u)", set.name,
			 p->diags->sources[first.file].path, first.line, first.col);
	}
	VEC_PUSH(p->pol->sets, p->pol->nsets, p->pol->sets_cap, set);
}

/* --------------------------------------------------------------- services */

static int find_prop(const struct tg_token *t)
{
	for (int i = 0; i < TG_PROPS; i++)
		if (tg_tok_is(t, prop_names[i]))
			return i;
	return -1;
}

/* For properties that take exactly one value. */
static bool single_value(struct parser *p, struct tg_lexer *lx, const struct tg_token *key, struct tg_token *out)
{
	struct list_iter it;
	struct tg_token extra;
	bool got;

	list_begin(lx, &it);
	got = list_next(p, lx, &it, out);
	if (!got) {
		tg_error(p->diags, key->loc, "'%.*s' needs a value", (int)key->len, key->text);
		return false;
	}
	if (list_next(p, lx, &it, &extra)) {
		tg_error(p->diags, extra.loc, "'%.*s' takes one value", (int)key->len, key->text);
		while (list_next(p, lx, &it, &extra))
			;
		return false;
	}
	return true;
}

/* what carries its article: "a direction", "an action". */
static bool keyword_value(struct parser *p, const struct tg_token *v, const char *a, const char *b, const char *what)
{
	char word[80];

	if (tg_tok_is(v, a) || tg_tok_is(v, b))
		return true;
	tg_error(p->diags, v->loc, "'%s' is not %s (expected %s or %s)", show(v, word, sizeof(word)), what, a, b);
	return false;
}

static bool parse_range_word(struct parser *p, const struct tg_token *t, long lo_min, long max, const char *what,
			     struct tg_range *out)
{
	const char *dash = memchr(t->text, '-', t->len);
	size_t end1 = dash ? (size_t)(dash - t->text) : t->len;
	long lo, hi;
	char word[80];

	lo = parse_decimal(t->text, 0, end1, max);
	hi = dash ? parse_decimal(t->text, end1 + 1, t->len, max) : lo;
	if (lo < 0) {
		tg_error(p->diags, t->loc, "'%s' is not a %s number or range", show(t, word, sizeof(word)), what);
		return false;
	}
	if (dash && hi < 0) {
		tg_error(p->diags, loc_at(t, end1 + 1), "'%s' is not a %s range (expected LOW-HIGH)",
			 show(t, word, sizeof(word)), what);
		return false;
	}
	if (lo < lo_min || lo > max) {
		tg_error(p->diags, t->loc, "%s %.*s is out of range (%ld-%ld)", what, (int)(end1 > 20 ? 20 : end1),
			 t->text, lo_min, max);
		return false;
	}
	if (hi < lo_min || hi > max) {
		size_t n = t->len - end1 - 1;

		tg_error(p->diags, loc_at(t, end1 + 1), "%s %.*s is out of range (%ld-%ld)", what,
			 (int)(n > 20 ? 20 : n), t->text + end1 + 1, lo_min, max);
		return false;
	}
	if (hi < lo) {
		tg_error(p->diags, t->loc, "%s range %ld-%ld is reversed (write %ld-%ld)", what, lo, hi, hi, lo);
		return false;
	}
	out->lo = (uint16_t)lo;
	out->hi = (uint16_t)hi;
	return true;
}

static void parse_ports(struct parser *p, struct tg_lexer *lx, const struct tg_token *key, struct tg_service *svc)
{
	struct list_iter it;
	struct tg_token v;
	struct tg_range r;
	bool any_value = false;

	list_begin(lx, &it);
	while (list_next(p, lx, &it, &v)) {
		any_value = true;
		if (unquoted(p, &v, key) && parse_range_word(p, &v, 1, 65535, "port", &r))
			VEC_PUSH(svc->ranges, svc->nranges, svc->ranges_cap, r);
	}
	if (!any_value)
		tg_error(p->diags, key->loc, "'ports' needs at least one port or range");
}

static void parse_types(struct parser *p, struct tg_lexer *lx, const struct tg_token *key, uint32_t service)
{
	struct list_iter it;
	struct tg_token v;
	bool any_value = false;

	list_begin(lx, &it);
	while (list_next(p, lx, &it, &v)) {
		struct pending_type pt = { NULL, v.loc, service };

		any_value = true;
		if (!unquoted(p, &v, key))
			continue;
		pt.word = xstrndup(v.text, v.len);
		VEC_PUSH(p->types, p->ntypes, p->types_cap, pt);
	}
	if (!any_value)
		tg_error(p->diags, key->loc, "'types' needs at least one ICMP type or range");
}

static bool parse_one_protocol(struct parser *p, const struct tg_token *v, struct tg_service *svc)
{
	static const struct {
		const char *name;
		unsigned bit;
		int number;
	} names[] = {
		{ "tcp", TG_P_TCP, IPPROTO_TCP },
		{ "udp", TG_P_UDP, IPPROTO_UDP },
		{ "sctp", TG_P_SCTP, IPPROTO_SCTP },
		{ "icmp", TG_P_ICMP, IPPROTO_ICMP },
		{ "icmpv6", TG_P_ICMPV6, IPPROTO_ICMPV6 },
		{ "ipv6-icmp", TG_P_ICMPV6, -1 },
		{ "any", TG_P_ANY, -1 },
	};
	char word[80];
	long n;

	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (tg_tok_is(v, names[i].name)) {
			svc->protos |= names[i].bit;
			return true;
		}
	n = parse_decimal(v->text, 0, v->len, 255);
	if (n < 0 || v->kind != TOK_WORD) {
		tg_error(p->diags, v->loc,
			 "unknown protocol '%s' (tcp, udp, sctp, icmp, icmpv6, any or a number 0-255)",
			 show(v, word, sizeof(word)));
		return false;
	}
	if (n > 255) {
		tg_error(p->diags, v->loc, "protocol number %.*s is out of range (0-255)",
			 (int)(v->len > 20 ? 20 : v->len), v->text);
		return false;
	}
	/* A number with a name means that name: one spelling, one behaviour. */
	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (names[i].number == n) {
			svc->protos |= names[i].bit;
			return true;
		}
	svc->protos |= TG_P_NUMBER;
	svc->proto_number = (uint8_t)n;
	return true;
}

static void parse_protocol(struct parser *p, struct tg_lexer *lx, const struct tg_token *key, struct tg_service *svc)
{
	struct list_iter it;
	struct tg_token v;
	unsigned count = 0, seen = 0;

	list_begin(lx, &it);
	while (list_next(p, lx, &it, &v)) {
		unsigned before = svc->protos;
		uint8_t number_before = svc->proto_number;

		seen++;
		if (!unquoted(p, &v, key) || !parse_one_protocol(p, &v, svc))
			continue;
		/* The same protocol twice, or two spellings of it; two different
		 * numbers set the same bit, so the number must be the same too. */
		if (svc->protos == before && svc->proto_number == number_before && count)
			continue;
		if (count++ && ((before | svc->protos) & ~TG_P_PORTED)) {
			tg_error(p->diags, v.loc, "only tcp, udp and sctp can be combined in one service");
			svc->protos = before;
			svc->proto_number = number_before;
		}
	}
	if (seen == 0)
		tg_error(p->diags, key->loc, "'protocol' needs a value");
}

static void parse_peers(struct parser *p, struct tg_lexer *lx, const struct tg_token *key, struct tg_service *svc)
{
	struct list_iter it;
	struct tg_token v;
	struct tg_peer peer;
	size_t before = svc->peers.n;
	bool any_value = false;

	list_begin(lx, &it);
	while (list_next(p, lx, &it, &v)) {
		any_value = true;
		if (unquoted(p, &v, key) && parse_peer(p, &v, &peer))
			add_peer(p, &svc->peers, &peer);
	}
	if (!any_value && svc->peers.n == before)
		tg_error(p->diags, key->loc,
			 "'peers' needs at least one value (an address, prefix, host name, @set or any)");
}

static void parse_property(struct parser *p, struct tg_lexer *lx, const struct tg_token *key, struct tg_service *svc,
			   uint32_t index)
{
	int prop = find_prop(key);
	struct tg_token v;
	char word[80];

	if (prop < 0) {
		tg_error(p->diags, key->loc,
			 "unknown property '%s' (expected description, direction, protocol, ports, types, peers, action or counted-under)",
			 show(key, word, sizeof(word)));
		skip_statement(lx);
		return;
	}
	if (svc->has[prop]) {
		tg_error(p->diags, key->loc, "'%s' is given twice in service '%s' (first at line %u)", prop_names[prop],
			 svc->name, svc->prop_loc[prop].line);
		skip_statement(lx);
		return;
	}
	svc->has[prop] = true;
	svc->prop_loc[prop] = key->loc;
	switch (prop) {
	case TG_PROP_DESCRIPTION:
		v = tg_lex_peek(lx);
		if (v.kind == TOK_WORD) {
			tg_error(p->diags, v.loc, "a description is a quoted string");
			skip_statement(lx);
		} else if (single_value(p, lx, key, &v)) {
			svc->description = xstrndup(v.text, v.len);
		}
		break;
	case TG_PROP_DIRECTION:
		if (single_value(p, lx, key, &v) && unquoted(p, &v, key) &&
		    keyword_value(p, &v, "in", "out", "a direction"))
			svc->direction = tg_tok_is(&v, "in") ? TG_DIR_IN : TG_DIR_OUT;
		break;
	case TG_PROP_ACTION:
		if (single_value(p, lx, key, &v) && unquoted(p, &v, key) &&
		    keyword_value(p, &v, "allow", "deny", "an action"))
			svc->action = tg_tok_is(&v, "allow") ? TG_ALLOW : TG_DENY;
		break;
	case TG_PROP_COUNTED_UNDER:
		if (single_value(p, lx, key, &v) && unquoted(p, &v, key)) {
			if (!is_identifier(v.text, v.len))
				tg_error(p->diags, v.loc, "'counted-under' names an earlier service");
			else {
				svc->counted_under = xstrndup(v.text, v.len);
				svc->counted_under_loc = v.loc;
			}
		}
		break;
	case TG_PROP_PROTOCOL:
		parse_protocol(p, lx, key, svc);
		break;
	case TG_PROP_PORTS:
		parse_ports(p, lx, key, svc);
		break;
	case TG_PROP_TYPES:
		parse_types(p, lx, key, index);
		break;
	case TG_PROP_PEERS:
		parse_peers(p, lx, key, svc);
		break;
	}
	expect_end_of_statement(p, lx);
}

static void parse_service(struct parser *p, struct tg_lexer *lx, const struct tg_token *key)
{
	struct tg_token name, open;
	struct tg_service svc = { 0 };
	uint32_t index = (uint32_t)p->pol->nservices;
	int dup;

	if (!parse_block_head(p, lx, key, &name))
		return;
	open = tg_lex_next(lx);
	svc.name = xstrndup(name.text, name.len);
	svc.loc = name.loc;
	svc.direction = TG_DIR_UNSET;
	svc.action = TG_UNSET;
	for (bool line_start = true;;) {
		struct tg_token t = tg_lex_peek(lx);

		if (line_start && starts_block(&t)) {
			tg_error(p->diags, t.loc, "missing '}' to close service '%s' before the next '%.*s'", svc.name,
				 (int)t.len, t.text);
			break;
		}
		tg_lex_next(lx);
		line_start = t.kind == TOK_NEWLINE;
		if (t.kind == TOK_NEWLINE || t.kind == TOK_SEMI || t.kind == TOK_COMMA)
			continue;
		if (t.kind == TOK_RBRACE)
			break;
		if (t.kind == TOK_EOF) {
			tg_error(p->diags, open.loc, "unterminated service '%s': no '}' before the end of the file",
				 svc.name);
			break;
		}
		if (t.kind != TOK_WORD) {
			tg_error(p->diags, t.loc, "unexpected %s (expected a property name)", tg_tok_name(t.kind));
			skip_statement(lx);
			continue;
		}
		parse_property(p, lx, &t, &svc, index);
	}
	dup = find_service(p->pol, svc.name, p->pol->nservices);
	if (dup >= 0) {
		struct tg_loc first = p->pol->services[dup].loc;

		tg_error(p->diags, svc.loc, "service '%s' is defined twice (first at %s:%u:%u)", svc.name,
			 p->diags->sources[first.file].path, first.line, first.col);
	}
	VEC_PUSH(p->pol->services, p->pol->nservices, p->pol->services_cap, svc);
}

/* --------------------------------------------------------------- includes */

static int parse_source(struct parser *p, uint32_t file);

static char *include_path(const struct tg_source *from, const char *name)
{
	const char *slash;
	char *path;

	if (name[0] == '/' || !(slash = strrchr(from->path, '/')))
		return xstrdup(name);
	path = xmalloc((size_t)(slash - from->path) + strlen(name) + 2);
	sprintf(path, "%.*s/%s", (int)(slash - from->path), from->path, name);
	return path;
}

static bool already_read(const struct tg_diags *d, const char *real)
{
	for (size_t i = 0; i < d->nsources; i++)
		if (d->sources[i].realpath && strcmp(d->sources[i].realpath, real) == 0)
			return true;
	return false;
}

static void report_loop(struct parser *p, const struct tg_token *name, const char *real)
{
	char chain[1024] = "";
	size_t used = 0;
	bool started = false;

	for (unsigned i = 0; i < p->depth; i++) {
		const struct tg_source *s = &p->diags->sources[p->stack[i]];

		if (!started && strcmp(s->realpath, real) != 0)
			continue;
		started = true;
		used += (size_t)snprintf(chain + used, used < sizeof(chain) ? sizeof(chain) - used : 0, "%s -> ",
					 s->path);
		if (used >= sizeof(chain))
			break;
	}
	for (unsigned i = 0; i < p->depth; i++)
		if (strcmp(p->diags->sources[p->stack[i]].realpath, real) == 0) {
			tg_error(p->diags, name->loc, "include loop: %s%s", used < sizeof(chain) ? chain : "",
				 p->diags->sources[p->stack[i]].path);
			return;
		}
}

static void parse_include(struct parser *p, struct tg_lexer *lx, const struct tg_token *key)
{
	struct tg_token name = tg_lex_next(lx);
	char *path, *real, *buf;
	size_t len;
	int err;

	if (name.kind != TOK_STRING) {
		tg_error(p->diags, name.kind == TOK_NEWLINE || name.kind == TOK_EOF ? key->loc : name.loc,
			 "'include' needs a quoted file name");
		skip_statement(lx);
		return;
	}
	if (!p->includes_allowed) {
		tg_error(p->diags, key->loc, "'include' is not available when the policy is not read from a file");
		return;
	}
	path = include_path(&p->diags->sources[lx->file], name.text);
	real = p->reader->resolve(p->reader, path);
	if (!real) {
		tg_error(p->diags, name.loc, "cannot include '%s': %s", path, tg_strerror(-errno));
		goto out;
	}
	tg_diags_add_alias(p->diags, path, real);
	for (unsigned i = 0; i < p->depth; i++)
		if (strcmp(p->diags->sources[p->stack[i]].realpath, real) == 0) {
			report_loop(p, &name, real);
			goto out;
		}
	/* Included once: a second include of a shared file is harmless. */
	if (already_read(p->diags, real))
		goto out;
	if (p->depth >= MAX_INCLUDE_DEPTH) {
		tg_error(p->diags, name.loc, "includes are nested more than %d deep", MAX_INCLUDE_DEPTH);
		goto out;
	}
	err = p->reader->read(p->reader, path, real, &buf, &len);
	if (err) {
		tg_error(p->diags, name.loc, "cannot include '%s': %s", path, tg_strerror(err));
		goto out;
	}
	parse_source(p, tg_diags_add_source(p->diags, path, real, buf, len));
out:
	free(real);
	free(path);
	expect_end_of_statement(p, lx);
}

/* ------------------------------------------------------------ statements */

static void parse_statement(struct parser *p, struct tg_lexer *lx, const struct tg_token *t)
{
	char word[80];
	char names[512];
	int setting;

	if (t->kind != TOK_WORD) {
		tg_error(p->diags, t->loc, "unexpected %s (expected set, service, include or a setting)",
			 tg_tok_name(t->kind));
		if (t->kind != TOK_RBRACE)
			skip_statement(lx);
		return;
	}
	if (tg_tok_is(t, "set"))
		parse_set(p, lx, t);
	else if (tg_tok_is(t, "service"))
		parse_service(p, lx, t);
	else if (tg_tok_is(t, "include"))
		parse_include(p, lx, t);
	else if ((setting = find_setting(t)) >= 0)
		parse_setting(p, lx, t, (enum tg_setting)setting);
	else {
		tg_error(p->diags, t->loc, "unknown statement '%s' (expected %s)", show(t, word, sizeof(word)),
			 statement_names(names, sizeof(names)));
		skip_statement(lx);
	}
}

static int parse_source(struct parser *p, uint32_t file)
{
	struct tg_lexer lx;

	p->stack[p->depth++] = file;
	tg_lexer_init(&lx, p->diags, file);
	for (;;) {
		struct tg_token t = tg_lex_next(&lx);

		if (t.kind == TOK_EOF) {
			if (p->depth == 1)
				p->pol->end = t.loc;
			break;
		}
		if (t.kind == TOK_NEWLINE || t.kind == TOK_SEMI)
			continue;
		parse_statement(p, &lx, &t);
	}
	tg_lexer_free(&lx);
	p->depth--;
	return 0;
}

/* ---------------------------------------------------------------- resolve */

static void resolve_type(struct parser *p, struct pending_type *pt)
{
	struct tg_service *svc = &p->pol->services[pt->service];
	bool v6 = svc->protos & TG_P_ICMPV6;
	struct tg_token t = { TOK_WORD, pt->loc, pt->word, strlen(pt->word) };
	struct tg_range r;

	if (!isdigit((unsigned char)pt->word[0])) {
		int type = tg_icmp_type_by_name(v6, pt->word);

		if (type >= 0) {
			r.lo = r.hi = (uint16_t)type;
			VEC_PUSH(svc->ranges, svc->nranges, svc->ranges_cap, r);
			return;
		}
		tg_error(p->diags, pt->loc, "unknown %s type '%.60s'", v6 ? "ICMPv6" : "ICMP", pt->word);
		return;
	}
	if (parse_range_word(p, &t, 0, 255, v6 ? "ICMPv6 type" : "ICMP type", &r))
		VEC_PUSH(svc->ranges, svc->nranges, svc->ranges_cap, r);
}

static void check_required(struct parser *p, struct tg_service *svc)
{
	static const struct {
		enum tg_prop prop;
		const char *hint;
	} required[] = {
		{ TG_PROP_DIRECTION, "in or out" },
		{ TG_PROP_PROTOCOL, "tcp, udp, sctp, icmp, icmpv6, any or a number" },
		{ TG_PROP_PEERS, "addresses, prefixes, host names, @sets or any" },
		{ TG_PROP_ACTION, "allow or deny" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(required); i++)
		if (!svc->has[required[i].prop])
			tg_error(p->diags, svc->loc, "service '%s' has no '%s' (%s)", svc->name,
				 prop_names[required[i].prop], required[i].hint);
}

static void check_service(struct parser *p, uint32_t index)
{
	struct tg_service *svc = &p->pol->services[index];

	check_required(p, svc);
	if (svc->has[TG_PROP_PORTS] && svc->protos && (svc->protos & ~TG_P_PORTED))
		tg_error(p->diags, svc->prop_loc[TG_PROP_PORTS], "'ports' needs protocol tcp, udp or sctp");
	if (svc->has[TG_PROP_TYPES] && svc->protos && !(svc->protos & TG_P_TYPED))
		tg_error(p->diags, svc->prop_loc[TG_PROP_TYPES], "'types' needs protocol icmp or icmpv6");
	if (svc->counted_under) {
		int target = find_service(p->pol, svc->counted_under, index);

		if (target < 0)
			tg_error(p->diags, svc->counted_under_loc,
				 "'counted-under %s' must name a service defined before '%s'", svc->counted_under,
				 svc->name);
	}
	if (index == TG_MAX_SERVICES)
		tg_error(p->diags, svc->loc, "too many services: tollgate supports at most %d per policy",
			 TG_MAX_SERVICES);
}

static void resolve_refs(struct parser *p, struct tg_peer_list *list)
{
	for (size_t i = 0; i < list->n; i++) {
		struct tg_peer *peer = &list->items[i];

		if (peer->kind != TG_PEER_SET)
			continue;
		peer->set = find_set(p->pol, peer->name);
		if (peer->set < 0)
			tg_error(p->diags, peer->loc, "unknown set '@%s'", peer->name);
	}
}

enum { WHITE, GREY, BLACK };

/* Depth-first walk of set references; reports each cycle where it closes. */
static void find_cycles(struct parser *p, int set, unsigned char *color, int *path, int depth)
{
	struct tg_set *s = &p->pol->sets[set];

	if (depth > TG_MAX_SET_DEPTH)
		return; /* too deep to matter: set_height() reports it */
	color[set] = GREY;
	path[depth] = set;
	for (size_t i = 0; i < s->peers.n; i++) {
		struct tg_peer *peer = &s->peers.items[i];

		if (peer->kind != TG_PEER_SET || peer->set < 0)
			continue;
		if (color[peer->set] == GREY) {
			char chain[512] = "";
			size_t used = 0;
			int from = depth;

			while (from > 0 && path[from] != peer->set)
				from--;
			for (int k = from; k <= depth && used < sizeof(chain); k++)
				used += (size_t)snprintf(chain + used, sizeof(chain) - used, "@%s -> ",
							 p->pol->sets[path[k]].name);
			tg_error(p->diags, peer->loc, "set cycle: %s@%s", used < sizeof(chain) ? chain : "",
				 peer->name);
			peer->set = -1; /* break it so later passes terminate */
		} else if (color[peer->set] == WHITE) {
			find_cycles(p, peer->set, color, path, depth + 1);
		}
	}
	color[set] = BLACK;
}

/* Sets in the longest chain of references below this one (itself included),
 * or something above TG_MAX_SET_DEPTH once it is that deep. */
static int set_height(const struct tg_policy *pol, int set, int *memo, int depth)
{
	int height = 1;

	if (memo[set])
		return memo[set];
	if (depth > TG_MAX_SET_DEPTH)
		return TG_MAX_SET_DEPTH + 1;
	for (size_t i = 0; i < pol->sets[set].peers.n; i++) {
		const struct tg_peer *peer = &pol->sets[set].peers.items[i];
		int below;

		if (peer->kind != TG_PEER_SET || peer->set < 0)
			continue;
		below = 1 + set_height(pol, peer->set, memo, depth + 1);
		height = below > height ? below : height;
	}
	memo[set] = height;
	return height;
}

static void check_set_depth(struct parser *p)
{
	int *memo = xcalloc(p->pol->nsets + 1, sizeof(int));

	for (size_t i = 0; i < p->pol->nsets; i++)
		if (set_height(p->pol, (int)i, memo, 1) > TG_MAX_SET_DEPTH) {
			tg_error(p->diags, p->pol->sets[i].loc, "set '%s' nests sets more than %d deep",
				 p->pol->sets[i].name, TG_MAX_SET_DEPTH);
			break;
		}
	free(memo);
}

/* The host table of an attached interface has TG_MAX_HOSTS entries; every
 * command refuses more, so that check and attach agree. Stops at the first
 * name over the limit, so a policy of a million names costs a million
 * comparisons with at most TG_MAX_HOSTS others. */
static void check_host_count(struct parser *p)
{
	const char *seen[TG_MAX_HOSTS];
	size_t n = 0;

	for (size_t s = 0; s < p->pol->nsets + p->pol->nservices; s++) {
		const struct tg_peer_list *list = s < p->pol->nsets ? &p->pol->sets[s].peers :
								      &p->pol->services[s - p->pol->nsets].peers;

		for (size_t i = 0; i < list->n; i++) {
			const struct tg_peer *peer = &list->items[i];

			if (peer->kind != TG_PEER_HOST || tg_name_listed(seen, n, peer->name))
				continue;
			if (n == TG_MAX_HOSTS) {
				tg_error(p->diags, peer->loc,
					 "'%s' is host name number %d; tollgate follows at most %d per interface",
					 peer->name, TG_MAX_HOSTS + 1, TG_MAX_HOSTS);
				return;
			}
			seen[n++] = peer->name;
		}
	}
}

static void resolve(struct parser *p)
{
	struct tg_policy *pol = p->pol;
	unsigned char *color = xcalloc(pol->nsets, 1);
	int *path = xcalloc(pol->nsets + TG_MAX_SET_DEPTH + 2, sizeof(int));

	for (size_t i = 0; i < pol->nsets; i++)
		resolve_refs(p, &pol->sets[i].peers);
	for (size_t i = 0; i < pol->nservices; i++)
		resolve_refs(p, &pol->services[i].peers);
	for (size_t i = 0; i < pol->nsets; i++)
		if (color[i] == WHITE)
			find_cycles(p, (int)i, color, path, 0);
	free(color);
	free(path);
	check_set_depth(p);
	for (size_t i = 0; i < p->ntypes; i++)
		resolve_type(p, &p->types[i]);
	for (uint32_t i = 0; i < pol->nservices; i++)
		check_service(p, i);
	check_host_count(p);
	if (!pol->setting_seen[TG_SET_DEFAULT])
		tg_error(p->diags, pol->end,
			 "the policy has no default action (add 'default deny' or 'default allow')");
}

/* ------------------------------------------------------------------ entry */

static void init_policy(struct tg_policy *pol)
{
	memset(pol, 0, sizeof(*pol));
	for (int s = 0; s < TG_SETTINGS; s++)
		pol->setting[s] = specs[s].def;
}

static int finish(struct parser *p)
{
	resolve(p);
	for (size_t i = 0; i < p->ntypes; i++)
		free(p->types[i].word);
	free(p->types);
	return p->diags->errors ? -EINVAL : 0;
}

static char *disk_resolve(const struct tg_source_reader *r, const char *path)
{
	(void)r;
	return realpath(path, NULL);
}

static int disk_read(const struct tg_source_reader *r, const char *path, const char *real, char **buf, size_t *len)
{
	(void)r;
	(void)real;
	return read_file(path, buf, len);
}

static const struct tg_source_reader disk = { disk_resolve, disk_read, NULL };

int tg_policy_parse_from(struct tg_policy *pol, struct tg_diags *diags, const char *path,
			 const struct tg_source_reader *reader)
{
	struct parser p = { .pol = pol, .diags = diags, .includes_allowed = true, .reader = reader };
	char *buf, *real;
	size_t len;
	int err;

	init_policy(pol);
	real = reader->resolve(reader, path);
	err = reader->read(reader, path, real, &buf, &len);
	if (err) {
		free(real);
		return err;
	}
	parse_source(&p, tg_diags_add_source(diags, path, real, buf, len));
	free(real);
	return finish(&p);
}

int tg_policy_parse_file(struct tg_policy *pol, struct tg_diags *diags, const char *path)
{
	return tg_policy_parse_from(pol, diags, path, &disk);
}

int tg_policy_parse_buffer(struct tg_policy *pol, struct tg_diags *diags, const char *name, const char *buf, size_t len)
{
	struct parser p = { .pol = pol, .diags = diags, .reader = &disk };
	char *copy = xmalloc(len + 1);

	init_policy(pol);
	memcpy(copy, buf, len);
	copy[len] = '\0';
	parse_source(&p, tg_diags_add_source(diags, name, NULL, copy, len));
	return finish(&p);
}
