// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * attach, reload, confirm, detach, status: tollgate on real interfaces.
 * Every command takes the interface's lock, finishes or forgets a reload that
 * a crash interrupted, and then works only from the pinned state.
 */
#include "classify.h"
#include "cli.h"
#include "dataplane.h"
#include "hosts.h"
#include "state.h"
#include "stats.h"
#include "util.h"
#include "entry.skel.h"

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <dirent.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <openssl/evp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <xdp/libxdp.h>

#define ENTRY_NAME "tollgate_entry"

struct attach_args {
	const char *ifname;
	const char *policy;
	int facing;
	int mode;
	unsigned confirm_seconds;
	bool force;
	struct tg_dns_opts dns;
};

/* ------------------------------------------------------------ messages */

/* The state errors a user can act on, with what to do. */
static void report_state_error(const char *ifname, int err)
{
	switch (-err) {
	case ENOENT:
		fprintf(stderr, "tollgate: %s has no tollgate attached (see 'tollgate status')\n", ifname);
		break;
	case ENOTDIR:
		fprintf(stderr, "tollgate: bpffs is not mounted at /sys/fs/bpf; mount it with: mount -t bpf bpf /sys/fs/bpf\n");
		break;
	case ENODEV:
		fprintf(stderr, "tollgate: no network interface named '%s' (see 'ip link')\n", ifname);
		break;
	case EEXIST:
		fprintf(stderr, "tollgate: %s already has tollgate attached; change its policy with 'tollgate reload %s POLICY'\n",
			ifname, ifname);
		break;
	case ENOSPC:
		fprintf(stderr, "tollgate: %s has no free counter slot (%d are in use across generations); detach and attach again to reset them\n",
			ifname, TG_MAX_COUNTER_SLOTS);
		break;
	case EPROTO:
		fprintf(stderr, "tollgate: the state pinned for %s was written by another version of tollgate; detach with that version first\n",
			ifname);
		break;
	default:
		fprintf(stderr, "tollgate: %s: %s\n", ifname, tg_strerror(err));
	}
}

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

static void dns_defaults(struct tg_dns_opts *dns)
{
	memset(dns, 0, sizeof(*dns));
	dns->ttl_min = TG_DNS_TTL_MIN_DEFAULT;
	dns->ttl_max = TG_DNS_TTL_MAX_DEFAULT;
}

/* --dns-server, --ttl-min, --ttl-max; -ENOENT when c is none of them. */
static int parse_dns_option(int c, const char *arg, struct tg_dns_opts *dns)
{
	unsigned long v;
	char *end;

	if (c == 'S') {
		dns->resolver.server = arg;
		return 0;
	}
	if (c != 'n' && c != 'x')
		return -ENOENT;
	v = strtoul(arg, &end, 10);
	if (*end || v > 86400) {
		fprintf(stderr, "tollgate: --ttl-min and --ttl-max take seconds up to 86400, not '%s'\n", arg);
		exit(TG_EXIT_USAGE);
	}
	*(c == 'n' ? &dns->ttl_min : &dns->ttl_max) = (unsigned)v;
	return 0;
}

static int parse_attach_args(int argc, char **argv, const char *usage, bool reload, struct tg_loaded *l,
			     struct attach_args *a)
{
	static const struct option opts[] = {
		{ "facing", required_argument, NULL, 'f' }, { "mode", required_argument, NULL, 'm' },
		{ "confirm", required_argument, NULL, 'c' }, { "force", no_argument, NULL, 'F' },
		{ "host", required_argument, NULL, 'H' },   { "help", no_argument, NULL, 'h' },
		{ "dns-server", required_argument, NULL, 'S' }, { "ttl-min", required_argument, NULL, 'n' },
		{ "ttl-max", required_argument, NULL, 'x' },
		{ 0 },
	};
	int c;

	memset(a, 0, sizeof(*a));
	a->facing = -1;
	dns_defaults(&a->dns);
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		char *end;

		if (c == 'f' && !reload && !tg_parse_facing(optarg, &a->facing))
			continue;
		if (c == 'm' && !reload && !parse_mode(optarg, &a->mode))
			continue;
		if (c == 'c' && reload) {
			unsigned long v = strtoul(optarg, &end, 10);

			if (*end || v == 0 || v > 86400) {
				fprintf(stderr, "tollgate: --confirm takes seconds from 1 to 86400, not '%s'\n", optarg);
				return TG_EXIT_USAGE;
			}
			a->confirm_seconds = (unsigned)v;
			continue;
		}
		if (c == 'F') {
			a->force = true;
			continue;
		}
		if (c == 'H' && !tg_hostmap_add_spec(&l->hosts, optarg))
			continue;
		if (parse_dns_option(c, optarg, &a->dns) == 0)
			continue;
		if (c == 'h') {
			printf("usage: tollgate %s\n", usage);
			exit(TG_EXIT_OK);
		}
		fprintf(stderr, "usage: tollgate %s\n", usage);
		return TG_EXIT_USAGE;
	}
	if (optind != argc - 2) {
		fprintf(stderr, "usage: tollgate %s\n", usage);
		return TG_EXIT_USAGE;
	}
	a->ifname = argv[optind];
	a->policy = argv[optind + 1];
	if (strlen(a->ifname) >= IF_NAMESIZE || strchr(a->ifname, '/')) {
		fprintf(stderr, "tollgate: '%s' is not an interface name\n", a->ifname);
		return TG_EXIT_USAGE;
	}
	return 0;
}

/* ------------------------------------------------------------ policies */

static void hash_policy(const struct tg_diags *d, char out[TG_HASH_HEX])
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

static void describe_policy(const struct tg_loaded *l, const char *path, struct tg_policy_info *info)
{
	char *real = realpath(path, NULL);

	memset(info, 0, sizeof(*info));
	snprintf(info->path, sizeof(info->path), "%s", real ? real : path);
	free(real);
	hash_policy(&l->diags, info->hash);
	info->nservices = (uint32_t)l->pol.nservices;
	info->loaded_ns = tg_realtime_ns();
}

/*
 * Brings the interface's host table up to date (fixed: the --host names of
 * this command, or NULL to keep the table's) and leaves in l->hosts the
 * addresses to compile with. DNS trouble is a warning: names keep what they
 * had and the rest of the policy loads.
 */
static int resolve_hosts(struct tg_loaded *l, struct tg_state *st, const struct tg_dns_opts *dns, bool use_fixed,
			 bool force, bool *changed)
{
	struct tg_hostmap fixed = l->hosts;
	int err = tg_hosts_refresh(st->hosts, &l->pol, use_fixed ? &fixed : NULL, dns, force, changed);

	if (err == -EINVAL) {
		fprintf(stderr, "tollgate: --dns-server takes ADDR, ADDR:PORT or [ADDR]:PORT, not '%s'\n",
			dns->resolver.server);
		tg_hostmap_free(&fixed);
		memset(&l->hosts, 0, sizeof(l->hosts));
		return TG_EXIT_USAGE;
	}
	if (err == -ENOSPC) {
		fprintf(stderr, "tollgate: %s: the policy names more than %d host names; tollgate follows at most %d per interface\n",
			st->ifname, TG_MAX_HOSTS, TG_MAX_HOSTS);
		tg_hostmap_free(&fixed);
		memset(&l->hosts, 0, sizeof(l->hosts));
		return TG_EXIT_INPUT;
	}
	if (err)
		fprintf(stderr, "tollgate: warning: %s: cannot ask DNS (%s); host names keep their last known addresses\n",
			st->ifname, tg_strerror(err));
	tg_hosts_report(st->hosts, &l->pol, st->ifname);
	tg_hostmap_free(&fixed);
	tg_hosts_to_map(st->hosts, &l->hosts);
	return 0;
}

/* Parses, resolves host names and compiles; prints what went wrong and
 * returns an exit code. */
static int build_image(struct tg_loaded *l, struct tg_state *st, const char *path, int facing,
		       const struct tg_dns_opts *dns, struct tg_image *img)
{
	bool changed;
	int rc = tg_load_policy(l, path);

	if (!rc)
		rc = resolve_hosts(l, st, dns, true, true, &changed);
	if (rc)
		return rc;
	rc = tg_compile(&l->pol, facing, &l->hosts, img, NULL);
	if (rc) {
		fprintf(stderr, "tollgate: cannot compile '%s': %s\n", path, tg_strerror(rc));
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
static int ssh_guard(const struct tg_loaded *l, int facing, const char *ifname, bool force)
{
	const char *env = getenv("SSH_CONNECTION");
	char client[INET6_ADDRSTRLEN], server[INET6_ADDRSTRLEN];
	unsigned cport, sport;
	struct tg_pkt pkt = { .kind = TG_PKT_IP, .protocol = 6, .tcp_flags = TG_TCP_ACK };
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
	fprintf(stderr, "tollgate: %s: this policy would drop the SSH session you are using (%s port %u -> %s port %u)\n",
		force ? "warning" : "refusing", client, cport, server, sport);
	if (force)
		return 0;
	fprintf(stderr, "tollgate: add a service that allows it, or pass --force if you mean it\n");
	return TG_EXIT_INPUT;
}

/* ------------------------------------------------------------ loading */

static int load_policy_program(struct tg_state *st, const struct tg_image *img, struct tg_dataplane *dp)
{
	struct tg_load_opts opts = { .service_counters_fd = st->service_counters_fd,
				     .reason_counters_fd = st->reason_counters_fd };
	int err = tg_dataplane_load(dp, img, &opts);

	if (err)
		tg_report_load_error(err, opts.log);
	free(opts.log);
	return err;
}

/* ------------------------------------------------------------- attach */

static int create_state_maps(struct tg_state *st)
{
	LIBBPF_OPTS(bpf_map_create_opts, none);

	st->meta_fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "tg_meta", 4, sizeof(struct tg_meta), 1, &none);
	st->slots_fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "tg_slots", 4, sizeof(struct tg_slot), TG_MAX_COUNTER_SLOTS,
				      &none);
	st->prog_array_fd = bpf_map_create(BPF_MAP_TYPE_PROG_ARRAY, "tg_policy_prog", 4, 4, 1, &none);
	st->service_counters_fd = bpf_map_create(BPF_MAP_TYPE_PERCPU_ARRAY, "tg_svc_counters", 4,
						 sizeof(struct tg_service_counters), TG_MAX_COUNTER_SLOTS, &none);
	st->reason_counters_fd = bpf_map_create(BPF_MAP_TYPE_PERCPU_ARRAY, "tg_rsn_counters", 4,
						sizeof(struct tg_reason_counters), TG_REASONS, &none);
	st->hosts_fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "tg_hosts", 4, sizeof(struct tg_host_state), TG_MAX_HOSTS,
				      &none);
	if (st->meta_fd < 0 || st->slots_fd < 0 || st->prog_array_fd < 0 || st->service_counters_fd < 0 ||
	    st->reason_counters_fd < 0 || st->hosts_fd < 0)
		return -errno;
	return 0;
}

static int pin_state(struct tg_state *st, int policy_fd)
{
	return tg_state_pin(st, st->meta_fd, TG_PIN_META) ?: tg_state_pin(st, st->slots_fd, TG_PIN_SLOTS) ?:
	       tg_state_pin(st, st->prog_array_fd, TG_PIN_PROG_ARRAY) ?:
	       tg_state_pin(st, st->service_counters_fd, TG_PIN_SERVICE_COUNTERS) ?:
	       tg_state_pin(st, st->reason_counters_fd, TG_PIN_REASON_COUNTERS) ?:
	       tg_state_pin(st, st->hosts_fd, TG_PIN_HOSTS) ?: tg_state_pin(st, policy_fd, TG_PIN_POLICY);
}

static void name_slots(struct tg_state *st, const struct tg_image *img)
{
	for (uint32_t s = 0; s < img->nservices; s++) {
		snprintf(st->slots[s].name, sizeof(st->slots[s].name), "%s", img->services[s].name);
		st->slots[s].added = 1;
		st->slots[s].retired = 0;
	}
}

static void describe_existing_xdp(int ifindex, char *buf, size_t size)
{
	struct xdp_multiprog *mp = xdp_multiprog__get_from_ifindex(ifindex);
	struct xdp_program *p;

	snprintf(buf, size, "an XDP program");
	if (!mp || libxdp_get_error(mp))
		return;
	p = xdp_multiprog__main_prog(mp);
	if (p)
		snprintf(buf, size, "the XDP program '%s' (id %u)", xdp_program__name(p), xdp_program__id(p));
	xdp_multiprog__close(mp);
}

static int report_attach_error(int err, const char *ifname, int ifindex, int mode)
{
	char what[128];

	switch (-err) {
	case EEXIST:
	case EBUSY:
		describe_existing_xdp(ifindex, what, sizeof(what));
		fprintf(stderr,
			"tollgate: %s already runs %s that libxdp cannot share it with (sharing needs libxdp's dispatcher on both sides and a kernel that allows freplace); tollgate leaves it alone: detach it first if tollgate should take over\n",
			ifname, what);
		break;
	case EOPNOTSUPP:
		fprintf(stderr, "tollgate: %s cannot run XDP in %s mode%s\n", ifname,
			mode == TG_MODE_NATIVE ? "native" : "skb",
			mode == TG_MODE_NATIVE ? "; its driver has no native XDP: use --mode skb (generic XDP, slower)" : "");
		break;
	default:
		fprintf(stderr, "tollgate: cannot attach to %s: %s\n", ifname, tg_strerror(err));
	}
	return TG_EXIT_SYSTEM;
}

static int attach_entry(struct tg_state *st, int ifindex, int mode, struct entry **out)
{
	struct entry *e = entry__open();
	struct xdp_program *xp;
	int err;

	if (!e)
		return -errno;
	err = bpf_map__reuse_fd(e->maps.policy_prog, st->prog_array_fd) ?:
	      bpf_map__reuse_fd(e->maps.meta, st->meta_fd) ?: bpf_map__reuse_fd(e->maps.slots, st->slots_fd);
	if (!err && !tg_kernel_has_multi_buffer())
		bpf_program__set_flags(e->progs.tollgate_entry,
				       bpf_program__flags(e->progs.tollgate_entry) & ~BPF_F_XDP_HAS_FRAGS);
	if (err) {
		entry__destroy(e);
		return err;
	}
	xp = xdp_program__from_bpf_obj(e->obj, NULL);
	err = libxdp_get_error(xp);
	if (!err)
		err = xdp_program__attach(xp, ifindex, mode == TG_MODE_SKB ? XDP_MODE_SKB : XDP_MODE_NATIVE, 0);
	if (!err)
		st->orphans_fd = dup(bpf_map__fd(e->maps.orphans));
	if (!libxdp_get_error(xp))
		xdp_program__close(xp);
	if (err) {
		entry__destroy(e);
		return err;
	}
	*out = e;
	return 0;
}

static void note_if_alone(const char *ifname, int ifindex)
{
	struct xdp_multiprog *mp = xdp_multiprog__get_from_ifindex(ifindex);

	if (mp && !libxdp_get_error(mp) && xdp_multiprog__is_legacy(mp))
		printf("note: libxdp attached tollgate without its dispatcher (this kernel refuses it), so no other XDP program can share %s\n",
		       ifname);
	if (mp && !libxdp_get_error(mp))
		xdp_multiprog__close(mp);
}

static int silent_libxdp(enum libxdp_print_level level, const char *fmt, va_list ap)
{
	(void)level;
	(void)fmt;
	(void)ap;
	return 0;
}

static int do_attach(struct attach_args *a, struct tg_loaded *l, struct tg_state *st)
{
	struct tg_dataplane dp = { 0 };
	struct tg_image img = { 0 };
	struct entry *e = NULL;
	int ifindex = (int)if_nametoindex(a->ifname), policy_fd, uint_zero = 0, rc;

	if (!ifindex)
		return report_state_error(a->ifname, -ENODEV), TG_EXIT_INPUT;
	if (tg_state_exists(a->ifname))
		return report_state_error(a->ifname, -EEXIST), TG_EXIT_INPUT;
	rc = build_image(l, st, a->policy, a->facing, &a->dns, &img) ?: ssh_guard(l, a->facing, a->ifname, a->force);
	if (rc)
		goto out;
	rc = create_state_maps(st);
	if (rc) {
		report_state_error(a->ifname, rc);
		rc = TG_EXIT_SYSTEM;
		goto out;
	}
	name_slots(st, &img);
	if (load_policy_program(st, &img, &dp)) {
		rc = TG_EXIT_SYSTEM;
		goto out;
	}
	policy_fd = tg_dataplane_prog_fd(&dp);
	st->meta = (struct tg_meta){ .version = TG_META_VERSION, .generation = 1, .facing = (uint32_t)a->facing,
				     .mode = (uint32_t)a->mode };
	describe_policy(l, a->policy, &st->meta.current);
	rc = tg_state_write_slots(st) ?: tg_state_write_hosts(st) ?: tg_state_write_meta(st);
	if (!rc && bpf_map_update_elem(st->prog_array_fd, &uint_zero, &policy_fd, BPF_ANY))
		rc = -errno;
	/* Pins first: a crash after attaching must leave state to detach with. */
	if (!rc)
		rc = pin_state(st, policy_fd);
	if (rc) {
		report_state_error(a->ifname, rc);
		tg_state_remove(st);
		rc = TG_EXIT_SYSTEM;
		goto out;
	}
	libxdp_set_print(silent_libxdp);
	rc = attach_entry(st, ifindex, a->mode, &e);
	if (rc) {
		tg_state_remove(st);
		rc = report_attach_error(rc, a->ifname, ifindex, a->mode);
		goto out;
	}
	if (st->orphans_fd >= 0)
		tg_state_pin(st, st->orphans_fd, TG_PIN_ORPHANS);
	printf("%s: attached (%s, facing %s), policy %s, %u services, generation 1\n", a->ifname,
	       a->mode == TG_MODE_SKB ? "skb" : "native", a->facing == TG_FACING_INSIDE ? "inside" : "outside",
	       st->meta.current.path, st->meta.current.nservices);
	note_if_alone(a->ifname, ifindex);
	rc = TG_EXIT_OK;
out:
	if (e)
		entry__destroy(e);
	tg_dataplane_destroy(&dp);
	tg_image_free(&img);
	return rc;
}

static int do_reload(struct attach_args *a, struct tg_loaded *l, struct tg_state *st);

/* Parses, takes the interface's lock, and runs attach or reload. */
static int run_policy_command(int argc, char **argv, const char *usage, bool reload)
{
	struct tg_loaded l = { 0 };
	struct attach_args a;
	struct tg_state st;
	int rc, err;

	tg_diags_init(&l.diags, stderr);
	rc = parse_attach_args(argc, argv, usage, reload, &l, &a);
	if (rc)
		goto out_free;
	if (a.facing < 0)
		a.facing = TG_FACING_OUTSIDE;
	tg_state_init(&st, a.ifname);
	err = tg_bpffs_check() ?: tg_state_lock(&st);
	if (err) {
		report_state_error(a.ifname, err);
		rc = TG_EXIT_SYSTEM;
	} else {
		rc = reload ? do_reload(&a, &l, &st) : do_attach(&a, &l, &st);
	}
	tg_state_close(&st);
out_free:
	tg_loaded_free(&l);
	return rc;
}

int cmd_attach(int argc, char **argv)
{
	static const char usage[] = "attach [--facing inside|outside] [--mode native|skb] [--force] [--host NAME=ADDR]... "
				    "[--dns-server ADDR] [--ttl-min S] [--ttl-max S] IFACE POLICY";

	return run_policy_command(argc, argv, usage, false);
}

/* ------------------------------------------------------------- detach */

/* Detaches our entry program from the interface, whatever else runs there. */
static int detach_entry(int ifindex)
{
	struct xdp_multiprog *mp = xdp_multiprog__get_from_ifindex(ifindex);
	struct xdp_program *p = NULL;
	int err = -ENOENT;

	if (!mp || libxdp_get_error(mp))
		return -ENOENT;
	if (xdp_multiprog__is_legacy(mp)) {
		p = xdp_multiprog__main_prog(mp);
		if (p && !strcmp(xdp_program__name(p), ENTRY_NAME))
			err = xdp_program__detach(p, ifindex, xdp_multiprog__attach_mode(mp), 0);
	} else {
		while ((p = xdp_multiprog__next_prog(p, mp)))
			if (!strcmp(xdp_program__name(p), ENTRY_NAME)) {
				err = xdp_program__detach(p, ifindex, xdp_multiprog__attach_mode(mp), 0);
				break;
			}
	}
	xdp_multiprog__close(mp);
	return err;
}

/*
 * Pins are named by interface only, so the state found may belong to an
 * interface of that name in another network namespace: it is removed only
 * when our own entry program is detached here, or with --force.
 */
static int detach_here(struct tg_state *st, const char *ifname, bool force)
{
	int ifindex = (int)if_nametoindex(ifname);
	bool has_state = tg_state_exists(ifname);
	int err = ifindex ? detach_entry(ifindex) : -ENODEV;

	if (err && err != -ENOENT && err != -ENODEV) {
		fprintf(stderr, "tollgate: cannot detach from %s: %s\n", ifname, tg_strerror(err));
		return TG_EXIT_SYSTEM;
	}
	if (err && !has_state) {
		report_state_error(ifname, -ENOENT);
		return TG_EXIT_INPUT;
	}
	if (err && !force) {
		fprintf(stderr, "tollgate: %s %s, but tollgate state for %s exists (attached in another network namespace?); it is kept: run detach where %s is, or 'tollgate detach --force %s' if it is gone for good\n",
			ifname, err == -ENODEV ? "does not exist here" : "runs no tollgate program here", ifname, ifname,
			ifname);
		return TG_EXIT_INPUT;
	}
	tg_state_remove(st);
	printf("%s: %s\n", ifname, err ? "removed the state of an interface that is gone" : "detached");
	return TG_EXIT_OK;
}

int cmd_detach(int argc, char **argv)
{
	bool force = argc == 3 && !strcmp(argv[1], "--force");
	const char *ifname = argv[argc - 1];
	struct tg_state st;
	int err, rc;

	if ((argc != 2 && !force) || ifname[0] == '-') {
		fprintf(stderr, "usage: tollgate detach [--force] IFACE\n");
		return TG_EXIT_USAGE;
	}
	tg_state_init(&st, ifname);
	err = tg_bpffs_check() ?: tg_state_lock(&st);
	if (err) {
		report_state_error(ifname, err);
		tg_state_close(&st);
		return TG_EXIT_SYSTEM;
	}
	libxdp_set_print(silent_libxdp);
	rc = detach_here(&st, ifname, force);
	tg_state_close(&st);
	return rc;
}

/* ------------------------------------------------------------- reload */

/* Test hook: TOLLGATE_TEST_STOP_AT=NAME stops the process there (SIGSTOP),
 * so that a test can kill -9 it at a known point without sleeping. */
static void test_stop_point(const char *name)
{
	const char *at = getenv("TOLLGATE_TEST_STOP_AT");

	if (at && !strcmp(at, name))
		raise(SIGSTOP);
}

static int spawn_rollback_timer(const char *ifname, uint32_t generation, uint64_t deadline_ns, pid_t *pid_out)
{
	int fds[2];
	pid_t child;

	if (pipe(fds))
		return -errno;
	child = fork();
	if (child < 0)
		return -errno;
	if (child == 0) {
		char gen[16], deadline[24];
		pid_t grandchild;

		close(fds[0]);
		setsid();
		grandchild = fork();
		if (grandchild != 0) {
			if (write(fds[1], &grandchild, sizeof(grandchild)) != sizeof(grandchild))
				_exit(1);
			_exit(0);
		}
		close(fds[1]);
		snprintf(gen, sizeof(gen), "%u", generation);
		snprintf(deadline, sizeof(deadline), "%llu", (unsigned long long)deadline_ns);
		int devnull = open("/dev/null", O_RDWR);

		dup2(devnull, 0);
		dup2(devnull, 1);
		dup2(devnull, 2);
		execl("/proc/self/exe", "tollgate", "rollback-timer", ifname, gen, deadline, (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	waitpid(child, NULL, 0);
	if (read(fds[0], pid_out, sizeof(*pid_out)) != sizeof(*pid_out)) {
		close(fds[0]);
		return -ECHILD;
	}
	close(fds[0]);
	return 0;
}

static void count_changes(const struct tg_state *st, uint32_t next, unsigned *kept, unsigned *added,
			  unsigned *retired)
{
	*kept = *added = *retired = 0;
	for (int i = 0; i < TG_MAX_COUNTER_SLOTS; i++) {
		if (st->slots[i].added == next && st->slots[i].name[0])
			(*added)++;
		else if (st->slots[i].retired == next)
			(*retired)++;
		else if (tg_slot_live(&st->slots[i], next))
			(*kept)++;
	}
}

static int switch_program(struct tg_state *st, int policy_fd, const struct attach_args *a)
{
	uint32_t zero = 0;
	int err = tg_state_pin(st, policy_fd, TG_PIN_PENDING);

	if (!err && a->confirm_seconds) {
		int current = tg_state_get_pinned(st, TG_PIN_POLICY);

		err = current < 0 ? current : tg_state_pin(st, current, TG_PIN_PREVIOUS);
		if (current >= 0)
			close(current);
	}
	if (!err)
		err = tg_state_write_meta(st);
	if (err)
		return err;
	test_stop_point("before-switch");
	if (bpf_map_update_elem(st->prog_array_fd, &zero, &policy_fd, BPF_ANY))
		return -errno;
	test_stop_point("after-switch");
	return tg_state_record_switch(st);
}

/* Loads a compiled image as the interface's next generation and switches to it. */
static int apply_image(struct attach_args *a, struct tg_loaded *l, struct tg_state *st, struct tg_image *img)
{
	struct tg_dataplane dp = { 0 };
	uint32_t next = st->meta.generation + 1;
	unsigned kept, added, retired;
	pid_t timer = 0;
	int rc, err;

	err = tg_assign_slots(st, img, next);
	if (err) {
		report_state_error(a->ifname, err);
		return TG_EXIT_SYSTEM;
	}
	if (load_policy_program(st, img, &dp))
		return TG_EXIT_SYSTEM;
	st->meta.pending_generation = next;
	describe_policy(l, a->policy, &st->meta.pending);
	if (a->confirm_seconds) {
		st->meta.previous = st->meta.current;
		st->meta.confirm_deadline_ns = tg_realtime_ns() + (uint64_t)a->confirm_seconds * 1000000000ull;
		err = spawn_rollback_timer(a->ifname, next, st->meta.confirm_deadline_ns, &timer);
		st->meta.confirm_pid = (uint32_t)timer;
	}
	count_changes(st, next, &kept, &added, &retired);
	err = err ?: tg_state_write_slots(st) ?: switch_program(st, tg_dataplane_prog_fd(&dp), a);
	if (!err && tg_state_write_hosts(st))
		fprintf(stderr, "tollgate: warning: %s: generation %u is in force, but its host addresses could not be recorded; the next 'tollgate dns' asks again\n",
			a->ifname, next);
	tg_dataplane_destroy(&dp);
	if (err) {
		fprintf(stderr, "tollgate: %s: reload failed, the running policy is unchanged: %s\n", a->ifname,
			tg_strerror(err));
		tg_state_recover(st);
		return TG_EXIT_SYSTEM;
	}
	printf("%s: generation %u: policy %s, %u services (%u counters kept, %u new, %u retired)\n", a->ifname, next,
	       st->meta.current.path, st->meta.current.nservices, kept, added, retired);
	if (a->confirm_seconds)
		printf("%s: rolls back to generation %u in %u s unless you run: tollgate confirm %s\n", a->ifname,
		       next - 1, a->confirm_seconds, a->ifname);
	rc = TG_EXIT_OK;
	return rc;
}

static int refuse_if_confirm_pending(const struct tg_state *st)
{
	if (!st->meta.confirm_pending)
		return 0;
	fprintf(stderr, "tollgate: %s: generation %u awaits confirmation; run 'tollgate confirm %s' first (or let it roll back)\n",
		st->ifname, st->meta.generation, st->ifname);
	return TG_EXIT_INPUT;
}

static int do_reload(struct attach_args *a, struct tg_loaded *l, struct tg_state *st)
{
	struct tg_image img = { 0 };
	int rc, err;

	err = tg_state_open(st) ?: tg_state_recover(st);
	if (err)
		return report_state_error(a->ifname, err), err == -ENOENT ? TG_EXIT_INPUT : TG_EXIT_SYSTEM;
	rc = refuse_if_confirm_pending(st) ?: build_image(l, st, a->policy, (int)st->meta.facing, &a->dns, &img) ?:
	     ssh_guard(l, (int)st->meta.facing, a->ifname, a->force) ?: apply_image(a, l, st, &img);
	tg_image_free(&img);
	return rc;
}

int cmd_reload(int argc, char **argv)
{
	static const char usage[] =
		"reload [--confirm SECONDS] [--force] [--host NAME=ADDR]... [--dns-server ADDR] [--ttl-min S] [--ttl-max S] "
		"IFACE POLICY";

	return run_policy_command(argc, argv, usage, true);
}

/* ------------------------------------------------------ confirm, timer */

/* The timer is ours only if it still runs our rollback-timer for this
 * interface: never signal a reused PID. */
static void stop_timer(pid_t pid, const char *ifname)
{
	char path[64], cmdline[256] = "";
	const char *arg;
	size_t n;
	FILE *f;

	if (pid <= 0)
		return;
	snprintf(path, sizeof(path), "/proc/%d/cmdline", pid);
	f = fopen(path, "r");
	if (!f)
		return;
	n = fread(cmdline, 1, sizeof(cmdline) - 1, f);
	fclose(f);
	cmdline[n] = '\0';
	arg = cmdline + strlen(cmdline) + 1; /* argv[1] */
	if (arg < cmdline + n && !strcmp(arg, "rollback-timer") && arg + strlen(arg) + 1 < cmdline + n &&
	    !strcmp(arg + strlen(arg) + 1, ifname))
		kill(pid, SIGTERM);
}

static int open_locked(struct tg_state *st, const char *ifname)
{
	int err;

	tg_state_init(st, ifname);
	err = tg_bpffs_check() ?: tg_state_lock(st) ?: tg_state_open(st) ?: tg_state_recover(st);
	if (err)
		report_state_error(ifname, err);
	return err;
}

int cmd_confirm(int argc, char **argv)
{
	struct tg_state st;
	int rc = TG_EXIT_OK;

	if (argc != 2 || argv[1][0] == '-') {
		fprintf(stderr, "usage: tollgate confirm IFACE\n");
		return TG_EXIT_USAGE;
	}
	if (open_locked(&st, argv[1])) {
		tg_state_close(&st);
		return TG_EXIT_INPUT;
	}
	if (!st.meta.confirm_pending) {
		fprintf(stderr, "tollgate: %s: nothing to confirm (generation %u is in force)\n", argv[1], st.meta.generation);
		rc = TG_EXIT_INPUT;
	} else {
		pid_t timer = (pid_t)st.meta.confirm_pid;

		st.meta.confirm_pending = 0;
		st.meta.confirm_deadline_ns = 0;
		st.meta.confirm_pid = 0;
		memset(&st.meta.previous, 0, sizeof(st.meta.previous));
		if (tg_state_write_meta(&st)) {
			fprintf(stderr, "tollgate: %s: cannot record the confirmation\n", argv[1]);
			rc = TG_EXIT_SYSTEM;
		} else {
			tg_state_unpin(&st, TG_PIN_PREVIOUS);
			stop_timer(timer, argv[1]);
			printf("%s: generation %u confirmed\n", argv[1], st.meta.generation);
		}
	}
	tg_state_close(&st);
	return rc;
}

/* Hidden: the process a --confirm reload leaves behind. */
int cmd_rollback_timer(int argc, char **argv)
{
	struct tg_state st;
	uint32_t generation;
	uint64_t deadline;

	if (argc != 4)
		return TG_EXIT_USAGE;
	generation = (uint32_t)strtoul(argv[2], NULL, 10);
	deadline = strtoull(argv[3], NULL, 10);
	for (uint64_t now = tg_realtime_ns(); now < deadline; now = tg_realtime_ns()) {
		uint64_t left = deadline - now;
		struct timespec ts = { .tv_sec = (time_t)(left / 1000000000ull), .tv_nsec = (long)(left % 1000000000ull) };

		nanosleep(&ts, NULL);
	}
	/* The deadline tells this reload apart from a later one of the same
	 * generation number (after a failed reload). */
	if (open_locked(&st, argv[1]) == 0 && st.meta.confirm_pending && st.meta.generation == generation &&
	    st.meta.confirm_deadline_ns == deadline)
		tg_state_rollback(&st);
	tg_state_close(&st);
	return 0;
}

/* ------------------------------------------------------------------ dns */

static volatile sig_atomic_t dns_stop;

static void on_dns_signal(int sig)
{
	(void)sig;
	dns_stop = 1;
}

/*
 * One interface: ask DNS about the names that are due and, when a name's
 * addresses changed, reload the policy in force with them, through the same
 * path as tollgate reload (counters stay with their services). Returns the
 * time the next name is due (0: none).
 */
static uint64_t follow_interface(const char *ifname, const struct tg_dns_opts *dns, int *rc)
{
	struct tg_state *st = xcalloc(1, sizeof(*st));
	struct tg_loaded l = { 0 };
	struct attach_args a = { .ifname = ifname, .dns = *dns };
	struct tg_image img = { 0 };
	char hash[TG_HASH_HEX];
	bool changed = false;
	uint64_t next = 0;
	int err;

	tg_diags_init(&l.diags, stderr);
	tg_state_init(st, ifname);
	err = tg_bpffs_check() ?: tg_state_lock(st) ?: tg_state_open(st) ?: tg_state_recover(st);
	if (err) {
		report_state_error(ifname, err);
		*rc = TG_EXIT_SYSTEM;
		goto out;
	}
	a.policy = st->meta.current.path;
	if (tg_load_policy(&l, a.policy)) {
		*rc = TG_EXIT_INPUT;
		goto out;
	}
	hash_policy(&l.diags, hash);
	if (strcmp(hash, st->meta.current.hash)) {
		fprintf(stderr, "tollgate: %s: %s changed since generation %u was loaded; run 'tollgate reload' to apply it\n",
			ifname, a.policy, st->meta.generation);
		*rc = TG_EXIT_INPUT;
		goto out;
	}
	if (resolve_hosts(&l, st, dns, false, false, &changed)) {
		*rc = TG_EXIT_USAGE;
		goto out;
	}
	next = tg_hosts_next_due(st->hosts, dns);
	if (!changed) {
		if (tg_state_write_hosts(st))
			*rc = TG_EXIT_SYSTEM;
		goto out;
	}
	if (st->meta.confirm_pending) {
		/* Leave the pending generation alone: a rollback would lose the change anyway. */
		fprintf(stderr, "tollgate: %s: host addresses changed, but a reload awaits confirmation; will retry\n", ifname);
		next = tg_realtime_ns() + (uint64_t)dns->ttl_min * 1000000000ull;
		goto out;
	}
	printf("%s: host addresses changed; reloading %s\n", ifname, a.policy);
	if (tg_compile(&l.pol, (int)st->meta.facing, &l.hosts, &img, NULL) || apply_image(&a, &l, st, &img))
		*rc = TG_EXIT_SYSTEM;
out:
	fflush(stdout);
	tg_image_free(&img);
	tg_state_close(st);
	tg_loaded_free(&l);
	free(st);
	return next;
}

int cmd_dns(int argc, char **argv)
{
	static const char usage[] =
		"dns [--watch] [--dns-server ADDR] [--ttl-min SECONDS] [--ttl-max SECONDS] [IFACE]...";
	static const struct option opts[] = {
		{ "watch", no_argument, NULL, 'w' },	       { "dns-server", required_argument, NULL, 'S' },
		{ "ttl-min", required_argument, NULL, 'n' },   { "ttl-max", required_argument, NULL, 'x' },
		{ "help", no_argument, NULL, 'h' },	       { 0 },
	};
	char names[64][IF_NAMESIZE];
	struct tg_dns_opts dns;
	bool watch = false;
	int c, n, rc = TG_EXIT_OK;

	dns_defaults(&dns);
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 'w')
			watch = true;
		else if (parse_dns_option(c, optarg, &dns)) {
			fprintf(c == 'h' ? stdout : stderr, "usage: tollgate %s\n", usage);
			return c == 'h' ? TG_EXIT_OK : TG_EXIT_USAGE;
		}
	}
	signal(SIGTERM, on_dns_signal);
	signal(SIGINT, on_dns_signal);
	do {
		uint64_t due = 0, now;

		n = optind < argc ? argc - optind : tg_list_attached(names, 64);
		for (int i = 0; i < n && !dns_stop; i++) {
			const char *ifname = optind < argc ? argv[optind + i] : names[i];
			uint64_t next = follow_interface(ifname, &dns, &rc);

			if (next && (!due || next < due))
				due = next;
		}
		if (!watch)
			break;
		/* Sleep until a name is due, at least a second, at most ttl-max. */
		now = tg_realtime_ns();
		if (!due || due > now + (uint64_t)dns.ttl_max * 1000000000ull)
			due = now + (uint64_t)dns.ttl_max * 1000000000ull;
		if (due < now + 1000000000ull)
			due = now + 1000000000ull;
		while (!dns_stop && tg_realtime_ns() < due) {
			struct timespec ts = { .tv_sec = 0, .tv_nsec = 200000000 };

			nanosleep(&ts, NULL);
		}
	} while (!dns_stop);
	return rc;
}

/* ------------------------------------------------------------- status */

static void format_time(uint64_t ns, char *buf, size_t size)
{
	time_t t = (time_t)(ns / 1000000000ull);
	struct tm tm;

	localtime_r(&t, &tm);
	strftime(buf, size, "%Y-%m-%d %H:%M:%S", &tm);
}

static void print_host(const struct tg_host_state *h)
{
	char addr[INET6_ADDRSTRLEN], when[32];

	printf("  host        %s:", h->name);
	for (unsigned k = 0; k < h->naddrs && k < TG_HOST_ADDRS; k++) {
		inet_ntop((h->v6_mask >> k) & 1 ? AF_INET6 : AF_INET, h->addrs[k], addr, sizeof(addr));
		printf(" %s", addr);
	}
	if (!h->naddrs)
		printf(" (no addresses)");
	if (h->flags & TG_HOST_FIXED) {
		printf(" (fixed with --host)\n");
		return;
	}
	if (h->last_status) {
		format_time(h->attempted_ns, when, sizeof(when));
		printf(" (FAILING: %s since %s, %llu failures; %s)\n", tg_resolve_status_name(h->last_status), when,
		       (unsigned long long)h->failures,
		       h->resolved_ns ? "keeping the last known addresses" : "never resolved");
	} else {
		format_time(h->resolved_ns, when, sizeof(when));
		printf(" (ttl %u s, answered %s)\n", h->ttl, when);
	}
}

static void print_hosts(const struct tg_state *st)
{
	for (int i = 0; i < TG_MAX_HOSTS; i++)
		if (st->hosts[i].name[0])
			print_host(&st->hosts[i]);
}

static void print_status(struct tg_state *st)
{
	char when[32];

	format_time(st->meta.current.loaded_ns, when, sizeof(when));
	printf("%s\n", st->ifname);
	printf("  mode        %s\n", st->meta.mode == TG_MODE_SKB ? "skb" : "native");
	printf("  facing      %s\n", st->meta.facing == TG_FACING_INSIDE ? "inside" : "outside");
	printf("  policy      %s\n", st->meta.current.path);
	printf("  sha256      %s\n", st->meta.current.hash);
	printf("  generation  %u\n", st->meta.generation);
	printf("  loaded      %s\n", when);
	printf("  services    %u\n", st->meta.current.nservices);
	print_hosts(st);
	if (st->meta.confirm_pending) {
		format_time(st->meta.confirm_deadline_ns, when, sizeof(when));
		printf("  confirm     pending: rolls back to %s at %s unless 'tollgate confirm %s'\n",
		       st->meta.previous.path, when, st->ifname);
	}
}

int cmd_status(int argc, char **argv)
{
	struct dirent **names = NULL;
	int n, shown = 0, rc = TG_EXIT_OK;

	if (argc > 2 || (argc == 2 && argv[1][0] == '-')) {
		fprintf(stderr, "usage: tollgate status [IFACE]\n");
		return TG_EXIT_USAGE;
	}
	if (tg_bpffs_check()) {
		report_state_error(argc == 2 ? argv[1] : "status", -ENOTDIR);
		return TG_EXIT_SYSTEM;
	}
	n = scandir(TG_PIN_ROOT, &names, NULL, alphasort);
	for (int i = 0; i < n; i++) {
		struct tg_state st;

		if (names[i]->d_name[0] == '.' || (argc == 2 && strcmp(names[i]->d_name, argv[1])))
			continue;
		if (open_locked(&st, names[i]->d_name) == 0) {
			print_status(&st);
			shown++;
		}
		tg_state_close(&st);
	}
	for (int i = 0; i < n; i++)
		free(names[i]);
	free(names);
	if (argc == 2 && !shown) {
		report_state_error(argv[1], -ENOENT);
		rc = TG_EXIT_INPUT;
	} else if (!shown) {
		printf("no interface has tollgate attached\n");
	}
	return rc;
}
