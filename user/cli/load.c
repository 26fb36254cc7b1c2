// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* What every command that reads a policy or names an interface shares. */
#include "cli/cli.h"
#include "lib/log.h"
#include "lib/util.h"

#include <errno.h>
#include <stdlib.h>
#include <net/if.h>
#include <string.h>

int tg_load_policy(struct tg_loaded *l, const char *path)
{
	int err = tg_policy_parse_file(&l->pol, &l->diags, path);

	if (err == -EINVAL) {
		fprintf(stderr, "%s: %u error%s, %u warning%s\n", path, l->diags.errors,
			l->diags.errors == 1 ? "" : "s", l->diags.warnings, l->diags.warnings == 1 ? "" : "s");
		return TG_EXIT_INPUT;
	}
	if (err) {
		tg_err("cannot read policy '%s': %s\n", path, tg_strerror(err));
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

int tg_host_option(struct tg_hostmap *map, const char *arg)
{
	int err = tg_hostmap_add_spec(map, arg);

	if (err == -E2BIG) {
		tg_err("--host gives a name at most %d addresses, as many as tollgate keeps per name, not more ('%s')\n",
		       TG_HOST_ADDRS, arg);
		return TG_EXIT_USAGE;
	}
	return err ? tg_bad_value("host", "NAME=ADDR[,ADDR...]", arg) : 0;
}

/* A --host for a name the policy does not use is a typo more often than not. */
void tg_warn_unused_hosts(const struct tg_loaded *l)
{
	const char **names;
	size_t n = tg_policy_host_names(&l->pol, &names);

	for (size_t i = 0; i < l->hosts.n; i++) {
		bool used = tg_name_listed(names, n, l->hosts.items[i].name), said = false;

		for (size_t k = 0; k < i && !said; k++) /* once per name */
			said = !strcmp(l->hosts.items[k].name, l->hosts.items[i].name);
		if (!used && !said)
			tg_warn("--host %s: the policy does not use this host name\n", l->hosts.items[i].name);
	}
	free(names);
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

int tg_check_ifname(const char *ifname)
{
	if (!ifname[0] || strlen(ifname) >= IF_NAMESIZE || strchr(ifname, '/') || ifname[0] == '-') {
		tg_err("'%s' is not an interface name\n", ifname);
		return TG_EXIT_USAGE;
	}
	return 0;
}

static int offline_option(void *ctx, int id, const char *arg)
{
	struct tg_offline_args *a = ctx;

	switch (id) {
	case 'f':
		if (tg_parse_facing(arg, &a->facing))
			return tg_bad_value("facing", "inside or outside", arg);
		a->facing_given = true;
		return 0;
	case 'H':
		return tg_host_option(&a->l->hosts, arg);
	case 'j':
		a->json = true;
		return 0;
	default: /* the hidden DNS options */
		return 0;
	}
}

int tg_parse_offline(const struct tg_command *cmd, int argc, char **argv, struct tg_loaded *l,
		     struct tg_offline_args *a, struct tg_operands *ops)
{
	int rc;

	memset(a, 0, sizeof(*a));
	a->l = l;
	a->facing = TG_FACING_OUTSIDE;
	tg_diags_init(&l->diags, stderr);
	rc = tg_parse_command(cmd, argc, argv, offline_option, a, ops);
	if (rc || ops->help)
		return rc;
	rc = tg_load_policy(l, ops->v[0]);
	if (!rc)
		tg_warn_unused_hosts(l);
	return rc;
}

void tg_warn_flow_table_size(const char *ifname, uint32_t want, uint32_t have)
{
	if (want && have && want != have)
		tg_warn("%s: the host's flow tables already hold %u flows each (made by an earlier attach); 'flow-table %u' takes effect once every interface is detached\n",
			ifname, have, want);
}
