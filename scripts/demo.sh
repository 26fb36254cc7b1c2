#!/usr/bin/env bash
# `make demo`: what tollgate does with the shipped vendor tables, offline.
set -euo pipefail
TOP=$(cd "$(dirname "$0")/.." && pwd)
TG=$TOP/build/tollgate
cd "$TOP"

for p in policies/notarius.policy policies/cryptshare.policy; do
	echo "=================================================================="
	echo "tollgate check $p"
	"$TG" check "$p"
	echo
	echo "tollgate compile --facing outside $p   (the map image, abridged)"
	"$TG" compile --facing outside "$p" | awk '
		/^classes /  { skip = 1; print; next }
		/^ipv4 /     { skip = 0 }
		skip         { next }
		{ print }'
	echo
done
