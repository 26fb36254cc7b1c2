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

#define MAX_IFACES 256

static int show_status(const char *only)
{
	static char names[MAX_IFACES][IF_NAMESIZE];
	int n, shown = 0, rc = TG_EXIT_OK, err;

	err = tg_bpffs_check();
	if (err)
		return tg_report_state_error(only ? only : "status", err);
	n = tg_list_attached(names, MAX_IFACES);
	if (n < 0)
		return tg_report_state_error(only ? only : "status", n);
	for (int i = 0; i < n; i++) {
		struct tg_state st;

		if (only && strcmp(names[i], only))
			continue;
		err = tg_state_acquire(&st, names[i]);
		if (err) {
			rc = tg_report_state_error(names[i], err);
		} else {
			if (!print_status(&st))
				rc = TG_EXIT_SYSTEM;
			shown++;
		}
		tg_state_close(&st);
	}
	if (only && !shown && rc == TG_EXIT_OK)
		rc = tg_report_state_error(only, -ENOENT);
	else if (!shown && rc == TG_EXIT_OK)
		printf("no interface has tollgate attached\n");
	return rc;
}

static int run_status(const struct tg_command *cmd, int argc, char **argv)
{
	struct tg_operands ops;
	int rc = tg_parse_command(cmd, argc, argv, NULL, NULL, &ops);

	if (rc || ops.help)
		return rc;
	if (ops.n)
		return tg_check_ifname(ops.v[0]) ?: show_status(ops.v[0]);
	return show_status(NULL);
}

const struct tg_command tg_cmd_status = {
	.name = "status",
	.run = run_status,
	.operands = "[IFACE]",
	.min_operands = 0,
	.max_operands = 1,
	.summary =
		"Says what each interface (or IFACE) enforces, checked against the program the kernel runs; exit 3 when one is not enforcing.",
};
