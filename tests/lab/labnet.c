// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * labnet: the sockets of tollgate's lab and end-to-end tests.
 *
 *   labnet serve tcp|udp PORT [--report FILE] [--echo]
 *       TCP: accept and drain connections. UDP: count datagrams, and with
 *       --echo send each one back to its sender. On SIGTERM (or SIGUSR1,
 *       without exiting) writes "datagrams N bytes B" to FILE.
 *   labnet connect HOST PORT [--timeout MS]
 *       Exit 0 connected, 1 timed out, 2 refused or unreachable.
 *   labnet send HOST PORT --count N [--rate PPS] [--size BYTES] [--from ADDR] [--sport N]
 *       UDP datagrams, paced, from ADDR and port N if given; prints how many
 *       were sent. --sport 0 with --count N sends from N different ports.
 *   labnet ask HOST PORT [--from ADDR] [--sport N] [--expect N] [--timeout MS]
 *       One UDP request, then wait for N replies (default 1) from HOST PORT:
 *       exit 0 when they came, 1 when the time ran out. Prints "replies N".
 *   labnet tcpflags HOST PORT --sport N --flags [SAFRP]+ [--from ADDR] [--wait MS]
 *       One raw TCP segment (IPv4) with the given flags, from port N; with
 *       --wait, exit 0 if HOST PORT answers (prints its flags), 1 if not.
 *   labnet stream HOST PORT --seconds S
 *       One TCP connection sending for S seconds; exit 0 if it survived.
 *
 * Addresses are whatever the test gives; labnet never picks a destination.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/tcp.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t stop, report_now;

static void on_term(int sig)
{
	(void)sig;
	stop = 1;
}

static void on_usr1(int sig)
{
	(void)sig;
	report_now = 1;
}

static const char *option(int argc, char **argv, const char *name, const char *fallback)
{
	for (int i = 0; i + 1 < argc; i++)
		if (!strcmp(argv[i], name))
			return argv[i + 1];
	return fallback;
}

static int has_flag(int argc, char **argv, const char *name)
{
	for (int i = 0; i < argc; i++)
		if (!strcmp(argv[i], name))
			return 1;
	return 0;
}

static int resolve(const char *host, const char *port, int type, struct addrinfo **out)
{
	struct addrinfo hints = { .ai_socktype = type, .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV };
	int err = getaddrinfo(host, port, &hints, out);

	if (err)
		fprintf(stderr, "labnet: %s port %s: %s\n", host, port, gai_strerror(err));
	return err ? -1 : 0;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---------------------------------------------------------------- serve */

static void write_report(const char *path, unsigned long long datagrams, unsigned long long bytes)
{
	char tmp[4096];
	FILE *f;

	if (!path)
		return;
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f)
		return;
	fprintf(f, "datagrams %llu bytes %llu\n", datagrams, bytes);
	fclose(f);
	rename(tmp, path);
}

static int listen_socket(int type, const char *port)
{
	struct sockaddr_in6 addr = { .sin6_family = AF_INET6, .sin6_port = htons((uint16_t)atoi(port)) };
	int one = 1, zero = 0, big = 8 << 20;
	int fd = socket(AF_INET6, type, 0);

	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
	/* SO_RCVBUF is capped by net.core.rmem_max (208 KiB by default): a
	 * receiver that a busy machine stalls for a fraction of a second would
	 * then lose datagrams that tollgate passed. The lab runs as root. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big)))
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) || (type == SOCK_STREAM && listen(fd, 64))) {
		perror("labnet: bind");
		close(fd);
		return -1;
	}
	return fd;
}

static int serve(const char *proto, const char *port, const char *report, int echo)
{
	int type = !strcmp(proto, "udp") ? SOCK_DGRAM : SOCK_STREAM;
	int fd = listen_socket(type, port);
	struct pollfd fds[64];
	int nfds = 1;
	unsigned long long datagrams = 0, bytes = 0;
	static char buf[65536];

	if (fd < 0)
		return 1;
	fds[0] = (struct pollfd){ .fd = fd, .events = POLLIN };
	while (!stop) {
		if (report_now) {
			report_now = 0;
			write_report(report, datagrams, bytes);
		}
		if (poll(fds, (nfds_t)nfds, 200) <= 0)
			continue;
		for (int i = 0; i < nfds; i++) {
			ssize_t got;

			if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			if (i == 0 && type == SOCK_STREAM) {
				int c = accept(fd, NULL, NULL);

				if (c >= 0 && nfds < 64)
					fds[nfds++] = (struct pollfd){ .fd = c, .events = POLLIN };
				else if (c >= 0)
					close(c);
				continue;
			}
			struct sockaddr_storage peer;
			socklen_t plen = sizeof(peer);

			got = recvfrom(fds[i].fd, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&peer, &plen);
			if (got > 0) {
				bytes += (unsigned long long)got;
				datagrams++;
				if (echo && type == SOCK_DGRAM)
					sendto(fd, buf, (size_t)got, 0, (struct sockaddr *)&peer, plen);
			} else if (got == 0 || (errno != EAGAIN && errno != EINTR)) {
				close(fds[i].fd);
				fds[i--] = fds[--nfds];
			}
		}
	}
	/* Drain what is queued, so a report counts every datagram that arrived. */
	while (type == SOCK_DGRAM) {
		ssize_t got = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);

		if (got < 0)
			break;
		bytes += (unsigned long long)got;
		datagrams++;
	}
	write_report(report, datagrams, bytes);
	printf("datagrams %llu bytes %llu\n", datagrams, bytes);
	return 0;
}

/* -------------------------------------------------------------- connect */

static int connect_with_timeout(struct addrinfo *ai, int timeout_ms)
{
	int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK, 0), err = 0;
	socklen_t len = sizeof(err);
	struct pollfd p;

	if (fd < 0)
		return -errno;
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
		return fd;
	if (errno != EINPROGRESS) {
		err = -errno;
		close(fd);
		return err;
	}
	p = (struct pollfd){ .fd = fd, .events = POLLOUT };
	if (poll(&p, 1, timeout_ms) != 1) {
		close(fd);
		return -ETIMEDOUT;
	}
	getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
	if (err) {
		close(fd);
		return -err;
	}
	return fd;
}

static int do_connect(const char *host, const char *port, int timeout_ms)
{
	struct addrinfo *ai;
	int fd;

	if (resolve(host, port, SOCK_STREAM, &ai))
		return 2;
	fd = connect_with_timeout(ai, timeout_ms);
	freeaddrinfo(ai);
	if (fd >= 0) {
		printf("connected\n");
		close(fd);
		return 0;
	}
	printf("%s\n", fd == -ETIMEDOUT ? "timed out" : strerror(-fd));
	return fd == -ETIMEDOUT ? 1 : 2;
}

/* ----------------------------------------------------------------- send */

/* Sends from a chosen local address and port, so that one host can play
 * several peers, or a server answering from its well-known port (a socket
 * of `serve` may hold that port already: SO_REUSEADDR shares it). */
static int bind_source(int fd, int family, const char *from, int sport)
{
	struct addrinfo *ai;
	char port[12];
	int err, one = 1;

	if (!from && sport <= 0)
		return 0;
	snprintf(port, sizeof(port), "%d", sport > 0 ? sport : 0);
	if (resolve(from ? from : (family == AF_INET6 ? "::" : "0.0.0.0"), port, SOCK_DGRAM, &ai))
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	err = ai->ai_family == family ? bind(fd, ai->ai_addr, ai->ai_addrlen) : -1;
	freeaddrinfo(ai);
	if (err)
		perror("labnet: --from/--sport");
	return err;
}

/* A UDP socket to HOST PORT, bound as asked; -1 on failure. */
static int udp_socket(struct addrinfo *ai, const char *from, int sport)
{
	int fd = socket(ai->ai_family, SOCK_DGRAM, 0);

	if (fd < 0 || bind_source(fd, ai->ai_family, from, sport) || connect(fd, ai->ai_addr, ai->ai_addrlen)) {
		perror("labnet: udp socket");
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* --sport 0: every datagram from its own socket and port, 20000 up, so
 * that N datagrams are N flows; past 40000 of them the destination port
 * goes up by one. */
static int spread_socket(struct addrinfo *ai, const char *from, long i)
{
	struct sockaddr_storage to;
	struct addrinfo one = *ai;
	uint16_t *port;

	memcpy(&to, ai->ai_addr, ai->ai_addrlen);
	port = to.ss_family == AF_INET6 ? &((struct sockaddr_in6 *)&to)->sin6_port :
					  &((struct sockaddr_in *)&to)->sin_port;
	*port = htons((uint16_t)(ntohs(*port) + i / 40000));
	one.ai_addr = (struct sockaddr *)&to;
	return udp_socket(&one, from, (int)(20000 + i % 40000));
}

static int do_send(const char *host, const char *port, long count, double rate, size_t size, const char *from,
		   int sport)
{
	struct addrinfo *ai;
	static char payload[65507];
	double start = now_s();
	long sent = 0;
	int fd = -1;

	if (resolve(host, port, SOCK_DGRAM, &ai))
		return 2;
	if (sport != 0 && (fd = udp_socket(ai, from, sport)) < 0)
		return 2;
	for (; sent < count && !stop; sent++) {
		if (sport == 0 && (fd = spread_socket(ai, from, sent)) < 0)
			break;
		errno = 0;
		memcpy(payload, &sent, sizeof(sent)); /* a sequence number */
		while (rate > 0 && now_s() - start < (double)sent / rate)
			;
		/* A port-unreachable from the peer surfaces as ECONNREFUSED on the
		 * next send, which then sends nothing: send that datagram again. */
		while (send(fd, payload, size, 0) < 0 && errno == ECONNREFUSED)
			;
		if (errno && errno != ECONNREFUSED && errno != EAGAIN) {
			perror("labnet: send");
			break;
		}
		if (sport == 0) {
			close(fd);
			fd = -1;
		}
	}
	printf("sent %ld\n", sent);
	freeaddrinfo(ai);
	if (fd >= 0)
		close(fd);
	return sent == count ? 0 : 1;
}

/* ------------------------------------------------------------------ ask */

static int do_ask(const char *host, const char *port, const char *from, int sport, long expect, int timeout_ms)
{
	struct addrinfo *ai;
	char buf[2048] = "labnet ask";
	double deadline = now_s() + timeout_ms / 1000.0;
	long replies = 0;
	int fd;

	if (resolve(host, port, SOCK_DGRAM, &ai))
		return 2;
	fd = udp_socket(ai, from, sport);
	freeaddrinfo(ai);
	if (fd < 0)
		return 2;
	if (send(fd, buf, strlen(buf), 0) < 0) {
		perror("labnet: ask");
		close(fd);
		return 2;
	}
	while (replies < expect && !stop) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		double left = deadline - now_s();

		if (left <= 0 || poll(&p, 1, (int)(left * 1000) + 1) < 0)
			break;
		/* connect() makes the socket take datagrams from HOST PORT only. */
		if ((p.revents & POLLIN) && recv(fd, buf, sizeof(buf), MSG_DONTWAIT) >= 0)
			replies++;
	}
	close(fd);
	printf("replies %ld\n", replies);
	return replies >= expect ? 0 : 1;
}

/* ------------------------------------------------------------- tcpflags */

static uint16_t checksum(const void *data, size_t len, uint32_t sum)
{
	const uint8_t *b = data;

	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(b[i] << 8 | b[i + 1]);
	if (len & 1)
		sum += (uint32_t)(b[len - 1] << 8);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static int parse_flags(const char *s)
{
	static const char names[] = "FSRPAU"; /* the bit order of the TCP header */
	int flags = 0;

	for (; *s; s++) {
		const char *at = strchr(names, *s);

		if (!at)
			return -1;
		flags |= 1 << (at - names);
	}
	return flags;
}

/* A crafted TCP segment through a raw socket: the kernel adds the IPv4
 * header; the TCP header, checksum included, is ours. */
static int do_tcpflags(const char *host, const char *port, const char *from, int sport, const char *flag_str,
		       int wait_ms)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(port)) };
	struct sockaddr_in src = { .sin_family = AF_INET };
	socklen_t len = sizeof(src);
	struct tcphdr th = { 0 };
	struct {
		uint32_t src, dst;
		uint8_t zero, proto;
		uint16_t len;
	} __attribute__((packed)) pseudo;
	double deadline = now_s() + wait_ms / 1000.0;
	int flags = parse_flags(flag_str), fd, probe;
	uint32_t sum = 0;

	if (inet_pton(AF_INET, host, &to.sin_addr) != 1 || flags < 0 || sport <= 0) {
		fprintf(stderr, "labnet: tcpflags needs an IPv4 HOST, --sport N and --flags of FSRPAU\n");
		return 2;
	}
	/* The source address: --from, else the one the route to HOST picks. */
	probe = socket(AF_INET, SOCK_DGRAM, 0);
	if (from ? inet_pton(AF_INET, from, &src.sin_addr) != 1 :
		   connect(probe, (struct sockaddr *)&to, sizeof(to)) ||
			    getsockname(probe, (struct sockaddr *)&src, &len)) {
		fprintf(stderr, "labnet: no source address for %s\n", host);
		close(probe);
		return 2;
	}
	close(probe);
	fd = socket(AF_INET, SOCK_RAW, IPPROTO_TCP);
	if (fd < 0 || (from && bind(fd, (struct sockaddr *)&src, sizeof(src)))) {
		perror("labnet: raw socket");
		return 2;
	}
	th.source = htons((uint16_t)sport);
	th.dest = to.sin_port;
	th.seq = htonl(0x1000);
	th.ack_seq = htonl(flags & 0x10 ? 0x2000 : 0);
	th.doff = sizeof(th) / 4;
	((uint8_t *)&th)[13] = (uint8_t)flags;
	th.window = htons(65535);
	pseudo = (typeof(pseudo)){ src.sin_addr.s_addr, to.sin_addr.s_addr, 0, IPPROTO_TCP, htons(sizeof(th)) };
	for (size_t i = 0; i < sizeof(pseudo); i += 2)
		sum += (uint32_t)(((uint8_t *)&pseudo)[i] << 8 | ((uint8_t *)&pseudo)[i + 1]);
	th.check = htons(checksum(&th, sizeof(th), sum));
	if (sendto(fd, &th, sizeof(th), 0, (struct sockaddr *)&to, sizeof(to)) < 0) {
		perror("labnet: tcpflags");
		close(fd);
		return 2;
	}
	printf("sent %s\n", flag_str);
	/* The raw socket sees every TCP segment that arrives: look for HOST's answer. */
	while (wait_ms > 0) {
		uint8_t pkt[1500];
		struct pollfd p = { .fd = fd, .events = POLLIN };
		double left = deadline - now_s();
		const struct iphdr *ip = (const void *)pkt;
		const struct tcphdr *reply;
		ssize_t n;

		if (left <= 0 || poll(&p, 1, (int)(left * 1000) + 1) <= 0)
			break;
		n = recv(fd, pkt, sizeof(pkt), 0);
		if (n < (ssize_t)sizeof(*ip) || n < (ssize_t)(ip->ihl * 4 + sizeof(*reply)))
			continue;
		reply = (const void *)(pkt + ip->ihl * 4);
		if (ip->saddr != to.sin_addr.s_addr || reply->source != th.dest || reply->dest != th.source)
			continue;
		printf("answer flags 0x%02x%s\n", ((const uint8_t *)reply)[13], reply->rst ? " (RST)" : "");
		close(fd);
		return 0;
	}
	close(fd);
	if (wait_ms > 0)
		printf("no answer\n");
	return wait_ms > 0 ? 1 : 0;
}

/* --------------------------------------------------------------- stream */

static int do_stream(const char *host, const char *port, double seconds)
{
	struct addrinfo *ai;
	static char chunk[16384];
	unsigned long long total = 0;
	double start = now_s();
	int fd;

	if (resolve(host, port, SOCK_STREAM, &ai))
		return 2;
	fd = connect_with_timeout(ai, 2000);
	freeaddrinfo(ai);
	if (fd < 0) {
		printf("connect failed: %s\n", strerror(-fd));
		return 2;
	}
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	while (now_s() - start < seconds && !stop) {
		ssize_t n = send(fd, chunk, sizeof(chunk), MSG_NOSIGNAL);

		if (n < 0) {
			printf("stream broke after %llu bytes: %s\n", total, strerror(errno));
			return 1;
		}
		total += (unsigned long long)n;
	}
	close(fd);
	printf("streamed %llu bytes in %.1f s\n", total, now_s() - start);
	return 0;
}

int main(int argc, char **argv)
{
	signal(SIGTERM, on_term);
	signal(SIGINT, on_term);
	signal(SIGUSR1, on_usr1);
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc >= 4 && !strcmp(argv[1], "serve"))
		return serve(argv[2], argv[3], option(argc, argv, "--report", NULL), has_flag(argc, argv, "--echo"));
	if (argc >= 4 && !strcmp(argv[1], "connect"))
		return do_connect(argv[2], argv[3], atoi(option(argc, argv, "--timeout", "1000")));
	if (argc >= 4 && !strcmp(argv[1], "send"))
		return do_send(argv[2], argv[3], atol(option(argc, argv, "--count", "1")),
			       atof(option(argc, argv, "--rate", "0")),
			       (size_t)atol(option(argc, argv, "--size", "64")), option(argc, argv, "--from", NULL),
			       atoi(option(argc, argv, "--sport", "-1")));
	if (argc >= 4 && !strcmp(argv[1], "ask"))
		return do_ask(argv[2], argv[3], option(argc, argv, "--from", NULL),
			      atoi(option(argc, argv, "--sport", "-1")), atol(option(argc, argv, "--expect", "1")),
			      atoi(option(argc, argv, "--timeout", "1000")));
	if (argc >= 4 && !strcmp(argv[1], "tcpflags"))
		return do_tcpflags(argv[2], argv[3], option(argc, argv, "--from", NULL),
				   atoi(option(argc, argv, "--sport", "0")), option(argc, argv, "--flags", "A"),
				   atoi(option(argc, argv, "--wait", "0")));
	if (argc >= 4 && !strcmp(argv[1], "stream"))
		return do_stream(argv[2], argv[3], atof(option(argc, argv, "--seconds", "5")));
	fprintf(stderr,
		"usage: labnet serve tcp|udp PORT [--report FILE] | connect HOST PORT [--timeout MS] |\n"
		"       send HOST PORT --count N [--rate PPS] [--size B] [--from ADDR] [--sport N] |\n"
		"       ask HOST PORT [--from ADDR] [--sport N] [--expect N] [--timeout MS] |\n"
		"       tcpflags HOST PORT --sport N --flags [FSRPAU]+ [--from ADDR] [--wait MS] | stream HOST PORT --seconds S\n");
	return 2;
}
