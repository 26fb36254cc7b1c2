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

static bool l4_matches(const struct tg_service *svc, const struct tg_pkt *pkt, int role)
{
	if (role == TG_ROLE_REPLY && pkt->protocol == IPPROTO_TCP && !(pkt->tcp_flags & TG_TCP_ACK))
		return false;
	if (has_ports(pkt))
		return svc->protos & TG_P_ANY || svc->nranges == 0 ||
		       in_ranges(svc, role == TG_ROLE_REQUEST ? pkt->dport : pkt->sport);
	if (is_icmp(pkt))
		return icmp_type_matches(svc, pkt, role);
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
			 const struct tg_pkt *pkt, int *role)
{
	const uint8_t *remote = facing == TG_FACING_OUTSIDE ? pkt->src : pkt->dst;
	uint8_t *checked = xcalloc(pol->nsets + 1, 1); /* sets that do not hold remote */
	int found = -1;

	for (size_t s = 0; s < pol->nservices && found < 0; s++) {
		const struct tg_service *svc = &pol->services[s];

		*role = pkt->nonfirst_fragment ? TG_ROLE_FRAGMENT : arriving_role(svc->direction, facing);
		if (protocol_matches(svc, pkt) && (pkt->nonfirst_fragment || l4_matches(svc, pkt, *role)) &&
		    peers_contain(pol, hosts, &svc->peers, pkt->family, remote, checked))
			found = (int)s;
	}
	free(checked);
	return found;
}

void tg_reference_classify(const struct tg_policy *pol, const struct tg_hostmap *hosts, int facing,
			   const struct tg_pkt *pkt, struct tg_decision *out)
{
	int s, role;

	if (pkt->kind == TG_PKT_NON_IP)
		return decide(out, verdict_of(pol->setting[TG_SET_NON_IP]), TG_REASON_NON_IP);
	if (pkt->kind == TG_PKT_MALFORMED)
		return decide(out, verdict_of(pol->setting[TG_SET_MALFORMED]), TG_REASON_MALFORMED);
	if (pol->setting[TG_SET_ESSENTIAL_ICMP] == TG_ICMP_ALLOW_ESSENTIAL && !pkt->nonfirst_fragment && is_icmp(pkt) &&
	    tg_icmp_is_essential(pkt->family, pkt->icmp_type))
		return decide(out, TG_PASS, TG_REASON_ESSENTIAL_ICMP);
	if (pkt->nonfirst_fragment && pol->setting[TG_SET_FRAGMENTS] != TG_FRAG_MATCH)
		return decide(out, pol->setting[TG_SET_FRAGMENTS] == TG_FRAG_ALLOW ? TG_PASS : TG_DROP,
			      TG_REASON_FRAGMENT);
	s = first_service(pol, hosts, facing, pkt, &role);
	if (s >= 0)
		return decide_service(pol, out, s, role,
				      pkt->nonfirst_fragment ? TG_REASON_FRAGMENT : TG_REASON_SERVICE);
	decide(out, verdict_of(pol->setting[TG_SET_DEFAULT]), TG_REASON_DEFAULT);
}
