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
 * sizes; TG_DIFF_ONLY=policy_019 runs one case (the same policy and packets,
 * since each case derives its own generator from the seed and its index).
 * TG_DIFF_CHAIN_MAX, TG_DIFF_HUGE_EXT_PCT and TG_DIFF_SET_PREFIXES tune three
 * generators, below.
 *
 * Flows: both sides keep flows (the program its LRU tables, the reference
 * user/model/flows.c) and see the same fake clock (clock_from_map). Besides
 * the single random frames, each policy and facing runs TG_DIFF_SEQUENCES
 * random sequences over a few random 5-tuples: requests (through egress or
 * arriving at XDP, whichever sees the opener's packets), replies, spoofed
 * replies with no flow, the TCP handshake and close flags, ICMP queries with
 * identifiers, ICMP errors quoting packets of live or unknown flows, and
 * clock jumps that let flows expire under the policy's (often small)
 * timeouts. Every XDP packet is compared; egress packets only record flows.
 */
#include "agree.h"
#include "model/classify.h"
#include "compile/compile.h"
#include "compile/lookup.h"
#include "kernel/dataplane.h"
#include "kernel/flows.h"
#include "pktbuild.h"
#include "policy/policy.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
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

#define DEFAULT_POLICIES 100
#define DEFAULT_PACKETS 1000 /* per policy and facing */
#define DEFAULT_SEQUENCES 30 /* per policy and facing */
#define BIG_EVERY 20	     /* every 20th policy has 240-256 services */
#define MAX_SHOWN 3	     /* mismatches printed per policy */
#define FRAME_CAP 32768
/*
 * Two generators walk up to the documented limits, in every 10th policy
 * each, so that what they find stays in its cases:
 * - CHAIN_EVERY: a chain of nested sets (@chain0 -> @chain1 -> ... -> a
 *   prefix), DEEP_CHAIN_MIN to TG_DIFF_CHAIN_MAX sets long (at most
 *   TG_MAX_SET_DEPTH, the language's nesting limit), used by some services;
 * - HUGE_EVERY: of the frames whose IPv6 extension headers are lengthened,
 *   TG_DIFF_HUGE_EXT_PCT percent are lengthened by 1-2 KB a header, so that
 *   later headers lie past TG_HEADER_LIMIT (and past the linear part of the
 *   XDP buffer): both sides must call those malformed.
 */
#define CHAIN_EVERY 10 /* policies 2, 12, 22, ... */
#define CHAIN_AT 2
#define DEEP_CHAIN_MIN 24
#define DEEP_CHAIN_MAX TG_MAX_SET_DEPTH /* deeper is a policy error */
/*
 * SET_EVERY: a set of TG_DIFF_SET_PREFIXES (10^5) prefixes of both families,
 * fresh, nested, adjacent (the sibling of another) and containing others,
 * used by some services: the peer lookup at the size of a threat feed, with
 * the packets' addresses drawn from its edges like any other prefix's.
 */
#define SET_EVERY 25 /* policies 4, 29, 54, 79 */
#define SET_AT 4
#define SET_PREFIXES 100000
#define HUGE_EVERY 10 /* policies 7, 17, 27, ... */
#define HUGE_AT 7
#define HUGE_EXT_PCT 25

static uint64_t g_seed;
static unsigned g_npolicies = DEFAULT_POLICIES;
static unsigned g_npackets = DEFAULT_PACKETS;
static unsigned g_nsequences = DEFAULT_SEQUENCES;
static unsigned g_chain_max = DEEP_CHAIN_MAX;
static unsigned g_huge_ext_pct = HUGE_EXT_PCT;
static unsigned g_set_prefixes = SET_PREFIXES;

/* Coverage, over the whole run, printed at the end. */
static struct {
	unsigned long packets, reasons[TG_REASONS], roles[TG_ROLES], word[TG_MASK_WORDS], verdict[2];
	unsigned long policies_ok, max_services, deep_chains, big_sets, big_set_prefixes;
	unsigned long sequences, seq_xdp, seq_egress, quoted_errors, clock_jumps, tracked_runs;
	unsigned long filtered[2]; /* facings whose lookup has a used-block filter, by family */
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
	static const unsigned v6l[] = { 0,  1,	16, 29,	 32,  33,  44,	48,  56,  63,
					64, 65, 96, 112, 120, 126, 127, 128, 128, 128 };

	if (rchance(r, 20))
		return rbelow(r, v6 ? 129 : 33);
	return v6 ? v6l[rbelow(r, sizeof(v6l) / sizeof(v6l[0]))] : v4[rbelow(r, sizeof(v4) / sizeof(v4[0]))];
}

/* ---------------------------------------------------------- the generator */

struct gen {
	struct rng *r;
	struct sb text;
	bool big; /* near TG_MAX_SERVICES: narrow peers and ports */
	bool with_chain;
	struct gprefix *prefixes;
	size_t nprefixes, prefixes_cap;
	unsigned ports[16];
	unsigned nports;
	unsigned nhosts;
	unsigned nsets;
	unsigned chain_first, chain_len; /* a chain of nested sets, chain_len 0 if none */
	bool with_big_set, big_set_used; /* `set feed` of g_set_prefixes prefixes */
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
	} else if ((k < 54 || !g->big_set_used) && g->with_big_set && !in_set) {
		sb_printf(&g->text, "@feed");
		g->big_set_used = true;
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
		g->ports[i] = rchance(r, 60) ? common[rbelow(r, sizeof(common) / sizeof(common[0]))] :
					       rrange(r, 1, 65535);
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
		"echo-reply",	     "destination-unreachable", "source-quench",       "redirect",
		"echo-request",	     "router-advertisement",	"router-solicitation", "time-exceeded",
		"parameter-problem", "timestamp-request",	"timestamp-reply",     "info-request",
		"info-reply",	     "address-mask-request",	"address-mask-reply",
	};
	static const char *const v6names[] = {
		"destination-unreachable",
		"packet-too-big",
		"time-exceeded",
		"parameter-problem",
		"echo-request",
		"echo-reply",
		"mld-listener-query",
		"mld-listener-report",
		"mld-listener-done",
		"router-solicitation",
		"router-advertisement",
		"neighbour-solicitation",
		"neighbor-solicitation",
		"neighbour-advertisement",
		"neighbor-advertisement",
		"redirect",
	};
	static const unsigned v4req[] = { 8, 13, 15, 17, 3, 11, 0 };
	static const unsigned v6req[] = { 128, 129, 1, 2, 133, 135, 136, 137 };
	struct rng *r = g->r;
	unsigned k = rbelow(r, 100), a, b;

	if (k < 30) {
		sb_printf(&g->text, "echo-request");
	} else if (k < 55) {
		sb_printf(&g->text, "%s",
			  v6 ? v6names[rbelow(r, sizeof(v6names) / sizeof(v6names[0]))] :
			       v4names[rbelow(r, sizeof(v4names) / sizeof(v4names[0]))]);
	} else if (k < 75) {
		sb_printf(&g->text, "%u",
			  v6 ? v6req[rbelow(r, sizeof(v6req) / sizeof(v6req[0]))] :
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

/* Service names vary in spelling; counted-under needs the exact one. */
static const char *service_name(unsigned index, char *buf, size_t size)
{
	switch (index % 4) {
	case 1:
		snprintf(buf, size, "s%u-x", index);
		break;
	case 3:
		snprintf(buf, size, "S_%u", index);
		break;
	default:
		snprintf(buf, size, "s%u", index);
	}
	return buf;
}

static void gen_service(struct gen *g, unsigned index)
{
	static const unsigned numbers[] = { 0,	2,  4,	 41,  43,  44,	47,  50,  51, 59,
					    60, 89, 103, 115, 135, 136, 137, 253, 255 };
	struct rng *r = g->r;
	bool compact = rchance(r, 25);
	const char *indent = compact ? "" : "    ";
	unsigned order[7], nprops = 0;
	unsigned k = rbelow(r, 100);
	enum { PORTED, ICMP4, ICMP6, ANY, NUMBER } kind;
	char protocol[64] = "", name[32];
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
				off += (size_t)snprintf(protocol + off, sizeof(protocol) - off, "%s%s",
							used++ ? (rchance(r, 50) ? ", " : " ") : "",
							names[q][rchance(r, 25)]);
		}
		break;
	}
	case ICMP4:
		snprintf(protocol, sizeof(protocol), "%s", rchance(r, 20) ? "1" : "icmp");
		break;
	case ICMP6:
		snprintf(protocol, sizeof(protocol), "%s",
			 rchance(r, 15) ? "58" :
			 rchance(r, 15) ? "ipv6-icmp" :
					  "icmpv6");
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

	sb_printf(&g->text, "service %s {%s", service_name(index, name, sizeof(name)), compact ? " " : "\n");
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
			sb_printf(&g->text, "%scounted-under %s", indent,
				  service_name(rbelow(r, index), name, sizeof(name)));
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

/* One prefix of the big set, related to the earlier ones as a feed's are. */
static void feed_prefix(struct gen *g, struct gprefix *out)
{
	struct rng *r = g->r;
	unsigned k = rbelow(r, 100), bits;

	if (!g->nprefixes || k < 50) { /* fresh, never /0: one /0 would cover everything */
		out->v6 = rchance(r, 40);
		anchor_address(r, out->v6, out->addr);
		do
			out->len = random_len(r, out->v6);
		while (!out->len);
	} else {
		*out = g->prefixes[rbelow(r, (unsigned)g->nprefixes)];
		bits = out->v6 ? 128 : 32;
		if (k < 70 && out->len < bits) { /* nested */
			random_bits_below(r, out->addr, out->len, bits);
			out->len = rrange(r, out->len + 1, bits);
		} else if (k < 85 && out->len > 0) { /* adjacent: the sibling */
			out->addr[(out->len - 1) / 8] ^= (uint8_t)(0x80 >> ((out->len - 1) % 8));
		} else if (out->len > 1) { /* containing */
			out->len = rrange(r, 1, out->len - 1);
		}
	}
	mask_prefix(out->addr, out->len, out->v6 ? 128 : 32);
	remember_prefix(g, out);
}

static void gen_big_set(struct gen *g)
{
	sb_printf(&g->text, "set feed {\n");
	for (unsigned i = 0; i < g_set_prefixes; i++) {
		struct gprefix p;

		feed_prefix(g, &p);
		sb_printf(&g->text, "  ");
		write_prefix(g, &p);
		sb_printf(&g->text, "\n");
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
	case TG_SET_REPLIES:
		sb_printf(&g->text, "replies %s", rchance(r, 70) ? "tracked" : "stateless");
		break;
	case TG_SET_FLOW_TABLE: /* far from full: the tests never evict */
		sb_printf(&g->text, "flow-table %u", rchance(r, 50) ? 65536u : rrange(r, 16384, 131072));
		break;
	default: {
		static const char *const names[TG_TIMEOUTS] = {
			"tcp-syn-timeout", "tcp-established-timeout", "tcp-closing-timeout", "tcp-closed-timeout",
			"udp-timeout",	   "udp-stream-timeout",      "icmp-timeout",	     "other-timeout",
		};
		unsigned t = s - TG_SET_TCP_SYN_TIMEOUT;

		if (t >= TG_TIMEOUTS)
			return;
		/* small, so that sequences see flows expire */
		if (rchance(r, 80))
			sb_printf(&g->text, "%s %u%s", names[t], rrange(r, 1, 40), rchance(r, 30) ? "s" : "");
		else
			sb_printf(&g->text, "%s %um", names[t], rrange(r, 1, 10));
		break;
	}
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
	g->chain_len = g->with_chain ? rrange(r, DEEP_CHAIN_MIN, g_chain_max) : 0;
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
	if (g->with_big_set)
		gen_big_set(g);
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

/* ---------------------------------------------------------- packet targets */

struct addrs {
	struct gprefix *items;
	size_t n, cap;
};

static void addrs_push(struct addrs *a, const struct gprefix *p)
{
	if (a->n == a->cap) {
		a->cap = a->cap ? a->cap * 2 : 8;
		a->items = realloc(a->items, a->cap * sizeof(*a->items));
		if (!a->items)
			abort();
	}
	a->items[a->n++] = *p;
}

/* Every prefix a peer list stands for, hosts through the host map. */
static void flatten_peers(const struct tg_policy *pol, const struct tg_hostmap *hosts, const struct tg_peer_list *list,
			  struct addrs *out, int depth)
{
	for (size_t i = 0; i < list->n && depth < 200; i++) {
		const struct tg_peer *peer = &list->items[i];
		struct gprefix p = { 0 };

		switch (peer->kind) {
		case TG_PEER_ANY:
			addrs_push(out, &p);
			p.v6 = true;
			addrs_push(out, &p);
			break;
		case TG_PEER_V4:
		case TG_PEER_V6:
			p.v6 = peer->kind == TG_PEER_V6;
			memcpy(p.addr, peer->addr, 16);
			p.len = peer->prefixlen;
			addrs_push(out, &p);
			break;
		case TG_PEER_HOST:
			for (size_t h = 0; h < hosts->n; h++)
				if (!strcmp(hosts->items[h].name, peer->name)) {
					p.v6 = hosts->items[h].v6;
					memcpy(p.addr, hosts->items[h].addr, 16);
					p.len = p.v6 ? 128 : 32;
					addrs_push(out, &p);
				}
			break;
		case TG_PEER_SET:
			if (peer->set >= 0)
				flatten_peers(pol, hosts, &pol->sets[peer->set].peers, out, depth + 1);
			break;
		}
	}
}

struct ports {
	unsigned v[4096];
	size_t n;
};

static void ports_add(struct ports *p, long v)
{
	if (v >= 0 && v <= 65535 && p->n < sizeof(p->v) / sizeof(p->v[0]))
		p->v[p->n++] = (unsigned)v;
}

/* What the packets of one policy are drawn from. */
struct pctx {
	const struct tg_policy *pol;
	const struct tg_hostmap *hosts;
	struct addrs *svc_addrs; /* per service */
	struct addrs all;
	struct ports ports; /* range edges, either side, and a few fixed ones */
	unsigned huge_ext_pct;
};

static void pctx_init(struct pctx *c, const struct tg_policy *pol, const struct tg_hostmap *hosts)
{
	memset(c, 0, sizeof(*c));
	c->pol = pol;
	c->hosts = hosts;
	c->svc_addrs = calloc(pol->nservices ? pol->nservices : 1, sizeof(*c->svc_addrs));
	if (!c->svc_addrs)
		abort();
	for (size_t s = 0; s < pol->nservices; s++) {
		const struct tg_service *svc = &pol->services[s];

		flatten_peers(pol, hosts, &svc->peers, &c->svc_addrs[s], 0);
		for (size_t i = 0; i < c->svc_addrs[s].n; i++)
			addrs_push(&c->all, &c->svc_addrs[s].items[i]);
		if (svc->protos & TG_P_PORTED)
			for (size_t i = 0; i < svc->nranges; i++) {
				ports_add(&c->ports, (long)svc->ranges[i].lo - 1);
				ports_add(&c->ports, svc->ranges[i].lo);
				ports_add(&c->ports, svc->ranges[i].hi);
				ports_add(&c->ports, (long)svc->ranges[i].hi + 1);
			}
	}
	ports_add(&c->ports, 0);
	ports_add(&c->ports, 65535);
	ports_add(&c->ports, 53);
}

static void pctx_free(struct pctx *c)
{
	for (size_t s = 0; s < c->pol->nservices; s++)
		free(c->svc_addrs[s].items);
	free(c->svc_addrs);
	free(c->all.items);
}

/* An address at the edges of, inside, or just outside a prefix. */
static void address_from(struct rng *r, const struct gprefix *p, uint8_t *out)
{
	unsigned bits = p->v6 ? 128 : 32, bytes = bits / 8, k = rbelow(r, 100);

	memcpy(out, p->addr, 16);
	if (k < 25) /* the first address */
		return;
	if (k < 45) { /* the last */
		for (unsigned i = p->len; i < bits; i++)
			out[i / 8] |= (uint8_t)(0x80 >> (i % 8));
		return;
	}
	if (k < 75) { /* inside */
		random_bits_below(r, out, p->len, bits);
		return;
	}
	if (k < 85) { /* just before */
		for (int i = (int)bytes - 1; i >= 0 && out[i]-- == 0; i--)
			;
		return;
	}
	if (k < 95) { /* just after */
		for (unsigned i = p->len; i < bits; i++)
			out[i / 8] |= (uint8_t)(0x80 >> (i % 8));
		for (int i = (int)bytes - 1; i >= 0 && ++out[i] == 0; i--)
			;
		return;
	}
	if (p->len) /* the sibling prefix */
		out[(p->len - 1) / 8] ^= (uint8_t)(0x80 >> ((p->len - 1) % 8));
	random_bits_below(r, out, p->len, bits);
}

/* Protocols without an l4 row of their own, among them the IPv6 extension
 * headers (0, 43, 44, 51, 60) as a bare protocol; kept as plain numbers. */
static const uint8_t other_protocols[] = { 0,  2,  4,	41,  43,  44,  47,  50,	 51, 59,
					   60, 89, 103, 115, 135, 136, 137, 253, 255 };

static uint8_t random_protocol(struct rng *r, bool v6)
{
	unsigned k = rbelow(r, 100);

	if (k < 25)
		return IPPROTO_TCP;
	if (k < 45)
		return IPPROTO_UDP;
	if (k < 53)
		return IPPROTO_SCTP;
	if (k < 68)
		return v6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP;
	if (k < 71)
		return v6 ? IPPROTO_ICMP : IPPROTO_ICMPV6; /* the other family's ICMP: a bare protocol */
	if (k < 88)
		return other_protocols[rbelow(r, sizeof(other_protocols))];
	return (uint8_t)rbelow(r, 256);
}

static uint8_t icmp_type_for(struct rng *r, const struct tg_service *svc, bool v6, int role)
{
	static const uint8_t v4[] = { 0, 3, 4, 5, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18 };
	static const uint8_t v6t[] = { 1, 2, 3, 4, 128, 129, 130, 131, 132, 133, 134, 135, 136, 137 };
	unsigned k = rbelow(r, 100);

	if (svc && svc->nranges && (svc->protos & TG_P_TYPED) && k < 70) {
		const struct tg_range *rg = &svc->ranges[rbelow(r, (unsigned)svc->nranges)];
		unsigned t = rrange(r, rg->lo, rg->hi);
		int reply = tg_icmp_reply_type(v6, t);

		if (role == TG_ROLE_REPLY && reply >= 0 && rchance(r, 85))
			return (uint8_t)reply;
		return (uint8_t)t;
	}
	if (k < 92)
		return v6 ? v6t[rbelow(r, sizeof(v6t))] : v4[rbelow(r, sizeof(v4))];
	return (uint8_t)rbelow(r, 256);
}

static unsigned port_for(struct rng *r, const struct pctx *c, const struct tg_service *svc)
{
	unsigned k = rbelow(r, 100);

	if (svc && svc->nranges && (svc->protos & TG_P_PORTED) && k < 75) {
		const struct tg_range *rg = &svc->ranges[rbelow(r, (unsigned)svc->nranges)];

		switch (rbelow(r, 6)) {
		case 0:
			return rg->lo;
		case 1:
			return rg->hi;
		case 2:
			return (rg->lo - 1u) & 0xffff;
		case 3:
			return (rg->hi + 1u) & 0xffff;
		default:
			return rrange(r, rg->lo, rg->hi);
		}
	}
	if (k < 90 && c->ports.n)
		return c->ports.v[rbelow(r, (unsigned)c->ports.n)];
	return rbelow(r, 65536);
}

static uint8_t tcp_flags_for(struct rng *r, int role)
{
	static const uint8_t with_ack[] = { 0x10, 0x12, 0x18, 0x11, 0x14 };
	static const uint8_t without[] = { 0x02, 0x00, 0x04, 0x01, 0x08, 0x03 };

	if (rchance(r, 10))
		return (uint8_t)rbelow(r, 256);
	if (rchance(r, role == TG_ROLE_REPLY ? 80 : 40))
		return with_ack[rbelow(r, sizeof(with_ack))];
	return without[rbelow(r, sizeof(without))];
}

static size_t ext_bytes(uint8_t type)
{
	return type == IPPROTO_AH ? 12 : 8;
}

/*
 * Lengthens the extension headers pktbuild wrote (hdr ext len 0, AH 1) in
 * place, padding with zero option bytes and fixing the payload length. Huge:
 * every header by 1-2 KB, so that later headers and the L4 header lie past
 * the first ~3.5 KB (the linear part BPF_PROG_TEST_RUN gives an XDP program;
 * the rest goes into fragments).
 */
static size_t grow_extensions(struct rng *r, const struct pb_packet *p, uint8_t *buf, size_t len, size_t cap, size_t l3,
			      size_t *l4, bool huge)
{
	size_t at = l3 + 40, grown = 0;

	for (int i = 0; i < p->next; i++) {
		uint8_t t = p->ext[i];
		size_t size = t == IPPROTO_FRAGMENT ? 8 :
			      t == IPPROTO_AH	    ? ((size_t)buf[at + 1] + 2) * 4 :
						      ((size_t)buf[at + 1] + 1) * 8;
		unsigned units, room;

		if (t == IPPROTO_FRAGMENT || (!huge && !rchance(r, 50))) {
			at += size;
			continue;
		}
		/* in 8-byte units; AH counts 4-byte words */
		room = t == IPPROTO_AH ? (255u - buf[at + 1]) / 2 : 255u - buf[at + 1];
		units = huge ? rrange(r, 128, 255) : rrange(r, 1, 4);
		if (units > room)
			units = room;
		if (len + 8 * units > cap || !units) {
			at += size;
			continue;
		}
		memmove(buf + at + size + 8 * units, buf + at + size, len - (at + size));
		memset(buf + at + size, 0, 8 * units);
		buf[at + 1] = (uint8_t)(buf[at + 1] + (t == IPPROTO_AH ? 2 * units : units));
		len += 8 * units;
		grown += 8 * units;
		at += size + 8 * units;
	}
	if (grown) {
		unsigned plen = (unsigned)(buf[l3 + 4] << 8 | buf[l3 + 5]) + (unsigned)grown;

		buf[l3 + 4] = (uint8_t)(plen >> 8);
		buf[l3 + 5] = (uint8_t)plen;
		*l4 += grown;
	}
	return len;
}

/* Builds one frame into buf; returns its length (at least 14). */
static size_t make_packet(struct rng *r, const struct pctx *c, int facing, uint8_t *buf, size_t cap)
{
	static const uint8_t ext_types[] = { IPPROTO_HOPOPTS, IPPROTO_ROUTING, IPPROTO_DSTOPTS,
					     IPPROTO_AH,      IPPROTO_HOPOPTS, IPPROTO_ROUTING,
					     IPPROTO_DSTOPTS, IPPROTO_AH,      IPPROTO_FRAGMENT };
	static const uint16_t non_ip[] = { 0x0806, 0x88cc, 0x8847, 0x88b5, 0x0000, 0x05dc, 0x8100, 0x88a8, 0x9100 };
	const struct tg_policy *pol = c->pol;
	const struct tg_service *svc = NULL;
	struct pb_packet p = { 0 };
	struct gprefix where;
	uint8_t remote[16], local[16];
	int role;
	unsigned port, other;
	size_t len, l3, l4, exts = 0;

	if (pol->nservices && rchance(r, 65)) {
		size_t s = rbelow(r, (unsigned)pol->nservices);

		svc = &pol->services[s];
		role = tg_service_role(svc->direction, facing);
		if (rchance(r, 12))
			role = !role;
		if (c->svc_addrs[s].n && rchance(r, 92))
			where = c->svc_addrs[s].items[rbelow(r, (unsigned)c->svc_addrs[s].n)];
		else if (c->all.n)
			where = c->all.items[rbelow(r, (unsigned)c->all.n)];
		else
			where = (struct gprefix){ .v6 = rchance(r, 50) };
	} else {
		role = (int)rbelow(r, 2);
		if (c->all.n && rchance(r, 65)) {
			where = c->all.items[rbelow(r, (unsigned)c->all.n)];
		} else {
			where.v6 = rchance(r, 45);
			anchor_address(r, where.v6, where.addr);
			where.len = where.v6 ? 128 : 32;
		}
	}
	address_from(r, &where, remote);
	p.family = where.v6 ? 6 : 4;

	/* protocol: the target service's, or any */
	if (svc && rchance(r, 88)) {
		if (svc->protos & TG_P_ANY) {
			p.protocol = random_protocol(r, where.v6);
		} else if (svc->protos & TG_P_NUMBER) {
			p.protocol = svc->proto_number;
		} else if (svc->protos & TG_P_ICMP) {
			p.protocol = IPPROTO_ICMP;
		} else if (svc->protos & TG_P_ICMPV6) {
			p.protocol = IPPROTO_ICMPV6;
		} else {
			static const uint8_t numbers[] = { IPPROTO_TCP, IPPROTO_UDP, IPPROTO_SCTP };
			unsigned b;

			do
				b = rbelow(r, 3);
			while (!(svc->protos & (1u << b)));
			p.protocol = numbers[b];
		}
	} else {
		p.protocol = random_protocol(r, where.v6);
	}

	port = port_for(r, c, svc);
	other = rchance(r, 50) ? rrange(r, 1024, 65535) : port_for(r, c, NULL);
	p.sport = (uint16_t)(role == TG_ROLE_REQUEST ? other : port);
	p.dport = (uint16_t)(role == TG_ROLE_REQUEST ? port : other);
	p.tcp_flags = tcp_flags_for(r, role);
	p.icmp_type = icmp_type_for(r, svc, where.v6, role);
	p.icmp_code = (uint8_t)(rchance(r, 80) ? 0 : rbelow(r, 256));

	/* the local side: anything, even a policy address (it is never examined) */
	if (c->all.n && rchance(r, 20)) {
		const struct gprefix *q = &c->all.items[rbelow(r, (unsigned)c->all.n)];

		if (q->v6 == where.v6)
			address_from(r, q, local);
		else
			anchor_address(r, where.v6, local);
	} else {
		anchor_address(r, where.v6, local);
	}
	if ((facing == TG_FACING_OUTSIDE) != rchance(r, 4)) {
		memcpy(p.src, remote, 16);
		memcpy(p.dst, local, 16);
	} else {
		memcpy(p.src, local, 16);
		memcpy(p.dst, remote, 16);
	}

	/* the frame around it */
	if (rchance(r, 25)) {
		unsigned k = rbelow(r, 100);

		p.vlan_tags = k < 50 ? 1 : k < 85 ? 2 : 3;
		p.outer_tpid = rchance(r, 30) ? 0x88a8 : 0x8100;
	}
	if (p.family == 4 && rchance(r, 20))
		p.ipv4_options = 4 * rrange(r, 1, 10);
	if (p.family == 6 && rchance(r, 30)) {
		p.next = (int)rrange(r, 1, 9);
		for (int i = 0; i < p.next; i++)
			p.ext[i] = ext_types[rbelow(r, rchance(r, 5) ? sizeof(ext_types) : sizeof(ext_types) - 1)];
		p.frag_offset = (uint16_t)(rchance(r, 50) ? 0 : rrange(r, 1, 8191));
	}
	if (rchance(r, 14)) {
		p.fragment = true;
		p.frag_offset = (uint16_t)(rchance(r, 45) ? 0 : rchance(r, 50) ? 1 : rrange(r, 1, 8191));
		p.more_fragments = p.frag_offset == 0 || rchance(r, 50);
	}
	p.payload = rchance(r, 1) ? rrange(r, 3000, 9000) : rchance(r, 40) ? 0 : rbelow(r, 64);
	if (rchance(r, 6)) {
		unsigned k = rbelow(r, 10);

		if (k < 6)
			p.ethertype = non_ip[rbelow(r, sizeof(non_ip) / sizeof(non_ip[0]))];
		else if (k < 8)
			p.ethertype = p.family == 4 ? 0x86dd : 0x0800; /* the other family's body */
		else
			p.ethertype = (uint16_t)rbelow(r, 65536);
	}
	len = pb_build(&p, buf, cap);
	if (!len)
		abort();

	l3 = 14 + 4 * (size_t)p.vlan_tags;
	if (p.family == 6) {
		for (int i = 0; i < p.next; i++)
			exts += ext_bytes(p.ext[i]);
		if (p.fragment)
			exts += 8;
		l4 = l3 + 40 + exts;
	} else {
		l4 = l3 + 20 + p.ipv4_options;
	}
	/* longer extension headers than pktbuild writes; now and then 2 KB each */
	if (p.family == 6 && p.next && !p.ethertype && rchance(r, 30))
		len = grow_extensions(r, &p, buf, len, cap, l3, &l4, rchance(r, c->huge_ext_pct));

	/* mutations */
	if (rchance(r, 6) && l4 + 14 <= len) {
		switch (rbelow(r, 8)) {
		case 0: /* IHL, or the version */
			buf[l3] = (uint8_t)(rchance(r, 70) ? (buf[l3] & 0xf0) | rbelow(r, 16) :
							     (rbelow(r, 16) << 4) | (buf[l3] & 0xf));
			break;
		case 1: /* IPv4 total length / IPv6 payload length */
		case 2: {
			size_t at = l3 + (p.family == 4 ? 2 : 4);
			unsigned v = (unsigned)(buf[at] << 8 | buf[at + 1]);

			v = rchance(r, 60) ? v + rrange(r, 0, 16) - 8 : rbelow(r, 65536);
			buf[at] = (uint8_t)(v >> 8);
			buf[at + 1] = (uint8_t)v;
			break;
		}
		case 3: /* protocol or next header */
			buf[l3 + (p.family == 4 ? 9 : 6)] = rchance(r, 50) ? ext_types[rbelow(r, sizeof(ext_types))] :
									     (uint8_t)rbelow(r, 256);
			break;
		case 4: /* TCP data offset */
			buf[l4 + 12] = (uint8_t)(rbelow(r, 16) << 4);
			break;
		case 5: /* fragment field */
			if (p.family == 4) {
				buf[l3 + 6] = (uint8_t)rbelow(r, 256);
				buf[l3 + 7] = (uint8_t)rbelow(r, 256);
			} else {
				buf[l3 + 40 + 1] = (uint8_t)rbelow(r, 256); /* first extension's length */
			}
			break;
		default: /* an ethertype or VLAN tag */
			buf[12 + rbelow(r, (unsigned)(l3 - 12))] = (uint8_t)rbelow(r, 256);
			break;
		}
	}
	if (rchance(r, 7)) {
		size_t top = l4 + 24 < len ? l4 + 24 : len;

		for (unsigned n = rrange(r, 1, 3); n > 0; n--)
			buf[rrange(r, 12, (unsigned)top - 1)] = (uint8_t)rbelow(r, 256);
	}
	if (rchance(r, 4)) { /* Ethernet padding after the IP packet */
		size_t pad = rrange(r, 1, 40);

		if (len + pad <= cap) {
			for (size_t i = 0; i < pad; i++)
				buf[len + i] = (uint8_t)rbelow(r, 256);
			len += pad;
		}
	}
	if (rchance(r, 8) && len > 14)
		len = rrange(r, 14, (unsigned)len - 1);
	return len;
}

/* ---------------------------------------------------------------- running */

static void print_decision(FILE *f, const char *who, const struct tg_policy *pol, int verdict, int reason, long service,
			   int role)
{
	fprintf(f, "  %-9s verdict=%s reason=%s service=", who,
		verdict == TG_PASS ? "pass" :
		verdict == TG_DROP ? "drop" :
				     "?",
		tg_reason_name(reason));
	if (service < 0)
		fprintf(f, "none\n");
	else
		fprintf(f, "%ld (%s) role=%s\n", service,
			(size_t)service < pol->nservices ? pol->services[service].name : "out of range",
			tg_role_name(role));
}

/* Like hexdump -C without the text: 32 bytes a line, equal lines as '*'. */
static void print_hex(FILE *f, const uint8_t *frame, size_t len)
{
	bool starred = false;

	for (size_t i = 0; i < len; i += 32) {
		size_t n = len - i < 32 ? len - i : 32;

		if (i && n == 32 && !memcmp(frame + i, frame + i - 32, 32)) {
			if (!starred)
				fprintf(f, "    *\n");
			starred = true;
			continue;
		}
		starred = false;
		fprintf(f, "    %04zx ", i);
		for (size_t k = 0; k < n; k++)
			fprintf(f, "%s%02x", k % 4 ? "" : " ", frame[i + k]);
		fprintf(f, "\n");
	}
}

struct policy_case {
	unsigned index;
	uint64_t seed;
	const char *text;
	struct gen *gen;
	const struct tg_policy *pol;
	unsigned mismatches;
	unsigned packets; /* XDP frames compared, both facings */
};

static void report_mismatch(struct policy_case *pc, int facing, unsigned n, const char *what, const uint8_t *frame,
			    size_t len, const struct tg_decision *want, int verdict, const struct tg_trace *t)
{
	FILE *f = stderr;
	char desc[64];

	if (pc->mismatches++ >= MAX_SHOWN)
		return;
	fprintf(f,
		"\nerror: differential mismatch: TG_DIFF_SEED=%llu TG_DIFF_ONLY=policy_%03u, facing %s, packet %u%s%s\n",
		(unsigned long long)g_seed, pc->index, facing == TG_FACING_OUTSIDE ? "outside" : "inside", n,
		what ? ", in " : "", what ? what : "");
	if (pc->mismatches == 1) {
		fprintf(f, "--- policy ---\n%s--- end of policy ---\n", pc->text);
		for (unsigned i = 0; i < pc->gen->nhostspecs; i++)
			fprintf(f, "--host %s\n", pc->gen->hostspecs[i].p);
	}
	fprintf(f, "  frame, %zu bytes:\n", len);
	print_hex(f, frame, len);
	snprintf(desc, sizeof(desc), "reference");
	print_decision(f, desc, pc->pol, want->verdict, want->reason, want->service, want->role);
	print_decision(f, "xdp", pc->pol, verdict, t->reason, t->service == TG_NO_SERVICE ? -1 : (long)t->service,
		       t->role);
	if (t->verdict != verdict)
		fprintf(f, "  (xdp trace says verdict %u, the program returned %s)\n", t->verdict,
			verdict == TG_PASS ? "XDP_PASS" : "XDP_DROP");
}

static bool g_trace; /* TG_DIFF_TRACE=1: every packet of every sequence, and the live flows after it */

static void count(const struct tg_decision *want)
{
	g_stats.packets++;
	g_stats.reasons[want->reason]++;
	g_stats.verdict[want->verdict]++;
	if (want->service >= 0) {
		g_stats.roles[want->role]++;
		g_stats.word[want->service / 64]++;
	}
}

/* One facing's program, the reference beside it, and their shared clock. */
struct runner {
	struct policy_case *pc;
	const struct tg_hostmap *hosts;
	const struct pctx *c;
	int facing;
	struct tg_dataplane dp;
	struct tg_flow_model flows;
	uint64_t now_ns;
	unsigned n; /* XDP frames so far, for messages */
	const char *what;
	char **why;
};

static int set_clock(struct runner *u, uint64_t now_ns)
{
	int err = tg_dataplane_set_clock(&u->dp, now_ns);

	u->now_ns = now_ns;
	tg_flow_model_set_clock(&u->flows, now_ns);
	if (err && asprintf(u->why, "tg_dataplane_set_clock: %s", strerror(-err)) < 0)
		*u->why = NULL;
	return err;
}

static void trace_step(struct runner *u, const char *hook, const uint8_t *frame, size_t len,
		       const struct tg_decision *want, int verdict, const struct tg_trace *t)
{
	struct tg_flow_summary sum = { 0 };

	tg_dataplane_flows(&u->dp, u->now_ns, &sum);
	fprintf(stderr, "trace %s t=%.3f %s packet %u: model flows local %zu remote %zu, program %llu %llu\n", u->what,
		(double)u->now_ns / 1e9, hook, u->n, tg_flow_model_live(&u->flows, TG_OPENED_LOCAL),
		tg_flow_model_live(&u->flows, TG_OPENED_REMOTE), (unsigned long long)sum.live[TG_OPENED_LOCAL],
		(unsigned long long)sum.live[TG_OPENED_REMOTE]);
	print_hex(stderr, frame, len);
	if (want) {
		print_decision(stderr, "reference", u->pc->pol, want->verdict, want->reason, want->service, want->role);
		print_decision(stderr, "xdp", u->pc->pol, verdict, t->reason,
			       t->service == TG_NO_SERVICE ? -1 : (long)t->service, t->role);
	}
}

/* An arriving frame through both sides; a mismatch is reported, not returned. */
static int run_xdp(struct runner *u, const uint8_t *frame, size_t len)
{
	struct tg_trace t = { .service = TG_NO_SERVICE, .reason = 0xff, .verdict = 0xff };
	struct tg_decision want;
	struct tg_pkt pkt;
	int verdict = -1, err;

	tg_pkt_parse(frame, len, &pkt);
	tg_reference_arrive(u->pc->pol, u->hosts, u->facing, &u->flows, &pkt, &want);
	err = tg_dataplane_run(&u->dp, frame, len, &verdict, &t);
	if (err) {
		if (asprintf(u->why, "tg_dataplane_run of a %zu-byte frame: %s", len, strerror(-err)) < 0)
			*u->why = NULL;
		return err;
	}
	count(&want);
	u->pc->packets++;
	if (g_trace && u->what)
		trace_step(u, "xdp", frame, len, &want, verdict, &t);
	if (!tg_decisions_agree(&want, verdict, &t))
		report_mismatch(u->pc, u->facing, u->n, u->what, frame, len, &want, verdict, &t);
	u->n++;
	return 0;
}

/* A leaving frame: the egress classifier and the reference record flows. */
static int run_egress(struct runner *u, const uint8_t *frame, size_t len)
{
	struct tg_pkt pkt;
	int err = tg_dataplane_run_egress(&u->dp, frame, len);

	if (err) {
		if (asprintf(u->why, "tg_dataplane_run_egress of a %zu-byte frame: %s", len, strerror(-err)) < 0)
			*u->why = NULL;
		return err;
	}
	tg_pkt_parse(frame, len, &pkt);
	tg_reference_egress(u->pc->pol, u->hosts, u->facing, &u->flows, &pkt);
	if (g_trace && u->what)
		trace_step(u, "egress", frame, len, NULL, 0, NULL);
	return 0;
}

/* ------------------------------------------------------------ sequences */

/* Both ends of a conversation; the client sends requests. */
struct tuple {
	bool v6;
	uint8_t remote[16], local[16];
	uint8_t protocol;
	uint16_t client_port, server_port, id;
	bool remote_is_client;
	const struct tg_service *svc;
};

static uint8_t protocol_for(struct rng *r, const struct tg_service *svc, bool v6)
{
	static const uint8_t common[] = { IPPROTO_TCP, IPPROTO_UDP, IPPROTO_SCTP, 47 };

	if (svc && rchance(r, 90)) {
		if (svc->protos & TG_P_NUMBER)
			return svc->proto_number;
		if (svc->protos & TG_P_ICMP)
			return IPPROTO_ICMP;
		if (svc->protos & TG_P_ICMPV6)
			return IPPROTO_ICMPV6;
		if (svc->protos & TG_P_TCP && rchance(r, 60))
			return IPPROTO_TCP;
		if (svc->protos & TG_P_UDP && rchance(r, 70))
			return IPPROTO_UDP;
		if (svc->protos & TG_P_SCTP)
			return IPPROTO_SCTP;
	}
	if (rchance(r, 25))
		return v6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP;
	return common[rbelow(r, sizeof(common))];
}

static void new_tuple(struct rng *r, const struct pctx *c, struct tuple *t)
{
	const struct tg_policy *pol = c->pol;
	struct gprefix where;
	size_t s;

	memset(t, 0, sizeof(*t));
	if (pol->nservices && rchance(r, 85)) {
		s = rbelow(r, (unsigned)pol->nservices);
		t->svc = &pol->services[s];
		if (c->svc_addrs[s].n && rchance(r, 90))
			where = c->svc_addrs[s].items[rbelow(r, (unsigned)c->svc_addrs[s].n)];
		else if (c->all.n)
			where = c->all.items[rbelow(r, (unsigned)c->all.n)];
		else
			where = (struct gprefix){ .v6 = rchance(r, 50), .len = 0 };
	} else if (c->all.n && rchance(r, 70)) {
		where = c->all.items[rbelow(r, (unsigned)c->all.n)];
	} else {
		where.v6 = rchance(r, 40);
		anchor_address(r, where.v6, where.addr);
		where.len = where.v6 ? 128 : 32;
	}
	t->v6 = where.v6;
	address_from(r, &where, t->remote);
	anchor_address(r, t->v6, t->local);
	t->protocol = protocol_for(r, t->svc, t->v6);
	t->server_port = (uint16_t)port_for(r, c, t->svc);
	t->client_port = (uint16_t)rrange(r, 1024, 65535);
	t->id = (uint16_t)(rchance(r, 10) ? 0 : rbelow(r, 65536));
	t->remote_is_client = t->svc ? t->svc->direction == TG_DIR_IN : rchance(r, 50);
	if (rchance(r, 12))
		t->remote_is_client = !t->remote_is_client;
}

static bool own_icmp(const struct tuple *t)
{
	return t->protocol == (t->v6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP);
}

/* A request's ICMP type (mostly a query) and the reply's. */
static uint8_t query_type(struct rng *r, const struct tuple *t, bool reply)
{
	static const uint8_t v4[] = { 8, 8, 8, 13, 15, 17 };
	uint8_t q = t->v6 ? 128 : v4[rbelow(r, sizeof(v4))];
	int rt;

	if (rchance(r, 15))
		return icmp_type_for(r, t->svc, t->v6, reply ? TG_ROLE_REPLY : TG_ROLE_REQUEST);
	rt = tg_icmp_reply_type(t->v6, q);
	return reply && rt >= 0 ? (uint8_t)rt : q;
}

static uint8_t seq_flags(struct rng *r, bool reply)
{
	static const uint8_t req[] = { 0x02, 0x02, 0x02, 0x10, 0x18, 0x11, 0x04, 0x14, 0x12, 0x03 };
	static const uint8_t rep[] = { 0x12, 0x12, 0x10, 0x18, 0x11, 0x14, 0x04, 0x02, 0x19 };

	if (rchance(r, 4))
		return (uint8_t)rbelow(r, 256);
	return reply ? rep[rbelow(r, sizeof(rep))] : req[rbelow(r, sizeof(req))];
}

/* One packet of the tuple, from the client or the server. */
static size_t tuple_frame(struct rng *r, const struct tuple *t, bool from_client, uint8_t flags, uint8_t type,
			  uint16_t id, uint16_t client_port, size_t payload, uint8_t *buf, size_t cap)
{
	struct pb_packet p = { 0 };
	const uint8_t *client = t->remote_is_client ? t->remote : t->local;
	const uint8_t *server = t->remote_is_client ? t->local : t->remote;
	size_t len;

	(void)r;
	p.family = t->v6 ? 6 : 4;
	p.protocol = t->protocol;
	memcpy(p.src, from_client ? client : server, 16);
	memcpy(p.dst, from_client ? server : client, 16);
	p.sport = from_client ? client_port : t->server_port;
	p.dport = from_client ? t->server_port : client_port;
	p.tcp_flags = flags;
	p.icmp_type = type;
	p.payload = payload;
	len = pb_build(&p, buf, cap);
	if (!len)
		abort();
	if (own_icmp(t)) { /* the identifier */
		size_t l4 = 14 + (t->v6 ? 40 : 20);

		buf[l4 + 4] = (uint8_t)(id >> 8);
		buf[l4 + 5] = (uint8_t)id;
	}
	return len;
}

/* Whether a packet with this sender arrives at XDP (else it leaves). */
static bool arrives(const struct runner *u, const struct tuple *t, bool from_client)
{
	bool from_remote = from_client == t->remote_is_client;

	return from_remote == (u->facing == TG_FACING_OUTSIDE);
}

static int send_tuple(struct runner *u, const struct tuple *t, bool from_client, const uint8_t *frame, size_t len)
{
	if (arrives(u, t, from_client)) {
		g_stats.seq_xdp++;
		return run_xdp(u, frame, len);
	}
	g_stats.seq_egress++;
	return run_egress(u, frame, len);
}

/*
 * An ICMP error arriving at XDP that quotes the packet its receiver sent
 * on the tuple (or, now and then, one with other ports: no flow).
 */
static int send_error(struct runner *u, struct rng *r, const struct tuple *t)
{
	static uint8_t quoted[256], frame[512];
	static const uint8_t v4[] = { 3, 3, 11, 12 };
	/* the error goes where arrivals go: to the local end (outside) or to the remote (inside) */
	bool to_local = u->facing == TG_FACING_OUTSIDE;
	bool quoted_from_client = to_local != t->remote_is_client;
	uint16_t cport = rchance(r, 25) ? (uint16_t)rrange(r, 1024, 65535) : t->client_port;
	uint16_t id = rchance(r, 20) ? (uint16_t)rbelow(r, 65536) : t->id;
	uint8_t type = own_icmp(t) ? query_type(r, t, !quoted_from_client) : 0;
	size_t qlen = (memset(quoted, 0, sizeof(quoted)), 0);

	qlen = tuple_frame(r, t, quoted_from_client, seq_flags(r, !quoted_from_client), type, id, cport, 0, quoted,
			   sizeof(quoted));
	size_t ip = t->v6 ? 40 : 20, keep, len;
	struct pb_packet p = { 0 };
	const uint8_t *receiver = to_local ? t->local : t->remote;

	/* what an error quotes: the IP header and 8 bytes at least */
	keep = ip + (rchance(r, 50) ? 8 : qlen - 14 - ip);
	if (rchance(r, 5))
		keep = rbelow(r, (unsigned)(qlen - 14));
	p.family = t->v6 ? 6 : 4;
	p.protocol = t->v6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP;
	p.icmp_type = t->v6 ? (uint8_t)rrange(r, 1, 4) : v4[rbelow(r, sizeof(v4))];
	p.icmp_code = (uint8_t)rbelow(r, 5);
	/* from the far end, or from a router on the way */
	if (rchance(r, 60))
		memcpy(p.src, to_local ? t->remote : t->local, 16);
	else if (u->c->all.n && rchance(r, 50) && u->c->all.items[0].v6 == t->v6)
		address_from(r, &u->c->all.items[0], p.src);
	else
		anchor_address(r, t->v6, p.src);
	memcpy(p.dst, receiver, 16);
	p.payload = keep;
	len = pb_build(&p, frame, sizeof(frame));
	if (!len)
		abort();
	memcpy(frame + 14 + ip + 8, quoted + 14, keep);
	g_stats.quoted_errors++;
	return run_xdp(u, frame, len);
}

static uint64_t random_step_ns(struct rng *r)
{
	unsigned k = rbelow(r, 100);

	if (k < 60)
		return (uint64_t)rbelow(r, 1000) * 1000000ull; /* under a second */
	g_stats.clock_jumps++;
	if (k < 85)
		return (uint64_t)rrange(r, 1, 45) * 1000000000ull; /* whole seconds: expiry edges */
	if (k < 97)
		return (uint64_t)rrange(r, 46, 700) * 1000000000ull;
	return (uint64_t)rrange(r, 1, 7) * 86400ull * 1000000000ull; /* past tcp-established-timeout */
}

static int run_sequence(struct runner *u, struct rng *r, unsigned index)
{
	static uint8_t frame[FRAME_CAP];
	struct tuple tuples[4];
	unsigned ntuples = rrange(r, 1, 4), steps = rrange(r, 6, 30);
	char what[64];
	int err = 0;

	snprintf(what, sizeof(what), "sequence %u", index);
	u->what = what;
	for (unsigned i = 0; i < ntuples; i++)
		new_tuple(r, u->c, &tuples[i]);
	g_stats.sequences++;
	for (unsigned step = 0; !err && step < steps; step++) {
		const struct tuple *t = &tuples[rbelow(r, ntuples)];
		unsigned k = rbelow(r, 100);
		size_t payload = rchance(r, 60) ? 0 : rbelow(r, 40), len;

		if (rchance(r, 30))
			err = set_clock(u, u->now_ns + random_step_ns(r));
		if (err)
			break;
		if (k < 38) { /* a request */
			len = tuple_frame(r, t, true, seq_flags(r, false), own_icmp(t) ? query_type(r, t, false) : 0,
					  t->id, t->client_port, payload, frame, sizeof(frame));
			err = send_tuple(u, t, true, frame, len);
		} else if (k < 72) { /* a reply */
			len = tuple_frame(r, t, false, seq_flags(r, true), own_icmp(t) ? query_type(r, t, true) : 0,
					  t->id, t->client_port, payload, frame, sizeof(frame));
			err = send_tuple(u, t, false, frame, len);
		} else if (k < 82) { /* a spoofed reply: another port or identifier, no flow */
			uint16_t port = (uint16_t)rrange(r, 1, 65535), id = (uint16_t)rbelow(r, 65536);

			len = tuple_frame(r, t, false, seq_flags(r, true), own_icmp(t) ? query_type(r, t, true) : 0, id,
					  port, payload, frame, sizeof(frame));
			err = send_tuple(u, t, false, frame, len);
		} else if (k < 92) {
			err = send_error(u, r, t);
		} else { /* anything else, arriving */
			len = make_packet(r, u->c, u->facing, frame, sizeof(frame));
			err = run_xdp(u, frame, len);
		}
	}
	u->what = NULL;
	return err;
}

/* Whether the run met the lookup's used-block filter (include/tollgate.h):
 * the loader builds the same lookup from the same image. A big set's IPv6
 * half gets one when the policy's other prefixes leave most of the space
 * to one class (0 to 4 facings a run, by seed); the IPv4 halves, anchored
 * in a few ranges, stay under the size that calls for one. dp_features'
 * large feed covers both families every run. */
static void count_filters(const struct tg_image *img)
{
	struct tg_lookup lk;

	if (tg_lookup_build(img, &lk))
		return;
	for (int f = 0; f < 2; f++)
		g_stats.filtered[f] += lk.info.filter_bits[f] != 0;
	tg_lookup_free(&lk);
}

/* Runs one facing; returns 0, or a negative errno when the data plane fails. */
static int run_facing(struct policy_case *pc, const struct tg_hostmap *hosts, int facing, struct rng *r, char **why)
{
	static uint8_t frame[FRAME_CAP];
	struct tg_image img;
	struct tg_load_opts opts = { .trace = true, .clock_from_map = true };
	struct pctx c;
	struct runner u = { .pc = pc, .hosts = hosts, .c = &c, .facing = facing, .why = why };
	int err;

	err = tg_compile(pc->pol, facing, hosts, &img);
	if (err) {
		*why = strdup("tg_compile failed");
		return err;
	}
	count_filters(&img);
	err = tg_dataplane_load(&u.dp, &img, &opts);
	if (err) {
		if (asprintf(why, "tg_dataplane_load: %s\n%s", strerror(-err), opts.log ? opts.log : "") < 0)
			*why = NULL;
		free(opts.log);
		tg_image_free(&img);
		return err;
	}
	tg_flow_model_init(&u.flows);
	pctx_init(&c, pc->pol, hosts);
	c.huge_ext_pct = pc->index % HUGE_EVERY == HUGE_AT ? g_huge_ext_pct : 0;
	if (pc->pol->setting[TG_SET_REPLIES] == TG_REPLIES_TRACKED)
		g_stats.tracked_runs++;
	err = set_clock(&u, 1000000000ull);
	for (unsigned n = 0; !err && n < g_npackets; n++) {
		size_t len = make_packet(r, &c, facing, frame, sizeof(frame));

		err = run_xdp(&u, frame, len);
	}
	for (unsigned n = 0; !err && n < g_nsequences; n++)
		err = run_sequence(&u, r, n);
	pctx_free(&c);
	tg_flow_model_free(&u.flows);
	tg_dataplane_destroy(&u.dp);
	tg_image_free(&img);
	return err;
}

static uint64_t policy_seed(unsigned index)
{
	struct rng r = { g_seed ^ (0xd1b54a32d192ed03ull * (index + 1)) };

	return rnext(&r);
}

static unsigned services_for(struct rng *r, unsigned index)
{
	if (index % BIG_EVERY == BIG_EVERY - 1)
		return index == BIG_EVERY - 1 ? TG_MAX_SERVICES : rrange(r, 240, TG_MAX_SERVICES);
	if (rchance(r, 30))
		return rrange(r, 1, 5);
	return rrange(r, 1, 40);
}

static void test_policy(void **state)
{
	unsigned index = (unsigned)(uintptr_t)*state;
	struct policy_case pc = { .index = index, .seed = policy_seed(index) };
	struct rng r = { pc.seed };
	struct gen g = { .r = &r };
	struct tg_hostmap hosts = { 0 };
	struct tg_policy pol;
	struct tg_diags diags;
	unsigned nservices;
	char *why = NULL;
	int err = 0;

	nservices = services_for(&r, index);
	g.big = nservices > 200;
	g.with_chain = index % CHAIN_EVERY == CHAIN_AT;
	g.with_big_set = index % SET_EVERY == SET_AT;
	gen_policy(&g, nservices);
	for (unsigned i = 0; i < g.nhostspecs; i++)
		if (tg_hostmap_add_spec(&hosts, g.hostspecs[i].p))
			err = -EINVAL;
	tg_diags_init(&diags, NULL);
	if (!err)
		err = tg_policy_parse_buffer(&pol, &diags, "random.policy", g.text.p, g.text.n);
	tg_diags_free(&diags);
	if (err) {
		/* a generator (or parser) bug: show what the parser says */
		fprintf(stderr, "error: generated policy %u (TG_DIFF_SEED=%llu) does not parse:\n%s\n", index,
			(unsigned long long)g_seed, g.text.p);
		tg_diags_init(&diags, stderr);
		tg_policy_free(&pol);
		tg_policy_parse_buffer(&pol, &diags, "random.policy", g.text.p, g.text.n);
		tg_diags_free(&diags);
		tg_policy_free(&pol);
		tg_hostmap_free(&hosts);
		gen_free(&g);
		fail_msg("generated policy %u does not parse (TG_DIFF_SEED=%llu)", index, (unsigned long long)g_seed);
		return;
	}
	if (pol.nservices != nservices) {
		fprintf(stderr, "error: policy %u: %zu services parsed, %u generated\n", index, pol.nservices,
			nservices);
		err = -EINVAL;
	}
	pc.text = g.text.p;
	pc.gen = &g;
	pc.pol = &pol;
	for (int facing = TG_FACING_OUTSIDE; !err && facing <= TG_FACING_INSIDE; facing++)
		err = run_facing(&pc, &hosts, facing, &r, &why);
	if (g.chain_len)
		g_stats.deep_chains++;
	if (g.big_set_used) {
		g_stats.big_sets++;
		g_stats.big_set_prefixes += pol.nprefixes_v4 + pol.nprefixes_v6;
	}
	if (nservices > g_stats.max_services)
		g_stats.max_services = nservices;
	if (pc.mismatches)
		fprintf(stderr, "error: policy %u: %u mismatches (%u shown); TG_DIFF_SEED=%llu%s%s\n", index,
			pc.mismatches, pc.mismatches < MAX_SHOWN ? pc.mismatches : MAX_SHOWN,
			(unsigned long long)g_seed, g.chain_len ? "; this policy has a chain of nested sets" : "",
			index % HUGE_EVERY == HUGE_AT && g_huge_ext_pct ?
				"; this case sends frames with KB-long extension headers" :
				"");
	else if (!err)
		g_stats.policies_ok++;
	tg_policy_free(&pol);
	tg_hostmap_free(&hosts);
	gen_free(&g);
	if (err) {
		fprintf(stderr, "error: policy %u (TG_DIFF_SEED=%llu): %s\n", index, (unsigned long long)g_seed,
			why ? why : strerror(-err));
		free(why);
		fail_msg("policy %u: the data plane failed: %s", index, strerror(-err));
		return;
	}
	if (pc.mismatches)
		fail_msg("policy %u: %u of %u packets differ between the XDP program and the reference (TG_DIFF_SEED=%llu)",
			 index, pc.mismatches, pc.packets, (unsigned long long)g_seed);
}

static unsigned env_unsigned(const char *name, unsigned dflt)
{
	const char *v = getenv(name);
	char *end;
	unsigned long n;

	if (!v || !*v)
		return dflt;
	n = strtoul(v, &end, 0);
	return *end || n == 0 || n > 100000 ? dflt : (unsigned)n;
}

int main(void)
{
	const char *seed = getenv("TG_DIFF_SEED");
	struct CMUnitTest *tests;
	char(*names)[32];
	int rc;

	if (seed && *seed) {
		g_seed = strtoull(seed, NULL, 0);
	} else {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		g_seed = ((uint64_t)ts.tv_sec * 1000003u) ^ (uint64_t)ts.tv_nsec ^ ((uint64_t)getpid() << 32);
		g_seed %= 1000000000000ull; /* short enough to type */
	}
	g_npolicies = env_unsigned("TG_DIFF_POLICIES", DEFAULT_POLICIES);
	g_set_prefixes = env_unsigned("TG_DIFF_SET_PREFIXES", SET_PREFIXES);
	g_npackets = env_unsigned("TG_DIFF_PACKETS", DEFAULT_PACKETS);
	g_nsequences = env_unsigned("TG_DIFF_SEQUENCES", DEFAULT_SEQUENCES);
	g_trace = getenv("TG_DIFF_TRACE") && atoi(getenv("TG_DIFF_TRACE"));
	g_chain_max = env_unsigned("TG_DIFF_CHAIN_MAX", DEEP_CHAIN_MAX);
	if (g_chain_max < DEEP_CHAIN_MIN)
		g_chain_max = DEEP_CHAIN_MIN;
	g_huge_ext_pct = getenv("TG_DIFF_HUGE_EXT_PCT") ? (unsigned)atoi(getenv("TG_DIFF_HUGE_EXT_PCT")) : HUGE_EXT_PCT;
	if (getenv("TG_DIFF_ONLY") && *getenv("TG_DIFF_ONLY"))
		cmocka_set_test_filter(getenv("TG_DIFF_ONLY"));
	printf("differential: TG_DIFF_SEED=%llu, %u policies x 2 facings x (%u packets + %u sequences)\n",
	       (unsigned long long)g_seed, g_npolicies, g_npackets, g_nsequences);
	fflush(stdout);

	tests = calloc(g_npolicies, sizeof(*tests));
	names = calloc(g_npolicies, sizeof(*names));
	if (!tests || !names)
		return 1;
	for (unsigned i = 0; i < g_npolicies; i++) {
		snprintf(names[i], sizeof(names[i]), "policy_%03u", i);
		tests[i].name = names[i];
		tests[i].test_func = test_policy;
		tests[i].initial_state = (void *)(uintptr_t)i;
	}
	rc = _cmocka_run_group_tests("differential", tests, g_npolicies, NULL, NULL);
	printf("differential: TG_DIFF_SEED=%llu: %lu packets, %lu policies agreed; max %lu services; %lu with deep set chains;"
	       " %lu with a big set (%lu prefixes in all)\n"
	       "  reasons: service %lu, default %lu, malformed %lu, non-ip %lu, essential-icmp %lu, fragment %lu,"
	       " no-flow %lu\n"
	       "  roles: request %lu, reply %lu, fragment %lu; service index 0-63 %lu, 64-127 %lu, 128-191 %lu, 192-255 %lu;"
	       " pass %lu, drop %lu\n",
	       (unsigned long long)g_seed, g_stats.packets, g_stats.policies_ok, g_stats.max_services,
	       g_stats.deep_chains, g_stats.big_sets, g_stats.big_set_prefixes, g_stats.reasons[TG_REASON_SERVICE],
	       g_stats.reasons[TG_REASON_DEFAULT], g_stats.reasons[TG_REASON_MALFORMED],
	       g_stats.reasons[TG_REASON_NON_IP], g_stats.reasons[TG_REASON_ESSENTIAL_ICMP],
	       g_stats.reasons[TG_REASON_FRAGMENT], g_stats.reasons[TG_REASON_NO_FLOW], g_stats.roles[0],
	       g_stats.roles[1], g_stats.roles[2], g_stats.word[0], g_stats.word[1], g_stats.word[2], g_stats.word[3],
	       g_stats.verdict[TG_PASS], g_stats.verdict[TG_DROP]);
	printf("  flows: %lu sequences (%lu of their packets at XDP, %lu through egress, %lu ICMP errors quoting"
	       " them, %lu clock jumps); %lu facings ran with replies tracked\n",
	       g_stats.sequences, g_stats.seq_xdp, g_stats.seq_egress, g_stats.quoted_errors, g_stats.clock_jumps,
	       g_stats.tracked_runs);
	printf("  lookup: a used-block filter in %lu IPv4 and %lu IPv6 facings\n", g_stats.filtered[0],
	       g_stats.filtered[1]);
	free(tests);
	free(names);
	return rc;
}
