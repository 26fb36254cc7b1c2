// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* tollgate status: what each interface enforces, checked against the
 * program the kernel actually runs on the link. */
#include "cli/apply.h"
#include "kernel/egress.h"
#include "kernel/flows.h"
#include "kernel/link.h"
#include "lib/util.h"

#include <arpa/inet.h>
#include <net/if.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void format_time(uint64_t ns, char *buf, size_t size)
{
	time_t t = (time_t)(ns / 1000000000ull);
	struct tm tm;

	localtime_r(&t, &tm);
	strftime(buf, size, "%Y-%m-%d %H:%M:%S", &tm);
}

static void print_host(const struct tg_host_state *h)
{
	char addr[INET6_ADDRSTRLEN], when[32];

	printf("  host        %s:", h->name);
	for (unsigned k = 0; k < h->naddrs && k < TG_HOST_ADDRS; k++) {
		inet_ntop((h->v6_mask >> k) & 1 ? AF_INET6 : AF_INET, h->addrs[k], addr, sizeof(addr));
		printf(" %s", addr);
	}
	if (!h->naddrs)
		printf(" (no addresses)");
	if (h->flags & TG_HOST_FIXED) {
		printf(" (fixed with --host)\n");
		return;
	}
	if (h->last_status) {
		format_time(h->attempted_ns, when, sizeof(when));
		printf(" (FAILING: %s since %s, %llu failures; %s)\n", tg_resolve_status_name(h->last_status), when,
		       (unsigned long long)h->failures,
		       h->resolved_ns ? "keeping the last known addresses" : "never resolved");
	} else {
		format_time(h->resolved_ns, when, sizeof(when));
		printf(" (ttl %u s, answered %s)\n", h->ttl, when);
	}
}

static void print_hosts(const struct tg_state *st)
{
	for (int i = 0; i < TG_MAX_HOSTS; i++)
		if (st->hosts[i].name[0])
			print_host(&st->hosts[i]);
}

/* The host's flow tables (shared by every interface). */
static void print_flows(void)
{
	struct tg_flow_summary f;

	if (tg_flows_summary(&f))
		return;
	for (int o = 0; o < TG_OPENERS; o++)
		printf("  flows       %s: %llu live of %u (%llu created, %llu evicted)\n",
		       o == TG_OPENED_LOCAL ? "opened here  " : "opened remote", (unsigned long long)f.live[o],
		       f.size[o], (unsigned long long)f.stats[o].created, (unsigned long long)f.evicted[o]);
}

/* Returns whether the interface is enforcing. */
static bool print_status(struct tg_state *st)
{
	char when[32], why[256];
	bool enforcing = tg_link_enforcing(st->ifname, &st->meta, why, sizeof(why)) == 1;

	format_time(st->meta.current.loaded_ns, when, sizeof(when));
	printf("%s\n", st->ifname);
	if (enforcing)
		printf("  enforcing   yes\n");
	else
		printf("  enforcing   NO: %s\n", why);
	printf("  attached    %s%s%s\n",
	       st->meta.attach_kind == TG_ATTACH_DISPATCHER ? "through libxdp's dispatcher" : "directly",
	       st->meta.attach_note[0] ? ": " : "", st->meta.attach_note);
	printf("  egress      %s\n", st->meta.egress_kind == TG_EGRESS_NONE ?
					     "none: the host's own requests open no flows" :
					     tg_egress_kind_name(st->meta.egress_kind));
	printf("  mode        %s\n", st->meta.mode == TG_MODE_SKB ? "skb" : "native");
	printf("  facing      %s\n", st->meta.facing == TG_FACING_INSIDE ? "inside" : "outside");
	printf("  policy      %s\n", st->meta.current.path);
	printf("  sha256      %s\n", st->meta.current.hash);
	printf("  generation  %u\n", st->meta.generation);
	printf("  loaded      %s\n", when);
	printf("  services    %u\n", st->meta.current.nservices);
	print_hosts(st);
	print_flows();
	if (st->meta.confirm_pending) {
		format_time(st->meta.confirm_deadline_ns, when, sizeof(when));
		printf("  confirm     pending: rolls back to %s at %s unless 'tollgate confirm %s'\n",
		       st->meta.previous.path, when, st->ifname);
	}
	return enforcing;
}

/* ------------------------------------------------------------- JSON */

/* A time field: RFC 3339, or null when it never happened. */
static void json_time(const char *key, uint64_t ns)
{
	char buf[32];

	if (!ns) {
		printf("\"%s\": null", key);
		return;
	}
	tg_rfc3339(ns, buf, sizeof(buf));
	printf("\"%s\": \"%s\"", key, buf);
}

static void json_host(const struct tg_host_state *h)
{
	char addr[INET6_ADDRSTRLEN];

	printf("{\"name\": ");
	tg_json_string(stdout, h->name);
	printf(", \"addresses\": [");
	for (unsigned k = 0; k < h->naddrs && k < TG_HOST_ADDRS; k++) {
		inet_ntop((h->v6_mask >> k) & 1 ? AF_INET6 : AF_INET, h->addrs[k], addr, sizeof(addr));
		printf("%s\"%s\"", k ? ", " : "", addr);
	}
	printf("], \"fixed\": %s, \"resolving\": %s, \"error\": ", h->flags & TG_HOST_FIXED ? "true" : "false",
	       h->last_status ? "false" : "true");
	if (h->last_status)
		tg_json_string(stdout, tg_resolve_status_name(h->last_status));
	else
		printf("null");
	printf(", \"failures\": %llu, \"ttl\": %u, ", (unsigned long long)h->failures, h->ttl);
	json_time("answered", h->resolved_ns);
	printf(", ");
	json_time("asked", h->attempted_ns);
	printf("}");
}

static void json_policy(const char *key, const struct tg_policy_info *p)
{
	printf("\"%s\": {\"path\": ", key);
	tg_json_string(stdout, p->path);
	printf(", \"sha256\": \"%s\", \"services\": %u, ", p->hash, p->nservices);
	json_time("loaded", p->loaded_ns);
	printf("}");
}

/* The same fields as print_status(), one object; returns whether enforcing. */
static bool json_status(struct tg_state *st, bool first)
{
	char why[256];
	bool enforcing = tg_link_enforcing(st->ifname, &st->meta, why, sizeof(why)) == 1;
	bool any_host = false;

	printf("%s{\"interface\": ", first ? "" : ", ");
	tg_json_string(stdout, st->ifname);
	printf(", \"enforcing\": %s, \"not_enforcing_because\": ", enforcing ? "true" : "false");
	if (enforcing)
		printf("null");
	else
		tg_json_string(stdout, why);
	printf(", \"attached\": \"%s\", \"attach_note\": ",
	       st->meta.attach_kind == TG_ATTACH_DISPATCHER ? "dispatcher" : "direct");
	tg_json_string(stdout, st->meta.attach_note);
	printf(", \"egress\": \"%s\", \"mode\": \"%s\", \"facing\": \"%s\", \"generation\": %u, ",
	       st->meta.egress_kind == TG_EGRESS_NONE ? "none" : tg_egress_kind_name(st->meta.egress_kind),
	       st->meta.mode == TG_MODE_SKB ? "skb" : "native",
	       st->meta.facing == TG_FACING_INSIDE ? "inside" : "outside", st->meta.generation);
	json_policy("policy", &st->meta.current);
	printf(", \"hosts\": [");
	for (int i = 0; i < TG_MAX_HOSTS; i++)
		if (st->hosts[i].name[0]) {
			printf("%s", any_host ? ", " : "");
			json_host(&st->hosts[i]);
			any_host = true;
		}
	printf("], \"confirm\": ");
	if (st->meta.confirm_pending) {
		printf("{\"pending\": true, ");
		json_time("deadline", st->meta.confirm_deadline_ns);
		printf(", ");
		json_policy("rolls_back_to", &st->meta.previous);
		printf("}");
	} else {
		printf("{\"pending\": false}");
	}
	printf("}");
	return enforcing;
}

/* The host's flow tables, once: every interface shares them. */
static void json_flows(void)
{
	struct tg_flow_summary f;

	printf("], \"flows\": ");
	if (tg_flows_summary(&f)) {
		printf("null}\n");
		return;
	}
	printf("{");
	for (int o = 0; o < TG_OPENERS; o++)
		printf("%s\"%s\": {\"live\": %llu, \"size\": %u, \"created\": %llu, \"evicted\": %llu}", o ? ", " : "",
		       o == TG_OPENED_LOCAL ? "opened_here" : "opened_remote", (unsigned long long)f.live[o], f.size[o],
		       (unsigned long long)f.stats[o].created, (unsigned long long)f.evicted[o]);
	printf("}}\n");
}

#define MAX_IFACES 256

static int show_status(const char *only, bool json)
{
	static char names[MAX_IFACES][IF_NAMESIZE];
	int n, shown = 0, rc = TG_EXIT_OK, err;

	err = tg_bpffs_check();
	if (err)
		return tg_report_state_error(only ? only : "status", err);
	n = tg_list_attached(names, MAX_IFACES);
	if (n < 0)
		return tg_report_state_error(only ? only : "status", n);
	if (json)
		printf("{\"interfaces\": [");
	for (int i = 0; i < n; i++) {
		struct tg_state st;

		if (only && strcmp(names[i], only))
			continue;
		err = tg_state_acquire(&st, names[i]);
		if (err) {
			rc = tg_report_state_error(names[i], err);
		} else {
			if (!(json ? json_status(&st, !shown) : print_status(&st)))
				rc = TG_EXIT_SYSTEM;
			shown++;
		}
		tg_state_close(&st);
	}
	if (json)
		json_flows();
	if (only && !shown && rc == TG_EXIT_OK)
		rc = tg_report_state_error(only, -ENOENT);
	else if (!shown && rc == TG_EXIT_OK && !json)
		printf("no interface has tollgate attached\n");
	return rc;
}

static int status_option(void *ctx, int id, const char *arg)
{
	(void)id;
	(void)arg;
	*(bool *)ctx = true; /* --json */
	return 0;
}

static int run_status(const struct tg_command *cmd, int argc, char **argv)
{
	struct tg_operands ops;
	bool json = false;
	int rc = tg_parse_command(cmd, argc, argv, status_option, &json, &ops);

	if (rc || ops.help)
		return rc;
	if (ops.n)
		return tg_check_ifname(ops.v[0]) ?: show_status(ops.v[0], json);
	return show_status(NULL, json);
}

static const struct tg_option status_options[] = {
	{ "json", 'j', NULL, 0, NULL, "print one JSON object with the same fields (times in RFC 3339, UTC)" },
	TG_OPT_END,
};

const struct tg_command tg_cmd_status = {
	.name = "status",
	.run = run_status,
	.options = status_options,
	.operands = "[IFACE]",
	.min_operands = 0,
	.max_operands = 1,
	.summary =
		"Says what each interface (or IFACE) enforces, checked against the program the kernel runs; exit 3 when one is not enforcing.",
};
