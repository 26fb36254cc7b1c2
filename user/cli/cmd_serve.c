// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * tollgate serve: the Prometheus exporter. libmicrohttpd serves /metrics
 * from a small thread pool; every scrape reads the pinned maps afresh (with
 * each interface's lock), so nothing is cached and nothing is shared between
 * requests but the read-only configuration.
 */
#include "cli/apply.h"
#include "cli/cli.h"
#include "export/stats.h"
#include "lib/hostport.h"
#include "lib/log.h"
#include "lib/util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_SERVED 64
#define CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

struct exporter {
	int ninterfaces; /* 0: every attached interface, found at each scrape */
	char interfaces[MAX_SERVED][IF_NAMESIZE];
	struct sockaddr_storage listen;
	socklen_t listen_len;
};

/* ------------------------------------------------------------- listening */

/* "127.0.0.1:9731", "[::1]:9731", ":9731" (all addresses) or
 * "localhost:9731" (127.0.0.1, the name every unit file and guide uses; any
 * other name would need DNS at startup, which an exporter must not wait on). */
static int parse_listen(const char *arg, struct sockaddr_storage *ss, socklen_t *len)
{
	static const char localhost[] = "localhost:";
	struct tg_hostport hp;
	char spec[64];

	if (!strncmp(arg, localhost, sizeof(localhost) - 1)) {
		snprintf(spec, sizeof(spec), "127.0.0.1:%s", arg + sizeof(localhost) - 1);
		arg = spec;
	}
	if (tg_parse_hostport(arg, &hp) || !hp.port)
		return -EINVAL;
	memset(ss, 0, sizeof(*ss));
	if (hp.family == AF_INET6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;

		a->sin6_family = AF_INET6;
		a->sin6_port = htons(hp.port);
		memcpy(&a->sin6_addr, hp.addr, 16);
		*len = sizeof(*a);
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)ss;

		a->sin_family = AF_INET;
		a->sin_port = htons(hp.port);
		memcpy(&a->sin_addr, hp.addr, 4); /* zero for ":PORT": INADDR_ANY */
		*len = sizeof(*a);
	}
	return 0;
}

/* Our own socket, so a busy port is reported as such, then handed to MHD. */
static int open_listener(const struct sockaddr_storage *ss, socklen_t len)
{
	int one = 1, fd = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)ss, len) < 0 || listen(fd, 64) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

/* -------------------------------------------------------------- requests */

static int read_served(const struct exporter *ex, struct tg_iface_stats *stats, int *n)
{
	char found[MAX_SERVED][IF_NAMESIZE];
	int count = ex->ninterfaces ? ex->ninterfaces : tg_list_attached(found, MAX_SERVED);

	*n = 0;
	if (count < 0)
		return count; /* not root: an empty 200 would look like "nothing attached" */
	for (int i = 0; i < count; i++) {
		const char *name = ex->ninterfaces ? ex->interfaces[i] : found[i];
		int err = tg_read_stats(name, &stats[*n]);

		if (err == -ENOENT)
			continue; /* detached since: its series simply stop */
		if (err == -EACCES || err == -EPERM)
			return err;
		if (err) {
			/* One broken interface must not blind monitoring of the others. */
			tg_err("%s: cannot read its counters: %s\n", name, tg_strerror(err));
			continue;
		}
		(*n)++;
	}
	return 0;
}

static enum MHD_Result respond(struct MHD_Connection *conn, unsigned status, char *body, size_t len, const char *type)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	enum MHD_Result ret;

	if (!r) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	/* RFC 9110 15.5.6: a 405 says which methods would do. */
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result respond_text(struct MHD_Connection *conn, unsigned status, const char *text)
{
	return respond(conn, status, xstrdup(text), strlen(text), "text/plain; charset=utf-8");
}

static enum MHD_Result serve_metrics(const struct exporter *ex, struct MHD_Connection *conn)
{
	struct tg_iface_stats *stats = xcalloc(MAX_SERVED, sizeof(*stats));
	char *body = NULL;
	size_t len = 0;
	FILE *out;
	int n, err;

	err = read_served(ex, stats, &n);
	if (err) {
		char msg[256];

		free(stats);
		snprintf(msg, sizeof(msg), "tollgate: cannot read counters: %s%s\n", tg_strerror(err),
			 err == -EACCES || err == -EPERM ? "; the exporter must run as root" : "");
		return respond_text(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, msg);
	}
	out = open_memstream(&body, &len);
	if (!out) {
		free(stats);
		return respond_text(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "tollgate: out of memory\n");
	}
	tg_print_prometheus(out, stats, n);
	fclose(out);
	free(stats);
	return respond(conn, MHD_HTTP_OK, body, len, CONTENT_TYPE);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
				  const char *version, const char *upload, size_t *upload_size, void **state)
{
	(void)version;
	(void)upload;
	(void)state;
	if (*upload_size)
		return MHD_NO;
	if (strcmp(method, "GET") && strcmp(method, "HEAD"))
		return respond_text(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "GET /metrics\n");
	if (!strcmp(url, "/metrics"))
		return serve_metrics(cls, conn);
	if (!strcmp(url, "/"))
		return respond(conn, MHD_HTTP_OK,
			       xstrdup("<html><head><title>tollgate</title></head><body><a href=\"/metrics\">metrics</a></body></html>\n"),
			       strlen("<html><head><title>tollgate</title></head><body><a href=\"/metrics\">metrics</a></body></html>\n"),
			       "text/html; charset=utf-8");
	return respond_text(conn, MHD_HTTP_NOT_FOUND, "not found: tollgate serves /metrics\n");
}

/* libmicrohttpd's own messages are about single connections (a client that
 * hung up, a bad request line): the client hears about its request, the
 * operator only with -v. */
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	(void)cls;
	tg_log_library("libmicrohttpd", "debug", fmt, ap);
}

/* ------------------------------------------------------------------ main */

struct serve_args {
	const char *listen;
};

static int serve_option(void *ctx, int id, const char *arg)
{
	struct serve_args *a = ctx;

	(void)id;
	a->listen = arg;
	return 0;
}

static int parse_serve_args(const struct tg_command *cmd, int argc, char **argv, struct serve_args *a,
			    struct exporter *ex, bool *help)
{
	struct tg_operands ops;
	int rc;

	a->listen = "127.0.0.1:9731";
	rc = tg_parse_command(cmd, argc, argv, serve_option, a, &ops);
	*help = ops.help;
	if (rc || ops.help)
		return rc;
	if (ops.n > MAX_SERVED) {
		tg_err("serve follows at most %d interfaces\n", MAX_SERVED);
		return TG_EXIT_USAGE;
	}
	for (int i = 0; i < ops.n; i++) {
		rc = tg_check_ifname(ops.v[i]);
		if (rc)
			return rc;
		snprintf(ex->interfaces[ex->ninterfaces++], IF_NAMESIZE, "%s", ops.v[i]);
	}
	if (parse_listen(a->listen, &ex->listen, &ex->listen_len)) {
		tg_err("--listen takes ADDR:PORT ([ADDR]:PORT for IPv6, localhost:PORT), not '%s'\n", a->listen);
		return TG_EXIT_USAGE;
	}
	return 0;
}

/* Named interfaces must have tollgate when we start; later they may come and go. */
static int check_interfaces(const struct exporter *ex)
{
	if (tg_bpffs_check()) {
		tg_err("bpffs is not mounted at /sys/fs/bpf; mount it with: mount -t bpf bpf /sys/fs/bpf\n");
		return TG_EXIT_SYSTEM;
	}
	if (ex->ninterfaces && access(TG_PIN_ROOT, X_OK) < 0 && (errno == EACCES || errno == EPERM))
		return tg_report_state_error(ex->interfaces[0], -EACCES);
	for (int i = 0; i < ex->ninterfaces; i++)
		if (!tg_state_exists(ex->interfaces[i])) {
			tg_err("%s has no tollgate attached (see 'tollgate status')\n", ex->interfaces[i]);
			return TG_EXIT_INPUT;
		}
	return 0;
}

static int serve(const struct exporter *ex, const char *listen_arg)
{
	struct MHD_Daemon *d;
	sigset_t set;
	int fd, sig;

	fd = open_listener(&ex->listen, ex->listen_len);
	if (fd < 0) {
		tg_err("cannot listen on %s: %s%s\n", listen_arg, tg_strerror(fd),
		       fd == -EADDRINUSE ? " (another process has that port; pick another with --listen)" : "");
		return TG_EXIT_SYSTEM;
	}
	/* Block the signals before MHD starts its threads, so only sigwait sees them. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, 0, NULL, NULL, on_request, (void *)ex,
			     MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL, MHD_OPTION_LISTEN_SOCKET, fd,
			     MHD_OPTION_THREAD_POOL_SIZE, 2u, MHD_OPTION_CONNECTION_TIMEOUT, 10u, MHD_OPTION_END);
	if (!d) {
		close(fd);
		tg_err("cannot start the HTTP server on %s\n", listen_arg);
		return TG_EXIT_SYSTEM;
	}
	printf("tollgate: serving /metrics on %s\n", listen_arg);
	fflush(stdout);
	sigwait(&set, &sig);
	MHD_stop_daemon(d);
	close(fd);
	printf("tollgate: stopped (signal %d)\n", sig);
	return TG_EXIT_OK;
}

static int run_serve(const struct tg_command *cmd, int argc, char **argv)
{
	struct exporter *ex = xcalloc(1, sizeof(*ex));
	struct serve_args a;
	bool help;
	int rc = parse_serve_args(cmd, argc, argv, &a, ex, &help);

	if (!rc && !help)
		rc = check_interfaces(ex) ?: serve(ex, a.listen);
	free(ex);
	return rc;
}

static const struct tg_option serve_options[] = {
	{ "listen", 'l', "ADDR:PORT", 0, NULL,
	  "where to serve /metrics (default 127.0.0.1:9731; [ADDR]:PORT for IPv6; localhost:PORT)" },
	TG_OPT_END,
};

const struct tg_command tg_cmd_serve = {
	.name = "serve",
	.run = run_serve,
	.options = serve_options,
	.operands = "[IFACE]...",
	.min_operands = 0,
	.max_operands = -1,
	.summary = "Serves the counters of every attached interface (or each IFACE) to Prometheus at /metrics.",
};
