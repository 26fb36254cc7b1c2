// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The policy model's vocabulary: the names of settings, directions, ICMP
 * types, reasons and roles as docs/policy.md spells them, formatting, and
 * freeing a parsed policy. Shared by the parser, the compiler, the reference
 * model and the commands, so that each says a thing the same way.
 */
#include "policy/policy.h"
#include "lib/util.h"
#include "tollgate.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const setting_names[TG_SETTINGS] = {
	[TG_SET_DEFAULT] = "default",
	[TG_SET_NON_IP] = "non-ip",
	[TG_SET_MALFORMED] = "malformed",
	[TG_SET_ESSENTIAL_ICMP] = "essential-icmp",
	[TG_SET_FRAGMENTS] = "fragments",
	[TG_SET_REPLIES] = "replies",
	[TG_SET_FLOW_TABLE] = "flow-table",
	[TG_SET_TCP_SYN_TIMEOUT] = "tcp-syn-timeout",
	[TG_SET_TCP_ESTABLISHED_TIMEOUT] = "tcp-established-timeout",
	[TG_SET_TCP_CLOSING_TIMEOUT] = "tcp-closing-timeout",
	[TG_SET_TCP_CLOSED_TIMEOUT] = "tcp-closed-timeout",
	[TG_SET_UDP_TIMEOUT] = "udp-timeout",
	[TG_SET_UDP_STREAM_TIMEOUT] = "udp-stream-timeout",
	[TG_SET_ICMP_TIMEOUT] = "icmp-timeout",
	[TG_SET_OTHER_TIMEOUT] = "other-timeout",
};

const char *tg_setting_name(enum tg_setting s)
{
	return setting_names[s];
}

const char *tg_direction_name(int dir)
{
	return dir == TG_DIR_IN ? "in" : dir == TG_DIR_OUT ? "out" : "?";
}

void tg_format_prefix(const uint8_t *addr, unsigned prefixlen, bool v6, char *buf, size_t size)
{
	char a[INET6_ADDRSTRLEN];

	inet_ntop(v6 ? AF_INET6 : AF_INET, addr, a, sizeof(a));
	snprintf(buf, size, "%s/%u", a, prefixlen);
}

void tg_format_protocols(const struct tg_service *svc, char *buf, size_t size)
{
	static const struct {
		unsigned bit;
		const char *name;
	} names[] = { { TG_P_TCP, "tcp" },   { TG_P_UDP, "udp" },	{ TG_P_SCTP, "sctp" },
		      { TG_P_ICMP, "icmp" }, { TG_P_ICMPV6, "icmpv6" }, { TG_P_ANY, "any" } };
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (svc->protos & names[i].bit)
			used += (size_t)snprintf(buf + used, used < size ? size - used : 0, "%s%s", used ? "," : "",
						 names[i].name);
	if (svc->protos & TG_P_NUMBER)
		snprintf(buf + used, used < size ? size - used : 0, "%s%u", used ? "," : "", svc->proto_number);
}

/* ------------------------------------------------------------ ICMP types */

static const struct {
	const char *name;
	uint8_t type;
	bool v6;
} icmp_types[] = {
	{ "echo-reply", 0, false },
	{ "destination-unreachable", 3, false },
	{ "source-quench", 4, false },
	{ "redirect", 5, false },
	{ "echo-request", 8, false },
	{ "router-advertisement", 9, false },
	{ "router-solicitation", 10, false },
	{ "time-exceeded", 11, false },
	{ "parameter-problem", 12, false },
	{ "timestamp-request", 13, false },
	{ "timestamp-reply", 14, false },
	{ "info-request", 15, false },
	{ "info-reply", 16, false },
	{ "address-mask-request", 17, false },
	{ "address-mask-reply", 18, false },
	{ "destination-unreachable", 1, true },
	{ "packet-too-big", 2, true },
	{ "time-exceeded", 3, true },
	{ "parameter-problem", 4, true },
	{ "echo-request", 128, true },
	{ "echo-reply", 129, true },
	{ "mld-listener-query", 130, true },
	{ "mld-listener-report", 131, true },
	{ "mld-listener-done", 132, true },
	{ "router-solicitation", 133, true },
	{ "router-advertisement", 134, true },
	{ "neighbour-solicitation", 135, true },
	{ "neighbour-advertisement", 136, true },
	{ "redirect", 137, true },
	{ "neighbor-solicitation", 135, true },
	{ "neighbor-advertisement", 136, true },
};

const char *tg_icmp_type_name(bool v6, unsigned type)
{
	for (size_t i = 0; i < ARRAY_SIZE(icmp_types); i++)
		if (icmp_types[i].v6 == v6 && icmp_types[i].type == type)
			return icmp_types[i].name;
	return NULL;
}

int tg_icmp_type_by_name(bool v6, const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(icmp_types); i++)
		if (icmp_types[i].v6 == v6 && !strcmp(icmp_types[i].name, name))
			return icmp_types[i].type;
	return -1;
}

int tg_icmp_reply_type(bool v6, unsigned type)
{
	if (v6)
		return type == 128 ? 129 : -1;
	switch (type) {
	case 8:
		return 0;
	case 13:
		return 14;
	case 15:
		return 16;
	case 17:
		return 18;
	}
	return -1;
}

bool tg_icmp_is_essential(int family, uint8_t type)
{
	if (family == TG_FAMILY_V4)
		return type == 3 || type == 11 || type == 12;
	return (type >= 1 && type <= 4) || (type >= 133 && type <= 137);
}

/* --------------------------------------------------- data-plane outcomes */

const char *tg_reason_name(int reason)
{
	static const char *const names[TG_REASONS] = {
		[TG_REASON_SERVICE] = "service",
		[TG_REASON_DEFAULT] = "default",
		[TG_REASON_MALFORMED] = "malformed",
		[TG_REASON_NON_IP] = "non-ip",
		[TG_REASON_ESSENTIAL_ICMP] = "essential-icmp",
		[TG_REASON_FRAGMENT] = "fragment",
		[TG_REASON_NO_FLOW] = "no-flow",
	};

	return reason >= 0 && reason < TG_REASONS ? names[reason] : "?";
}

const char *tg_role_name(int role)
{
	static const char *const names[TG_ROLES] = { "request", "reply", "fragment" };

	return role >= 0 && role < TG_ROLES ? names[role] : "?";
}

/* ------------------------------------------------------------ host names */

void tg_normalize_host_name(char *name)
{
	size_t len = strlen(name);

	if (len && name[len - 1] == '.')
		name[len - 1] = '\0';
	for (char *c = name; *c; c++)
		*c = (char)tolower((unsigned char)*c);
}

bool tg_name_listed(const char *const *names, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(names[i], name))
			return true;
	return false;
}

static void collect(const struct tg_peer_list *list, const char ***names, size_t *n, size_t *cap)
{
	for (size_t i = 0; i < list->n; i++)
		if (list->items[i].kind == TG_PEER_HOST && !tg_name_listed(*names, *n, list->items[i].name))
			VEC_PUSH(*names, *n, *cap, (const char *)list->items[i].name);
}

size_t tg_policy_host_names(const struct tg_policy *pol, const char ***names)
{
	size_t n = 0, cap = 0;

	*names = NULL;
	for (size_t i = 0; i < pol->nsets; i++)
		collect(&pol->sets[i].peers, names, &n, &cap);
	for (size_t i = 0; i < pol->nservices; i++)
		collect(&pol->services[i].peers, names, &n, &cap);
	return n;
}

/* ------------------------------------------------------------------ free */

static void free_peers(struct tg_peer_list *list)
{
	for (size_t i = 0; i < list->n; i++)
		free(list->items[i].name);
	free(list->items);
}

void tg_policy_free(struct tg_policy *pol)
{
	for (size_t i = 0; i < pol->nsets; i++) {
		free(pol->sets[i].name);
		free_peers(&pol->sets[i].peers);
	}
	for (size_t i = 0; i < pol->nservices; i++) {
		struct tg_service *s = &pol->services[i];

		free(s->name);
		free(s->description);
		free(s->ranges);
		free(s->counted_under);
		free_peers(&s->peers);
	}
	free(pol->sets);
	free(pol->services);
	memset(pol, 0, sizeof(*pol));
}
