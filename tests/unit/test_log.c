// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The one way tollgate talks on stderr (user/lib/log.c): the prefix of each
 * level, and which levels -q, the default and -v let through. */
#include "helpers.h"
#include "capture.h"
#include "lib/log.h"

#include <stdlib.h>

/* One message of each level, as stderr shows them at this threshold. */
static char *all_levels_at(enum tg_log_level threshold)
{
	struct capture c;

	tg_log_set_level(threshold);
	capture_start(&c, stderr);
	tg_err("e %d\n", 1);
	tg_warn("w %s\n", "two");
	tg_info("i %c\n", '3');
	tg_debug("d %u\n", 4u);
	return capture_end(&c);
}

static void default_level_is_info(void **state)
{
	(void)state;
	/* save_level ran first: this is the level the program starts with. */
	assert_int_equal(capture_saved_level, TG_LOG_INFO);
}

static void info_hides_debug_only(void **state)
{
	char *text = all_levels_at(TG_LOG_INFO);

	(void)state;
	assert_string_equal(text, "tollgate: e 1\n"
				  "tollgate: warning: w two\n"
				  "tollgate: i 3\n");
	free(text);
}

static void quiet_shows_errors_only(void **state)
{
	char *text = all_levels_at(TG_LOG_ERR);

	(void)state;
	assert_string_equal(text, "tollgate: e 1\n");
	free(text);
}

static void warn_level_hides_info_and_debug(void **state)
{
	char *text = all_levels_at(TG_LOG_WARN);

	(void)state;
	assert_string_equal(text, "tollgate: e 1\n"
				  "tollgate: warning: w two\n");
	free(text);
}

static void verbose_shows_everything(void **state)
{
	char *text = all_levels_at(TG_LOG_DEBUG);

	(void)state;
	assert_string_equal(text, "tollgate: e 1\n"
				  "tollgate: warning: w two\n"
				  "tollgate: i 3\n"
				  "tollgate: debug: d 4\n");
	free(text);
}

static void set_level_is_what_get_level_returns(void **state)
{
	(void)state;
	for (int l = TG_LOG_ERR; l <= TG_LOG_DEBUG; l++) {
		tg_log_set_level((enum tg_log_level)l);
		assert_int_equal(tg_log_get_level(), l);
	}
}

/* A message is printed as given: no newline is added, and a partial line
 * continues where the previous call left off. */
static void messages_keep_their_own_newlines(void **state)
{
	struct capture c;
	char *text;

	(void)state;
	tg_log_set_level(TG_LOG_INFO);
	capture_start(&c, stderr);
	tg_info("no newline");
	tg_err("%s: %d%%\n", "eth0", 50);
	text = capture_end(&c);
	assert_string_equal(text, "tollgate: no newlinetollgate: eth0: 50%\n");
	free(text);
}

static void vlog(enum tg_log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	tg_vlog(level, fmt, ap);
	va_end(ap);
}

static void vlog_filters_like_log(void **state)
{
	struct capture c;
	char *text;

	(void)state;
	tg_log_set_level(TG_LOG_WARN);
	capture_start(&c, stderr);
	vlog(TG_LOG_INFO, "hidden %d\n", 1);
	vlog(TG_LOG_WARN, "shown %d\n", 2);
	text = capture_end(&c);
	assert_string_equal(text, "tollgate: warning: shown 2\n");
	free(text);
}

static void library(const char *lib, const char *level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	tg_log_library(lib, level, fmt, ap);
	va_end(ap);
}

static char *library_messages_at(enum tg_log_level threshold)
{
	struct capture c;

	tg_log_set_level(threshold);
	capture_start(&c, stderr);
	library("libbpf", "warning", "prog '%s': probe failed\n", "xdp");
	library("libxdp", "info", "falling back to %s mode\n", "skb");
	return capture_end(&c);
}

static void library_messages_show_only_when_verbose(void **state)
{
	char *text;

	(void)state;
	/* Even warning-level library messages stay hidden at the default level. */
	for (int l = TG_LOG_ERR; l < TG_LOG_DEBUG; l++) {
		text = library_messages_at((enum tg_log_level)l);
		assert_string_equal(text, "");
		free(text);
	}
	text = library_messages_at(TG_LOG_DEBUG);
	assert_string_equal(text, "tollgate: debug: libbpf warning: prog 'xdp': probe failed\n"
				  "tollgate: debug: libxdp info: falling back to skb mode\n");
	free(text);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, save_level, restore_level)
	const struct CMUnitTest tests[] = {
		T(default_level_is_info),
		T(info_hides_debug_only),
		T(quiet_shows_errors_only),
		T(warn_level_hides_info_and_debug),
		T(verbose_shows_everything),
		T(set_level_is_what_get_level_returns),
		T(messages_keep_their_own_newlines),
		T(vlog_filters_like_log),
		T(library_messages_show_only_when_verbose),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
