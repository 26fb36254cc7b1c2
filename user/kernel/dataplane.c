// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Loading the XDP program and filling its maps from a compiled image. */
#include "kernel/dataplane.h"
#include "kernel/flows.h"
#include "kernel/generation.h"
#include "kernel/link.h"
#include "policy/policy.h"
#include "lib/log.h"
#include "lib/util.h"
#include "tollgate.skel.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* libbpf speaks through this; we keep its words for the error report. */
static char *libbpf_log;
static size_t libbpf_log_len;

static int collect_libbpf_output(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	static const char *const words[] = {
		[LIBBPF_WARN] = "warning", [LIBBPF_INFO] = "info", [LIBBPF_DEBUG] = "debug"
	};
	char line[1024];
	va_list copy;
	int n;

	va_copy(copy, ap);
	tg_log_library("libbpf", words[level], fmt, copy);
	va_end(copy);
	if (level == LIBBPF_DEBUG)
		return 0;
	n = vsnprintf(line, sizeof(line), fmt, ap);
	if (n <= 0)
		return 0;
	if ((size_t)n >= sizeof(line))
		n = sizeof(line) - 1;
	libbpf_log = xrealloc(libbpf_log, libbpf_log_len + (size_t)n + 1);
	memcpy(libbpf_log + libbpf_log_len, line, (size_t)n + 1);
	libbpf_log_len += (size_t)n;
	return 0;
}

/* Multi-buffer XDP (5.18): without it, load as a plain XDP program. */
bool tg_kernel_has_multi_buffer(void)
{
	return libbpf_probe_bpf_helper(BPF_PROG_TYPE_XDP, BPF_FUNC_xdp_get_buff_len, NULL) == 1;
}

void tg_dataplane_configure(struct tollgate *skel, int facing, bool trace)
{
	bool multi_buffer = tg_kernel_has_multi_buffer();

	skel->rodata->cfg_multi_buffer = multi_buffer;
	if (!multi_buffer)
		bpf_program__set_flags(skel->progs.tollgate_xdp,
				       bpf_program__flags(skel->progs.tollgate_xdp) & ~BPF_F_XDP_HAS_FRAGS);
	skel->rodata->cfg_facing = (uint32_t)facing;
	skel->rodata->cfg_coarse_clock =
		libbpf_probe_bpf_helper(BPF_PROG_TYPE_XDP, BPF_FUNC_ktime_get_coarse_ns, NULL) == 1 &&
		libbpf_probe_bpf_helper(BPF_PROG_TYPE_SCHED_CLS, BPF_FUNC_ktime_get_coarse_ns, NULL) == 1;
	skel->rodata->cfg_trace = trace;
	skel->rodata->cfg_trace_load_bytes =
		libbpf_probe_bpf_helper(BPF_PROG_TYPE_XDP, BPF_FUNC_xdp_load_bytes, NULL) == 1;
}

/* A program for test runs owns its maps: nothing is pinned. */
static int unpin_all(struct tollgate *skel)
{
	struct bpf_map *map;

	bpf_object__for_each_map(map, skel->obj)
		if (bpf_map__set_pin_path(map, NULL))
			return -EINVAL;
	return 0;
}

uint64_t tg_map_memory(int map_fd)
{
	char path[64], line[256];
	unsigned long long bytes = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", map_fd);
	f = fopen(path, "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "memlock: %llu", &bytes) == 1)
			break;
	fclose(f);
	return bytes;
}

int tg_fill_bench_trace(int map_fd, const uint8_t (*addrs)[16], uint32_t count)
{
	uint32_t *keys = xmalloc(count * sizeof(uint32_t));
	int err;

	for (uint32_t i = 0; i < count; i++)
		keys[i] = i;
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	uint32_t n = count;

	err = bpf_map_update_batch(map_fd, keys, addrs, &n, &opts) ? -errno : 0;
	for (uint32_t i = 0; err && i < count; i++)
		err = bpf_map_update_elem(map_fd, &keys[i], addrs[i], BPF_ANY) ? -errno : 0;
	free(keys);
	return err;
}

static void take_libbpf_log(struct tg_load_opts *opts)
{
	if (opts && libbpf_log) {
		opts->log = libbpf_log;
		libbpf_log = NULL;
		libbpf_log_len = 0;
	}
}

void tg_route_library_logs(void)
{
	libbpf_set_print(collect_libbpf_output);
	tg_link_route_logs();
}

void tg_dataplane_capture_log(void)
{
	libbpf_set_print(collect_libbpf_output);
	free(libbpf_log);
	libbpf_log = NULL;
	libbpf_log_len = 0;
}

char *tg_dataplane_take_log(void)
{
	char *log = libbpf_log;

	libbpf_log = NULL;
	libbpf_log_len = 0;
	return log;
}

/* Installs gen at slot 0 and makes it the one in force. */
static int install_first(struct tollgate *skel, const struct tg_generation *gen)
{
	int outer[TG_GEN_MAPS];

	/* By name, so a new generation map needs no change here. */
	for (int i = 0; i < TG_GEN_MAPS; i++) {
		outer[i] = bpf_object__find_map_fd_by_name(skel->obj, tg_gen_map_names[i]);
		if (outer[i] < 0)
			return outer[i];
	}
	return tg_generation_install(outer, 0, gen) ?: tg_generation_activate(bpf_map__fd(skel->maps.active), 0);
}

/* A test run's flow tables are its own, sized as the policy says. */
static int size_flow_tables(struct tollgate *skel, const struct tg_image *img)
{
	uint32_t size = (uint32_t)img->settings[TG_SET_FLOW_TABLE];

	return tg_flows_size_unpinned(skel, size ? size : TG_FLOW_TABLE_DEFAULT);
}

static int load_program(struct tg_dataplane *dp, const struct tg_image *img, struct tg_load_opts *opts,
			struct tg_gen_layout *layout)
{
	bool bench = opts && opts->bench_count;
	int err;

	dp->skel = tollgate__open();
	if (!dp->skel)
		return -errno;
	/* libbpf drops the inner map templates once the outer maps exist. */
	err = tg_gen_layout_read(dp->skel->obj, layout);
	if (err)
		return err;
	dp->trace = opts && opts->trace;
	tg_dataplane_configure(dp->skel, img->facing, dp->trace);
	dp->skel->rodata->cfg_clock_from_map = opts && opts->clock_from_map;
	dp->skel->rodata->cfg_live_trace = !(opts && opts->no_live_trace);
	err = unpin_all(dp->skel) ?: size_flow_tables(dp->skel, img);
	if (!err && bench) {
		dp->skel->rodata->cfg_bench = 1;
		dp->skel->rodata->bench_trace_len = opts->bench_count;
		err = bpf_map__set_max_entries(dp->skel->maps.bench_trace, opts->bench_count);
	}
	if (!err)
		err = tollgate__load(dp->skel);
	if (!err && bench)
		err = tg_fill_bench_trace(bpf_map__fd(dp->skel->maps.bench_trace), opts->bench_addrs,
					  opts->bench_count);
	return err;
}

/* What the verifier processed for a loaded program (0 before 5.16). */
static uint32_t verified_insns(int prog_fd)
{
	struct bpf_prog_info info;
	uint32_t len = sizeof(info);

	memset(&info, 0, sizeof(info));
	return bpf_obj_get_info_by_fd(prog_fd, &info, &len) ? 0 : info.verified_insns;
}

int tg_dataplane_load(struct tg_dataplane *dp, const struct tg_image *img, struct tg_load_opts *opts)
{
	uint64_t start = tg_monotonic_ns(), loaded, fill_ns = 0;
	struct tg_gen_layout layout;
	int err;

	memset(dp, 0, sizeof(*dp));
	for (int i = 0; i < TG_GEN_MAPS; i++)
		dp->gen.fd[i] = -1;
	tg_dataplane_capture_log();
	err = load_program(dp, img, opts, &layout);
	loaded = tg_monotonic_ns();
	if (!err)
		err = tg_generation_build(&layout, img, &dp->gen, &fill_ns);
	if (!err)
		err = install_first(dp->skel, &dp->gen);
	if (err)
		goto fail;
	if (opts) {
		opts->load_ns = loaded - start;
		opts->fill_ns = fill_ns;
		opts->verified_xdp = verified_insns(bpf_program__fd(dp->skel->progs.tollgate_xdp));
		opts->verified_egress = verified_insns(bpf_program__fd(dp->skel->progs.tollgate_egress));
	}
	return 0;
fail:
	take_libbpf_log(opts);
	tg_dataplane_destroy(dp);
	return err < 0 ? err : -EINVAL;
}

void tg_dataplane_destroy(struct tg_dataplane *dp)
{
	tg_generation_close(&dp->gen);
	if (dp->skel)
		tollgate__destroy(dp->skel);
	dp->skel = NULL;
}

int tg_dataplane_prog_fd(const struct tg_dataplane *dp)
{
	return bpf_program__fd(dp->skel->progs.tollgate_xdp);
}

int tg_dataplane_run(struct tg_dataplane *dp, const uint8_t *frame, size_t len, int *verdict, struct tg_trace *trace)
{
	LIBBPF_OPTS(bpf_test_run_opts, run, .data_in = frame, .data_size_in = (uint32_t)len, .repeat = 1);
	uint32_t zero = 0;
	int err;

	err = bpf_prog_test_run_opts(tg_dataplane_prog_fd(dp), &run);
	if (err)
		return -errno;
	*verdict = run.retval == XDP_PASS ? TG_PASS : TG_DROP;
	if (trace && dp->trace && bpf_map_lookup_elem(bpf_map__fd(dp->skel->maps.trace), &zero, trace))
		return -errno;
	return 0;
}

int tg_dataplane_run_egress(struct tg_dataplane *dp, const uint8_t *frame, size_t len)
{
	LIBBPF_OPTS(bpf_test_run_opts, run, .data_in = frame, .data_size_in = (uint32_t)len, .repeat = 1);

	return bpf_prog_test_run_opts(bpf_program__fd(dp->skel->progs.tollgate_egress), &run) ? -errno : 0;
}

int tg_dataplane_set_clock(struct tg_dataplane *dp, uint64_t now_ns)
{
	uint32_t zero = 0;

	return bpf_map_update_elem(bpf_map__fd(dp->skel->maps.clock), &zero, &now_ns, BPF_ANY) ? -errno : 0;
}

int tg_dataplane_flows(struct tg_dataplane *dp, uint64_t now_ns, struct tg_flow_summary *out)
{
	int fds[TG_OPENERS] = { bpf_map__fd(dp->skel->maps.flows_out), bpf_map__fd(dp->skel->maps.flows_in) };

	return tg_flows_summary_of(fds, bpf_map__fd(dp->skel->maps.flow_stats), now_ns, out);
}

void tg_dataplane_flow_maps(struct tg_dataplane *dp, int table_fd[TG_OPENERS], int *hints_fd)
{
	table_fd[TG_OPENED_LOCAL] = bpf_map__fd(dp->skel->maps.flows_out);
	table_fd[TG_OPENED_REMOTE] = bpf_map__fd(dp->skel->maps.flows_in);
	*hints_fd = bpf_map__fd(dp->skel->maps.flow_hints);
}

/* Per-CPU values come back as one value per possible CPU, each 8-aligned. */
int tg_sum_percpu(int fd, uint32_t key, uint64_t *out, size_t nwords)
{
	int ncpus = libbpf_num_possible_cpus();
	uint64_t *values;

	if (ncpus < 0)
		return ncpus;
	values = xcalloc((size_t)ncpus, nwords * sizeof(uint64_t));
	if (bpf_map_lookup_elem(fd, &key, values)) {
		int err = -errno;

		free(values);
		return err;
	}
	memset(out, 0, nwords * sizeof(uint64_t));
	for (int c = 0; c < ncpus; c++)
		for (size_t w = 0; w < nwords; w++)
			out[w] += values[(size_t)c * nwords + w];
	free(values);
	return 0;
}

int tg_dataplane_service_counters(struct tg_dataplane *dp, uint32_t slot, struct tg_service_counters *out)
{
	return tg_sum_percpu(bpf_map__fd(dp->skel->maps.service_counters), slot, (uint64_t *)out,
			     sizeof(*out) / sizeof(uint64_t));
}

int tg_dataplane_reason_counters(struct tg_dataplane *dp, uint32_t reason, struct tg_reason_counters *out)
{
	return tg_sum_percpu(bpf_map__fd(dp->skel->maps.reason_counters), reason, (uint64_t *)out,
			     sizeof(*out) / sizeof(uint64_t));
}
