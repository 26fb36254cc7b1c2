// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The policy model's vocabulary (user/policy/policy.c) and the --host map
 * (user/policy/hostmap.c). Expected names and numbers come from
 * docs/policy.md and docs/metrics.md, not from the tables in policy.c. */
#include "helpers.h"
#include "lib/util.h"
#include "policy/hostmap.h"
#include "policy/policy.h"
#include "tollgate.h"

#include <stdlib.h>

/* -------------------------------------------------------------- settings */

static void settings_and_directions_have_their_policy_names(void **state)
{
	(void)state;
	assert_string_equal(tg_setting_name(TG_SET_DEFAULT), "default");
	assert_string_equal(tg_setting_name(TG_SET_NON_IP), "non-ip");
	assert_string_equal(tg_setting_name(TG_SET_MALFORMED), "malformed");
	assert_string_equal(tg_setting_name(TG_SET_ESSENTIAL_ICMP), "essential-icmp");
	assert_string_equal(tg_setting_name(TG_SET_FRAGMENTS), "fragments");
	assert_string_equal(tg_setting_name(TG_SET_REPLIES), "replies");
	assert_string_equal(tg_setting_name(TG_SET_FLOW_TABLE), "flow-table");
	assert_string_equal(tg_setting_name(TG_SET_TIMEOUT(TG_TIMEOUT_TCP_SYN)), "tcp-syn-timeout");
	assert_string_equal(tg_setting_name(TG_SET_TIMEOUT(TG_TIMEOUT_TCP_ESTABLISHED)), "tcp-established-timeout");
	assert_string_equal(tg_setting_name(TG_SET_TIMEOUT(TG_TIMEOUT_TCP_CLOSING)), "tcp-closing-timeout");
	assert_string_equal(tg_setting_name(TG_SET_TIMEOUT(TG_TIMEOUT_TCP_CLOSED)), "tcp-closed-timeout");
	assert_string_equal(tg_setting_name(TG_SET_TIMEOUT(TG_TIMEOUT_UDP)), "udp-timeout");
	assert_string_equal(tg_setting_name(TG_SET_TIMEOUT(TG_TIMEOUT_UDP_STREAM)), "udp-stream-timeout");
	assert_string_equal(tg_setting_name(TG_SET_TIMEOUT(TG_TIMEOUT_ICMP)), "icmp-timeout");
	assert_string_equal(tg_setting_name(TG_SET_TIMEOUT(TG_TIMEOUT_OTHER)), "other-timeout");
	assert_string_equal(tg_direction_name(TG_DIR_IN), "in");
	assert_string_equal(tg_direction_name(TG_DIR_OUT), "out");
	assert_string_equal(tg_direction_name(TG_DIR_UNSET), "?");
	assert_string_equal(tg_direction_name(2), "?");
}

static void reasons_and_roles_have_their_metric_names(void **state)
{
	(void)state;
	assert_string_equal(tg_reason_name(TG_REASON_SERVICE), "service");
	assert_string_equal(tg_reason_name(TG_REASON_DEFAULT), "default");
	assert_string_equal(tg_reason_name(TG_REASON_MALFORMED), "malformed");
	assert_string_equal(tg_reason_name(TG_REASON_NON_IP), "non-ip");
	assert_string_equal(tg_reason_name(TG_REASON_ESSENTIAL_ICMP), "essential-icmp");
	assert_string_equal(tg_reason_name(TG_REASON_FRAGMENT), "fragment");
	assert_string_equal(tg_reason_name(TG_REASONS), "?");
	assert_string_equal(tg_reason_name(-1), "?");
	assert_string_equal(tg_reason_name(1000), "?");
	assert_string_equal(tg_role_name(TG_ROLE_REQUEST), "request");
	assert_string_equal(tg_role_name(TG_ROLE_REPLY), "reply");
	assert_string_equal(tg_role_name(TG_ROLE_FRAGMENT), "fragment");
	assert_string_equal(tg_role_name(TG_ROLES), "?");
	assert_string_equal(tg_role_name(-1), "?");
}

/* ------------------------------------------------------------ formatting */

static void prefix(const char *text, bool v6, unsigned len, const char *want)
{
	uint8_t addr[16] = { 0 };
	char buf[64];

	assert_int_equal(inet_pton(v6 ? AF_INET6 : AF_INET, text, addr), 1);
	tg_format_prefix(addr, len, v6, buf, sizeof(buf));
	assert_string_equal(buf, want);
}

static void prefixes_are_formatted_as_cidr(void **state)
{
	(void)state;
	prefix("192.0.2.0", false, 24, "192.0.2.0/24");
	prefix("198.51.100.53", false, 32, "198.51.100.53/32");
	prefix("0.0.0.0", false, 0, "0.0.0.0/0");
	prefix("2001:db8:a::", true, 48, "2001:db8:a::/48");
	prefix("2001:db8:53::53", true, 128, "2001:db8:53::53/128");
	prefix("::", true, 0, "::/0");
}

static void protocols_of(unsigned protos, uint8_t number, size_t size, const char *want)
{
	struct tg_service svc = { .protos = protos, .proto_number = number };
	char *buf = malloc(size); /* exactly size bytes: ASan sees any overrun */

	assert_non_null(buf);
	memset(buf, 'X', size);
	tg_format_protocols(&svc, buf, size);
	assert_string_equal(buf, want);
	free(buf);
}

static void protocols_are_listed_in_a_fixed_order(void **state)
{
	(void)state;
	protocols_of(TG_P_TCP, 0, 64, "tcp");
	protocols_of(TG_P_UDP | TG_P_TCP, 0, 64, "tcp,udp");
	protocols_of(TG_P_SCTP | TG_P_UDP | TG_P_TCP, 0, 64, "tcp,udp,sctp");
	protocols_of(TG_P_SCTP | TG_P_UDP, 0, 64, "udp,sctp");
	protocols_of(TG_P_ICMP, 0, 64, "icmp");
	protocols_of(TG_P_ICMPV6, 0, 64, "icmpv6");
	protocols_of(TG_P_ANY, 0, 64, "any");
	protocols_of(TG_P_NUMBER, 47, 64, "47");
	protocols_of(TG_P_NUMBER, 0, 64, "0");
	protocols_of(TG_P_NUMBER, 255, 64, "255");
	protocols_of(TG_P_TCP | TG_P_NUMBER, 50, 64, "tcp,50");
	protocols_of(0, 0, 64, "");
}

static void protocols_are_cut_to_the_buffer(void **state)
{
	(void)state;
	protocols_of(TG_P_TCP | TG_P_UDP | TG_P_SCTP, 0, 5, "tcp,");
	protocols_of(TG_P_TCP | TG_P_UDP | TG_P_SCTP, 0, 8, "tcp,udp");
	protocols_of(TG_P_TCP | TG_P_UDP | TG_P_NUMBER, 99, 8, "tcp,udp");
	protocols_of(TG_P_TCP | TG_P_UDP | TG_P_NUMBER, 99, 9, "tcp,udp,");
	protocols_of(TG_P_NUMBER, 123, 3, "12");
	protocols_of(TG_P_ANY, 0, 1, "");
}

/* ------------------------------------------------------------ ICMP types */

struct named_type {
	const char *name;
	int type;
};

/* docs/policy.md, "types". */
static const struct named_type icmp4_names[] = {
	{ "echo-reply", 0 },	       { "destination-unreachable", 3 },
	{ "source-quench", 4 },	       { "redirect", 5 },
	{ "echo-request", 8 },	       { "router-advertisement", 9 },
	{ "router-solicitation", 10 }, { "time-exceeded", 11 },
	{ "parameter-problem", 12 },   { "timestamp-request", 13 },
	{ "timestamp-reply", 14 },     { "info-request", 15 },
	{ "info-reply", 16 },	       { "address-mask-request", 17 },
	{ "address-mask-reply", 18 },
};
static const struct named_type icmp6_names[] = {
	{ "destination-unreachable", 1 },
	{ "packet-too-big", 2 },
	{ "time-exceeded", 3 },
	{ "parameter-problem", 4 },
	{ "echo-request", 128 },
	{ "echo-reply", 129 },
	{ "mld-listener-query", 130 },
	{ "mld-listener-report", 131 },
	{ "mld-listener-done", 132 },
	{ "router-solicitation", 133 },
	{ "router-advertisement", 134 },
	{ "neighbour-solicitation", 135 },
	{ "neighbour-advertisement", 136 },
	{ "redirect", 137 },
};

static void check_family_names(bool v6, const struct named_type *names, size_t n)
{
	unsigned named = 0;

	for (size_t i = 0; i < n; i++) {
		assert_int_equal(tg_icmp_type_by_name(v6, names[i].name), names[i].type);
		assert_non_null(tg_icmp_type_name(v6, (unsigned)names[i].type));
		assert_string_equal(tg_icmp_type_name(v6, (unsigned)names[i].type), names[i].name);
	}
	/* Every other type is a number only. */
	for (unsigned t = 0; t < 256; t++)
		named += tg_icmp_type_name(v6, t) != NULL;
	assert_int_equal(named, n);
}

static void icmp_names_round_trip_in_each_family(void **state)
{
	(void)state;
	check_family_names(false, icmp4_names, ARRAY_SIZE(icmp4_names));
	check_family_names(true, icmp6_names, ARRAY_SIZE(icmp6_names));
}

static void neighbor_is_also_spelt_the_american_way(void **state)
{
	(void)state;
	assert_int_equal(tg_icmp_type_by_name(true, "neighbor-solicitation"), 135);
	assert_int_equal(tg_icmp_type_by_name(true, "neighbor-advertisement"), 136);
	/* Printed the way the documentation spells it. */
	assert_string_equal(tg_icmp_type_name(true, 135), "neighbour-solicitation");
	assert_string_equal(tg_icmp_type_name(true, 136), "neighbour-advertisement");
}

static void icmp_names_belong_to_one_family(void **state)
{
	(void)state;
	/* Same name, different number per family. */
	assert_int_equal(tg_icmp_type_by_name(false, "echo-request"), 8);
	assert_int_equal(tg_icmp_type_by_name(true, "echo-request"), 128);
	assert_int_equal(tg_icmp_type_by_name(false, "redirect"), 5);
	assert_int_equal(tg_icmp_type_by_name(true, "redirect"), 137);
	/* Names of the other family only. */
	assert_int_equal(tg_icmp_type_by_name(false, "packet-too-big"), -1);
	assert_int_equal(tg_icmp_type_by_name(false, "neighbour-solicitation"), -1);
	assert_int_equal(tg_icmp_type_by_name(false, "neighbor-advertisement"), -1);
	assert_int_equal(tg_icmp_type_by_name(false, "mld-listener-query"), -1);
	assert_int_equal(tg_icmp_type_by_name(true, "source-quench"), -1);
	assert_int_equal(tg_icmp_type_by_name(true, "timestamp-request"), -1);
	assert_int_equal(tg_icmp_type_by_name(true, "address-mask-reply"), -1);
	/* Not names at all. */
	assert_int_equal(tg_icmp_type_by_name(false, ""), -1);
	assert_int_equal(tg_icmp_type_by_name(false, "8"), -1);
	assert_int_equal(tg_icmp_type_by_name(false, "echo"), -1);
	assert_int_equal(tg_icmp_type_by_name(true, "fragmentation-needed"), -1);
}

/* docs/policy.md, "ICMP": 8 -> 0, 13 -> 14, 15 -> 16, 17 -> 18; 128 -> 129. */
static void only_request_types_have_replies(void **state)
{
	(void)state;
	for (unsigned t = 0; t < 256; t++) {
		int want4 = t == 8 ? 0 : t == 13 ? 14 : t == 15 ? 16 : t == 17 ? 18 : -1;
		int want6 = t == 128 ? 129 : -1;

		if (tg_icmp_reply_type(false, t) != want4 || tg_icmp_reply_type(true, t) != want6)
			fail_msg("type %u: reply %d/%d, want %d/%d", t, tg_icmp_reply_type(false, t),
				 tg_icmp_reply_type(true, t), want4, want6);
	}
}

/* docs/policy.md, "Decision order" step 3. */
static void essential_types_are_the_documented_ones(void **state)
{
	(void)state;
	for (unsigned t = 0; t < 256; t++) {
		bool want4 = t == 3 || t == 11 || t == 12;
		bool want6 = (t >= 1 && t <= 4) || (t >= 133 && t <= 137);

		if (tg_icmp_is_essential(TG_FAMILY_V4, (uint8_t)t) != want4 ||
		    tg_icmp_is_essential(TG_FAMILY_V6, (uint8_t)t) != want6)
			fail_msg("type %u: essential %d/%d, want %d/%d", t,
				 tg_icmp_is_essential(TG_FAMILY_V4, (uint8_t)t),
				 tg_icmp_is_essential(TG_FAMILY_V6, (uint8_t)t), want4, want6);
	}
}

/* ---------------------------------------------------------------- --host */

static void host_names_are_lower_cased(void **state)
{
	struct tg_hostmap map = { 0 };
	uint8_t want[4];

	(void)state;
	assert_int_equal(tg_hostmap_add_spec(&map, "Support.Example.COM=192.0.2.10"), 0);
	assert_int_equal(map.n, 1);
	assert_string_equal(map.items[0].name, "support.example.com");
	assert_false(map.items[0].v6);
	assert_int_equal(inet_pton(AF_INET, "192.0.2.10", want), 1);
	assert_memory_equal(map.items[0].addr, want, 4);
	tg_hostmap_free(&map);
}

static void a_spec_may_give_several_addresses_of_both_families(void **state)
{
	struct tg_hostmap map = { 0 };
	uint8_t v4[4], v6[16];

	(void)state;
	assert_int_equal(tg_hostmap_add_spec(&map, "dl.example.com=192.0.2.11,2001:db8::11,192.0.2.12"), 0);
	assert_int_equal(tg_hostmap_add_spec(&map, "other.example.com=198.51.100.1"), 0);
	assert_int_equal(map.n, 4);
	for (size_t i = 0; i < 3; i++)
		assert_string_equal(map.items[i].name, "dl.example.com");
	assert_false(map.items[0].v6);
	assert_true(map.items[1].v6);
	assert_false(map.items[2].v6);
	assert_int_equal(inet_pton(AF_INET6, "2001:db8::11", v6), 1);
	assert_memory_equal(map.items[1].addr, v6, 16);
	assert_int_equal(inet_pton(AF_INET, "192.0.2.12", v4), 1);
	assert_memory_equal(map.items[2].addr, v4, 4);
	assert_string_equal(map.items[3].name, "other.example.com");
	tg_hostmap_free(&map);
}

static void bad_specs_are_refused(void **state)
{
	static const char *const bad[] = {
		"example.com",		    /* no '=' */
		"=192.0.2.1",		    /* no name */
		"example.com=",		    /* no address */
		"example.com=bogus",	    /* not an address */
		"example.com=192.0.2.256",  /* not an address either */
		"example.com=192.0.2.0/24", /* a prefix, not an address */
		"example.com=2001:db8::1%eth0",
		"example.com==192.0.2.1",
	};
	struct tg_hostmap map = { 0 };

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		if (tg_hostmap_add_spec(&map, bad[i]) != -EINVAL)
			fail_msg("'%s' was accepted", bad[i]);
		assert_int_equal(map.n, 0);
	}
	tg_hostmap_free(&map);
}

/* A bad address later in the list is refused, and the whole spec with it:
 * the map is left exactly as it was before the call. */
static void a_bad_address_in_a_list_is_refused(void **state)
{
	struct tg_hostmap map = { 0 };
	uint8_t want[4];

	(void)state;
	assert_int_equal(tg_hostmap_add_spec(&map, "first.example.com=192.0.2.1"), 0);
	assert_int_equal(tg_hostmap_add_spec(&map, "second.example.com=198.51.100.1,nonsense"), -EINVAL);
	assert_int_equal(map.n, 1);
	assert_string_equal(map.items[0].name, "first.example.com");
	assert_int_equal(inet_pton(AF_INET, "192.0.2.1", want), 1);
	assert_memory_equal(map.items[0].addr, want, 4);
	tg_hostmap_free(&map);
	assert_int_equal(map.n, 0);
}

/* An empty item is a typo, not "no address": "--host a=," must not pass. */
static void empty_items_in_a_list_are_refused(void **state)
{
	static const char *const bad[] = { "h.example.com=,", "h.example.com=192.0.2.1,", "h.example.com=,192.0.2.1",
					   "h.example.com=192.0.2.1,,192.0.2.2" };
	struct tg_hostmap map = { 0 };

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(tg_hostmap_add_spec(&map, bad[i]), -EINVAL);
		assert_int_equal(map.n, 0);
	}
	tg_hostmap_free(&map);
}

/* Spelt as in a policy: case and a trailing dot do not matter. */
static void host_names_are_normalised_like_the_policy(void **state)
{
	struct tg_hostmap map = { 0 };

	(void)state;
	assert_int_equal(tg_hostmap_add_spec(&map, "Support.Example.COM.=192.0.2.7"), 0);
	assert_int_equal(map.n, 1);
	assert_string_equal(map.items[0].name, "support.example.com");
	assert_int_equal(tg_hostmap_count(&map, "support.example.com"), 1);
	tg_hostmap_free(&map);
}

/* An attached interface keeps 16 addresses per name; so does every command. */
static void a_name_takes_at_most_16_addresses(void **state)
{
	struct tg_hostmap map = { 0 };
	char spec[512];
	size_t used;

	(void)state;
	used = (size_t)snprintf(spec, sizeof(spec), "h.example.com=");
	for (int i = 1; i <= 12; i++)
		used += (size_t)snprintf(spec + used, sizeof(spec) - used, "%s192.0.2.%d", i > 1 ? "," : "", i);
	assert_int_equal(tg_hostmap_add_spec(&map, spec), 0);
	/* Four more fit, across a second --host for the same name... */
	assert_int_equal(tg_hostmap_add_spec(&map, "H.example.com=2001:db8::1,2001:db8::2,2001:db8::3,2001:db8::4"), 0);
	assert_int_equal(tg_hostmap_count(&map, "h.example.com"), 16);
	/* ...a seventeenth does not, and leaves the map as it was. */
	assert_int_equal(tg_hostmap_add_spec(&map, "h.example.com=198.51.100.1"), -E2BIG);
	assert_int_equal(map.n, 16);
	assert_int_equal(tg_hostmap_add_spec(&map, "other.example.com=198.51.100.1"), 0);
	tg_hostmap_free(&map);
}

static void free_leaves_an_empty_reusable_map(void **state)
{
	struct tg_hostmap map = { 0 };

	(void)state;
	assert_int_equal(tg_hostmap_add_spec(&map, "a.example.com=192.0.2.1,192.0.2.2"), 0);
	tg_hostmap_free(&map);
	assert_int_equal(map.n, 0);
	assert_int_equal(map.cap, 0);
	assert_null(map.items);
	tg_hostmap_free(&map); /* twice is harmless */
	assert_int_equal(tg_hostmap_add_spec(&map, "b.example.com=2001:db8::2"), 0);
	assert_int_equal(map.n, 1);
	assert_true(map.items[0].v6);
	tg_hostmap_free(&map);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(settings_and_directions_have_their_policy_names),
		cmocka_unit_test(reasons_and_roles_have_their_metric_names),
		cmocka_unit_test(prefixes_are_formatted_as_cidr),
		cmocka_unit_test(protocols_are_listed_in_a_fixed_order),
		cmocka_unit_test(protocols_are_cut_to_the_buffer),
		cmocka_unit_test(icmp_names_round_trip_in_each_family),
		cmocka_unit_test(neighbor_is_also_spelt_the_american_way),
		cmocka_unit_test(icmp_names_belong_to_one_family),
		cmocka_unit_test(only_request_types_have_replies),
		cmocka_unit_test(essential_types_are_the_documented_ones),
		cmocka_unit_test(host_names_are_lower_cased),
		cmocka_unit_test(a_spec_may_give_several_addresses_of_both_families),
		cmocka_unit_test(bad_specs_are_refused),
		cmocka_unit_test(a_bad_address_in_a_list_is_refused),
		cmocka_unit_test(empty_items_in_a_list_are_refused),
		cmocka_unit_test(host_names_are_normalised_like_the_policy),
		cmocka_unit_test(a_name_takes_at_most_16_addresses),
		cmocka_unit_test(free_leaves_an_empty_reusable_map),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
