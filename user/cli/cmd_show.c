// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * tollgate show: what an interface enforces now, read from its pinned state
 * (the generation's record of its policy's files and the host addresses in
 * force), never from the files on disk, which may have changed since.
 */
#include "cli/apply.h"
#include "lib/util.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct show_args {
	bool json;
	bool prefixes;
};

static const char *action_name(int action)
{
	return action == TG_ALLOW ? "allow" : "deny";
}

static bool is_typed(const struct tg_service *svc)
{
	return (svc->protos & TG_P_TYPED) && !(svc->protos & TG_P_PORTED);
}

/* A host name's addresses in force, as text: "192.0.2.1 2001:db8::1". */
static void host_addresses(const struct tg_hostmap *hosts, const char *name, char *buf, size_t size)
{
	char a[INET6_ADDRSTRLEN];
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < hosts->n && used < size; i++)
		if (!strcmp(hosts->items[i].name, name)) {
			inet_ntop(hosts->items[i].v6 ? AF_INET6 : AF_INET, hosts->items[i].addr, a, sizeof(a));
			used += (size_t)snprintf(buf + used, size - used, "%s%s", used ? " " : "", a);
		}
}

/* ------------------------------------------------------------------- text */

static void text_service(const struct tg_enforced *e, size_t s, const struct show_args *a)
{
	const struct tg_service_view *sv = &e->view.services[s];
	const struct tg_service *svc = sv->svc;
	char protos[64], ranges[512], addrs[512], prefix[64];

	tg_format_protocols(svc, protos, sizeof(protos));
	tg_view_ranges(svc, ranges, sizeof(ranges));
	printf("  %zu. %s: %s %s %s %s, %s; peers %zu IPv4, %zu IPv6 prefixes\n", s + 1, svc->name,
	       tg_direction_name(svc->direction), protos, is_typed(svc) ? "types" : "ports", ranges,
	       action_name(svc->action), sv->n4, sv->n6);
	for (size_t h = 0; h < sv->nhosts; h++) {
		host_addresses(&e->l.hosts, sv->hosts[h], addrs, sizeof(addrs));
		printf("       host %s: %s\n", sv->hosts[h], addrs[0] ? addrs : "(no addresses)");
	}
	for (size_t p = 0; a->prefixes && p < sv->nprefixes; p++) {
		tg_view_prefix_format(&sv->prefixes[p], prefix, sizeof(prefix));
		printf("       %s\n", prefix);
	}
}

static void show_text(const struct tg_state *st, const struct tg_enforced *e, const struct show_args *a)
{
	char value[32];

	printf("%s: generation %u, facing %s, policy %s\n", st->ifname, st->meta.generation,
	       st->meta.facing == TG_FACING_INSIDE ? "inside" : "outside", st->meta.current.path);
	printf("  sha256 %s\nsettings\n", st->meta.current.hash);
	for (int s = 0; s < TG_SETTINGS; s++) {
		tg_format_setting(&e->img, s, value, sizeof(value));
		printf("  %-26s %s\n", tg_setting_name(s), value);
	}
	printf("services, in order\n");
	for (size_t s = 0; s < e->view.nservices; s++)
		text_service(e, s, a);
}

/* ------------------------------------------------------------------- JSON */

static void json_service(const struct tg_enforced *e, size_t s, const struct show_args *a)
{
	const struct tg_service_view *sv = &e->view.services[s];
	const struct tg_service *svc = sv->svc;
	char protos[64], prefix[64], addr[INET6_ADDRSTRLEN];

	tg_format_protocols(svc, protos, sizeof(protos));
	printf("%s{\"name\": ", s ? ", " : "");
	tg_json_string(stdout, svc->name);
	printf(", \"direction\": \"%s\", \"role\": \"%s\", \"protocols\": ", tg_direction_name(svc->direction),
	       tg_role_name(e->img.services[s].role));
	tg_json_string(stdout, protos);
	printf(", \"%s\": [", is_typed(svc) ? "types" : "ports");
	for (size_t r = 0; r < svc->nranges; r++)
		printf("%s[%u, %u]", r ? ", " : "", svc->ranges[r].lo, svc->ranges[r].hi);
	printf("], \"action\": \"%s\", \"peers\": {\"ipv4\": %zu, \"ipv6\": %zu}, \"hosts\": [",
	       action_name(svc->action), sv->n4, sv->n6);
	for (size_t h = 0; h < sv->nhosts; h++) {
		printf("%s{\"name\": ", h ? ", " : "");
		tg_json_string(stdout, sv->hosts[h]);
		printf(", \"addresses\": [");
		for (size_t i = 0, n = 0; i < e->l.hosts.n; i++)
			if (!strcmp(e->l.hosts.items[i].name, sv->hosts[h])) {
				inet_ntop(e->l.hosts.items[i].v6 ? AF_INET6 : AF_INET, e->l.hosts.items[i].addr, addr,
					  sizeof(addr));
				printf("%s\"%s\"", n++ ? ", " : "", addr);
			}
		printf("]}");
	}
	printf("]");
	if (a->prefixes) {
		printf(", \"prefixes\": [");
		for (size_t p = 0; p < sv->nprefixes; p++) {
			tg_view_prefix_format(&sv->prefixes[p], prefix, sizeof(prefix));
			printf("%s\"%s\"", p ? ", " : "", prefix);
		}
		printf("]");
	}
	printf("}");
}

static void show_json(const struct tg_state *st, const struct tg_enforced *e, const struct show_args *a)
{
	char value[32], when[32];

	tg_rfc3339(st->meta.current.loaded_ns, when, sizeof(when));
	printf("{\"interface\": ");
	tg_json_string(stdout, st->ifname);
	printf(", \"generation\": %u, \"facing\": \"%s\", \"policy\": {\"path\": ", st->meta.generation,
	       st->meta.facing == TG_FACING_INSIDE ? "inside" : "outside");
	tg_json_string(stdout, st->meta.current.path);
	printf(", \"sha256\": \"%s\", \"loaded\": \"%s\"}, \"settings\": {", st->meta.current.hash, when);
	for (int s = 0; s < TG_SETTINGS; s++) {
		tg_format_setting(&e->img, s, value, sizeof(value));
		/* Numbers stay numbers: the flow table and the timeouts. */
		if (s >= TG_SET_FLOW_TABLE)
			printf("%s\"%s\": %s", s ? ", " : "", tg_setting_name(s), value);
		else
			printf("%s\"%s\": \"%s\"", s ? ", " : "", tg_setting_name(s), value);
	}
	printf("}, \"services\": [");
	for (size_t s = 0; s < e->view.nservices; s++)
		json_service(e, s, a);
	printf("]}\n");
}

/* ------------------------------------------------------------------- main */

static int show(const char *ifname, const struct show_args *a)
{
	struct tg_enforced e;
	struct tg_state st;
	int rc, err = tg_state_acquire(&st, ifname);

	if (err) {
		rc = tg_report_state_error(ifname, err);
		tg_state_close(&st);
		return rc;
	}
	rc = tg_enforced_load(&st, &e);
	if (!rc) {
		if (a->json)
			show_json(&st, &e, a);
		else
			show_text(&st, &e, a);
	}
	tg_enforced_free(&e);
	tg_state_close(&st);
	return rc;
}

static int show_option(void *ctx, int id, const char *arg)
{
	struct show_args *a = ctx;

	(void)arg;
	if (id == 'j')
		a->json = true;
	else
		a->prefixes = true;
	return 0;
}

static int run_show(const struct tg_command *cmd, int argc, char **argv)
{
	struct show_args a = { 0 };
	struct tg_operands ops;
	int rc = tg_parse_command(cmd, argc, argv, show_option, &a, &ops);

	if (rc || ops.help)
		return rc;
	return tg_check_ifname(ops.v[0]) ?: show(ops.v[0], &a);
}

static const struct tg_option show_options[] = {
	{ "json", 'j', NULL, 0, NULL, "print one JSON object" },
	{ "prefixes", 'P', NULL, 0, NULL, "list every service's peer prefixes too" },
	TG_OPT_END,
};

const struct tg_command tg_cmd_show = {
	.name = "show",
	.run = run_show,
	.options = show_options,
	.operands = "IFACE",
	.min_operands = 1,
	.max_operands = 1,
	.summary = "Prints the policy IFACE enforces now, from its pinned state: settings, and every service in order.",
};
