// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "lib/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static void die_oom(void)
{
	fputs("tollgate: out of memory\n", stderr);
	exit(70);
}

void *xmalloc(size_t size)
{
	void *p = malloc(size ? size : 1);

	if (!p)
		die_oom();
	return p;
}

void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (!p)
		die_oom();
	return p;
}

void *xrealloc(void *ptr, size_t size)
{
	void *p = realloc(ptr, size ? size : 1);

	if (!p)
		die_oom();
	return p;
}

char *xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *xstrndup(const char *s, size_t n)
{
	char *p = xmalloc(n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

/* Policies are text; anything bigger than this is a mistake, not a policy. */
/* A million prefixes take about 20 MiB; a policy is written (or generated) text. */
#define TG_MAX_FILE_SIZE (128u << 20)

int read_file(const char *path, char **buf, size_t *len)
{
	struct stat st;
	size_t used = 0, cap;
	char *data;
	int fd, err = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		err = -errno;
		goto out;
	}
	if (S_ISDIR(st.st_mode)) {
		err = -EISDIR;
		goto out;
	}
	if (st.st_size > TG_MAX_FILE_SIZE) {
		err = -EFBIG;
		goto out;
	}
	/* Sizes lie (/dev/zero, /proc, pipes say 0): read at most one byte past the limit. */
	cap = (size_t)st.st_size + 1;
	data = xmalloc(cap);
	for (;;) {
		ssize_t got;

		if (used + 1 >= cap) {
			if (used > TG_MAX_FILE_SIZE) {
				free(data);
				err = -EFBIG;
				goto out;
			}
			cap = cap * 2 > TG_MAX_FILE_SIZE + 2 ? TG_MAX_FILE_SIZE + 2 : cap * 2;
			data = xrealloc(data, cap);
		}
		got = read(fd, data + used, cap - used - 1);
		if (got < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			free(data);
			goto out;
		}
		if (got == 0)
			break;
		used += (size_t)got;
	}
	data[used] = '\0';
	*buf = data;
	*len = used;
out:
	close(fd);
	return err;
}

const char *tg_strerror(int err)
{
	switch (-err) {
	case EFBIG:
		return "file is too large (the limit is 128 MiB)";
	case ENOENT:
		return "no such file or directory";
	case EDOM:
		return "its services overlap in more distinct combinations than tollgate supports (65536 classes); split the policy or merge services";
	case EPERM:
		return "operation not permitted (tollgate needs root, or CAP_BPF and CAP_NET_ADMIN)";
	default:
		return strerror(-err);
	}
}

void tg_json_string(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(out, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			fprintf(out, "\\u%04x", *s);
		else
			fputc(*s, out);
	}
	fputc('"', out);
}

void tg_rfc3339(uint64_t realtime_ns, char *buf, size_t size)
{
	time_t t = (time_t)(realtime_ns / 1000000000ull);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}
