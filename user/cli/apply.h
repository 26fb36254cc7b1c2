/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * What the commands that put a policy on an interface share (attach, reload,
 * dns): their arguments, compiling for an interface, the SSH guard, applying
 * an image as the next generation, and the one place that turns state errors
 * into messages.
 */
#ifndef TG_APPLY_H
#define TG_APPLY_H

#include "cli/cli.h"
#include "kernel/hosts.h"
#include "kernel/state.h"

struct tg_policy_args {
	const char *ifname;
	const char *policy;
	int facing;
	int mode;
	unsigned confirm_seconds;
	bool force;
	struct tg_dns_opts dns;
};

/* 0, or an exit code after printing usage or the error. */
int tg_parse_policy_args(int argc, char **argv, const char *usage, bool reload, struct tg_loaded *l,
			 struct tg_policy_args *a);
void tg_dns_defaults(struct tg_dns_opts *dns);
/* --dns-server, --ttl-min, --ttl-max; -ENOENT when c is none of them. */
int tg_parse_dns_option(int c, const char *arg, struct tg_dns_opts *dns);

/* Says what a state error means and what to do; returns the exit code. */
int tg_report_state_error(const char *ifname, int err);

void tg_hash_policy(const struct tg_diags *d, char out[TG_HASH_HEX]);
void tg_describe_policy(const struct tg_loaded *l, const char *path, struct tg_policy_info *info);
int tg_resolve_hosts(struct tg_loaded *l, struct tg_state *st, const struct tg_dns_opts *dns, bool use_fixed,
		     bool force, bool *changed);
int tg_build_image(struct tg_loaded *l, struct tg_state *st, const char *path, int facing,
		   const struct tg_dns_opts *dns, struct tg_image *img);
int tg_ssh_guard(const struct tg_loaded *l, int facing, const char *ifname, bool force);

/* Loads img as st's next generation and switches to it (reload, dns);
 * prints the outcome and returns an exit code. */
int tg_apply_image(struct tg_state *st, const struct tg_loaded *l, const char *path, unsigned confirm_seconds,
		   struct tg_image *img);

#endif
