/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The one way tollgate talks to its user on stderr. Commands print results
 * on stdout themselves; everything else goes through these, so that -q and
 * -v mean the same in every command. Messages end with their own newline.
 *
 *   tg_err   "tollgate: ..."           always
 *   tg_warn  "tollgate: warning: ..."  unless -q
 *   tg_info  "tollgate: ..."           unless -q
 *   tg_debug "tollgate: debug: ..."    with -v, as are libbpf's and libxdp's
 *                                      own messages
 */
#ifndef TG_LOG_H
#define TG_LOG_H

#include <stdarg.h>

enum tg_log_level { TG_LOG_ERR, TG_LOG_WARN, TG_LOG_INFO, TG_LOG_DEBUG };

void tg_log_set_level(enum tg_log_level level);
enum tg_log_level tg_log_get_level(void);
__attribute__((format(printf, 2, 3))) void tg_log(enum tg_log_level level, const char *fmt, ...);
void tg_vlog(enum tg_log_level level, const char *fmt, va_list ap);

#define tg_err(...) tg_log(TG_LOG_ERR, __VA_ARGS__)
#define tg_warn(...) tg_log(TG_LOG_WARN, __VA_ARGS__)
#define tg_info(...) tg_log(TG_LOG_INFO, __VA_ARGS__)
#define tg_debug(...) tg_log(TG_LOG_DEBUG, __VA_ARGS__)

/* A message of libbpf or libxdp, with the library's own level word: shown with -v. */
void tg_log_library(const char *library, const char *level, const char *fmt, va_list ap);

#endif
