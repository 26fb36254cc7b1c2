#!/usr/bin/env bash
# make deb: builds build/deb/tollgate_VERSION_ARCH.deb with debhelper from a
# copy of the files git tracks (as they are in the work tree), so that what
# is not part of the project (build/, local files) never reaches the package.
#
# The version is scripts/version.sh's in Debian's spelling: a release tag
# 1.2.0 gives 1.2.0; 1.2.0-5-gabc1234 (five commits after it) gives
# 1.2.0+git5.gabc1234, which sorts after 1.2.0 and before 1.2.1, and
# uncommitted changes add +dirty.
set -euo pipefail
export LC_ALL=C

TOP=$(cd "$(dirname "$0")/.." && pwd)
OUT=$TOP/build/deb

die() {
	echo "deb.sh: $*" >&2
	exit 1
}

command -v dpkg-buildpackage >/dev/null ||
	die "dpkg-buildpackage not found (apt-get install dpkg-dev debhelper fakeroot)"
git -C "$TOP" rev-parse --git-dir >/dev/null 2>&1 || die "not a git checkout: $TOP"

debian_version() { # GIT_VERSION: prints it in Debian's spelling
	local v=$1 dirty=
	case $v in *-dirty) v=${v%-dirty} dirty=+dirty ;; esac
	if [[ $v =~ ^(.*)-([0-9]+)-(g[0-9a-f]+)$ ]]; then
		v="${BASH_REMATCH[1]}+git${BASH_REMATCH[2]}.${BASH_REMATCH[3]}"
	fi
	[[ $v =~ ^[0-9][A-Za-z0-9.+~]*$ ]] || die "cannot make a Debian version of '$1$dirty'"
	echo "$v$dirty"
}

read -r git_version commit < <("$TOP/scripts/version.sh")
version=$(debian_version "$git_version")

# What the build needs, checked before anything is copied.
if ! missing=$(cd "$TOP" && dpkg-checkbuilddeps 2>&1); then
	die "${missing#dpkg-checkbuilddeps: }; apt-get install them (the list is debian/control's Build-Depends)"
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
src=$work/tollgate-$version
mkdir -p "$src"
# A tracked file deleted in the work tree is left out, as the build sees it.
(cd "$TOP" && git ls-files -z --cached --deleted | sort -z | uniq -zu | tar --null -T - -cf -) | tar -C "$src" -xf - ||
	die "cannot copy the tracked files to $src"

when=$(date -R -d "@$(git -C "$TOP" log -1 --format=%ct)")
cat >"$src/debian/changelog" <<EOF
tollgate ($version) unstable; urgency=medium

  * Built by make deb from commit $commit.

 -- tollgate developers <tollgate@example.org>  $when
EOF

echo "deb.sh: building tollgate $version"
# No .git in the copy: scripts/version.sh takes the version from here, so
# tollgate --version says what the checkout's build would.
if ! (cd "$src" && TG_VERSION=$git_version TG_COMMIT=$commit \
	dpkg-buildpackage --build=binary --no-sign -j"$(nproc)") >"$work/build.log" 2>&1; then
	tail -n 40 "$work/build.log" >&2
	die "dpkg-buildpackage failed (the log's end is above)"
fi

mkdir -p "$OUT"
# Only the newest build: make oci and the tests take "the" package here.
rm -f "$OUT"/tollgate*
cp "$work"/tollgate*_"$version"_* "$OUT"/
ls "$OUT"/tollgate_"$version"_*.deb
