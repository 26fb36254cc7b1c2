#!/usr/bin/env bash
# Installs tollgate (make install), or removes exactly what it installed
# (make uninstall, or: scripts/install.sh --uninstall, with the same settings).
#
#   PREFIX=/usr/local  SYSCONFDIR=/etc  SYSTEMDUNITDIR=$PREFIX/lib/systemd/system
#   DESTDIR=           staging root: everything goes under it, paths inside
#                      files (units, the manifest) do not mention it
#
# Installs build/tollgate, the man pages and the documents they cite (to
# $PREFIX/share/doc/tollgate), the bash completion, the systemd units (their
# paths under $SYSCONFDIR), the Grafana dashboard and Prometheus rules (to
# $PREFIX/share/tollgate/monitoring) and the example policies (to
# $SYSCONFDIR/tollgate/examples). It never
# writes $SYSCONFDIR/tollgate/*.policy: those are the administrator's. The
# manifest $PREFIX/share/tollgate/installed-files lists every file installed
# ("f PATH") and every directory the install created ("d PATH"), so that
# --uninstall removes those and nothing else.
set -euo pipefail
umask 022
export LC_ALL=C

TOP=$(cd "$(dirname "$0")/.." && pwd)
PREFIX=${PREFIX:-/usr/local}
SYSCONFDIR=${SYSCONFDIR:-/etc}
SYSTEMDUNITDIR=${SYSTEMDUNITDIR:-$PREFIX/lib/systemd/system}
DESTDIR=${DESTDIR:-}
SBINDIR=$PREFIX/sbin
DOCDIR=$PREFIX/share/doc/tollgate
MANIFEST=$PREFIX/share/tollgate/installed-files

die() {
	echo "install.sh: $*" >&2
	exit 1
}

for v in PREFIX SYSCONFDIR SYSTEMDUNITDIR; do
	case ${!v} in
	/*) ;;
	*) die "$v must be an absolute path, not '${!v}'" ;;
	esac
done

# A manifest line names an absolute path without "..": refuse anything else.
safe_path() {
	case $1 in
	*/../* | */.. | */./* | */. | *//* | *$'\n'*) return 1 ;;
	/*) return 0 ;;
	*) return 1 ;;
	esac
}

# The whole manifest is checked before anything in it is removed.
check_manifest() {
	local kind path
	while read -r kind path; do
		case $kind in
		f | d) safe_path "$path" || die "refusing manifest entry '$path'" ;;
		*) die "bad manifest line: $kind $path" ;;
		esac
	done <"$DESTDIR$MANIFEST"
}

uninstall() {
	local kind path removed=0
	local -a dirs=()
	[ -f "$DESTDIR$MANIFEST" ] || die "nothing to uninstall: no $DESTDIR$MANIFEST (same PREFIX and DESTDIR as the install?)"
	check_manifest
	while read -r kind path; do
		case $kind in
		f)
			if [ -e "$DESTDIR$path" ] || [ -L "$DESTDIR$path" ]; then
				rm -f -- "$DESTDIR$path"
				removed=$((removed + 1))
			fi
			;;
		d) dirs+=("$path") ;;
		esac
	done <"$DESTDIR$MANIFEST"
	# The manifest lists itself, so it is gone now. Deepest directories first;
	# one that holds anything else (an administrator's policy) stays.
	if [ ${#dirs[@]} -gt 0 ]; then
		while read -r path; do
			rmdir -- "$DESTDIR$path" 2>/dev/null || true
		done < <(printf '%s\n' "${dirs[@]}" | sort -r)
	fi
	echo "install.sh: removed $removed files installed under ${DESTDIR:-/}"
}

# ------------------------------------------------------------------ install

declare -a FILES=() NEWDIRS=()
STAGE=

# Records the directories that put_file's install -D is about to create.
note_new_dirs() {
	local d
	d=$(dirname "$1")
	while [ "$d" != / ] && [ ! -d "$DESTDIR$d" ]; do
		NEWDIRS+=("$d")
		d=$(dirname "$d")
	done
}

# put_file MODE SOURCE PATH: install SOURCE as $DESTDIR/PATH.
put_file() {
	note_new_dirs "$3"
	install -D -m "$1" "$2" "$DESTDIR$3"
	FILES+=("$3")
}

install_all() {
	local f unit old kind path
	[ -x "$TOP/build/tollgate" ] || die "no build/tollgate: run make first"
	STAGE=$(mktemp -d)
	trap 'rm -rf "$STAGE"' EXIT

	put_file 0755 "$TOP/build/tollgate" "$SBINDIR/tollgate"

	gzip -9n <"$TOP/docs/tollgate.8" >"$STAGE/tollgate.8.gz"
	gzip -9n <"$TOP/docs/tollgate.policy.5" >"$STAGE/tollgate.policy.5.gz"
	put_file 0644 "$STAGE/tollgate.8.gz" "$PREFIX/share/man/man8/tollgate.8.gz"
	put_file 0644 "$STAGE/tollgate.policy.5.gz" "$PREFIX/share/man/man5/tollgate.policy.5.gz"

	put_file 0644 "$TOP/packaging/bash-completion/tollgate" "$PREFIX/share/bash-completion/completions/tollgate"

	# What the man pages cite, and the dashboard and alert rules for monitoring.
	for f in README.md docs/policy.md docs/design.md docs/metrics.md; do
		put_file 0644 "$TOP/$f" "$DOCDIR/$(basename "$f")"
	done
	for f in "$TOP"/packaging/monitoring/*; do
		case $f in *.test.yml) continue ;; esac
		put_file 0644 "$f" "$PREFIX/share/tollgate/monitoring/$(basename "$f")"
	done

	for f in "$TOP"/packaging/systemd/*.service; do
		unit=$(basename "$f")
		sed -e "s|@SBINDIR@|$SBINDIR|g" -e "s|@SYSCONFDIR@|$SYSCONFDIR|g" "$f" >"$STAGE/$unit"
		if grep -q '@[A-Z]*@' "$STAGE/$unit"; then
			die "$unit: placeholder left after substitution: $(grep -m1 '@[A-Z]*@' "$STAGE/$unit")"
		fi
		put_file 0644 "$STAGE/$unit" "$SYSTEMDUNITDIR/$unit"
	done

	# Always refreshed: they are ours. The live policies beside them are not.
	for f in "$TOP"/policies/*.policy; do
		put_file 0644 "$f" "$SYSCONFDIR/tollgate/examples/$(basename "$f")"
	done

	# A previous install's manifest: keep the directories it created (they
	# exist now, so this install did not see them as new), and remove the
	# files it installed that this version no longer does.
	note_new_dirs "$MANIFEST"
	if [ -f "$DESTDIR$MANIFEST" ]; then
		check_manifest
		while read -r kind path; do
			case $kind in
			d) NEWDIRS+=("$path") ;;
			f)
				old=1
				for f in "${FILES[@]}" "$MANIFEST"; do
					[ "$f" = "$path" ] && old=0 && break
				done
				[ $old -eq 1 ] && rm -f -- "$DESTDIR$path"
				;;
			esac
		done <"$DESTDIR$MANIFEST"
	fi
	FILES+=("$MANIFEST")
	{
		printf 'f %s\n' "${FILES[@]}"
		if [ ${#NEWDIRS[@]} -gt 0 ]; then
			printf 'd %s\n' "${NEWDIRS[@]}" | sort -u
		fi
	} >"$STAGE/installed-files"
	install -D -m 0644 "$STAGE/installed-files" "$DESTDIR$MANIFEST"

	echo "install.sh: installed ${#FILES[@]} files under ${DESTDIR:-/} (PREFIX=$PREFIX, SYSCONFDIR=$SYSCONFDIR); manifest $MANIFEST"
	if [ -z "$DESTDIR" ] && [ -d /run/systemd/system ]; then
		echo "install.sh: run 'systemctl daemon-reload' to make systemd see the units"
	fi
}

case ${1:-} in
"") install_all ;;
--uninstall) uninstall ;;
-h | --help)
	sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"
	;;
*) die "usage: scripts/install.sh [--uninstall]" ;;
esac
