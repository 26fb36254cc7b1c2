// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Element 0 starts with the snapshot's length (u64); the bytes follow. */
#include "kernel/snapshot.h"
#include "lib/util.h"

#include <bpf/bpf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define CHUNK 4096u

static void pin_path(const char *dir, uint32_t slot, char *path, size_t size)
{
	snprintf(path, size, "%s/%s%u", dir, TG_PIN_SNAPSHOT, slot & 1);
}

/* Through a mapping where the kernel allows one, else element by element. */
static int write_chunks(int fd, const uint8_t *buf, uint32_t n)
{
	uint8_t *mem = mmap(NULL, (size_t)n * CHUNK, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

	if (mem != MAP_FAILED) {
		memcpy(mem, buf, (size_t)n * CHUNK);
		munmap(mem, (size_t)n * CHUNK);
		return 0;
	}
	for (uint32_t k = 0; k < n; k++)
		if (bpf_map_update_elem(fd, &k, buf + (size_t)k * CHUNK, BPF_ANY))
			return -errno;
	return 0;
}

int tg_snapshot_store(const char *dir, uint32_t slot, const uint8_t *data, size_t len)
{
	LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = BPF_F_MMAPABLE);
	uint64_t total = len;
	uint32_t n = (uint32_t)((len + 8 + CHUNK - 1) / CHUNK);
	char path[512];
	uint8_t *buf;
	int fd, err;

	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "tg_snapshot", sizeof(uint32_t), CHUNK, n, &opts);
	if (fd < 0)
		return -errno;
	buf = xcalloc(n, CHUNK);
	memcpy(buf, &total, sizeof(total));
	memcpy(buf + sizeof(total), data, len);
	err = write_chunks(fd, buf, n);
	free(buf);
	pin_path(dir, slot, path, sizeof(path));
	if (!err && unlink(path) < 0 && errno != ENOENT)
		err = -errno;
	if (!err && bpf_obj_pin(fd, path))
		err = -errno;
	close(fd);
	return err;
}

void tg_snapshot_forget(const char *dir, uint32_t slot)
{
	char path[512];

	pin_path(dir, slot, path, sizeof(path));
	unlink(path);
}

static int read_chunks(int fd, uint8_t *buf, uint32_t n)
{
	uint8_t *mem = mmap(NULL, (size_t)n * CHUNK, PROT_READ, MAP_SHARED, fd, 0);

	if (mem != MAP_FAILED) {
		memcpy(buf, mem, (size_t)n * CHUNK);
		munmap(mem, (size_t)n * CHUNK);
		return 0;
	}
	for (uint32_t k = 0; k < n; k++)
		if (bpf_map_lookup_elem(fd, &k, buf + (size_t)k * CHUNK))
			return -errno;
	return 0;
}

int tg_snapshot_load(const char *dir, uint32_t slot, uint8_t **data, size_t *len)
{
	struct bpf_map_info info = { 0 };
	uint32_t info_len = sizeof(info);
	char path[512];
	uint64_t total;
	uint8_t *buf;
	int fd, err;

	pin_path(dir, slot, path, sizeof(path));
	fd = bpf_obj_get(path);
	if (fd < 0)
		return -errno;
	err = bpf_obj_get_info_by_fd(fd, &info, &info_len) ? -errno : 0;
	if (!err && (info.type != BPF_MAP_TYPE_ARRAY || info.value_size != CHUNK || !info.max_entries))
		err = -EBADMSG;
	if (err) {
		close(fd);
		return err;
	}
	buf = xmalloc((size_t)info.max_entries * CHUNK);
	err = read_chunks(fd, buf, info.max_entries);
	close(fd);
	memcpy(&total, buf, sizeof(total));
	if (!err && total > (uint64_t)info.max_entries * CHUNK - sizeof(total))
		err = -EBADMSG;
	if (err) {
		free(buf);
		return err;
	}
	memmove(buf, buf + sizeof(total), (size_t)total);
	*data = buf;
	*len = (size_t)total;
	return 0;
}
