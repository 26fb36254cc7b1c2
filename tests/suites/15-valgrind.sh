#!/usr/bin/env bash
# The CLI (the plain build, not the sanitizer one) under valgrind: no invalid
# access, no uninitialised use, no leak, on good and bad input and through
# the BPF loader. libbpf's own partly-filled bpf_attr unions are suppressed
# (tests/valgrind.supp); nothing of tollgate's is.
. "$(dirname "$0")/../lib.sh"
need_bpffs
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$TOP"
VG=(valgrind -q --suppressions="$TOP/tests/valgrind.supp" --error-exitcode=99 --leak-check=full
	--errors-for-leak-kinds=definite,indirect --show-leak-kinds=definite,indirect)

vg() { # name expected-exit command...
	local name=$1 want=$2 rc
	shift 2
	"${VG[@]}" "$BUILD/tollgate" "$@" >/dev/null 2>"$work/err"
	rc=$?
	if [ $rc -eq "$want" ]; then
		ok "valgrind/$name"
	else
		fail "valgrind/$name" "exit $rc (want $want): $(grep -m3 -E '==[0-9]+== [A-Z]' "$work/err" | tr '\n' ' ')"
	fi
}

"$BUILD/mkcapture" notarius "$work/n.pcap" "$work/n.expect"
: >"$work/empty.pcap"
vg check-notarius 0 check policies/notarius.policy
vg check-cryptshare 0 check --facing inside policies/cryptshare.policy
vg check-shadowed 0 check tests/golden/overlapping-cidrs.policy
vg compile-inside 0 compile --facing inside --host mirror.example.net=2001:db8:ffff::80 tests/golden/ipv6.policy
for bad in set-cycle-three include-loop-via-inc string-backslash-at-end-of-line service-unclosed-before-next port-70000; do
	vg "bad-$bad" 1 check "tests/policies/bad/$bad.policy"
done
vg replay-json 0 replay --json --host support.notarius.com=198.51.100.7 policies/notarius.policy "$work/n.pcap"
vg replay-empty-capture 1 replay policies/notarius.policy "$work/empty.pcap"
vg usage-error 2 attach
