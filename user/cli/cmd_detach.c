// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* tollgate detach: the program off the link, then the pinned state. */
#include "cli/apply.h"
#include "kernel/link.h"
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
		fprintf(stderr, "tollgate: cannot detach from %s: %s\n", ifname, tg_strerror(err));
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
		fprintf(stderr, "tollgate: %s %s, but tollgate state for %s exists (attached in another network namespace?); it is kept: run detach where %s is, or 'tollgate detach --force %s' if it is gone for good\n",
			ifname, err == -ENODEV ? "does not exist here" : "runs no tollgate program here", ifname, ifname,
			ifname);
		return TG_EXIT_INPUT;
	}
	tg_state_remove(st);
	printf("%s: %s\n", ifname, err ? "removed the state of an interface that is gone" : "detached");
	return TG_EXIT_OK;
}

int cmd_detach(int argc, char **argv)
{
	bool force = argc == 3 && !strcmp(argv[1], "--force");
	const char *ifname = argv[argc - 1];
	struct tg_state st;
	int err, rc;

	if ((argc != 2 && !force) || ifname[0] == '-') {
		fprintf(stderr, "usage: tollgate detach [--force] IFACE\n");
		return TG_EXIT_USAGE;
	}
	tg_state_init(&st, ifname);
	err = tg_bpffs_check() ?: tg_state_lock(&st);
	rc = err ? tg_report_state_error(ifname, err) : detach_here(&st, ifname, force);
	tg_state_close(&st);
	return rc;
}
