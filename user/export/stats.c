// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Reading the pinned counters and rendering them: a table for people, JSON
 * for scripts, and the Prometheus text format. Every series that can exist
 * is written from zero, so a rate() over a fresh service or reason works.
 */
#include "export/stats.h"
#include "export/version.h"
#include "kernel/flows.h"
#include "policy/policy.h"
#include "kernel/dataplane.h"
#include "kernel/link.h"
#include "lib/util.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static uint64_t monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int tg_read_stats(const char *ifname, struct tg_iface_stats *out)
{
	struct tg_state *st = xcalloc(1, sizeof(*st));
	int err;

	memset(out, 0, sizeof(*out));
	err = tg_state_acquire(st, ifname);
	for (uint32_t slot = 0; !err && slot < TG_MAX_COUNTER_SLOTS; slot++) {
		if (!tg_slot_live(&st->slots[slot], st->meta.generation))
			continue;
		memcpy(out->names[out->nservices], st->slots[slot].name, TG_SERVICE_NAME_MAX);
		err = tg_sum_percpu(st->service_counters_fd, slot, (uint64_t *)&out->services[out->nservices],
				    sizeof(struct tg_service_counters) / sizeof(uint64_t));
		out->nservices++;
	}
	for (uint32_t r = 0; !err && r < TG_REASONS; r++)
		err = tg_sum_percpu(st->reason_counters_fd, r, (uint64_t *)&out->reasons[r],
				    sizeof(struct tg_reason_counters) / sizeof(uint64_t));
	if (!err) {
		memcpy(out->ifname, st->ifname, sizeof(out->ifname));
		memcpy(out->hosts, st->hosts, sizeof(out->hosts));
		out->meta = st->meta;
		out->read_ns = monotonic_ns();
		out->enforcing = tg_link_enforcing(ifname, &st->meta, out->not_enforcing_why,
						   sizeof(out->not_enforcing_why)) == 1;
		err = tg_sum_percpu(st->orphans_fd, 0, &out->orphans, 1);
	}
	tg_state_close(st);
	free(st);
	return err;
}

/* ---------------------------------------------------------------- table */

static const struct tg_service_counters *previous_of(const struct tg_iface_stats *prev, const char *name)
{
	for (uint32_t i = 0; prev && i < prev->nservices; i++)
		if (!strcmp(prev->names[i], name))
			return &prev->services[i];
	return NULL;
}

static double rate(uint64_t now, uint64_t before, double seconds)
{
	return seconds > 0 && now >= before ? (double)(now - before) / seconds : 0;
}

void tg_print_stats_table(FILE *out, const struct tg_iface_stats *now, const struct tg_iface_stats *prev)
{
	double secs = prev ? (double)(now->read_ns - prev->read_ns) / 1e9 : 0;

	fprintf(out, "%s  generation %u  %s  %u services\n", now->ifname, now->meta.generation, now->meta.current.path,
		now->nservices);
	if (!now->enforcing)
		fprintf(out, "  NOT ENFORCING: %s\n", now->not_enforcing_why);
	fprintf(out, "  %-28s %12s %14s %12s %14s %10s%s\n", "service", "req-packets", "req-bytes", "rep-packets",
		"rep-bytes", "frag-pkts", prev ? "   pkt/s" : "");
	for (uint32_t i = 0; i < now->nservices; i++) {
		const struct tg_service_counters *c = &now->services[i], *p = previous_of(prev, now->names[i]);
		uint64_t total = c->role[0].packets + c->role[1].packets + c->role[2].packets;

		fprintf(out, "  %-28s %12llu %14llu %12llu %14llu %10llu", now->names[i], c->role[0].packets,
			c->role[0].bytes, c->role[1].packets, c->role[1].bytes, c->role[2].packets);
		if (prev)
			fprintf(out, " %8.1f",
				rate(total, p ? p->role[0].packets + p->role[1].packets + p->role[2].packets : 0,
				     secs));
		fputc('\n', out);
	}
	fprintf(out, "  %-28s %12s %14s %12s %14s%s\n", "reason", "pass-packets", "pass-bytes", "drop-packets",
		"drop-bytes", prev ? "   pkt/s" : "");
	for (int r = 0; r < TG_REASONS; r++) {
		const struct tg_reason_counters *c = &now->reasons[r];

		fprintf(out, "  %-28s %12llu %14llu %12llu %14llu", tg_reason_name(r), c->verdict[TG_PASS].packets,
			c->verdict[TG_PASS].bytes, c->verdict[TG_DROP].packets, c->verdict[TG_DROP].bytes);
		if (prev)
			fprintf(out, " %8.1f",
				rate(c->verdict[0].packets + c->verdict[1].packets,
				     prev->reasons[r].verdict[0].packets + prev->reasons[r].verdict[1].packets, secs));
		fputc('\n', out);
	}
}

/* ----------------------------------------------------------------- JSON */

static const char *opener_name(int opener)
{
	return opener == TG_OPENED_LOCAL ? "local" : "remote";
}

/* The host's flows, shared by every interface: printed once, not per interface. */
static void print_flows_json(FILE *out)
{
	struct tg_flow_summary f;

	if (tg_flows_summary(&f))
		return;
	fprintf(out, ", \"flows\": {");
	for (int o = 0; o < TG_OPENERS; o++)
		fprintf(out,
			"%s\"%s\": {\"live\": %llu, \"entries\": %llu, \"size\": %u, \"created\": %llu, \"inserted\": %llu, \"evicted\": %llu, \"replies_without_flow\": %llu}",
			o ? ", " : "", opener_name(o), (unsigned long long)f.live[o], (unsigned long long)f.present[o],
			f.size[o], (unsigned long long)f.stats[o].created, (unsigned long long)f.stats[o].inserted,
			(unsigned long long)f.evicted[o], (unsigned long long)f.stats[o].no_flow);
	fprintf(out, "}");
}

void tg_print_flows_table(FILE *out)
{
	struct tg_flow_summary f;

	if (tg_flows_summary(&f))
		return;
	fprintf(out, "flows (the host's, shared by every interface)\n");
	fprintf(out, "  %-28s %12s %12s %12s %12s %12s\n", "opened by", "live", "size", "created", "evicted",
		"no-flow");
	for (int o = 0; o < TG_OPENERS; o++)
		fprintf(out, "  %-28s %12llu %12u %12llu %12llu %12llu\n", opener_name(o),
			(unsigned long long)f.live[o], f.size[o], (unsigned long long)f.stats[o].created,
			(unsigned long long)f.evicted[o], (unsigned long long)f.stats[o].no_flow);
}

void tg_print_stats_json(FILE *out, const struct tg_iface_stats *stats, int n)
{
	fprintf(out, "{\"interfaces\": [");
	for (int k = 0; k < n; k++) {
		const struct tg_iface_stats *s = &stats[k];

		fprintf(out, "%s{\"interface\": ", k ? ", " : "");
		tg_json_string(out, s->ifname);
		fprintf(out, ", \"generation\": %u, \"policy\": ", s->meta.generation);
		tg_json_string(out, s->meta.current.path);
		fprintf(out, ", \"sha256\": \"%s\", \"loaded_ns\": %llu, \"services\": [", s->meta.current.hash,
			(unsigned long long)s->meta.current.loaded_ns);
		for (uint32_t i = 0; i < s->nservices; i++) {
			fprintf(out, "%s{\"service\": ", i ? ", " : "");
			tg_json_string(out, s->names[i]);
			for (int role = 0; role < TG_ROLES; role++)
				fprintf(out, ", \"%s\": {\"packets\": %llu, \"bytes\": %llu}", tg_role_name(role),
					s->services[i].role[role].packets, s->services[i].role[role].bytes);
			fputc('}', out);
		}
		fprintf(out, "], \"reasons\": {");
		for (int r = 0; r < TG_REASONS; r++)
			fprintf(out,
				"%s\"%s\": {\"pass\": {\"packets\": %llu, \"bytes\": %llu}, \"drop\": {\"packets\": %llu, \"bytes\": %llu}}",
				r ? ", " : "", tg_reason_name(r), s->reasons[r].verdict[TG_PASS].packets,
				s->reasons[r].verdict[TG_PASS].bytes, s->reasons[r].verdict[TG_DROP].packets,
				s->reasons[r].verdict[TG_DROP].bytes);
		fprintf(out, "}}");
	}
	fprintf(out, "]");
	print_flows_json(out);
	fprintf(out, "}\n");
}

/* ----------------------------------------------------------- Prometheus */

/* Label values: backslash, quote and newline escaped, as the format asks. */
static void label_value(FILE *out, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			fprintf(out, "\\%c", *s);
		else if (*s == '\n')
			fputs("\\n", out);
		else
			fputc(*s, out);
	}
}

static void family(FILE *out, const char *name, const char *type, const char *help)
{
	fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void service_series(FILE *out, const struct tg_iface_stats *stats, int n, bool bytes)
{
	const char *name = bytes ? "tollgate_service_bytes_total" : "tollgate_service_packets_total";

	family(out, name, "counter",
	       bytes ? "Bytes (whole frames) that a service of the policy decided, by how they matched." :
		       "Packets that a service of the policy decided, by how they matched.");
	for (int k = 0; k < n; k++)
		for (uint32_t i = 0; i < stats[k].nservices; i++)
			for (int role = 0; role < TG_ROLES; role++) {
				const struct tg_counter *c = &stats[k].services[i].role[role];

				fprintf(out, "%s{interface=\"", name);
				label_value(out, stats[k].ifname);
				fprintf(out, "\",service=\"");
				label_value(out, stats[k].names[i]);
				fprintf(out, "\",match=\"%s\"} %llu\n", tg_role_name(role),
					bytes ? c->bytes : c->packets);
			}
}

static void reason_series(FILE *out, const struct tg_iface_stats *stats, int n, bool bytes)
{
	const char *name = bytes ? "tollgate_bytes_total" : "tollgate_packets_total";

	family(out, name, "counter",
	       bytes ? "Bytes (whole frames) tollgate passed or dropped, by the reason for the verdict." :
		       "Packets tollgate passed or dropped, by the reason for the verdict.");
	for (int k = 0; k < n; k++)
		for (int r = 0; r < TG_REASONS; r++)
			for (int action = TG_PASS; action >= TG_DROP; action--) {
				const struct tg_counter *c = &stats[k].reasons[r].verdict[action];

				fprintf(out, "%s{interface=\"", name);
				label_value(out, stats[k].ifname);
				fprintf(out, "\",action=\"%s\",reason=\"%s\"} %llu\n",
					action == TG_PASS ? "pass" : "drop", tg_reason_name(r),
					bytes ? c->bytes : c->packets);
			}
}

static void series_per_iface(FILE *out, const struct tg_iface_stats *stats, int n, const char *name, const char *type,
			     const char *help, double (*value)(const struct tg_iface_stats *))
{
	family(out, name, type, help);
	for (int k = 0; k < n; k++) {
		fprintf(out, "%s{interface=\"", name);
		label_value(out, stats[k].ifname);
		fprintf(out, "\"} %.17g\n", value(&stats[k]));
	}
}

static double generation(const struct tg_iface_stats *s)
{
	return s->meta.generation;
}

static double reload_time(const struct tg_iface_stats *s)
{
	return (double)s->meta.current.loaded_ns / 1e9;
}

static double service_count(const struct tg_iface_stats *s)
{
	return s->nservices;
}

static double enforcing(const struct tg_iface_stats *s)
{
	return s->enforcing;
}

static double orphans(const struct tg_iface_stats *s)
{
	return (double)s->orphans;
}

static double confirm_pending(const struct tg_iface_stats *s)
{
	return s->meta.confirm_pending;
}

typedef double (*host_value)(const struct tg_host_state *h);

static double host_addresses(const struct tg_host_state *h)
{
	return h->naddrs;
}

static double host_failures(const struct tg_host_state *h)
{
	return (double)h->failures;
}

static double host_ok(const struct tg_host_state *h)
{
	return h->last_status == 0;
}

static double host_resolved_at(const struct tg_host_state *h)
{
	return (double)h->resolved_ns / 1e9;
}

static void host_series(FILE *out, const struct tg_iface_stats *stats, int n, const char *name, const char *type,
			const char *help, host_value value)
{
	family(out, name, type, help);
	for (int k = 0; k < n; k++)
		for (int i = 0; i < TG_MAX_HOSTS; i++) {
			if (!stats[k].hosts[i].name[0])
				continue;
			fprintf(out, "%s{interface=\"", name);
			label_value(out, stats[k].ifname);
			fprintf(out, "\",host=\"");
			label_value(out, stats[k].hosts[i].name);
			fprintf(out, "\"} %.17g\n", value(&stats[k].hosts[i]));
		}
}

static void host_families(FILE *out, const struct tg_iface_stats *stats, int n)
{
	host_series(out, stats, n, "tollgate_host_addresses", "gauge",
		    "Addresses a host-name peer has in the policy in force (the last known ones while it fails).",
		    host_addresses);
	host_series(out, stats, n, "tollgate_host_resolution_ok", "gauge",
		    "1 when the last DNS question about a host-name peer was answered, 0 while it fails.", host_ok);
	host_series(out, stats, n, "tollgate_host_resolution_failures_total", "counter",
		    "DNS questions about a host-name peer that got no usable answer.", host_failures);
	host_series(out, stats, n, "tollgate_host_last_resolved_timestamp_seconds", "gauge",
		    "Unix time of the last answer about a host-name peer (0: never answered).", host_resolved_at);
}

static void gauge_per_iface(FILE *out, const struct tg_iface_stats *stats, int n, const char *name, const char *help,
			    double (*value)(const struct tg_iface_stats *))
{
	series_per_iface(out, stats, n, name, "gauge", help, value);
}

static void flow_series(FILE *out, const char *name, const char *type, const char *help, const uint64_t *values)
{
	family(out, name, type, help);
	for (int o = 0; values && o < TG_OPENERS; o++)
		fprintf(out, "%s{opened_by=\"%s\"} %llu\n", name, opener_name(o), (unsigned long long)values[o]);
}

/* Host-wide, without an interface label: the tables are shared. The
 * families are written even when no table is pinned, like every family. */
static void flow_families(FILE *out)
{
	struct tg_flow_summary f;
	uint64_t size[TG_OPENERS], created[TG_OPENERS], misses[TG_OPENERS];
	bool have = !tg_flows_summary(&f);

	for (int o = 0; have && o < TG_OPENERS; o++) {
		size[o] = f.size[o];
		created[o] = f.stats[o].created;
		misses[o] = f.stats[o].no_flow;
	}
	flow_series(out, "tollgate_flows", "gauge",
		    "Live (unexpired) flows in the host's flow table, by who opened them.", have ? f.live : NULL);
	flow_series(out, "tollgate_flow_table_size", "gauge", "Flows the host's flow table can hold, by opener.",
		    have ? size : NULL);
	flow_series(out, "tollgate_flow_insertions_total", "counter",
		    "Flows opened (new, or reusing an expired entry) since the table was made.", have ? created : NULL);
	flow_series(out, "tollgate_flow_evictions_total", "counter",
		    "Entries the full LRU table pushed out (insertions of new entries minus entries present).",
		    have ? f.evicted : NULL);
	flow_series(out, "tollgate_flow_misses_total", "counter",
		    "Reply-shaped packets that found no live flow (dropped as no-flow unless a request-side service or the default allowed them).",
		    have ? misses : NULL);
}

/* Present even with no interface attached: which build answers the scrape. */
static void build_info_family(FILE *out)
{
	struct tg_build_info b;

	tg_build_info(&b);
	family(out, "tollgate_build_info", "gauge",
	       "Always 1; the labels say which tollgate build, and which libbpf and libxdp, serve these metrics.");
	fprintf(out, "tollgate_build_info{version=\"");
	label_value(out, b.version);
	fprintf(out, "\",commit=\"");
	label_value(out, b.commit);
	fprintf(out, "\",libbpf=\"");
	label_value(out, b.libbpf);
	fprintf(out, "\",libxdp=\"");
	label_value(out, b.libxdp);
	fprintf(out, "\"} 1\n");
}

void tg_print_prometheus(FILE *out, const struct tg_iface_stats *stats, int n)
{
	service_series(out, stats, n, false);
	service_series(out, stats, n, true);
	reason_series(out, stats, n, false);
	reason_series(out, stats, n, true);
	gauge_per_iface(out, stats, n, "tollgate_enforcing",
			"1 when the interface runs tollgate's program, 0 when it was removed or replaced from outside.",
			enforcing);
	series_per_iface(out, stats, n, "tollgate_orphan_packets_total", "counter",
			 "Frames passed unfiltered because no policy generation was in force (broken state).", orphans);
	gauge_per_iface(out, stats, n, "tollgate_policy_generation",
			"Generation of the policy in force: 1 at attach, one more per reload or rollback.", generation);
	gauge_per_iface(out, stats, n, "tollgate_policy_last_reload_timestamp_seconds",
			"Unix time at which the policy in force was loaded.", reload_time);
	gauge_per_iface(out, stats, n, "tollgate_policy_services", "Services in the policy in force.", service_count);
	gauge_per_iface(out, stats, n, "tollgate_policy_confirm_pending",
			"1 while a reload waits for 'tollgate confirm' before it rolls back.", confirm_pending);
	family(out, "tollgate_policy_info", "gauge", "The policy in force, identified by the SHA-256 of its files.");
	for (int k = 0; k < n; k++) {
		fprintf(out, "tollgate_policy_info{interface=\"");
		label_value(out, stats[k].ifname);
		fprintf(out, "\",sha256=\"%s\"} 1\n", stats[k].meta.current.hash);
	}
	host_families(out, stats, n);
	flow_families(out);
	build_info_family(out);
}
