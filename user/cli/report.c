// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Errors a user can act on, each said once with what to do. Modules return
 * negative errnos; the commands hand them here (docs/style.md).
 */
#include "cli/report.h"
#include "cli/cli.h"
#include "kernel/link.h"
#include "lib/log.h"
#include "lib/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The state errors a user can act on, with what to do. */
int tg_report_state_error(const char *ifname, int err)
{
	switch (-err) {
	case ENOENT:
		tg_err("%s has no tollgate attached (see 'tollgate status')\n", ifname);
		return TG_EXIT_INPUT;
	case ENOTDIR:
		tg_err("bpffs is not mounted at /sys/fs/bpf; mount it with: mount -t bpf bpf /sys/fs/bpf\n");
		return TG_EXIT_SYSTEM;
	case EACCES:
	case EPERM:
		tg_err("%s: permission denied: tollgate's state and BPF need root; run it as root (or with sudo)\n",
		       ifname);
		return TG_EXIT_SYSTEM;
	case ENODEV:
		tg_err("no network interface named '%s' (see 'ip link')\n", ifname);
		return TG_EXIT_INPUT;
	case EEXIST:
		tg_err("%s already has tollgate attached; change its policy with 'tollgate reload %s POLICY'\n", ifname,
		       ifname);
		return TG_EXIT_INPUT;
	case ENOSPC:
		tg_err("%s has no free counter slot (%d are in use across generations); detach and attach again to reset them\n",
		       ifname, TG_MAX_COUNTER_SLOTS);
		return TG_EXIT_SYSTEM;
	case EPROTO:
		tg_err("the state pinned for %s was written by another version of tollgate; detach with that version first (or 'tollgate detach --force %s')\n",
		       ifname, ifname);
		return TG_EXIT_SYSTEM;
	case ENOLINK:
		tg_err("%s: tollgate is not enforcing there (see 'tollgate status %s'); detach and attach again\n",
		       ifname, ifname);
		return TG_EXIT_SYSTEM;
	default:
		tg_err("%s: %s\n", ifname, tg_strerror(err));
		return TG_EXIT_SYSTEM;
	}
}

int tg_report_attach_error(int err, const char *ifname, int ifindex, int mode)
{
	char what[128];

	switch (-err) {
	case EEXIST:
	case EBUSY:
		tg_link_describe(ifindex, what, sizeof(what));
		tg_err("%s already runs %s that libxdp cannot share it with (sharing needs libxdp's dispatcher on both sides and a kernel that allows it); tollgate leaves it alone: detach it first if tollgate should take over\n",
		       ifname, what);
		break;
	case EOPNOTSUPP:
		tg_err("%s cannot run XDP in %s mode%s\n", ifname, mode == TG_MODE_NATIVE ? "native" : "skb",
		       mode == TG_MODE_NATIVE ? "; its driver has no native XDP: use --mode skb (generic XDP, slower)" :
						"");
		break;
	case EPERM:
	case EACCES:
		return tg_report_state_error(ifname, err);
	default:
		tg_err("cannot attach to %s: %s\n", ifname, tg_strerror(err));
	}
	return TG_EXIT_SYSTEM;
}

/* What a failed load means and what to do about it. */
void tg_report_load_error(int err, const char *log)
{
	const char *hint;

	switch (-err) {
	case EPERM:
		hint = "loading XDP programs needs root (or CAP_BPF, CAP_PERFMON and CAP_NET_ADMIN)";
		break;
	case ENOMEM:
	case E2BIG:
		hint = "the kernel could not allocate the maps: free memory, or on kernels before 5.11 raise the locked-memory limit (ulimit -l)";
		break;
	case EACCES:
	case EINVAL:
		hint = log && strstr(log, "processed") ?
			       "the kernel's verifier rejected the program: this kernel may be older than tollgate supports (5.10), or it is a tollgate bug; please report it with the log below" :
			       "the kernel refused the program or a map: tollgate needs BPF, XDP, LPM tries and arrays of maps whose inner tries differ in size (kernel 5.10 or later)";
		break;
	default:
		hint = tg_strerror(err);
	}
	tg_err("cannot load the data plane: %s\n", hint);
	if (log && *log) {
		size_t len = strlen(log);
		const char *tail = len > 3000 ? log + len - 3000 : log;

		fprintf(stderr, "--- libbpf and verifier output (last part) ---\n%s", tail);
		if (log[len - 1] != '\n')
			fputc('\n', stderr);
	}
}

void tg_report_hosts(const struct tg_host_state *table, const struct tg_policy *pol, const char *ifname)
{
	const char **names;
	size_t n = tg_policy_host_names(pol, &names);

	for (size_t i = 0; i < n; i++) {
		const struct tg_host_state *e = tg_hosts_find(table, names[i]);

		if (!e || !e->last_status)
			continue;
		if (!e->resolved_ns)
			tg_warn("%s: host name %s did not resolve (%s); it has no addresses until it does\n", ifname,
				names[i], tg_resolve_status_name(e->last_status));
		else
			tg_warn("%s: host name %s did not resolve (%s); keeping its %u last known address%s\n", ifname,
				names[i], tg_resolve_status_name(e->last_status), e->naddrs,
				e->naddrs == 1 ? "" : "es");
	}
	free(names);
}
