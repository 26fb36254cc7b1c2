// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "lib/log.h"

#include <stdio.h>

static enum tg_log_level threshold = TG_LOG_INFO;

void tg_log_set_level(enum tg_log_level level)
{
	threshold = level;
}

enum tg_log_level tg_log_get_level(void)
{
	return threshold;
}

static const char *prefix(enum tg_log_level level)
{
	switch (level) {
	case TG_LOG_WARN:
		return "tollgate: warning: ";
	case TG_LOG_DEBUG:
		return "tollgate: debug: ";
	default:
		return "tollgate: ";
	}
}

void tg_vlog(enum tg_log_level level, const char *fmt, va_list ap)
{
	if (level > threshold)
		return;
	fputs(prefix(level), stderr);
	vfprintf(stderr, fmt, ap);
}

void tg_log(enum tg_log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	tg_vlog(level, fmt, ap);
	va_end(ap);
}

/*
 * libbpf and libxdp explain themselves in their own words, often at warning
 * level for things tollgate handles (a probe that fails, a fallback taken).
 * Those words matter when something goes wrong, which is what -v is for; the
 * errors that matter are reported by tollgate with what to do.
 */
void tg_log_library(const char *library, const char *level, const char *fmt, va_list ap)
{
	if (threshold < TG_LOG_DEBUG)
		return;
	fprintf(stderr, "%s%s %s: ", prefix(TG_LOG_DEBUG), library, level);
	vfprintf(stderr, fmt, ap);
}
