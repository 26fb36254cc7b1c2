// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * tg_resolve_names against a private dnsmasq on loopback: the test never
 * asks the system's resolver. dnsmasq serves example.test from a hosts file
 * we rewrite (and SIGHUP it to reload) and from --host-record lines; every
 * other name under example.test is NXDOMAIN (--local), and names elsewhere
 * are REFUSED (no upstream).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kernel/dns.h"

#define LOCAL_TTL 300 /* --local-ttl: answers from the hosts file */
#define RECORD_TTL 42 /* the TTL of the --host-record lines that give one */
#define BATCH 50
#define MANY 20 /* addresses of many.example.test, above TG_MAX_HOST_ADDRS */
#define READY_MS 5000

struct dnsmasq {
	char dir[64];
	char hosts[96];
	char log[96];
	char server[32];
	pid_t pid;
};

static struct dnsmasq dns;

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Polling interval of the readiness and reload loops, not a guess at how
 * long dnsmasq takes. */
static void short_pause(void)
{
	struct timespec ts = { .tv_nsec = 10 * 1000 * 1000 };

	nanosleep(&ts, NULL);
}

/* The hosts file; generation 1 is what the reload test switches to. */
static void write_hosts(int generation)
{
	char tmp[128];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", dns.hosts);
	f = fopen(tmp, "w");
	assert_non_null(f);
	fprintf(f, "192.0.2.1 v4.example.test\n"
		   "2001:db8::1 v6.example.test\n"
		   /* Out of order, with a duplicate, and 192.0.2.20 sorts after
		    * 192.0.2.3 only bytewise (not as text). */
		   "198.51.100.7 multi.example.test\n"
		   "192.0.2.20 multi.example.test\n"
		   "2001:db8::20 multi.example.test\n"
		   "192.0.2.3 multi.example.test\n"
		   "2001:db8::3 multi.example.test\n"
		   "192.0.2.3 multi.example.test\n"
		   "2001:db8::a mixed-ttl.example.test\n"
		   "2001:db8::100 many.example.test\n");
	for (int i = MANY - 1; i >= 0; i--)
		fprintf(f, "192.0.2.%d many.example.test\n", 100 + i);
	for (int i = 0; i < BATCH; i++)
		fprintf(f, "198.51.100.%d host%02d.example.test\n", i + 1, i);
	if (generation == 0)
		fprintf(f, "203.0.113.10 reload.example.test\n");
	else
		fprintf(f, "203.0.113.11 reload.example.test\n2001:db8::11 reload.example.test\n");
	assert_int_equal(fclose(f), 0);
	/* Atomic, so a reload never reads half a file. */
	assert_int_equal(rename(tmp, dns.hosts), 0);
}

/* A port nothing listens on right now (UDP and TCP, as dnsmasq needs both). */
static unsigned short free_port(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);
	int u = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int t = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	unsigned short port;

	assert_true(u >= 0 && t >= 0);
	assert_int_equal(bind(u, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(u, (struct sockaddr *)&sa, &len), 0);
	port = ntohs(sa.sin_port);
	if (bind(t, (struct sockaddr *)&sa, sizeof(sa)))
		port = 0;
	close(u);
	close(t);
	return port;
}

static void exec_dnsmasq(unsigned short port)
{
	char port_opt[32], hosts_opt[128], ttl_opt[32], rec1[96], rec2[96];
	int null = open("/dev/null", O_RDONLY);
	int log = open(dns.log, O_WRONLY | O_CREAT | O_APPEND, 0600);

	/* Dies with the test even if the test crashes before its teardown. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (null < 0 || log < 0 || dup2(null, 0) < 0 || dup2(log, 1) < 0 || dup2(log, 2) < 0)
		_exit(127);
	snprintf(port_opt, sizeof(port_opt), "--port=%u", port);
	snprintf(hosts_opt, sizeof(hosts_opt), "--addn-hosts=%s", dns.hosts);
	snprintf(ttl_opt, sizeof(ttl_opt), "--local-ttl=%d", LOCAL_TTL);
	snprintf(rec1, sizeof(rec1), "--host-record=ttl.example.test,203.0.113.5,2001:db8::5,%d", RECORD_TTL);
	snprintf(rec2, sizeof(rec2), "--host-record=mixed-ttl.example.test,192.0.2.50,%d", RECORD_TTL);
	execlp("dnsmasq", "dnsmasq", "--keep-in-foreground", "--conf-file=/dev/null", "--no-resolv", "--no-hosts",
	       "--user=root", "--pid-file", "--listen-address=127.0.0.1", "--bind-interfaces", port_opt,
	       "--local=/example.test/", ttl_opt, hosts_opt, rec1, rec2, "--txt-record=txt.example.test,hello",
	       "--log-facility=-", (char *)NULL);
	_exit(127);
}

/* Ready when it answers a name from the hosts file; false if it exited
 * (the port was taken meanwhile) or never answered. */
static bool wait_ready(void)
{
	struct tg_resolver_opts opts = { .server = dns.server, .timeout_ms = 200 };
	const char *name = "v4.example.test";
	long long deadline = now_ms() + READY_MS;
	struct tg_resolved r;

	while (now_ms() < deadline) {
		if (waitpid(dns.pid, NULL, WNOHANG) == dns.pid) {
			dns.pid = 0;
			return false;
		}
		if (!tg_resolve_names(&opts, &name, 1, &r) && r.status == 0 && r.naddrs == 1)
			return true;
		short_pause();
	}
	return false;
}

static bool start_dnsmasq(void)
{
	unsigned short port = free_port();

	if (!port)
		return false;
	snprintf(dns.server, sizeof(dns.server), "127.0.0.1:%u", port);
	dns.pid = fork();
	assert_true(dns.pid >= 0);
	if (dns.pid == 0)
		exec_dnsmasq(port);
	return wait_ready();
}

static void stop_dnsmasq(void)
{
	if (dns.pid > 0) {
		kill(dns.pid, SIGTERM);
		waitpid(dns.pid, NULL, 0);
	}
	dns.pid = 0;
}

static void dump_log(void)
{
	char buf[512];
	FILE *f = fopen(dns.log, "r");

	while (f && fgets(buf, sizeof(buf), f))
		fprintf(stderr, "dnsmasq: %s", buf);
	if (f)
		fclose(f);
}

static int group_setup(void **state)
{
	(void)state;
	strcpy(dns.dir, "/tmp/tg-resolve-XXXXXX");
	if (!mkdtemp(dns.dir))
		return -1;
	snprintf(dns.hosts, sizeof(dns.hosts), "%s/hosts", dns.dir);
	snprintf(dns.log, sizeof(dns.log), "%s/dnsmasq.log", dns.dir);
	write_hosts(0);
	/* Another process may take the free port before dnsmasq binds it. */
	for (int attempt = 0; attempt < 3; attempt++) {
		if (start_dnsmasq())
			return 0;
		stop_dnsmasq();
	}
	dump_log();
	return -1;
}

static int group_teardown(void **state)
{
	char tmp[128];

	(void)state;
	stop_dnsmasq();
	snprintf(tmp, sizeof(tmp), "%s.tmp", dns.hosts);
	unlink(tmp);
	unlink(dns.hosts);
	unlink(dns.log);
	rmdir(dns.dir);
	return 0;
}

static struct tg_resolved resolve_one(const char *name)
{
	struct tg_resolver_opts opts = { .server = dns.server };
	struct tg_resolved r;

	assert_int_equal(tg_resolve_names(&opts, &name, 1, &r), 0);
	return r;
}

static void assert_addr(const struct tg_host_addr_entry *e, const char *text)
{
	uint8_t want[16] = { 0 };
	bool v6 = strchr(text, ':') != NULL;

	assert_int_equal(inet_pton(v6 ? AF_INET6 : AF_INET, text, want), 1);
	assert_int_equal(e->v6, v6);
	assert_memory_equal(e->addr, want, sizeof(want));
}

static void a_only(void **state)
{
	struct tg_resolved r = resolve_one("v4.example.test");

	(void)state;
	assert_int_equal(r.status, 0);
	assert_int_equal(r.naddrs, 1);
	assert_addr(&r.addrs[0], "192.0.2.1");
	assert_int_equal(r.ttl, LOCAL_TTL);
}

static void aaaa_only(void **state)
{
	struct tg_resolved r = resolve_one("v6.example.test");

	(void)state;
	assert_int_equal(r.status, 0);
	assert_int_equal(r.naddrs, 1);
	assert_addr(&r.addrs[0], "2001:db8::1");
}

static void both_families_sorted_and_deduplicated(void **state)
{
	static const char *const want[] = { "192.0.2.3", "192.0.2.20", "198.51.100.7", "2001:db8::3", "2001:db8::20" };
	struct tg_resolved r = resolve_one("multi.example.test");

	(void)state;
	assert_int_equal(r.status, 0);
	assert_int_equal(r.naddrs, 5);
	for (unsigned i = 0; i < 5; i++)
		assert_addr(&r.addrs[i], want[i]);
}

static void trailing_dot_and_upper_case(void **state)
{
	struct tg_resolved r = resolve_one("MULTI.Example.TEST.");

	(void)state;
	assert_int_equal(r.status, 0);
	assert_int_equal(r.naddrs, 5);
	assert_addr(&r.addrs[0], "192.0.2.3");
	assert_addr(&r.addrs[4], "2001:db8::20");
}

static void ttl_of_host_record(void **state)
{
	struct tg_resolved r = resolve_one("ttl.example.test");

	(void)state;
	assert_int_equal(r.status, 0);
	assert_int_equal(r.naddrs, 2);
	assert_addr(&r.addrs[0], "203.0.113.5");
	assert_addr(&r.addrs[1], "2001:db8::5");
	assert_int_equal(r.ttl, RECORD_TTL);
}

/* A from a host-record (TTL 42), AAAA from the hosts file (300): the smaller. */
static void ttl_is_smallest_of_the_answers(void **state)
{
	struct tg_resolved r = resolve_one("mixed-ttl.example.test");

	(void)state;
	assert_int_equal(r.status, 0);
	assert_int_equal(r.naddrs, 2);
	assert_addr(&r.addrs[0], "192.0.2.50");
	assert_addr(&r.addrs[1], "2001:db8::a");
	assert_int_equal(r.ttl, RECORD_TTL);
}

/* v4 first, then the smallest: the v6 address and 4 v4 ones do not fit. */
static void at_most_max_addresses(void **state)
{
	struct tg_resolved r = resolve_one("many.example.test");
	char text[32];

	(void)state;
	assert_int_equal(r.status, 0);
	assert_int_equal(r.naddrs, TG_MAX_HOST_ADDRS);
	for (int i = 0; i < TG_MAX_HOST_ADDRS; i++) {
		snprintf(text, sizeof(text), "192.0.2.%d", 100 + i);
		assert_addr(&r.addrs[i], text);
	}
}

static void nxdomain(void **state)
{
	struct tg_resolved r = resolve_one("missing.example.test");

	(void)state;
	assert_int_equal(r.status, -ENOENT);
	assert_int_equal(r.naddrs, 0);
	assert_int_equal(r.ttl, 0);
	assert_string_equal(tg_resolve_status_name(r.status), "nxdomain");
}

/* The name exists (TXT) but has neither A nor AAAA. */
static void nodata_is_answered_without_addresses(void **state)
{
	struct tg_resolved r = resolve_one("txt.example.test");

	(void)state;
	assert_int_equal(r.status, 0);
	assert_int_equal(r.naddrs, 0);
	assert_int_equal(r.ttl, 0);
}

/* dnsmasq has no upstream for names outside example.test: REFUSED. */
static void refused_is_an_error(void **state)
{
	struct tg_resolved r = resolve_one("host.invalid");

	(void)state;
	assert_int_equal(r.status, -EIO);
	assert_int_equal(r.naddrs, 0);
	assert_string_equal(tg_resolve_status_name(r.status), "error");
}

static void statuses_are_per_name(void **state)
{
	const char *names[] = { "missing.example.test", "v4.example.test", "host.invalid", "v6.example.test." };
	struct tg_resolver_opts opts = { .server = dns.server };
	struct tg_resolved r[4];

	(void)state;
	assert_int_equal(tg_resolve_names(&opts, names, 4, r), 0);
	assert_int_equal(r[0].status, -ENOENT);
	assert_int_equal(r[1].status, 0);
	assert_addr(&r[1].addrs[0], "192.0.2.1");
	assert_int_equal(r[2].status, -EIO);
	assert_int_equal(r[3].status, 0);
	assert_addr(&r[3].addrs[0], "2001:db8::1");
}

static void batch_of_fifty(void **state)
{
	struct tg_resolver_opts opts = { .server = dns.server };
	char names[BATCH][32], text[32];
	const char *ptrs[BATCH];
	struct tg_resolved r[BATCH];

	(void)state;
	for (int i = 0; i < BATCH; i++) {
		snprintf(names[i], sizeof(names[i]), "host%02d.example.test", i);
		ptrs[i] = names[i];
	}
	assert_int_equal(tg_resolve_names(&opts, ptrs, BATCH, r), 0);
	for (int i = 0; i < BATCH; i++) {
		snprintf(text, sizeof(text), "198.51.100.%d", i + 1);
		assert_int_equal(r[i].status, 0);
		assert_int_equal(r[i].naddrs, 1);
		assert_addr(&r[i].addrs[0], text);
		assert_int_equal(r[i].ttl, LOCAL_TTL);
	}
}

static void empty_batch(void **state)
{
	struct tg_resolver_opts opts = { .server = dns.server };

	(void)state;
	assert_int_equal(tg_resolve_names(&opts, NULL, 0, NULL), 0);
}

/* A bound UDP socket that never reads: the queries go unanswered. */
static int silent_socket(int family, char *spec, size_t size)
{
	struct sockaddr_storage ss = { .ss_family = family };
	socklen_t len = sizeof(ss);
	int fd = socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (family == AF_INET)
		((struct sockaddr_in *)&ss)->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	else
		((struct sockaddr_in6 *)&ss)->sin6_addr = in6addr_loopback;
	if (fd < 0 || bind(fd, (struct sockaddr *)&ss,
			   family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6))) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	assert_int_equal(getsockname(fd, (struct sockaddr *)&ss, &len), 0);
	if (family == AF_INET)
		snprintf(spec, size, "127.0.0.1:%u", ntohs(((struct sockaddr_in *)&ss)->sin_port));
	else
		snprintf(spec, size, "[::1]:%u", ntohs(((struct sockaddr_in6 *)&ss)->sin6_port));
	return fd;
}

static void timeout(void **state)
{
	const char *names[] = { "v4.example.test", "v6.example.test" };
	char spec[64];
	int fd = silent_socket(AF_INET, spec, sizeof(spec));
	struct tg_resolver_opts opts = { .server = spec, .timeout_ms = 300 };
	struct tg_resolved r[2];
	long long start = now_ms(), took;

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(tg_resolve_names(&opts, names, 2, r), 0);
	took = now_ms() - start;
	close(fd);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(r[i].status, -ETIMEDOUT);
		assert_int_equal(r[i].naddrs, 0);
	}
	assert_string_equal(tg_resolve_status_name(r[0].status), "timeout");
	/* The deadline holds in both directions. */
	assert_true(took >= 290 && took < 1500);
}

/* "[V6]:PORT" reaches that address: proven by timing out on a silent ::1. */
static void bracketed_v6_server(void **state)
{
	const char *name = "v4.example.test";
	char spec[64];
	int fd = silent_socket(AF_INET6, spec, sizeof(spec));
	struct tg_resolver_opts opts = { .server = spec, .timeout_ms = 200 };
	struct tg_resolved r;

	(void)state;
	if (fd < 0)
		skip(); /* no IPv6 loopback here */
	assert_int_equal(tg_resolve_names(&opts, &name, 1, &r), 0);
	close(fd);
	assert_int_equal(r.status, -ETIMEDOUT);
}

/* Nothing bound: the kernel's ICMP port unreachable ends it early. */
static void connection_refused(void **state)
{
	const char *name = "v4.example.test";
	char spec[64];
	int fd = silent_socket(AF_INET, spec, sizeof(spec));
	struct tg_resolver_opts opts = { .server = spec, .timeout_ms = 2000 };
	struct tg_resolved r;
	long long start = now_ms();

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(tg_resolve_names(&opts, &name, 1, &r), 0);
	assert_int_equal(r.status, -EIO);
	assert_true(now_ms() - start < 1000);
}

static void bad_server_spec(void **state)
{
	static const char *const bad[] = { "",
					   "example.test",
					   "127.0.0.1:",
					   "127.0.0.1:0",
					   "127.0.0.1:65536",
					   "127.0.0.1:53x",
					   "127.0.0.1:+53",
					   "127.0.0.1: 53",
					   "[::1]x",
					   "[::1]:",
					   "[::1]53",
					   "[::1",
					   "::1]:53",
					   "[127.0.0.1]:53",
					   "256.0.0.1",
					   "1.2.3.4:53:53",
					   "[]:53",
					   "1.2.3.4,5.6.7.8" };
	const char *name = "v4.example.test";
	struct tg_resolved r;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct tg_resolver_opts opts = { .server = bad[i] };

		r.status = 12345;
		if (tg_resolve_names(&opts, &name, 1, &r) != -EINVAL)
			fail_msg("server \"%s\" accepted", bad[i]);
		assert_int_equal(r.status, -EIO);
	}
}

/* Specs that must be accepted; an empty batch sends nothing anywhere. */
static void good_server_specs(void **state)
{
	static const char *const good[] = { "127.0.0.1", "127.0.0.1:5353", "::1",
					    "[::1]",	 "[::1]:5353",	   "[2001:db8::53]:65535" };

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		struct tg_resolver_opts opts = { .server = good[i] };

		if (tg_resolve_names(&opts, NULL, 0, NULL))
			fail_msg("server \"%s\" refused", good[i]);
	}
}

/*
 * dnsmasq de-duplicates its own answers, so duplicates need a server of our
 * own: a child that answers every A query with 192.0.2.9 (TTL 100), 192.0.2.9
 * again (TTL 50) and 192.0.2.8 (TTL 70), and every AAAA query with rcode
 * aaaa_rcode and no answers (0: NODATA).
 */
static size_t fake_reply(const uint8_t *q, size_t qlen, uint8_t *r, int aaaa_rcode)
{
	static const uint8_t rr[3][16] = {
		{ 0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 100, 0, 4, 192, 0, 2, 9 },
		{ 0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 50, 0, 4, 192, 0, 2, 9 },
		{ 0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 70, 0, 4, 192, 0, 2, 8 },
	};
	size_t end = 12, len;
	bool aaaa;

	while (end < qlen && q[end])
		end += (size_t)q[end] + 1;
	end += 5; /* the root label, type and class */
	if (end > qlen)
		return 0;
	aaaa = q[end - 3] == 28;
	memcpy(r, q, end);
	r[2] = 0x84 | (q[2] & 1); /* QR, AA, RD echoed */
	r[3] = aaaa ? (uint8_t)aaaa_rcode : 0;
	memset(r + 6, 0, 6);
	r[7] = aaaa ? 0 : 3; /* ANCOUNT */
	len = end;
	for (int i = 0; !aaaa && i < 3; i++, len += 16)
		memcpy(r + len, rr[i], 16);
	return len;
}

static pid_t fake_server(int aaaa_rcode, char *spec, size_t size)
{
	int fd = silent_socket(AF_INET, spec, size);
	pid_t pid;

	assert_true(fd >= 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		uint8_t q[512], r[512 + 64];

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		for (;;) {
			struct sockaddr_storage from;
			socklen_t flen = sizeof(from);
			ssize_t n = recvfrom(fd, q, sizeof(q), 0, (struct sockaddr *)&from, &flen);
			size_t len = n > 12 ? fake_reply(q, (size_t)n, r, aaaa_rcode) : 0;

			if (len)
				sendto(fd, r, len, 0, (struct sockaddr *)&from, flen);
		}
	}
	/* Bound before the fork: queries wait in the socket, no readiness race. */
	close(fd);
	return pid;
}

static void stop_child(pid_t pid)
{
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
}

static void duplicate_answers_are_merged(void **state)
{
	const char *name = "dup.example.test";
	char spec[64];
	pid_t pid = fake_server(0, spec, sizeof(spec));
	struct tg_resolver_opts opts = { .server = spec };
	struct tg_resolved r;

	(void)state;
	assert_int_equal(tg_resolve_names(&opts, &name, 1, &r), 0);
	stop_child(pid);
	assert_int_equal(r.status, 0);
	assert_int_equal(r.naddrs, 2);
	assert_addr(&r.addrs[0], "192.0.2.8");
	assert_addr(&r.addrs[1], "192.0.2.9");
	assert_int_equal(r.ttl, 50);
}

/* A answered but AAAA SERVFAIL: half an answer is not "ok". */
static void one_family_failing_fails_the_name(void **state)
{
	const char *name = "dup.example.test";
	char spec[64];
	pid_t pid = fake_server(2, spec, sizeof(spec));
	struct tg_resolver_opts opts = { .server = spec };
	struct tg_resolved r;

	(void)state;
	assert_int_equal(tg_resolve_names(&opts, &name, 1, &r), 0);
	stop_child(pid);
	assert_int_equal(r.status, -EIO);
	assert_int_equal(r.naddrs, 0);
	assert_int_equal(r.ttl, 0);
}

/* The lead builds hostname refresh on this: the hosts file changes, dnsmasq
 * reloads on SIGHUP, and the next resolution sees the new answer. */
static void answers_change_after_reload(void **state)
{
	long long deadline;
	struct tg_resolved r = resolve_one("reload.example.test");

	(void)state;
	assert_int_equal(r.status, 0);
	assert_int_equal(r.naddrs, 1);
	assert_addr(&r.addrs[0], "203.0.113.10");

	write_hosts(1);
	assert_int_equal(kill(dns.pid, SIGHUP), 0);
	/* dnsmasq reloads asynchronously: poll until the answer changes. The
	 * A and AAAA queries can straddle the reload (old A with new AAAA), so
	 * wait for the whole new answer, not just two addresses. */
	deadline = now_ms() + READY_MS;
	do {
		r = resolve_one("reload.example.test");
		if (r.status == 0 && r.naddrs == 2 && r.addrs[0].addr[3] == 11)
			break;
		short_pause();
	} while (now_ms() < deadline);
	assert_int_equal(r.status, 0);
	assert_int_equal(r.naddrs, 2);
	assert_addr(&r.addrs[0], "203.0.113.11");
	assert_addr(&r.addrs[1], "2001:db8::11");
	assert_int_equal(r.ttl, LOCAL_TTL);
	/* The rest of the file came back too. */
	r = resolve_one("v4.example.test");
	assert_int_equal(r.status, 0);
	assert_addr(&r.addrs[0], "192.0.2.1");
}

static void status_names(void **state)
{
	(void)state;
	assert_string_equal(tg_resolve_status_name(0), "ok");
	assert_string_equal(tg_resolve_status_name(-ENOENT), "nxdomain");
	assert_string_equal(tg_resolve_status_name(-ETIMEDOUT), "timeout");
	assert_string_equal(tg_resolve_status_name(-EIO), "error");
	assert_string_equal(tg_resolve_status_name(-EPERM), "error");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(a_only),
		cmocka_unit_test(aaaa_only),
		cmocka_unit_test(both_families_sorted_and_deduplicated),
		cmocka_unit_test(trailing_dot_and_upper_case),
		cmocka_unit_test(ttl_of_host_record),
		cmocka_unit_test(ttl_is_smallest_of_the_answers),
		cmocka_unit_test(at_most_max_addresses),
		cmocka_unit_test(nxdomain),
		cmocka_unit_test(nodata_is_answered_without_addresses),
		cmocka_unit_test(refused_is_an_error),
		cmocka_unit_test(statuses_are_per_name),
		cmocka_unit_test(batch_of_fifty),
		cmocka_unit_test(empty_batch),
		cmocka_unit_test(timeout),
		cmocka_unit_test(bracketed_v6_server),
		cmocka_unit_test(connection_refused),
		cmocka_unit_test(bad_server_spec),
		cmocka_unit_test(good_server_specs),
		cmocka_unit_test(duplicate_answers_are_merged),
		cmocka_unit_test(one_family_failing_fails_the_name),
		cmocka_unit_test(answers_change_after_reload),
		cmocka_unit_test(status_names),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
