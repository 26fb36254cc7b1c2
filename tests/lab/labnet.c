// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * labnet: the sockets of tollgate's lab and end-to-end tests.
 *
 *   labnet serve tcp|udp PORT [--report FILE]
 *       TCP: accept and drain connections. UDP: count datagrams. On SIGTERM
 *       (or SIGUSR1, without exiting) writes "datagrams N bytes B" to FILE.
 *   labnet connect HOST PORT [--timeout MS]
 *       Exit 0 connected, 1 timed out, 2 refused or unreachable.
 *   labnet send HOST PORT --count N [--rate PPS] [--size BYTES] [--from ADDR]
 *       UDP datagrams, paced, from ADDR if given; prints how many were sent.
 *   labnet stream HOST PORT --seconds S
 *       One TCP connection sending for S seconds; exit 0 if it survived.
 *
 * Addresses are whatever the test gives; labnet never picks a destination.
 */
#include <arpa/inet.h>
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

static int serve(const char *proto, const char *port, const char *report)
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
			got = recv(fds[i].fd, buf, sizeof(buf), MSG_DONTWAIT);
			if (got > 0) {
				bytes += (unsigned long long)got;
				datagrams++;
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

/* Sends from a chosen local address, so that one host can play several peers. */
static int bind_source(int fd, int family, const char *from)
{
	struct addrinfo *ai;
	int err;

	if (!from)
		return 0;
	if (resolve(from, "0", SOCK_DGRAM, &ai))
		return -1;
	err = ai->ai_family == family ? bind(fd, ai->ai_addr, ai->ai_addrlen) : -1;
	freeaddrinfo(ai);
	if (err)
		perror("labnet: --from");
	return err;
}

static int do_send(const char *host, const char *port, long count, double rate, size_t size, const char *from)
{
	struct addrinfo *ai;
	static char payload[65507];
	double start = now_s();
	long sent = 0;
	int fd;

	if (resolve(host, port, SOCK_DGRAM, &ai))
		return 2;
	fd = socket(ai->ai_family, SOCK_DGRAM, 0);
	if (fd < 0 || bind_source(fd, ai->ai_family, from) || connect(fd, ai->ai_addr, ai->ai_addrlen)) {
		perror("labnet: send");
		return 2;
	}
	for (; sent < count && !stop; sent++) {
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
	}
	printf("sent %ld\n", sent);
	freeaddrinfo(ai);
	close(fd);
	return sent == count ? 0 : 1;
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
		return serve(argv[2], argv[3], option(argc, argv, "--report", NULL));
	if (argc >= 4 && !strcmp(argv[1], "connect"))
		return do_connect(argv[2], argv[3], atoi(option(argc, argv, "--timeout", "1000")));
	if (argc >= 4 && !strcmp(argv[1], "send"))
		return do_send(argv[2], argv[3], atol(option(argc, argv, "--count", "1")),
			       atof(option(argc, argv, "--rate", "0")),
			       (size_t)atol(option(argc, argv, "--size", "64")), option(argc, argv, "--from", NULL));
	if (argc >= 4 && !strcmp(argv[1], "stream"))
		return do_stream(argv[2], argv[3], atof(option(argc, argv, "--seconds", "5")));
	fprintf(stderr,
		"usage: labnet serve tcp|udp PORT [--report FILE] | connect HOST PORT [--timeout MS] |\n"
		"       send HOST PORT --count N [--rate PPS] [--size B] [--from ADDR] | stream HOST PORT --seconds S\n");
	return 2;
}
