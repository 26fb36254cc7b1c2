// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Shared by attach, reload and dns (see apply.h). */
#include "cli/apply.h"
#include "cli/report.h"
#include "policy/snapshot.h"
#include "model/classify.h"
#include "kernel/switch.h"
#include "lib/log.h"
#include "lib/util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------- arguments */

static int parse_mode(const char *arg, int *mode)
{
	if (!strcmp(arg, "native"))
		*mode = TG_MODE_NATIVE;
	else if (!strcmp(arg, "skb"))
		*mode = TG_MODE_SKB;
	else
		return -EINVAL;
	return 0;
}

void tg_dns_defaults(struct tg_dns_opts *dns)
{
	memset(dns, 0, sizeof(*dns));
	dns->ttl_min = TG_DNS_TTL_MIN_DEFAULT;
	dns->ttl_max = TG_DNS_TTL_MAX_DEFAULT;
}

int tg_dns_option(int id, const char *arg, struct tg_dns_opts *dns)
{
	if (id == 'S') {
		dns->resolver.server = arg;
		return 0;
	}
	if (tg_parse_seconds(arg, 0, 86400, id == 'n' ? &dns->ttl_min : &dns->ttl_max)) {
		tg_err("--ttl-min and --ttl-max take seconds up to 86400, not '%s'\n", arg);
		return TG_EXIT_USAGE;
	}
	return 0;
}

static int policy_option(void *ctx, int id, const char *arg)
{
	struct tg_policy_args *a = ctx;

	switch (id) {
	case 'f':
		return tg_parse_facing(arg, &a->facing) ? tg_bad_value("facing", "inside or outside", arg) : 0;
	case 'm':
		return parse_mode(arg, &a->mode) ? tg_bad_value("mode", "native or skb", arg) : 0;
	case 'c':
		return tg_parse_seconds(arg, 1, 86400, &a->confirm_seconds) ?
			       tg_bad_value("confirm", "seconds from 1 to 86400", arg) :
			       0;
	case 'F':
		a->force = true;
		return 0;
	case 'D':
		a->dry_run = true;
		return 0;
	case 'H':
		return tg_host_option(&a->loaded->hosts, arg);
	default:
		return tg_dns_option(id, arg, &a->dns);
	}
}

int tg_parse_policy_args(const struct tg_command *cmd, int argc, char **argv, struct tg_loaded *l,
			 struct tg_policy_args *a, bool *help)
{
	struct tg_operands ops;
	int rc;

	memset(a, 0, sizeof(*a));
	a->loaded = l;
	a->facing = TG_FACING_OUTSIDE;
	tg_dns_defaults(&a->dns);
	rc = tg_parse_command(cmd, argc, argv, policy_option, a, &ops);
	*help = ops.help;
	if (rc || ops.help)
		return rc;
	a->ifname = ops.v[0];
	a->policy = ops.v[1];
	return tg_check_ifname(a->ifname);
}

/* ------------------------------------------------------------ policies */

void tg_hash_policy(const struct tg_diags *d, char out[TG_HASH_HEX])
{
	unsigned char digest[32];
	unsigned int len = 0;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();

	EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
	for (size_t i = 0; i < d->nsources; i++)
		EVP_DigestUpdate(ctx, d->sources[i].buf, d->sources[i].len);
	EVP_DigestFinal_ex(ctx, digest, &len);
	EVP_MD_CTX_free(ctx);
	for (unsigned i = 0; i < 32; i++)
		sprintf(out + 2 * i, "%02x", digest[i]);
}

void tg_describe_policy(const struct tg_loaded *l, const char *path, struct tg_policy_info *info)
{
	char *real = realpath(path, NULL);

	memset(info, 0, sizeof(*info));
	snprintf(info->path, sizeof(info->path), "%s", real ? real : path);
	free(real);
	tg_hash_policy(&l->diags, info->hash);
	info->nservices = (uint32_t)l->pol.nservices;
	info->loaded_ns = tg_realtime_ns();
}

/*
 * Brings the interface's host table up to date (fixed: the --host names of
 * this command, or NULL to keep the table's) and leaves in l->hosts the
 * addresses to compile with. DNS trouble is a warning: names keep what they
 * had and the rest of the policy loads.
 */
int tg_resolve_hosts(struct tg_loaded *l, struct tg_state *st, const struct tg_dns_opts *dns, bool use_fixed,
		     bool force, bool *changed)
{
	struct tg_hostmap fixed = l->hosts;
	int err = tg_hosts_refresh(st->hosts, &l->pol, use_fixed ? &fixed : NULL, dns, force, changed);

	if (err == -EINVAL) {
		tg_err("--dns-server takes ADDR, ADDR:PORT or [ADDR]:PORT, not '%s'\n", dns->resolver.server);
		tg_hostmap_free(&fixed);
		memset(&l->hosts, 0, sizeof(l->hosts));
		return TG_EXIT_USAGE;
	}
	if (err == -ENOSPC) {
		tg_err("%s: the policy names more than %d host names; tollgate follows at most %d per interface\n",
		       st->ifname, TG_MAX_HOSTS, TG_MAX_HOSTS);
		tg_hostmap_free(&fixed);
		memset(&l->hosts, 0, sizeof(l->hosts));
		return TG_EXIT_INPUT;
	}
	if (err)
		tg_warn("%s: cannot ask DNS (%s); host names keep their last known addresses\n", st->ifname,
			tg_strerror(err));
	tg_report_hosts(st->hosts, &l->pol, st->ifname);
	tg_hostmap_free(&fixed);
	tg_hosts_to_map(st->hosts, &l->hosts);
	return 0;
}

/* Parses, resolves host names and compiles; prints what went wrong and
 * returns an exit code. */
int tg_build_image(struct tg_loaded *l, struct tg_state *st, const char *path, int facing,
		   const struct tg_dns_opts *dns, struct tg_image *img)
{
	bool changed;
	int rc = tg_load_policy(l, path);

	if (!rc) {
		tg_warn_unused_hosts(l);
		rc = tg_resolve_hosts(l, st, dns, true, true, &changed);
	}
	if (rc)
		return rc;
	rc = tg_compile(&l->pol, facing, &l->hosts, img);
	if (rc) {
		tg_err("cannot compile '%s': %s\n", path, tg_strerror(rc));
		return TG_EXIT_INPUT;
	}
	return 0;
}

/* ----------------------------------------------------------- ssh guard */

static bool address_on_interface(const char *ifname, int family, const uint8_t *addr)
{
	struct ifaddrs *list, *i;
	bool found = false;

	if (getifaddrs(&list))
		return false;
	for (i = list; i && !found; i = i->ifa_next) {
		if (!i->ifa_addr || strcmp(i->ifa_name, ifname) || i->ifa_addr->sa_family != family)
			continue;
		if (family == AF_INET)
			found = !memcmp(&((struct sockaddr_in *)i->ifa_addr)->sin_addr, addr, 4);
		else
			found = !memcmp(&((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr, addr, 16);
	}
	freeifaddrs(list);
	return found;
}

/*
 * The SSH session this command runs in, if it arrives on this interface:
 * would the new policy still pass its packets? The reference classifier
 * answers without touching the live counters.
 */
int tg_ssh_guard(const struct tg_loaded *l, int facing, const char *ifname, bool force)
{
	const char *env = getenv("SSH_CONNECTION");
	char client[INET6_ADDRSTRLEN], server[INET6_ADDRSTRLEN];
	unsigned cport, sport;
	struct tg_pkt pkt = { .kind = TG_PKT_IP, .protocol = IPPROTO_TCP, .tcp_flags = TG_TCP_ACK };
	struct tg_decision d;
	int af;

	if (!env || sscanf(env, "%45s %u %45s %u", client, &cport, server, &sport) != 4)
		return 0;
	af = strchr(server, ':') ? AF_INET6 : AF_INET;
	if (inet_pton(af, client, pkt.src) != 1 || inet_pton(af, server, pkt.dst) != 1)
		return 0;
	if (!address_on_interface(ifname, af, pkt.dst))
		return 0;
	pkt.family = af == AF_INET6 ? TG_FAMILY_V6 : TG_FAMILY_V4;
	pkt.sport = (uint16_t)cport;
	pkt.dport = (uint16_t)sport;
	tg_reference_classify(&l->pol, &l->hosts, facing, &pkt, &d);
	if (d.verdict == TG_PASS)
		return 0;
	tg_err("%s: this policy would drop the SSH session you are using (%s port %u -> %s port %u)\n",
	       force ? "warning" : "refusing", client, cport, server, sport);
	if (force)
		return 0;
	tg_err("add a service that allows it, or pass --force if you mean it\n");
	return TG_EXIT_INPUT;
}

/* ------------------------------------------------------------ applying */

void tg_warn_snapshot(const char *ifname, int err)
{
	if (err)
		tg_warn("%s: the policy is in force, but its files could not be kept for 'tollgate show' (%s)\n",
			ifname, tg_strerror(err));
}

int tg_apply_image(struct tg_state *st, const struct tg_loaded *l, const char *path, unsigned confirm_seconds,
		   struct tg_image *img)
{
	struct tg_switch_request req = { .confirm_seconds = confirm_seconds };
	struct tg_switch_result res;
	uint32_t before = st->meta.generation;
	uint8_t *snapshot;
	int err;

	tg_describe_policy(l, path, &req.policy);
	tg_snapshot_encode(&l->diags, &snapshot, &req.snapshot_len);
	req.snapshot = snapshot;
	err = tg_switch_generation(st, img, &req, &res);
	free(snapshot);
	if (err == -ENOSPC)
		return tg_report_state_error(st->ifname, err);
	if (err && st->meta.generation != before) /* switched; only the bookkeeping after it failed */
		tg_err("%s: generation %u is in force, but recording it failed: %s\n", st->ifname, st->meta.generation,
		       tg_strerror(err));
	else if (err && err != -ENOLINK) /* ENOLINK: the loader said why */
		tg_err("%s: reload failed, the running policy is unchanged: %s\n", st->ifname, tg_strerror(err));
	if (err)
		return TG_EXIT_SYSTEM;
	tg_warn_snapshot(st->ifname, res.snapshot_err);
	if (tg_state_write_hosts(st))
		tg_warn("%s: generation %u is in force, but its host addresses could not be recorded; the next 'tollgate dns' asks again\n",
			st->ifname, res.generation);
	printf("%s: generation %u: policy %s, %u services (%u counters kept, %u new, %u retired)\n", st->ifname,
	       res.generation, st->meta.current.path, st->meta.current.nservices, res.kept, res.added, res.retired);
	if (confirm_seconds)
		printf("%s: rolls back to generation %u in %u s unless you run: tollgate confirm %s\n", st->ifname,
		       res.generation - 1, confirm_seconds, st->ifname);
	return TG_EXIT_OK;
}
