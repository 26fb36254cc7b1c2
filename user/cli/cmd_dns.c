// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* tollgate dns: host-name peers that follow DNS, reloaded through the same
 * generation switch as tollgate reload. */
#include "cli/apply.h"
#include "export/stats.h"
#include "lib/util.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static volatile sig_atomic_t dns_stop;

static void on_dns_signal(int sig)
{
	(void)sig;
	dns_stop = 1;
}

/*
 * One interface: ask DNS about the names that are due and, when a name's
 * addresses changed, reload the policy in force with them, through the same
 * path as tollgate reload (counters stay with their services). Returns the
 * time the next name is due (0: none).
 */
static uint64_t follow_interface(const char *ifname, const struct tg_dns_opts *dns, int *rc)
{
	struct tg_state *st = xcalloc(1, sizeof(*st));
	struct tg_loaded l = { 0 };
	struct tg_image img = { 0 };
	char hash[TG_HASH_HEX];
	const char *policy;
	bool changed = false;
	uint64_t next = 0;
	int err;

	tg_diags_init(&l.diags, stderr);
	err = tg_state_acquire(st, ifname);
	if (err) {
		*rc = tg_report_state_error(ifname, err);
		goto out;
	}
	policy = st->meta.current.path;
	if (tg_load_policy(&l, policy)) {
		*rc = TG_EXIT_INPUT;
		goto out;
	}
	tg_hash_policy(&l.diags, hash);
	if (strcmp(hash, st->meta.current.hash)) {
		fprintf(stderr, "tollgate: %s: %s changed since generation %u was loaded; run 'tollgate reload' to apply it\n",
			ifname, policy, st->meta.generation);
		*rc = TG_EXIT_INPUT;
		goto out;
	}
	if (tg_resolve_hosts(&l, st, dns, false, false, &changed)) {
		*rc = TG_EXIT_USAGE;
		goto out;
	}
	next = tg_hosts_next_due(st->hosts, dns);
	if (!changed) {
		if (tg_state_write_hosts(st))
			*rc = TG_EXIT_SYSTEM;
		goto out;
	}
	if (st->meta.confirm_pending) {
		/* Leave the pending generation alone: a rollback would lose the change anyway. */
		fprintf(stderr, "tollgate: %s: host addresses changed, but a reload awaits confirmation; will retry\n", ifname);
		next = tg_realtime_ns() + (uint64_t)dns->ttl_min * 1000000000ull;
		goto out;
	}
	printf("%s: host addresses changed; reloading %s\n", ifname, policy);
	if (tg_compile(&l.pol, (int)st->meta.facing, &l.hosts, &img) ||
	    tg_apply_image(st, &l, policy, 0, &img) != TG_EXIT_OK)
		*rc = TG_EXIT_SYSTEM;
out:
	fflush(stdout);
	tg_image_free(&img);
	tg_state_close(st);
	tg_loaded_free(&l);
	free(st);
	return next;
}

int cmd_dns(int argc, char **argv)
{
	static const char usage[] =
		"dns [--watch] [--dns-server ADDR] [--ttl-min SECONDS] [--ttl-max SECONDS] [IFACE]...";
	static const struct option opts[] = {
		{ "watch", no_argument, NULL, 'w' },	       { "dns-server", required_argument, NULL, 'S' },
		{ "ttl-min", required_argument, NULL, 'n' },   { "ttl-max", required_argument, NULL, 'x' },
		{ "help", no_argument, NULL, 'h' },	       { 0 },
	};
	char names[64][IF_NAMESIZE];
	struct tg_dns_opts dns;
	bool watch = false;
	int c, n, rc = TG_EXIT_OK;

	tg_dns_defaults(&dns);
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 'w')
			watch = true;
		else if (tg_parse_dns_option(c, optarg, &dns)) {
			fprintf(c == 'h' ? stdout : stderr, "usage: tollgate %s\n", usage);
			return c == 'h' ? TG_EXIT_OK : TG_EXIT_USAGE;
		}
	}
	signal(SIGTERM, on_dns_signal);
	signal(SIGINT, on_dns_signal);
	do {
		uint64_t due = 0, now;

		n = optind < argc ? argc - optind : tg_list_attached(names, 64);
		for (int i = 0; i < n && !dns_stop; i++) {
			const char *ifname = optind < argc ? argv[optind + i] : names[i];
			uint64_t next = follow_interface(ifname, &dns, &rc);

			if (next && (!due || next < due))
				due = next;
		}
		if (!watch)
			break;
		/* Sleep until a name is due, at least a second, at most ttl-max. */
		now = tg_realtime_ns();
		if (!due || due > now + (uint64_t)dns.ttl_max * 1000000000ull)
			due = now + (uint64_t)dns.ttl_max * 1000000000ull;
		if (due < now + 1000000000ull)
			due = now + 1000000000ull;
		while (!dns_stop && tg_realtime_ns() < due) {
			struct timespec ts = { .tv_sec = 0, .tv_nsec = 200000000 };

			nanosleep(&ts, NULL);
		}
	} while (!dns_stop);
	return rc;
}
