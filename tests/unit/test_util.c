// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* user/lib/util.c: reading files whose size the kernel does not know. */
#include "helpers.h"
#include "lib/util.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#define LIMIT (128u << 20) /* as read_file's */

/* A child writes zeros into a pipe until the reader goes away, then says
 * how many bytes it got rid of: what read_file consumed, give or take the
 * pipe's buffer. */
static void an_endless_stream_is_read_only_to_the_limit(void **state)
{
	static char zeros[1 << 16];
	int data[2], count[2];
	unsigned long long written = 0;
	char path[32];
	char *buf = NULL;
	size_t len = 0;
	pid_t child;

	(void)state;
	assert_int_equal(pipe(data), 0);
	assert_int_equal(pipe(count), 0);
	child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		signal(SIGPIPE, SIG_IGN);
		close(data[0]);
		close(count[0]);
		for (;;) {
			ssize_t n = write(data[1], zeros, sizeof(zeros));

			if (n <= 0)
				break;
			written += (unsigned long long)n;
		}
		_exit(write(count[1], &written, sizeof(written)) == sizeof(written) ? 0 : 1);
	}
	close(data[1]);
	close(count[1]);
	snprintf(path, sizeof(path), "/dev/fd/%d", data[0]);
	assert_int_equal(read_file(path, &buf, &len), -EFBIG);
	close(data[0]);
	assert_int_equal(read(count[0], &written, sizeof(written)), (ssize_t)sizeof(written));
	close(count[0]);
	waitpid(child, NULL, 0);
	assert_true(written > LIMIT);
	assert_true(written <= LIMIT + (4u << 20));
}

static void a_file_within_the_limit_is_read_whole(void **state)
{
	char path[] = "/tmp/tollgate-test-util-XXXXXX";
	int fd = mkstemp(path);
	char *buf = NULL;
	size_t len = 0;

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "default deny\n", 13), 13);
	close(fd);
	assert_int_equal(read_file(path, &buf, &len), 0);
	assert_int_equal(len, 13);
	assert_string_equal(buf, "default deny\n");
	free(buf);
	unlink(path);
	assert_int_equal(read_file(path, &buf, &len), -ENOENT);
	assert_int_equal(read_file("/tmp", &buf, &len), -EISDIR);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(an_endless_stream_is_read_only_to_the_limit),
		cmocka_unit_test(a_file_within_the_limit_is_read_whole),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
