/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef TG_CLI_H
#define TG_CLI_H

#include "compile/compile.h"
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
int tg_parse_facing(const char *arg, int *facing);

int cmd_check(int argc, char **argv);
int cmd_compile(int argc, char **argv);
int cmd_replay(int argc, char **argv);
int cmd_attach(int argc, char **argv);
int cmd_reload(int argc, char **argv);
int cmd_confirm(int argc, char **argv);
int cmd_detach(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_rollback_timer(int argc, char **argv);
int cmd_stats(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_dns(int argc, char **argv);

#endif
