#!/usr/bin/env python3
"""Offline checks of packaging/monitoring/ against docs/metrics.md.

  monitoring_check.py DASHBOARD METRICS_MD
      The Grafana dashboard: importable structure, unique panel ids, every
      query through the ${datasource} variable, every metric it names in
      the families table of METRICS_MD, every selector filtered by
      $instance (and by $interface where the metric has that label),
      counters only under rate() or increase() (or right of and/unless),
      ranges of $__rate_interval.

  monitoring_check.py --rules RULES METRICS_MD
      The Prometheus rules file: every tollgate_ metric it names is in the
      families table, counters only under rate() or increase(), and the
      alerts it defines are exactly those of the alert table in METRICS_MD.

  monitoring_check.py --rule-tests RULES TESTS
      The promtool unit tests: every alert of RULES has a case where it
      fires and one where it does not, and no case names an unknown alert
      (promtool passes "exp_alerts: []" for an alert that does not exist).

Prints one line per problem and exits 1, or prints a summary and exits 0.
Standard library only: the rules files are read with the little YAML they
use (expr:, alert:, alertname:, exp_alerts:), not with a YAML parser.
"""
import json
import re
import sys

NAME = re.compile(r"[A-Za-z_:][A-Za-z0-9_:]*")
FAMILY_ROW = re.compile(r"^\|\s*`(tollgate_[a-z0-9_]+)`\s*\|\s*(counter|gauge|histogram|summary|untyped)\s*\|(.*)\|\s*$")
ALERT_ROW = re.compile(r"^\|\s*`(Tollgate[A-Za-z0-9]+)`\s*\|")


class Problems(list):
    def add(self, where, what):
        self.append(f"{where}: {what}")


def section(text, heading):
    """The lines of a '## heading' section of a Markdown file."""
    out, inside = [], False
    for line in text.splitlines():
        if line.startswith("## "):
            inside = line[3:].strip() == heading
            continue
        if inside:
            out.append(line)
    return out


def families(metrics_md, problems):
    """{name: (type, {labels})} from the table under '## The families'."""
    fams = {}
    for line in section(open(metrics_md, encoding="utf-8").read(), "The families"):
        m = FAMILY_ROW.match(line)
        if m:
            fams[m.group(1)] = (m.group(2), set(re.findall(r"`([a-z_]+)`", m.group(3))))
    # A table that no longer parses must not pass as "no metric is unknown".
    if len(fams) < 10:
        problems.add(metrics_md, f"only {len(fams)} tollgate_ families found in the table under '## The families'")
    return fams


def documented_alerts(metrics_md):
    """The alert names of the alert table under '## Dashboards and alerts'."""
    lines = section(open(metrics_md, encoding="utf-8").read(), "Dashboards and alerts")
    return [m.group(1) for m in map(ALERT_ROW.match, lines) if m]


# ------------------------------------------------------------------ PromQL
def selectors(expr):
    """Yields (metric, matchers, function_before, start) for each tollgate_
    metric named in expr, outside string literals and comments. matchers is
    a list of (label, op, value), or None for a name without braces."""
    i, n = 0, len(expr)
    while i < n:
        c = expr[i]
        if c in "\"'`":
            j = i + 1
            while j < n and expr[j] != c:
                j += 2 if expr[j] == "\\" else 1
            i = j + 1
            continue
        if c == "#":
            while i < n and expr[i] != "\n":
                i += 1
            continue
        m = NAME.match(expr, i) if (c.isalpha() or c in "_:") else None
        if not m:
            i += 1
            continue
        name, i = m.group(0), m.end()
        if not name.startswith("tollgate_"):
            # A label list after by/without/on/ignoring holds label names.
            if name in ("by", "without", "on", "ignoring", "group_left", "group_right"):
                k = expr.find(")", i)
                i = n if k < 0 else k + 1
            continue
        # The function the name is an argument of, or "and"/"unless",
        # whose right-hand side gives only label sets.
        before = re.search(r"([A-Za-z_]+)\s*\(\s*$|\b(and|unless)\s+$", expr[:m.start()])
        k = i
        while k < n and expr[k].isspace():
            k += 1
        matchers = None
        if k < n and expr[k] == "{":
            body, k = braces(expr, k)
            matchers = parse_matchers(body)
            i = k
        yield name, matchers, (before.group(1) or before.group(2)) if before else None, m.start()


def braces(expr, k):
    """The text inside the braces opening at expr[k], and the index after them."""
    j, quote = k + 1, None
    while j < len(expr):
        c = expr[j]
        if quote:
            if c == "\\":
                j += 1
            elif c == quote:
                quote = None
        elif c in "\"'`":
            quote = c
        elif c == "}":
            return expr[k + 1:j], j + 1
        j += 1
    return expr[k + 1:], len(expr)


def parse_matchers(body):
    return re.findall(r'\s*([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"\s*,?', body)


def check_expr(where, expr, fams, problems, dashboard):
    names = []
    for name, matchers, func, _ in selectors(expr):
        names.append(name)
        if name not in fams:
            problems.add(where, f"{name} is not in the families table of docs/metrics.md")
            continue
        kind, labels = fams[name]
        if kind == "counter" and func not in ("rate", "irate", "increase", "resets", "absent", "absent_over_time",
                                              "present_over_time", "and", "unless"):
            problems.add(where, f"{name} is a counter: use it under rate() or increase()")
        if not dashboard:
            continue
        given = {(label, op, value) for label, op, value in (matchers or [])}
        if ("instance", "=~", "$instance") not in given:
            problems.add(where, f'{name} is not filtered by instance=~"$instance"')
        if "interface" in labels and ("interface", "=~", "$interface") not in given:
            problems.add(where, f'{name} has an interface label but is not filtered by interface=~"$interface"')
        for label, _, _ in matchers or []:
            if label not in labels | {"instance", "job", "__name__"}:
                problems.add(where, f"{name} has no label {label} (docs/metrics.md)")
    if dashboard:
        if "$instance" not in expr:
            problems.add(where, "the query does not use $instance")
        for rng in re.findall(r"\[([^\]]*)\]", expr):
            if rng.strip() != "$__rate_interval":
                problems.add(where, f"range [{rng}]: use [$__rate_interval], which follows the scrape interval and the zoom")
    return names


# --------------------------------------------------------------- dashboard
def walk_panels(panels, out):
    for p in panels or []:
        out.append(p)
        walk_panels(p.get("panels"), out)  # a collapsed row holds its panels
    return out


def check_datasource_refs(node, path, problems):
    """Every datasource reference anywhere is the ${datasource} variable."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "datasource":
                uid = value.get("uid") if isinstance(value, dict) else value
                if uid != "${datasource}":
                    problems.add(path, f"datasource {json.dumps(value)}: use the ${{datasource}} variable")
            else:
                check_datasource_refs(value, f"{path}.{key}", problems)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            check_datasource_refs(value, f"{path}[{i}]", problems)


def check_dashboard(path, metrics_md):
    problems = Problems()
    fams = families(metrics_md, problems)
    if problems:
        return problems
    try:
        with open(path, encoding="utf-8") as f:
            dash = json.load(f)
    except (OSError, ValueError) as e:
        return [f"{path}: {e}"]
    if not isinstance(dash, dict):
        return [f"{path}: not a JSON object"]

    if not re.fullmatch(r"[a-z0-9][a-z0-9-]{2,39}", str(dash.get("uid", ""))):
        problems.add(path, f"uid {dash.get('uid')!r}: want a stable lower-case uid such as tollgate-overview")
    if not isinstance(dash.get("schemaVersion"), int) or dash["schemaVersion"] < 36:
        problems.add(path, f"schemaVersion {dash.get('schemaVersion')!r}: want 36 or later")
    if not dash.get("title"):
        problems.add(path, "no title")
    inputs = [i for i in dash.get("__inputs", []) if i.get("name") == "DS_PROMETHEUS"]
    if not inputs or inputs[0].get("type") != "datasource" or inputs[0].get("pluginId") != "prometheus":
        problems.add(path, "__inputs has no Prometheus datasource input DS_PROMETHEUS")

    variables = {v.get("name"): v for v in dash.get("templating", {}).get("list", [])}
    ds = variables.get("datasource")
    if not ds or ds.get("type") != "datasource" or ds.get("query") != "prometheus":
        problems.add(path, "templating: no variable 'datasource' of type datasource, query prometheus")
    for name in ("instance", "interface"):
        v = variables.get(name)
        query = v.get("query") if v else None
        query = query.get("query") if isinstance(query, dict) else query
        if not v or v.get("type") != "query" or not str(query or "").startswith("label_values("):
            problems.add(path, f"templating: no variable '{name}' of type query with a label_values() query")
            continue
        check_expr(f"{path}: variable {name}", str(query)[len("label_values("):], fams, problems, dashboard=False)
    check_datasource_refs(dash.get("panels", []), "panels", problems)
    check_datasource_refs(dash.get("templating", {}), "templating", problems)

    panels = walk_panels(dash.get("panels"), [])
    if not panels:
        problems.add(path, "no panels")
    ids, queries, used = {}, 0, set()
    for p in panels:
        pid, title = p.get("id"), p.get("title") or "(no title)"
        where = f"panel {pid} {title!r}"
        if not isinstance(pid, int):
            problems.add(where, "the id is not an integer")
        elif pid in ids:
            problems.add(where, f"the id is also panel {ids[pid]!r}'s")
        else:
            ids[pid] = title
        if not p.get("title"):
            problems.add(where, "no title")
        grid = p.get("gridPos", {})
        if not all(isinstance(grid.get(k), int) for k in "xywh") or grid["x"] + grid["w"] > 24:
            problems.add(where, f"gridPos {grid}: want integer x, y, w, h within 24 columns")
        targets = p.get("targets")
        if p.get("type") == "row":
            continue
        if not targets:
            problems.add(where, "no targets")
            continue
        ds = p.get("datasource")
        if (ds.get("uid") if isinstance(ds, dict) else ds) != "${datasource}":
            problems.add(where, "its datasource is not ${datasource}")
        refs = set()
        for t in targets:
            where_t = f"{where} target {t.get('refId')}"
            if t.get("refId") in refs or not t.get("refId"):
                problems.add(where_t, "missing or repeated refId")
            refs.add(t.get("refId"))
            expr = t.get("expr", "")
            if not expr.strip():
                problems.add(where_t, "no expr")
                continue
            queries += 1
            used.update(check_expr(where_t, expr, fams, problems, dashboard=True))

    # Panels that overlap hide each other (the rows' own panels aside).
    boxes = [(p.get("id"), p["gridPos"]) for p in dash.get("panels", [])
             if isinstance(p.get("gridPos"), dict) and all(isinstance(p["gridPos"].get(k), int) for k in "xywh")]
    for a in range(len(boxes)):
        for b in range(a + 1, len(boxes)):
            (ia, ga), (ib, gb) = boxes[a], boxes[b]
            if (ga["x"] < gb["x"] + gb["w"] and gb["x"] < ga["x"] + ga["w"] and
                    ga["y"] < gb["y"] + gb["h"] and gb["y"] < ga["y"] + ga["h"]):
                problems.add(path, f"panels {ia} and {ib} overlap")
    if problems:
        return problems
    print(f"{path}: {len(panels)} panels, {queries} queries, {len(used)} of {len(fams)} documented families used")
    return []


# ------------------------------------------------------------------- rules
def yaml_values(path, key):
    """(line number, value) of every 'key:' of a YAML file: plain, quoted
    or a block scalar (| or >). Enough for the rules files, not for YAML."""
    lines = open(path, encoding="utf-8").read().splitlines()
    pattern = re.compile(r"^(\s*)(?:-\s+)?" + re.escape(key) + r":\s*(.*?)\s*$")
    out = []
    for n, line in enumerate(lines):
        m = pattern.match(line)
        if not m:
            continue
        indent, rest = len(m.group(1)), m.group(2)
        if rest[:1] in ("|", ">"):
            block = []
            for nxt in lines[n + 1:]:
                if nxt.strip() and len(nxt) - len(nxt.lstrip()) <= indent:
                    break
                block.append(nxt.strip() if rest[:1] == ">" else nxt)
            value = ("\n" if rest[:1] == "|" else " ").join(block).strip()
        elif rest.startswith('"'):
            value = json.loads(rest)
        elif rest.startswith("'"):
            value = rest[1:-1].replace("''", "'")
        else:
            value = re.sub(r"\s+#.*$", "", rest)
        out.append((n + 1, value))
    return out


def check_rules(rules, metrics_md):
    problems = Problems()
    fams = families(metrics_md, problems)
    if problems:
        return problems
    exprs = yaml_values(rules, "expr")
    if not exprs:
        problems.add(rules, "no expr: found")
    used = set()
    for line, expr in exprs:
        used.update(check_expr(f"{rules}:{line}", expr, fams, problems, dashboard=False))
    alerts = [a for _, a in yaml_values(rules, "alert")]
    documented = documented_alerts(metrics_md)
    for a in sorted(set(alerts) - set(documented)):
        problems.add(metrics_md, f"alert {a} of {rules} is not in the alert table under '## Dashboards and alerts'")
    for a in sorted(set(documented) - set(alerts)):
        problems.add(metrics_md, f"the alert table lists {a}, which {rules} does not define")
    if problems:
        return problems
    print(f"{rules}: {len(exprs)} expressions, {len(alerts)} alerts, {len(used)} documented families used")
    return []


def check_rule_tests(rules, tests):
    problems = Problems()
    alerts = {a for _, a in yaml_values(rules, "alert")}
    cases = {}  # alert -> set of "fires" / "quiet"
    lines = open(tests, encoding="utf-8").read().splitlines()
    current = None
    for n, line in enumerate(lines, 1):
        m = re.match(r"^\s*(?:-\s+)?alertname:\s*(\S+)\s*$", line)
        if m:
            current = m.group(1)
            if current not in alerts:
                problems.add(f"{tests}:{n}", f"alertname {current} is not an alert of {rules}")
            continue
        m = re.match(r"^\s*(?:-\s+)?exp_alerts:\s*(.*?)\s*$", line)
        if m and current:
            cases.setdefault(current, set()).add("quiet" if m.group(1) == "[]" else "fires")
            current = None
    for a in sorted(alerts):
        for kind, what in (("fires", "fires"), ("quiet", "does not fire")):
            if kind not in cases.get(a, set()):
                problems.add(tests, f"no case where {a} {what}")
    if problems:
        return problems
    print(f"{tests}: every one of the {len(alerts)} alerts fires in one case and stays quiet in another")
    return []


def main(argv):
    if len(argv) == 3 and argv[0] == "--rules":
        problems = check_rules(argv[1], argv[2])
    elif len(argv) == 3 and argv[0] == "--rule-tests":
        problems = check_rule_tests(argv[1], argv[2])
    elif len(argv) == 2 and not argv[0].startswith("-"):
        problems = check_dashboard(argv[0], argv[1])
    else:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    for p in problems:
        print(p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
