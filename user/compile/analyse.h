/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* What `check` warns about: services an image can never reach or shadows. */
#ifndef TG_ANALYSE_H
#define TG_ANALYSE_H

#include "compile/image.h"
#include "policy/diag.h"
#include "policy/hostmap.h"
#include "policy/policy.h"

/* Marks services an image can never reach or that earlier ones shadow. */
void tg_image_analyse(struct tg_image *img);
/* Warns about them, given images of the same policy for one or more facings. */
void tg_report_analysis(const struct tg_policy *pol, const struct tg_hostmap *hosts, const struct tg_image *const *imgs,
			size_t nimgs, struct tg_diags *diags);

#endif
