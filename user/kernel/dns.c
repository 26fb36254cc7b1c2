// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Host names in policies, resolved with c-ares. A batch is asked all at once
 * on one channel under one deadline, so a dead resolver costs the batch
 * timeout once rather than once per name.
 *
 * Each name gets its own A and AAAA query (ares_query) rather than one
 * ares_getaddrinfo: ares_query never applies resolv.conf search domains nor
 * /etc/hosts (a firewall rule must not change meaning with the host's search
 * list, and hosts entries carry no TTL), each family keeps its own status,
 * and ares_parse_{a,aaaa}_reply give per-answer TTLs already clamped to the
 * TTLs of any CNAME chain in front of them.
 */
#include "kernel/dns.h"
#include "lib/hostport.h"
#include "lib/util.h"

#include <ares.h>
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DEFAULT_TIMEOUT_MS 3000
#define DNS_PORT 53

/* Smallest A / AAAA resource record on the wire: a compressed owner name
 * (2), type, class, TTL, rdlength (10) and the address. A reply of alen
 * bytes cannot hold more records of a family than alen divided by these. */
#define MIN_A_RR_LEN (12 + 4)
#define MIN_AAAA_RR_LEN (12 + 16)

struct batch {
	unsigned pending;  /* queries whose callback has not run yet */
	int cancel_status; /* what ARES_ECANCELLED means: why we cancelled */
};

struct name_query;

struct family_query {
	struct name_query *owner;
	bool v6;
	int status; /* 0 or a negative errno, as in struct tg_resolved */
};

struct name_query {
	struct batch *batch;
	struct family_query fam[2];	  /* [0] A, [1] AAAA */
	struct tg_host_addr_entry *addrs; /* every answer, unsorted */
	size_t naddrs, cap;
	uint32_t ttl;
	bool have_ttl;
};

const char *tg_resolve_status_name(int status)
{
	switch (status) {
	case 0:
		return "ok";
	case -ENOENT:
		return "nxdomain";
	case -ETIMEDOUT:
		return "timeout";
	default:
		return "error";
	}
}

/*
 * Validates the server spec ourselves: ares_set_servers_ports_csv in 1.18
 * takes any port text through strtol (so "x" becomes port 0) and an empty
 * string as "no servers", neither of which should pass silently.
 */
static int parse_server(const char *spec, struct ares_addr_port_node *node)
{
	struct tg_hostport hp;

	if (tg_parse_hostport(spec, &hp) || hp.family == AF_UNSPEC)
		return -EINVAL;
	memset(node, 0, sizeof(*node));
	node->family = hp.family;
	if (hp.family == AF_INET)
		memcpy(&node->addr.addr4, hp.addr, 4);
	else
		memcpy(&node->addr.addr6, hp.addr, 16);
	node->udp_port = node->tcp_port = hp.port ? hp.port : DNS_PORT;
	return 0;
}

static int errno_of_init(int ares_status)
{
	switch (ares_status) {
	case ARES_ENOMEM:
		return -ENOMEM;
	case ARES_EFILE: /* resolv.conf exists but cannot be read */
		return -ENOENT;
	default:
		return -EIO;
	}
}

/*
 * One try per server gets a quarter of the budget: c-ares doubles the wait
 * after each round of servers, so a lost datagram is still retried in time
 * instead of the resolv.conf default (5 s) outliving the whole batch.
 */
static int open_channel(const struct ares_addr_port_node *server, unsigned budget_ms, ares_channel *channel)
{
	struct ares_options o = { .timeout = (int)(budget_ms / 4 > 10 ? budget_ms / 4 : 10) };
	int rc = ares_init_options(channel, &o, ARES_OPT_TIMEOUTMS);

	if (rc != ARES_SUCCESS)
		return errno_of_init(rc);
	if (!server)
		return 0;
	/* The node is only read: c-ares copies the list. */
	rc = ares_set_servers_ports(*channel, (struct ares_addr_port_node *)server);
	if (rc != ARES_SUCCESS) {
		ares_destroy(*channel);
		return rc == ARES_ENOMEM ? -ENOMEM : -EINVAL;
	}
	return 0;
}

static int errno_of_query(const struct batch *b, int ares_status)
{
	switch (ares_status) {
	case ARES_SUCCESS:
	case ARES_ENODATA: /* the name exists without this family */
		return 0;
	case ARES_ENOTFOUND:
		return -ENOENT;
	case ARES_ETIMEOUT:
		return -ETIMEDOUT;
	case ARES_ECANCELLED:
		return b->cancel_status;
	default: /* SERVFAIL, REFUSED, ECONNREFUSED, a bad name or reply... */
		return -EIO;
	}
}

/* DNS TTLs with the top bit set are to be read as 0 (RFC 2181 8). */
static void add_addr(struct name_query *nq, bool v6, const void *addr, int ttl)
{
	struct tg_host_addr_entry e = { .v6 = v6 };
	uint32_t t = ttl > 0 ? (uint32_t)ttl : 0;

	memcpy(e.addr, addr, v6 ? 16 : 4);
	VEC_PUSH(nq->addrs, nq->naddrs, nq->cap, e);
	if (!nq->have_ttl || t < nq->ttl)
		nq->ttl = t;
	nq->have_ttl = true;
}

static int collect_v4(struct name_query *nq, const unsigned char *abuf, int alen)
{
	int n = alen / MIN_A_RR_LEN + 1;
	struct ares_addrttl *rr = xcalloc((size_t)n, sizeof(*rr));
	int rc = ares_parse_a_reply(abuf, alen, NULL, rr, &n);

	if (rc == ARES_SUCCESS)
		for (int i = 0; i < n; i++)
			add_addr(nq, false, &rr[i].ipaddr, rr[i].ttl);
	free(rr);
	return rc == ARES_SUCCESS || rc == ARES_ENODATA ? 0 : -EIO;
}

static int collect_v6(struct name_query *nq, const unsigned char *abuf, int alen)
{
	int n = alen / MIN_AAAA_RR_LEN + 1;
	struct ares_addr6ttl *rr = xcalloc((size_t)n, sizeof(*rr));
	int rc = ares_parse_aaaa_reply(abuf, alen, NULL, rr, &n);

	if (rc == ARES_SUCCESS)
		for (int i = 0; i < n; i++)
			add_addr(nq, true, &rr[i].ip6addr, rr[i].ttl);
	free(rr);
	return rc == ARES_SUCCESS || rc == ARES_ENODATA ? 0 : -EIO;
}

static void on_reply(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
	struct family_query *fq = arg;
	struct name_query *nq = fq->owner;

	(void)timeouts;
	if (status == ARES_SUCCESS)
		fq->status = fq->v6 ? collect_v6(nq, abuf, alen) : collect_v4(nq, abuf, alen);
	else
		fq->status = errno_of_query(nq->batch, status);
	nq->batch->pending--;
}

/* Callbacks may run inside ares_query (a bad name, no usable server), so
 * the query is counted before it is sent. */
static void send_queries(ares_channel channel, struct batch *b, struct name_query *nq, const char *name)
{
	nq->batch = b;
	for (int f = 0; f < 2; f++) {
		nq->fam[f] = (struct family_query){ .owner = nq, .v6 = f == 1, .status = -EIO };
		b->pending++;
		ares_query(channel, name, ns_c_in, f ? ns_t_aaaa : ns_t_a, on_reply, &nq->fam[f]);
	}
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* How long poll may sleep: until c-ares' next retry or our deadline.
 * Negative once the deadline has passed. */
static int next_wakeup_ms(ares_channel channel, int64_t deadline)
{
	int64_t left = deadline - now_ms();
	struct timeval max, tv, *tvp;

	if (left <= 0)
		return -1;
	max.tv_sec = left / 1000;
	max.tv_usec = (left % 1000) * 1000;
	tvp = ares_timeout(channel, &max, &tv);
	/* Rounded up: waking a little early would spin until the retry is due. */
	return (int)(tvp->tv_sec * 1000 + (tvp->tv_usec + 999) / 1000);
}

/*
 * ares_getsock rather than ares_fds: poll has no FD_SETSIZE ceiling. The
 * bits are tested unsigned: ARES_GETSOCK_WRITABLE(bits, 15) shifts an int
 * 1 by 31, which UBSan rightly rejects.
 */
static nfds_t poll_set(ares_channel channel, struct pollfd *pfd)
{
	ares_socket_t socks[ARES_GETSOCK_MAXNUM];
	unsigned bits = (unsigned)ares_getsock(channel, socks, ARES_GETSOCK_MAXNUM);
	nfds_t n = 0;

	for (unsigned i = 0; i < ARES_GETSOCK_MAXNUM; i++) {
		short events = (bits & (1u << i) ? POLLIN : 0) |
			       (bits & (1u << (i + ARES_GETSOCK_MAXNUM)) ? POLLOUT : 0);

		if (events)
			pfd[n++] = (struct pollfd){ .fd = socks[i], .events = events };
	}
	return n;
}

static void process_ready(ares_channel channel, const struct pollfd *pfd, nfds_t n, int ready)
{
	if (!ready) {
		/* Nothing to read: only retries and c-ares timeouts are due. */
		ares_process_fd(channel, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
		return;
	}
	for (nfds_t i = 0; i < n; i++) {
		/* Errors and hang-ups surface as a failed read inside c-ares. */
		bool rd = pfd[i].revents & (POLLIN | POLLERR | POLLHUP);
		bool wr = pfd[i].revents & POLLOUT;

		if (rd || wr)
			ares_process_fd(channel, rd ? pfd[i].fd : ARES_SOCKET_BAD, wr ? pfd[i].fd : ARES_SOCKET_BAD);
	}
}

/* Runs the channel until every query has called back or the deadline
 * passes; then the rest are cancelled, which runs their callbacks. */
static int run_channel(ares_channel channel, struct batch *b, int64_t deadline)
{
	while (b->pending) {
		struct pollfd pfd[ARES_GETSOCK_MAXNUM];
		nfds_t n = poll_set(channel, pfd);
		int ms = next_wakeup_ms(channel, deadline);
		int ready;

		if (ms < 0) {
			b->cancel_status = -ETIMEDOUT;
			ares_cancel(channel);
			return 0;
		}
		ready = poll(pfd, n, ms);
		if (ready < 0 && errno == EINTR)
			continue;
		if (ready < 0) {
			int err = -errno;

			b->cancel_status = -EIO;
			ares_cancel(channel);
			return err;
		}
		process_ready(channel, pfd, n, ready);
	}
	return 0;
}

/* The worse of two family statuses: an answer missing one family is not an
 * answer, and "no reply" is the least informative of all. */
static int worse_status(int a, int b)
{
	static const int order[] = { 0, -ENOENT, -EIO, -ETIMEDOUT };
	int ra = 2, rb = 2; /* anything unlisted ranks as -EIO */

	for (int i = 0; i < (int)ARRAY_SIZE(order); i++) {
		if (a == order[i])
			ra = i;
		if (b == order[i])
			rb = i;
	}
	return ra >= rb ? a : b;
}

/* v4 before v6, then bytewise (unused v4 bytes are zero). */
static int addr_cmp(const void *pa, const void *pb)
{
	const struct tg_host_addr_entry *a = pa, *b = pb;

	if (a->v6 != b->v6)
		return a->v6 ? 1 : -1;
	return memcmp(a->addr, b->addr, sizeof(a->addr));
}

/* Sorting all answers before truncating keeps the kept set independent of
 * the order (round-robin) the server answered in. */
static void finish_name(struct name_query *nq, struct tg_resolved *out)
{
	memset(out, 0, sizeof(*out));
	out->status = worse_status(nq->fam[0].status, nq->fam[1].status);
	if (out->status)
		return;
	if (nq->naddrs)
		qsort(nq->addrs, nq->naddrs, sizeof(*nq->addrs), addr_cmp);
	for (size_t i = 0; i < nq->naddrs && out->naddrs < TG_MAX_HOST_ADDRS; i++)
		if (!out->naddrs || addr_cmp(&out->addrs[out->naddrs - 1], &nq->addrs[i]))
			out->addrs[out->naddrs++] = nq->addrs[i];
	out->ttl = nq->have_ttl ? nq->ttl : 0;
}

static int resolve_on(ares_channel channel, unsigned budget_ms, const char *const *names, size_t n,
		      struct tg_resolved *out)
{
	struct name_query *nq = xcalloc(n, sizeof(*nq));
	struct batch b = { .cancel_status = -ETIMEDOUT };
	int64_t deadline = now_ms() + budget_ms;
	int err;

	for (size_t i = 0; i < n; i++)
		send_queries(channel, &b, &nq[i], names[i]);
	err = run_channel(channel, &b, deadline);
	for (size_t i = 0; i < n; i++) {
		finish_name(&nq[i], &out[i]);
		free(nq[i].addrs);
	}
	free(nq);
	return err;
}

/* A caller that ignores the return value still sees no addresses. */
static void fail_all(struct tg_resolved *out, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		memset(&out[i], 0, sizeof(out[i]));
		out[i].status = -EIO;
	}
}

int tg_resolve_names(const struct tg_resolver_opts *opts, const char *const *names, size_t n, struct tg_resolved *out)
{
	struct ares_addr_port_node server;
	unsigned budget_ms = opts && opts->timeout_ms ? opts->timeout_ms : DEFAULT_TIMEOUT_MS;
	ares_channel channel;
	int err = 0;

	if (opts && opts->server)
		err = parse_server(opts->server, &server);
	if (!err && ares_library_init(ARES_LIB_INIT_ALL) != ARES_SUCCESS)
		err = -ENOMEM;
	if (err) {
		fail_all(out, n);
		return err;
	}
	err = open_channel(opts && opts->server ? &server : NULL, budget_ms, &channel);
	if (!err) {
		err = resolve_on(channel, budget_ms, names, n, out);
		ares_destroy(channel);
	} else {
		fail_all(out, n);
	}
	ares_library_cleanup();
	return err;
}
