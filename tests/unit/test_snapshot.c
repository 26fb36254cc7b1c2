// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * A generation's record of its policy's files (user/policy/snapshot.c) and
 * the view built from it (user/compile/view.c): reading the record back
 * gives the policy the loader compiled, with the files on disk changed or
 * gone, includes and an include read twice by two names; damaged records are
 * refused; the view lists each service's prefixes through sets and host
 * names, once and in order.
 */
#include "helpers.h"
#include "compile/view.h"
#include "policy/snapshot.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

struct tree {
	char dir[64];
	char top[128];
};

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* top.policy includes sets/common.policy directly and again as
 * "sub/../sets/common.policy" through sub/more.policy: read once. */
static void make_tree(struct tree *t)
{
	char path[256];

	snprintf(t->dir, sizeof(t->dir), "/tmp/tg-snapshot-XXXXXX");
	assert_non_null(mkdtemp(t->dir));
	snprintf(path, sizeof(path), "%s/sets", t->dir);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/sub", t->dir);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/sets/common.policy", t->dir);
	write_text(path, "set office { 198.51.100.0/24, 2001:db8:1::/48 }\n");
	snprintf(path, sizeof(path), "%s/sub/more.policy", t->dir);
	write_text(path,
		   "include \"../sets/common.policy\"\n"
		   "service mail { direction out; protocol tcp; ports 25, 587; peers @office, mx.example.test; action allow }\n");
	snprintf(t->top, sizeof(t->top), "%s/top.policy", t->dir);
	write_text(t->top,
		   "default deny\nreplies stateless\ninclude \"sets/common.policy\"\n"
		   "service web { direction in; protocol tcp; ports 443, 8000-8080; peers @office, 192.0.2.0/24; action allow }\n"
		   "include \"sub/more.policy\"\n"
		   "service ping { direction in; protocol icmp; types echo-request; peers any; action allow }\n");
}

static void remove_tree(struct tree *t)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", t->dir);
	assert_int_equal(system(cmd), 0);
}

/* The compiled image as text: equal text, equal policy in force. */
static char *image_text(const struct tg_policy *pol, const struct tg_hostmap *hosts)
{
	struct tg_image img = { 0 };
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);

	assert_int_equal(tg_compile(pol, TG_FACING_OUTSIDE, hosts, &img), 0);
	tg_image_print(&img, out);
	fclose(out);
	tg_image_free(&img);
	return text;
}

static void record_of(const char *top, uint8_t **bytes, size_t *len, char **image)
{
	struct loaded l;

	assert_int_equal(load_file(&l, top), 0);
	assert_int_equal(tg_hostmap_add_spec(&l.hosts, "mx.example.test=203.0.113.25,2001:db8::25"), 0);
	tg_snapshot_encode(&l.diags, bytes, len);
	*image = image_text(&l.pol, &l.hosts);
	unload(&l);
}

static void the_record_compiles_to_the_same_image_without_the_files(void **state)
{
	struct tree t;
	struct tg_snapshot snap;
	struct loaded l = { 0 };
	uint8_t *bytes;
	size_t len;
	char *before, *after;

	(void)state;
	make_tree(&t);
	record_of(t.top, &bytes, &len, &before);
	remove_tree(&t); /* what the loader read is gone from the disk */
	assert_int_equal(tg_snapshot_decode(bytes, len, &snap), 0);
	assert_int_equal(snap.nfiles, 3); /* common.policy once, though included twice */
	tg_diags_init(&l.diags, NULL);
	assert_int_equal(tg_snapshot_parse(&snap, &l.pol, &l.diags), 0);
	assert_int_equal(tg_hostmap_add_spec(&l.hosts, "mx.example.test=203.0.113.25,2001:db8::25"), 0);
	after = image_text(&l.pol, &l.hosts);
	assert_string_equal(before, after);
	assert_int_equal(l.pol.nservices, 3);
	unload(&l);
	tg_snapshot_free(&snap);
	free(bytes);
	free(before);
	free(after);
}

static void damaged_records_are_refused(void **state)
{
	struct tree t;
	struct tg_snapshot snap;
	uint8_t *bytes;
	size_t len;
	char *image;

	(void)state;
	make_tree(&t);
	record_of(t.top, &bytes, &len, &image);
	remove_tree(&t);
	/* Every truncation, and a byte too many. */
	for (size_t cut = 0; cut < len; cut++)
		assert_int_equal(tg_snapshot_decode(bytes, cut, &snap), -EBADMSG);
	bytes = realloc(bytes, len + 1);
	bytes[len] = 0;
	assert_int_equal(tg_snapshot_decode(bytes, len + 1, &snap), -EBADMSG);
	/* Another magic; a file count the bytes cannot hold. */
	bytes[0] ^= 1;
	assert_int_equal(tg_snapshot_decode(bytes, len, &snap), -EBADMSG);
	bytes[0] ^= 1;
	bytes[8] = 0xff;
	bytes[9] = 0xff;
	assert_int_equal(tg_snapshot_decode(bytes, len, &snap), -EBADMSG);
	free(bytes);
	free(image);
}

static void prefix_text(const struct tg_service_view *sv, char *buf, size_t size)
{
	size_t used = 0;
	char one[64];

	buf[0] = '\0';
	for (size_t i = 0; i < sv->nprefixes; i++) {
		tg_view_prefix_format(&sv->prefixes[i], one, sizeof(one));
		used += (size_t)snprintf(buf + used, size - used, "%s%s", i ? " " : "", one);
	}
}

static void the_view_lists_each_prefix_once_in_order(void **state)
{
	struct loaded l;
	struct tg_policy_view v;
	char text[512], ranges[64];

	(void)state;
	assert_int_equal(load_text(&l,
				   "default deny\nset a { 198.51.100.0/24, @b }\nset b { 192.0.2.0/24, 198.51.100.0/24, h.example.test }\n"
				   "service s { direction in; protocol tcp; ports 22, 8000-8080; peers @b, @a, 2001:db8::/32, 192.0.2.0/24; action allow }\n"
				   "service t { direction out; protocol udp; peers any; action deny }\n"),
			 0);
	assert_int_equal(tg_hostmap_add_spec(&l.hosts, "h.example.test=203.0.113.9"), 0);
	tg_view_build(&l.pol, &l.hosts, &v);
	assert_int_equal(v.nservices, 2);
	prefix_text(&v.services[0], text, sizeof(text));
	assert_string_equal(text, "192.0.2.0/24 198.51.100.0/24 203.0.113.9/32 2001:db8::/32");
	assert_int_equal(v.services[0].n4, 3);
	assert_int_equal(v.services[0].n6, 1);
	assert_int_equal(v.services[0].nhosts, 1);
	assert_string_equal(v.services[0].hosts[0], "h.example.test");
	prefix_text(&v.services[1], text, sizeof(text));
	assert_string_equal(text, "0.0.0.0/0 ::/0");
	tg_view_ranges(v.services[0].svc, ranges, sizeof(ranges));
	assert_string_equal(ranges, "22, 8000-8080");
	tg_view_ranges(v.services[1].svc, ranges, sizeof(ranges));
	assert_string_equal(ranges, "all");
	tg_view_free(&v);
	unload(&l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(the_record_compiles_to_the_same_image_without_the_files),
		cmocka_unit_test(damaged_records_are_refused),
		cmocka_unit_test(the_view_lists_each_prefix_once_in_order),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
