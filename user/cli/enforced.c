// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The policy in force, from the pinned state alone (apply.h). */
#include "cli/apply.h"
#include "kernel/snapshot.h"
#include "lib/log.h"
#include "lib/util.h"
#include "policy/snapshot.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int read_snapshot(const struct tg_state *st, struct tg_snapshot *snap)
{
	uint8_t *bytes;
	size_t len;
	int err = tg_snapshot_load(st->dir, st->meta.active_slot, &bytes, &len);

	if (!err) {
		err = tg_snapshot_decode(bytes, len, snap);
		free(bytes);
	}
	if (err == -ENOENT) {
		tg_err("%s: generation %u has no record of its policy's files (an older tollgate loaded it); reload it to make one\n",
		       st->ifname, st->meta.generation);
		return TG_EXIT_INPUT;
	}
	if (err) {
		tg_err("%s: cannot read the record of generation %u's policy: %s\n", st->ifname, st->meta.generation,
		       tg_strerror(err));
		return TG_EXIT_SYSTEM;
	}
	return 0;
}

int tg_enforced_load(const struct tg_state *st, struct tg_enforced *e)
{
	struct tg_snapshot snap;
	int rc, err;

	memset(e, 0, sizeof(*e));
	/* The files parsed once already; a message now would be about ours. */
	tg_diags_init(&e->l.diags, NULL);
	rc = read_snapshot(st, &snap);
	if (rc)
		return rc;
	err = tg_snapshot_parse(&snap, &e->l.pol, &e->l.diags);
	tg_snapshot_free(&snap);
	if (!err) {
		tg_hosts_to_map(st->hosts, &e->l.hosts);
		err = tg_compile(&e->l.pol, (int)st->meta.facing, &e->l.hosts, &e->img);
	}
	if (err) {
		tg_err("%s: the record of generation %u's policy does not compile (%s); was it loaded by another tollgate version?\n",
		       st->ifname, st->meta.generation, tg_strerror(err));
		return TG_EXIT_SYSTEM;
	}
	tg_view_build(&e->l.pol, &e->l.hosts, &e->view);
	return 0;
}

void tg_enforced_free(struct tg_enforced *e)
{
	tg_view_free(&e->view);
	tg_image_free(&e->img);
	tg_loaded_free(&e->l);
}

/* ---------------------------------------------------------------- changes */

static const struct tg_service_view *find_service(const struct tg_policy_view *v, const char *name, size_t *at)
{
	for (size_t i = 0; i < v->nservices; i++)
		if (!strcmp(v->services[i].svc->name, name)) {
			if (at)
				*at = i;
			return &v->services[i];
		}
	return NULL;
}

static size_t diff_settings(const struct tg_image *old, const struct tg_image *new_img, FILE *out)
{
	char a[32], b[32];
	size_t n = 0;

	for (int s = 0; s < TG_SETTINGS; s++) {
		tg_format_setting(old, s, a, sizeof(a));
		tg_format_setting(new_img, s, b, sizeof(b));
		if (strcmp(a, b)) {
			fprintf(out, "  setting %s: %s -> %s\n", tg_setting_name(s), a, b);
			n++;
		}
	}
	return n;
}

/* The kept services' names in one view's order, comma-separated. */
static void kept_order(const struct tg_policy_view *v, const struct tg_policy_view *other, char *buf, size_t size)
{
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < v->nservices && used < size; i++)
		if (find_service(other, v->services[i].svc->name, NULL))
			used += (size_t)snprintf(buf + used, size - used, "%s%s", used ? ", " : "",
						 v->services[i].svc->name);
}

#define PREFIXES_SHOWN 20

/* Prefixes in a but not in b (both sorted); with out, the first
 * PREFIXES_SHOWN of them are listed there. */
static size_t prefix_difference(const struct tg_service_view *a, const struct tg_service_view *b, char sign, FILE *out)
{
	size_t i = 0, j = 0, n = 0;
	char text[64];

	while (i < a->nprefixes) {
		int c = j < b->nprefixes ? tg_view_prefix_cmp(&a->prefixes[i], &b->prefixes[j]) : -1;

		if (c > 0) {
			j++;
			continue;
		}
		if (c < 0) {
			if (out && n < PREFIXES_SHOWN) {
				tg_view_prefix_format(&a->prefixes[i], text, sizeof(text));
				fprintf(out, "      %c %s\n", sign, text);
			}
			n++;
		} else {
			j++;
		}
		i++;
	}
	if (out && n > PREFIXES_SHOWN)
		fprintf(out, "      %c ... %zu more\n", sign, n - PREFIXES_SHOWN);
	return n;
}

static size_t diff_field(const char *name, const char *field, const char *a, const char *b, FILE *out)
{
	if (!strcmp(a, b))
		return 0;
	fprintf(out, "  service %s: %s %s -> %s\n", name, field, a, b);
	return 1;
}

static size_t diff_service(const struct tg_service_view *o, const struct tg_service_view *n, FILE *out)
{
	const char *name = n->svc->name;
	char a[512], b[512];
	size_t changes = 0, added, removed;

	changes += diff_field(name, "direction", tg_direction_name(o->svc->direction),
			      tg_direction_name(n->svc->direction), out);
	tg_format_protocols(o->svc, a, sizeof(a));
	tg_format_protocols(n->svc, b, sizeof(b));
	changes += diff_field(name, "protocol", a, b, out);
	tg_view_ranges(o->svc, a, sizeof(a));
	tg_view_ranges(n->svc, b, sizeof(b));
	changes += diff_field(name, "ports/types", a, b, out);
	changes += diff_field(name, "action", o->svc->action == TG_ALLOW ? "allow" : "deny",
			      n->svc->action == TG_ALLOW ? "allow" : "deny", out);
	added = prefix_difference(n, o, '+', NULL);
	removed = prefix_difference(o, n, '-', NULL);
	if (added || removed) {
		fprintf(out, "  service %s: peers %zu added, %zu removed\n", name, added, removed);
		prefix_difference(n, o, '+', out);
		prefix_difference(o, n, '-', out);
		changes++;
	}
	return changes;
}

size_t tg_print_changes(const struct tg_enforced *old, const struct tg_image *new_img,
			const struct tg_policy_view *new_view, FILE *out)
{
	const struct tg_policy_view *ov = &old->view;
	/* Room for every name, so that two orders never compare as cut short. */
	size_t room = (ov->nservices + 1) * (TG_SERVICE_NAME_MAX + 2);
	char *before = xmalloc(room), *after = xmalloc(room);
	size_t n = diff_settings(&old->img, new_img, out), at;

	for (size_t i = 0; i < ov->nservices; i++)
		if (!find_service(new_view, ov->services[i].svc->name, NULL)) {
			fprintf(out, "  service %s: removed (was number %zu)\n", ov->services[i].svc->name, i + 1);
			n++;
		}
	for (size_t i = 0; i < new_view->nservices; i++) {
		const struct tg_service_view *o = find_service(ov, new_view->services[i].svc->name, &at);

		if (!o) {
			fprintf(out, "  service %s: added (number %zu)\n", new_view->services[i].svc->name, i + 1);
			n++;
		} else {
			n += diff_service(o, &new_view->services[i], out);
		}
	}
	/* Order decides which service takes a packet: say when it changes. */
	kept_order(ov, new_view, before, room);
	kept_order(new_view, ov, after, room);
	if (strcmp(before, after)) {
		fprintf(out, "  order: %s -> %s\n", before, after);
		n++;
	}
	free(before);
	free(after);
	return n;
}
