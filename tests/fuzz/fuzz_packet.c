// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * libFuzzer target for the packet side: any byte string is a frame, run
 * through the real XDP program (BPF_PROG_TEST_RUN) and through the reference
 * parser and classifier, at both facings. Verdict, reason, service and role
 * must agree; a disagreement aborts with both decisions, so the frame lands
 * in the artifacts. Needs root and bpffs, like the data-plane tests.
 *
 * The policy tracks replies (the default): each facing's program keeps its
 * flow tables across inputs, and so does a reference flow table beside it
 * (user/model/flows.c), so that a request in one input opens the flow a
 * reply in a later one needs. The clock is fixed (clock_from_map): flows
 * never expire here; the differential test covers expiry. Every mismatch
 * aborts.
 */
#include "agree.h"
#include "compile/compile.h"
#include "kernel/dataplane.h"
#include "model/classify.h"
#include "model/packet.h"
#include "policy/policy.h"
#include "tollgate.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Every kind of decision: ports and ranges of three protocols, ICMP types
 * both ways, a bare protocol number, nested sets, both families, deny before
 * allow, fragments matched by protocol, essential ICMP. */
static const char policy_text[] =
	"default deny\n"
	"fragments match\n"
	"essential-icmp allow\n"
	"set lab { 198.51.100.0/24, 2001:db8:100::/48 }\n"
	"set wide { @lab, 203.0.113.0/24, 2001:db8::/32 }\n"
	"service block { direction in; protocol any; peers 203.0.113.128/25; action deny }\n"
	"service web { direction in; protocol tcp; ports 80, 443, 8000-8099; peers any; action allow }\n"
	"service dns { direction out; protocol udp, tcp; ports 53; peers @wide; action allow }\n"
	"service sig { direction in; protocol sctp; ports 2905; peers @lab; action allow }\n"
	"service ping { direction in; protocol icmp; types echo-request; peers any; action allow }\n"
	"service ping6 { direction out; protocol icmpv6; types echo-request; peers any; action allow }\n"
	"service gre { direction in; protocol 47; peers @lab; action allow }\n"
	"service ah { direction out; protocol 51; peers 2001:db8::/32; action allow }\n";

static struct {
	struct tg_diags diags;
	struct tg_policy pol;
	struct tg_image img[2];
	struct tg_dataplane dp[2];
	struct tg_flow_model flows[2];
} g;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	tg_diags_init(&g.diags, stderr);
	if (tg_policy_parse_buffer(&g.pol, &g.diags, "fuzz-packet.policy", policy_text, strlen(policy_text)))
		abort();
	for (int facing = 0; facing < 2; facing++) {
		struct tg_load_opts opts = { .trace = true, .clock_from_map = true };
		int err = tg_compile(&g.pol, facing, NULL, &g.img[facing]) ?:
				  tg_dataplane_load(&g.dp[facing], &g.img[facing], &opts);

		if (err) {
			fprintf(stderr,
				"fuzz_packet: cannot load the data plane (%s): run as root with bpffs mounted\n%s",
				strerror(-err), opts.log ? opts.log : "");
			exit(1);
		}
		free(opts.log);
		tg_flow_model_init(&g.flows[facing]);
		tg_flow_model_set_clock(&g.flows[facing], 1000000000ull);
		if (tg_dataplane_set_clock(&g.dp[facing], 1000000000ull))
			abort();
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tg_pkt pkt;

	/* The kernel refuses test runs of frames shorter than an Ethernet header. */
	if (size < 14)
		return -1;
	tg_pkt_parse(data, size, &pkt);
	for (int facing = 0; facing < 2; facing++) {
		struct tg_decision want;
		struct tg_trace t;
		int verdict, err;

		tg_reference_arrive(&g.pol, NULL, facing, &g.flows[facing], &pkt, &want);
		err = tg_dataplane_run(&g.dp[facing], data, size, &verdict, &t);
		if (err) {
			fprintf(stderr, "fuzz_packet: test run of a %zu-byte frame: %s\n", size, strerror(-err));
			abort();
		}
		if (!tg_decisions_agree(&want, verdict, &t)) {
			fprintf(stderr,
				"fuzz_packet: facing %s: the model says verdict %d reason %s service %d role %d; "
				"the data plane verdict %d reason %s service %d role %d\n",
				facing ? "inside" : "outside", want.verdict, tg_reason_name(want.reason), want.service,
				want.role, verdict, tg_reason_name(t.reason),
				t.service == TG_NO_SERVICE ? -1 : (int)t.service, t.role);
			abort();
		}
	}
	return 0;
}
