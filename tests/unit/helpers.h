/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Small helpers shared by the unit tests (header-only on purpose). */
#ifndef TG_TEST_HELPERS_H
#define TG_TEST_HELPERS_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "model/classify.h"
#include "compile/compile.h"
#include "policy/policy.h"

struct loaded {
	struct tg_diags diags;
	struct tg_policy pol;
	struct tg_hostmap hosts;
};

static inline int load_text(struct loaded *l, const char *text)
{
	memset(l, 0, sizeof(*l));
	tg_diags_init(&l->diags, NULL);
	return tg_policy_parse_buffer(&l->pol, &l->diags, "test.policy", text, strlen(text));
}

static inline int load_file(struct loaded *l, const char *path)
{
	memset(l, 0, sizeof(*l));
	tg_diags_init(&l->diags, NULL);
	return tg_policy_parse_file(&l->pol, &l->diags, path);
}

static inline void unload(struct loaded *l)
{
	tg_policy_free(&l->pol);
	tg_hostmap_free(&l->hosts);
	tg_diags_free(&l->diags);
}

static inline int service_index(const struct tg_policy *pol, const char *name)
{
	for (size_t i = 0; i < pol->nservices; i++)
		if (!strcmp(pol->services[i].name, name))
			return (int)i;
	return -1;
}

/* A parsed packet as the reference classifier sees it. */
static inline struct tg_pkt ip_packet(const char *src, const char *dst, uint8_t protocol, uint16_t sport,
				      uint16_t dport, uint8_t flags)
{
	struct tg_pkt p = {
		.kind = TG_PKT_IP, .protocol = protocol, .sport = sport, .dport = dport, .tcp_flags = flags
	};
	bool v6 = strchr(src, ':') != NULL;

	p.family = v6 ? TG_FAMILY_V6 : TG_FAMILY_V4;
	assert_int_equal(inet_pton(v6 ? AF_INET6 : AF_INET, src, p.src), 1);
	assert_int_equal(inet_pton(v6 ? AF_INET6 : AF_INET, dst, p.dst), 1);
	return p;
}

#endif
