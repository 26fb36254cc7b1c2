// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Attaching, detaching and checking tollgate's program (see link.h). */
#include "kernel/link.h"
#include "kernel/dataplane.h"
#include "kernel/flows.h"
#include "lib/log.h"
#include "lib/util.h"
#include "tollgate.skel.h"

#include <bpf/libbpf.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xdp/libxdp.h>

#define PROG_NAME "tollgate_xdp"

/* libxdp's messages, kept: they are the reason when the dispatcher is refused. */
static char libxdp_said[TG_NOTE_MAX];

/* Appends as much of text as fits; notes are for people, a cut one still reads. */
static void note_append(char *note, size_t size, const char *text)
{
	size_t used = strlen(note), n = strlen(text);

	if (used + 1 >= size)
		return;
	if (n > size - used - 1)
		n = size - used - 1;
	memcpy(note + used, text, n);
	note[used + n] = '\0';
}

static int keep_libxdp_message(enum libxdp_print_level level, const char *fmt, va_list ap)
{
	static const char *const words[] = {
		[LIBXDP_WARN] = "warning", [LIBXDP_INFO] = "info", [LIBXDP_DEBUG] = "debug"
	};
	char line[256];
	va_list copy;
	int n;

	va_copy(copy, ap);
	tg_log_library("libxdp", words[level], fmt, copy);
	va_end(copy);
	if (level == LIBXDP_DEBUG)
		return 0;
	n = vsnprintf(line, sizeof(line), fmt, ap);
	if (n <= 0)
		return 0;
	line[strcspn(line, "\n")] = '\0';
	if (libxdp_said[0])
		note_append(libxdp_said, sizeof(libxdp_said), "; ");
	note_append(libxdp_said, sizeof(libxdp_said), line);
	return 0;
}

void tg_link_route_logs(void)
{
	libxdp_set_print(keep_libxdp_message);
}

/* The object against pin_dir's maps and the host's flow tables. The egress
 * classifier is loaded on its own (kernel/egress.c), never here. */
static struct tollgate *open_object(const char *pin_dir, int facing, uint32_t flow_table, uint32_t *flow_size)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts, .pin_root_path = pin_dir);
	struct tollgate *skel = tollgate__open_opts(&opts);
	int err;

	if (!skel)
		return NULL;
	tg_dataplane_configure(skel, facing, false);
	bpf_program__set_autoload(skel->progs.tollgate_egress, false);
	err = tg_flows_configure(skel, flow_table, flow_size);
	if (err) {
		tollgate__destroy(skel);
		errno = -err;
		return NULL;
	}
	return skel;
}

int tg_link_create_maps(const char *pin_dir, int facing, uint32_t flow_table, uint32_t *flow_size)
{
	bool rebuild = tg_flows_hints_missing();
	struct tollgate *skel = open_object(pin_dir, facing, flow_table, flow_size);
	int err;

	if (!skel)
		return -errno;
	bpf_program__set_autoload(skel->progs.tollgate_xdp, false);
	err = tollgate__load(skel);
	tollgate__destroy(skel);
	/* Before any program that reads the hints runs. */
	if (!err && rebuild)
		err = tg_flows_rebuild_hints();
	return err;
}

static int attach_once(const char *pin_dir, int facing, int ifindex, int mode, struct tg_link *out)
{
	struct tollgate *skel = open_object(pin_dir, facing, TG_FLOW_TABLE_DEFAULT, NULL);
	struct xdp_program *xp;
	int err;

	if (!skel)
		return -errno;
	xp = xdp_program__from_bpf_obj(skel->obj, NULL);
	err = libxdp_get_error(xp);
	if (!err) {
		err = xdp_program__attach(xp, ifindex, mode == TG_MODE_SKB ? XDP_MODE_SKB : XDP_MODE_NATIVE, 0);
		if (!err)
			out->prog_id = xdp_program__id(xp);
		xdp_program__close(xp);
	}
	tollgate__destroy(skel);
	return err;
}

static bool link_has_xdp(int ifindex)
{
	struct xdp_multiprog *mp = xdp_multiprog__get_from_ifindex(ifindex);
	bool has = mp && !libxdp_get_error(mp) && (xdp_multiprog__main_prog(mp) || xdp_multiprog__hw_prog(mp));

	if (mp && !libxdp_get_error(mp))
		xdp_multiprog__close(mp);
	return has;
}

static bool attached_alone(int ifindex)
{
	struct xdp_multiprog *mp = xdp_multiprog__get_from_ifindex(ifindex);
	bool alone = false;

	if (mp && !libxdp_get_error(mp)) {
		alone = xdp_multiprog__is_legacy(mp);
		xdp_multiprog__close(mp);
	}
	return alone;
}

/*
 * The dispatcher first. libxdp falls back to a plain attach by itself where
 * the kernel lacks what the dispatcher needs; where the dispatcher is
 * refused for another reason and the NIC runs nothing, a plain attach still
 * works, so we make it, and keep the reason.
 */
int tg_link_attach(const char *pin_dir, int facing, int ifindex, int mode, struct tg_link *out)
{
	libxdp_print_fn_t old = libxdp_set_print(keep_libxdp_message);
	char first[TG_NOTE_MAX], said[TG_NOTE_MAX];
	int err;

	memset(out, 0, sizeof(*out));
	libxdp_said[0] = '\0';
	err = attach_once(pin_dir, facing, ifindex, mode, out);
	memcpy(first, libxdp_said, sizeof(first));
	if (err && err != -EEXIST && err != -EBUSY && err != -EOPNOTSUPP && !link_has_xdp(ifindex)) {
		libxdp_said[0] = '\0';
		setenv("LIBXDP_SKIP_DISPATCHER", "1", 1);
		if (!attach_once(pin_dir, facing, ifindex, mode, out)) {
			memcpy(said, first, sizeof(said));
			first[0] = '\0';
			note_append(first, sizeof(first), "libxdp's dispatcher failed (");
			note_append(first, sizeof(first), tg_strerror(err));
			note_append(first, sizeof(first), "): ");
			note_append(first, sizeof(first), said[0] ? said : "no reason given");
			err = 0;
		}
		unsetenv("LIBXDP_SKIP_DISPATCHER");
	}
	libxdp_set_print(old);
	if (err)
		return err;
	out->kind = attached_alone(ifindex) ? TG_ATTACH_DIRECT : TG_ATTACH_DISPATCHER;
	if (out->kind == TG_ATTACH_DIRECT)
		note_append(out->note, sizeof(out->note), first[0] ? first : "libxdp attached it alone");
	return 0;
}

static bool is_ours(struct xdp_program *p, uint32_t prog_id)
{
	return prog_id ? xdp_program__id(p) == prog_id : !strcmp(xdp_program__name(p), PROG_NAME);
}

int tg_link_detach(int ifindex, uint32_t prog_id)
{
	struct xdp_multiprog *mp = xdp_multiprog__get_from_ifindex(ifindex);
	struct xdp_program *p = NULL;
	libxdp_print_fn_t old;
	int err = -ENOENT;

	if (!mp || libxdp_get_error(mp))
		return -ENOENT;
	old = libxdp_set_print(keep_libxdp_message);
	if (xdp_multiprog__is_legacy(mp)) {
		p = xdp_multiprog__main_prog(mp);
		if (p && is_ours(p, prog_id))
			err = xdp_program__detach(p, ifindex, xdp_multiprog__attach_mode(mp), 0);
	} else {
		while ((p = xdp_multiprog__next_prog(p, mp)))
			if (is_ours(p, prog_id)) {
				err = xdp_program__detach(p, ifindex, xdp_multiprog__attach_mode(mp), 0);
				break;
			}
	}
	libxdp_set_print(old);
	xdp_multiprog__close(mp);
	return err;
}

int tg_link_check(int ifindex, uint32_t prog_id, char *why, size_t size)
{
	struct xdp_multiprog *mp = xdp_multiprog__get_from_ifindex(ifindex);
	struct xdp_program *p = NULL;
	int found = 0;

	if (!mp || libxdp_get_error(mp)) {
		int err = mp ? (int)libxdp_get_error(mp) : -ENOENT;

		if (err == -ENOENT)
			snprintf(why, size, "it runs no XDP program (removed from outside tollgate?)");
		else
			snprintf(why, size, "cannot read its XDP programs: %s", tg_strerror(err));
		return err == -EPERM || err == -EACCES ? -EACCES : 0;
	}
	if (xdp_multiprog__is_legacy(mp)) {
		p = xdp_multiprog__main_prog(mp);
		found = p && xdp_program__id(p) == prog_id;
	} else {
		while (!found && (p = xdp_multiprog__next_prog(p, mp)))
			found = xdp_program__id(p) == prog_id;
	}
	if (!found) {
		p = xdp_multiprog__main_prog(mp);
		if (p)
			snprintf(why, size, "it runs the XDP program '%s' (id %u) instead of tollgate's (id %u)",
				 xdp_program__name(p), xdp_program__id(p), prog_id);
		else
			snprintf(why, size, "it runs no XDP program (removed from outside tollgate?)");
	}
	xdp_multiprog__close(mp);
	return found;
}

void tg_link_describe(int ifindex, char *buf, size_t size)
{
	struct xdp_multiprog *mp = xdp_multiprog__get_from_ifindex(ifindex);
	struct xdp_program *p;

	snprintf(buf, size, "an XDP program");
	if (!mp || libxdp_get_error(mp))
		return;
	p = xdp_multiprog__main_prog(mp);
	if (p)
		snprintf(buf, size, "the XDP program '%s' (id %u)", xdp_program__name(p), xdp_program__id(p));
	xdp_multiprog__close(mp);
}

int tg_link_record_netns(struct tg_meta *meta)
{
	struct stat sb;

	if (stat("/proc/self/ns/net", &sb) < 0)
		return -errno;
	meta->netns_dev = sb.st_dev;
	meta->netns_ino = sb.st_ino;
	return 0;
}

static bool is_netns(const char *path, const struct tg_meta *meta)
{
	struct stat sb;

	return stat(path, &sb) == 0 && sb.st_dev == meta->netns_dev && sb.st_ino == meta->netns_ino;
}

/* A handle on the namespace the interface was attached in: a name of
 * 'ip netns', else any process that lives there. */
static int open_netns(const struct tg_meta *meta)
{
	const char *const dirs[] = { "/run/netns", "/proc" };
	char path[PATH_MAX];
	int fd = -ENOENT;

	for (size_t d = 0; d < 2 && fd < 0; d++) {
		DIR *dir = opendir(dirs[d]);
		struct dirent *e;

		while (dir && fd < 0 && (e = readdir(dir))) {
			if (e->d_name[0] == '.' || (d == 1 && !isdigit((unsigned char)e->d_name[0])))
				continue;
			snprintf(path, sizeof(path), d == 0 ? "%s/%s" : "%s/%s/ns/net", dirs[d], e->d_name);
			if (is_netns(path, meta))
				fd = open(path, O_RDONLY | O_CLOEXEC);
		}
		if (dir)
			closedir(dir);
	}
	return fd;
}

static int check_here(const char *ifname, const struct tg_meta *meta, char *why, size_t size)
{
	int ifindex = (int)if_nametoindex(ifname);

	if (!ifindex) {
		snprintf(why, size, "there is no interface %s (gone?)", ifname);
		return 0;
	}
	if (meta->ifindex && (int)meta->ifindex != ifindex) {
		snprintf(why, size, "%s was re-created (index %u, now %d) and runs no tollgate program", ifname,
			 meta->ifindex, ifindex);
		return 0;
	}
	return tg_link_check(ifindex, meta->prog_id, why, size);
}

/*
 * Interface names are per network namespace, and the pinned state is not:
 * a command run elsewhere (the exporter in the host's namespace, say) looks
 * from the namespace the interface was attached in. Only this thread moves.
 */
static int check_in_netns(const char *ifname, const struct tg_meta *meta, char *why, size_t size)
{
	int home = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC), there = open_netns(meta), found;

	if (home < 0 || there < 0 || setns(there, CLONE_NEWNET) < 0) {
		snprintf(why, size, "%s is in another network namespace, which cannot be entered from here", ifname);
		found = 0;
	} else {
		found = check_here(ifname, meta, why, size);
		if (setns(home, CLONE_NEWNET) < 0)
			found = -errno;
	}
	if (home >= 0)
		close(home);
	if (there >= 0)
		close(there);
	return found;
}

int tg_link_enforcing(const char *ifname, const struct tg_meta *meta, char *why, size_t size)
{
	snprintf(why, size, "enforcing");
	if (!meta->prog_id) {
		snprintf(why, size, "the attach that made this state did not finish");
		return 0;
	}
	if (meta->netns_ino && !is_netns("/proc/self/ns/net", meta))
		return check_in_netns(ifname, meta, why, size);
	return check_here(ifname, meta, why, size);
}
