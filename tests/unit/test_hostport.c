// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* ADDR, ADDR:PORT, [V6], [V6]:PORT, bare V6 and :PORT, the one parser for
 * --dns-server and --listen (user/lib/hostport.c). */
#include "helpers.h"
#include "lib/hostport.h"
#include "lib/util.h"

#include <sys/socket.h>

/* Parses spec and checks every field against the expectation. */
static void expect(const char *spec, int family, const char *addr, uint16_t port)
{
	struct tg_hostport hp;
	uint8_t want[16] = { 0 };

	if (addr)
		assert_int_equal(inet_pton(family, addr, want), 1);
	assert_int_equal(tg_parse_hostport(spec, &hp), 0);
	assert_int_equal(hp.family, family);
	assert_memory_equal(hp.addr, want, sizeof(want)); /* IPv4: the rest stays zero */
	assert_int_equal(hp.port, port);
}

static void ipv4_alone(void **state)
{
	(void)state;
	expect("192.0.2.1", AF_INET, "192.0.2.1", 0);
	expect("0.0.0.0", AF_INET, "0.0.0.0", 0);
}

static void ipv4_with_port(void **state)
{
	(void)state;
	expect("192.0.2.1:53", AF_INET, "192.0.2.1", 53);
	expect("198.51.100.7:1", AF_INET, "198.51.100.7", 1);
	expect("198.51.100.7:65535", AF_INET, "198.51.100.7", 65535);
	expect("127.0.0.1:0009731", AF_INET, "127.0.0.1", 9731); /* leading zeros are still digits */
}

static void bracketed_ipv6_with_and_without_port(void **state)
{
	(void)state;
	expect("[2001:db8::1]:5353", AF_INET6, "2001:db8::1", 5353);
	expect("[2001:db8::1]", AF_INET6, "2001:db8::1", 0);
	expect("[::1]:9731", AF_INET6, "::1", 9731);
	expect("[::ffff:192.0.2.1]:53", AF_INET6, "::ffff:192.0.2.1", 53);
}

static void bare_ipv6_has_no_port(void **state)
{
	(void)state;
	/* More than one colon: all of it is the address, none a port. */
	expect("2001:db8::1", AF_INET6, "2001:db8::1", 0);
	expect("2001:db8::53", AF_INET6, "2001:db8::53", 0);
	expect("::", AF_INET6, "::", 0);
}

static void port_alone_has_no_address(void **state)
{
	(void)state;
	expect(":9731", AF_UNSPEC, NULL, 9731);
	expect(":1", AF_UNSPEC, NULL, 1);
}

static void rejects_bad_specs(void **state)
{
	static const char *const bad[] = {
		"",
		":",
		"192.0.2.1:",
		"192.0.2.1:0",
		"192.0.2.1:65536",
		"192.0.2.1:99999999999",
		"192.0.2.1:+53",
		"192.0.2.1: 53",
		"192.0.2.1:53x",
		"192.0.2.1:-1",
		"[2001:db8::1",
		"[2001:db8::1]:",
		"[2001:db8::1]53",
		"[2001:db8::1]x",
		"[192.0.2.1]:53",
		"[192.0.2.1]",
		"example.com:53",
		"example.com",
		"[]:53",
		"[]",
		"192.0.2.256",
		"192.0.2",
		"::1::2",
		"2001:db8::1]:53",
		"[[2001:db8::1]]",
		":0",
		":65536",
	};
	struct tg_hostport hp;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		int rc = tg_parse_hostport(bad[i], &hp);

		if (rc != -EINVAL)
			fail_msg("'%s' gave %d, not -EINVAL", bad[i], rc);
	}
}

/* A spec longer than any address must be refused, not copied past the
 * parser's buffer (ASan would see that). */
static void rejects_over_long_host(void **state)
{
	char spec[200];
	struct tg_hostport hp;

	(void)state;
	memset(spec, '1', sizeof(spec));
	spec[sizeof(spec) - 1] = '\0';
	assert_int_equal(tg_parse_hostport(spec, &hp), -EINVAL);
	spec[0] = '[';
	spec[100] = ']';
	spec[101] = '\0';
	assert_int_equal(tg_parse_hostport(spec, &hp), -EINVAL);
	memcpy(spec + 150, ":53", 4);
	memset(spec, '1', 150);
	assert_int_equal(tg_parse_hostport(spec, &hp), -EINVAL);
}

/* A failed parse must not leave the previous result behind. */
static void failure_clears_the_result(void **state)
{
	struct tg_hostport hp;
	static const uint8_t zero[16];

	(void)state;
	assert_int_equal(tg_parse_hostport("[2001:db8::1]:53", &hp), 0);
	assert_int_equal(tg_parse_hostport("192.0.2.1:0", &hp), -EINVAL);
	assert_int_equal(hp.port, 0);
	assert_memory_equal(hp.addr, zero, sizeof(zero));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ipv4_alone),
		cmocka_unit_test(ipv4_with_port),
		cmocka_unit_test(bracketed_ipv6_with_and_without_port),
		cmocka_unit_test(bare_ipv6_has_no_port),
		cmocka_unit_test(port_alone_has_no_address),
		cmocka_unit_test(rejects_bad_specs),
		cmocka_unit_test(rejects_over_long_host),
		cmocka_unit_test(failure_clears_the_result),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
