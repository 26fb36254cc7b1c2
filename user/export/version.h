/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Which build this is: `tollgate --version` and tollgate_build_info. */
#ifndef TG_VERSION_H
#define TG_VERSION_H

struct tg_build_info {
	const char *version; /* scripts/version.sh: git describe, or 0.0.0-COUNT-gHASH */
	const char *commit;  /* 12 hex digits, or "unknown" outside git */
	char libbpf[16];     /* the libbpf loaded at run time, "1.1" */
	const char *libxdp;  /* the libxdp built against (it has no run-time query) */
};

void tg_build_info(struct tg_build_info *info);

#endif
