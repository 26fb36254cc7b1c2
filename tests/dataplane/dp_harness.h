/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Shared by the data-plane tests (tests/dataplane/test_*.c): a fixture that
 * loads one policy under one facing into the real XDP program, frames built
 * from one-line descriptions, and dp_check(), which runs a frame through
 * BPF_PROG_TEST_RUN and asserts three things at once:
 *
 *   - the data plane's trace is the expected decision,
 *   - the reference (tg_pkt_parse + tg_reference_arrive, with a reference
 *     flow table kept beside the program's) gives the same decision,
 *   - the reason counter and the service counter moved by exactly this
 *     packet (one packet, its frame length in bytes).
 *
 * Include after <cmocka.h>'s prerequisites (stdarg, stddef, setjmp, stdint).
 *
 * Frame descriptions ("specs"), one line each:
 *
 *   PROTO SRC > DST [FLAGS] [key=value | key ...]
 *
 *   PROTO  tcp, udp, sctp, icmp (ICMP or ICMPv6 by the address family),
 *          proto=N (any IP protocol number, e.g. proto=47 for GRE, or
 *          proto=1 inside IPv6), or ether=0xNNNN for a non-IP frame, which
 *          takes no addresses.
 *   SRC/DST  192.0.2.1:80, [2001:db8::1]:80, or an address without port.
 *   FLAGS  TCP flags as letters: F S R P A U E C (e.g. S, SA, A, FA, RA),
 *          or 0 for none.
 *   keys   type=N code=N (ICMP), vlan=N tpid=0xNNNN (tags; tpid is the
 *          outer one), opts=N (IPv4 option bytes), ext=0,43,60,51,44 (IPv6
 *          extension headers in order), frag=OFFSET (IPv4 fragment, or an
 *          IPv6 fragment header after ext; offset in 8-byte units, 0 = first
 *          fragment), mf (more fragments), payload=N (bytes after L4).
 *   pokes, applied to the built frame:
 *          ihl=N version=N totlen=N (IPv4), plen=N version=N (IPv6),
 *          doff=N (TCP data offset), pad=N (N zero bytes of Ethernet padding
 *          after the IP packet), len=N (cut the frame to N bytes).
 *
 * Flows: the fixture's program and the reference share a clock
 * (dp_set_clock, dp_advance; it starts at 1 s), and dp_egress() sends a
 * frame out through the egress classifier, which opens the flows of the
 * requests it sees. With `replies tracked` (the default), a reply row needs
 * its request first: through dp_egress, or as an earlier row arriving the
 * other way on an inside-facing fixture.
 *
 * Expectations: "VERDICT SERVICE ROLE REASON", '-' for no service/role:
 *   "pass consigno-licensing reply service", "drop - - default",
 *   "pass dns fragment fragment".
 */
#ifndef TG_DP_HARNESS_H
#define TG_DP_HARNESS_H

#include "model/classify.h"
#include "compile/compile.h"
#include "cli/report.h"
#include "kernel/dataplane.h"
#include "pktbuild.h"
#include "policy/policy.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DP_HELPER static __attribute__((unused))
#define DP_FRAME_MAX 16384
#define DP_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
/* Mismatches printed per test; the rest are only counted. */
#define DP_MAX_REPORTS 25

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_PSH 0x08
#define TCP_ACKF 0x10
#define TCP_URG 0x20

/* One policy under one facing, loaded into its own instance of the program. */
struct dp_config {
	const char *label;    /* for messages: "notarius outside" */
	const char *file;     /* a policy file, relative to the repository top */
	const char *text;     /* or an inline policy */
	int facing;	      /* enum tg_facing */
	const char *hosts[4]; /* NAME=ADDR[,ADDR] specs, as for --host */
	/* As if the policy said `replies stateless`: for tests of what ports,
	 * flags and peers match, which a file policy (tracked by default)
	 * cannot be edited for. */
	bool stateless;
};

struct dp_fixture {
	const struct dp_config *cfg;
	struct tg_diags diags;
	struct tg_policy pol;
	struct tg_hostmap hosts;
	struct tg_image img;
	struct tg_dataplane dp;
	struct tg_flow_model flows; /* the reference's flows, beside the program's */
	uint64_t now_ns;	    /* the clock both see (tg_load_opts.clock_from_map) */
	bool loaded;
	unsigned checked, failures;
	/* What the counters must read: every frame run so far, by its trace. */
	struct tg_service_counters want_service[TG_MAX_SERVICES];
	struct tg_reason_counters want_reason[TG_REASONS];
};

/* ------------------------------------------------------------- fixture */

DP_HELPER void dp_fixture_free(struct dp_fixture *fx)
{
	if (!fx)
		return;
	if (fx->loaded)
		tg_dataplane_destroy(&fx->dp);
	tg_flow_model_free(&fx->flows);
	tg_image_free(&fx->img);
	tg_policy_free(&fx->pol);
	tg_hostmap_free(&fx->hosts);
	tg_diags_free(&fx->diags);
	free(fx);
}

/* The time the program and the reference see, in ns. */
DP_HELPER int dp_set_clock(struct dp_fixture *fx, uint64_t now_ns)
{
	fx->now_ns = now_ns;
	tg_flow_model_set_clock(&fx->flows, now_ns);
	return tg_dataplane_set_clock(&fx->dp, now_ns);
}

DP_HELPER int dp_advance(struct dp_fixture *fx, uint64_t seconds)
{
	return dp_set_clock(fx, fx->now_ns + seconds * 1000000000ull);
}

DP_HELPER struct dp_fixture *dp_fixture_new(const struct dp_config *cfg)
{
	struct dp_fixture *fx = calloc(1, sizeof(*fx));
	struct tg_load_opts opts = { .trace = true, .clock_from_map = true };
	int err;

	if (!fx)
		return NULL;
	fx->cfg = cfg;
	tg_flow_model_init(&fx->flows);
	tg_diags_init(&fx->diags, stderr);
	err = cfg->file ? tg_policy_parse_file(&fx->pol, &fx->diags, cfg->file) :
			  tg_policy_parse_buffer(&fx->pol, &fx->diags, cfg->label, cfg->text, strlen(cfg->text));
	if (err || fx->diags.errors) {
		fprintf(stderr, "error: [%s] the policy does not parse (%d); run the tests from the repository top\n",
			cfg->label, err);
		goto fail;
	}
	if (cfg->stateless) {
		fx->pol.setting[TG_SET_REPLIES] = TG_REPLIES_STATELESS;
		fx->pol.setting_given[TG_SET_REPLIES] = true;
	}
	for (size_t i = 0; i < DP_ARRAY_SIZE(cfg->hosts) && cfg->hosts[i]; i++)
		if (tg_hostmap_add_spec(&fx->hosts, cfg->hosts[i])) {
			fprintf(stderr, "error: [%s] bad host spec %s\n", cfg->label, cfg->hosts[i]);
			goto fail;
		}
	err = tg_compile(&fx->pol, cfg->facing, fx->hosts.n ? &fx->hosts : NULL, &fx->img);
	if (err) {
		fprintf(stderr, "error: [%s] tg_compile: %d\n", cfg->label, err);
		goto fail;
	}
	err = tg_dataplane_load(&fx->dp, &fx->img, &opts);
	if (err) {
		fprintf(stderr, "error: [%s] cannot load the data plane\n", cfg->label);
		tg_report_load_error(err, opts.log);
		free(opts.log);
		goto fail;
	}
	fx->loaded = true;
	if (dp_set_clock(fx, 1000000000ull)) {
		fprintf(stderr, "error: [%s] cannot set the program's clock\n", cfg->label);
		goto fail;
	}
	return fx;
fail:
	dp_fixture_free(fx);
	return NULL;
}

/* cmocka setup/teardown. For a group, wrap dp_setup_config; for one test,
 * pass the struct dp_config as the prestate and use dp_setup_prestate. */
DP_HELPER int dp_setup_config(void **state, const struct dp_config *cfg)
{
	*state = dp_fixture_new(cfg);
	return *state ? 0 : -1;
}

DP_HELPER int dp_setup_prestate(void **state)
{
	return dp_setup_config(state, *state);
}

DP_HELPER int dp_teardown(void **state)
{
	dp_fixture_free(*state);
	*state = NULL;
	return 0;
}

DP_HELPER int dp_service_index(const struct dp_fixture *fx, const char *name)
{
	for (uint32_t s = 0; s < fx->img.nservices; s++)
		if (!strcmp(fx->img.services[s].name, name))
			return (int)s;
	return -1;
}

/* ------------------------------------------------------------- frames */

struct dp_pokes {
	int ihl, version, totlen, plen, doff, pad, len; /* -1: leave alone */
	int ether;					/* a non-IP frame's ethertype, or -1 */
};

DP_HELPER bool dp_endpoint(const char *tok, char *addr, size_t cap, int *port)
{
	const char *colon;
	size_t n;

	*port = -1;
	if (tok[0] == '[') {
		const char *close = strchr(tok, ']');

		if (!close)
			return false;
		n = (size_t)(close - tok - 1);
		if (close[1] == ':')
			*port = atoi(close + 2);
		else if (close[1])
			return false;
		tok++;
	} else if ((colon = strchr(tok, ':')) && !strchr(colon + 1, ':')) {
		n = (size_t)(colon - tok);
		*port = atoi(colon + 1);
	} else {
		n = strlen(tok);
	}
	if (n >= cap)
		return false;
	memcpy(addr, tok, n);
	addr[n] = '\0';
	return true;
}

DP_HELPER bool dp_tcp_flags(const char *tok, uint8_t *flags)
{
	static const char letters[] = "FSRPAUEC";
	uint8_t f = 0;

	if (strcmp(tok, "0")) {
		for (const char *c = tok; *c; c++) {
			const char *at = strchr(letters, *c);

			if (!at)
				return false;
			f |= (uint8_t)(1u << (at - letters));
		}
	}
	*flags = f;
	return true;
}

DP_HELPER size_t dp_ext_len(uint8_t type)
{
	return type == 51 ? 12 : 8; /* what pktbuild writes */
}

/* Parses a spec into p and pokes; false (with a message) on a bad spec. */
DP_HELPER bool dp_parse_spec(const char *spec, struct pb_packet *p, struct dp_pokes *pk)
{
	char copy[512], *save = NULL, *tok, src[64] = "", dst[64] = "";
	int sport = -1, dport = -1, field = 0;
	bool ether = false;

	memset(p, 0, sizeof(*p));
	*pk = (struct dp_pokes){ -1, -1, -1, -1, -1, -1, -1, -1 };
	if (strlen(spec) >= sizeof(copy))
		return false;
	strcpy(copy, spec);
	tok = strtok_r(copy, " ", &save);
	if (!tok)
		return false;
	if (!strcmp(tok, "tcp"))
		p->protocol = IPPROTO_TCP;
	else if (!strcmp(tok, "udp"))
		p->protocol = IPPROTO_UDP;
	else if (!strcmp(tok, "sctp"))
		p->protocol = IPPROTO_SCTP;
	else if (!strcmp(tok, "icmp"))
		p->protocol = 255; /* decided by the family below */
	else if (!strncmp(tok, "proto=", 6))
		p->protocol = (uint8_t)atoi(tok + 6);
	else if (!strncmp(tok, "ether=", 6)) {
		/* pktbuild takes 0 to mean "from the family": build as ARP, then
		 * write the real type. */
		pk->ether = (int)(strtoul(tok + 6, NULL, 0) & 0xffff);
		p->ethertype = 0x0806;
		p->family = 4;
		ether = true;
	} else
		return false;
	while ((tok = strtok_r(NULL, " ", &save))) {
		char *eq = strchr(tok, '=');
		long v = eq ? strtol(eq + 1, NULL, 0) : 0;

		if (!ether && field == 0) {
			if (!dp_endpoint(tok, src, sizeof(src), &sport))
				return false;
			field++;
		} else if (!ether && field == 1) {
			if (strcmp(tok, ">"))
				return false;
			field++;
		} else if (!ether && field == 2) {
			if (!dp_endpoint(tok, dst, sizeof(dst), &dport))
				return false;
			field++;
		} else if (!eq && p->protocol == IPPROTO_TCP && dp_tcp_flags(tok, &p->tcp_flags)) {
			;
		} else if (!strcmp(tok, "mf")) {
			p->more_fragments = true;
		} else if (!eq) {
			return false;
		} else if (!strncmp(tok, "type=", 5)) {
			p->icmp_type = (uint8_t)v;
		} else if (!strncmp(tok, "code=", 5)) {
			p->icmp_code = (uint8_t)v;
		} else if (!strncmp(tok, "vlan=", 5)) {
			p->vlan_tags = (int)v;
		} else if (!strncmp(tok, "tpid=", 5)) {
			p->outer_tpid = (uint16_t)v;
		} else if (!strncmp(tok, "opts=", 5)) {
			p->ipv4_options = (unsigned)v;
		} else if (!strncmp(tok, "ext=", 4)) {
			char *list = eq + 1, *s2 = NULL, *e;

			for (e = strtok_r(list, ",", &s2); e; e = strtok_r(NULL, ",", &s2)) {
				if (p->next == PB_MAX_EXT)
					return false;
				p->ext[p->next++] = (uint8_t)atoi(e);
			}
		} else if (!strncmp(tok, "frag=", 5)) {
			p->fragment = true;
			p->frag_offset = (uint16_t)v;
		} else if (!strncmp(tok, "payload=", 8)) {
			p->payload = (size_t)v;
		} else if (!strncmp(tok, "ihl=", 4)) {
			pk->ihl = (int)v;
		} else if (!strncmp(tok, "version=", 8)) {
			pk->version = (int)v;
		} else if (!strncmp(tok, "totlen=", 7)) {
			pk->totlen = (int)v;
		} else if (!strncmp(tok, "plen=", 5)) {
			pk->plen = (int)v;
		} else if (!strncmp(tok, "doff=", 5)) {
			pk->doff = (int)v;
		} else if (!strncmp(tok, "pad=", 4)) {
			pk->pad = (int)v;
		} else if (!strncmp(tok, "len=", 4)) {
			pk->len = (int)v;
		} else {
			return false;
		}
	}
	if (ether)
		return true;
	if (field != 3 || !pb_addrs(p, src, dst))
		return false;
	if (p->protocol == 255)
		p->protocol = p->family == 6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP;
	if (p->protocol == IPPROTO_TCP || p->protocol == IPPROTO_UDP || p->protocol == IPPROTO_SCTP) {
		if (sport < 0 || dport < 0)
			return false;
		p->sport = (uint16_t)sport;
		p->dport = (uint16_t)dport;
	}
	return true;
}

/* Offsets of the IP and L4 headers of a frame pktbuild made from p. */
DP_HELPER size_t dp_l3_offset(const struct pb_packet *p)
{
	return 14 + 4 * (size_t)p->vlan_tags;
}

DP_HELPER size_t dp_l4_offset(const struct pb_packet *p)
{
	size_t off = dp_l3_offset(p);

	if (p->family == 4)
		return off + 20 + p->ipv4_options;
	off += 40;
	for (int i = 0; i < p->next; i++)
		off += dp_ext_len(p->ext[i]);
	return off + (p->fragment ? 8 : 0);
}

/* Builds the frame a spec describes; returns its length, 0 on a bad spec. */
DP_HELPER size_t dp_build(const char *spec, uint8_t *buf, size_t cap)
{
	struct pb_packet p;
	struct dp_pokes pk;
	size_t len, l3, l4;

	if (!dp_parse_spec(spec, &p, &pk)) {
		fprintf(stderr, "error: bad frame spec: %s\n", spec);
		return 0;
	}
	len = pb_build(&p, buf, cap);
	if (!len) {
		fprintf(stderr, "error: frame does not fit: %s\n", spec);
		return 0;
	}
	l3 = dp_l3_offset(&p);
	if (pk.ether >= 0) {
		/* pktbuild reserves room for an IP header; a non-IP frame is the
		 * Ethernet header, its tags and the payload. */
		len = l3 + p.payload;
		buf[l3 - 2] = (uint8_t)(pk.ether >> 8);
		buf[l3 - 1] = (uint8_t)pk.ether;
	}
	l4 = dp_l4_offset(&p);
	if (pk.ihl >= 0)
		buf[l3] = (uint8_t)((buf[l3] & 0xf0) | (pk.ihl & 0xf));
	if (pk.version >= 0)
		buf[l3] = (uint8_t)((buf[l3] & 0x0f) | (pk.version << 4));
	if (pk.totlen >= 0) {
		buf[l3 + 2] = (uint8_t)(pk.totlen >> 8);
		buf[l3 + 3] = (uint8_t)pk.totlen;
	}
	if (pk.plen >= 0) {
		buf[l3 + 4] = (uint8_t)(pk.plen >> 8);
		buf[l3 + 5] = (uint8_t)pk.plen;
	}
	if (pk.doff >= 0)
		buf[l4 + 12] = (uint8_t)((pk.doff & 0xf) << 4);
	if (pk.pad > 0) {
		if (len + (size_t)pk.pad > cap)
			return 0;
		memset(buf + len, 0, (size_t)pk.pad);
		len += (size_t)pk.pad;
	}
	if (pk.len >= 0) {
		if ((size_t)pk.len > len) {
			fprintf(stderr, "error: len= beyond the frame: %s\n", spec);
			return 0;
		}
		len = (size_t)pk.len;
	}
	return len;
}

/* ---------------------------------------------------------- decisions */

struct dp_expect {
	int verdict;
	char service[TG_SERVICE_NAME_MAX];
	int role;
	int reason;
};

DP_HELPER bool dp_parse_expect(const char *text, struct dp_expect *e)
{
	char verdict[16], service[TG_SERVICE_NAME_MAX], role[16], reason[32];

	if (sscanf(text, "%15s %63s %15s %31s", verdict, service, role, reason) != 4)
		return false;
	if (!strcmp(verdict, "pass"))
		e->verdict = TG_PASS;
	else if (!strcmp(verdict, "drop"))
		e->verdict = TG_DROP;
	else
		return false;
	strcpy(e->service, service);
	e->role = -1;
	for (int r = 0; r < TG_ROLES; r++)
		if (!strcmp(role, tg_role_name(r)))
			e->role = r;
	e->reason = -1;
	for (int r = 0; r < TG_REASONS; r++)
		if (!strcmp(reason, tg_reason_name(r)))
			e->reason = r;
	if (e->reason < 0 || (e->role < 0) != !strcmp(service, "-") || (e->role < 0 && strcmp(role, "-")))
		return false;
	return true;
}

DP_HELPER void dp_format(char *buf, size_t cap, int verdict, const char *service, int role, int reason)
{
	snprintf(buf, cap, "%s %s %s %s",
		 verdict == TG_PASS ? "pass" :
		 verdict == TG_DROP ? "drop" :
				      "?",
		 service ? service : "-", service ? tg_role_name(role) : "-", tg_reason_name(reason));
}

DP_HELPER void dp_report(struct dp_fixture *fx, const char *what, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

DP_HELPER void dp_report(struct dp_fixture *fx, const char *what, size_t len, const char *fmt, ...)
{
	va_list ap;

	fx->failures++;
	if (fx->failures > DP_MAX_REPORTS) {
		if (fx->failures == DP_MAX_REPORTS + 1)
			fprintf(stderr, "error: [%s] more mismatches; only counting them now\n", fx->cfg->label);
		return;
	}
	fprintf(stderr, "error: [%s] %s (%zu bytes)\n", fx->cfg->label, what, len);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
}

DP_HELPER bool dp_counter_eq(const struct tg_counter *a, const struct tg_counter *b)
{
	return a->packets == b->packets && a->bytes == b->bytes;
}

/*
 * Runs one frame and checks the decision (data plane and reference) against
 * expect, and that the counters moved by exactly this frame. Returns whether
 * everything agreed; mismatches are reported and counted in the fixture.
 */
DP_HELPER bool dp_check_frame(struct dp_fixture *fx, const uint8_t *frame, size_t len, const char *expect,
			      const char *what)
{
	struct dp_expect e;
	struct tg_trace tr = { 0 };
	struct tg_pkt pkt;
	struct tg_decision ref;
	struct tg_reason_counters rc = { 0 };
	char want[128], got_dp[128], got_ref[128];
	const char *dp_service = NULL;
	int verdict = -1, rc_run;
	bool ok = true;

	fx->checked++;
	if (!dp_parse_expect(expect, &e)) {
		dp_report(fx, what, len, "    bad expectation '%s'\n", expect);
		return false;
	}
	dp_format(want, sizeof(want), e.verdict, strcmp(e.service, "-") ? e.service : NULL, e.role, e.reason);
	rc_run = tg_dataplane_run(&fx->dp, frame, len, &verdict, &tr);
	if (rc_run) {
		dp_report(fx, what, len, "    tg_dataplane_run failed: %s\n", strerror(-rc_run));
		return false;
	}
	if (tr.service != TG_NO_SERVICE)
		dp_service = tr.service < fx->img.nservices ? fx->img.services[tr.service].name : "?bad-index";
	dp_format(got_dp, sizeof(got_dp), verdict, dp_service, tr.role, tr.reason);
	if (tr.verdict != verdict)
		ok = false;

	tg_pkt_parse(frame, len, &pkt);
	tg_reference_arrive(&fx->pol, fx->hosts.n ? &fx->hosts : NULL, fx->cfg->facing, &fx->flows, &pkt, &ref);
	dp_format(got_ref, sizeof(got_ref), ref.verdict, ref.service >= 0 ? fx->pol.services[ref.service].name : NULL,
		  ref.role, ref.reason);

	if (!ok || strcmp(want, got_dp) || strcmp(want, got_ref)) {
		dp_report(fx, what, len,
			  "    expected:   %s\n    data plane: %s (trace verdict %u)\n    reference:  %s%s\n", want,
			  got_dp, tr.verdict, got_ref,
			  strcmp(got_dp, got_ref) ? "   <- the data plane and the reference disagree" : "");
		ok = false;
	}

	/* Counters: by what the data plane says it did, this frame exactly. */
	if (tr.reason < TG_REASONS && verdict <= TG_PASS) {
		struct tg_counter *w = &fx->want_reason[tr.reason].verdict[verdict];

		w->packets++;
		w->bytes += len;
		if (tg_dataplane_reason_counters(&fx->dp, tr.reason, &rc) || !dp_counter_eq(&rc.verdict[verdict], w)) {
			dp_report(fx, what, len, "    reason counter %s/%s: %llu packets %llu bytes, want %llu %llu\n",
				  tg_reason_name(tr.reason), verdict == TG_PASS ? "pass" : "drop",
				  (unsigned long long)rc.verdict[verdict].packets,
				  (unsigned long long)rc.verdict[verdict].bytes, (unsigned long long)w->packets,
				  (unsigned long long)w->bytes);
			ok = false;
		}
	}
	if (tr.service < fx->img.nservices && tr.role < TG_ROLES) {
		uint32_t slot = fx->img.services[tr.service].counter_slot;
		struct tg_counter *w = &fx->want_service[slot].role[tr.role];
		struct tg_service_counters sc = { 0 };

		w->packets++;
		w->bytes += len;
		if (tg_dataplane_service_counters(&fx->dp, slot, &sc) || !dp_counter_eq(&sc.role[tr.role], w)) {
			dp_report(fx, what, len, "    service counter %s/%s: %llu packets %llu bytes, want %llu %llu\n",
				  dp_service, tg_role_name(tr.role), (unsigned long long)sc.role[tr.role].packets,
				  (unsigned long long)sc.role[tr.role].bytes, (unsigned long long)w->packets,
				  (unsigned long long)w->bytes);
			ok = false;
		}
	}
	return ok;
}

/* Builds spec's frame and checks it. */
DP_HELPER bool dp_check(struct dp_fixture *fx, const char *spec, const char *expect)
{
	static uint8_t buf[DP_FRAME_MAX];
	size_t len = dp_build(spec, buf, sizeof(buf));

	if (!len) {
		dp_report(fx, spec, 0, "    cannot build the frame\n");
		return false;
	}
	return dp_check_frame(fx, buf, len, expect, spec);
}

/*
 * Sends spec's frame out through the egress classifier (the host's own
 * packet, or one forwarded towards the NIC): it decides nothing, but records
 * flows, in the program and in the reference alike.
 */
DP_HELPER bool dp_egress(struct dp_fixture *fx, const char *spec)
{
	static uint8_t buf[DP_FRAME_MAX];
	size_t len = dp_build(spec, buf, sizeof(buf));
	struct tg_pkt pkt;
	int err;

	if (!len) {
		dp_report(fx, spec, 0, "    cannot build the frame\n");
		return false;
	}
	err = tg_dataplane_run_egress(&fx->dp, buf, len);
	if (err) {
		dp_report(fx, spec, len, "    tg_dataplane_run_egress failed: %s\n", strerror(-err));
		return false;
	}
	tg_pkt_parse(buf, len, &pkt);
	tg_reference_egress(&fx->pol, fx->hosts.n ? &fx->hosts : NULL, fx->cfg->facing, &fx->flows, &pkt);
	return true;
}

struct dp_row {
	const char *spec;
	const char *expect;
};

DP_HELPER void dp_check_rows(struct dp_fixture *fx, const struct dp_row *rows, size_t n)
{
	for (size_t i = 0; i < n; i++)
		dp_check(fx, rows[i].spec, rows[i].expect);
}

#define DP_CHECK_ROWS(fx, rows) dp_check_rows((fx), (rows), DP_ARRAY_SIZE(rows))

/* Every counter of the instance against what the traces said, in full. */
DP_HELPER void dp_check_all_counters(struct dp_fixture *fx)
{
	for (uint32_t s = 0; s < fx->img.nservices; s++) {
		uint32_t slot = fx->img.services[s].counter_slot;
		struct tg_service_counters sc;

		if (tg_dataplane_service_counters(&fx->dp, slot, &sc)) {
			dp_report(fx, "counters", 0, "    cannot read the counters of %s\n", fx->img.services[s].name);
			continue;
		}
		for (int r = 0; r < TG_ROLES; r++)
			if (!dp_counter_eq(&sc.role[r], &fx->want_service[slot].role[r]))
				dp_report(fx, "counters", 0, "    %s/%s: %llu packets %llu bytes, want %llu %llu\n",
					  fx->img.services[s].name, tg_role_name(r),
					  (unsigned long long)sc.role[r].packets, (unsigned long long)sc.role[r].bytes,
					  (unsigned long long)fx->want_service[slot].role[r].packets,
					  (unsigned long long)fx->want_service[slot].role[r].bytes);
	}
	for (int r = 0; r < TG_REASONS; r++) {
		struct tg_reason_counters rc;

		if (tg_dataplane_reason_counters(&fx->dp, (uint32_t)r, &rc)) {
			dp_report(fx, "counters", 0, "    cannot read reason counter %s\n", tg_reason_name(r));
			continue;
		}
		for (int v = 0; v < 2; v++)
			if (!dp_counter_eq(&rc.verdict[v], &fx->want_reason[r].verdict[v]))
				dp_report(fx, "counters", 0,
					  "    reason %s/%s: %llu packets %llu bytes, want %llu %llu\n",
					  tg_reason_name(r), v == TG_PASS ? "pass" : "drop",
					  (unsigned long long)rc.verdict[v].packets,
					  (unsigned long long)rc.verdict[v].bytes,
					  (unsigned long long)fx->want_reason[r].verdict[v].packets,
					  (unsigned long long)fx->want_reason[r].verdict[v].bytes);
	}
}

/* Ends a test: all counters still agree, and no frame mismatched. */
#define DP_DONE(fx)                                                                                               \
	do {                                                                                                      \
		unsigned dp_failures_;                                                                            \
		dp_check_all_counters(fx);                                                                        \
		dp_failures_ = (fx)->failures;                                                                    \
		(fx)->failures = 0;                                                                               \
		if (dp_failures_)                                                                                 \
			fail_msg("[%s] %u mismatches (%u frames checked in this group so far)", (fx)->cfg->label, \
				 dp_failures_, (fx)->checked);                                                    \
	} while (0)

/* The seed policies as the packet tests load them: `replies stateless`, as
 * those tests check what ports, flags and peers match (a reply row would
 * otherwise need its request first). Tracked replies are tested with
 * fixtures of their own (test_packets.c, "tracked"). */
/* A brace list, which clang-format would lay out as a block. */
/* clang-format off */
#define NOTARIUS_HOSTS                                                                                     \
	{ "support.notarius.com=198.51.100.7", "download.notarius.com=198.51.100.8,2001:db8::8" }
/* clang-format on */

static const struct dp_config notarius_outside __attribute__((unused)) = {
	.label = "notarius outside",
	.file = "policies/notarius.policy",
	.facing = TG_FACING_OUTSIDE,
	.hosts = NOTARIUS_HOSTS,
	.stateless = true,
};
static const struct dp_config notarius_inside __attribute__((unused)) = {
	.label = "notarius inside",
	.file = "policies/notarius.policy",
	.facing = TG_FACING_INSIDE,
	.hosts = NOTARIUS_HOSTS,
	.stateless = true,
};
static const struct dp_config cryptshare_outside __attribute__((unused)) = {
	.label = "cryptshare outside",
	.file = "policies/cryptshare.policy",
	.facing = TG_FACING_OUTSIDE,
	.stateless = true,
};
static const struct dp_config cryptshare_inside __attribute__((unused)) = {
	.label = "cryptshare inside",
	.file = "policies/cryptshare.policy",
	.facing = TG_FACING_INSIDE,
	.stateless = true,
};

#endif
