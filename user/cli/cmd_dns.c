// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* tollgate dns: host-name peers that follow DNS, reloaded through the same
 * generation switch as tollgate reload. */
#include "cli/apply.h"
#include "lib/log.h"
#include "lib/util.h"

#include <errno.h>
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
		tg_err("%s: %s changed since generation %u was loaded; run 'tollgate reload' to apply it\n", ifname,
		       policy, st->meta.generation);
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
		tg_err("%s: host addresses changed, but a reload awaits confirmation; will retry\n", ifname);
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

struct dns_args {
	struct tg_dns_opts dns;
	bool watch;
};

static int dns_option(void *ctx, int id, const char *arg)
{
	struct dns_args *a = ctx;

	if (id == 'w') {
		a->watch = true;
		return 0;
	}
	return tg_dns_option(id, arg, &a->dns);
}

/* Sleeps until a name is due, at least a second, at most ttl-max. */
static void wait_until_due(uint64_t due, const struct tg_dns_opts *dns)
{
	uint64_t now = tg_realtime_ns(), longest = (uint64_t)dns->ttl_max * 1000000000ull;

	if (!due || due > now + longest)
		due = now + longest;
	if (due < now + 1000000000ull)
		due = now + 1000000000ull;
	while (!dns_stop && tg_realtime_ns() < due) {
		struct timespec ts = { .tv_sec = 0, .tv_nsec = 200000000 };

		nanosleep(&ts, NULL);
	}
}

static int run_dns(const struct tg_command *cmd, int argc, char **argv)
{
	static char names[64][IF_NAMESIZE];
	struct dns_args a = { .watch = false };
	struct tg_operands ops;
	int n, rc;

	tg_dns_defaults(&a.dns);
	rc = tg_parse_command(cmd, argc, argv, dns_option, &a, &ops);
	if (rc || ops.help)
		return rc;
	for (int i = 0; i < ops.n; i++)
		if ((rc = tg_check_ifname(ops.v[i])))
			return rc;
	signal(SIGTERM, on_dns_signal);
	signal(SIGINT, on_dns_signal);
	do {
		uint64_t due = 0;

		n = ops.n ? ops.n : tg_list_attached(names, 64);
		for (int i = 0; i < n && !dns_stop; i++) {
			const char *ifname = ops.n ? ops.v[i] : names[i];
			uint64_t next = follow_interface(ifname, &a.dns, &rc);

			if (next && (!due || next < due))
				due = next;
		}
		if (!a.watch)
			break;
		wait_until_due(due, &a.dns);
	} while (!dns_stop);
	return rc;
}

static const struct tg_option dns_options[] = {
	{ "watch", 'w', NULL, 0, NULL, "keep following: ask again when each name's TTL runs out" },
	TG_DNS_OPTIONS,
	TG_OPT_END,
};

const struct tg_command tg_cmd_dns = {
	.name = "dns",
	.run = run_dns,
	.options = dns_options,
	.operands = "[IFACE]...",
	.min_operands = 0,
	.max_operands = -1,
	.summary =
		"Asks DNS again for the host names of every attached interface (or each IFACE) and reloads what changed.",
};
