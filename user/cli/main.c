// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "cli/cli.h"
#include "export/version.h"
#include "kernel/dataplane.h"
#include "lib/log.h"
#include "lib/util.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static const struct tg_command *const commands[] = {
	&tg_cmd_check,	 &tg_cmd_compile, &tg_cmd_replay, &tg_cmd_attach,	  &tg_cmd_reload,
	&tg_cmd_confirm, &tg_cmd_detach,  &tg_cmd_status, &tg_cmd_show,		  &tg_cmd_trace,
	&tg_cmd_stats,	 &tg_cmd_serve,	  &tg_cmd_dns,	  &tg_cmd_rollback_timer,
};

static void usage(FILE *out)
{
	fprintf(out, "usage: tollgate [-v | -q] COMMAND [ARGS]\n       tollgate --version\n\ncommands:\n");
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		if (!commands[i]->hidden) {
			fputs("  ", out);
			tg_print_synopsis(commands[i], out);
		}
	fprintf(out, "\n'tollgate COMMAND --help' says more. See tollgate(8) and tollgate.policy(5).\n");
}

static void print_version(void)
{
	struct tg_build_info b;

	tg_build_info(&b);
	printf("tollgate %s (commit %s)\nlibbpf %s, libxdp %s\n", b.version, b.commit, b.libbpf, b.libxdp);
}

static const struct tg_command *find_command(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		if (!strcmp(name, commands[i]->name))
			return commands[i];
	return NULL;
}

int main(int argc, char **argv)
{
	const struct tg_command *cmd;
	int first = 1;

	tg_route_library_logs();
	for (; first < argc; first++) {
		if (!strcmp(argv[first], "-v") || !strcmp(argv[first], "--verbose"))
			tg_parse_verbosity('v');
		else if (!strcmp(argv[first], "-q") || !strcmp(argv[first], "--quiet"))
			tg_parse_verbosity('q');
		else
			break;
	}
	if (first >= argc) {
		usage(stderr);
		return TG_EXIT_USAGE;
	}
	if (!strcmp(argv[first], "-V") || !strcmp(argv[first], "--version")) {
		print_version();
		return TG_EXIT_OK;
	}
	if (!strcmp(argv[first], "-h") || !strcmp(argv[first], "--help") || !strcmp(argv[first], "help")) {
		usage(stdout);
		return TG_EXIT_OK;
	}
	/* For tests/suites/05-structure.sh: the tables the man page and completion must match. */
	if (!strcmp(argv[first], "options")) {
		tg_print_option_table(commands, ARRAY_SIZE(commands), stdout);
		return TG_EXIT_OK;
	}
	cmd = find_command(argv[first]);
	if (!cmd) {
		tg_err("unknown command '%s'\n", argv[first]);
		usage(stderr);
		return TG_EXIT_USAGE;
	}
	return cmd->run(cmd, argc - first, argv + first);
}
