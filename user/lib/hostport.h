/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* "ADDR", "ADDR:PORT", "[V6]", "[V6]:PORT", a bare V6, or ":PORT": one parser
 * for --dns-server and --listen. */
#ifndef TG_HOSTPORT_H
#define TG_HOSTPORT_H

#include <stdbool.h>
#include <stdint.h>

struct tg_hostport {
	int family;	  /* AF_INET, AF_INET6, or AF_UNSPEC for ":PORT" (no address) */
	uint8_t addr[16]; /* network order; IPv4 in the first 4 */
	uint16_t port;	  /* host order; 0 when none was given */
};

/* Returns 0 or -EINVAL. Ports are digits only, 1 to 65535. */
int tg_parse_hostport(const char *spec, struct tg_hostport *out);

#endif
