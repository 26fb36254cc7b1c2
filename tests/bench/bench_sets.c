// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Set walks at their worst: sets that refer to the next level FANOUT times
 * over, LEVELS deep. Every walk over sets (the reference classifier, which
 * the SSH guard runs under the interface lock, and check's analysis) must
 * look into each set once, so the time grows with the number of sets
 * (FANOUT x LEVELS), not with FANOUT^LEVELS. Prints the median of RUNS per
 * shape, and the ratio to a chain with the same number of sets.
 */
#include "compile/analyse.h"
#include "compile/compile.h"
#include "kernel/generation.h"
#include "lib/util.h"
#include "model/classify.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *append(char *text, size_t *used, size_t *cap, const char *piece)
{
	size_t n = strlen(piece);

	VEC_RESERVE(text, *cap, *used + n + 1);
	memcpy(text + *used, piece, n + 1);
	*used += n;
	return text;
}

/* Level i has FANOUT sets, each naming every set of level i + 1; a chain
 * (fanout 1 per reference) has the same sets, each naming one. */
static char *policy_text(int fanout, int levels, bool chain)
{
	size_t used = 0, cap = 0;
	char *text = append(NULL, &used, &cap, "default deny\n"), line[64];

	for (int i = 0; i < levels; i++)
		for (int k = 0; k < fanout; k++) {
			snprintf(line, sizeof(line), "set l%dk%d {", i, k);
			text = append(text, &used, &cap, line);
			for (int r = 0; r < (chain ? 1 : fanout); r++) {
				snprintf(line, sizeof(line), "%s @l%dk%d", r ? "," : "", i + 1, chain ? k : r);
				text = append(text, &used, &cap, line);
			}
			text = append(text, &used, &cap, " }\n");
		}
	for (int k = 0; k < fanout; k++) {
		snprintf(line, sizeof(line), "set l%dk%d { 198.51.100.%d }\n", levels, k, k + 1);
		text = append(text, &used, &cap, line);
	}
	text = append(text, &used, &cap, "service ssh { direction in; protocol tcp; ports 22; peers");
	for (int k = 0; k < (chain ? fanout : 1); k++) {
		snprintf(line, sizeof(line), "%s @l0k%d", k ? "," : "", k);
		text = append(text, &used, &cap, line);
	}
	return append(text, &used, &cap, "; action allow }\n");
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Median ns of one classification of a packet that no set holds (every set is looked into). */
static uint64_t time_walks(const char *text, int runs, uint64_t *check_ns)
{
	uint64_t *t = xcalloc((size_t)runs, sizeof(*t)), *c = xcalloc((size_t)runs, sizeof(*c)), median;
	struct tg_pkt pkt = { .kind = TG_PKT_IP, .family = TG_FAMILY_V4, .protocol = IPPROTO_TCP, .dport = 22 };
	struct tg_policy pol;
	struct tg_diags diags;
	struct tg_decision d;

	inet_pton(AF_INET, "203.0.113.9", pkt.src);
	tg_diags_init(&diags, NULL);
	if (tg_policy_parse_buffer(&pol, &diags, "sets.policy", text, strlen(text))) {
		fprintf(stderr, "bench_sets: the generated policy does not parse\n");
		exit(1);
	}
	for (int r = 0; r < runs; r++) {
		struct tg_image img;
		const struct tg_image *one[] = { &img };
		uint64_t start = tg_monotonic_ns();

		tg_reference_classify(&pol, NULL, TG_FACING_OUTSIDE, &pkt, &d);
		t[r] = tg_monotonic_ns() - start;
		start = tg_monotonic_ns();
		if (tg_compile(&pol, TG_FACING_OUTSIDE, NULL, &img) == 0) {
			tg_report_analysis(&pol, NULL, one, 1, &diags);
			tg_image_free(&img);
		}
		c[r] = tg_monotonic_ns() - start;
	}
	qsort(t, (size_t)runs, sizeof(*t), cmp_u64);
	qsort(c, (size_t)runs, sizeof(*c), cmp_u64);
	median = t[runs / 2];
	*check_ns = c[runs / 2];
	tg_policy_free(&pol);
	tg_diags_free(&diags);
	free(t);
	free(c);
	return median;
}

int main(int argc, char **argv)
{
	static const struct {
		int fanout, levels;
	} shapes[] = { { 2, 26 }, { 2, 31 }, { 4, 20 }, { 8, 12 } };
	int runs = argc > 1 ? atoi(argv[1]) : 5;

	printf("%-8s %-7s %6s %14s %14s %9s %16s\n", "fan-out", "levels", "sets", "classify-us", "chain-us", "ratio",
	       "compile+check-ms");
	for (size_t i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
		char *diamond = policy_text(shapes[i].fanout, shapes[i].levels, false);
		char *chain = policy_text(shapes[i].fanout, shapes[i].levels, true);
		uint64_t check_ns, chain_check_ns;
		uint64_t walk = time_walks(diamond, runs < 1 ? 1 : runs, &check_ns);
		uint64_t flat = time_walks(chain, runs < 1 ? 1 : runs, &chain_check_ns);

		printf("%-8d %-7d %6d %14.1f %14.1f %9.2f %16.2f\n", shapes[i].fanout, shapes[i].levels,
		       shapes[i].fanout * (shapes[i].levels + 1), walk / 1e3, flat / 1e3,
		       flat ? (double)walk / (double)flat : 0.0, check_ns / 1e6);
		free(diamond);
		free(chain);
	}
	printf("(each set referenced fan-out times; a linear walk keeps the ratio near 1 at any depth,\n"
	       " an exponential one would take fan-out^levels set visits)\n");
	return 0;
}
