// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* A foreign XDP program for the tests: tollgate must leave it alone. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int xdp_pass(struct xdp_md *ctx)
{
	(void)ctx;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
