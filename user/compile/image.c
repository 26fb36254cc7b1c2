// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The compiled image as stable text: golden tests diff it, people read it to
 * see what a policy really became. Only the order of the policy and of the
 * address space decides the output, never hashing or allocation.
 */
#include "compile/image.h"
#include "lib/util.h"

#include <stdlib.h>
#include <string.h>

static const char *action_name(int a)
{
	return a == TG_ALLOW ? "allow" : "deny";
}

void tg_format_setting(const struct tg_image *img, int setting, char *buf, size_t size)
{
	static const char *const icmp[] = { "allow", "filter" };
	static const char *const frag[] = { "match", "allow", "deny" };
	static const char *const replies[] = { "tracked", "stateless" };
	int v = img->settings[setting];

	switch (setting) {
	case TG_SET_DEFAULT:
	case TG_SET_NON_IP:
	case TG_SET_MALFORMED:
		snprintf(buf, size, "%s", action_name(v));
		break;
	case TG_SET_ESSENTIAL_ICMP:
		snprintf(buf, size, "%s", icmp[v & 1]);
		break;
	case TG_SET_FRAGMENTS:
		snprintf(buf, size, "%s", frag[v >= 0 && v < 3 ? v : 0]);
		break;
	case TG_SET_REPLIES:
		snprintf(buf, size, "%s", replies[v & 1]);
		break;
	default: /* the flow table and the timeouts (seconds, whatever unit the policy used) */
		snprintf(buf, size, "%d", v);
	}
}

static void print_settings(const struct tg_image *img, FILE *out)
{
	char value[32];

	fprintf(out, "facing %s\n", img->facing == TG_FACING_INSIDE ? "inside" : "outside");
	for (int s = 0; s < TG_SETTINGS; s++) {
		tg_format_setting(img, s, value, sizeof(value));
		fprintf(out, "%s %s\n", tg_setting_name(s), value);
	}
}

static void print_services(const struct tg_image *img, FILE *out)
{
	fprintf(out, "services %u\n", img->nservices);
	for (uint32_t s = 0; s < img->nservices; s++) {
		const struct tg_image_service *svc = &img->services[s];

		fprintf(out, "  %u %s %s %s counter=%u%s%s\n", s, svc->name,
			svc->role == TG_ROLE_REQUEST ? "request" : "reply", svc->action == TG_PASS ? "allow" : "deny",
			svc->counter_slot, svc->shadowed ? " shadowed" : "", svc->unmatched ? " unmatched" : "");
	}
}

static void print_classes(const struct tg_image *img, FILE *out)
{
	fprintf(out, "classes %u\n", img->nmasks);
	for (uint32_t c = 0; c < img->nmasks; c++) {
		fprintf(out, "  %u =", c);
		for (unsigned s = 0; s < TG_MAX_SERVICES; s++)
			if (tg_mask_test(&img->masks[c], s))
				fprintf(out, " %u", s);
		fputc('\n', out);
	}
}

static void print_prefixes(const struct tg_image *img, int family, FILE *out)
{
	char buf[64];

	fprintf(out, "%s %zu\n", family == TG_FAMILY_V4 ? "ipv4" : "ipv6", img->nprefixes[family]);
	for (size_t i = 0; i < img->nprefixes[family]; i++) {
		const struct tg_image_prefix *p = &img->prefixes[family][i];

		tg_format_prefix(p->addr, p->prefixlen, family == TG_FAMILY_V6, buf, sizeof(buf));
		fprintf(out, "  %s -> %u\n", buf, p->cls);
	}
}

static const char *const row_names[TG_L4_ROWS] = { "tcp", "udp", "sctp", "icmp", "icmpv6", "proto" };

/* Runs of equal classes, as ranges; the empty class is left out. */
static void print_row(const uint32_t *table, uint32_t space, int row, FILE *out)
{
	for (uint32_t v = 0; v < space;) {
		uint32_t end = v;

		while (end + 1 < space && table[end + 1] == table[v])
			end++;
		if (table[v]) {
			const char *name = row == TG_ROW_ICMP || row == TG_ROW_ICMPV6 ?
						   tg_icmp_type_name(row == TG_ROW_ICMPV6, v) :
						   NULL;

			if (end == v)
				fprintf(out, "  %s %u%s%s%s -> %u\n", row_names[row], v, name ? " (" : "",
					name ? name : "", name ? ")" : "", table[v]);
			else
				fprintf(out, "  %s %u-%u -> %u\n", row_names[row], v, end, table[v]);
		}
		v = end + 1;
	}
}

static void print_l4(const struct tg_image *img, FILE *out)
{
	for (int role = TG_ROLE_REQUEST; role <= TG_ROLE_REPLY; role++) {
		fprintf(out, "%s\n", role == TG_ROLE_REQUEST ? "request" : "reply");
		for (int row = 0; row < TG_L4_ROWS; row++)
			print_row(img->l4 + tg_l4_index((uint32_t)role, (uint32_t)row, 0),
				  row < TG_PORT_ROWS ? TG_PORT_SPACE : TG_SMALL_SPACE, row, out);
	}
	fprintf(out, "fragments\n");
	for (int family = 0; family < 2; family++) {
		const uint32_t *table = img->l4 + tg_frag_index((uint32_t)family, 0);

		for (uint32_t v = 0; v < TG_SMALL_SPACE;) {
			uint32_t end = v;

			while (end + 1 < TG_SMALL_SPACE && table[end + 1] == table[v])
				end++;
			if (table[v])
				fprintf(out, "  %s proto %u%s%.0u -> %u\n", family == TG_FAMILY_V4 ? "ipv4" : "ipv6", v,
					end == v ? "" : "-", end == v ? 0 : end, table[v]);
			v = end + 1;
		}
	}
}

void tg_image_print(const struct tg_image *img, FILE *out)
{
	fprintf(out, "# tollgate map image\n");
	print_settings(img, out);
	print_services(img, out);
	print_classes(img, out);
	print_prefixes(img, TG_FAMILY_V4, out);
	print_prefixes(img, TG_FAMILY_V6, out);
	print_l4(img, out);
}

void tg_image_free(struct tg_image *img)
{
	free(img->services);
	free(img->masks);
	free(img->prefixes[0]);
	free(img->prefixes[1]);
	free(img->l4);
	memset(img, 0, sizeof(*img));
}
