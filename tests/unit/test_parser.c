// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The parser's settings (user/policy/parser.c): the values they take and
 * their defaults. Expected numbers come from docs/policy.md, "Settings";
 * the errors are in tests/policies/bad/. */
#include "helpers.h"
#include "lib/util.h"
#include "tollgate.h"

#include <stdio.h>

#define DAY (24 * 3600)

static int timeout(const struct loaded *l, enum tg_timeout t)
{
	return l->pol.setting[TG_SET_TIMEOUT(t)];
}

static void unset_settings_take_their_defaults(void **state)
{
	struct loaded l;

	(void)state;
	assert_int_equal(load_text(&l, "default deny\n"), 0);
	assert_int_equal(l.pol.setting[TG_SET_REPLIES], TG_REPLIES_TRACKED);
	assert_int_equal(l.pol.setting[TG_SET_FLOW_TABLE], 65536);
	assert_int_equal(timeout(&l, TG_TIMEOUT_TCP_SYN), 120);
	assert_int_equal(timeout(&l, TG_TIMEOUT_TCP_ESTABLISHED), 5 * DAY);
	assert_int_equal(timeout(&l, TG_TIMEOUT_TCP_CLOSING), 120);
	assert_int_equal(timeout(&l, TG_TIMEOUT_TCP_CLOSED), 10);
	assert_int_equal(timeout(&l, TG_TIMEOUT_UDP), 30);
	assert_int_equal(timeout(&l, TG_TIMEOUT_UDP_STREAM), 120);
	assert_int_equal(timeout(&l, TG_TIMEOUT_ICMP), 30);
	assert_int_equal(timeout(&l, TG_TIMEOUT_OTHER), 600);
	/* The settings that were there before flow tracking keep theirs. */
	assert_int_equal(l.pol.setting[TG_SET_NON_IP], TG_ALLOW);
	assert_int_equal(l.pol.setting[TG_SET_MALFORMED], TG_DENY);
	assert_int_equal(l.pol.setting[TG_SET_ESSENTIAL_ICMP], TG_ICMP_ALLOW_ESSENTIAL);
	assert_int_equal(l.pol.setting[TG_SET_FRAGMENTS], TG_FRAG_MATCH);
	for (int s = 0; s < TG_SETTINGS; s++)
		assert_false(l.pol.setting_given[s] && s != TG_SET_DEFAULT);
	unload(&l);
}

static void durations_are_kept_in_seconds(void **state)
{
	struct loaded l;

	(void)state;
	assert_int_equal(load_text(&l, "default deny\n"
				       "tcp-syn-timeout 90\n"
				       "tcp-established-timeout 5d\n"
				       "tcp-closing-timeout 2m\n"
				       "tcp-closed-timeout 45s\n"
				       "udp-timeout 1s; udp-stream-timeout 12h\n"
				       "icmp-timeout 030\n"
				       "other-timeout 30d\n"),
			 0);
	assert_int_equal(timeout(&l, TG_TIMEOUT_TCP_SYN), 90);
	assert_int_equal(timeout(&l, TG_TIMEOUT_TCP_ESTABLISHED), 5 * DAY);
	assert_int_equal(timeout(&l, TG_TIMEOUT_TCP_CLOSING), 120);
	assert_int_equal(timeout(&l, TG_TIMEOUT_TCP_CLOSED), 45);
	assert_int_equal(timeout(&l, TG_TIMEOUT_UDP), 1);
	assert_int_equal(timeout(&l, TG_TIMEOUT_UDP_STREAM), 12 * 3600);
	assert_int_equal(timeout(&l, TG_TIMEOUT_ICMP), 30);
	assert_int_equal(timeout(&l, TG_TIMEOUT_OTHER), 30 * DAY);
	assert_true(l.pol.setting_given[TG_SET_TIMEOUT(TG_TIMEOUT_UDP_STREAM)]);
	unload(&l);
}

/* 30 days is the limit however it is spelled; one second more is not. */
static void duration_limits(void **state)
{
	static const struct {
		const char *value;
		int seconds; /* 0: refused */
	} cases[] = {
		{ "1", 1 },
		{ "2592000", 30 * DAY },
		{ "43200m", 30 * DAY },
		{ "720h", 30 * DAY },
		{ "2592001", 0 },
		{ "43201m", 0 },
		{ "721h", 0 },
		{ "31d", 0 },
		{ "0", 0 },
		{ "0d", 0 },
		{ "9999999999d", 0 },
		{ "5D", 0 },
		{ "5 d", 0 },
		{ "1.5h", 0 },
		{ "-1", 0 },
		{ "s", 0 },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		char text[128];
		struct loaded l;
		int err;

		snprintf(text, sizeof(text), "default deny\nudp-timeout %s\n", cases[i].value);
		err = load_text(&l, text);
		if (cases[i].seconds) {
			assert_int_equal(err, 0);
			assert_int_equal(timeout(&l, TG_TIMEOUT_UDP), cases[i].seconds);
		} else {
			assert_int_equal(err, -EINVAL);
			assert_int_equal(l.diags.errors, 1);
		}
		unload(&l);
	}
}

static void replies_and_flow_table(void **state)
{
	struct loaded l;

	(void)state;
	assert_int_equal(load_text(&l, "default deny\nreplies stateless\nflow-table 1024\n"), 0);
	assert_int_equal(l.pol.setting[TG_SET_REPLIES], TG_REPLIES_STATELESS);
	assert_int_equal(l.pol.setting[TG_SET_FLOW_TABLE], 1024);
	unload(&l);
	assert_int_equal(load_text(&l, "default deny\nreplies tracked\nflow-table 4194304\n"), 0);
	assert_int_equal(l.pol.setting[TG_SET_REPLIES], TG_REPLIES_TRACKED);
	assert_int_equal(l.pol.setting[TG_SET_FLOW_TABLE], 4194304);
	unload(&l);
	assert_int_equal(load_text(&l, "default deny\nflow-table 1023\n"), -EINVAL);
	assert_int_equal(l.pol.setting[TG_SET_FLOW_TABLE], 65536);
	unload(&l);
	assert_int_equal(load_text(&l, "default deny\nflow-table 4194305\n"), -EINVAL);
	unload(&l);
	assert_int_equal(load_text(&l, "default deny\nflow-table 2m\n"), -EINVAL);
	unload(&l);
}

/* The first value stays; the second is an error, not a silent override. */
static void a_setting_given_twice_keeps_the_first(void **state)
{
	struct loaded l;

	(void)state;
	assert_int_equal(load_text(&l, "default deny\nudp-timeout 60\nudp-timeout 2m\n"), -EINVAL);
	assert_int_equal(l.diags.errors, 1);
	assert_int_equal(timeout(&l, TG_TIMEOUT_UDP), 60);
	unload(&l);
}

/* The image carries the settings to the data plane unchanged. */
static void compile_copies_the_settings(void **state)
{
	struct loaded l;
	struct tg_image img;

	(void)state;
	assert_int_equal(load_text(&l, "default deny\nreplies stateless\nflow-table 2048\nicmp-timeout 1m\n"), 0);
	assert_int_equal(tg_compile(&l.pol, TG_FACING_OUTSIDE, NULL, &img), 0);
	assert_int_equal(img.settings[TG_SET_REPLIES], TG_REPLIES_STATELESS);
	assert_int_equal(img.settings[TG_SET_FLOW_TABLE], 2048);
	assert_int_equal(img.settings[TG_SET_TIMEOUT(TG_TIMEOUT_ICMP)], 60);
	assert_int_equal(img.settings[TG_SET_TIMEOUT(TG_TIMEOUT_TCP_ESTABLISHED)], 5 * DAY);
	tg_image_free(&img);
	unload(&l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(unset_settings_take_their_defaults),
		cmocka_unit_test(durations_are_kept_in_seconds),
		cmocka_unit_test(duration_limits),
		cmocka_unit_test(replies_and_flow_table),
		cmocka_unit_test(a_setting_given_twice_keeps_the_first),
		cmocka_unit_test(compile_copies_the_settings),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
