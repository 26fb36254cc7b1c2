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
 * path as tollgate reload (counters stay with their services). Returns when
 * to look at the interface again: when its next name is due, ttl-max from
 * now when it has none, and ttl-min from now after a failure (a policy file
 * in the middle of an edit, a reload that was refused) or while a reload
 * awaits confirmation. *loaded_ns: when the generation in force was loaded
 * (0 when unknown).
 */
static uint64_t follow_interface(const char *ifname, const struct tg_dns_opts *dns, uint64_t *loaded_ns, int *rc)
{
	struct tg_state *st = xcalloc(1, sizeof(*st));
	struct tg_loaded l = { 0 };
	struct tg_image img = { 0 };
	char hash[TG_HASH_HEX];
	const char *policy;
	bool changed = false;
	uint64_t now = tg_realtime_ns();
	uint64_t next = now + (uint64_t)dns->ttl_min * 1000000000ull;
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
	if (!changed) {
		next = tg_hosts_next_due(st->hosts, dns);
		if (!next)
			next = now + (uint64_t)dns->ttl_max * 1000000000ull;
		if (tg_state_write_hosts(st))
			*rc = TG_EXIT_SYSTEM;
		goto out;
	}
	if (st->meta.confirm_pending) {
		/* Leave the pending generation alone: a rollback would lose the change anyway. */
		tg_err("%s: host addresses changed, but a reload awaits confirmation; will retry\n", ifname);
		goto out;
	}
	printf("%s: host addresses changed; reloading %s\n", ifname, policy);
	if (tg_compile(&l.pol, (int)st->meta.facing, &l.hosts, &img) ||
	    tg_apply_image(st, &l, policy, 0, &img) != TG_EXIT_OK) {
		*rc = TG_EXIT_SYSTEM;
		goto out;
	}
	next = tg_hosts_next_due(st->hosts, dns);
	if (!next)
		next = now + (uint64_t)dns->ttl_max * 1000000000ull;
out:
	fflush(stdout);
	/* The generation in force now: --watch looks at the interface again
	 * as soon as another one replaces it (a reload, a new attach). */
	*loaded_ns = st->meta.current.loaded_ns;
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

/*
 * --watch looks at the interfaces this often, whatever the TTLs say: for
 * ones attached since (without IFACE operands it follows every attached
 * one, and the packaged tollgate-dns starts before any filter) and for
 * reloads, which may bring new names.
 */
#define DNS_RESCAN_SECONDS 5
#define DNS_MAX_IFACES 64

/* Sleeps until DUE (0: ttl-max from now), at least a second, at most
 * ttl-max or DNS_RESCAN_SECONDS, whichever is shorter. */
static void wait_until_due(uint64_t due, const struct tg_dns_opts *dns)
{
	uint64_t now = tg_realtime_ns(), longest = (uint64_t)dns->ttl_max * 1000000000ull;

	if (DNS_RESCAN_SECONDS * 1000000000ull < longest)
		longest = DNS_RESCAN_SECONDS * 1000000000ull;
	if (!due || due > now + longest)
		due = now + longest;
	if (due < now + 1000000000ull)
		due = now + 1000000000ull;
	while (!dns_stop && tg_realtime_ns() < due) {
		struct timespec ts = { .tv_sec = 0, .tv_nsec = 200000000 };

		nanosleep(&ts, NULL);
	}
}

/* When each interface followed so far is next due (0: ask now), and when
 * the generation in force then was loaded: another generation (a reload,
 * which may bring new names, or a detach and a new attach) makes it due at
 * once. */
struct dns_schedule {
	char name[DNS_MAX_IFACES][IF_NAMESIZE];
	uint64_t due[DNS_MAX_IFACES];
	uint64_t loaded_ns[DNS_MAX_IFACES];
	int n;
};

/* Whether IFNAME runs another generation than the one loaded at LOADED_NS. */
static bool generation_changed(const char *ifname, uint64_t loaded_ns)
{
	struct tg_meta meta;

	return !tg_state_peek_meta(ifname, &meta) && meta.current.loaded_ns != loaded_ns;
}

/* Keeps the interfaces in NAMES only, each with its due time (0, due now,
 * when new) and generation, in that order. */
static void schedule_update(struct dns_schedule *sch, char (*names)[IF_NAMESIZE], int n)
{
	struct dns_schedule old = *sch;

	sch->n = n;
	for (int i = 0; i < n; i++) {
		snprintf(sch->name[i], IF_NAMESIZE, "%s", names[i]);
		sch->due[i] = 0;
		sch->loaded_ns[i] = 0;
		for (int j = 0; j < old.n; j++)
			if (!strcmp(old.name[j], names[i])) {
				sch->due[i] = old.due[j];
				sch->loaded_ns[i] = old.loaded_ns[j];
			}
	}
}

static int run_dns(const struct tg_command *cmd, int argc, char **argv)
{
	static char names[DNS_MAX_IFACES][IF_NAMESIZE];
	struct dns_args a = { .watch = false };
	static char given[DNS_MAX_IFACES][IF_NAMESIZE];
	static struct dns_schedule sch;
	struct tg_operands ops;
	int n, rc;

	tg_dns_defaults(&a.dns);
	rc = tg_parse_command(cmd, argc, argv, dns_option, &a, &ops);
	if (rc || ops.help)
		return rc;
	if (ops.n > DNS_MAX_IFACES) {
		tg_err("dns: at most %d interfaces\n", DNS_MAX_IFACES);
		return TG_EXIT_USAGE;
	}
	for (int i = 0; i < ops.n; i++) {
		if ((rc = tg_check_ifname(ops.v[i])))
			return rc;
		snprintf(given[i], IF_NAMESIZE, "%s", ops.v[i]);
	}
	signal(SIGTERM, on_dns_signal);
	signal(SIGINT, on_dns_signal);
	do {
		uint64_t due = 0, now = tg_realtime_ns();

		n = ops.n ? ops.n : tg_list_attached(names, DNS_MAX_IFACES);
		schedule_update(&sch, ops.n ? given : names, n < 0 ? 0 : n);
		for (int i = 0; i < sch.n && !dns_stop; i++) {
			/* An interface is asked about only when one of its names is due. */
			if (!sch.due[i] || sch.due[i] <= now || generation_changed(sch.name[i], sch.loaded_ns[i]))
				sch.due[i] = follow_interface(sch.name[i], &a.dns, &sch.loaded_ns[i], &rc);
			if (!due || sch.due[i] < due)
				due = sch.due[i];
		}
		if (!a.watch)
			break;
		wait_until_due(due, &a.dns);
	} while (!dns_stop);
	/* A watcher's failures were reported as they happened; its stop is not
	 * one (systemd would mark tollgate-dns failed at every stop after any). */
	return a.watch ? TG_EXIT_OK : rc;
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
