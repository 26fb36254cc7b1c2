// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The reference flow model: docs/policy.md, "Flows (`replies tracked`)",
 * as a list and a few if statements. Slow and obvious on purpose; it is the
 * oracle the differential test holds the data plane's flow tables to.
 */
#include "model/flows.h"
#include "lib/util.h"
#include "tollgate.h"

#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

void tg_flow_model_init(struct tg_flow_model *m)
{
	memset(m, 0, sizeof(*m));
}

void tg_flow_model_free(struct tg_flow_model *m)
{
	free(m->items);
	memset(m, 0, sizeof(*m));
}

void tg_flow_model_clear(struct tg_flow_model *m)
{
	m->n = 0;
}

void tg_flow_model_set_clock(struct tg_flow_model *m, uint64_t now_ns)
{
	m->now_ns = now_ns;
}

static bool live(const struct tg_flow_model *m, const struct tg_model_flow *f)
{
	return m->now_ns < f->expires_ns;
}

size_t tg_flow_model_live(const struct tg_flow_model *m, int opener)
{
	size_t n = 0;

	for (size_t i = 0; i < m->n; i++)
		if (live(m, &m->items[i]) && (opener < 0 || m->items[i].opener == opener))
			n++;
	return n;
}

static bool is_own_icmp(int family, uint8_t protocol)
{
	return family == TG_FAMILY_V4 ? protocol == IPPROTO_ICMP : protocol == IPPROTO_ICMPV6;
}

/* ICMP echo and the other query types, requests and replies. */
static bool is_query(int family, uint8_t type)
{
	if (family == TG_FAMILY_V6)
		return type == 128 || type == 129;
	return type == 8 || type == 0 || (type >= 13 && type <= 18);
}

static bool has_ports(uint8_t protocol)
{
	return protocol == IPPROTO_TCP || protocol == IPPROTO_UDP || protocol == IPPROTO_SCTP;
}

/* The key of a packet from src to dst; sent by the remote or the local end. */
static bool make_key(int family, uint8_t protocol, const uint8_t *src, const uint8_t *dst, uint16_t sport,
		     uint16_t dport, uint8_t icmp_type, uint16_t icmp_id, bool from_remote, struct tg_model_flow *k)
{
	size_t alen = family == TG_FAMILY_V6 ? 16 : 4;

	memset(k, 0, sizeof(*k));
	k->family = family;
	k->protocol = protocol;
	memcpy(k->remote, from_remote ? src : dst, alen);
	memcpy(k->local, from_remote ? dst : src, alen);
	if (has_ports(protocol)) {
		k->remote_port = from_remote ? sport : dport;
		k->local_port = from_remote ? dport : sport;
	} else if (is_own_icmp(family, protocol)) {
		if (!is_query(family, icmp_type))
			return false; /* errors and discovery belong to no flow */
		k->local_port = icmp_id;
	}
	return true;
}

bool tg_flow_model_key(const struct tg_pkt *pkt, int facing, struct tg_model_flow *key)
{
	return make_key(pkt->family, pkt->protocol, pkt->src, pkt->dst, pkt->sport, pkt->dport, pkt->icmp_type,
			pkt->icmp_id, facing == TG_FACING_OUTSIDE, key);
}

bool tg_flow_model_quoted_key(const struct tg_pkt *pkt, int facing, struct tg_model_flow *key)
{
	const struct tg_quoted *q = &pkt->quoted;

	if (!pkt->has_quoted)
		return false;
	/* the quoted packet went the other way: its sender is the remote end
	 * when the error's sender is the local one */
	return make_key(pkt->family, q->protocol, q->src, q->dst, q->sport, q->dport, q->icmp_type, q->icmp_id,
			facing != TG_FACING_OUTSIDE, key);
}

static bool same_flow(const struct tg_model_flow *a, const struct tg_model_flow *b)
{
	return a->family == b->family && a->protocol == b->protocol && !memcmp(a->remote, b->remote, 16) &&
	       !memcmp(a->local, b->local, 16) && a->remote_port == b->remote_port && a->local_port == b->local_port;
}

static struct tg_model_flow *find_live(const struct tg_flow_model *m, int opener, const struct tg_model_flow *k)
{
	for (size_t i = 0; i < m->n; i++)
		if (m->items[i].opener == opener && live(m, &m->items[i]) && same_flow(&m->items[i], k))
			return &m->items[i];
	return NULL;
}

bool tg_flow_model_is_live(const struct tg_flow_model *m, const struct tg_model_flow *key)
{
	return find_live(m, TG_OPENED_LOCAL, key) || find_live(m, TG_OPENED_REMOTE, key);
}

/* The timeout that applies to a flow in its state, in seconds. */
static unsigned timeout_of(const struct tg_policy *pol, const struct tg_model_flow *f)
{
	int t;

	if (f->protocol == IPPROTO_TCP) {
		static const int by_state[TG_FLOW_STATES] = {
			[TG_FLOW_NEW] = TG_TIMEOUT_TCP_SYN,
			[TG_FLOW_ESTABLISHED] = TG_TIMEOUT_TCP_ESTABLISHED,
			[TG_FLOW_CLOSING] = TG_TIMEOUT_TCP_CLOSING,
			[TG_FLOW_CLOSED] = TG_TIMEOUT_TCP_CLOSED,
		};
		t = by_state[f->state];
	} else if (f->protocol == IPPROTO_UDP) {
		t = f->state == TG_FLOW_NEW ? TG_TIMEOUT_UDP : TG_TIMEOUT_UDP_STREAM;
	} else if (is_own_icmp(f->family, f->protocol)) {
		t = TG_TIMEOUT_ICMP;
	} else {
		t = TG_TIMEOUT_OTHER; /* SCTP and protocols without ports */
	}
	return (unsigned)pol->setting[TG_SET_TIMEOUT(t)];
}

static void refresh(const struct tg_flow_model *m, const struct tg_policy *pol, struct tg_model_flow *f)
{
	f->expires_ns = m->now_ns + (uint64_t)timeout_of(pol, f) * 1000000000ull;
}

static bool bare_syn(uint8_t flags)
{
	return (flags & (TG_TCP_SYN | TG_TCP_ACK)) == TG_TCP_SYN;
}

/*
 * What a packet of the flow does to its state. TCP: an RST closes; a bare
 * SYN from the opener reopens a closed flow; a FIN (either side) makes it
 * closing; the SYN+ACK answering a new flow establishes it. Everything else
 * is established by its first reply.
 */
static void step(struct tg_model_flow *f, uint8_t flags, bool from_opener)
{
	if (f->protocol != IPPROTO_TCP) {
		if (!from_opener)
			f->state = TG_FLOW_ESTABLISHED;
		return;
	}
	if (flags & TG_TCP_RST)
		f->state = TG_FLOW_CLOSED;
	else if (from_opener && bare_syn(flags) && f->state == TG_FLOW_CLOSED)
		f->state = TG_FLOW_NEW;
	else if (flags & TG_TCP_FIN)
		f->state = f->state == TG_FLOW_CLOSED ? TG_FLOW_CLOSED : TG_FLOW_CLOSING;
	else if (!from_opener && (flags & (TG_TCP_SYN | TG_TCP_ACK)) == (TG_TCP_SYN | TG_TCP_ACK) &&
		 f->state == TG_FLOW_NEW)
		f->state = TG_FLOW_ESTABLISHED;
}

/* The sender of a request opens: the remote on an outside-facing view. */
static int opener_of_request(int facing)
{
	return facing == TG_FACING_OUTSIDE ? TG_OPENED_REMOTE : TG_OPENED_LOCAL;
}

void tg_flow_model_open(struct tg_flow_model *m, const struct tg_policy *pol, const struct tg_pkt *pkt, int facing)
{
	struct tg_model_flow k, *f;

	if (!tg_flow_model_key(pkt, facing, &k))
		return;
	k.opener = opener_of_request(facing);
	f = find_live(m, k.opener, &k);
	if (f) {
		step(f, pkt->tcp_flags, true);
		refresh(m, pol, f);
		return;
	}
	if (pkt->protocol == IPPROTO_TCP && (pkt->tcp_flags & TG_TCP_RST))
		return; /* an RST opens nothing */
	/* a bare SYN opens a new flow; any other TCP request one already
	 * established (a connection older than tollgate) */
	k.state = pkt->protocol == IPPROTO_TCP && !bare_syn(pkt->tcp_flags) ? TG_FLOW_ESTABLISHED : TG_FLOW_NEW;
	step(&k, pkt->tcp_flags, true);
	refresh(m, pol, &k);
	for (size_t i = 0; i < m->n; i++)
		if (!live(m, &m->items[i])) {
			m->items[i] = k; /* reuse a dead entry: the list stays short */
			return;
		}
	if (m->n == m->cap) {
		m->cap = m->cap ? 2 * m->cap : 64;
		m->items = xrealloc(m->items, m->cap * sizeof(*m->items));
	}
	m->items[m->n++] = k;
}

bool tg_flow_model_answer(struct tg_flow_model *m, const struct tg_policy *pol, const struct tg_pkt *pkt, int facing)
{
	struct tg_model_flow k, *f;

	if (!tg_flow_model_key(pkt, facing, &k))
		return false;
	/* a reply goes to the opener: the local side on an outside-facing view */
	f = find_live(m, opener_of_request(!facing), &k);
	if (!f)
		return false;
	step(f, pkt->tcp_flags, false);
	refresh(m, pol, f);
	return true;
}

bool tg_flow_model_reply_is_live(const struct tg_flow_model *m, const struct tg_pkt *pkt, int facing)
{
	struct tg_model_flow k;

	return tg_flow_model_key(pkt, facing, &k) && find_live(m, opener_of_request(!facing), &k);
}
