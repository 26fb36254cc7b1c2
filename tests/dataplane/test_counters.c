// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Counters: a known mix of frames through a freshly loaded program, then
 * every service's request/reply/fragment counters and every reason's
 * pass/drop counters compared with numbers written out by hand (the frame
 * lengths below are asserted as built, so the sums are the frames' bytes).
 *
 * Both policies are loaded `replies stateless`: the mix has replies without
 * their requests, and the hand-written sums count them as replies.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "dp_harness.h"

static const struct dp_config counters_cryptshare = {
	.label = "cryptshare outside counters",
	.file = "policies/cryptshare.policy",
	.facing = TG_FACING_OUTSIDE,
	.stateless = true, /* see the file comment */
};

static const struct dp_config counters_notarius = {
	.label = "notarius outside counters",
	.file = "policies/notarius.policy",
	.facing = TG_FACING_OUTSIDE,
	.stateless = true, /* see the file comment */
	.hosts = { "support.notarius.com=198.51.100.7", "download.notarius.com=198.51.100.8" },
};

struct mix_row {
	const char *spec;
	size_t len;	/* the frame as built */
	unsigned times; /* sent this many times */
	const char *expect;
};

struct counter_row {
	const char *service;
	int role;
	uint64_t packets, bytes;
};

struct reason_row {
	int reason, verdict;
	uint64_t packets, bytes;
};

static void send_mix(struct dp_fixture *fx, const struct mix_row *rows, size_t n)
{
	static uint8_t frame[DP_FRAME_MAX];

	for (size_t i = 0; i < n; i++) {
		size_t len = dp_build(rows[i].spec, frame, sizeof(frame));

		if (len != rows[i].len)
			fail_msg("%s: built %zu bytes, the table says %zu", rows[i].spec, len, rows[i].len);
		for (unsigned t = 0; t < rows[i].times; t++)
			dp_check_frame(fx, frame, len, rows[i].expect, rows[i].spec);
	}
}

/* Every counter of every service and reason: the listed ones as listed,
 * all others zero. */
static void assert_counters(struct dp_fixture *fx, const struct counter_row *svc, size_t nsvc,
			    const struct reason_row *rsn, size_t nrsn)
{
	unsigned bad = 0;

	for (uint32_t s = 0; s < fx->img.nservices; s++) {
		struct tg_service_counters got;

		assert_int_equal(tg_dataplane_service_counters(&fx->dp, fx->img.services[s].counter_slot, &got), 0);
		for (int r = 0; r < TG_ROLES; r++) {
			uint64_t packets = 0, bytes = 0;

			for (size_t i = 0; i < nsvc; i++)
				if (!strcmp(svc[i].service, fx->img.services[s].name) && svc[i].role == r) {
					packets = svc[i].packets;
					bytes = svc[i].bytes;
				}
			if (got.role[r].packets != packets || got.role[r].bytes != bytes) {
				fprintf(stderr, "error: service %s %s: %llu packets %llu bytes, want %llu %llu\n",
					fx->img.services[s].name, tg_role_name(r),
					(unsigned long long)got.role[r].packets, (unsigned long long)got.role[r].bytes,
					(unsigned long long)packets, (unsigned long long)bytes);
				bad++;
			}
		}
	}
	for (int r = 0; r < TG_REASONS; r++) {
		struct tg_reason_counters got;

		assert_int_equal(tg_dataplane_reason_counters(&fx->dp, (uint32_t)r, &got), 0);
		for (int v = 0; v < 2; v++) {
			uint64_t packets = 0, bytes = 0;

			for (size_t i = 0; i < nrsn; i++)
				if (rsn[i].reason == r && rsn[i].verdict == v) {
					packets = rsn[i].packets;
					bytes = rsn[i].bytes;
				}
			if (got.verdict[v].packets != packets || got.verdict[v].bytes != bytes) {
				fprintf(stderr, "error: reason %s %s: %llu packets %llu bytes, want %llu %llu\n",
					tg_reason_name(r), v == TG_PASS ? "pass" : "drop",
					(unsigned long long)got.verdict[v].packets,
					(unsigned long long)got.verdict[v].bytes, (unsigned long long)packets,
					(unsigned long long)bytes);
				bad++;
			}
		}
	}
	if (bad)
		fail_msg("%u counters differ", bad);
}

static void counters_of_a_known_mix(void **state)
{
	static const struct mix_row mix[] = {
		{ "tcp 203.0.113.9:51000 > 192.0.2.10:443 S", 54, 5, "pass ui-https request service" },
		{ "tcp 203.0.113.9:51000 > 192.0.2.10:443 A payload=100", 154, 1, "pass ui-https request service" },
		{ "tcp [2001:db8:ffff::9]:51000 > [2001:db8:1::10]:443 A payload=1000", 1074, 1,
		  "pass ui-https request service" },
		{ "tcp 10.1.2.3:51000 > 192.0.2.10:22 S opts=8", 62, 2, "pass admin-ssh request service" },
		{ "tcp 203.0.113.50:80 > 192.0.2.10:40000 SA", 54, 1, "pass os-updates reply service" },
		{ "udp 192.0.2.53:53 > 192.0.2.10:40000", 42, 3, "pass dns reply service" },
		{ "udp [2001:db8::53]:53 > [2001:db8:1::10]:40000 payload=100", 162, 1, "pass dns reply service" },
		{ "tcp 192.0.2.53:53 > 192.0.2.10:40000 SA vlan=1", 58, 1, "pass dns reply service" },
		{ "udp 192.0.2.53:53 > 192.0.2.10:40000 frag=100 payload=100", 134, 1, "pass dns fragment fragment" },
		{ "udp [2001:db8::53]:53 > [2001:db8:1::10]:40000 frag=100 payload=16", 78, 1,
		  "pass dns fragment fragment" },
		{ "tcp 203.0.113.9:1 > 192.0.2.10:1 frag=100 payload=8", 42, 1, "pass ui-http fragment fragment" },
		{ "tcp 203.0.113.9:51000 > 192.0.2.10:8080 S", 54, 2, "drop - - default" },
		{ "udp 203.0.113.9:53 > 192.0.2.10:40000", 42, 1, "drop - - default" },
		{ "tcp 203.0.113.9:51000 > 192.0.2.10:443 S ihl=4", 54, 1, "drop - - malformed" },
		{ "tcp 203.0.113.9:51000 > 192.0.2.10:443 S vlan=3", 66, 1, "drop - - malformed" },
		{ "ether=0x0806 payload=28", 42, 4, "pass - - non-ip" },
		{ "icmp 198.51.100.1 > 192.0.2.10 type=3 payload=28", 70, 1, "pass - - essential-icmp" },
		{ "icmp [fe80::1] > [2001:db8:1::10] type=135 payload=16", 78, 1, "pass - - essential-icmp" },
	};
	static const struct counter_row services[] = {
		{ "ui-https", TG_ROLE_REQUEST, 5 + 1 + 1, 5 * 54 + 154 + 1074 },
		{ "admin-ssh", TG_ROLE_REQUEST, 2, 2 * 62 },
		{ "os-updates", TG_ROLE_REPLY, 1, 54 },
		{ "dns", TG_ROLE_REPLY, 3 + 1 + 1, 3 * 42 + 162 + 58 },
		{ "dns", TG_ROLE_FRAGMENT, 2, 134 + 78 },
		{ "ui-http", TG_ROLE_FRAGMENT, 1, 42 },
	};
	static const struct reason_row reasons[] = {
		{ TG_REASON_SERVICE, TG_PASS, 7 + 2 + 1 + 5,
		  (5 * 54 + 154 + 1074) + 2 * 62 + 54 + (3 * 42 + 162 + 58) },
		{ TG_REASON_FRAGMENT, TG_PASS, 3, 134 + 78 + 42 },
		{ TG_REASON_DEFAULT, TG_DROP, 3, 2 * 54 + 42 },
		{ TG_REASON_MALFORMED, TG_DROP, 2, 54 + 66 },
		{ TG_REASON_NON_IP, TG_PASS, 4, 4 * 42 },
		{ TG_REASON_ESSENTIAL_ICMP, TG_PASS, 2, 70 + 78 },
	};
	struct dp_fixture *fx = *state;

	/* A fresh load counts nothing. */
	assert_counters(fx, NULL, 0, NULL, 0);
	send_mix(fx, mix, DP_ARRAY_SIZE(mix));
	assert_counters(fx, services, DP_ARRAY_SIZE(services), reasons, DP_ARRAY_SIZE(reasons));
	DP_DONE(fx);
}

/* A counted-under row never counts: its traffic is the first row's. */
static void counted_under_rows_stay_at_zero(void **state)
{
	static const struct mix_row mix[] = {
		{ "tcp 206.55.89.17:443 > 192.0.2.10:50000 A payload=1000", 1054, 3,
		  "pass consigno-licensing reply service" },
		{ "tcp 192.252.131.70:80 > 192.0.2.10:50000 A", 54, 2, "pass timestamp-authority reply service" },
		{ "tcp 206.55.89.17:24255 > 192.0.2.10:50000 SA", 54, 1, "pass certifio-manager-server reply service" },
		{ "tcp 198.51.100.7:443 > 192.0.2.10:50000 A", 54, 1, "pass notarius-support reply service" },
		{ "tcp 206.55.89.17:1 > 192.0.2.10:1 frag=50 payload=500", 534, 1,
		  "pass consigno-licensing fragment fragment" },
		{ "tcp 206.55.89.17:443 > 192.0.2.10:50000 S", 54, 1, "drop - - default" },
	};
	static const struct counter_row services[] = {
		{ "consigno-licensing", TG_ROLE_REPLY, 3, 3 * 1054 },
		{ "consigno-licensing", TG_ROLE_FRAGMENT, 1, 534 },
		{ "timestamp-authority", TG_ROLE_REPLY, 2, 2 * 54 },
		{ "certifio-manager-server", TG_ROLE_REPLY, 1, 54 },
		{ "notarius-support", TG_ROLE_REPLY, 1, 54 },
		/* enrolment-portal, notifications, ocsp-responder and
		 * templates-download: zero, like every row not listed. */
	};
	static const struct reason_row reasons[] = {
		{ TG_REASON_SERVICE, TG_PASS, 3 + 2 + 1 + 1, 3 * 1054 + 2 * 54 + 54 + 54 },
		{ TG_REASON_FRAGMENT, TG_PASS, 1, 534 },
		{ TG_REASON_DEFAULT, TG_DROP, 1, 54 },
	};
	struct dp_fixture *fx = *state;

	send_mix(fx, mix, DP_ARRAY_SIZE(mix));
	assert_counters(fx, services, DP_ARRAY_SIZE(services), reasons, DP_ARRAY_SIZE(reasons));
	DP_DONE(fx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_prestate_setup_teardown(counters_of_a_known_mix, dp_setup_prestate, dp_teardown,
							 (void *)&counters_cryptshare),
		cmocka_unit_test_prestate_setup_teardown(counted_under_rows_stay_at_zero, dp_setup_prestate,
							 dp_teardown, (void *)&counters_notarius),
	};

	return cmocka_run_group_tests_name("counters", tests, NULL, NULL) ? 1 : 0;
}
