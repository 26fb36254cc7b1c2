/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef TG_POLICY_H
#define TG_POLICY_H

#include "policy/diag.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

enum tg_direction { TG_DIR_UNSET = -1, TG_DIR_IN = 0, TG_DIR_OUT = 1 };
enum tg_setting_action { TG_UNSET = -1, TG_DENY = 0, TG_ALLOW = 1 };

/* Protocols a service names; tcp, udp and sctp may be combined. */
enum tg_proto_bits {
	TG_P_TCP = 1u << 0,
	TG_P_UDP = 1u << 1,
	TG_P_SCTP = 1u << 2,
	TG_P_ICMP = 1u << 3,
	TG_P_ICMPV6 = 1u << 4,
	TG_P_ANY = 1u << 5,
	TG_P_NUMBER = 1u << 6, /* proto_number holds it */
};
#define TG_P_PORTED (TG_P_TCP | TG_P_UDP | TG_P_SCTP)
#define TG_P_TYPED (TG_P_ICMP | TG_P_ICMPV6)

/* Sets may refer to sets this many levels deep (a policy error beyond). */
#define TG_MAX_SET_DEPTH 32

enum tg_peer_kind { TG_PEER_V4, TG_PEER_V6, TG_PEER_HOST, TG_PEER_SET, TG_PEER_ANY };

struct tg_peer {
	uint8_t kind;
	uint8_t prefixlen;
	uint8_t addr[16]; /* network byte order; v4 uses the first 4 */
	struct tg_loc loc;
	char *name;  /* host name or set name */
	int32_t set; /* TG_PEER_SET: index into policy sets, after resolve */
};

struct tg_peer_list {
	struct tg_peer *items;
	size_t n, cap;
};

struct tg_set {
	char *name;
	struct tg_loc loc;
	struct tg_peer_list peers;
};

/* Ports (1-65535) or ICMP types (0-255), inclusive. */
struct tg_range {
	uint16_t lo, hi;
};

enum tg_prop {
	TG_PROP_DESCRIPTION,
	TG_PROP_DIRECTION,
	TG_PROP_PROTOCOL,
	TG_PROP_PORTS,
	TG_PROP_TYPES,
	TG_PROP_PEERS,
	TG_PROP_ACTION,
	TG_PROP_COUNTED_UNDER,
	TG_PROPS
};

struct tg_service {
	char *name;
	struct tg_loc loc;
	char *description;
	int direction;
	unsigned protos;
	uint8_t proto_number;
	struct tg_range *ranges; /* ports or types; none given: all */
	size_t nranges, ranges_cap;
	struct tg_peer_list peers;
	int action;
	char *counted_under; /* documents a row whose traffic an earlier service counts */
	struct tg_loc counted_under_loc;
	bool has[TG_PROPS];
	struct tg_loc prop_loc[TG_PROPS];
};

enum tg_setting {
	TG_SET_DEFAULT,
	TG_SET_NON_IP,
	TG_SET_MALFORMED,
	TG_SET_ESSENTIAL_ICMP,
	TG_SET_FRAGMENTS,
	TG_SET_REPLIES,	   /* enum tg_replies_mode */
	TG_SET_FLOW_TABLE, /* flows per opener (the size of each shared table) */
	/* Timeouts in seconds, in the order of enum tg_timeout. */
	TG_SET_TCP_SYN_TIMEOUT,
	TG_SET_TCP_ESTABLISHED_TIMEOUT,
	TG_SET_TCP_CLOSING_TIMEOUT,
	TG_SET_TCP_CLOSED_TIMEOUT,
	TG_SET_UDP_TIMEOUT,
	TG_SET_UDP_STREAM_TIMEOUT,
	TG_SET_ICMP_TIMEOUT,
	TG_SET_OTHER_TIMEOUT,
	TG_SETTINGS
};

#define TG_SET_TIMEOUT(t) (TG_SET_TCP_SYN_TIMEOUT + (t)) /* t: enum tg_timeout */

/* The values `flow-table` and the timeouts may take (docs/policy.md, "Settings"). */
#define TG_FLOW_TABLE_MIN 1024
#define TG_FLOW_TABLE_MAX 4194304
#define TG_TIMEOUT_MAX (30 * 24 * 3600) /* seconds: 30 days; the least is 1 second */

struct tg_policy {
	struct tg_set *sets;
	size_t nsets, sets_cap;
	struct tg_service *services;
	size_t nservices, services_cap;
	/* TG_SET_DEFAULT, NON_IP, MALFORMED: enum tg_setting_action;
	 * ESSENTIAL_ICMP: enum tg_icmp_mode; FRAGMENTS: enum tg_frag_mode;
	 * REPLIES: enum tg_replies_mode; FLOW_TABLE: flows; timeouts: seconds. */
	int setting[TG_SETTINGS];
	bool setting_given[TG_SETTINGS];
	bool setting_seen[TG_SETTINGS]; /* written, even with a bad value */
	struct tg_loc setting_loc[TG_SETTINGS];
	size_t nprefixes_v4, nprefixes_v6, nhosts;
	struct tg_loc end; /* end of the top file, for "missing" errors */
};

/*
 * Parses path (and what it includes) into pol, reporting through diags.
 * Returns 0, or -EINVAL when any error was reported (pol is then still
 * safe to free), or a negative errno when path cannot be read.
 */
int tg_policy_parse_file(struct tg_policy *pol, struct tg_diags *diags, const char *path);

/* Where a policy's files come from: the disk, or the files a policy was
 * loaded from, kept with the generation (snapshot.h). */
struct tg_source_reader {
	/* The real path of the file path names, or NULL with errno set. */
	char *(*resolve)(const struct tg_source_reader *r, const char *path);
	/* The file's bytes (the caller's, NUL-terminated); 0 or a negative errno. */
	int (*read)(const struct tg_source_reader *r, const char *path, const char *real, char **buf, size_t *len);
	const void *ctx;
};

/* tg_policy_parse_file() through reader. */
int tg_policy_parse_from(struct tg_policy *pol, struct tg_diags *diags, const char *path,
			 const struct tg_source_reader *reader);
/* Same, from memory (fuzzing, tests); includes are resolved against cwd. */
int tg_policy_parse_buffer(struct tg_policy *pol, struct tg_diags *diags, const char *name, const char *buf,
			   size_t len);
void tg_policy_free(struct tg_policy *pol);

const char *tg_setting_name(enum tg_setting s);
const char *tg_direction_name(int dir);
void tg_format_protocols(const struct tg_service *svc, char *buf, size_t size);
const char *tg_icmp_type_name(bool v6, unsigned type);
/* The type a name in a `types` list stands for, or -1. */
int tg_icmp_type_by_name(bool v6, const char *name);
/* The reply an ICMP request type gets (echo-request -> echo-reply), or -1. */
int tg_icmp_reply_type(bool v6, unsigned type);
void tg_format_prefix(const uint8_t *addr, unsigned prefixlen, bool v6, char *buf, size_t size);
/* ICMP types that `essential-icmp` lets through, by enum tg_family. */
bool tg_icmp_is_essential(int family, uint8_t type);
/* A host name as tollgate keeps it: lower case, without a trailing dot. */
void tg_normalize_host_name(char *name);
/* Whether name is one of names[0..n). */
bool tg_name_listed(const char *const *names, size_t n, const char *name);
/* The distinct host names a policy uses (sets and services, in that order);
 * returns how many. The caller frees *names (not the strings). */
size_t tg_policy_host_names(const struct tg_policy *pol, const char ***names);
/* Names of the data plane's enum tg_reason and enum tg_role (docs/metrics.md). */
const char *tg_reason_name(int reason);
const char *tg_role_name(int role);

#endif
