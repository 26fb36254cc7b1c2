// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * tollgate attach: creates the interface's pinned maps from the BPF object,
 * fills generation 1 and makes it active, and only then puts the program on
 * the link, so that no packet ever meets tollgate without a policy.
 */
#include "cli/apply.h"
#include "kernel/dataplane.h"
#include "kernel/egress.h"
#include "kernel/link.h"
#include "kernel/snapshot.h"
#include "policy/snapshot.h"
#include "lib/log.h"
#include "lib/util.h"

#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* The policy's files, for 'tollgate show': a failure is a warning, the
 * policy is enforced all the same. */
static void keep_snapshot(struct tg_state *st, const struct tg_loaded *l)
{
	uint8_t *snapshot;
	size_t len;
	int err;

	tg_snapshot_encode(&l->diags, &snapshot, &len);
	err = tg_snapshot_store(st->dir, 0, snapshot, len);
	free(snapshot);
	if (err)
		tg_snapshot_forget(st->dir, 0);
	tg_warn_snapshot(st->ifname, err);
}

/* Generation 1 in slot 0, active, with meta written: the state an attached
 * interface has, minus the program. */
static int create_state(struct tg_state *st, const struct tg_policy_args *a, const struct tg_loaded *l,
			struct tg_image *img, char **load_log)
{
	struct tg_slot_plan *plan = xcalloc(1, sizeof(*plan));
	struct tg_generation gen = { { -1, -1, -1, -1 } };
	struct tg_gen_layout layout;
	uint32_t want = (uint32_t)img->settings[TG_SET_FLOW_TABLE], flow_size = want;
	int err, host_lock;

	host_lock = tg_host_lock();
	if (mkdir(TG_PIN_ROOT, 0700) < 0 && errno != EEXIST) {
		err = -errno;
		tg_host_unlock(host_lock);
		free(plan);
		return err;
	}
	tg_dataplane_capture_log();
	/* clang-format off */
	err = tg_plan_slots(st->slots, 0, 1, img, plan) ?: tg_link_create_maps(st->dir, a->facing, want, &flow_size) ?:
	      tg_state_open_maps(st) ?: tg_state_apply_slot_plan(st, plan) ?: tg_gen_layout_read(NULL, &layout) ?:
	      tg_generation_build(&layout, img, &gen, NULL) ?: tg_generation_install(st->outer_fd, 0, &gen) ?:
	      tg_generation_activate(st->active_fd, 0);
	/* clang-format on */
	tg_host_unlock(host_lock);
	free(plan);
	tg_generation_close(&gen);
	*load_log = tg_dataplane_take_log();
	if (err)
		return err;
	tg_warn_flow_table_size(st->ifname, want, flow_size);
	st->meta = (struct tg_meta){ .version = TG_META_VERSION,
				     .generation = 1,
				     .facing = (uint32_t)a->facing,
				     .mode = (uint32_t)a->mode,
				     .active_slot = 0 };
	tg_describe_policy(l, a->policy, &st->meta.current);
	keep_snapshot(st, l);
	return tg_state_write_slots(st) ?: tg_state_write_hosts(st) ?: tg_state_write_meta(st);
}

static void print_attached(const struct tg_state *st, const struct tg_link *link)
{
	printf("%s: attached (%s, facing %s, %s, egress %s), policy %s, %u services, generation 1\n", st->ifname,
	       st->meta.mode == TG_MODE_SKB ? "skb" : "native",
	       st->meta.facing == TG_FACING_INSIDE ? "inside" : "outside",
	       link->kind == TG_ATTACH_DISPATCHER ? "libxdp dispatcher" : "direct",
	       tg_egress_kind_name(st->meta.egress_kind), st->meta.current.path, st->meta.current.nservices);
	if (link->kind == TG_ATTACH_DIRECT)
		tg_info("note: %s: tollgate runs without libxdp's dispatcher, so no other XDP program can share %s (%s)\n",
			st->ifname, st->ifname, link->note);
}

/* Says why the state could not be made: the kernel's refusal, or a state error. */
static int report_create_error(const char *ifname, int err, const char *load_log)
{
	if (err == -ENOSPC || err == -EACCES || err == -EPERM)
		return tg_report_state_error(ifname, err);
	tg_report_load_error(err, load_log);
	return TG_EXIT_SYSTEM;
}

/* What the kernel runs now is ours: record it, so that status can check. */
static void record_link(struct tg_state *st, const struct tg_link *link, int ifindex)
{
	int err;

	st->meta.prog_id = link->prog_id;
	st->meta.ifindex = (uint32_t)ifindex;
	st->meta.attach_kind = link->kind;
	tg_link_record_netns(&st->meta);
	memcpy(st->meta.attach_note, link->note, sizeof(st->meta.attach_note));
	err = tg_state_write_meta(st);
	if (err)
		tg_warn("%s: attached, but the program's id could not be recorded (%s); status will say it is not enforcing\n",
			st->ifname, tg_strerror(err));
}

/* Egress first: the host's requests are recorded before XDP wants their
 * flows, so no reply to a request in flight meets an empty table. */
static int attach_egress(struct tg_state *st, int facing, int ifindex)
{
	struct tg_egress eg;
	int err = tg_egress_attach(st->dir, facing, ifindex, &eg);

	st->meta.ifindex = (uint32_t)ifindex; /* so a failure can remove a clsact filter */
	if (err)
		return err;
	st->meta.egress_kind = eg.kind;
	st->meta.egress_prog_id = eg.prog_id;
	return tg_state_write_meta(st);
}

static int do_attach(struct tg_policy_args *a, struct tg_loaded *l, struct tg_state *st)
{
	struct tg_image img = { 0 };
	struct tg_link link;
	char *load_log = NULL;
	int ifindex = (int)if_nametoindex(a->ifname), rc, err;

	if (!ifindex)
		return tg_report_state_error(a->ifname, -ENODEV);
	if (tg_state_exists(a->ifname))
		return tg_report_state_error(a->ifname, -EEXIST);
	/* clang-format off */
	rc = tg_build_image(l, st, a->policy, a->facing, &a->dns, &img) ?:
	     tg_ssh_guard(l, a->facing, a->ifname, a->force);
	/* clang-format on */
	if (rc)
		goto out;
	err = create_state(st, a, l, &img, &load_log);
	if (err) {
		tg_state_remove(st);
		rc = report_create_error(a->ifname, err, load_log);
		goto out;
	}
	err = attach_egress(st, a->facing, ifindex);
	if (err) {
		tg_state_remove(st);
		tg_err("cannot attach the egress classifier that records %s's flows: %s (tollgate needs tcx or a clsact qdisc on %s; check 'tc qdisc show dev %s')\n",
		       a->ifname, tg_strerror(err), a->ifname, a->ifname);
		rc = TG_EXIT_SYSTEM;
		goto out;
	}
	err = tg_link_attach(st->dir, a->facing, ifindex, a->mode, &link);
	if (err) {
		tg_state_remove(st);
		rc = tg_report_attach_error(err, a->ifname, ifindex, a->mode);
		goto out;
	}
	record_link(st, &link, ifindex);
	print_attached(st, &link);
out:
	free(load_log);
	tg_image_free(&img);
	return rc;
}

static int run_attach(const struct tg_command *cmd, int argc, char **argv)
{
	struct tg_loaded l = { 0 };
	struct tg_policy_args a;
	struct tg_state st;
	bool help;
	int rc, err;

	tg_diags_init(&l.diags, stderr);
	rc = tg_parse_policy_args(cmd, argc, argv, &l, &a, &help);
	if (rc || help)
		goto out_free;
	tg_state_init(&st, a.ifname);
	err = tg_bpffs_check() ?: tg_state_lock(&st);
	rc = err ? tg_report_state_error(a.ifname, err) : do_attach(&a, &l, &st);
	tg_state_close(&st);
out_free:
	tg_loaded_free(&l);
	return rc;
}

static const struct tg_option attach_options[] = {
	TG_OPT_FACING,
	{ "mode", 'm', "native|skb", 0, NULL, "XDP in the driver (default) or generic XDP for drivers without it" },
	TG_OPT_FORCE("attach even if the policy would drop the SSH session this command runs in"),
	TG_OPT_HOST,
	TG_DNS_OPTIONS,
	TG_OPT_END,
};

const struct tg_command tg_cmd_attach = {
	.name = "attach",
	.run = run_attach,
	.options = attach_options,
	.operands = "IFACE POLICY",
	.min_operands = 2,
	.max_operands = 2,
	.summary = "Puts POLICY on IFACE: the maps are filled before the program is attached.",
};
