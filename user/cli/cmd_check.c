// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* check and compile: the offline commands. */
#include "cli/cli.h"
#include "compile/analyse.h"
#include "lib/util.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int tg_load_policy(struct tg_loaded *l, const char *path)
{
	int err;

	err = tg_policy_parse_file(&l->pol, &l->diags, path);
	if (err == -EINVAL) {
		fprintf(stderr, "%s: %u error%s, %u warning%s\n", path, l->diags.errors, l->diags.errors == 1 ? "" : "s",
			l->diags.warnings, l->diags.warnings == 1 ? "" : "s");
		return TG_EXIT_INPUT;
	}
	if (err) {
		fprintf(stderr, "tollgate: cannot read policy '%s': %s\n", path, tg_strerror(err));
		return TG_EXIT_INPUT;
	}
	return 0;
}

void tg_loaded_free(struct tg_loaded *l)
{
	tg_policy_free(&l->pol);
	tg_hostmap_free(&l->hosts);
	tg_diags_free(&l->diags);
}

int tg_parse_facing(const char *arg, int *facing)
{
	if (!strcmp(arg, "outside"))
		*facing = TG_FACING_OUTSIDE;
	else if (!strcmp(arg, "inside"))
		*facing = TG_FACING_INSIDE;
	else
		return -EINVAL;
	return 0;
}

struct policy_args {
	const char *path;
	int facing;
	bool facing_given;
};

enum { OPT_FACING = 'f', OPT_HOST = 'H' };

static int parse_policy_args(int argc, char **argv, const char *usage, struct tg_loaded *l, struct policy_args *a)
{
	static const struct option opts[] = {
		{ "facing", required_argument, NULL, OPT_FACING },
		{ "host", required_argument, NULL, OPT_HOST },
		/* Accepted so that one set of options serves check and attach
		 * (the systemd unit validates with the attach options); offline
		 * commands never ask DNS. */
		{ "dns-server", required_argument, NULL, 'S' },
		{ "ttl-min", required_argument, NULL, 'n' },
		{ "ttl-max", required_argument, NULL, 'x' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int c;

	memset(a, 0, sizeof(*a));
	a->facing = TG_FACING_OUTSIDE;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case OPT_FACING:
			if (tg_parse_facing(optarg, &a->facing)) {
				fprintf(stderr, "tollgate: --facing takes inside or outside, not '%s'\n", optarg);
				return TG_EXIT_USAGE;
			}
			a->facing_given = true;
			break;
		case OPT_HOST:
			if (tg_hostmap_add_spec(&l->hosts, optarg)) {
				fprintf(stderr, "tollgate: --host takes NAME=ADDR[,ADDR...], not '%s'\n", optarg);
				return TG_EXIT_USAGE;
			}
			break;
		case 'S':
		case 'n':
		case 'x':
			break;
		case 'h':
			printf("usage: tollgate %s\n", usage);
			exit(TG_EXIT_OK);
		default:
			fprintf(stderr, "usage: tollgate %s\n", usage);
			return TG_EXIT_USAGE;
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "usage: tollgate %s\n", usage);
		return TG_EXIT_USAGE;
	}
	a->path = argv[optind];
	return 0;
}

static void list_unresolved(const struct tg_policy *pol, const struct tg_hostmap *hosts)
{
	bool first = true;

	for (size_t s = 0; s < pol->nsets + pol->nservices; s++) {
		const struct tg_peer_list *list = s < pol->nsets ? &pol->sets[s].peers : &pol->services[s - pol->nsets].peers;

		for (size_t i = 0; i < list->n; i++) {
			bool known = false;

			if (list->items[i].kind != TG_PEER_HOST)
				continue;
			for (size_t h = 0; h < hosts->n && !known; h++)
				known = !strcmp(hosts->items[h].name, list->items[i].name);
			if (!known) {
				printf("%s%s", first ? "  host names resolved at attach time: " : ", ", list->items[i].name);
				first = false;
			}
		}
	}
	if (!first)
		printf("\n  (give them fixed addresses offline with --host NAME=ADDR)\n");
}

int cmd_check(int argc, char **argv)
{
	static const char usage[] = "check [--facing inside|outside] [--host NAME=ADDR[,ADDR]]... POLICY";
	struct tg_loaded l = { 0 };
	struct policy_args a;
	struct tg_image imgs[2] = { 0 };
	const struct tg_image *both[] = { &imgs[0], &imgs[1] };
	int rc;

	tg_diags_init(&l.diags, stderr);
	rc = parse_policy_args(argc, argv, usage, &l, &a);
	if (!rc)
		rc = tg_load_policy(&l, a.path);
	if (rc) {
		tg_loaded_free(&l);
		return rc;
	}
	/* Facing changes roles, so a service can be shadowed on one side only. */
	for (int facing = 0; facing < 2 && !rc; facing++)
		rc = tg_compile(&l.pol, facing, &l.hosts, &imgs[facing]);
	if (rc) {
		fprintf(stderr, "tollgate: cannot compile '%s': %s\n", a.path, tg_strerror(rc));
		tg_image_free(&imgs[0]);
		tg_loaded_free(&l);
		return TG_EXIT_INPUT;
	}
	/* Without --facing, warn about either facing the policy may be attached with. */
	if (a.facing_given)
		tg_report_analysis(&l.pol, &l.hosts, &both[a.facing], 1, &l.diags);
	else
		tg_report_analysis(&l.pol, &l.hosts, both, 2, &l.diags);
	printf("%s: ok: %zu service%s, %zu set%s, %zu IPv4 and %zu IPv6 prefixes, %zu host name%s, default %s; %u warning%s\n",
	       a.path, l.pol.nservices, l.pol.nservices == 1 ? "" : "s", l.pol.nsets, l.pol.nsets == 1 ? "" : "s",
	       l.pol.nprefixes_v4, l.pol.nprefixes_v6, l.pol.nhosts, l.pol.nhosts == 1 ? "" : "s",
	       l.pol.setting[TG_SET_DEFAULT] == TG_ALLOW ? "allow" : "deny", l.diags.warnings,
	       l.diags.warnings == 1 ? "" : "s");
	if (imgs[0].unresolved_hosts)
		list_unresolved(&l.pol, &l.hosts);
	tg_image_free(&imgs[0]);
	tg_image_free(&imgs[1]);
	tg_loaded_free(&l);
	return TG_EXIT_OK;
}

int cmd_compile(int argc, char **argv)
{
	static const char usage[] = "compile [--facing inside|outside] [--host NAME=ADDR[,ADDR]]... POLICY";
	struct tg_loaded l = { 0 };
	struct policy_args a;
	struct tg_image img;
	int rc;

	tg_diags_init(&l.diags, stderr);
	rc = parse_policy_args(argc, argv, usage, &l, &a);
	if (!rc)
		rc = tg_load_policy(&l, a.path);
	if (rc) {
		tg_loaded_free(&l);
		return rc;
	}
	/* Warnings are check's job; compile's output is the image alone. */
	rc = tg_compile(&l.pol, a.facing, &l.hosts, &img);
	if (rc) {
		fprintf(stderr, "tollgate: cannot compile '%s': %s\n", a.path, tg_strerror(rc));
		tg_loaded_free(&l);
		return TG_EXIT_INPUT;
	}
	tg_image_print(&img, stdout);
	tg_image_free(&img);
	tg_loaded_free(&l);
	return TG_EXIT_OK;
}
