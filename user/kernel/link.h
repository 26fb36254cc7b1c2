/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * tollgate's program on a link, through libxdp: beside other programs under
 * libxdp's dispatcher where the kernel allows it, alone where it does not,
 * and the check that the program the kernel runs is still ours.
 */
#ifndef TG_LINK_H
#define TG_LINK_H

#include "tollgate.h"

#include <stddef.h>
#include <stdint.h>

struct tg_link {
	uint32_t prog_id;
	enum tg_attach_kind kind;
	char note[TG_NOTE_MAX]; /* why direct, in libxdp's or the kernel's words */
};

/* Creates the interface's maps from the BPF object and pins them under
 * pin_dir (the host's flow tables under TG_PIN_SHARED, with flow_table
 * entries each unless they exist: *flow_size says what they hold); no
 * program is loaded. */
int tg_link_create_maps(const char *pin_dir, int facing, uint32_t flow_table, uint32_t *flow_size);
/* Loads the program (reusing pin_dir's maps) and attaches it. */
int tg_link_attach(const char *pin_dir, int facing, int ifindex, int mode, struct tg_link *out);
/* Detaches program prog_id (or any tollgate program, when 0) from ifindex,
 * leaving other programs in place; -ENOENT when there is none. */
int tg_link_detach(int ifindex, uint32_t prog_id);
/* 1 when ifindex runs prog_id, 0 when not (why says what runs instead). */
int tg_link_check(int ifindex, uint32_t prog_id, char *why, size_t size);
/* Records the network namespace this process is in (at attach). */
int tg_link_record_netns(struct tg_meta *meta);
/* 1 when ifname's program is the one meta records, 0 (and why) when not. */
int tg_link_enforcing(const char *ifname, const struct tg_meta *meta, char *why, size_t size);
/* "the XDP program 'NAME' (id N)", or "an XDP program". */
void tg_link_describe(int ifindex, char *buf, size_t size);

/* libxdp speaks through tollgate's log (see lib/log.h). */
void tg_link_route_logs(void);

#endif
