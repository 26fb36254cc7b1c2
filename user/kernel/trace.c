// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "kernel/trace.h"

#include <bpf/bpf.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

static int open_pin(const char *dir, const char *name)
{
	char path[512];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = bpf_obj_get(path);
	return fd < 0 ? -errno : fd;
}

/* A slot whose process is gone (killed -9) is free again. */
static bool slot_free(const struct tg_tracers *t, int k)
{
	return !(t->active & (1u << k)) || (kill((pid_t)t->t[k].pid, 0) < 0 && errno == ESRCH);
}

int tg_trace_claim(const char *dir, const struct tg_tracer *want)
{
	struct tg_tracers t;
	uint32_t zero = 0;
	int fd = open_pin(dir, "tracers"), k = 0, err = 0;

	if (fd < 0)
		return fd;
	if (bpf_map_lookup_elem(fd, &zero, &t)) {
		err = -errno;
		goto out;
	}
	for (k = 0; k < TG_TRACERS && !slot_free(&t, k); k++)
		;
	if (k == TG_TRACERS) {
		err = -EBUSY;
		goto out;
	}
	t.t[k] = *want;
	t.t[k].pid = (uint32_t)getpid();
	t.active |= 1u << k;
	if (bpf_map_update_elem(fd, &zero, &t, BPF_ANY))
		err = -errno;
out:
	close(fd);
	return err ? err : k;
}

void tg_trace_release(const char *dir, int k)
{
	struct tg_tracers t;
	uint32_t zero = 0;
	int fd = open_pin(dir, "tracers");

	if (fd < 0)
		return;
	if (!bpf_map_lookup_elem(fd, &zero, &t) && (t.active & (1u << k)) && t.t[k].pid == (uint32_t)getpid()) {
		t.active &= ~(1u << k);
		bpf_map_update_elem(fd, &zero, &t, BPF_ANY);
	}
	close(fd);
}

int tg_trace_ring(const char *dir, int k)
{
	char name[32];

	snprintf(name, sizeof(name), "trace_ring%d", k);
	return open_pin(dir, name);
}
