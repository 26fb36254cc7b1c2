// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Which services can a packet reach, and which ones do earlier services take
 * over completely? Worked out on the compiled classes rather than on the
 * policy text, so it sees exactly what the data plane will do.
 *
 * A packet is a peer class P and, in the l4 row of its protocol (tollgate.h),
 * a request class a (from its destination port or type) and a reply class b
 * (source port or type). The service that decides is the lowest bit of
 * P & (a | b). For TCP, UDP and SCTP the two ports vary independently, so a
 * and b range over all their classes (and b is empty for a TCP segment
 * without ACK); for ICMP and other protocols both come from the same value.
 */
#include "compile/analyse.h"
#include "lib/util.h"

#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#define NONE TG_MAX_SERVICES

static unsigned lowest_common(const struct tg_mask *a, const struct tg_mask *b)
{
	for (unsigned w = 0; w < TG_MASK_WORDS; w++) {
		uint64_t m = a->w[w] & b->w[w];

		if (m)
			return w * 64 + (unsigned)__builtin_ctzll(m);
	}
	return NONE;
}

struct classes {
	uint32_t *items;
	size_t n, cap;
};

static void add_unique(struct classes *cs, uint32_t cls, uint8_t *seen)
{
	if (!seen[cls]) {
		seen[cls] = 1;
		VEC_PUSH(cs->items, cs->n, cs->cap, cls);
	}
}

static void clear_seen(const struct classes *cs, uint8_t *seen)
{
	for (size_t i = 0; i < cs->n; i++)
		seen[cs->items[i]] = 0;
}

static void table_classes(const struct tg_image *img, int role, int row, struct classes *cs, uint8_t *seen)
{
	const uint32_t *t = img->l4 + tg_l4_index((uint32_t)role, (uint32_t)row, 0);

	for (uint32_t v = 0; v < TG_PORT_SPACE; v++)
		add_unique(cs, t[v], seen);
	clear_seen(cs, seen);
}

struct verdicts {
	bool reachable[TG_MAX_SERVICES];
	bool own[TG_MAX_SERVICES];
	struct tg_mask by[TG_MAX_SERVICES];
};

/* One packet shape: service low decided, for a packet service s could match. */
static void record(struct verdicts *v, unsigned s, unsigned low)
{
	v->reachable[s] = true;
	if (low == s)
		v->own[s] = true;
	else if (low < s)
		tg_mask_set(&v->by[s], low);
}

/*
 * Ports: for a packet of service s matched through its own side's class c,
 * the other side can be any class; s decides iff it is the lowest in P & c
 * and some other-side class has nothing earlier. "worst" is the latest
 * lowest service over the other side's classes.
 */
static void ported_row(const struct tg_image *img, const struct tg_mask *peer, const struct classes *req,
		       const struct classes *rep, bool no_ack_possible, struct verdicts *v)
{
	unsigned worst_req = 0, worst_rep = no_ack_possible ? NONE : 0;

	for (size_t i = 0; i < req->n; i++) {
		unsigned low = lowest_common(peer, &img->masks[req->items[i]]);

		worst_req = low > worst_req ? low : worst_req;
	}
	for (size_t i = 0; i < rep->n; i++) {
		unsigned low = lowest_common(peer, &img->masks[rep->items[i]]);

		worst_rep = low > worst_rep ? low : worst_rep;
	}
	for (int role = 0; role < 2; role++) {
		const struct classes *own_side = role == TG_ROLE_REQUEST ? req : rep;
		unsigned other = role == TG_ROLE_REQUEST ? worst_rep : worst_req;

		for (size_t i = 0; i < own_side->n; i++) {
			struct tg_mask m = img->masks[own_side->items[i]];
			unsigned low = lowest_common(peer, &m);

			for (unsigned w = 0; w < TG_MASK_WORDS; w++)
				m.w[w] &= peer->w[w];
			for (unsigned s = 0; s < img->nservices; s++) {
				if (!tg_mask_test(&m, s))
					continue;
				if (low < s)
					record(v, s, low);
				else
					record(v, s, other > s ? s : other);
			}
		}
	}
}

/* IPv6's delivery headers, which the data plane walks past: never a packet's protocol. */
static bool ipv6_walked_header(unsigned value)
{
	return value == IPPROTO_HOPOPTS || value == IPPROTO_ROUTING || value == IPPROTO_FRAGMENT ||
	       value == IPPROTO_DSTOPTS;
}

static bool skipped_value(const struct tg_image *img, int family, int row, unsigned value)
{
	if (row == TG_ROW_OTHER) /* the protocols that have a row of their own, or none */
		return value == IPPROTO_TCP || value == IPPROTO_UDP || value == IPPROTO_SCTP ||
		       value == (family == TG_FAMILY_V4 ? IPPROTO_ICMP : IPPROTO_ICMPV6) ||
		       (family == TG_FAMILY_V6 && ipv6_walked_header(value));
	/* Essential ICMP is decided before any service looks at it. */
	return img->settings[TG_SET_ESSENTIAL_ICMP] == TG_ICMP_ALLOW_ESSENTIAL &&
	       tg_icmp_is_essential(family, (uint8_t)value);
}

static void valued_row(const struct tg_image *img, const struct tg_mask *peer, int family, int row, struct verdicts *v)
{
	const uint32_t *req = img->l4 + tg_l4_index(TG_ROLE_REQUEST, (uint32_t)row, 0);
	const uint32_t *rep = img->l4 + tg_l4_index(TG_ROLE_REPLY, (uint32_t)row, 0);

	for (unsigned value = 0; value < TG_SMALL_SPACE; value++) {
		struct tg_mask u = img->masks[req[value]];
		unsigned low;

		if (skipped_value(img, family, row, value))
			continue;
		for (unsigned w = 0; w < TG_MASK_WORDS; w++)
			u.w[w] = (u.w[w] | img->masks[rep[value]].w[w]) & peer->w[w];
		low = lowest_common(peer, &u);
		for (unsigned s = low; s < img->nservices; s++)
			if (tg_mask_test(&u, s))
				record(v, s, low);
	}
}

void tg_image_analyse(struct tg_image *img)
{
	struct verdicts *v = xcalloc(1, sizeof(*v));
	uint8_t *seen = xcalloc(img->nmasks, 1);
	struct classes req[TG_PORT_ROWS] = { 0 }, rep[TG_PORT_ROWS] = { 0 }, peers = { 0 };

	for (int row = 0; row < TG_PORT_ROWS; row++) {
		table_classes(img, TG_ROLE_REQUEST, row, &req[row], seen);
		table_classes(img, TG_ROLE_REPLY, row, &rep[row], seen);
	}
	for (int family = 0; family < 2; family++) {
		peers.n = 0;
		for (size_t i = 0; i < img->nprefixes[family]; i++)
			add_unique(&peers, img->prefixes[family][i].cls, seen);
		clear_seen(&peers, seen);
		for (size_t p = 0; p < peers.n; p++) {
			const struct tg_mask *peer = &img->masks[peers.items[p]];

			for (int row = 0; row < TG_PORT_ROWS; row++)
				ported_row(img, peer, &req[row], &rep[row], row == TG_ROW_TCP, v);
			valued_row(img, peer, family, family == TG_FAMILY_V4 ? TG_ROW_ICMP : TG_ROW_ICMPV6, v);
			valued_row(img, peer, family, TG_ROW_OTHER, v);
		}
	}
	for (unsigned s = 0; s < img->nservices; s++) {
		img->services[s].unmatched = !v->reachable[s];
		img->services[s].shadowed = v->reachable[s] && !v->own[s];
		img->services[s].shadowed_by = v->by[s];
	}
	for (int row = 0; row < TG_PORT_ROWS; row++) {
		free(req[row].items);
		free(rep[row].items);
	}
	free(peers.items);
	free(seen);
	free(v);
}

/* ------------------------------------------------------------- warnings */

static void describe_mask(const struct tg_policy *pol, const struct tg_mask *m, char *buf, size_t size)
{
	size_t used = 0;
	unsigned shown = 0;

	buf[0] = '\0';
	for (unsigned s = 0; s < pol->nservices && used < size; s++) {
		if (!tg_mask_test(m, s))
			continue;
		if (shown++ == 3) {
			snprintf(buf + used, size - used, ", ...");
			return;
		}
		used += (size_t)snprintf(buf + used, size - used, "%s'%s'", used ? ", " : "", pol->services[s].name);
	}
}

static bool host_resolved(const struct tg_hostmap *hosts, const char *name)
{
	for (size_t h = 0; hosts && h < hosts->n; h++)
		if (strcmp(hosts->items[h].name, name) == 0)
			return true;
	return false;
}

/* checked[s]: set s was looked into already; each set is walked once. */
static bool list_names_unresolved_host(const struct tg_policy *pol, const struct tg_peer_list *list,
				       const struct tg_hostmap *hosts, uint8_t *checked)
{
	for (size_t i = 0; i < list->n; i++) {
		const struct tg_peer *p = &list->items[i];

		if (p->kind == TG_PEER_SET && p->set >= 0 && !checked[p->set]) {
			checked[p->set] = 1;
			if (list_names_unresolved_host(pol, &pol->sets[p->set].peers, hosts, checked))
				return true;
		}
		if (p->kind == TG_PEER_HOST && !host_resolved(hosts, p->name))
			return true;
	}
	return false;
}

static bool names_unresolved_host(const struct tg_policy *pol, const struct tg_peer_list *list,
				  const struct tg_hostmap *hosts)
{
	uint8_t *checked = xcalloc(pol->nsets + 1, 1);
	bool found = list_names_unresolved_host(pol, list, hosts, checked);

	free(checked);
	return found;
}

static const char *facing_words(int facing)
{
	return facing == TG_FACING_INSIDE ? "on an inside-facing NIC" : "on an outside-facing NIC";
}

struct service_summary {
	size_t unmatched, shadowed; /* in how many of the images */
	int unmatched_facing, shadowed_facing;
	struct tg_mask by;
};

static void summarise(const struct tg_image *const *imgs, size_t nimgs, unsigned s, struct service_summary *sum)
{
	memset(sum, 0, sizeof(*sum));
	for (size_t i = 0; i < nimgs; i++) {
		const struct tg_image_service *svc = &imgs[i]->services[s];

		if (svc->unmatched) {
			sum->unmatched++;
			sum->unmatched_facing = imgs[i]->facing;
		}
		if (svc->shadowed) {
			sum->shadowed++;
			sum->shadowed_facing = imgs[i]->facing;
		}
		for (unsigned w = 0; w < TG_MASK_WORDS; w++)
			sum->by.w[w] |= svc->shadowed_by.w[w];
	}
}

static void report_service(const struct tg_policy *pol, const struct tg_hostmap *hosts, unsigned s, size_t nimgs,
			   const struct service_summary *sum, struct tg_diags *diags)
{
	const struct tg_service *svc = &pol->services[s];
	char names[256];
	const char *where = sum->shadowed < nimgs ? facing_words(sum->shadowed_facing) : "";
	int target;

	if ((svc->protos & TG_P_NUMBER) && ipv6_walked_header(svc->proto_number))
		tg_warning(diags, svc->prop_loc[TG_PROP_PROTOCOL],
			   "protocol %u is an IPv6 extension header, which tollgate walks past to the protocol it carries: service '%s' matches IPv4 packets only",
			   svc->proto_number, svc->name);
	if (sum->unmatched) {
		if (!names_unresolved_host(pol, &svc->peers, hosts))
			tg_warning(diags, svc->loc,
				   "service '%s' can never match%s%s: no address, protocol or port reaches it",
				   svc->name, sum->unmatched < nimgs ? " " : "",
				   sum->unmatched < nimgs ? facing_words(sum->unmatched_facing) : "");
		return;
	}
	describe_mask(pol, &sum->by, names, sizeof(names));
	if (!svc->counted_under) {
		if (sum->shadowed)
			tg_warning(diags, svc->loc,
				   "service '%s' is shadowed%s%s by %s: earlier services match all of its traffic, so its counter never moves (if that is intended, say 'counted-under')",
				   svc->name, *where ? " " : "", where, names);
		return;
	}
	if (!sum->shadowed) {
		tg_warning(diags, svc->counted_under_loc,
			   "service '%s' says it is counted under '%s', but it matches traffic no earlier service does",
			   svc->name, svc->counted_under);
		return;
	}
	for (target = 0; target < (int)s; target++)
		if (!strcmp(pol->services[target].name, svc->counted_under))
			break;
	if (target < (int)s && !tg_mask_test(&sum->by, (unsigned)target))
		tg_warning(diags, svc->counted_under_loc,
			   "service '%s' says it is counted under '%s', but its traffic goes to %s", svc->name,
			   svc->counted_under, names);
}

void tg_report_analysis(const struct tg_policy *pol, const struct tg_hostmap *hosts, const struct tg_image *const *imgs,
			size_t nimgs, struct tg_diags *diags)
{
	struct service_summary sum;

	for (unsigned s = 0; s < pol->nservices; s++) {
		summarise(imgs, nimgs, s, &sum);
		report_service(pol, hosts, s, nimgs, &sum, diags);
	}
}
