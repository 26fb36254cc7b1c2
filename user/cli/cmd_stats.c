// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* tollgate stats: counters of attached interfaces, once or every N seconds. */
#include "cli/apply.h"
#include "cli/cli.h"
#include "export/stats.h"
#include "lib/log.h"
#include "lib/util.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_IFACES 64

struct stats_args {
	bool help;
	const char *ifname;
	int format;
	unsigned watch;
	const char *textfile_dir;
};

static volatile sig_atomic_t stop_watching;

static void on_signal(int sig)
{
	(void)sig;
	stop_watching = 1;
}

static int read_all(const struct stats_args *a, struct tg_iface_stats *stats, int *n)
{
	char names[MAX_IFACES][IF_NAMESIZE];
	int count = a->ifname ? 1 : tg_list_attached(names, MAX_IFACES);

	if (count < 0)
		return count;
	if (a->ifname)
		snprintf(names[0], IF_NAMESIZE, "%s", a->ifname);
	*n = 0;
	for (int i = 0; i < count; i++) {
		int err = tg_read_stats(names[i], &stats[*n]);

		if (err && !a->ifname) {
			/* One broken interface must not hide the others. */
			if (err != -ENOENT) /* ENOENT: detached while we looked */
				tg_err("%s: cannot read its counters: %s\n", names[i], tg_strerror(err));
			continue;
		}
		if (err)
			return err;
		(*n)++;
	}
	return 0;
}

/* Temp file and rename: node_exporter never reads half a file. */
static int write_textfile(const char *dir, const struct tg_iface_stats *stats, int n)
{
	char tmp[4096], final[4096];
	FILE *f;
	int fd;

	snprintf(final, sizeof(final), "%s/tollgate.prom", dir);
	snprintf(tmp, sizeof(tmp), "%s/.tollgate.prom.XXXXXX", dir);
	fd = mkstemp(tmp);
	if (fd < 0)
		return -errno;
	fchmod(fd, 0644);
	f = fdopen(fd, "w");
	if (!f) {
		close(fd);
		unlink(tmp);
		return -errno;
	}
	tg_print_prometheus(f, stats, n);
	if (fflush(f) || fsync(fd) || fclose(f)) {
		unlink(tmp);
		return -EIO;
	}
	if (rename(tmp, final)) {
		int err = -errno;

		unlink(tmp);
		return err;
	}
	return 0;
}

static int emit(const struct stats_args *a, struct tg_iface_stats *now, int n, struct tg_iface_stats *prev, int nprev)
{
	if (a->textfile_dir) {
		int err = write_textfile(a->textfile_dir, now, n);

		if (err)
			tg_err("cannot write %s/tollgate.prom: %s\n", a->textfile_dir, tg_strerror(err));
		return err ? -ECANCELED : 0; /* reported here */
	}
	if (a->format == TG_STATS_PROMETHEUS)
		tg_print_prometheus(stdout, now, n);
	else if (a->format == TG_STATS_JSON)
		tg_print_stats_json(stdout, now, n);
	else if (n == 0)
		printf("no interface has tollgate attached\n");
	for (int i = 0; a->format == TG_STATS_TABLE && !a->textfile_dir && i < n; i++) {
		const struct tg_iface_stats *p = NULL;

		for (int k = 0; prev && k < nprev; k++)
			if (!strcmp(prev[k].ifname, now[i].ifname))
				p = &prev[k];
		tg_print_stats_table(stdout, &now[i], p);
	}
	if (a->format == TG_STATS_TABLE && n)
		tg_print_flows_table(stdout);
	fflush(stdout);
	return 0;
}

/* One output format: two would leave the reader guessing which one came. */
static int set_format(struct stats_args *a, int format)
{
	if (a->format != TG_STATS_TABLE && a->format != format) {
		tg_err("--json and --prometheus are two formats; give one\n");
		return TG_EXIT_USAGE;
	}
	a->format = format;
	return 0;
}

static int stats_option(void *ctx, int id, const char *arg)
{
	struct stats_args *a = ctx;

	switch (id) {
	case 'j':
	case 'p':
		return set_format(a, id == 'j' ? TG_STATS_JSON : TG_STATS_PROMETHEUS);
	case 't':
		a->textfile_dir = arg;
		return 0;
	default: /* 'w' */
		return tg_parse_seconds(arg, 1, 86400, &a->watch) ?
			       tg_bad_value("watch", "seconds from 1 to 86400", arg) :
			       0;
	}
}

static int parse_stats_args(const struct tg_command *cmd, int argc, char **argv, struct stats_args *a)
{
	struct tg_operands ops;
	int rc;

	memset(a, 0, sizeof(*a));
	rc = tg_parse_command(cmd, argc, argv, stats_option, a, &ops);
	a->help = ops.help;
	if (rc || ops.help)
		return rc;
	a->ifname = ops.n ? ops.v[0] : NULL;
	if (a->textfile_dir && a->format != TG_STATS_PROMETHEUS) {
		tg_err("--textfile writes the Prometheus format; add --prometheus\n");
		return TG_EXIT_USAGE;
	}
	return a->ifname ? tg_check_ifname(a->ifname) : 0;
}

static int run_stats(const struct tg_command *cmd, int argc, char **argv)
{
	struct tg_iface_stats *now = xcalloc(MAX_IFACES, sizeof(*now)), *prev = xcalloc(MAX_IFACES, sizeof(*prev));
	struct stats_args a;
	int n = 0, nprev = 0, rc, err;

	rc = parse_stats_args(cmd, argc, argv, &a);
	if (rc || a.help)
		goto out;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	for (bool first = true; first || (a.watch && !stop_watching); first = false) {
		err = read_all(&a, now, &n) ?: emit(&a, now, n, first ? NULL : prev, nprev);
		if (err == -ECANCELED) {
			rc = TG_EXIT_SYSTEM;
			goto out;
		}
		if (err) {
			rc = tg_report_state_error(a.ifname ? a.ifname : "stats", err);
			goto out;
		}
		memcpy(prev, now, (size_t)n * sizeof(*now));
		nprev = n;
		if (a.watch && !stop_watching) {
			struct timespec ts = { .tv_sec = a.watch };

			nanosleep(&ts, NULL);
			if (a.format == TG_STATS_TABLE && !a.textfile_dir)
				printf("\n");
		}
	}
	rc = TG_EXIT_OK;
out:
	free(now);
	free(prev);
	return rc;
}

static const struct tg_option stats_options[] = {
	{ "json", 'j', NULL, 0, "[--json | --prometheus [--textfile DIR]]", "print JSON" },
	{ "prometheus", 'p', NULL, TG_OPT_INNER, NULL, "print Prometheus' text format" },
	{ "textfile", 't', "DIR", TG_OPT_INNER, NULL,
	  "write DIR/tollgate.prom atomically, for node_exporter's textfile collector" },
	{ "watch", 'w', "SECONDS", 0, NULL, "again every SECONDS, with rates, until interrupted" },
	TG_OPT_END,
};

const struct tg_command tg_cmd_stats = {
	.name = "stats",
	.run = run_stats,
	.options = stats_options,
	.operands = "[IFACE]",
	.min_operands = 0,
	.max_operands = 1,
	.summary = "Prints the counters of every attached interface (or IFACE): per service and role, and per reason.",
};
