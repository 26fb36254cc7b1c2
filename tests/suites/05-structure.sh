#!/usr/bin/env bash
# The house rules that a compiler does not check: user/'s folders include
# only the layers below them, modules below the commands never print, the
# tree is formatted, and the man page's synopsis and the bash completion say
# what the commands' option tables say.
. "$(dirname "$0")/../lib.sh"
cd "$TOP" || exit 1

# ------------------------------------------------------------------ layers
# Who may include whom (docs/design.md, "Parts"). model and compile are
# siblings: the reference model must not lean on what it checks.
declare -A allowed=(
	[lib]="lib"
	[policy]="lib policy"
	[compile]="lib policy compile"
	[model]="lib policy model"
	[kernel]="lib policy compile kernel"
	[export]="lib policy compile kernel export"
	[cli]="lib policy compile model kernel export cli"
)
for layer in "${!allowed[@]}"; do
	[ -d "user/$layer" ] || { fail "layers/$layer" "user/$layer is missing"; continue; }
	bad=""
	while IFS=: read -r file _ inc; do
		dep=${inc#*\"}
		dep=${dep%%/*}
		[[ $inc == *'"'*/* ]] || continue # tollgate.h, the skeleton
		[[ " ${allowed[$layer]} " == *" $dep "* ]] || bad+="$file includes $dep/; "
	done < <(grep -Hn '^#include "' user/"$layer"/*.[ch])
	if [ -z "$bad" ]; then ok "layers/$layer"; else fail "layers/$layer" "$bad"; fi
done
stray=$(find user -maxdepth 1 -type f -name '*.[ch]')
if [ -z "$stray" ]; then ok layers/no-loose-files; else fail layers/no-loose-files "$stray"; fi

# Only the commands talk to the user; modules return errors (docs/style.md).
# The policy diagnostics (policy/diag.c), the log itself and the one
# out-of-memory exit are the exceptions.
talkers=$(grep -nE '\btg_(err|warn|info)\(|(^|[^sn])printf\(|\bstd(err|out)\b' \
	user/{lib,policy,compile,model,kernel,export}/*.c |
	grep -vE '^user/(lib/log\.c|policy/diag\.c):|^user/lib/util\.c:.*out of memory|fprintf\(out')
if [ -z "$talkers" ]; then ok style/modules-do-not-print; else fail style/modules-do-not-print "$talkers"; fi

# -------------------------------------------------------------- formatting
CLANG_FORMAT=${CLANG_FORMAT:-clang-format-14}
if command -v "$CLANG_FORMAT" >/dev/null 2>&1; then
	mapfile -t sources < <(git ls-files 'user/*.[ch]' 'bpf/*.[ch]' 'include/*.h' 'tests/*.[ch]')
	if out=$("$CLANG_FORMAT" --dry-run --Werror --style=file "${sources[@]}" 2>&1); then
		ok style/clang-format
	else
		fail style/clang-format "$(grep -c 'error:' <<<"$out") places differ; run 'make format': $(grep -m3 'error:' <<<"$out" | tr '\n' ' ')"
	fi
else
	fail style/clang-format "clang-format-14 is not installed (scripts/install-deps.sh installs it)"
fi

# ------------------------------------------------- option tables, man, completion
table=$("$TG" options 2>&1) || { fail options/table "tollgate options failed: $table"; exit 0; }
mapfile -t commands < <(cut -f1 <<<"$table")

# The man page's synopsis, one command per line, troff removed.
synopsis=$(awk '
	/^\.SH SYNOPSIS/ { on = 1; next }
	/^\.SH/ { on = 0 }
	!on { next }
	/^\.(PP|SS)/ { if (cur != "") print cur; cur = ""; next }
	{
		macro = $1
		rest = substr($0, length($1) + 2)
		gsub(/\\-/, "-", rest)
		if (macro == ".B" || macro == ".I") {
			text = rest
		} else { # alternating fonts: the arguments run together
			text = ""
			while (length(rest)) {
				if (substr(rest, 1, 1) == "\"") {
					j = index(substr(rest, 2), "\"")
					arg = substr(rest, 2, j - 1)
					rest = substr(rest, j + 2)
				} else {
					j = index(rest, " ")
					if (j == 0) { arg = rest; rest = "" } else { arg = substr(rest, 1, j - 1); rest = substr(rest, j + 1) }
				}
				sub(/^ +/, "", rest)
				text = text arg
			}
		}
		cur = (cur == "" ? text : cur " " text)
	}
	END { if (cur != "") print cur }' docs/tollgate.8)

for cmd in "${commands[@]}"; do
	want=$("$TG" "$cmd" --help 2>&1 | head -n 1)
	want=${want#usage: }
	got=$(grep -m1 "^tollgate $cmd\( \|$\)" <<<"$synopsis")
	if [ "$got" = "$want" ]; then
		ok "man/synopsis-$cmd"
	else
		fail "man/synopsis-$cmd" "tollgate.8 says '$got', the option table '$want'"
	fi
done
for opt in --verbose --quiet; do
	if grep -q -- "^\.BR \?.*\\\\-\\\\-${opt#--}" docs/tollgate.8 || grep -q -- "\\\\-\\\\-${opt#--}" docs/tollgate.8; then
		ok "man/documents$opt"
	else
		fail "man/documents$opt" "tollgate.8 does not mention $opt"
	fi
done

# The completion, asked as bash asks it: the commands, and each command's options.
completion=packaging/bash-completion/tollgate
words() { tr ' \t' '\n\n' <<<"$1" | grep -v '^$' | LC_ALL=C sort -u | tr '\n' ' '; }
offers() {
	bash --norc --noprofile -c '
		. "$1"
		shift
		COMP_WORDS=("$@")
		COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
		_tollgate tollgate "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
		printf "%s\n" "${COMPREPLY[@]}"' _ "$completion" "$@" 2>&1
}
got=$(offers tollgate '')
if [ "$(words "$got")" = "$(words "${commands[*]} help")" ]; then
	ok completion/commands-match
else
	fail completion/commands-match "completion offers '$(words "$got")', tollgate has '${commands[*]} help'"
fi
for cmd in "${commands[@]}"; do
	line=$(grep -P "^$cmd\t" <<<"$table")
	want=$(words "$(cut -f2,3 <<<"$line")")
	got=$(words "$(offers tollgate "$cmd" --)")
	if [ "$got" = "$want" ]; then
		ok "completion/options-$cmd"
	else
		fail "completion/options-$cmd" "completion offers '$got', the option table '$want'"
	fi
	# Options that take a value must be known as such, or their value is
	# counted as an operand: compare the case line's args= with the table.
	args=$(grep -E "^[[:space:]]*([a-z-]+ \| )*$cmd( \| [a-z-]+)*\) args=" "$completion" | sed "s/.* args='\([^']*\)'.*/\1/")
	if [ "$(words "$args")" = "$(words "$(cut -f2 <<<"$line")")" ]; then
		ok "completion/values-$cmd"
	else
		fail "completion/values-$cmd" "completion takes values for '$args', the option table for '$(cut -f2 <<<"$line")'"
	fi
done
