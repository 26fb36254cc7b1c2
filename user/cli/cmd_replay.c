// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * tollgate replay: a capture through the real XDP program, loaded with fresh
 * maps and run with BPF_PROG_TEST_RUN, one verdict per packet and the
 * counters read back from the maps.
 */
#include "model/classify.h"
#include "cli/cli.h"
#include "cli/report.h"
#include "kernel/dataplane.h"
#include "lib/log.h"
#include "lib/util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define ETH_HLEN 14
#define SLL_HLEN 16

struct replay {
	const struct tg_image *img;
	struct tg_dataplane dp;
	bool json;
	unsigned long packets, not_run, mismatches;
	int linktype;
	uint8_t frame[ETH_HLEN + 65536];
};

/* ------------------------------------------------------------- framing */

static bool linktype_supported(int dlt)
{
	return dlt == DLT_EN10MB || dlt == DLT_LINUX_SLL || dlt == DLT_RAW || dlt == DLT_IPV4 || dlt == DLT_IPV6;
}

static void put_ethertype(uint8_t *frame, uint16_t type)
{
	memset(frame, 0, 12);
	frame[12] = (uint8_t)(type >> 8);
	frame[13] = (uint8_t)type;
}

/* Gives every supported link type an Ethernet header: the program's input. */
static size_t to_ethernet(struct replay *r, const uint8_t *data, size_t len)
{
	size_t body = len;

	switch (r->linktype) {
	case DLT_EN10MB:
		memcpy(r->frame, data, len);
		return len;
	case DLT_LINUX_SLL:
		if (len < SLL_HLEN)
			return 0;
		put_ethertype(r->frame, (uint16_t)(data[14] << 8 | data[15]));
		data += SLL_HLEN;
		body = len - SLL_HLEN;
		break;
	default: /* raw IP: the version nibble says which */
		put_ethertype(r->frame, len && (data[0] >> 4) == 6 ? 0x86dd : 0x0800);
		break;
	}
	memcpy(r->frame + ETH_HLEN, data, body);
	return ETH_HLEN + body;
}

/* ------------------------------------------------------------- output */

static void describe(const uint8_t *frame, size_t len, char *buf, size_t size)
{
	struct tg_pkt pkt;
	char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN];
	int af;

	tg_pkt_parse(frame, len, &pkt);
	if (pkt.kind == TG_PKT_NON_IP) {
		snprintf(buf, size, "non-IP ethertype 0x%02x%02x", len >= 14 ? frame[12] : 0,
			 len >= 14 ? frame[13] : 0);
		return;
	}
	if (pkt.kind == TG_PKT_MALFORMED && (pkt.src[0] == 0 && pkt.dst[0] == 0)) {
		snprintf(buf, size, "malformed, %zu bytes", len);
		return;
	}
	af = pkt.family == TG_FAMILY_V6 ? AF_INET6 : AF_INET;
	inet_ntop(af, pkt.src, src, sizeof(src));
	inet_ntop(af, pkt.dst, dst, sizeof(dst));
	if (pkt.nonfirst_fragment)
		snprintf(buf, size, "proto %u %s -> %s (fragment)", pkt.protocol, src, dst);
	else if (pkt.protocol == 6 || pkt.protocol == 17 || pkt.protocol == 132)
		snprintf(buf, size, "%s %s%s%s:%u -> %s%s%s:%u%s%s",
			 pkt.protocol == 6  ? "tcp" :
			 pkt.protocol == 17 ? "udp" :
					      "sctp",
			 af == AF_INET6 ? "[" : "", src, af == AF_INET6 ? "]" : "", pkt.sport,
			 af == AF_INET6 ? "[" : "", dst, af == AF_INET6 ? "]" : "", pkt.dport,
			 pkt.protocol == 6 ? (pkt.tcp_flags & 0x10 ? " ack" : "") : "",
			 pkt.protocol == 6 && (pkt.tcp_flags & 0x02) ? " syn" : "");
	else if ((pkt.protocol == 1 && af == AF_INET) || (pkt.protocol == 58 && af == AF_INET6))
		snprintf(buf, size, "%s %s -> %s type %u", af == AF_INET ? "icmp" : "icmpv6", src, dst, pkt.icmp_type);
	else
		snprintf(buf, size, "proto %u %s -> %s", pkt.protocol, src, dst);
}

static void print_result(struct replay *r, unsigned long n, int action, const struct tg_trace *t, const char *what,
			 const char *note)
{
	const char *verdict = action == TG_PASS ? "pass" : "drop";
	const char *service = t->service < r->img->nservices ? r->img->services[t->service].name : NULL;
	const char *match = service && t->role != TG_ROLE_FRAGMENT ? tg_role_name(t->role) : NULL;

	if (r->json) {
		printf("{\"packet\": %lu, \"verdict\": \"%s\", \"service\": ", n, verdict);
		printf(service ? "\"%s\"" : "null", service);
		printf(", \"match\": ");
		printf(match ? "\"%s\"" : "null", match);
		printf(", \"reason\": \"%s\"", tg_reason_name(t->reason));
		if (note)
			printf(", \"note\": \"%s\"", note);
		printf("}\n");
		return;
	}
	printf("%6lu  %-4s  %-14s  %-28s %-8s %s%s%s\n", n, verdict, tg_reason_name(t->reason), service ? service : "-",
	       match ? match : "-", what, note ? "  # " : "", note ? note : "");
}

/* ------------------------------------------------------------- counters */

static int print_counters(struct replay *r)
{
	struct tg_service_counters sc;
	struct tg_reason_counters rc;
	int err;

	if (r->json)
		printf("{\"counters\": {\"services\": [");
	else
		printf("\n%-28s %12s %12s %12s %12s %12s %12s\n", "service", "req-packets", "req-bytes", "rep-packets",
		       "rep-bytes", "frag-packets", "frag-bytes");
	for (uint32_t s = 0; s < r->img->nservices; s++) {
		err = tg_dataplane_service_counters(&r->dp, r->img->services[s].counter_slot, &sc);
		if (err)
			return err;
		if (r->json)
			printf("%s{\"service\": \"%s\", \"request\": {\"packets\": %llu, \"bytes\": %llu}, \"reply\": {\"packets\": %llu, \"bytes\": %llu}, \"fragment\": {\"packets\": %llu, \"bytes\": %llu}}",
			       s ? ", " : "", r->img->services[s].name, sc.role[0].packets, sc.role[0].bytes,
			       sc.role[1].packets, sc.role[1].bytes, sc.role[2].packets, sc.role[2].bytes);
		else
			printf("%-28s %12llu %12llu %12llu %12llu %12llu %12llu\n", r->img->services[s].name,
			       sc.role[0].packets, sc.role[0].bytes, sc.role[1].packets, sc.role[1].bytes,
			       sc.role[2].packets, sc.role[2].bytes);
	}
	if (r->json)
		printf("], \"reasons\": {");
	else
		printf("\n%-16s %12s %12s %12s %12s\n", "reason", "pass-packets", "pass-bytes", "drop-packets",
		       "drop-bytes");
	for (uint32_t reason = 0; reason < TG_REASONS; reason++) {
		err = tg_dataplane_reason_counters(&r->dp, reason, &rc);
		if (err)
			return err;
		if (r->json)
			printf("%s\"%s\": {\"pass\": {\"packets\": %llu, \"bytes\": %llu}, \"drop\": {\"packets\": %llu, \"bytes\": %llu}}",
			       reason ? ", " : "", tg_reason_name((int)reason), rc.verdict[TG_PASS].packets,
			       rc.verdict[TG_PASS].bytes, rc.verdict[TG_DROP].packets, rc.verdict[TG_DROP].bytes);
		else
			printf("%-16s %12llu %12llu %12llu %12llu\n", tg_reason_name((int)reason),
			       rc.verdict[TG_PASS].packets, rc.verdict[TG_PASS].bytes, rc.verdict[TG_DROP].packets,
			       rc.verdict[TG_DROP].bytes);
	}
	if (r->json)
		printf("}, \"not_run\": %lu}}\n", r->not_run);
	else if (r->not_run)
		printf("\n%lu frame(s) were not run: shorter than an Ethernet header or longer than 64 KiB (no NIC delivers them; the kernel refuses them)\n",
		       r->not_run);
	return 0;
}

/* ------------------------------------------------------------- replay */

static int replay_packet(struct replay *r, const struct pcap_pkthdr *h, const uint8_t *data)
{
	struct tg_trace t = { .service = TG_NO_SERVICE };
	size_t len;
	int action = TG_DROP;
	char what[160];
	int err;

	r->packets++;
	if (h->caplen > sizeof(r->frame) - ETH_HLEN) {
		/* No Ethernet frame is this long, and test runs take at most 64K. */
		r->not_run++;
		t.reason = TG_REASON_MALFORMED;
		action = r->img->settings[TG_SET_MALFORMED] == TG_ALLOW ? TG_PASS : TG_DROP;
		snprintf(what, sizeof(what), "%u bytes", h->caplen);
		print_result(r, r->packets, action, &t, what, "not run: longer than 64 KiB");
		return 0;
	}
	len = to_ethernet(r, data, h->caplen);
	describe(r->frame, len, what, sizeof(what));
	if (len < ETH_HLEN) {
		r->not_run++;
		t.reason = TG_REASON_MALFORMED;
		action = r->img->settings[TG_SET_MALFORMED] == TG_ALLOW ? TG_PASS : TG_DROP;
		print_result(r, r->packets, action, &t, what, "not run: shorter than an Ethernet header");
		return 0;
	}
	err = tg_dataplane_run(&r->dp, r->frame, len, &action, &t);
	if (err)
		return err;
	print_result(r, r->packets, action, &t, what,
		     h->caplen < h->len ? "cut short by the capture's snap length" : NULL);
	return 0;
}

static int open_capture(const char *path, pcap_t **out)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	struct stat st;
	pcap_t *p;
	int dlt;

	if (stat(path, &st) < 0) {
		tg_err("cannot read capture '%s': %s\n", path, tg_strerror(-errno));
		return TG_EXIT_INPUT;
	}
	if (st.st_size == 0) {
		tg_err("capture '%s' is empty (a pcap or pcapng file has at least a file header)\n", path);
		return TG_EXIT_INPUT;
	}
	p = pcap_open_offline(path, errbuf);
	if (!p) {
		tg_err("cannot read capture '%s': %s (expected a pcap or pcapng file)\n", path, errbuf);
		return TG_EXIT_INPUT;
	}
	dlt = pcap_datalink(p);
	if (!linktype_supported(dlt)) {
		const char *name = pcap_datalink_val_to_name(dlt);

		tg_err("capture '%s' has link type %s (%d); replay reads Ethernet (EN10MB), Linux cooked (LINUX_SLL) and raw IP captures\n",
		       path, name ? name : "unknown", dlt);
		pcap_close(p);
		return TG_EXIT_INPUT;
	}
	*out = p;
	return 0;
}

static int run_capture(struct replay *r, pcap_t *p, const char *path)
{
	struct pcap_pkthdr *h;
	const uint8_t *data;
	int got, err;

	r->linktype = pcap_datalink(p);
	if (!r->json)
		printf("%6s  %-4s  %-14s  %-28s %-8s %s\n", "#", "verd", "reason", "service", "match", "packet");
	while ((got = pcap_next_ex(p, &h, &data)) == 1) {
		err = replay_packet(r, h, data);
		if (err) {
			tg_err("cannot run packet %lu through the program: %s\n", r->packets, tg_strerror(err));
			return TG_EXIT_SYSTEM;
		}
	}
	err = print_counters(r);
	if (err) {
		tg_err("cannot read the counters: %s\n", tg_strerror(err));
		return TG_EXIT_SYSTEM;
	}
	if (got == PCAP_ERROR) {
		tg_err("capture '%s' is damaged after packet %lu: %s\n", path, r->packets, pcap_geterr(p));
		return TG_EXIT_INPUT;
	}
	return TG_EXIT_OK;
}

static int do_replay(const char *policy, const char *capture, struct tg_loaded *l, const struct tg_offline_args *a)
{
	struct tg_load_opts load = { .trace = true };
	struct replay *r = xcalloc(1, sizeof(*r));
	struct tg_image img = { 0 };
	pcap_t *p = NULL;
	int rc, err;

	r->json = a->json;
	rc = open_capture(capture, &p);
	if (rc)
		goto out;
	err = tg_compile(&l->pol, a->facing, &l->hosts, &img);
	if (err) {
		tg_err("cannot compile '%s': %s\n", policy, tg_strerror(err));
		rc = TG_EXIT_INPUT;
		goto out;
	}
	r->img = &img;
	err = tg_dataplane_load(&r->dp, &img, &load);
	if (err) {
		tg_report_load_error(err, load.log);
		rc = TG_EXIT_SYSTEM;
		goto out;
	}
	rc = run_capture(r, p, capture);
	tg_dataplane_destroy(&r->dp);
out:
	free(load.log);
	if (p)
		pcap_close(p);
	tg_image_free(&img);
	free(r);
	return rc;
}

static int run_replay(const struct tg_command *cmd, int argc, char **argv)
{
	struct tg_loaded l = { 0 };
	struct tg_offline_args a;
	struct tg_operands ops;
	int rc = tg_parse_offline(cmd, argc, argv, &l, &a, &ops);

	if (!rc && !ops.help)
		rc = do_replay(ops.v[0], ops.v[1], &l, &a);
	tg_loaded_free(&l);
	return rc;
}

static const struct tg_option replay_options[] = {
	TG_OPT_FACING,
	{ "json", 'j', NULL, 0, NULL, "one JSON object per packet, then the counters" },
	TG_OPT_HOST,
	TG_OPT_DNS_SERVER(TG_OPT_HIDDEN),
	TG_OPT_TTL_MIN(TG_OPT_HIDDEN),
	TG_OPT_TTL_MAX(TG_OPT_HIDDEN),
	TG_OPT_END,
};

const struct tg_command tg_cmd_replay = {
	.name = "replay",
	.run = run_replay,
	.options = replay_options,
	.operands = "POLICY PCAP",
	.min_operands = 2,
	.max_operands = 2,
	.summary = "Runs every packet of a capture through the real XDP program with POLICY and prints its verdicts.",
};
