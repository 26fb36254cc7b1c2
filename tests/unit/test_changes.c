// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * reload --dry-run's report (user/cli/enforced.c): every kind of difference
 * between the policy in force and a new one is named, one line each, and
 * the same policy gives none.
 */
#include "helpers.h"
#include "cli/apply.h"

#include <stdio.h>
#include <stdlib.h>

/* A policy compiled the way show reads one back: view and image. */
static void enforce(struct tg_enforced *e, const char *text)
{
	memset(e, 0, sizeof(*e));
	tg_diags_init(&e->l.diags, NULL);
	assert_int_equal(tg_policy_parse_buffer(&e->l.pol, &e->l.diags, "t.policy", text, strlen(text)), 0);
	assert_int_equal(tg_compile(&e->l.pol, TG_FACING_OUTSIDE, &e->l.hosts, &e->img), 0);
	tg_view_build(&e->l.pol, &e->l.hosts, &e->view);
}

static char *changes(const char *old_text, const char *new_text, size_t *count)
{
	struct tg_enforced old, new_e;
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);

	enforce(&old, old_text);
	enforce(&new_e, new_text);
	*count = tg_print_changes(&old, &new_e.img, &new_e.view, out);
	fclose(out);
	tg_enforced_free(&old);
	tg_enforced_free(&new_e);
	return text;
}

static const char base[] = "default deny\n"
			   "service a { direction in; protocol tcp; ports 22; peers 192.0.2.0/24; action allow }\n"
			   "service b { direction in; protocol udp; ports 53; peers 198.51.100.0/24; action allow }\n"
			   "service c { direction out; protocol tcp; ports 443; peers any; action allow }\n";

static void the_same_policy_changes_nothing(void **state)
{
	size_t n;
	char *text = changes(base, base, &n);

	(void)state;
	assert_int_equal(n, 0);
	assert_string_equal(text, "");
	free(text);
}

static void every_kind_of_change_is_named(void **state)
{
	static const char next[] =
		"default allow\n"
		"service c { direction out; protocol tcp; ports 443, 8443; peers any; action allow }\n"
		"service a { direction out; protocol tcp,udp; ports 22; peers 192.0.2.0/25, 203.0.113.0/24; action deny }\n"
		"service d { direction in; protocol icmp; peers any; action allow }\n";
	size_t n;
	char *text = changes(base, next, &n);

	(void)state;
	assert_non_null(strstr(text, "  setting default: deny -> allow\n"));
	assert_non_null(strstr(text, "  service b: removed (was number 2)\n"));
	assert_non_null(strstr(text, "  service d: added (number 3)\n"));
	assert_non_null(strstr(text, "  service c: ports/types 443 -> 443, 8443\n"));
	assert_non_null(strstr(text, "  service a: direction in -> out\n"));
	assert_non_null(strstr(text, "  service a: protocol tcp -> tcp,udp\n"));
	assert_non_null(strstr(text, "  service a: action allow -> deny\n"));
	assert_non_null(strstr(text, "  service a: peers 2 added, 1 removed\n"
				     "      + 192.0.2.0/25\n"
				     "      + 203.0.113.0/24\n"
				     "      - 192.0.2.0/24\n"));
	assert_non_null(strstr(text, "  order: a, c -> c, a\n"));
	assert_int_equal(n, 9);
	free(text);
}

static void long_peer_lists_are_cut_short(void **state)
{
	char old_text[4096], new_text[4096];
	size_t used, n;
	char *text;

	(void)state;
	used = (size_t)snprintf(new_text, sizeof(new_text),
				"default deny\nservice a { direction in; protocol tcp; peers ");
	for (int i = 0; i < 25; i++)
		used += (size_t)snprintf(new_text + used, sizeof(new_text) - used, "%s198.18.%d.0/24", i ? ", " : "",
					 i);
	snprintf(new_text + used, sizeof(new_text) - used, "; action allow }\n");
	snprintf(old_text, sizeof(old_text),
		 "default deny\nservice a { direction in; protocol tcp; peers any; action allow }\n");
	text = changes(old_text, new_text, &n);
	assert_non_null(strstr(text, "  service a: peers 25 added, 2 removed\n"));
	assert_non_null(strstr(text, "      + ... 5 more\n"));
	assert_int_equal(n, 1);
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(the_same_policy_changes_nothing),
		cmocka_unit_test(every_kind_of_change_is_named),
		cmocka_unit_test(long_peer_lists_are_cut_short),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
