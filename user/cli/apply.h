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
#include "cli/report.h"
#include "compile/view.h"
#include "kernel/hosts.h"
#include "kernel/state.h"

struct tg_policy_args {
	struct tg_loaded *loaded; /* --host goes to its host map */
	const char *ifname;
	const char *policy;
	int facing;
	int mode;
	unsigned confirm_seconds;
	bool force;
	bool dry_run; /* reload: say what would change, change nothing */
	struct tg_dns_opts dns;
};

/* Parses attach's or reload's options and operands into a; 0, or an exit
 * code after saying why. *help: --help was printed. */
int tg_parse_policy_args(const struct tg_command *cmd, int argc, char **argv, struct tg_loaded *l,
			 struct tg_policy_args *a, bool *help);
void tg_dns_defaults(struct tg_dns_opts *dns);
/* --dns-server ('S'), --ttl-min ('n') or --ttl-max ('x'): 0, or TG_EXIT_USAGE after saying why. */
int tg_dns_option(int id, const char *arg, struct tg_dns_opts *dns);

/* attach's and reload's DNS options. */
#define TG_DNS_OPTIONS TG_OPT_DNS_SERVER(0), TG_OPT_TTL_MIN(0), TG_OPT_TTL_MAX(0)

void tg_hash_policy(const struct tg_diags *d, char out[TG_HASH_HEX]);
void tg_describe_policy(const struct tg_loaded *l, const char *path, struct tg_policy_info *info);
int tg_resolve_hosts(struct tg_loaded *l, struct tg_state *st, const struct tg_dns_opts *dns, bool use_fixed,
		     bool force, bool *changed);
int tg_build_image(struct tg_loaded *l, struct tg_state *st, const char *path, int facing,
		   const struct tg_dns_opts *dns, struct tg_image *img);
int tg_ssh_guard(const struct tg_loaded *l, int facing, const char *ifname, bool force);

/* Says that a generation's snapshot was not kept (err 0: nothing to say). */
void tg_warn_snapshot(const char *ifname, int err);
/* Loads img as st's next generation and switches to it (reload, dns);
 * prints the outcome and returns an exit code. */
int tg_apply_image(struct tg_state *st, const struct tg_loaded *l, const char *path, unsigned confirm_seconds,
		   struct tg_image *img);

/* ------------------------------------------------ the policy in force */

/* The policy a generation enforces, read back from its snapshot and the
 * pinned host addresses, compiled for the attachment's facing. */
struct tg_enforced {
	struct tg_loaded l;
	struct tg_image img;
	struct tg_policy_view view;
};

/* The active generation's; prints what went wrong and returns an exit code. */
int tg_enforced_load(const struct tg_state *st, struct tg_enforced *e);
void tg_enforced_free(struct tg_enforced *e);
/* What replacing old by new changes, one line each; returns how many. */
size_t tg_print_changes(const struct tg_enforced *old, const struct tg_image *new_img,
			const struct tg_policy_view *new_view, FILE *out);

#endif
