// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The compiler's image: prefixes, port classes, roles, analysis. */
#include "helpers.h"
#include "compile/analyse.h"

#include <stdlib.h>

static uint32_t class_of_prefix(const struct tg_image *img, int family, const char *text)
{
	char buf[64];

	for (size_t i = 0; i < img->nprefixes[family]; i++) {
		tg_format_prefix(img->prefixes[family][i].addr, img->prefixes[family][i].prefixlen,
				 family == TG_FAMILY_V6, buf, sizeof(buf));
		if (!strcmp(buf, text))
			return img->prefixes[family][i].cls;
	}
	return UINT32_MAX;
}

static void nested_prefixes_inherit_services(void **state)
{
	struct loaded l;
	struct tg_image img;
	uint32_t outer, inner;

	(void)state;
	assert_int_equal(load_text(&l, "default deny\n"
				       "service a { direction in; protocol tcp; peers 10.0.0.0/8; action allow }\n"
				       "service b { direction in; protocol udp; peers 10.1.0.0/16; action allow }\n"),
			 0);
	assert_int_equal(tg_compile(&l.pol, TG_FACING_OUTSIDE, NULL, &img), 0);
	outer = class_of_prefix(&img, TG_FAMILY_V4, "10.0.0.0/8");
	inner = class_of_prefix(&img, TG_FAMILY_V4, "10.1.0.0/16");
	assert_true(tg_mask_test(&img.masks[outer], 0) && !tg_mask_test(&img.masks[outer], 1));
	assert_true(tg_mask_test(&img.masks[inner], 0) && tg_mask_test(&img.masks[inner], 1));
	tg_image_free(&img);
	unload(&l);
}

static void redundant_nested_prefix_is_dropped(void **state)
{
	struct loaded l;
	struct tg_image img;

	(void)state;
	assert_int_equal(load_text(&l, "default deny\nset s { 10.0.0.0/8, 10.1.0.0/16, 10.1.2.3 }\n"
				       "service a { direction in; protocol tcp; peers @s; action allow }\n"),
			 0);
	assert_int_equal(tg_compile(&l.pol, TG_FACING_OUTSIDE, NULL, &img), 0);
	assert_int_equal(img.nprefixes[TG_FAMILY_V4], 1);
	tg_image_free(&img);
	unload(&l);
}

static void any_covers_both_families(void **state)
{
	struct loaded l;
	struct tg_image img;

	(void)state;
	assert_int_equal(load_text(&l,
				   "default deny\nservice a { direction in; protocol tcp; peers any; action allow }\n"),
			 0);
	assert_int_equal(tg_compile(&l.pol, TG_FACING_OUTSIDE, NULL, &img), 0);
	assert_int_not_equal(class_of_prefix(&img, TG_FAMILY_V4, "0.0.0.0/0"), UINT32_MAX);
	assert_int_not_equal(class_of_prefix(&img, TG_FAMILY_V6, "::/0"), UINT32_MAX);
	tg_image_free(&img);
	unload(&l);
}

static void port_range_edges(void **state)
{
	struct loaded l;
	struct tg_image img;
	const uint32_t *tcp;

	(void)state;
	assert_int_equal(load_text(&l,
				   "default deny\n"
				   "service a { direction in; protocol tcp; ports 24251-24270, 443; peers any; action allow }\n"),
			 0);
	assert_int_equal(tg_compile(&l.pol, TG_FACING_OUTSIDE, NULL, &img), 0);
	tcp = img.l4 + tg_l4_index(TG_ROLE_REQUEST, TG_ROW_TCP, 0);
	assert_int_equal(tcp[24250], 0);
	assert_int_not_equal(tcp[24251], 0);
	assert_int_equal(tcp[24251], tcp[24270]);
	assert_int_equal(tcp[24271], 0);
	assert_int_equal(tcp[443], tcp[24260]);
	assert_int_equal(img.l4[tg_l4_index(TG_ROLE_REQUEST, TG_ROW_UDP, 443)], 0);
	assert_int_equal(img.l4[tg_l4_index(TG_ROLE_REPLY, TG_ROW_TCP, 443)], 0);
	tg_image_free(&img);
	unload(&l);
}

static void facing_decides_role(void **state)
{
	struct loaded l;
	struct tg_image out, in;

	(void)state;
	assert_int_equal(load_text(&l,
				   "default deny\nservice a { direction out; protocol tcp; ports 443; peers any; action allow }\n"),
			 0);
	assert_int_equal(tg_compile(&l.pol, TG_FACING_OUTSIDE, NULL, &out), 0);
	assert_int_equal(tg_compile(&l.pol, TG_FACING_INSIDE, NULL, &in), 0);
	assert_int_equal(out.services[0].role, TG_ROLE_REPLY);
	assert_int_equal(in.services[0].role, TG_ROLE_REQUEST);
	assert_int_not_equal(out.l4[tg_l4_index(TG_ROLE_REPLY, TG_ROW_TCP, 443)], 0);
	assert_int_not_equal(in.l4[tg_l4_index(TG_ROLE_REQUEST, TG_ROW_TCP, 443)], 0);
	tg_image_free(&out);
	tg_image_free(&in);
	unload(&l);
}

static void icmp_reply_types_are_derived(void **state)
{
	struct loaded l;
	struct tg_image img;

	(void)state;
	assert_int_equal(load_text(&l,
				   "default deny\nservice p { direction out; protocol icmp; types echo-request; peers any; action allow }\n"),
			 0);
	assert_int_equal(tg_compile(&l.pol, TG_FACING_OUTSIDE, NULL, &img), 0);
	assert_int_not_equal(img.l4[tg_l4_index(TG_ROLE_REPLY, TG_ROW_ICMP, 0)], 0);
	assert_int_equal(img.l4[tg_l4_index(TG_ROLE_REPLY, TG_ROW_ICMP, 8)], 0);
	assert_int_equal(img.l4[tg_l4_index(TG_ROLE_REPLY, TG_ROW_ICMPV6, 129)], 0);
	tg_image_free(&img);
	unload(&l);
}

static void hosts_become_host_prefixes(void **state)
{
	struct loaded l;
	struct tg_image img;

	(void)state;
	assert_int_equal(load_text(&l,
				   "default deny\nservice h { direction out; protocol tcp; ports 443; peers support.example.com; action allow }\n"),
			 0);
	assert_int_equal(tg_hostmap_add_spec(&l.hosts, "support.example.com=198.51.100.7,2001:db8::7"), 0);
	assert_int_equal(tg_hostmap_add_spec(&l.hosts, "bad=300.1.1.1"), -EINVAL);
	assert_int_equal(tg_hostmap_add_spec(&l.hosts, "=1.2.3.4"), -EINVAL);
	assert_int_equal(tg_compile(&l.pol, TG_FACING_OUTSIDE, &l.hosts, &img), 0);
	assert_int_not_equal(class_of_prefix(&img, TG_FAMILY_V4, "198.51.100.7/32"), UINT32_MAX);
	assert_int_not_equal(class_of_prefix(&img, TG_FAMILY_V6, "2001:db8::7/128"), UINT32_MAX);
	assert_int_equal(img.unresolved_hosts, 0);
	tg_image_free(&img);
	unload(&l);
}

static void analysis_finds_cross_role_shadow(void **state)
{
	struct loaded l;
	struct tg_image out, in;

	(void)state;
	assert_int_equal(load_text(&l,
				   "default deny\n"
				   "service all-in { direction in; protocol tcp; peers any; action deny }\n"
				   "service https-out { direction out; protocol tcp; ports 443; peers any; action allow }\n"),
			 0);
	assert_int_equal(tg_compile(&l.pol, TG_FACING_OUTSIDE, NULL, &out), 0);
	assert_int_equal(tg_compile(&l.pol, TG_FACING_INSIDE, NULL, &in), 0);
	/* Outside, every reply from 443 is also a request to some port: all-in takes it. */
	assert_true(out.services[1].shadowed);
	/* Inside, a SYN to 443 is a request and all-in only takes replies there. */
	assert_false(in.services[1].shadowed);
	tg_image_free(&out);
	tg_image_free(&in);
	unload(&l);
}

static void analysis_excludes_essential_icmp(void **state)
{
	struct loaded l;
	struct tg_image img;

	(void)state;
	assert_int_equal(load_text(&l,
				   "default deny\n"
				   "service u { direction in; protocol icmp; types destination-unreachable; peers any; action deny }\n"),
			 0);
	assert_int_equal(tg_compile(&l.pol, TG_FACING_OUTSIDE, NULL, &img), 0);
	assert_true(img.services[0].unmatched);
	tg_image_free(&img);
	unload(&l);
	assert_int_equal(load_text(&l,
				   "default deny\nessential-icmp filter\n"
				   "service u { direction in; protocol icmp; types destination-unreachable; peers any; action deny }\n"),
			 0);
	assert_int_equal(tg_compile(&l.pol, TG_FACING_OUTSIDE, NULL, &img), 0);
	assert_false(img.services[0].unmatched);
	tg_image_free(&img);
	unload(&l);
}

static void compile_is_deterministic(void **state)
{
	struct loaded l;
	struct tg_image a, b;

	(void)state;
	assert_int_equal(load_file(&l, "policies/cryptshare.policy"), 0);
	assert_int_equal(tg_compile(&l.pol, TG_FACING_OUTSIDE, NULL, &a), 0);
	assert_int_equal(tg_compile(&l.pol, TG_FACING_OUTSIDE, NULL, &b), 0);
	assert_int_equal(a.nmasks, b.nmasks);
	assert_memory_equal(a.masks, b.masks, a.nmasks * sizeof(struct tg_mask));
	assert_memory_equal(a.l4, b.l4, TG_L4_ENTRIES * sizeof(uint32_t));
	tg_image_free(&a);
	tg_image_free(&b);
	unload(&l);
}

/* Service k's peers are the addresses of 198.18.0.0/15 whose offset has bit
 * k set (blocks of 2^k): every address then has its own combination of the
 * 17 services, 131072 classes, past the program's fixed class array. */
static void too_many_classes_is_refused(void **state)
{
	size_t cap = 4u << 20, len = 0;
	char *text = malloc(cap);
	struct loaded l;
	struct tg_image img;

	(void)state;
	len += (size_t)snprintf(text + len, cap - len, "default deny\n");
	for (unsigned k = 0; k < 17; k++) {
		len += (size_t)snprintf(text + len, cap - len, "set bit%u {\n", k);
		for (uint32_t off = 1u << k; off < (1u << 17); off += 2u << k) {
			uint32_t a = (198u << 24 | 18u << 16) + off;

			len += (size_t)snprintf(text + len, cap - len, "%u.%u.%u.%u/%u\n", a >> 24, a >> 16 & 255,
						a >> 8 & 255, a & 255, 32 - k);
		}
		len += (size_t)
			snprintf(text + len, cap - len,
				 "}\nservice bit%u { direction in; protocol tcp; ports 80; peers @bit%u; action allow }\n",
				 k, k);
	}
	assert_true(len < cap);
	memset(&l, 0, sizeof(l));
	tg_diags_init(&l.diags, NULL);
	assert_int_equal(tg_policy_parse_buffer(&l.pol, &l.diags, "test.policy", text, len), 0);
	assert_int_equal(tg_compile(&l.pol, TG_FACING_OUTSIDE, NULL, &img), -EDOM);
	unload(&l);
	free(text);
}

/* IPv6 walks past 0, 43, 44 and 60 to the protocol they carry, so a service
 * naming one matches IPv4 only, and check says so; AH (51) is a protocol in
 * both families and draws no warning (docs/policy.md, "protocol"). */
static void ipv6_extension_header_numbers_are_reported(void **state)
{
	static const char text[] = "default deny\n"
				   "service hbh6 { direction in; protocol 43; peers 2001:db8::/32; action allow }\n"
				   "service hbh { direction in; protocol 0; peers any; action allow }\n"
				   "service ah6 { direction in; protocol 51; peers 2001:db8::/32; action allow }\n";
	struct loaded l;
	struct tg_image img;
	const struct tg_image *one[] = { &img };

	(void)state;
	assert_int_equal(load_text(&l, text), 0);
	assert_int_equal(tg_compile(&l.pol, TG_FACING_OUTSIDE, NULL, &img), 0);
	assert_true(img.services[0].unmatched);
	assert_false(img.services[1].unmatched);
	assert_false(img.services[2].unmatched);
	tg_report_analysis(&l.pol, NULL, one, 1, &l.diags);
	/* hbh6: the header number and "can never match"; hbh: the header number. */
	assert_int_equal(l.diags.warnings, 3);
	tg_image_free(&img);
	unload(&l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(nested_prefixes_inherit_services),
		cmocka_unit_test(redundant_nested_prefix_is_dropped),
		cmocka_unit_test(any_covers_both_families),
		cmocka_unit_test(port_range_edges),
		cmocka_unit_test(facing_decides_role),
		cmocka_unit_test(icmp_reply_types_are_derived),
		cmocka_unit_test(hosts_become_host_prefixes),
		cmocka_unit_test(analysis_finds_cross_role_shadow),
		cmocka_unit_test(ipv6_extension_header_numbers_are_reported),
		cmocka_unit_test(analysis_excludes_essential_icmp),
		cmocka_unit_test(compile_is_deterministic),
		cmocka_unit_test(too_many_classes_is_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
