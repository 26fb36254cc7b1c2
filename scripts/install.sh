#!/usr/bin/env bash
# Installs tollgate (make install), or removes exactly what it installed
# (make uninstall, or: scripts/install.sh --uninstall, with the same settings).
#
#   PREFIX=/usr/local  SYSCONFDIR=/etc  SYSTEMDUNITDIR=$PREFIX/lib/systemd/system
#   DESTDIR=           staging root: everything goes under it, paths inside
#                      files (units, the manifest) do not mention it
#   EXAMPLEDIR=$SYSCONFDIR/tollgate/examples   where the example policies go
#   MANIFEST=yes       no: write no manifest (a package manager that keeps
#                      its own list, as make deb does)
#
# Installs build/tollgate, the man pages and the documents they cite (to
# $PREFIX/share/doc/tollgate), the bash completion, the systemd units (their
# paths under $SYSCONFDIR), the Grafana dashboard and Prometheus rules (to
# $PREFIX/share/tollgate/monitoring) and the example policies (to
# $EXAMPLEDIR), and the settings of the exporter and tollgate-dns
# ($SYSCONFDIR/tollgate/exporter.env, dns.env) where none exist yet. It never
# writes $SYSCONFDIR/tollgate/*.policy: those are the administrator's. The
# manifest $PREFIX/share/tollgate/installed-files lists every file installed
# ("f PATH"), every settings file with the checksum it was installed with
# ("c SHA256 PATH": removed only while unedited) and every directory the
# install created ("d PATH"), so that --uninstall removes those and nothing
# else.
set -euo pipefail
umask 022
export LC_ALL=C

TOP=$(cd "$(dirname "$0")/.." && pwd)
PREFIX=${PREFIX:-/usr/local}
SYSCONFDIR=${SYSCONFDIR:-/etc}
SYSTEMDUNITDIR=${SYSTEMDUNITDIR:-$PREFIX/lib/systemd/system}
EXAMPLEDIR=${EXAMPLEDIR:-$SYSCONFDIR/tollgate/examples}
DESTDIR=${DESTDIR:-}
SBINDIR=$PREFIX/sbin
DOCDIR=$PREFIX/share/doc/tollgate
WRITE_MANIFEST=${MANIFEST:-yes}
MANIFEST=$PREFIX/share/tollgate/installed-files

die() {
	echo "install.sh: $*" >&2
	exit 1
}

case $WRITE_MANIFEST in yes | no) ;; *) die "MANIFEST must be yes or no, not '$WRITE_MANIFEST'" ;; esac
for v in PREFIX SYSCONFDIR SYSTEMDUNITDIR EXAMPLEDIR; do
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
	local kind path sum
	while read -r kind path; do
		case $kind in
		f | d) safe_path "$path" || die "refusing manifest entry '$path'" ;;
		c)
			read -r sum path <<<"$path"
			if ! [[ $sum =~ ^[0-9a-f]{64}$ ]] || ! safe_path "$path"; then
				die "refusing manifest entry 'c $sum $path'"
			fi
			;;
		*) die "bad manifest line: $kind $path" ;;
		esac
	done <"$DESTDIR$MANIFEST"
}

uninstall() {
	local kind path sum removed=0 kept=0
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
		c)
			read -r sum path <<<"$path"
			if [ -f "$DESTDIR$path" ] && [ "$(sha256sum <"$DESTDIR$path" | cut -d' ' -f1)" = "$sum" ]; then
				rm -f -- "$DESTDIR$path"
				removed=$((removed + 1))
			elif [ -e "$DESTDIR$path" ]; then
				echo "install.sh: kept $path: edited since it was installed"
				kept=$((kept + 1))
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
	echo "install.sh: removed $removed files installed under ${DESTDIR:-/}; kept $kept edited settings file(s)"
}

# ------------------------------------------------------------------ install

declare -a FILES=() NEWDIRS=() CONFS=()
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

# put_conf SOURCE PATH: a settings file, installed only where none exists.
put_conf() {
	if [ -e "$DESTDIR$2" ]; then
		echo "install.sh: kept $2 as it is"
		return 0
	fi
	note_new_dirs "$2"
	install -D -m 0644 "$1" "$DESTDIR$2"
	CONFS+=("$(sha256sum <"$1" | cut -d' ' -f1) $2")
}

# keep_conf_entry "SHA256 PATH": an earlier install's settings file stays
# listed (with its first checksum) unless this install listed it anew.
keep_conf_entry() {
	local c
	for c in "${CONFS[@]}"; do
		[ "${c#* }" = "${1#* }" ] && return 0
	done
	CONFS+=("$1")
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
		put_file 0644 "$f" "$EXAMPLEDIR/$(basename "$f")"
	done

	# Settings: the administrator's once installed, so never overwritten; a
	# package manager (make deb) handles them as conffiles instead.
	for f in "$TOP"/packaging/etc/*.env; do
		put_conf "$f" "$SYSCONFDIR/tollgate/$(basename "$f")"
	done

	if [ "$WRITE_MANIFEST" = no ]; then
		echo "install.sh: installed ${#FILES[@]} files under ${DESTDIR:-/} (PREFIX=$PREFIX, SYSCONFDIR=$SYSCONFDIR); no manifest"
		return 0
	fi
	# A previous install's manifest: keep the directories it created (they
	# exist now, so this install did not see them as new) and the settings it
	# installed, and remove the files it installed that this version no
	# longer does.
	note_new_dirs "$MANIFEST"
	if [ -f "$DESTDIR$MANIFEST" ]; then
		check_manifest
		while read -r kind path; do
			case $kind in
			d) NEWDIRS+=("$path") ;;
			c) keep_conf_entry "$path" ;;
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
		if [ ${#CONFS[@]} -gt 0 ]; then
			printf 'c %s\n' "${CONFS[@]}"
		fi
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
