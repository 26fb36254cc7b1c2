// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "model/classify.h"
#include "lib/util.h"
#include "tollgate.h"

#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

/* ----------------------------------------------------------------- roles */

/*
 * docs/policy.md, "Requests and replies", as a table. The compiler derives
 * the same thing its own way; the model must not borrow it, or a mistake
 * there would agree with itself in the differential test.
 */
static int arriving_role(int direction, int facing)
{
	static const int roles[2][2] = {
		[TG_FACING_OUTSIDE] = { [TG_DIR_IN] = TG_ROLE_REQUEST, [TG_DIR_OUT] = TG_ROLE_REPLY },
		[TG_FACING_INSIDE] = { [TG_DIR_IN] = TG_ROLE_REPLY, [TG_DIR_OUT] = TG_ROLE_REQUEST },
	};

	return roles[facing][direction];
}

/* ----------------------------------------------------------------- peers */

static bool in_prefix(const uint8_t *addr, const uint8_t *net, unsigned prefixlen)
{
	unsigned full = prefixlen / 8, rest = prefixlen % 8;

	if (memcmp(addr, net, full) != 0)
		return false;
	return !rest || ((addr[full] ^ net[full]) & (uint8_t)(0xff00 >> rest)) == 0;
}

/*
 * Whether list holds addr. checked[s] says set s was already looked into for
 * this address and did not hold it (or is being looked into), so each set is
 * walked once however often it is referenced: without it, sets that refer to
 * each other twice over take exponential time.
 */
static bool peers_contain(const struct tg_policy *pol, const struct tg_hostmap *hosts, const struct tg_peer_list *list,
			  int family, const uint8_t *addr, uint8_t *checked)
{
	for (size_t i = 0; i < list->n; i++) {
		const struct tg_peer *p = &list->items[i];

		switch (p->kind) {
		case TG_PEER_ANY:
			return true;
		case TG_PEER_V4:
		case TG_PEER_V6:
			if ((p->kind == TG_PEER_V6) == (family == TG_FAMILY_V6) &&
			    in_prefix(addr, p->addr, p->prefixlen))
				return true;
			break;
		case TG_PEER_SET:
			if (p->set < 0 || checked[p->set])
				break;
			checked[p->set] = 1;
			if (peers_contain(pol, hosts, &pol->sets[p->set].peers, family, addr, checked))
				return true;
			break;
		case TG_PEER_HOST:
			for (size_t h = 0; hosts && h < hosts->n; h++)
				if (!strcmp(hosts->items[h].name, p->name) &&
				    hosts->items[h].v6 == (family == TG_FAMILY_V6) &&
				    !memcmp(hosts->items[h].addr, addr, family == TG_FAMILY_V6 ? 16 : 4))
					return true;
			break;
		}
	}
	return false;
}

/* ------------------------------------------------------------- protocols */

static bool protocol_matches(const struct tg_service *svc, const struct tg_pkt *pkt)
{
	if (svc->protos & TG_P_ANY)
		return true;
	if ((svc->protos & TG_P_NUMBER) && svc->proto_number == pkt->protocol)
		return true;
	switch (pkt->protocol) {
	case IPPROTO_TCP:
		return svc->protos & TG_P_TCP;
	case IPPROTO_UDP:
		return svc->protos & TG_P_UDP;
	case IPPROTO_SCTP:
		return svc->protos & TG_P_SCTP;
	case IPPROTO_ICMP:
		return pkt->family == TG_FAMILY_V4 && (svc->protos & TG_P_ICMP);
	case IPPROTO_ICMPV6:
		return pkt->family == TG_FAMILY_V6 && (svc->protos & TG_P_ICMPV6);
	}
	return false;
}

static bool has_ports(const struct tg_pkt *pkt)
{
	return pkt->protocol == IPPROTO_TCP || pkt->protocol == IPPROTO_UDP || pkt->protocol == IPPROTO_SCTP;
}

static bool is_icmp(const struct tg_pkt *pkt)
{
	return (pkt->family == TG_FAMILY_V4 && pkt->protocol == IPPROTO_ICMP) ||
	       (pkt->family == TG_FAMILY_V6 && pkt->protocol == IPPROTO_ICMPV6);
}

static bool in_ranges(const struct tg_service *svc, unsigned value)
{
	for (size_t i = 0; i < svc->nranges; i++)
		if (svc->ranges[i].lo <= value && value <= svc->ranges[i].hi)
			return true;
	return false;
}

static bool icmp_type_matches(const struct tg_service *svc, const struct tg_pkt *pkt, int role)
{
	if (svc->protos & TG_P_ANY || svc->nranges == 0)
		return true;
	if (role == TG_ROLE_REQUEST)
		return in_ranges(svc, pkt->icmp_type);
	for (size_t i = 0; i < svc->nranges; i++)
		for (unsigned t = svc->ranges[i].lo; t <= svc->ranges[i].hi; t++)
			if (tg_icmp_reply_type(pkt->family == TG_FAMILY_V6, t) == pkt->icmp_type)
				return true;
	return false;
}

/* Whether some ICMP query type gets `type` as its reply. */
static bool is_query_reply(bool v6, unsigned type)
{
	for (unsigned t = 0; t < 256; t++)
		if (tg_icmp_reply_type(v6, t) == (int)type)
			return true;
	return false;
}

/*
 * docs/policy.md, "ICMP": seen the other way round (leaving, or quoted in an
 * error), an ICMP message takes part only as a query (as a request) or a
 * query's reply (as a reply).
 */
static bool icmp_seen_opposite_ok(const struct tg_pkt *pkt, int role)
{
	bool v6 = pkt->family == TG_FAMILY_V6;

	if (role == TG_ROLE_REQUEST)
		return tg_icmp_reply_type(v6, pkt->icmp_type) >= 0;
	return is_query_reply(v6, pkt->icmp_type);
}

static bool l4_matches(const struct tg_service *svc, const struct tg_pkt *pkt, int role, bool opposite)
{
	if (role == TG_ROLE_REPLY && pkt->protocol == IPPROTO_TCP && !(pkt->tcp_flags & TG_TCP_ACK))
		return false;
	if (has_ports(pkt))
		return svc->protos & TG_P_ANY || svc->nranges == 0 ||
		       in_ranges(svc, role == TG_ROLE_REQUEST ? pkt->dport : pkt->sport);
	if (is_icmp(pkt))
		return (!opposite || icmp_seen_opposite_ok(pkt, role)) && icmp_type_matches(svc, pkt, role);
	return true;
}

/* ------------------------------------------------------------------ walk */

static void decide(struct tg_decision *out, int verdict, int reason)
{
	out->verdict = verdict;
	out->reason = reason;
	out->service = -1;
	out->role = -1;
}

static int verdict_of(int setting_action)
{
	return setting_action == TG_ALLOW ? TG_PASS : TG_DROP;
}

static void decide_service(const struct tg_policy *pol, struct tg_decision *out, int s, int role, int reason)
{
	out->verdict = verdict_of(pol->services[s].action);
	out->service = s;
	out->role = role;
	out->reason = reason;
}

/* The first service that takes the packet in its role (fragments: in any
 * role, by protocol and peers alone), or -1. */
static int first_service(const struct tg_policy *pol, const struct tg_hostmap *hosts, int facing,
			 const struct tg_pkt *pkt, bool opposite, int *role)
{
	const uint8_t *remote = tg_pkt_remote(pkt, facing);
	uint8_t *checked = xcalloc(pol->nsets + 1, 1); /* sets that do not hold remote */
	int found = -1;

	for (size_t s = 0; s < pol->nservices && found < 0; s++) {
		const struct tg_service *svc = &pol->services[s];

		*role = pkt->nonfirst_fragment ? TG_ROLE_FRAGMENT : arriving_role(svc->direction, facing);
		if (protocol_matches(svc, pkt) && (pkt->nonfirst_fragment || l4_matches(svc, pkt, *role, opposite)) &&
		    peers_contain(pol, hosts, &svc->peers, pkt->family, remote, checked))
			found = (int)s;
	}
	free(checked);
	return found;
}

/* Steps 4, 6 and 7 of the decision order, without flows: what the ports, types
 * and peers of the services say. `opposite`: the packet is seen the other
 * way round from the attachment (leaving, or quoted). */
static void match_services(const struct tg_policy *pol, const struct tg_hostmap *hosts, int facing,
			   const struct tg_pkt *pkt, bool opposite, struct tg_decision *out)
{
	int s, role;

	s = first_service(pol, hosts, facing, pkt, opposite, &role);
	if (s >= 0)
		return decide_service(pol, out, s, role,
				      pkt->nonfirst_fragment ? TG_REASON_FRAGMENT : TG_REASON_SERVICE);
	decide(out, verdict_of(pol->setting[TG_SET_DEFAULT]), TG_REASON_DEFAULT);
}

/* The first service that takes the packet as a request, or -1. */
static int first_request_service(const struct tg_policy *pol, const struct tg_hostmap *hosts, int facing,
				 const struct tg_pkt *pkt)
{
	const uint8_t *remote = tg_pkt_remote(pkt, facing);
	uint8_t *checked = xcalloc(pol->nsets + 1, 1);
	int found = -1;

	for (size_t s = 0; s < pol->nservices && found < 0; s++) {
		const struct tg_service *svc = &pol->services[s];

		if (arriving_role(svc->direction, facing) == TG_ROLE_REQUEST && protocol_matches(svc, pkt) &&
		    l4_matches(svc, pkt, TG_ROLE_REQUEST, false) &&
		    peers_contain(pol, hosts, &svc->peers, pkt->family, remote, checked))
			found = (int)s;
	}
	free(checked);
	return found;
}

static bool tracked(const struct tg_policy *pol, const struct tg_flow_model *flows)
{
	return flows && pol->setting[TG_SET_REPLIES] == TG_REPLIES_TRACKED;
}

/* The packet an ICMP error quotes, as a packet of its own. */
static struct tg_pkt quoted_packet(const struct tg_pkt *pkt)
{
	const struct tg_quoted *q = &pkt->quoted;
	struct tg_pkt p = { .kind = TG_PKT_IP, .family = pkt->family, .protocol = q->protocol };

	memcpy(p.src, q->src, 16);
	memcpy(p.dst, q->dst, 16);
	p.sport = q->sport;
	p.dport = q->dport;
	p.tcp_flags = q->tcp_flags;
	p.icmp_type = q->icmp_type;
	p.icmp_id = q->icmp_id;
	return p;
}

/*
 * docs/policy.md, "ICMP", related errors: the quoted packet belongs to a
 * live flow, or the policy allows it the other way round as a reply (it
 * left from the local side: seen from the other facing).
 */
static bool related(const struct tg_policy *pol, const struct tg_hostmap *hosts, int facing,
		    const struct tg_flow_model *flows, const struct tg_pkt *pkt)
{
	struct tg_model_flow k;
	struct tg_pkt q;
	struct tg_decision d;

	if (!pkt->has_quoted)
		return false;
	if (tg_flow_model_quoted_key(pkt, facing, &k) && tg_flow_model_is_live(flows, &k))
		return true;
	q = quoted_packet(pkt);
	match_services(pol, hosts, !facing, &q, true, &d);
	/* A quoted request needs its flow: every allowed request opens one. */
	return d.reason == TG_REASON_SERVICE && d.verdict == TG_PASS && d.role == TG_ROLE_REPLY;
}

static bool is_icmp_error(const struct tg_pkt *pkt)
{
	if (pkt->family == TG_FAMILY_V4)
		return pkt->icmp_type == 3 || pkt->icmp_type == 11 || pkt->icmp_type == 12;
	return pkt->icmp_type >= 1 && pkt->icmp_type <= 4; /* not neighbour discovery */
}

/* Some service takes the packet's ports or type as a reply and none as a
 * request, whatever the peers (docs/policy.md, "Flows"). */
static bool only_a_reply(const struct tg_policy *pol, int facing, const struct tg_pkt *pkt)
{
	bool reply = false;

	for (size_t s = 0; s < pol->nservices; s++) {
		const struct tg_service *svc = &pol->services[s];
		int role = arriving_role(svc->direction, facing);

		if (!protocol_matches(svc, pkt) || !l4_matches(svc, pkt, role, false))
			continue;
		if (role == TG_ROLE_REQUEST)
			return false;
		reply = true;
	}
	return reply;
}

void tg_reference_arrive(const struct tg_policy *pol, const struct tg_hostmap *hosts, int facing,
			 struct tg_flow_model *flows, const struct tg_pkt *pkt, struct tg_decision *out)
{
	bool track = tracked(pol, flows);
	int s;

	if (pkt->kind == TG_PKT_NON_IP)
		return decide(out, verdict_of(pol->setting[TG_SET_NON_IP]), TG_REASON_NON_IP);
	if (pkt->kind == TG_PKT_MALFORMED)
		return decide(out, verdict_of(pol->setting[TG_SET_MALFORMED]), TG_REASON_MALFORMED);
	if (pol->setting[TG_SET_ESSENTIAL_ICMP] == TG_ICMP_ALLOW_ESSENTIAL && !pkt->nonfirst_fragment && is_icmp(pkt) &&
	    tg_icmp_is_essential(pkt->family, pkt->icmp_type) &&
	    (!track || !is_icmp_error(pkt) || related(pol, hosts, facing, flows, pkt)))
		return decide(out, TG_PASS, TG_REASON_ESSENTIAL_ICMP);
	if (pkt->nonfirst_fragment && pol->setting[TG_SET_FRAGMENTS] != TG_FRAG_MATCH)
		return decide(out, pol->setting[TG_SET_FRAGMENTS] == TG_FRAG_ALLOW ? TG_PASS : TG_DROP,
			      TG_REASON_FRAGMENT);
	/* Under default deny, a packet only a reply could be needs its flow
	 * first, whatever its address. */
	if (track && verdict_of(pol->setting[TG_SET_DEFAULT]) == TG_DROP && !pkt->nonfirst_fragment &&
	    only_a_reply(pol, facing, pkt) && !tg_flow_model_reply_is_live(flows, pkt, facing))
		return decide(out, TG_DROP, TG_REASON_NO_FLOW);
	match_services(pol, hosts, facing, pkt, false, out);
	if (!track || out->reason != TG_REASON_SERVICE || out->verdict != TG_PASS)
		return;
	if (out->role == TG_ROLE_REQUEST)
		return tg_flow_model_open(flows, pol, pkt, facing);
	if (tg_flow_model_answer(flows, pol, pkt, facing))
		return;
	/* a reply without a flow is not a reply */
	s = first_request_service(pol, hosts, facing, pkt);
	if (s < 0)
		return decide(out, verdict_of(pol->setting[TG_SET_DEFAULT]), TG_REASON_NO_FLOW);
	decide_service(pol, out, s, TG_ROLE_REQUEST, TG_REASON_SERVICE);
	if (out->verdict == TG_PASS)
		tg_flow_model_open(flows, pol, pkt, facing);
}

void tg_reference_egress(const struct tg_policy *pol, const struct tg_hostmap *hosts, int facing,
			 struct tg_flow_model *flows, const struct tg_pkt *pkt)
{
	struct tg_decision d;
	int view = !facing; /* leaving: the other way round */

	if (!tracked(pol, flows) || pkt->kind != TG_PKT_IP)
		return;
	match_services(pol, hosts, view, pkt, true, &d);
	if (d.reason != TG_REASON_SERVICE || d.verdict != TG_PASS)
		return;
	if (d.role == TG_ROLE_REQUEST)
		tg_flow_model_open(flows, pol, pkt, view);
	else
		tg_flow_model_answer(flows, pol, pkt, view);
}

void tg_reference_classify(const struct tg_policy *pol, const struct tg_hostmap *hosts, int facing,
			   const struct tg_pkt *pkt, struct tg_decision *out)
{
	tg_reference_arrive(pol, hosts, facing, NULL, pkt, out);
}
