// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * libFuzzer target: any byte string through the parser, and every policy it
 * accepts through the compiler for both facings and through the reference
 * classifier with a packet cut from the same bytes.
 */
#include "compile/analyse.h"
#include "compile/compile.h"
#include "model/classify.h"
#include "policy/policy.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tg_diags diags;
	struct tg_policy pol;
	struct tg_image img;
	struct tg_pkt pkt;
	struct tg_decision d;

	tg_diags_init(&diags, NULL);
	if (tg_policy_parse_buffer(&pol, &diags, "fuzz.policy", (const char *)data, size) == 0) {
		for (int facing = 0; facing < 2; facing++) {
			if (tg_compile(&pol, facing, NULL, &img) == 0) {
				const struct tg_image *one[] = { &img };

				tg_report_analysis(&pol, NULL, one, 1, &diags);
				tg_image_free(&img);
			}
			tg_pkt_parse(data, size > 128 ? 128 : size, &pkt);
			tg_reference_classify(&pol, NULL, facing, &pkt, &d);
		}
	}
	tg_policy_free(&pol);
	tg_diags_free(&diags);
	return 0;
}
