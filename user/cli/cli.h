/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef TG_CLI_H
#define TG_CLI_H

#include "cli/options.h"
#include "compile/compile.h"
#include "policy/diag.h"
#include "policy/hostmap.h"
#include "policy/policy.h"

/* Exit codes: 0 ok, 1 the input is wrong (policy, capture), 2 usage, 3 system. */
enum { TG_EXIT_OK = 0, TG_EXIT_INPUT = 1, TG_EXIT_USAGE = 2, TG_EXIT_SYSTEM = 3 };

/* A policy loaded for a command: parsed, resolved, with its diagnostics. */
struct tg_loaded {
	struct tg_diags diags;
	struct tg_policy pol;
	struct tg_hostmap hosts;
};

/* Parses and reports; returns 0 or an exit code (errors already printed). */
int tg_load_policy(struct tg_loaded *l, const char *path);
void tg_loaded_free(struct tg_loaded *l);
/* --host NAME=ADDR[,ADDR]...: 0, or TG_EXIT_USAGE after saying why. */
int tg_host_option(struct tg_hostmap *map, const char *arg);
/* Warns about --host names the loaded policy does not use. */
void tg_warn_unused_hosts(const struct tg_loaded *l);
/* The shared flow tables keep the size they were made with. */
void tg_warn_flow_table_size(const char *ifname, uint32_t want, uint32_t have);
/* Parses --facing's value; 0 or -EINVAL. */
int tg_parse_facing(const char *arg, int *facing);
/* An interface name an operand gives: 0, or TG_EXIT_USAGE after saying why. */
int tg_check_ifname(const char *ifname);

/* check, compile and replay: a policy file and how to read it. */
struct tg_offline_args {
	struct tg_loaded *l;
	int facing;
	bool facing_given;
	bool json;
};

/* The offline commands' options. attach's DNS options are accepted so that one
 * set of options serves check and attach (the systemd unit validates with the
 * attach options), but offline commands never ask DNS. */
#define TG_OFFLINE_OPTIONS                                                                           \
	TG_OPT_FACING, TG_OPT_HOST, TG_OPT_DNS_SERVER(TG_OPT_HIDDEN), TG_OPT_TTL_MIN(TG_OPT_HIDDEN), \
		TG_OPT_TTL_MAX(TG_OPT_HIDDEN)

/* Parses the options and loads the policy (ops->v[0]): 0, or an exit code (printed). */
int tg_parse_offline(const struct tg_command *cmd, int argc, char **argv, struct tg_loaded *l,
		     struct tg_offline_args *a, struct tg_operands *ops);

/* The commands, each defined in its cmd_*.c beside its options. */
extern const struct tg_command tg_cmd_check, tg_cmd_compile, tg_cmd_replay, tg_cmd_attach, tg_cmd_reload,
	tg_cmd_confirm, tg_cmd_detach, tg_cmd_status, tg_cmd_show, tg_cmd_trace, tg_cmd_stats, tg_cmd_serve, tg_cmd_dns,
	tg_cmd_rollback_timer;

#endif
