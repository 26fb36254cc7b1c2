/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Commands and their options, declared once. A command's table drives its
 * parsing (getopt_long), its usage line and --help, and `tollgate
 * options`, which tests/suites/05-structure.sh compares with the man page's
 * synopsis and the bash completion.
 */
#ifndef TG_OPTIONS_H
#define TG_OPTIONS_H

#include <stdbool.h>
#include <stdio.h>

enum tg_option_flags {
	TG_OPT_REPEAT = 1u << 0, /* may be given more than once: "[...]..." */
	TG_OPT_HIDDEN = 1u << 1, /* accepted, but neither shown nor completed */
	TG_OPT_INNER = 1u << 2,	 /* shown inside another option's usage text */
};

struct tg_option {
	const char *name;  /* --name */
	int id;		   /* what the parser hands back */
	const char *value; /* the value's name in usage ("SECONDS"); NULL: a switch */
	unsigned flags;
	const char *usage; /* how usage shows it, when not "[--name VALUE]" */
	const char *help;
};

/* The options several commands take, with one spelling and one help text. */
#define TG_OPT_FACING                                                                   \
	{                                                                               \
		"facing", 'f', "inside|outside", 0, NULL,                               \
			"the side of the network the interface faces (default outside)" \
	}
#define TG_OPT_HOST                                                                       \
	{                                                                                 \
		"host", 'H', "NAME=ADDR[,ADDR]...", TG_OPT_REPEAT, NULL,                  \
			"fixed addresses for a host name the policy uses, instead of DNS" \
	}
#define TG_OPT_DNS_SERVER(flags)                                                                             \
	{                                                                                                    \
		"dns-server", 'S', "ADDR", flags, NULL, "ask this DNS server (ADDR, ADDR:PORT or [V6]:PORT)" \
	}
#define TG_OPT_TTL_MIN(flags)                                                                              \
	{                                                                                                  \
		"ttl-min", 'n', "SECONDS", flags, NULL, "keep DNS answers at least this long (default 30)" \
	}
#define TG_OPT_TTL_MAX(flags)                                                                  \
	{                                                                                      \
		"ttl-max", 'x', "SECONDS", flags, NULL, "and at most this long (default 3600)" \
	}
#define TG_OPT_FORCE(what)                        \
	{                                         \
		"force", 'F', NULL, 0, NULL, what \
	}
#define TG_OPT_END \
	{          \
		0  \
	}

struct tg_command {
	const char *name;
	int (*run)(const struct tg_command *cmd, int argc, char **argv);
	const struct tg_option *options; /* ends with TG_OPT_END */
	const char *operands;		 /* as usage shows them: "IFACE POLICY" */
	int min_operands, max_operands;	 /* max -1: any number */
	const char *summary;		 /* one line for `tollgate --help` */
	bool hidden;			 /* internal helpers: not listed */
};

/* What remains once options are parsed. */
struct tg_operands {
	char **v;
	int n;
	bool help; /* --help was given and printed: exit 0 */
};

/* Called for each option in order; returns 0, or an exit code after saying why. */
typedef int (*tg_option_fn)(void *ctx, int id, const char *arg);

/*
 * Parses argv (argv[0] is the command's name) against cmd's table. Every
 * command also takes --help, -v/--verbose and -q/--quiet. Returns 0, or an
 * exit code after printing the problem and the usage on stderr.
 */
int tg_parse_command(const struct tg_command *cmd, int argc, char **argv, tg_option_fn fn, void *ctx,
		     struct tg_operands *ops);
/* Sets the log level from -v/-q (also given before the command). */
int tg_parse_verbosity(int id);

/* "tollgate NAME [--option VALUE]... OPERANDS", one line. */
void tg_print_synopsis(const struct tg_command *cmd, FILE *out);
/* The same after "usage: ". */
void tg_print_usage(const struct tg_command *cmd, FILE *out);
void tg_print_help(const struct tg_command *cmd, FILE *out);
/* One line per command: its name, options taking a value, switches, operands (`tollgate options`). */
void tg_print_option_table(const struct tg_command *const *cmds, size_t n, FILE *out);
/* Says "--name takes WHAT, not 'ARG'" and returns TG_EXIT_USAGE. */
int tg_bad_value(const char *name, const char *what, const char *arg);
/* Unsigned decimal seconds in [min, max]; 0 or -EINVAL. */
int tg_parse_seconds(const char *arg, unsigned min, unsigned max, unsigned *out);

#endif
