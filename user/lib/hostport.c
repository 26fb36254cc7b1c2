// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "lib/hostport.h"

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

/* Digits only, 1..65535: strtoul alone would take "+53", " 53" or "53x". */
static int parse_port(const char *text, uint16_t *port)
{
	unsigned long value = 0;

	if (!*text)
		return -EINVAL;
	for (const char *p = text; *p; p++) {
		if (*p < '0' || *p > '9')
			return -EINVAL;
		value = value * 10 + (unsigned long)(*p - '0');
		if (value > 65535)
			return -EINVAL;
	}
	if (!value)
		return -EINVAL;
	*port = (uint16_t)value;
	return 0;
}

/* Splits spec into host and port text (port NULL when absent); *bracketed
 * says the host must be IPv6. */
static int split(const char *spec, char *host, size_t host_size, const char **port, bool *bracketed)
{
	const char *start = spec, *end, *colon = strchr(spec, ':');

	*port = NULL;
	*bracketed = spec[0] == '[';
	if (*bracketed) {
		start = spec + 1;
		end = strchr(start, ']');
		if (!end || (end[1] && end[1] != ':'))
			return -EINVAL;
		if (end[1] == ':')
			*port = end + 2;
	} else if (colon && !strchr(colon + 1, ':')) {
		/* One colon: IPv4 (or nothing) with a port. Two or more: a bare IPv6. */
		end = colon;
		*port = colon + 1;
	} else {
		end = spec + strlen(spec);
	}
	if ((size_t)(end - start) >= host_size)
		return -EINVAL;
	memcpy(host, start, (size_t)(end - start));
	host[end - start] = '\0';
	return 0;
}

int tg_parse_hostport(const char *spec, struct tg_hostport *out)
{
	char host[INET6_ADDRSTRLEN];
	const char *port;
	bool bracketed;

	memset(out, 0, sizeof(*out));
	if (split(spec, host, sizeof(host), &port, &bracketed))
		return -EINVAL;
	if (port && parse_port(port, &out->port))
		return -EINVAL;
	if (!host[0])
		out->family = !bracketed && port ? AF_UNSPEC : -1;
	else if (!bracketed && inet_pton(AF_INET, host, out->addr) == 1)
		out->family = AF_INET;
	else if (inet_pton(AF_INET6, host, out->addr) == 1)
		out->family = AF_INET6;
	else
		out->family = -1;
	return out->family == -1 ? -EINVAL : 0;
}
