// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* check and compile: the offline commands. */
#include "cli/cli.h"
#include "compile/analyse.h"
#include "lib/log.h"
#include "lib/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void list_unresolved(const struct tg_policy *pol, const struct tg_hostmap *hosts)
{
	bool first = true;

	for (size_t s = 0; s < pol->nsets + pol->nservices; s++) {
		const struct tg_peer_list *list = s < pol->nsets ? &pol->sets[s].peers :
								   &pol->services[s - pol->nsets].peers;

		for (size_t i = 0; i < list->n; i++) {
			bool known = false;

			if (list->items[i].kind != TG_PEER_HOST)
				continue;
			for (size_t h = 0; h < hosts->n && !known; h++)
				known = !strcmp(hosts->items[h].name, list->items[i].name);
			if (!known) {
				printf("%s%s", first ? "  host names resolved at attach time: " : ", ",
				       list->items[i].name);
				first = false;
			}
		}
	}
	if (!first)
		printf("\n  (give them fixed addresses offline with --host NAME=ADDR)\n");
}

static int do_check(const char *path, struct tg_loaded *l, const struct tg_offline_args *a)
{
	struct tg_image imgs[2] = { 0 };
	const struct tg_image *both[] = { &imgs[0], &imgs[1] };
	int err = 0;

	/* Facing changes roles, so a service can be shadowed on one side only. */
	for (int facing = 0; facing < 2 && !err; facing++)
		err = tg_compile(&l->pol, facing, &l->hosts, &imgs[facing]);
	if (err) {
		tg_err("cannot compile '%s': %s\n", path, tg_strerror(err));
		tg_image_free(&imgs[0]);
		return TG_EXIT_INPUT;
	}
	/* Without --facing, warn about either facing the policy may be attached with. */
	if (a->facing_given)
		tg_report_analysis(&l->pol, &l->hosts, &both[a->facing], 1, &l->diags);
	else
		tg_report_analysis(&l->pol, &l->hosts, both, 2, &l->diags);
	printf("%s: ok: %zu service%s, %zu set%s, %zu IPv4 and %zu IPv6 prefixes, %zu host name%s, default %s; %u warning%s\n",
	       path, l->pol.nservices, l->pol.nservices == 1 ? "" : "s", l->pol.nsets, l->pol.nsets == 1 ? "" : "s",
	       l->pol.nprefixes_v4, l->pol.nprefixes_v6, l->pol.nhosts, l->pol.nhosts == 1 ? "" : "s",
	       l->pol.setting[TG_SET_DEFAULT] == TG_ALLOW ? "allow" : "deny", l->diags.warnings,
	       l->diags.warnings == 1 ? "" : "s");
	if (imgs[0].unresolved_hosts)
		list_unresolved(&l->pol, &l->hosts);
	tg_image_free(&imgs[0]);
	tg_image_free(&imgs[1]);
	return TG_EXIT_OK;
}

static int run_check(const struct tg_command *cmd, int argc, char **argv)
{
	struct tg_loaded l = { 0 };
	struct tg_offline_args a;
	struct tg_operands ops;
	int rc = tg_parse_offline(cmd, argc, argv, &l, &a, &ops);

	if (!rc && !ops.help)
		rc = do_check(ops.v[0], &l, &a);
	tg_loaded_free(&l);
	return rc;
}

static const struct tg_option check_options[] = { TG_OFFLINE_OPTIONS, TG_OPT_END };

const struct tg_command tg_cmd_check = {
	.name = "check",
	.run = run_check,
	.options = check_options,
	.operands = "POLICY",
	.min_operands = 1,
	.max_operands = 1,
	.summary = "Checks POLICY and warns about services that can never match or that earlier ones shadow.",
};

/* Warnings are check's job; compile's output is the image alone. */
static int do_compile(const char *path, struct tg_loaded *l, const struct tg_offline_args *a)
{
	struct tg_image img;
	int err = tg_compile(&l->pol, a->facing, &l->hosts, &img);

	if (err) {
		tg_err("cannot compile '%s': %s\n", path, tg_strerror(err));
		return TG_EXIT_INPUT;
	}
	tg_image_print(&img, stdout);
	tg_image_free(&img);
	return TG_EXIT_OK;
}

static int run_compile(const struct tg_command *cmd, int argc, char **argv)
{
	struct tg_loaded l = { 0 };
	struct tg_offline_args a;
	struct tg_operands ops;
	int rc = tg_parse_offline(cmd, argc, argv, &l, &a, &ops);

	if (!rc && !ops.help)
		rc = do_compile(ops.v[0], &l, &a);
	tg_loaded_free(&l);
	return rc;
}

const struct tg_command tg_cmd_compile = {
	.name = "compile",
	.run = run_compile,
	.options = check_options,
	.operands = "POLICY",
	.min_operands = 1,
	.max_operands = 1,
	.summary = "Prints what POLICY compiles to for one facing: settings, services, classes, prefixes, port tables.",
};
