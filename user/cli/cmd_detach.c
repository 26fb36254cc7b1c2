// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* tollgate detach: the program off the link, then the pinned state. */
#include "cli/apply.h"
#include "kernel/link.h"
#include "lib/log.h"
#include "lib/util.h"

#include <bpf/bpf.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>

/* The program id attach recorded, when the state can be read. */
static uint32_t recorded_prog_id(struct tg_state *st)
{
	uint32_t zero = 0;

	if (tg_state_open_maps(st) || bpf_map_lookup_elem(st->meta_fd, &zero, &st->meta) ||
	    st->meta.version != TG_META_VERSION)
		return 0;
	return st->meta.prog_id;
}

/*
 * Pins are named by interface only, so the state found may belong to an
 * interface of that name in another network namespace: it is removed only
 * when our own program is detached here, or with --force.
 */
static int detach_here(struct tg_state *st, const char *ifname, bool force)
{
	int ifindex = (int)if_nametoindex(ifname);
	bool has_state = tg_state_exists(ifname);
	int err = ifindex ? tg_link_detach(ifindex, recorded_prog_id(st)) : -ENODEV;

	if (err && err != -ENOENT && err != -ENODEV) {
		tg_err("cannot detach from %s: %s\n", ifname, tg_strerror(err));
		return TG_EXIT_SYSTEM;
	}
	if (err && !has_state)
		return tg_report_state_error(ifname, -ENOENT);
	/* Our program was removed from outside (ip link set dev X xdp off). */
	if (err == -ENOENT && st->meta.ifindex && st->meta.ifindex == (uint32_t)ifindex) {
		tg_state_remove(st);
		printf("%s: removed tollgate's state; its program had already been removed from %s\n", ifname, ifname);
		return TG_EXIT_OK;
	}
	if (err && !force) {
		tg_err("%s %s, but tollgate state for %s exists (attached in another network namespace?); it is kept: run detach where %s is, or 'tollgate detach --force %s' if it is gone for good\n",
		       ifname, err == -ENODEV ? "does not exist here" : "runs no tollgate program here", ifname, ifname,
		       ifname);
		return TG_EXIT_INPUT;
	}
	tg_state_remove(st);
	printf("%s: %s\n", ifname, err ? "removed the state of an interface that is gone" : "detached");
	return TG_EXIT_OK;
}

struct detach_args {
	bool force;
};

static int detach_option(void *ctx, int id, const char *arg)
{
	struct detach_args *a = ctx;

	(void)arg;
	a->force = id == 'F';
	return 0;
}

static int run_detach(const struct tg_command *cmd, int argc, char **argv)
{
	struct detach_args a = { false };
	struct tg_operands ops;
	struct tg_state st;
	int err, rc = tg_parse_command(cmd, argc, argv, detach_option, &a, &ops);

	if (rc || ops.help)
		return rc;
	rc = tg_check_ifname(ops.v[0]);
	if (rc)
		return rc;
	tg_state_init(&st, ops.v[0]);
	err = tg_bpffs_check() ?: tg_state_lock(&st);
	rc = err ? tg_report_state_error(ops.v[0], err) : detach_here(&st, ops.v[0], a.force);
	tg_state_close(&st);
	return rc;
}

static const struct tg_option detach_options[] = {
	TG_OPT_FORCE("also remove state pinned for an interface that is not here (another namespace, or gone)"),
	TG_OPT_END,
};

const struct tg_command tg_cmd_detach = {
	.name = "detach",
	.run = run_detach,
	.options = detach_options,
	.operands = "IFACE",
	.min_operands = 1,
	.max_operands = 1,
	.summary = "Takes tollgate's program off IFACE, then removes its pinned state.",
};
