// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "export/version.h"

#include <bpf/libbpf.h>
#include <stdio.h>

/* The Makefile defines these for this file only; a build without them
 * (another build system) still says what it can. */
#ifndef TG_VERSION
#define TG_VERSION "unknown"
#endif
#ifndef TG_COMMIT
#define TG_COMMIT "unknown"
#endif
#ifndef TG_LIBXDP_BUILT
#define TG_LIBXDP_BUILT "unknown"
#endif

void tg_build_info(struct tg_build_info *info)
{
	info->version = TG_VERSION;
	info->commit = TG_COMMIT;
	info->libxdp = TG_LIBXDP_BUILT;
	/* libbpf_version_string() says "v1.1"; the metric wants the number. */
	snprintf(info->libbpf, sizeof(info->libbpf), "%u.%u", libbpf_major_version(), libbpf_minor_version());
}
