// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Attaching the egress classifier: tcx, or clsact where there is no tcx. */
#include "kernel/egress.h"
#include "kernel/dataplane.h"
#include "kernel/flows.h"
#include "tollgate.skel.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* From the kernel's uapi (6.6); Debian 12's libbpf headers predate it. */
#define TG_BPF_TCX_EGRESS 47
/* The classifier's name in bpf/tollgate.bpf.c, as the kernel keeps it. */
#define EGRESS_PROG_NAME "tollgate_egress"

const char *tg_egress_kind_name(enum tg_egress_kind kind)
{
	return kind == TG_EGRESS_TCX ? "tcx" : kind == TG_EGRESS_CLSACT ? "clsact" : "none";
}

static void link_pin_path(char *buf, size_t size, const char *pin_dir)
{
	snprintf(buf, size, "%s/%s", pin_dir, TG_PIN_EGRESS_LINK);
}

/* A tcx link, pinned so that it outlives this process. The kernel without
 * tcx refuses the attach type: that refusal is the probe. */
static int attach_tcx(int prog_fd, const char *pin_dir, int ifindex)
{
	char path[TG_PATH_MAX + 32];
	int fd = bpf_link_create(prog_fd, ifindex, (enum bpf_attach_type)TG_BPF_TCX_EGRESS, NULL), err;

	if (fd < 0)
		return -errno;
	link_pin_path(path, sizeof(path), pin_dir);
	err = bpf_obj_pin(fd, path) ? -errno : 0;
	close(fd); /* the pin holds the link now; on error closing detaches it */
	return err;
}

static int attach_clsact(int prog_fd, int ifindex)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_EGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .prog_fd = prog_fd, .handle = TG_CLSACT_HANDLE, .priority = TG_CLSACT_PRIORITY);
	int err = bpf_tc_hook_create(&hook);

	if (err && err != -EEXIST)
		return err;
	return bpf_tc_attach(&hook, &opts);
}

static uint32_t prog_id_of(int fd)
{
	struct bpf_prog_info info;
	uint32_t len = sizeof(info);

	memset(&info, 0, sizeof(info));
	return bpf_obj_get_info_by_fd(fd, &info, &len) ? 0 : info.id;
}

int tg_egress_attach(const char *pin_dir, int facing, int ifindex, struct tg_egress *out)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts, .pin_root_path = pin_dir);
	struct tollgate *skel = tollgate__open_opts(&opts);
	int err, fd;

	memset(out, 0, sizeof(*out));
	if (!skel)
		return -errno;
	tg_dataplane_configure(skel, facing, false);
	bpf_program__set_autoload(skel->progs.tollgate_xdp, false);
	err = tg_flows_configure(skel, TG_FLOW_TABLE_DEFAULT, NULL) ?: tollgate__load(skel);
	if (err)
		goto out;
	fd = bpf_program__fd(skel->progs.tollgate_egress);
	out->prog_id = prog_id_of(fd);
	err = attach_tcx(fd, pin_dir, ifindex);
	out->kind = TG_EGRESS_TCX;
	if (err == -EINVAL || err == -EOPNOTSUPP) {
		err = attach_clsact(fd, ifindex);
		out->kind = TG_EGRESS_CLSACT;
	}
	if (err)
		out->kind = TG_EGRESS_NONE;
out:
	tollgate__destroy(skel);
	return err;
}

/* Whether the program `id` is tollgate's egress classifier, by its name:
 * for a filter whose id no state recorded. */
static bool is_tollgate_egress(uint32_t id)
{
	struct bpf_prog_info info;
	uint32_t len = sizeof(info);
	int fd = bpf_prog_get_fd_by_id(id);
	bool ours;

	if (fd < 0)
		return false;
	memset(&info, 0, sizeof(info));
	ours = !bpf_obj_get_info_by_fd(fd, &info, &len) && !strcmp(info.name, EGRESS_PROG_NAME);
	close(fd);
	return ours;
}

int tg_egress_detach(const char *pin_dir, int ifindex, enum tg_egress_kind kind, uint32_t prog_id)
{
	char path[TG_PATH_MAX + 32];

	if (kind == TG_EGRESS_TCX) {
		/* The pin is the link's last reference: removing it detaches. */
		link_pin_path(path, sizeof(path), pin_dir);
		return unlink(path) && errno != ENOENT ? -errno : 0;
	}
	if (kind == TG_EGRESS_CLSACT && ifindex) {
		LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_EGRESS);
		LIBBPF_OPTS(bpf_tc_opts, q, .handle = TG_CLSACT_HANDLE, .priority = TG_CLSACT_PRIORITY);
		int err = bpf_tc_query(&hook, &q);

		if (err)
			return err == -ENOENT ? 0 : err;
		if (prog_id ? q.prog_id != prog_id : !is_tollgate_egress(q.prog_id))
			return 0; /* someone else's filter under our handle: leave it */
		LIBBPF_OPTS(bpf_tc_opts, d, .handle = TG_CLSACT_HANDLE, .priority = TG_CLSACT_PRIORITY);
		return bpf_tc_detach(&hook, &d);
	}
	return 0;
}
