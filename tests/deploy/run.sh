#!/usr/bin/env bash
# make check-deploy: the fleet paths, end to end (docs/deploy.md), as a
# second stage beside make check (whose suites it does not repeat):
#   make deb and lintian; the OCI image and the Kubernetes manifests
#   (tests/deploy/image.sh); the package, its units, the Ansible role and
#   the image under real systemd in a VM (tests/deploy/systemd.sh).
# Ends with "N passed, N failed", like tests/run.sh.
set -u
TOP=$(cd "$(dirname "$0")/../.." && pwd)
cd "$TOP" || exit 1
results=$(mktemp)
out=$(mktemp -d)
trap 'rm -rf "$results" "$out"' EXIT
emit() { tee -a "$results" | grep -v '^ok '; }
ok() { echo "ok deploy/$1" | emit; }
fail() { echo "FAIL deploy/$1: $2" | emit; }

start=$(date +%s)
echo "== deploy"
deb=""
if log=$(make --no-print-directory deb 2>&1); then
	deb=$(tail -n 1 <<<"$log")
	ok make-deb
else
	fail make-deb "$(tail -n 5 <<<"$log" | tr '\n' ' ')"
fi
if [ -n "$deb" ]; then
	# Errors and warnings fail; the overrides are explained in debian/.
	if log=$(lintian --fail-on error,warning "${deb%_*.deb}"_*.changes 2>&1); then ok lintian; else
		fail lintian "$(grep -E '^[EW]:' <<<"$log" | head -n 5 | tr '\n' ' ')"
	fi
	oci=""
	image_rootfs=$(scripts/rootfs.sh image) || fail image-rootfs "scripts/rootfs.sh image failed"
	if [ -n "$image_rootfs" ]; then
		TG=$TOP/build/tollgate bash tests/deploy/image.sh "$deb" "$image_rootfs" "$out/oci" | emit
		oci=$(find "$out/oci" -maxdepth 1 -name "tollgate-*.oci.tar" 2>/dev/null | head -n 1)
	fi
	bash tests/deploy/systemd.sh "$deb" "$oci" | emit
fi
echo "   ($(($(date +%s) - start))s)"

passed=$(grep -c '^ok ' "$results")
failed=$(grep -c '^FAIL ' "$results")
if [ "$failed" -gt 0 ]; then
	echo
	echo "Failures:"
	grep '^FAIL ' "$results"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
