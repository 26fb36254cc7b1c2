// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Option tables to getopt_long, usage and help (see options.h). */
#include "cli/options.h"
#include "cli/cli.h"
#include "lib/log.h"
#include "lib/util.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

/* Every command takes these; their ids are not used by any table. */
static const struct tg_option common_options[] = {
	{ "verbose", 'v', NULL, 0, NULL, "also show debug messages and libbpf's and libxdp's" },
	{ "quiet", 'q', NULL, 0, NULL, "show errors only" },
	{ "help", 'h', NULL, 0, NULL, "show this help" },
	TG_OPT_END,
};

static size_t count_options(const struct tg_option *opts)
{
	size_t n = 0;

	while (opts && opts[n].name)
		n++;
	return n;
}

static void fill_getopt(const struct tg_option *from, struct option *to)
{
	for (; from && from->name; from++, to++)
		*to = (struct option){ from->name, from->value ? required_argument : no_argument, NULL, from->id };
}

static bool shown(const struct tg_option *o)
{
	return !(o->flags & (TG_OPT_HIDDEN | TG_OPT_INNER));
}

void tg_print_usage(const struct tg_command *cmd, FILE *out)
{
	fputs("usage: ", out);
	tg_print_synopsis(cmd, out);
}

void tg_print_synopsis(const struct tg_command *cmd, FILE *out)
{
	fprintf(out, "tollgate %s", cmd->name);
	for (const struct tg_option *o = cmd->options; o && o->name; o++) {
		if (!shown(o))
			continue;
		if (o->usage)
			fprintf(out, " %s", o->usage);
		else if (o->value)
			fprintf(out, " [--%s %s]", o->name, o->value);
		else
			fprintf(out, " [--%s]", o->name);
		if (o->flags & TG_OPT_REPEAT)
			fputs("...", out);
	}
	if (cmd->operands && cmd->operands[0])
		fprintf(out, " %s", cmd->operands);
	fputc('\n', out);
}

static void print_option_help(const struct tg_option *o, FILE *out)
{
	char left[64];
	const char *shortname = o->id == 'v' ? "-v, " : o->id == 'q' ? "-q, " : o->id == 'h' ? "-h, " : "";

	if (o->flags & TG_OPT_HIDDEN)
		return;
	snprintf(left, sizeof(left), "%s--%s%s%s", shortname, o->name, o->value ? " " : "", o->value ? o->value : "");
	fprintf(out, "  %-32s %s\n", left, o->help);
}

void tg_print_help(const struct tg_command *cmd, FILE *out)
{
	tg_print_usage(cmd, out);
	if (cmd->summary)
		fprintf(out, "\n%s\n", cmd->summary);
	fprintf(out, "\noptions:\n");
	for (const struct tg_option *o = cmd->options; o && o->name; o++)
		print_option_help(o, out);
	for (const struct tg_option *o = common_options; o->name; o++)
		print_option_help(o, out);
	fprintf(out, "\nSee tollgate(8).\n");
}

static void print_names(const struct tg_option *opts, bool with_value, FILE *out)
{
	for (const struct tg_option *o = opts; o && o->name; o++)
		if (!(o->flags & TG_OPT_HIDDEN) && !!o->value == with_value)
			fprintf(out, " --%s", o->name);
}

void tg_print_option_table(const struct tg_command *const *cmds, size_t n, FILE *out)
{
	for (size_t i = 0; i < n; i++) {
		if (cmds[i]->hidden)
			continue;
		fprintf(out, "%s\t", cmds[i]->name);
		print_names(cmds[i]->options, true, out);
		fputc('\t', out);
		print_names(cmds[i]->options, false, out);
		print_names(common_options, false, out);
		fprintf(out, "\t%s\n", cmds[i]->operands ? cmds[i]->operands : "");
	}
}

int tg_parse_verbosity(int id)
{
	if (id == 'v')
		tg_log_set_level(TG_LOG_DEBUG);
	else if (id == 'q')
		tg_log_set_level(TG_LOG_ERR);
	else
		return -ENOENT;
	return 0;
}

int tg_bad_value(const char *name, const char *what, const char *arg)
{
	tg_err("--%s takes %s, not '%s'\n", name, what, arg);
	return TG_EXIT_USAGE;
}

int tg_parse_seconds(const char *arg, unsigned min, unsigned max, unsigned *out)
{
	unsigned long v;
	char *end;

	/* strtoul alone would take " 5", "+5" and "-0". */
	if (!isdigit((unsigned char)arg[0]))
		return -EINVAL;
	errno = 0;
	v = strtoul(arg, &end, 10);
	if (*end || errno || v < min || v > max)
		return -EINVAL;
	*out = (unsigned)v;
	return 0;
}

static int usage_error(const struct tg_command *cmd)
{
	tg_print_usage(cmd, stderr);
	return TG_EXIT_USAGE;
}

int tg_parse_command(const struct tg_command *cmd, int argc, char **argv, tg_option_fn fn, void *ctx,
		     struct tg_operands *ops)
{
	size_t n = count_options(cmd->options);
	struct option *longopts = xcalloc(n + ARRAY_SIZE(common_options), sizeof(*longopts));
	int c, rc = 0;

	memset(ops, 0, sizeof(*ops));
	fill_getopt(cmd->options, longopts);
	fill_getopt(common_options, longopts + n);
	optind = 0; /* 0, not 1: glibc then also forgets a half-read "-xv" of an earlier call */
	opterr = 1;
	while (!rc && (c = getopt_long(argc, argv, "hvq", longopts, NULL)) != -1) {
		if (c == 'h')
			ops->help = true;
		else if (c == '?' || c == ':')
			rc = usage_error(cmd);
		else if (tg_parse_verbosity(c))
			rc = fn ? fn(ctx, c, optarg) : usage_error(cmd);
	}
	free(longopts);
	if (rc)
		return rc;
	if (ops->help) {
		tg_print_help(cmd, stdout);
		return 0;
	}
	ops->v = argv + optind;
	ops->n = argc - optind;
	if (ops->n < cmd->min_operands || (cmd->max_operands >= 0 && ops->n > cmd->max_operands))
		return usage_error(cmd);
	return 0;
}
