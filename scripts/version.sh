#!/bin/sh
# Prints the build's version and commit, one line: "VERSION COMMIT".
#
# The version is `git describe` when the history has a tag. Until the first
# release tag it is 0.0.0-COUNT-gHASH: what describe would say with a tag
# v0.0.0 on the first commit, so versions still sort by history. "-dirty"
# marks uncommitted changes. Outside a git checkout (a release tarball) the
# packager sets TG_VERSION and TG_COMMIT; otherwise both are "unknown".
set -eu
cd "$(dirname "$0")/.."
if [ -n "${TG_VERSION:-}" ]; then
	echo "$TG_VERSION ${TG_COMMIT:-unknown}"
	exit 0
fi
if ! git rev-parse --git-dir >/dev/null 2>&1; then
	echo "unknown unknown"
	exit 0
fi
commit=$(git rev-parse --short=12 HEAD)
if version=$(git describe --tags --dirty 2>/dev/null); then
	version=${version#v}
else
	version="0.0.0-$(git rev-list --count HEAD)-g$(git rev-parse --short HEAD)"
	git update-index -q --refresh >/dev/null 2>&1 || true
	git diff-index --quiet HEAD -- 2>/dev/null || version="$version-dirty"
fi
echo "$version $commit"
