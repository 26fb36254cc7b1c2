#!/usr/bin/env bash
# The monitoring that ships in packaging/monitoring/: the alerting rules
# load without a warning, their unit tests pass and cover every alert both
# ways, and the rules and the Grafana dashboard name only the metrics that
# docs/metrics.md documents. Offline: no root, no BPF, no network.
. "$(dirname "$0")/../lib.sh"
cd "$TOP" || exit 1
MON=packaging/monitoring
CHECK=tests/monitoring_check.py
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if ! command -v promtool >/dev/null 2>&1; then
	fail monitoring/promtool "promtool is not installed (Debian's prometheus package; scripts/install-deps.sh)"
else
	# --lint=all --lint-fatal: a lint finding (duplicate rules) fails too,
	# and any other output than the success lines is a warning.
	out=$(promtool check rules --lint=all --lint-fatal "$MON/tollgate-rules.yml" 2>&1)
	rc=$?
	extra=$(grep -vE '^Checking |^  SUCCESS: [0-9]+ rules found$|^$' <<<"$out")
	if [ $rc -eq 0 ] && [ -z "$extra" ]; then
		ok monitoring/rules-check
	else
		fail monitoring/rules-check "exit $rc: $(tr '\n' ' ' <<<"$out" | tail -c 400)"
	fi

	out=$(promtool test rules "$MON/tollgate-rules.test.yml" 2>&1)
	rc=$?
	if [ $rc -eq 0 ] && grep -q SUCCESS <<<"$out"; then
		ok monitoring/rules-unit-tests
	else
		fail monitoring/rules-unit-tests "exit $rc: $(grep -v '^$' <<<"$out" | head -n 20 | tr '\n' ' ' | tail -c 600)"
	fi

	# A rules file that is not valid must fail the check, or the first
	# case proves nothing.
	sed 's/^\(        expr: \)tollgate_enforcing == 0$/\1tollgate_enforcing ==/' "$MON/tollgate-rules.yml" >"$work/broken-rules.yml"
	if cmp -s "$MON/tollgate-rules.yml" "$work/broken-rules.yml"; then
		fail monitoring/rules-check-catches-errors "could not break a copy of the rules (the TollgateNotEnforcing expr changed?)"
	else
		expect_fail monitoring/rules-check-catches-errors promtool check rules "$work/broken-rules.yml"
	fi
fi

if ! command -v python3 >/dev/null 2>&1; then
	fail monitoring/python3 "python3 is not installed (the checks below need it, standard library only)"
	exit 0
fi
check monitoring/rule-tests-cover-every-alert python3 "$CHECK" --rule-tests "$MON/tollgate-rules.yml" "$MON/tollgate-rules.test.yml"
check monitoring/rules-metrics-documented python3 "$CHECK" --rules "$MON/tollgate-rules.yml" docs/metrics.md
check monitoring/dashboard python3 "$CHECK" "$MON/grafana-dashboard.json" docs/metrics.md

# The checker must catch an undocumented metric in a panel: a copy of the
# dashboard whose first query asks for one.
python3 - "$MON/grafana-dashboard.json" "$work/bad-dashboard.json" <<'PY'
import json, sys
dash = json.load(open(sys.argv[1]))
for panel in dash["panels"]:
    if panel.get("targets"):
        panel["targets"][0]["expr"] = 'rate(tollgate_no_such_metric{instance=~"$instance",interface=~"$interface"}[$__rate_interval])'
        break
json.dump(dash, open(sys.argv[2], "w"), indent=2)
PY
if out=$(python3 "$CHECK" "$work/bad-dashboard.json" docs/metrics.md 2>&1); then
	fail monitoring/dashboard-check-catches-unknown-metric "accepted tollgate_no_such_metric: $out"
elif grep -q "tollgate_no_such_metric is not in the families table" <<<"$out"; then
	ok monitoring/dashboard-check-catches-unknown-metric
else
	fail monitoring/dashboard-check-catches-unknown-metric "failed for another reason: $(tail -c 300 <<<"$out")"
fi
