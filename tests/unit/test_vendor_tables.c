// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Row by row, the vendor tables that the seed policies encode
 * (../shared/vendor-docs): every port of every row must reach the row's own
 * service with the right protocol, direction and peers, and the whole policy
 * must let that flow through on both facings. Around each row, the near
 * misses (other protocol, neighbouring addresses, a SYN from the service
 * port) must not.
 */
#include "helpers.h"

#include <netinet/in.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define ACK 0x10
#define SYN 0x02
#define CLIENT_PORT 50123

struct row {
	const char *service; /* the row's own service in the policy */
	int direction;
	uint16_t lo, hi;      /* a port or a range of the row */
	const char *peers[6]; /* addresses inside the row's peers */
};

/* Notarius: every flow is outbound, TCP, to both published ranges. */
/* A brace list, which clang-format would lay out as a block. */
/* clang-format off */
#define NOTARIUS_PEERS { "206.55.89.0", "206.55.89.17", "206.55.89.31", "192.252.131.64", "192.252.131.79" }
/* clang-format on */
static const struct row notarius_rows[] = {
	{ "consigno-licensing", TG_DIR_OUT, 443, 443, NOTARIUS_PEERS },
	{ "signature-generation", TG_DIR_OUT, 443, 443, NOTARIUS_PEERS },
	{ "signature-generation", TG_DIR_OUT, 829, 829, NOTARIUS_PEERS },
	{ "timestamp-authority", TG_DIR_OUT, 80, 80, NOTARIUS_PEERS },
	{ "ocsp-responder", TG_DIR_OUT, 80, 80, NOTARIUS_PEERS },
	{ "crl", TG_DIR_OUT, 80, 80, NOTARIUS_PEERS },
	{ "crl", TG_DIR_OUT, 389, 389, NOTARIUS_PEERS },
	{ "enrolment-portal", TG_DIR_OUT, 443, 443, NOTARIUS_PEERS },
	{ "templates-download", TG_DIR_OUT, 80, 80, NOTARIUS_PEERS },
	{ "notifications", TG_DIR_OUT, 443, 443, NOTARIUS_PEERS },
	{ "certifio-manager", TG_DIR_OUT, 443, 443, NOTARIUS_PEERS },
	{ "certifio-manager", TG_DIR_OUT, 24250, 24250, NOTARIUS_PEERS },
	{ "certifio-manager-server", TG_DIR_OUT, 443, 443, NOTARIUS_PEERS },
	{ "certifio-manager-server", TG_DIR_OUT, 24251, 24270, NOTARIUS_PEERS },
	{ "notarius-support", TG_DIR_OUT, 443, 443, { "198.51.100.7" } },
	{ "notarius-download", TG_DIR_OUT, 80, 80, { "198.51.100.8" } },
	{ "notarius-download", TG_DIR_OUT, 443, 443, { "198.51.100.8" } },
};

/* Just outside the published ranges. */
static const char *const notarius_outsiders[] = { "206.55.88.255", "206.55.89.32", "192.252.131.63", "192.252.131.80",
						  "198.51.100.9" };

/* Cryptshare: site peers are the policy's placeholders (see the policy). */
/* A brace list, which clang-format would lay out as a block. */
/* clang-format off */
#define INTRANET { "10.1.2.3", "172.16.0.1", "172.31.255.254", "192.168.7.7", "fd00::5", "fc00::1" }
/* clang-format on */
static const struct row cryptshare_rows[] = {
	{ "ui-http", TG_DIR_IN, 80, 80, { "203.0.113.9", "10.1.2.3", "2001:db8::99" } },
	{ "ui-https", TG_DIR_IN, 443, 443, { "203.0.113.9", "10.1.2.3", "2001:db8::99" } },
	{ "os-updates", TG_DIR_OUT, 80, 80, { "203.0.113.50", "2001:db8::50" } },
	{ "cryptshare-updates", TG_DIR_OUT, 443, 443, { "198.51.100.80" } },
	{ "admin-https", TG_DIR_IN, 8080, 8080, INTRANET },
	{ "admin-http", TG_DIR_IN, 9090, 9090, INTRANET },
	{ "admin-ssh", TG_DIR_IN, 22, 22, INTRANET },
	{ "smtp", TG_DIR_OUT, 25, 25, { "192.0.2.25" } },
	{ "smtps", TG_DIR_OUT, 465, 465, { "192.0.2.25" } },
	{ "submission", TG_DIR_OUT, 587, 587, { "192.0.2.25" } },
	{ "ldap", TG_DIR_OUT, 389, 389, { "192.0.2.89" } },
	{ "ldaps", TG_DIR_OUT, 686, 686, { "192.0.2.89" } },
	{ "ad-global-catalog", TG_DIR_OUT, 3268, 3268, { "192.0.2.68" } },
	{ "archive-ssh", TG_DIR_OUT, 22, 22, { "192.0.2.22" } },
};

/* The address on our side of the flow. */
static const char *local_for(const char *peer)
{
	return strchr(peer, ':') ? "2001:db8::10" : "192.0.2.10";
}

/*
 * The packet the filter sees for a flow of this row on a NIC of this facing.
 * Outside-facing sees what arrives from the peer; inside-facing sees what
 * local hosts send toward it.
 */
static struct tg_pkt row_packet(const struct row *r, const char *peer, uint16_t port, int facing, uint8_t protocol)
{
	bool request = tg_service_role(r->direction, facing) == TG_ROLE_REQUEST;
	const char *src = facing == TG_FACING_OUTSIDE ? peer : local_for(peer);
	const char *dst = facing == TG_FACING_OUTSIDE ? local_for(peer) : peer;

	return ip_packet(src, dst, protocol, request ? CLIENT_PORT : port, request ? port : CLIENT_PORT,
			 request ? SYN : SYN | ACK);
}

/* The row's own service alone must take the packet: protocol, port, peers. */
static void assert_row_service_matches(const struct tg_policy *pol, const struct tg_hostmap *hosts, int s, int facing,
				       const struct tg_pkt *pkt)
{
	struct tg_policy only = *pol;
	struct tg_decision d;

	only.services = &pol->services[s];
	only.nservices = 1;
	tg_reference_classify(&only, hosts, facing, pkt, &d);
	if (d.service != 0)
		print_error("service '%s' does not match its own row (port %u/%u, facing %d)\n", pol->services[s].name,
			    pkt->sport, pkt->dport, facing);
	assert_int_equal(d.service, 0);
	assert_int_equal(d.reason, TG_REASON_SERVICE);
}

static void assert_policy_passes(const struct tg_policy *pol, const struct tg_hostmap *hosts, const struct row *r,
				 int facing, const struct tg_pkt *pkt)
{
	struct tg_decision d;

	tg_reference_classify(pol, hosts, facing, pkt, &d);
	if (d.verdict != TG_PASS || d.reason != TG_REASON_SERVICE)
		print_error("row '%s' port %u is not allowed (facing %d)\n", r->service, r->lo, facing);
	assert_int_equal(d.verdict, TG_PASS);
	assert_int_equal(d.reason, TG_REASON_SERVICE);
	assert_int_equal(pol->services[d.service].direction, r->direction);
}

static void assert_dropped(const struct tg_policy *pol, const struct tg_hostmap *hosts, int facing,
			   const struct tg_pkt *pkt, const char *why)
{
	struct tg_decision d;

	tg_reference_classify(pol, hosts, facing, pkt, &d);
	if (d.verdict != TG_DROP)
		print_error("allowed, but should not be: %s\n", why);
	assert_int_equal(d.verdict, TG_DROP);
}

static void check_row(const struct tg_policy *pol, const struct tg_hostmap *hosts, const struct row *r)
{
	int s = service_index(pol, r->service);
	const uint16_t ports[] = { r->lo, (uint16_t)((r->lo + r->hi) / 2), r->hi };

	if (s < 0)
		print_error("no service '%s' in the policy\n", r->service);
	assert_true(s >= 0);
	assert_int_equal(pol->services[s].direction, r->direction);
	assert_int_equal(pol->services[s].protos & ~TG_P_UDP, TG_P_TCP);
	for (int facing = 0; facing < 2; facing++)
		for (size_t i = 0; i < ARRAY_SIZE(r->peers) && r->peers[i]; i++)
			for (size_t k = 0; k < ARRAY_SIZE(ports); k++) {
				struct tg_pkt pkt = row_packet(r, r->peers[i], ports[k], facing, IPPROTO_TCP);

				assert_row_service_matches(pol, hosts, s, facing, &pkt);
				assert_policy_passes(pol, hosts, r, facing, &pkt);
				pkt.protocol = IPPROTO_SCTP; /* the same ports over SCTP: not in any table */
				assert_dropped(pol, hosts, facing, &pkt, "SCTP on a TCP row");
			}
}

static void notarius_rows_are_allowed(void **state)
{
	struct loaded l;

	(void)state;
	assert_int_equal(load_file(&l, "policies/notarius.policy"), 0);
	assert_int_equal(tg_hostmap_add_spec(&l.hosts, "support.notarius.com=198.51.100.7"), 0);
	assert_int_equal(tg_hostmap_add_spec(&l.hosts, "download.notarius.com=198.51.100.8"), 0);
	for (size_t i = 0; i < ARRAY_SIZE(notarius_rows); i++)
		check_row(&l.pol, &l.hosts, &notarius_rows[i]);
	unload(&l);
}

static void notarius_near_misses_are_dropped(void **state)
{
	const uint16_t ports[] = { 80, 389, 443, 829, 24250, 24260 };
	const uint16_t unlisted[] = { 22, 81, 442, 444, 828, 830, 24249, 24271, 636 };
	struct loaded l;

	(void)state;
	assert_int_equal(load_file(&l, "policies/notarius.policy"), 0);
	for (size_t i = 0; i < ARRAY_SIZE(notarius_outsiders); i++)
		for (size_t k = 0; k < ARRAY_SIZE(ports); k++) {
			struct tg_pkt pkt =
				ip_packet(notarius_outsiders[i], "192.0.2.10", IPPROTO_TCP, ports[k], CLIENT_PORT, ACK);

			assert_dropped(&l.pol, &l.hosts, TG_FACING_OUTSIDE, &pkt, "reply from outside the ranges");
		}
	for (size_t k = 0; k < ARRAY_SIZE(unlisted); k++) {
		struct tg_pkt pkt = ip_packet("206.55.89.17", "192.0.2.10", IPPROTO_TCP, unlisted[k], CLIENT_PORT, ACK);

		assert_dropped(&l.pol, &l.hosts, TG_FACING_OUTSIDE, &pkt, "reply from an unlisted port");
	}
	for (size_t k = 0; k < ARRAY_SIZE(ports); k++) {
		/* Notarius never opens connections: a SYN from its port is not a reply. */
		struct tg_pkt syn = ip_packet("206.55.89.17", "192.0.2.10", IPPROTO_TCP, ports[k], CLIENT_PORT, SYN);
		/* Nor may it connect to us on those ports. */
		struct tg_pkt inbound =
			ip_packet("206.55.89.17", "192.0.2.10", IPPROTO_TCP, CLIENT_PORT, ports[k], SYN);
		struct tg_pkt udp = ip_packet("206.55.89.17", "192.0.2.10", IPPROTO_UDP, ports[k], CLIENT_PORT, 0);

		assert_dropped(&l.pol, &l.hosts, TG_FACING_OUTSIDE, &syn, "SYN from a service port");
		assert_dropped(&l.pol, &l.hosts, TG_FACING_OUTSIDE, &inbound, "inbound connection");
		assert_dropped(&l.pol, &l.hosts, TG_FACING_OUTSIDE, &udp, "UDP on a TCP row");
	}
	unload(&l);
}

static void cryptshare_rows_are_allowed(void **state)
{
	struct loaded l;

	(void)state;
	assert_int_equal(load_file(&l, "policies/cryptshare.policy"), 0);
	for (size_t i = 0; i < ARRAY_SIZE(cryptshare_rows); i++)
		check_row(&l.pol, NULL, &cryptshare_rows[i]);
	unload(&l);
}

static void cryptshare_admin_is_intranet_only(void **state)
{
	const uint16_t admin[] = { 8080, 9090, 22 };
	const char *const outsiders[] = { "203.0.113.9", "11.0.0.1", "172.32.0.1", "192.169.0.1", "2001:db8::99" };
	struct loaded l;

	(void)state;
	assert_int_equal(load_file(&l, "policies/cryptshare.policy"), 0);
	for (size_t i = 0; i < ARRAY_SIZE(outsiders); i++)
		for (size_t k = 0; k < ARRAY_SIZE(admin); k++) {
			struct tg_pkt pkt = ip_packet(outsiders[i], local_for(outsiders[i]), IPPROTO_TCP, CLIENT_PORT,
						      admin[k], SYN);

			assert_dropped(&l.pol, NULL, TG_FACING_OUTSIDE, &pkt, "admin port from outside the intranet");
		}
	unload(&l);
}

static void cryptshare_ldaps_follows_the_document(void **state)
{
	struct loaded l;
	struct tg_pkt standard;

	(void)state;
	assert_int_equal(load_file(&l, "policies/cryptshare.policy"), 0);
	/* The table says 686; 636 (the registered LDAPS port) stays closed until changed. */
	standard = ip_packet("192.0.2.89", "192.0.2.10", IPPROTO_TCP, 636, CLIENT_PORT, ACK);
	assert_dropped(&l.pol, NULL, TG_FACING_OUTSIDE, &standard, "LDAPS on 636");
	unload(&l);
}

static void cryptshare_dns_is_marked_as_added(void **state)
{
	struct loaded l;
	int s;

	(void)state;
	assert_int_equal(load_file(&l, "policies/cryptshare.policy"), 0);
	s = service_index(&l.pol, "dns");
	assert_true(s >= 0);
	assert_non_null(strstr(l.pol.services[s].description, "NOT IN THE VENDOR TABLE"));
	unload(&l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(notarius_rows_are_allowed),
		cmocka_unit_test(notarius_near_misses_are_dropped),
		cmocka_unit_test(cryptshare_rows_are_allowed),
		cmocka_unit_test(cryptshare_admin_is_intranet_only),
		cmocka_unit_test(cryptshare_ldaps_follows_the_document),
		cmocka_unit_test(cryptshare_dns_is_marked_as_added),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
