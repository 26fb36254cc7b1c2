// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * tollgate replay: a capture through the real XDP program, loaded with fresh
 * maps and run with BPF_PROG_TEST_RUN, one verdict per packet and the
 * counters read back from the maps.
 *
 * With flow tracking, a reply passes only inside a flow that a request
 * opened, and the host's own requests are seen at egress: each packet's
 * direction comes from the capture (pcapng's epb_flags, Linux cooked
 * capture's packet type) or from --local, sent packets go through the
 * egress classifier, and the program's clock follows the capture's
 * timestamps.
 */
#include "model/classify.h"
#include "cli/cli.h"
#include "cli/report.h"
#include "kernel/dataplane.h"
#include "kernel/flows.h"
#include "lib/log.h"
#include "lib/util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#ifndef DLT_LINUX_SLL2
#define DLT_LINUX_SLL2 276
#endif

#define ETH_HLEN 14
#define SLL_HLEN 16
#define SLL2_HLEN 20
#define SLL_OUTGOING 4 /* PACKET_OUTGOING */

/* Where a packet went, as the capture or --local tells. */
enum direction { DIR_UNKNOWN = 0, DIR_IN, DIR_OUT };

/* --local PREFIX: the capturing host's addresses. */
struct local_prefix {
	int family; /* enum tg_family */
	uint8_t addr[16];
	unsigned len;
};

struct replay_args {
	struct local_prefix *locals;
	size_t nlocals, cap;
};

/* Walks a pcapng file's blocks beside libpcap, which reads the packets but
 * does not hand out their options: one packet block per packet libpcap
 * returns, in the same order. */
struct ngscan {
	FILE *f;
	const char *path;
	uint64_t off; /* of the next block */
	bool swap;    /* the section's byte order is not ours */
	uint8_t *buf;
	size_t cap;
};

struct replay {
	const struct tg_image *img;
	struct tg_dataplane dp;
	bool json;
	unsigned long packets, not_run, mismatches, egress, opened, live;
	int linktype;
	const char *path;
	const struct replay_args *args;
	struct ngscan *ng; /* pcapng files only */
	uint64_t clock_ns;
	bool warned;
	uint8_t frame[ETH_HLEN + 65536];
};

/* ------------------------------------------------------------- --local */

static int parse_local(struct replay_args *ra, const char *arg)
{
	struct local_prefix p = { 0 };
	char addr[INET6_ADDRSTRLEN + 1];
	const char *slash = strchr(arg, '/');
	size_t n = slash ? (size_t)(slash - arg) : strlen(arg);
	unsigned max;

	if (n == 0 || n >= sizeof(addr)) {
		tg_err("--local: '%s' is not an IPv4 or IPv6 address or prefix (ADDR or ADDR/LEN)\n", arg);
		return TG_EXIT_USAGE;
	}
	memcpy(addr, arg, n);
	addr[n] = 0;
	if (inet_pton(AF_INET, addr, p.addr) == 1) {
		p.family = TG_FAMILY_V4;
		max = 32;
	} else if (inet_pton(AF_INET6, addr, p.addr) == 1) {
		p.family = TG_FAMILY_V6;
		max = 128;
	} else {
		tg_err("--local: '%s' is not an IPv4 or IPv6 address or prefix (ADDR or ADDR/LEN)\n", arg);
		return TG_EXIT_USAGE;
	}
	p.len = max;
	if (slash) {
		unsigned long len;
		char *end;

		errno = 0;
		len = strtoul(slash + 1, &end, 10);
		if (slash[1] < '0' || slash[1] > '9' || *end || errno || len > max || end - (slash + 1) > 3) {
			tg_err("--local: '%s' has a bad prefix length (0 to %u for an %s address)\n", arg, max,
			       max == 32 ? "IPv4" : "IPv6");
			return TG_EXIT_USAGE;
		}
		p.len = (unsigned)len;
	}
	if (ra->nlocals == ra->cap) {
		ra->cap = ra->cap ? 2 * ra->cap : 4;
		ra->locals = xrealloc(ra->locals, ra->cap * sizeof(*ra->locals));
	}
	ra->locals[ra->nlocals++] = p;
	return 0;
}

static bool prefix_has(const struct local_prefix *p, const uint8_t *addr)
{
	unsigned full = p->len / 8, rest = p->len % 8;

	if (memcmp(p->addr, addr, full))
		return false;
	return !rest || ((p->addr[full] ^ addr[full]) & (0xff00 >> rest) & 0xff) == 0;
}

static bool is_local(const struct replay_args *ra, const struct tg_pkt *pkt)
{
	if (pkt->kind == TG_PKT_NON_IP)
		return false;
	for (size_t i = 0; i < ra->nlocals; i++)
		if (ra->locals[i].family == pkt->family && prefix_has(&ra->locals[i], pkt->src))
			return true;
	return false;
}

/* ------------------------------------------------------------- pcapng */

#define NG_SHB 0x0a0d0d0au
#define NG_PB 2u  /* the obsolete packet block */
#define NG_SPB 3u /* simple packet block: no options */
#define NG_EPB 6u
#define NG_BOM 0x1a2b3c4du
#define NG_MAX_BLOCK (64u << 20) /* bigger than any block libpcap reads */

static uint32_t ng32(const struct ngscan *ng, const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return ng->swap ? __builtin_bswap32(v) : v;
}

static uint16_t ng16(const struct ngscan *ng, const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, 2);
	return ng->swap ? __builtin_bswap16(v) : v;
}

static int ng_damaged(const struct ngscan *ng, uint64_t off, const char *what)
{
	tg_err("capture '%s' is damaged at offset %llu: %s\n", ng->path, (unsigned long long)off, what);
	return TG_EXIT_INPUT;
}

/* The direction in a packet block's options (EPB and PB: epb_flags, code 2). */
static int ng_flags(const struct ngscan *ng, uint64_t off, const uint8_t *body, uint32_t len, int *dir)
{
	uint32_t caplen, at;

	if (len < 20)
		return ng_damaged(ng, off, "packet block shorter than its fixed fields");
	caplen = ng32(ng, body + 12);
	if (caplen > len - 20)
		return ng_damaged(ng, off, "packet data longer than its block");
	at = 20 + ((caplen + 3) & ~3u);
	while (at + 4 <= len) {
		uint16_t code = ng16(ng, body + at), olen = ng16(ng, body + at + 2);

		if (code == 0)
			break; /* opt_endofopt */
		if (olen > len - at - 4)
			return ng_damaged(ng, off + 8 + at, "option longer than its block");
		if (code == 2 && olen == 4) {
			uint32_t flags = ng32(ng, body + at + 4);

			*dir = (flags & 3) == 1 ? DIR_IN : (flags & 3) == 2 ? DIR_OUT : DIR_UNKNOWN;
		}
		at += 4 + (((uint32_t)olen + 3) & ~3u);
	}
	return 0;
}

/* The direction of the next packet block: 0, or TG_EXIT_INPUT after saying where. */
static int ng_next(struct ngscan *ng, int *dir)
{
	for (;;) {
		uint8_t head[12];
		uint64_t off = ng->off;
		uint32_t type, len;

		*dir = DIR_UNKNOWN;
		if (fseeko(ng->f, (off_t)off, SEEK_SET) || fread(head, 1, 8, ng->f) != 8)
			return ng_damaged(ng, off, "a packet block was expected");
		memcpy(&type, head, 4);
		if (type == NG_SHB || __builtin_bswap32(type) == NG_SHB) {
			uint32_t bom;

			if (fread(head + 8, 1, 4, ng->f) != 4)
				return ng_damaged(ng, off, "section header cut short");
			memcpy(&bom, head + 8, 4);
			if (bom != NG_BOM && __builtin_bswap32(bom) != NG_BOM)
				return ng_damaged(ng, off, "section header with an unknown byte-order magic");
			ng->swap = bom != NG_BOM;
		}
		type = ng32(ng, head);
		len = ng32(ng, head + 4);
		if (len < 12 || len % 4 || len > NG_MAX_BLOCK)
			return ng_damaged(ng, off, "block length out of range");
		ng->off = off + len;
		if (type != NG_EPB && type != NG_PB && type != NG_SPB)
			continue;
		if (type == NG_SPB)
			return 0; /* no options, no direction */
		if (len - 12 > ng->cap) {
			ng->cap = len - 12;
			ng->buf = xrealloc(ng->buf, ng->cap);
		}
		if (fseeko(ng->f, (off_t)(off + 8), SEEK_SET) || fread(ng->buf, 1, len - 12, ng->f) != len - 12)
			return ng_damaged(ng, off, "packet block cut short");
		return ng_flags(ng, off, ng->buf, len - 12, dir);
	}
}

/* ------------------------------------------------------------- framing */

static bool linktype_supported(int dlt)
{
	return dlt == DLT_EN10MB || dlt == DLT_LINUX_SLL || dlt == DLT_LINUX_SLL2 || dlt == DLT_RAW ||
	       dlt == DLT_IPV4 || dlt == DLT_IPV6;
}

static void put_ethertype(uint8_t *frame, uint16_t type)
{
	memset(frame, 0, 12);
	frame[12] = (uint8_t)(type >> 8);
	frame[13] = (uint8_t)type;
}

/* Gives every supported link type an Ethernet header: the program's input.
 * Linux cooked captures also say where the packet went (*dir). */
static size_t to_ethernet(struct replay *r, const uint8_t *data, size_t len, int *dir)
{
	size_t body = len;

	*dir = DIR_UNKNOWN;
	switch (r->linktype) {
	case DLT_EN10MB:
		memcpy(r->frame, data, len);
		return len;
	case DLT_LINUX_SLL:
		if (len < SLL_HLEN)
			return 0;
		*dir = (data[0] << 8 | data[1]) == SLL_OUTGOING ? DIR_OUT : DIR_IN;
		put_ethertype(r->frame, (uint16_t)(data[14] << 8 | data[15]));
		data += SLL_HLEN;
		body = len - SLL_HLEN;
		break;
	case DLT_LINUX_SLL2:
		if (len < SLL2_HLEN)
			return 0;
		*dir = data[10] == SLL_OUTGOING ? DIR_OUT : DIR_IN;
		put_ethertype(r->frame, (uint16_t)(data[0] << 8 | data[1]));
		data += SLL2_HLEN;
		body = len - SLL2_HLEN;
		break;
	default: /* raw IP: the version nibble says which */
		put_ethertype(r->frame, len && (data[0] >> 4) == 6 ? 0x86dd : 0x0800);
		break;
	}
	memcpy(r->frame + ETH_HLEN, data, body);
	return ETH_HLEN + body;
}

/* ------------------------------------------------------------- output */

static void describe(const struct tg_pkt *parsed, const uint8_t *frame, size_t len, char *buf, size_t size)
{
	struct tg_pkt pkt = *parsed;
	char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN];
	int af;

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
		printf(", \"reason\": \"%s\", \"direction\": \"in\"", tg_reason_name(t->reason));
		if (note)
			printf(", \"note\": \"%s\"", note);
		printf("}\n");
		return;
	}
	printf("%6lu  %-4s  %-14s  %-28s %-8s %s%s%s\n", n, verdict, tg_reason_name(t->reason), service ? service : "-",
	       match ? match : "-", what, note ? "  # " : "", note ? note : "");
}

/* A sent packet: the egress classifier records flows and decides nothing. */
static void print_egress(struct replay *r, unsigned long n, const char *what, const char *note)
{
	if (r->json) {
		printf("{\"packet\": %lu, \"verdict\": \"out\", \"service\": null, \"match\": null, \"reason\": \"egress\", \"direction\": \"out\"",
		       n);
		if (note)
			printf(", \"note\": \"%s\"", note);
		printf("}\n");
		return;
	}
	printf("%6lu  %-4s  %-14s  %-28s %-8s %s%s%s\n", n, "out", "egress", "-", "-", what, note ? "  # " : "",
	       note ? note : "");
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
	if (r->json) {
		printf("}, \"not_run\": %lu, \"egress\": %lu, \"flows\": {\"opened\": %lu, \"live\": %lu}}}\n",
		       r->not_run, r->egress, r->opened, r->live);
		return 0;
	}
	if (r->not_run)
		printf("\n%lu frame(s) were not run: shorter than an Ethernet header or longer than 64 KiB (no NIC delivers them; the kernel refuses them)\n",
		       r->not_run);
	printf("\n%lu packet(s) sent (run through the egress classifier, which records flows and filters nothing); %lu flow(s) opened, %lu live at the end\n",
	       r->egress, r->opened, r->live);
	return 0;
}

/* ------------------------------------------------------------- replay */

/* Flows opened by the whole capture, by either side, and those still live. */
static int flows_opened(struct replay *r)
{
	struct tg_flow_summary sum;
	int err = tg_dataplane_flows(&r->dp, r->clock_ns, &sum);

	if (err)
		return err;
	for (int o = 0; o < TG_OPENERS; o++) {
		r->opened += (unsigned long)sum.stats[o].created;
		r->live += (unsigned long)sum.live[o];
	}
	return 0;
}

static void warn_no_direction(struct replay *r)
{
	if (r->warned || r->args->nlocals || r->img->settings[TG_SET_REPLIES] != TG_REPLIES_TRACKED)
		return;
	r->warned = true;
	tg_warn("capture '%s' does not say which packets were sent and which received (packet %lu has no direction): every such packet is treated as arriving, so replies will find no flows; give the capturing host's addresses with --local PREFIX, or replay with a policy that says 'replies stateless'\n",
		r->path, r->packets);
}

/* The program's clock follows the capture and never goes back. */
static int set_clock(struct replay *r, const struct pcap_pkthdr *h)
{
	uint64_t ns = 0;

	/* Opened with ns precision: tv_usec holds nanoseconds. Past 2554 AD, the clock stops. */
	if (h->ts.tv_sec >= 0 && h->ts.tv_usec >= 0)
		ns = (uint64_t)h->ts.tv_sec < UINT64_MAX / 1000000000u - 1 ?
			     (uint64_t)h->ts.tv_sec * 1000000000u + (uint64_t)h->ts.tv_usec % 1000000000u :
			     UINT64_MAX;
	if (ns > r->clock_ns)
		r->clock_ns = ns;
	return tg_dataplane_set_clock(&r->dp, r->clock_ns);
}

static int replay_packet(struct replay *r, const struct pcap_pkthdr *h, const uint8_t *data, int dir)
{
	struct tg_trace t = { .service = TG_NO_SERVICE };
	const char *snapped = h->caplen < h->len ? "cut short by the capture's snap length" : NULL;
	struct tg_pkt pkt;
	size_t len;
	int action = TG_DROP, link_dir;
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
	len = to_ethernet(r, data, h->caplen, &link_dir);
	if (dir == DIR_UNKNOWN)
		dir = link_dir;
	tg_pkt_parse(r->frame, len, &pkt);
	describe(&pkt, r->frame, len, what, sizeof(what));
	if (dir == DIR_UNKNOWN && r->args->nlocals)
		dir = is_local(r->args, &pkt) ? DIR_OUT : DIR_IN;
	if (len < ETH_HLEN) {
		r->not_run++;
		t.reason = TG_REASON_MALFORMED;
		action = r->img->settings[TG_SET_MALFORMED] == TG_ALLOW ? TG_PASS : TG_DROP;
		print_result(r, r->packets, action, &t, what, "not run: shorter than an Ethernet header");
		return 0;
	}
	if (dir == DIR_UNKNOWN)
		warn_no_direction(r);
	err = set_clock(r, h);
	if (err)
		return err;
	if (dir == DIR_OUT) {
		r->egress++;
		err = tg_dataplane_run_egress(&r->dp, r->frame, len);
		if (err)
			return err;
		print_egress(r, r->packets, what, snapped);
		return 0;
	}
	err = tg_dataplane_run(&r->dp, r->frame, len, &action, &t);
	if (err)
		return err;
	print_result(r, r->packets, action, &t, what, snapped);
	return 0;
}

/* A pcapng file starts with a section header block. */
static bool is_pcapng(const char *path)
{
	uint32_t magic = 0;
	FILE *f = fopen(path, "rb");
	bool yes;

	if (!f)
		return false;
	yes = fread(&magic, 1, 4, f) == 4 && magic == NG_SHB;
	fclose(f);
	return yes;
}

static int open_capture(const char *path, pcap_t **out, struct ngscan *ng)
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
	/* Nanoseconds: the program's clock follows the capture. */
	p = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, errbuf);
	if (!p) {
		tg_err("cannot read capture '%s': %s (expected a pcap or pcapng file)\n", path, errbuf);
		return TG_EXIT_INPUT;
	}
	dlt = pcap_datalink(p);
	if (!linktype_supported(dlt)) {
		const char *name = pcap_datalink_val_to_name(dlt);

		tg_err("capture '%s' has link type %s (%d); replay reads Ethernet (EN10MB), Linux cooked (LINUX_SLL, LINUX_SLL2) and raw IP captures\n",
		       path, name ? name : "unknown", dlt);
		pcap_close(p);
		return TG_EXIT_INPUT;
	}
	if (is_pcapng(path)) {
		ng->f = fopen(path, "rb");
		if (!ng->f) {
			tg_err("cannot read capture '%s': %s\n", path, tg_strerror(-errno));
			pcap_close(p);
			return TG_EXIT_INPUT;
		}
		ng->path = path;
	}
	*out = p;
	return 0;
}

static int run_capture(struct replay *r, pcap_t *p, const char *path)
{
	struct pcap_pkthdr *h;
	const uint8_t *data;
	int got, err, dir = DIR_UNKNOWN;

	r->linktype = pcap_datalink(p);
	if (!r->json)
		printf("%6s  %-4s  %-14s  %-28s %-8s %s\n", "#", "verd", "reason", "service", "match", "packet");
	while ((got = pcap_next_ex(p, &h, &data)) == 1) {
		if (r->ng) {
			int rc = ng_next(r->ng, &dir);

			if (rc)
				return rc;
		}
		err = replay_packet(r, h, data, dir);
		if (err) {
			tg_err("cannot run packet %lu through the program: %s\n", r->packets, tg_strerror(err));
			return TG_EXIT_SYSTEM;
		}
	}
	err = flows_opened(r);
	if (!err)
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

static int do_replay(const char *policy, const char *capture, struct tg_loaded *l, const struct tg_offline_args *a,
		     const struct replay_args *ra)
{
	struct tg_load_opts load = { .trace = true, .clock_from_map = true };
	struct replay *r = xcalloc(1, sizeof(*r));
	struct tg_image img = { 0 };
	struct ngscan ng = { 0 };
	pcap_t *p = NULL;
	int rc, err;

	r->json = a->json;
	r->args = ra;
	r->path = capture;
	rc = open_capture(capture, &p, &ng);
	if (rc)
		goto out;
	if (ng.f)
		r->ng = &ng;
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
	if (ng.f)
		fclose(ng.f);
	free(ng.buf);
	tg_image_free(&img);
	free(r);
	return rc;
}

/* --local is replay's own; the shared offline parser skips it. */
static int local_option(void *ctx, int id, const char *arg)
{
	return id == 'L' ? parse_local(ctx, arg) : 0;
}

static int run_replay(const struct tg_command *cmd, int argc, char **argv)
{
	struct replay_args ra = { 0 };
	struct tg_loaded l = { 0 };
	struct tg_offline_args a;
	struct tg_operands ops;
	int rc = tg_parse_command(cmd, argc, argv, local_option, &ra, &ops);

	if (!rc && !ops.help)
		rc = tg_parse_offline(cmd, argc, argv, &l, &a, &ops);
	if (!rc && !ops.help)
		rc = do_replay(ops.v[0], ops.v[1], &l, &a, &ra);
	tg_loaded_free(&l);
	free(ra.locals);
	return rc;
}

static const struct tg_option replay_options[] = {
	TG_OPT_FACING,
	{ "json", 'j', NULL, 0, NULL, "one JSON object per packet, then the counters" },
	TG_OPT_HOST,
	{ "local", 'L', "PREFIX", TG_OPT_REPEAT, NULL,
	  "the capturing host's addresses (ADDR or ADDR/LEN): packets from them were sent" },
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
