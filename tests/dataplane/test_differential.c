// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Differential test: the real XDP program (BPF_PROG_TEST_RUN, never a NIC)
 * against the reference classifier, on random policies and random packets.
 *
 * Each policy is generated as policy TEXT and goes through the real parser,
 * the compiler and the loader; then, for both facings, random frames biased
 * towards the policy's own prefixes, ports and types (and then truncated or
 * corrupted now and then) go through both sides. Verdict, reason, service and
 * role (when a service decided) must agree.
 *
 * One cmocka case per policy. Everything derives from one seed, printed at
 * the start and with every mismatch; TG_DIFF_SEED=N reproduces a run.
 * TG_DIFF_POLICIES and TG_DIFF_PACKETS (per policy and facing) override the
 * sizes.
 */
#include "classify.h"
#include "compile.h"
#include "dataplane.h"
#include "pktbuild.h"
#include "policy.h"

#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#define DEFAULT_POLICIES 120
#define DEFAULT_PACKETS 1000 /* per policy and facing */
#define BIG_EVERY 20	     /* every 20th policy has 240-256 services */
#define MAX_SHOWN 3	     /* mismatches printed per policy */
#define FRAME_CAP 10000

static uint64_t g_seed;
static unsigned g_npolicies = DEFAULT_POLICIES;
static unsigned g_npackets = DEFAULT_PACKETS;

/* Coverage, over the whole run, printed at the end. */
static struct {
	unsigned long packets, reasons[TG_REASONS], roles[TG_ROLES], word[TG_MASK_WORDS], verdict[2];
	unsigned long policies_ok, max_services, deep_chains;
} g_stats;

/* ------------------------------------------------------------------ rng */

struct rng {
	uint64_t s;
};

static uint64_t rnext(struct rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static unsigned rbelow(struct rng *r, unsigned n)
{
	return n ? (unsigned)(rnext(r) % n) : 0;
}

/* Inclusive. */
static unsigned rrange(struct rng *r, unsigned lo, unsigned hi)
{
	return lo + rbelow(r, hi - lo + 1);
}

static bool rchance(struct rng *r, unsigned percent)
{
	return rbelow(r, 100) < percent;
}

/* --------------------------------------------------------------- strings */

struct sb {
	char *p;
	size_t n, cap;
};

__attribute__((format(printf, 2, 3))) static void sb_printf(struct sb *b, const char *fmt, ...)
{
	va_list ap;
	int need;

	for (;;) {
		va_start(ap, fmt);
		need = vsnprintf(b->p ? b->p + b->n : NULL, b->p ? b->cap - b->n : 0, fmt, ap);
		va_end(ap);
		if (need < 0)
			abort();
		if (b->p && b->n + (size_t)need < b->cap) {
			b->n += (size_t)need;
			return;
		}
		b->cap = (b->cap + (size_t)need + 1) * 2;
		b->p = realloc(b->p, b->cap);
		if (!b->p)
			abort();
		b->p[b->n] = '\0';
	}
}

/* ------------------------------------------------------------- prefixes */

struct gprefix {
	bool v6;
	uint8_t addr[16];
	unsigned len;
};

static void mask_prefix(uint8_t *addr, unsigned len, unsigned bits)
{
	for (unsigned i = len; i < bits; i++)
		addr[i / 8] &= (uint8_t) ~(0x80 >> (i % 8));
}

static void random_bits_below(struct rng *r, uint8_t *addr, unsigned from, unsigned bits)
{
	for (unsigned i = from; i < bits; i++)
		if (rnext(r) & 1)
			addr[i / 8] |= (uint8_t)(0x80 >> (i % 8));
		else
			addr[i / 8] &= (uint8_t) ~(0x80 >> (i % 8));
}

/* Documentation ranges only, for host names. */
static void doc_address(struct rng *r, bool v6, uint8_t *addr)
{
	static const uint8_t v4_nets[3][3] = { { 192, 0, 2 }, { 198, 51, 100 }, { 203, 0, 113 } };

	memset(addr, 0, 16);
	if (!v6) {
		memcpy(addr, v4_nets[rbelow(r, 3)], 3);
		addr[3] = (uint8_t)(rchance(r, 30) ? rbelow(r, 16) : rbelow(r, 256));
		return;
	}
	addr[0] = 0x20;
	addr[1] = 0x01;
	addr[2] = 0x0d;
	addr[3] = 0xb8;
	if (rchance(r, 50)) {
		addr[5] = (uint8_t)rbelow(r, 4); /* 2001:db8:0-3:: */
		addr[15] = (uint8_t)rbelow(r, 32);
	} else {
		random_bits_below(r, addr, 32, 128);
	}
}

/* An address near one of a few anchors, so that fresh prefixes still overlap. */
static void anchor_address(struct rng *r, bool v6, uint8_t *addr)
{
	memset(addr, 0, 16);
	if (!v6) {
		switch (rbelow(r, 6)) {
		case 0:
		case 1:
		case 2:
			doc_address(r, false, addr);
			return;
		case 3:
			addr[0] = 10;
			random_bits_below(r, addr, 8 + rbelow(r, 12), 32);
			return;
		case 4:
			addr[0] = 172;
			addr[1] = 16;
			random_bits_below(r, addr, 12, 32);
			return;
		default:
			random_bits_below(r, addr, 0, 32);
			return;
		}
	}
	switch (rbelow(r, 5)) {
	case 0:
	case 1:
		doc_address(r, true, addr);
		return;
	case 2:
		addr[0] = 0xfd;
		random_bits_below(r, addr, 8 + rbelow(r, 56), 128);
		return;
	case 3:
		addr[0] = 0xfe;
		addr[1] = 0x80;
		random_bits_below(r, addr, 64, 128);
		return;
	default:
		random_bits_below(r, addr, 0, 128);
		return;
	}
}

static unsigned random_len(struct rng *r, bool v6)
{
	static const unsigned v4[] = { 0, 1, 8, 12, 16, 20, 23, 24, 25, 26, 28, 29, 30, 31, 32, 32, 32 };
	static const unsigned v6l[] = { 0, 1, 16, 29, 32, 33, 44, 48, 56, 63, 64, 65, 96, 112, 120, 126, 127, 128, 128, 128 };

	if (rchance(r, 20))
		return rbelow(r, v6 ? 129 : 33);
	return v6 ? v6l[rbelow(r, sizeof(v6l) / sizeof(v6l[0]))] : v4[rbelow(r, sizeof(v4) / sizeof(v4[0]))];
}

/* ---------------------------------------------------------- the generator */

struct gen {
	struct rng *r;
	struct sb text;
	bool big; /* near TG_MAX_SERVICES: narrow peers and ports */
	struct gprefix *prefixes;
	size_t nprefixes, prefixes_cap;
	unsigned ports[16];
	unsigned nports;
	unsigned nhosts;
	unsigned nsets;
	unsigned chain_first, chain_len; /* a chain of nested sets, chain_len 0 if none */
	struct sb hostspecs[8];
	unsigned nhostspecs;
};

static void remember_prefix(struct gen *g, const struct gprefix *p)
{
	if (g->nprefixes == g->prefixes_cap) {
		g->prefixes_cap = g->prefixes_cap ? g->prefixes_cap * 2 : 32;
		g->prefixes = realloc(g->prefixes, g->prefixes_cap * sizeof(*g->prefixes));
		if (!g->prefixes)
			abort();
	}
	g->prefixes[g->nprefixes++] = *p;
}

/* A prefix nested in, equal to, containing or disjoint from earlier ones. */
static void new_prefix(struct gen *g, struct gprefix *out)
{
	struct rng *r = g->r;
	unsigned bits, mode = rbelow(r, 100);

	if (g->nprefixes && mode < 45) {
		*out = g->prefixes[rbelow(r, (unsigned)g->nprefixes)];
		bits = out->v6 ? 128 : 32;
		if (mode < 25 && out->len < bits) { /* nested */
			unsigned add = rrange(r, 1, bits - out->len < 24 ? bits - out->len : 24);

			if (rchance(r, 25))
				add = bits - out->len; /* a host inside */
			random_bits_below(r, out->addr, out->len, bits);
			out->len += add;
		} else if (mode < 35 && out->len > 0) { /* a parent */
			out->len -= rrange(r, 1, out->len < 16 ? out->len : 16);
		} /* else equal */
	} else {
		out->v6 = rchance(r, g->big ? 30 : 40);
		bits = out->v6 ? 128 : 32;
		anchor_address(r, out->v6, out->addr);
		out->len = random_len(r, out->v6);
		if (g->big && out->len < (out->v6 ? 64u : 20u) && !rchance(r, 3))
			out->len = out->v6 ? rrange(r, 64, 128) : rrange(r, 24, 32);
		if (!g->big && rchance(r, 3))
			out->len = 0;
	}
	bits = out->v6 ? 128 : 32;
	mask_prefix(out->addr, out->len, bits);
	remember_prefix(g, out);
}

static void write_prefix(struct gen *g, const struct gprefix *p)
{
	struct rng *r = g->r;
	unsigned bits = p->v6 ? 128 : 32;
	uint8_t shown[16];
	char a[INET6_ADDRSTRLEN];

	memcpy(shown, p->addr, 16);
	if (p->len < bits && rchance(r, 15)) /* host bits set: a warning, then cleared */
		random_bits_below(r, shown, p->len, bits);
	inet_ntop(p->v6 ? AF_INET6 : AF_INET, shown, a, sizeof(a));
	if (p->len == bits && rchance(r, 50))
		sb_printf(&g->text, "%s", a);
	else
		sb_printf(&g->text, "%s/%u", a, p->len);
}

static void write_host(struct gen *g, unsigned h)
{
	struct rng *r = g->r;
	char name[64];
	int n = snprintf(name, sizeof(name), "h%u.example.com", h);

	for (int i = 0; i < n; i++)
		if (rchance(g->r, 20) && name[i] >= 'a' && name[i] <= 'z')
			name[i] = (char)(name[i] - 'a' + 'A');
	sb_printf(&g->text, "%s%s", name, rchance(r, 15) ? "." : "");
}

static void sep(struct gen *g, bool first)
{
	if (!first)
		sb_printf(&g->text, "%s", rchance(g->r, 50) ? ", " : " ");
}

/* One peer: a prefix, a host, a set, or any. */
static void write_peer(struct gen *g, int min_set, bool in_set)
{
	struct rng *r = g->r;
	unsigned k = rbelow(r, 100);
	unsigned any_pct = g->big ? 1 : in_set ? 3 : 6;

	if (k < any_pct) {
		sb_printf(&g->text, "any");
	} else if (k < 25 && g->nhosts) {
		write_host(g, rbelow(r, g->nhosts));
	} else if (k < 40 && (int)g->nsets > min_set + 1 && g->nsets) {
		sb_printf(&g->text, "@set%u", rrange(r, (unsigned)(min_set + 1), g->nsets - 1));
	} else if (k < 44 && g->chain_len && !in_set) {
		sb_printf(&g->text, "@chain%u", g->chain_first);
	} else {
		struct gprefix p;

		if (g->nprefixes && rchance(r, 15)) /* literally the same prefix again */
			p = g->prefixes[rbelow(r, (unsigned)g->nprefixes)];
		else
			new_prefix(g, &p);
		write_prefix(g, &p);
	}
}

static void write_peer_list(struct gen *g, unsigned n, int min_set, bool in_set)
{
	for (unsigned i = 0; i < n; i++) {
		sep(g, i == 0);
		write_peer(g, min_set, in_set);
	}
}

/* Host names with addresses from the documentation ranges, as --host specs. */
static void gen_hosts(struct gen *g)
{
	struct rng *r = g->r;

	g->nhosts = rbelow(r, 6);
	g->nhostspecs = 0;
	for (unsigned h = 0; h < g->nhosts; h++) {
		struct sb *spec;
		unsigned naddr;

		if (rchance(r, 20))
			continue; /* named in the policy, but not resolved */
		spec = &g->hostspecs[g->nhostspecs++];
		sb_printf(spec, "h%u.example.com=", h);
		naddr = rrange(r, 1, 3);
		for (unsigned i = 0; i < naddr; i++) {
			struct gprefix p = { .v6 = rchance(r, 40) };
			char a[INET6_ADDRSTRLEN];

			if (g->nprefixes && rchance(r, 30)) {
				/* inside or at the edge of an earlier doc prefix, when there is one */
				const struct gprefix *q = &g->prefixes[rbelow(r, (unsigned)g->nprefixes)];

				p = *q;
				random_bits_below(r, p.addr, q->len, p.v6 ? 128 : 32);
				if ((p.v6 && memcmp(p.addr, "\x20\x01\x0d\xb8", 4)) ||
				    (!p.v6 && memcmp(p.addr, "\xc0\x00\x02", 3) && memcmp(p.addr, "\xc6\x33\x64", 3) &&
				     memcmp(p.addr, "\xcb\x00\x71", 3)))
					doc_address(r, p.v6, p.addr);
			} else {
				doc_address(r, p.v6, p.addr);
			}
			p.len = p.v6 ? 128 : 32;
			remember_prefix(g, &p);
			inet_ntop(p.v6 ? AF_INET6 : AF_INET, p.addr, a, sizeof(a));
			sb_printf(spec, "%s%s", i ? "," : "", a);
		}
	}
}

static void gen_ports_pool(struct gen *g)
{
	static const unsigned common[] = { 1, 2, 22, 53, 80, 443, 1023, 1024, 8080, 32768, 65534, 65535 };
	struct rng *r = g->r;

	g->nports = rrange(r, 4, 16);
	for (unsigned i = 0; i < g->nports; i++)
		g->ports[i] = rchance(r, 60) ? common[rbelow(r, sizeof(common) / sizeof(common[0]))] : rrange(r, 1, 65535);
}

static void write_port_item(struct gen *g)
{
	struct rng *r = g->r;
	unsigned k = rbelow(r, 100), a, b;

	if (k < 5) {
		sb_printf(&g->text, "1-65535");
		return;
	}
	a = g->ports[rbelow(r, g->nports)];
	if (k < (g->big ? 85u : 55u)) {
		sb_printf(&g->text, "%u", a);
		return;
	}
	b = k < 80 ? g->ports[rbelow(r, g->nports)] : a + rbelow(r, 300);
	if (b > 65535)
		b = 65535;
	if (b < a) {
		unsigned t = a;
		a = b;
		b = t;
	}
	if (a == b && rchance(r, 50))
		sb_printf(&g->text, "%u", a);
	else
		sb_printf(&g->text, "%u-%u", a, b);
}

static void write_type_item(struct gen *g, bool v6)
{
	static const char *const v4names[] = {
		"echo-reply", "destination-unreachable", "source-quench", "redirect", "echo-request", "router-advertisement",
		"router-solicitation", "time-exceeded", "parameter-problem", "timestamp-request", "timestamp-reply",
		"info-request", "info-reply", "address-mask-request", "address-mask-reply",
	};
	static const char *const v6names[] = {
		"destination-unreachable", "packet-too-big", "time-exceeded", "parameter-problem", "echo-request",
		"echo-reply", "mld-listener-query", "mld-listener-report", "mld-listener-done", "router-solicitation",
		"router-advertisement", "neighbour-solicitation", "neighbor-solicitation", "neighbour-advertisement",
		"neighbor-advertisement", "redirect",
	};
	static const unsigned v4req[] = { 8, 13, 15, 17, 3, 11, 0 };
	static const unsigned v6req[] = { 128, 129, 1, 2, 133, 135, 136, 137 };
	struct rng *r = g->r;
	unsigned k = rbelow(r, 100), a, b;

	if (k < 30) {
		sb_printf(&g->text, "echo-request");
	} else if (k < 55) {
		sb_printf(&g->text, "%s", v6 ? v6names[rbelow(r, sizeof(v6names) / sizeof(v6names[0]))] :
					       v4names[rbelow(r, sizeof(v4names) / sizeof(v4names[0]))]);
	} else if (k < 75) {
		sb_printf(&g->text, "%u", v6 ? v6req[rbelow(r, sizeof(v6req) / sizeof(v6req[0]))] :
					      v4req[rbelow(r, sizeof(v4req) / sizeof(v4req[0]))]);
	} else if (k < 80) {
		sb_printf(&g->text, "0-255");
	} else if (k < 90) {
		a = rbelow(r, 256);
		sb_printf(&g->text, "%u", a);
	} else {
		a = v6 ? rrange(r, 120, 140) : rbelow(r, 20);
		b = a + rbelow(r, 10);
		sb_printf(&g->text, "%u-%u", a, b > 255 ? 255 : b);
	}
}

/*
 * A property value list: on the line, or in a brace block over several
 * lines. write_item writes one item.
 */
static void write_list(struct gen *g, unsigned n, void (*write_item)(struct gen *, void *), void *arg)
{
	struct rng *r = g->r;

	if (rchance(r, 12)) {
		sb_printf(&g->text, "{\n");
		for (unsigned i = 0; i < n; i++) {
			sb_printf(&g->text, "        ");
			write_item(g, arg);
			sb_printf(&g->text, "%s", rchance(r, 50) ? "\n" : rchance(r, 50) ? ";\n" : ",\n");
		}
		sb_printf(&g->text, "    }");
		return;
	}
	for (unsigned i = 0; i < n; i++) {
		sep(g, i == 0);
		write_item(g, arg);
	}
}

static void port_item_cb(struct gen *g, void *arg)
{
	(void)arg;
	write_port_item(g);
}

static void type_item_cb(struct gen *g, void *arg)
{
	write_type_item(g, *(bool *)arg);
}

static void peer_item_cb(struct gen *g, void *arg)
{
	(void)arg;
	write_peer(g, -1, false);
}

/* Ends a property: a newline, or ';' to keep the service on fewer lines. */
static void end_prop(struct gen *g, bool compact)
{
	sb_printf(&g->text, "%s", compact ? "; " : "\n");
}

static void gen_service(struct gen *g, unsigned index)
{
	static const unsigned numbers[] = { 0, 2, 4, 41, 43, 44, 47, 50, 51, 59, 60, 89, 103, 115, 135, 136, 137, 253, 255 };
	struct rng *r = g->r;
	bool compact = rchance(r, 25);
	const char *indent = compact ? "" : "    ";
	unsigned order[7], nprops = 0;
	unsigned k = rbelow(r, 100);
	enum { PORTED, ICMP4, ICMP6, ANY, NUMBER } kind;
	char protocol[64] = "";
	bool with_values;

	if (g->big)
		kind = k < 70 ? PORTED : k < 78 ? ICMP4 : k < 86 ? ICMP6 : k < 87 ? ANY : NUMBER;
	else
		kind = k < 45 ? PORTED : k < 58 ? ICMP4 : k < 71 ? ICMP6 : k < 80 ? ANY : NUMBER;
	switch (kind) {
	case PORTED: {
		static const char *const names[3][2] = { { "tcp", "6" }, { "udp", "17" }, { "sctp", "132" } };
		unsigned mask = rrange(r, 1, 7), used = 0;
		size_t off = 0;

		if (rchance(r, 40))
			mask = 1u << rbelow(r, 3); /* single protocols are the common case */
		for (unsigned p = 0; p < 3; p++) {
			unsigned q = (p + index) % 3; /* vary the order */

			if (mask & 1u << q)
				off += (size_t)snprintf(protocol + off, sizeof(protocol) - off, "%s%s", used++ ? (rchance(r, 50) ? ", " : " ") : "",
							names[q][rchance(r, 25)]);
		}
		break;
	}
	case ICMP4:
		snprintf(protocol, sizeof(protocol), "%s", rchance(r, 20) ? "1" : "icmp");
		break;
	case ICMP6:
		snprintf(protocol, sizeof(protocol), "%s", rchance(r, 15) ? "58" : rchance(r, 15) ? "ipv6-icmp" : "icmpv6");
		break;
	case ANY:
		snprintf(protocol, sizeof(protocol), "any");
		break;
	case NUMBER:
		snprintf(protocol, sizeof(protocol), "%u",
			 rchance(r, 80) ? numbers[rbelow(r, sizeof(numbers) / sizeof(numbers[0]))] : rbelow(r, 256));
		break;
	}
	with_values = (kind == PORTED || kind == ICMP4 || kind == ICMP6) && rchance(r, g->big ? 90 : 65);

	if (rchance(r, 30))
		sb_printf(&g->text, "service s%u-%s {%s", index, index % 2 ? "x" : "Y_", compact ? " " : "\n");
	else
		sb_printf(&g->text, "service s%u {%s", index, compact ? " " : "\n");
	/* properties in a random order */
	for (unsigned i = 0; i < 7; i++)
		order[nprops++] = i;
	for (unsigned i = nprops - 1; i > 0; i--) {
		unsigned j = rbelow(r, i + 1), t = order[i];

		order[i] = order[j];
		order[j] = t;
	}
	for (unsigned i = 0; i < nprops; i++) {
		switch (order[i]) {
		case 0:
			sb_printf(&g->text, "%sdirection %s", indent, rchance(r, 50) ? "in" : "out");
			break;
		case 1:
			sb_printf(&g->text, "%sprotocol %s", indent, protocol);
			break;
		case 2:
			if (!with_values)
				continue;
			if (kind == PORTED) {
				sb_printf(&g->text, "%sports ", indent);
				write_list(g, rrange(r, 1, g->big ? 2 : 4), port_item_cb, NULL);
			} else {
				bool v6 = kind == ICMP6;

				sb_printf(&g->text, "%stypes ", indent);
				write_list(g, rrange(r, 1, 4), type_item_cb, &v6);
			}
			break;
		case 3:
			sb_printf(&g->text, "%speers ", indent);
			write_list(g, rrange(r, 1, g->big ? 2 : 4), peer_item_cb, NULL);
			break;
		case 4:
			sb_printf(&g->text, "%saction %s", indent, rchance(r, 50) ? "allow" : "deny");
			break;
		case 5:
			if (!rchance(r, 15))
				continue;
			sb_printf(&g->text, "%sdescription \"row %u: \\\"quoted\\\" \\\\ tab\\t\"", indent, index);
			break;
		case 6:
			if (!index || !rchance(r, 8))
				continue;
			sb_printf(&g->text, "%scounted-under s%u", indent, rbelow(r, index));
			/* the name must be exact: only services without a suffix qualify */
			break;
		}
		end_prop(g, compact);
	}
	sb_printf(&g->text, "}\n");
}

static void gen_set(struct gen *g, unsigned s)
{
	struct rng *r = g->r;
	unsigned n = rchance(r, 8) ? 0 : rrange(r, 1, 5);

	sb_printf(&g->text, "set set%u {", s);
	if (rchance(r, 50)) {
		sb_printf(&g->text, " ");
		write_peer_list(g, n, (int)s, true);
		sb_printf(&g->text, " }\n");
		return;
	}
	sb_printf(&g->text, "\n");
	for (unsigned i = 0; i < n; i++) {
		sb_printf(&g->text, "    ");
		write_peer(g, (int)s, true);
		sb_printf(&g->text, "%s", rchance(r, 70) ? "\n" : rchance(r, 50) ? ";\n" : ",\n");
	}
	sb_printf(&g->text, "}\n");
}

/* A long chain of nested sets: @chainN -> @chainN+1 -> ... -> a prefix. */
static void gen_chain(struct gen *g)
{
	for (unsigned i = 0; i < g->chain_len; i++) {
		unsigned c = g->chain_first + i;

		if (i + 1 < g->chain_len) {
			sb_printf(&g->text, "set chain%u { @chain%u }\n", c, c + 1);
		} else {
			struct gprefix p;

			sb_printf(&g->text, "set chain%u { ", c);
			new_prefix(g, &p);
			write_prefix(g, &p);
			sb_printf(&g->text, " }\n");
		}
	}
}

static void gen_setting(struct gen *g, unsigned s)
{
	struct rng *r = g->r;

	switch (s) {
	case TG_SET_DEFAULT:
		sb_printf(&g->text, "default %s", rchance(r, 50) ? "allow" : "deny");
		break;
	case TG_SET_NON_IP:
		sb_printf(&g->text, "non-ip %s", rchance(r, 50) ? "allow" : "deny");
		break;
	case TG_SET_MALFORMED:
		sb_printf(&g->text, "malformed %s", rchance(r, 50) ? "allow" : "deny");
		break;
	case TG_SET_ESSENTIAL_ICMP:
		sb_printf(&g->text, "essential-icmp %s", rchance(r, 50) ? "allow" : "filter");
		break;
	case TG_SET_FRAGMENTS:
		sb_printf(&g->text, "fragments %s", rchance(r, 60) ? "match" : rchance(r, 50) ? "allow" : "deny");
		break;
	}
	sb_printf(&g->text, "%s", rchance(r, 20) ? "; " : "\n");
}

static void gen_policy(struct gen *g, unsigned nservices)
{
	struct rng *r = g->r;
	bool setting_done[TG_SETTINGS] = { 0 };
	unsigned nsettings_left, stmts, next_service = 0, next_set = 0;

	gen_ports_pool(g);
	/* a few prefixes up front so that host addresses can land in them */
	for (unsigned i = rbelow(r, 4); i > 0; i--) {
		struct gprefix p;

		new_prefix(g, &p);
	}
	gen_hosts(g);
	g->nsets = rbelow(r, g->big ? 16 : 9);
	g->chain_len = rchance(r, 8) ? rrange(r, 60, 72) : 0;
	g->chain_first = 0;
	sb_printf(&g->text, "# generated, %u services\n", nservices);
	/* settings: default always, the rest 60% of the time, anywhere */
	for (unsigned s = 0; s < TG_SETTINGS; s++)
		setting_done[s] = s != TG_SET_DEFAULT && !rchance(r, 60);
	nsettings_left = 0;
	for (unsigned s = 0; s < TG_SETTINGS; s++)
		nsettings_left += !setting_done[s];
	stmts = nservices + g->nsets + nsettings_left;
	if (g->chain_len)
		gen_chain(g);
	while (stmts--) {
		unsigned k = rbelow(r, stmts + 1);

		if (k < nsettings_left) {
			unsigned s;

			do
				s = rbelow(r, TG_SETTINGS);
			while (setting_done[s]);
			setting_done[s] = true;
			nsettings_left--;
			gen_setting(g, s);
		} else if (k < nsettings_left + g->nsets - next_set) {
			gen_set(g, next_set++);
		} else if (next_service < nservices) {
			gen_service(g, next_service++);
		} else {
			gen_set(g, next_set++);
		}
		if (rchance(r, 5))
			sb_printf(&g->text, "# a comment\n");
	}
}

static void gen_free(struct gen *g)
{
	free(g->text.p);
	free(g->prefixes);
	for (unsigned i = 0; i < sizeof(g->hostspecs) / sizeof(g->hostspecs[0]); i++)
		free(g->hostspecs[i].p);
	memset(g, 0, sizeof(*g));
}
