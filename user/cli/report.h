/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef TG_REPORT_H
#define TG_REPORT_H

#include "kernel/hosts.h"
#include "policy/policy.h"

/* Each says what err means for ifname and what to do, and returns the exit code. */
int tg_report_state_error(const char *ifname, int err);
int tg_report_attach_error(int err, const char *ifname, int ifindex, int mode);
/* A program or its maps the kernel refused, with libbpf's and the verifier's words. */
void tg_report_load_error(int err, const char *log);
/* Warns about host names whose last DNS attempt failed, and what they keep. */
void tg_report_hosts(const struct tg_host_state *table, const struct tg_policy *pol, const char *ifname);

#endif
