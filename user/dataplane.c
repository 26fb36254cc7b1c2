// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Loading the XDP program and filling its maps from a compiled image. */
#include "dataplane.h"
#include "util.h"
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
	char line[1024];
	int n;

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

static void set_config(struct tollgate *skel, const struct tg_image *img, bool trace)
{
	bool multi_buffer = tg_kernel_has_multi_buffer();

	skel->rodata->cfg_multi_buffer = multi_buffer;
	if (!multi_buffer)
		bpf_program__set_flags(skel->progs.tollgate_xdp,
				       bpf_program__flags(skel->progs.tollgate_xdp) & ~BPF_F_XDP_HAS_FRAGS);
	skel->rodata->cfg_facing = (uint32_t)img->facing;
	skel->rodata->cfg_default = img->settings[TG_SET_DEFAULT] == TG_ALLOW ? TG_PASS : TG_DROP;
	skel->rodata->cfg_non_ip = img->settings[TG_SET_NON_IP] == TG_ALLOW ? TG_PASS : TG_DROP;
	skel->rodata->cfg_malformed = img->settings[TG_SET_MALFORMED] == TG_ALLOW ? TG_PASS : TG_DROP;
	skel->rodata->cfg_icmp_mode = (uint32_t)img->settings[TG_SET_ESSENTIAL_ICMP];
	skel->rodata->cfg_frag_mode = (uint32_t)img->settings[TG_SET_FRAGMENTS];
	skel->rodata->cfg_trace = trace;
}

static int size_maps(struct tollgate *skel, const struct tg_image *img)
{
	int err;

	/* An LPM trie cannot have zero entries; an empty one costs nothing. */
	err = bpf_map__set_max_entries(skel->maps.peers_v4, img->nprefixes[0] ? (uint32_t)img->nprefixes[0] : 1);
	if (!err)
		err = bpf_map__set_max_entries(skel->maps.peers_v6,
					       img->nprefixes[1] ? (uint32_t)img->nprefixes[1] : 1);
	if (!err)
		err = bpf_map__set_max_entries(skel->maps.masks, img->nmasks);
	return err;
}

/* Batch where the kernel can, one element at a time where it cannot. */
static int update_many(int fd, const void *keys, const void *values, uint32_t count, size_t key_size,
		       size_t value_size)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	uint32_t n = count;
	int err;

	if (!count)
		return 0;
	err = bpf_map_update_batch(fd, keys, values, &n, &opts);
	if (!err)
		return 0;
	for (uint32_t i = 0; i < count; i++)
		if (bpf_map_update_elem(fd, (const char *)keys + i * key_size, (const char *)values + i * value_size,
					BPF_ANY))
			return -errno;
	return 0;
}

static int fill_prefixes(int fd, const struct tg_image *img, int family)
{
	size_t n = img->nprefixes[family], key_size = family == TG_FAMILY_V4 ? sizeof(struct tg_v4_key) :
									       sizeof(struct tg_v6_key);
	uint8_t *keys = xcalloc(n ? n : 1, key_size);
	uint32_t *values = xcalloc(n ? n : 1, sizeof(uint32_t));
	int err;

	for (size_t i = 0; i < n; i++) {
		const struct tg_image_prefix *p = &img->prefixes[family][i];
		struct tg_v6_key key = { .prefixlen = p->prefixlen };

		memcpy(key.addr, p->addr, family == TG_FAMILY_V4 ? 4 : 16);
		memcpy(keys + i * key_size, &key, key_size);
		values[i] = p->cls;
	}
	err = update_many(fd, keys, values, (uint32_t)n, key_size, sizeof(uint32_t));
	free(keys);
	free(values);
	return err;
}

static int fill_arrays(struct tollgate *skel, const struct tg_image *img)
{
	uint32_t count = TG_L4_ENTRIES > img->nmasks ? TG_L4_ENTRIES : img->nmasks;
	uint32_t *keys = xmalloc(count * sizeof(uint32_t));
	struct tg_service_entry entries[TG_MAX_SERVICES] = { 0 };
	int err;

	for (uint32_t i = 0; i < count; i++)
		keys[i] = i;
	err = update_many(bpf_map__fd(skel->maps.l4_classes), keys, img->l4, TG_L4_ENTRIES, sizeof(uint32_t),
			  sizeof(uint32_t));
	if (!err)
		err = update_many(bpf_map__fd(skel->maps.masks), keys, img->masks, img->nmasks, sizeof(uint32_t),
				  sizeof(struct tg_mask));
	for (uint32_t s = 0; s < img->nservices; s++) {
		entries[s].counter_slot = img->services[s].counter_slot;
		entries[s].action = img->services[s].action;
		entries[s].role = img->services[s].role;
	}
	if (!err)
		err = update_many(bpf_map__fd(skel->maps.services), keys, entries, img->nservices, sizeof(uint32_t),
				  sizeof(struct tg_service_entry));
	free(keys);
	return err;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
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
	err = update_many(map_fd, keys, addrs, count, sizeof(uint32_t), 16);
	free(keys);
	return err;
}

int tg_dataplane_load(struct tg_dataplane *dp, const struct tg_image *img, struct tg_load_opts *opts)
{
	bool bench = opts && opts->bench_count;
	uint64_t start = now_ns(), loaded;
	int err;

	memset(dp, 0, sizeof(*dp));
	libbpf_set_print(collect_libbpf_output);
	free(libbpf_log);
	libbpf_log = NULL;
	libbpf_log_len = 0;
	dp->skel = tollgate__open();
	if (!dp->skel) {
		err = -errno;
		goto fail;
	}
	dp->trace = opts && opts->trace;
	set_config(dp->skel, img, dp->trace);
	err = size_maps(dp->skel, img);
	if (!err && opts && opts->service_counters_fd > 0)
		err = bpf_map__reuse_fd(dp->skel->maps.service_counters, opts->service_counters_fd);
	if (!err && opts && opts->reason_counters_fd > 0)
		err = bpf_map__reuse_fd(dp->skel->maps.reason_counters, opts->reason_counters_fd);
	if (!err && bench) {
		dp->skel->rodata->cfg_bench = 1;
		dp->skel->rodata->bench_trace_len = opts->bench_count;
		err = bpf_map__set_max_entries(dp->skel->maps.bench_trace, opts->bench_count);
	}
	if (!err)
		err = tollgate__load(dp->skel);
	if (!err && bench)
		err = tg_fill_bench_trace(bpf_map__fd(dp->skel->maps.bench_trace), opts->bench_addrs, opts->bench_count);
	loaded = now_ns();
	if (!err)
		err = fill_prefixes(bpf_map__fd(dp->skel->maps.peers_v4), img, TG_FAMILY_V4);
	if (!err)
		err = fill_prefixes(bpf_map__fd(dp->skel->maps.peers_v6), img, TG_FAMILY_V6);
	if (!err)
		err = fill_arrays(dp->skel, img);
	if (err)
		goto fail;
	if (opts) {
		opts->load_ns = loaded - start;
		opts->fill_ns = now_ns() - loaded;
	}
	dp->ncpus = (unsigned)libbpf_num_possible_cpus();
	return 0;
fail:
	if (opts && libbpf_log) {
		opts->log = libbpf_log;
		libbpf_log = NULL;
		libbpf_log_len = 0;
	}
	tg_dataplane_destroy(dp);
	return err < 0 ? err : -EINVAL;
}

void tg_dataplane_destroy(struct tg_dataplane *dp)
{
	if (dp->skel)
		tollgate__destroy(dp->skel);
	dp->skel = NULL;
}

int tg_dataplane_prog_fd(const struct tg_dataplane *dp)
{
	return bpf_program__fd(dp->skel->progs.tollgate_xdp);
}

int tg_dataplane_run(struct tg_dataplane *dp, const uint8_t *frame, size_t len, int *verdict,
		     struct tg_trace *trace)
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

/* Per-CPU values come back as one value per possible CPU, each 8-aligned. */
static int sum_percpu(int fd, uint32_t key, unsigned ncpus, uint64_t *out, size_t nwords)
{
	uint64_t *values = xcalloc(ncpus, nwords * sizeof(uint64_t));

	if (bpf_map_lookup_elem(fd, &key, values)) {
		int err = -errno;

		free(values);
		return err;
	}
	memset(out, 0, nwords * sizeof(uint64_t));
	for (unsigned c = 0; c < ncpus; c++)
		for (size_t w = 0; w < nwords; w++)
			out[w] += values[c * nwords + w];
	free(values);
	return 0;
}

int tg_dataplane_service_counters(struct tg_dataplane *dp, uint32_t slot, struct tg_service_counters *out)
{
	return sum_percpu(bpf_map__fd(dp->skel->maps.service_counters), slot, dp->ncpus, (uint64_t *)out,
			  sizeof(*out) / sizeof(uint64_t));
}

int tg_dataplane_reason_counters(struct tg_dataplane *dp, uint32_t reason, struct tg_reason_counters *out)
{
	return sum_percpu(bpf_map__fd(dp->skel->maps.reason_counters), reason, dp->ncpus, (uint64_t *)out,
			  sizeof(*out) / sizeof(uint64_t));
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
			       "the kernel refused the program or a map: check that this kernel has BPF, XDP and LPM tries (5.10 or later)";
		break;
	default:
		hint = tg_strerror(err);
	}
	fprintf(stderr, "tollgate: cannot load the data plane: %s\n", hint);
	if (log && *log) {
		size_t len = strlen(log);
		const char *tail = len > 3000 ? log + len - 3000 : log;

		fprintf(stderr, "--- libbpf and verifier output (last part) ---\n%s", tail);
		if (log[len - 1] != '\n')
			fputc('\n', stderr);
	}
}
