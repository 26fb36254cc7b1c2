// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "cli/cli.h"
#include "lib/util.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static const struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *usage;
} commands[] = {
	{ "check", cmd_check, "check [--facing inside|outside] [--host NAME=ADDR[,ADDR]]... POLICY" },
	{ "compile", cmd_compile, "compile [--facing inside|outside] [--host NAME=ADDR[,ADDR]]... POLICY" },
	{ "replay", cmd_replay, "replay [--facing inside|outside] [--json] [--host NAME=ADDR[,ADDR]]... POLICY PCAP" },
	{ "attach", cmd_attach,
	  "attach [--facing inside|outside] [--mode native|skb] [--force] [--host NAME=ADDR]... [--dns-server ADDR] [--ttl-min S] [--ttl-max S] IFACE POLICY" },
	{ "reload", cmd_reload,
	  "reload [--confirm SECONDS] [--force] [--host NAME=ADDR]... [--dns-server ADDR] [--ttl-min S] [--ttl-max S] IFACE POLICY" },
	{ "confirm", cmd_confirm, "confirm IFACE" },
	{ "detach", cmd_detach, "detach [--force] IFACE" },
	{ "status", cmd_status, "status [IFACE]" },
	{ "stats", cmd_stats, "stats [--json | --prometheus [--textfile DIR]] [--watch SECONDS] [IFACE]" },
	{ "serve", cmd_serve, "serve [--listen ADDR:PORT] [IFACE]..." },
	{ "dns", cmd_dns, "dns [--watch] [--dns-server ADDR] [--ttl-min SECONDS] [--ttl-max SECONDS] [IFACE]..." },
	{ "rollback-timer", cmd_rollback_timer, NULL },
};

static void usage(FILE *out)
{
	fprintf(out, "usage: tollgate COMMAND [ARGS]\n\ncommands:\n");
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		if (commands[i].usage) /* hidden helpers have none */
			fprintf(out, "  tollgate %s\n", commands[i].usage);
	fprintf(out, "\nSee tollgate(8) and tollgate.policy(5).\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return TG_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return TG_EXIT_OK;
	}
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].run(argc - 1, argv + 1);
	fprintf(stderr, "tollgate: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return TG_EXIT_USAGE;
}
