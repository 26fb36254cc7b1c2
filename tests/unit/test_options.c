// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Option tables (user/cli/options.c): one table drives getopt_long, the
 * usage line, --help and `tollgate options`, so each of those is checked
 * here against a small command of our own rather than a real one. */
#include "helpers.h"
#include "capture.h"
#include "cli/cli.h"
#include "cli/options.h"
#include "lib/log.h"
#include "lib/util.h"

#include <stdlib.h>

/* Ids above 255 so that none can be mistaken for 'h', 'v', 'q' or '?'. */
enum { OPT_TTL = 1000, OPT_HOST, OPT_FORCE, OPT_SECRET, OPT_MODE, OPT_INNER };

static const struct tg_option test_options[] = {
	{ "ttl", OPT_TTL, "SECONDS", 0, NULL, "how long" },
	{ "host", OPT_HOST, "NAME=ADDR", TG_OPT_REPEAT, NULL, "a fixed address" },
	{ "force", OPT_FORCE, NULL, 0, NULL, "do it anyway" },
	{ "secret", OPT_SECRET, "X", TG_OPT_HIDDEN, NULL, "for tests only" },
	{ "mode", OPT_MODE, "M", 0, "[--mode M [--inner]]", "the mode" },
	{ "inner", OPT_INNER, NULL, TG_OPT_INNER, NULL, "only with --mode" },
	TG_OPT_END,
};

static const struct tg_command test_cmd = {
	.name = "frob",
	.options = test_options,
	.operands = "IFACE [FILE]",
	.min_operands = 1,
	.max_operands = 2,
	.summary = "Frobnicates an interface.",
};

static const struct tg_command any_cmd = {
	.name = "many",
	.options = test_options,
	.operands = "FILE...",
	.min_operands = 0,
	.max_operands = -1,
};

/* What the option callback saw, in order. */
struct seen {
	int n;
	int ids[8];
	char args[8][32];
	int stop_at; /* return 7 when this id comes; 0: never */
};

static int record(void *ctx, int id, const char *arg)
{
	struct seen *s = ctx;

	if (s->n < 8) {
		s->ids[s->n] = id;
		snprintf(s->args[s->n], sizeof(s->args[s->n]), "%s", arg ? arg : "(null)");
		s->n++;
	}
	return id == s->stop_at ? 7 : 0;
}

/* argv as getopt wants it (writable, NULL-terminated), from literals. */
#define ARGV(...) ((char *[]){ __VA_ARGS__, NULL })
#define ARGC(...) ((int)(sizeof((char *[]){ __VA_ARGS__ }) / sizeof(char *)))
#define PARSE(cmd, seen, ops, ...) parse_quietly(cmd, ARGC(__VA_ARGS__), ARGV(__VA_ARGS__), seen, ops, NULL)

/* Parses with stderr (getopt's complaints, the usage line) captured; *err
 * gets what was printed when err is not NULL. */
static int parse_quietly(const struct tg_command *cmd, int argc, char **argv, struct seen *s, struct tg_operands *ops,
			 char **err)
{
	struct capture c;
	char *text;
	int rc;

	capture_start(&c, stderr);
	rc = tg_parse_command(cmd, argc, argv, s ? record : NULL, s, ops);
	text = capture_end(&c);
	if (err)
		*err = text;
	else
		free(text);
	return rc;
}

/* ---------------------------------------------------------------- parsing */

static void callback_gets_ids_and_values_in_order(void **state)
{
	struct seen s = { 0 };
	struct tg_operands ops;

	(void)state;
	assert_int_equal(PARSE(&test_cmd, &s, &ops, "frob", "--host", "a=192.0.2.1", "--force", "--ttl", "30", "--host",
			       "b=192.0.2.2", "eth0"),
			 0);
	assert_int_equal(s.n, 4);
	assert_int_equal(s.ids[0], OPT_HOST);
	assert_string_equal(s.args[0], "a=192.0.2.1");
	assert_int_equal(s.ids[1], OPT_FORCE);
	assert_string_equal(s.args[1], "(null)"); /* a switch has no value */
	assert_int_equal(s.ids[2], OPT_TTL);
	assert_string_equal(s.args[2], "30");
	assert_int_equal(s.ids[3], OPT_HOST); /* REPEAT: the second one is delivered too */
	assert_string_equal(s.args[3], "b=192.0.2.2");
	assert_int_equal(ops.n, 1);
	assert_string_equal(ops.v[0], "eth0");
	assert_false(ops.help);
}

static void equals_form_gives_the_value(void **state)
{
	struct seen s = { 0 };
	struct tg_operands ops;

	(void)state;
	assert_int_equal(PARSE(&test_cmd, &s, &ops, "frob", "--ttl=45", "--host=x=2001:db8::1", "eth0"), 0);
	assert_int_equal(s.n, 2);
	assert_int_equal(s.ids[0], OPT_TTL);
	assert_string_equal(s.args[0], "45");
	/* Only the first '=' separates: the value keeps its own. */
	assert_int_equal(s.ids[1], OPT_HOST);
	assert_string_equal(s.args[1], "x=2001:db8::1");
}

static void hidden_and_inner_options_are_accepted(void **state)
{
	struct seen s = { 0 };
	struct tg_operands ops;

	(void)state;
	assert_int_equal(PARSE(&test_cmd, &s, &ops, "frob", "--secret", "s3", "--mode", "fast", "--inner", "eth0"), 0);
	assert_int_equal(s.n, 3);
	assert_int_equal(s.ids[0], OPT_SECRET);
	assert_string_equal(s.args[0], "s3");
	assert_int_equal(s.ids[1], OPT_MODE);
	assert_string_equal(s.args[1], "fast");
	assert_int_equal(s.ids[2], OPT_INNER);
}

static void options_after_operands_are_parsed(void **state)
{
	struct seen s = { 0 };
	struct tg_operands ops;

	(void)state;
	assert_int_equal(PARSE(&test_cmd, &s, &ops, "frob", "eth0", "--force", "file.policy", "--ttl", "5"), 0);
	assert_int_equal(s.n, 2);
	assert_int_equal(s.ids[0], OPT_FORCE);
	assert_int_equal(s.ids[1], OPT_TTL);
	assert_string_equal(s.args[1], "5");
	assert_int_equal(ops.n, 2);
	assert_string_equal(ops.v[0], "eth0");
	assert_string_equal(ops.v[1], "file.policy");
}

static void double_dash_ends_options(void **state)
{
	struct seen s = { 0 };
	struct tg_operands ops;

	(void)state;
	assert_int_equal(PARSE(&test_cmd, &s, &ops, "frob", "--force", "--", "--ttl"), 0);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.ids[0], OPT_FORCE);
	assert_int_equal(ops.n, 1);
	assert_string_equal(ops.v[0], "--ttl");
}

static void callback_error_stops_parsing_and_is_returned(void **state)
{
	struct seen s = { .stop_at = OPT_FORCE };
	struct tg_operands ops;

	(void)state;
	/* No operand at all: the callback's code wins over the operand count. */
	assert_int_equal(PARSE(&test_cmd, &s, &ops, "frob", "--ttl", "1", "--force", "--host", "h=192.0.2.1"), 7);
	assert_int_equal(s.n, 2); /* --host after the failing --force is never seen */
	assert_int_equal(s.ids[1], OPT_FORCE);
}

static void table_option_without_callback_is_usage(void **state)
{
	struct tg_operands ops;

	(void)state;
	assert_int_equal(PARSE(&test_cmd, NULL, &ops, "frob", "--force", "eth0"), TG_EXIT_USAGE);
	/* The common options need no callback. */
	assert_int_equal(PARSE(&test_cmd, NULL, &ops, "frob", "eth0"), 0);
}

static void unknown_option_is_usage_with_the_usage_line(void **state)
{
	struct seen s = { 0 };
	struct tg_operands ops;
	char *err;

	(void)state;
	assert_int_equal(parse_quietly(&test_cmd, ARGC("frob", "--bogus", "eth0"), ARGV("frob", "--bogus", "eth0"), &s,
				       &ops, &err),
			 TG_EXIT_USAGE);
	assert_non_null(strstr(err, "bogus"));
	assert_non_null(strstr(err, "usage: tollgate frob "));
	free(err);
	assert_int_equal(s.n, 0);
	assert_int_equal(PARSE(&test_cmd, &s, &ops, "frob", "-x", "eth0"), TG_EXIT_USAGE);
}

static void missing_or_unwanted_values_are_usage(void **state)
{
	struct seen s = { 0 };
	struct tg_operands ops;

	(void)state;
	assert_int_equal(PARSE(&test_cmd, &s, &ops, "frob", "eth0", "--ttl"), TG_EXIT_USAGE);
	assert_int_equal(PARSE(&test_cmd, &s, &ops, "frob", "--force=yes", "eth0"), TG_EXIT_USAGE);
	assert_int_equal(s.n, 0);
}

static void operand_counts_are_enforced(void **state)
{
	struct tg_operands ops;

	(void)state;
	assert_int_equal(PARSE(&test_cmd, NULL, &ops, "frob"), TG_EXIT_USAGE);
	assert_int_equal(PARSE(&test_cmd, NULL, &ops, "frob", "a"), 0);
	assert_int_equal(ops.n, 1);
	assert_int_equal(PARSE(&test_cmd, NULL, &ops, "frob", "a", "b"), 0);
	assert_int_equal(ops.n, 2);
	assert_int_equal(PARSE(&test_cmd, NULL, &ops, "frob", "a", "b", "c"), TG_EXIT_USAGE);
}

static void max_operands_minus_one_allows_any_number(void **state)
{
	struct tg_operands ops;

	(void)state;
	assert_int_equal(PARSE(&any_cmd, NULL, &ops, "many"), 0);
	assert_int_equal(ops.n, 0);
	assert_int_equal(PARSE(&any_cmd, NULL, &ops, "many", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10"), 0);
	assert_int_equal(ops.n, 10);
	assert_string_equal(ops.v[9], "10");
}

static void help_is_printed_on_stdout_and_returns_zero(void **state)
{
	struct seen s = { 0 };
	struct tg_operands ops;
	struct capture c;
	char *out;
	int rc;

	(void)state;
	capture_start(&c, stdout);
	/* No operand: --help needs none. */
	rc = PARSE(&test_cmd, &s, &ops, "frob", "--help");
	out = capture_end(&c);
	assert_int_equal(rc, 0);
	assert_true(ops.help);
	assert_int_equal(s.n, 0);
	assert_true(!strncmp(out, "usage: tollgate frob ", 21));
	assert_non_null(strstr(out, "Frobnicates an interface."));
	assert_non_null(strstr(out, "--ttl SECONDS"));
	assert_non_null(strstr(out, "--inner")); /* INNER is explained in help, just not in the synopsis */
	assert_non_null(strstr(out, "-v, --verbose"));
	assert_null(strstr(out, "secret"));
	free(out);

	capture_start(&c, stdout);
	rc = PARSE(&test_cmd, &s, &ops, "frob", "a", "b", "c", "-h");
	out = capture_end(&c);
	assert_int_equal(rc, 0);
	assert_true(ops.help);
	assert_non_null(strstr(out, "usage: tollgate frob"));
	free(out);
}

static void verbose_and_quiet_set_the_log_level(void **state)
{
	struct seen s = { 0 };
	struct tg_operands ops;

	(void)state;
	tg_log_set_level(TG_LOG_INFO);
	assert_int_equal(PARSE(&test_cmd, &s, &ops, "frob", "-v", "eth0"), 0);
	assert_int_equal(tg_log_get_level(), TG_LOG_DEBUG);
	assert_int_equal(PARSE(&test_cmd, &s, &ops, "frob", "eth0", "--quiet"), 0);
	assert_int_equal(tg_log_get_level(), TG_LOG_ERR);
	assert_int_equal(PARSE(&test_cmd, &s, &ops, "frob", "--verbose", "eth0"), 0);
	assert_int_equal(tg_log_get_level(), TG_LOG_DEBUG);
	/* Clustered, the last one wins; the callback never sees either. */
	assert_int_equal(PARSE(&test_cmd, &s, &ops, "frob", "-vq", "eth0"), 0);
	assert_int_equal(tg_log_get_level(), TG_LOG_ERR);
	assert_int_equal(s.n, 0);
	assert_int_equal(tg_parse_verbosity('x'), -ENOENT);
	assert_int_equal(tg_log_get_level(), TG_LOG_ERR);
}

/*
 * A short-option cluster abandoned at an unknown option ("frob -xv eth0")
 * leaves getopt's cursor on the 'v'; the next call must start afresh, not
 * apply -v and skip its own argv[1] (glibc forgets only with optind = 0).
 */
static void an_abandoned_cluster_does_not_leak_into_the_next_call(void **state)
{
	struct seen s = { 0 };
	struct tg_operands ops;

	(void)state;
	tg_log_set_level(TG_LOG_INFO);
	assert_int_equal(PARSE(&test_cmd, &s, &ops, "frob", "-xv", "eth0"), TG_EXIT_USAGE);
	assert_int_equal(PARSE(&test_cmd, &s, &ops, "frob", "eth0"), 0);
	assert_int_equal(ops.n, 1);
	assert_string_equal(ops.v[0], "eth0");
	assert_int_equal(tg_log_get_level(), TG_LOG_INFO);
}

/* Seconds are digits only: strtoul alone takes " 5", "+5" and "-0". */
static void seconds_are_digits_only(void **state)
{
	static const char *const bad[] = { " 5", "+5", "\t7", " +8", " -0", "-0" };
	unsigned v = 42;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(tg_parse_seconds(bad[i], 0, 86400, &v), -EINVAL);
	assert_int_equal(v, 42);
}

/* Permutation must not carry over: an operand-first call followed by an
 * option-first one, each with its own argv. */
static void consecutive_permuting_calls_agree(void **state)
{
	(void)state;
	for (int round = 0; round < 3; round++) {
		struct seen s = { 0 };
		struct tg_operands ops;

		assert_int_equal(PARSE(&test_cmd, &s, &ops, "frob", "eth0", "x.policy", "--ttl", "9"), 0);
		assert_int_equal(s.n, 1);
		assert_int_equal(ops.n, 2);
		assert_string_equal(ops.v[1], "x.policy");
		memset(&s, 0, sizeof(s));
		assert_int_equal(PARSE(&test_cmd, &s, &ops, "frob", "--force", "eth1"), 0);
		assert_int_equal(s.n, 1);
		assert_int_equal(s.ids[0], OPT_FORCE);
		assert_int_equal(ops.n, 1);
		assert_string_equal(ops.v[0], "eth1");
	}
}

/* ------------------------------------------------------- usage and table */

static char *synopsis_of(const struct tg_command *cmd, bool usage)
{
	char *text = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&text, &size);

	assert_non_null(f);
	if (usage)
		tg_print_usage(cmd, f);
	else
		tg_print_synopsis(cmd, f);
	fclose(f);
	return text;
}

static void synopsis_follows_the_table(void **state)
{
	char *text = synopsis_of(&test_cmd, false);

	(void)state;
	assert_string_equal(text, "tollgate frob [--ttl SECONDS] [--host NAME=ADDR]... [--force] [--mode M [--inner]] "
				  "IFACE [FILE]\n");
	free(text);
	text = synopsis_of(&test_cmd, true);
	assert_string_equal(text, "usage: tollgate frob [--ttl SECONDS] [--host NAME=ADDR]... [--force] "
				  "[--mode M [--inner]] IFACE [FILE]\n");
	free(text);
}

static void synopsis_without_options_or_operands(void **state)
{
	static const struct tg_option only_hidden[] = { { "x", OPT_SECRET, NULL, TG_OPT_HIDDEN, NULL, "x" },
							TG_OPT_END };
	const struct tg_command bare = { .name = "bare" },
				hidden = { .name = "h", .options = only_hidden, .operands = "" };
	char *text = synopsis_of(&bare, false);

	(void)state;
	assert_string_equal(text, "tollgate bare\n");
	free(text);
	text = synopsis_of(&hidden, false);
	assert_string_equal(text, "tollgate h\n");
	free(text);
}

static void option_table_lists_visible_commands(void **state)
{
	static const struct tg_option plain[] = { { "out", OPT_TTL, "FILE", 0, NULL, "o" }, TG_OPT_END };
	const struct tg_command internal = { .name = "internal", .options = plain, .hidden = true };
	const struct tg_command noop = { .name = "noop" };
	const struct tg_command *const cmds[] = { &test_cmd, &internal, &noop };
	char *text = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&text, &size);

	(void)state;
	assert_non_null(f);
	tg_print_option_table(cmds, 3, f);
	fclose(f);
	/* name, options with a value, switches (the command's, then the common
	 * ones), operands; hidden ones left out, INNER ones included. */
	assert_string_equal(text,
			    "frob\t --ttl --host --mode\t --force --inner --verbose --quiet --help\tIFACE [FILE]\n"
			    "noop\t\t --verbose --quiet --help\t\n");
	free(text);
}

/* ----------------------------------------------------------------- values */

static void seconds_within_bounds(void **state)
{
	unsigned v = 12345;

	(void)state;
	assert_int_equal(tg_parse_seconds("30", 30, 3600, &v), 0);
	assert_int_equal(v, 30);
	assert_int_equal(tg_parse_seconds("3600", 30, 3600, &v), 0);
	assert_int_equal(v, 3600);
	assert_int_equal(tg_parse_seconds("0", 0, 10, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(tg_parse_seconds("007", 0, 10, &v), 0);
	assert_int_equal(v, 7);
	assert_int_equal(tg_parse_seconds("4294967295", 0, 4294967295u, &v), 0);
	assert_int_equal(v, 4294967295u);
}

static void seconds_out_of_bounds_or_not_a_number(void **state)
{
	static const struct {
		const char *text;
		unsigned min, max;
	} bad[] = {
		{ "29", 30, 3600 },
		{ "3601", 30, 3600 },
		{ "", 0, 3600 },
		{ "-1", 0, 3600 },
		{ "-0", 0, 3600 },
		{ "5x", 0, 3600 },
		{ "5 ", 0, 3600 },
		{ "0x10", 0, 3600 },
		{ "1e3", 0, 3600 },
		{ "abc", 0, 3600 },
		{ "99999999999999999999", 0, 4294967295u },
		{ "4294967296", 0, 4294967295u },
	};
	unsigned v = 12345;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		assert_int_equal(tg_parse_seconds(bad[i].text, bad[i].min, bad[i].max, &v), -EINVAL);
		assert_int_equal(v, 12345); /* untouched on failure */
	}
}

static void bad_value_says_what_and_is_usage(void **state)
{
	struct capture c;
	char *err;
	int rc;

	(void)state;
	capture_start(&c, stderr);
	rc = tg_bad_value("ttl-min", "SECONDS", "soon");
	err = capture_end(&c);
	assert_int_equal(rc, TG_EXIT_USAGE);
	assert_int_equal(rc, 2);
	assert_string_equal(err, "tollgate: --ttl-min takes SECONDS, not 'soon'\n");
	free(err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(callback_gets_ids_and_values_in_order),
		cmocka_unit_test(equals_form_gives_the_value),
		cmocka_unit_test(hidden_and_inner_options_are_accepted),
		cmocka_unit_test(options_after_operands_are_parsed),
		cmocka_unit_test(double_dash_ends_options),
		cmocka_unit_test(callback_error_stops_parsing_and_is_returned),
		cmocka_unit_test(table_option_without_callback_is_usage),
		cmocka_unit_test(unknown_option_is_usage_with_the_usage_line),
		cmocka_unit_test(missing_or_unwanted_values_are_usage),
		cmocka_unit_test(operand_counts_are_enforced),
		cmocka_unit_test(max_operands_minus_one_allows_any_number),
		cmocka_unit_test_setup_teardown(help_is_printed_on_stdout_and_returns_zero, save_level, restore_level),
		cmocka_unit_test_setup_teardown(verbose_and_quiet_set_the_log_level, save_level, restore_level),
		cmocka_unit_test(consecutive_permuting_calls_agree),
		cmocka_unit_test(synopsis_follows_the_table),
		cmocka_unit_test(synopsis_without_options_or_operands),
		cmocka_unit_test(option_table_lists_visible_commands),
		cmocka_unit_test(an_abandoned_cluster_does_not_leak_into_the_next_call),
		cmocka_unit_test(seconds_are_digits_only),
		cmocka_unit_test(seconds_within_bounds),
		cmocka_unit_test(seconds_out_of_bounds_or_not_a_number),
		cmocka_unit_test_setup_teardown(bad_value_says_what_and_is_usage, save_level, restore_level),
	};

	/* Permutation is what the tests expect; POSIXLY_CORRECT would turn it off. */
	unsetenv("POSIXLY_CORRECT");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
