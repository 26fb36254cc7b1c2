// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * tollgate reload, confirm and the hidden rollback-timer. Every command takes
 * the interface's lock, finishes or forgets a switch that a crash
 * interrupted, and then works only from the pinned state.
 */
#include "cli/apply.h"
#include "kernel/flows.h"
#include "kernel/link.h"
#include "kernel/switch.h"
#include "lib/log.h"
#include "lib/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int refuse_if_confirm_pending(const struct tg_state *st)
{
	if (!st->meta.confirm_pending)
		return 0;
	tg_err("%s: generation %u awaits confirmation; run 'tollgate confirm %s' first (or let it roll back)\n",
	       st->ifname, st->meta.generation, st->ifname);
	return TG_EXIT_INPUT;
}

/* Reloading a policy onto a link that no longer runs tollgate would report
 * success while nothing enforces it. */
static int refuse_if_not_enforcing(const struct tg_state *st)
{
	char why[256];

	if (tg_link_enforcing(st->ifname, &st->meta, why, sizeof(why)) == 1)
		return 0;
	tg_err("%s: not enforcing: %s\n", st->ifname, why);
	tg_err("run 'tollgate detach %s' and attach again\n", st->ifname);
	return TG_EXIT_SYSTEM;
}

static int do_reload(struct tg_policy_args *a, struct tg_loaded *l, struct tg_state *st)
{
	struct tg_image img = { 0 };
	int rc, err;

	err = tg_state_acquire(st, a->ifname);
	if (err)
		return tg_report_state_error(a->ifname, err);
	/* clang-format off */
	rc = refuse_if_confirm_pending(st) ?: refuse_if_not_enforcing(st) ?:
	     tg_build_image(l, st, a->policy, (int)st->meta.facing, &a->dns, &img) ?:
	     tg_ssh_guard(l, (int)st->meta.facing, a->ifname, a->force) ?:
	     tg_apply_image(st, l, a->policy, a->confirm_seconds, &img);
	/* clang-format on */
	if (!rc)
		tg_warn_flow_table_size(a->ifname, (uint32_t)img.settings[TG_SET_FLOW_TABLE], tg_flows_size());
	tg_image_free(&img);
	return rc;
}

/*
 * --dry-run: everything a reload checks and compiles, compared with the
 * generation in force; nothing is written. The old side is read before the
 * new policy's host names are resolved, which updates the host table in
 * memory only.
 */
static int do_dry_run(struct tg_policy_args *a, struct tg_loaded *l, struct tg_state *st)
{
	struct tg_image img = { 0 };
	struct tg_policy_view view = { 0 };
	struct tg_enforced old;
	size_t changes;
	int rc, err;

	err = tg_state_acquire(st, a->ifname);
	if (err)
		return tg_report_state_error(a->ifname, err);
	rc = tg_enforced_load(st, &old);
	if (!rc)
		rc = tg_build_image(l, st, a->policy, (int)st->meta.facing, &a->dns, &img);
	if (!rc) {
		tg_view_build(&l->pol, &l->hosts, &view);
		printf("%s: reloading %s would change generation %u as follows:\n", a->ifname, a->policy,
		       st->meta.generation);
		changes = tg_print_changes(&old, &img, &view, stdout);
		if (!changes)
			printf("  nothing: the same settings, services, order and peers\n");
		printf("%s: dry run, nothing changed\n", a->ifname);
		/* What would stop the real reload still stops it. */
		rc = refuse_if_confirm_pending(st)	 ?:
			     refuse_if_not_enforcing(st) ?:
							   tg_ssh_guard(l, (int)st->meta.facing, a->ifname, a->force);
	}
	tg_view_free(&view);
	tg_image_free(&img);
	tg_enforced_free(&old);
	return rc;
}

static int run_reload(const struct tg_command *cmd, int argc, char **argv)
{
	struct tg_loaded l = { 0 };
	struct tg_policy_args a;
	struct tg_state st;
	bool help;
	int rc;

	tg_diags_init(&l.diags, stderr);
	tg_state_init(&st, "");
	rc = tg_parse_policy_args(cmd, argc, argv, &l, &a, &help);
	if (!rc && !help) {
		if (a.dry_run && a.confirm_seconds) {
			tg_err("--dry-run changes nothing, so there is nothing to --confirm\n");
			rc = TG_EXIT_USAGE;
		} else {
			rc = a.dry_run ? do_dry_run(&a, &l, &st) : do_reload(&a, &l, &st);
		}
	}
	tg_state_close(&st);
	tg_loaded_free(&l);
	return rc;
}

static const struct tg_option reload_options[] = {
	{ "confirm", 'c', "SECONDS", 0, NULL, "roll back after SECONDS unless 'tollgate confirm IFACE' runs first" },
	{ "dry-run", 'D', NULL, 0, NULL, "check and compile, print what would change, change nothing" },
	TG_OPT_FORCE("reload even if the policy would drop the SSH session this command runs in"),
	TG_OPT_HOST,
	TG_DNS_OPTIONS,
	TG_OPT_END,
};

const struct tg_command tg_cmd_reload = {
	.name = "reload",
	.run = run_reload,
	.options = reload_options,
	.operands = "IFACE POLICY",
	.min_operands = 2,
	.max_operands = 2,
	.summary =
		"Replaces IFACE's policy with POLICY in one atomic switch; counters of services kept by name carry on.",
};

static int do_confirm(const char *ifname)
{
	struct tg_state st;
	int rc = TG_EXIT_OK, err;

	err = tg_state_acquire(&st, ifname);
	if (err) {
		rc = tg_report_state_error(ifname, err);
	} else if (!st.meta.confirm_pending) {
		tg_err("%s: nothing to confirm (generation %u is in force)\n", ifname, st.meta.generation);
		rc = TG_EXIT_INPUT;
	} else {
		pid_t timer = (pid_t)st.meta.confirm_pid;

		st.meta.confirm_pending = 0;
		st.meta.confirm_deadline_ns = 0;
		st.meta.confirm_pid = 0;
		memset(&st.meta.previous, 0, sizeof(st.meta.previous));
		if (tg_state_write_meta(&st)) {
			tg_err("%s: cannot record the confirmation\n", ifname);
			rc = TG_EXIT_SYSTEM;
		} else {
			tg_stop_rollback_timer(timer, ifname);
			printf("%s: generation %u confirmed\n", ifname, st.meta.generation);
		}
	}
	tg_state_close(&st);
	return rc;
}

static int run_confirm(const struct tg_command *cmd, int argc, char **argv)
{
	struct tg_operands ops;
	int rc = tg_parse_command(cmd, argc, argv, NULL, NULL, &ops);

	if (rc || ops.help)
		return rc;
	return tg_check_ifname(ops.v[0]) ?: do_confirm(ops.v[0]);
}

const struct tg_command tg_cmd_confirm = {
	.name = "confirm",
	.run = run_confirm,
	.operands = "IFACE",
	.min_operands = 1,
	.max_operands = 1,
	.summary = "Keeps the generation a 'reload --confirm' put on IFACE: its rollback timer stops.",
};

/* The process a --confirm reload leaves behind. */
static int run_rollback_timer(const struct tg_command *cmd, int argc, char **argv)
{
	struct tg_state st;
	uint32_t generation;
	uint64_t deadline;

	(void)cmd;
	if (argc != 4)
		return TG_EXIT_USAGE;
	generation = (uint32_t)strtoul(argv[2], NULL, 10);
	deadline = strtoull(argv[3], NULL, 10);
	for (uint64_t now = tg_realtime_ns(); now < deadline; now = tg_realtime_ns()) {
		uint64_t left = deadline - now;
		struct timespec ts = { .tv_sec = (time_t)(left / 1000000000ull),
				       .tv_nsec = (long)(left % 1000000000ull) };

		nanosleep(&ts, NULL);
	}
	/* The deadline tells this reload apart from a later one of the same
	 * generation number (after a failed reload). */
	if (tg_state_acquire(&st, argv[1]) == 0 && st.meta.confirm_pending && st.meta.generation == generation &&
	    st.meta.confirm_deadline_ns == deadline)
		tg_state_rollback(&st);
	tg_state_close(&st);
	return 0;
}

const struct tg_command tg_cmd_rollback_timer = {
	.name = "rollback-timer",
	.run = run_rollback_timer,
	.operands = "IFACE GENERATION DEADLINE",
	.min_operands = 3,
	.max_operands = 3,
	.hidden = true,
};
