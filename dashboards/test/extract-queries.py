#!/usr/bin/env python3
"""Prints every PromQL expression of the dashboards and rules, one JSON object a line.

    dashboards/test/extract-queries.py [DASHBOARDS_DIR] [--set NAME=VALUE ...]

Each line: {"source": file, "where": panel/variable/rule, "expr": PromQL ready for /api/v1/query,
"expect_data": bool, "reason": why it may be empty (only when expect_data is false), "kind": "panel" |
"variable" | "record" | "alert"}.

Grafana's variables are replaced as a dashboard set to "All" would send them: `$job`, `$cluster`,
`$endpoint`, `$op` and the other template variables become `.*`, `$__rate_interval` 1m, `$__interval` 15s,
`$__range` 5m. `--set NAME=VALUE` selects one value instead, as a user picking it would: the integration
test sets `cluster` to its probe's cluster, so that a probe series without that label leaves its panels
empty. `label_values(metric, label)` becomes `group by (label) (metric)`.

`expect_data` says whether the expression returns something against a healthy cluster probed for a
minute. It is true unless the expression is listed in MAY_BE_EMPTY below (with the reason) or is an alert
(a healthy cluster fires none). Names in MAY_BE_EMPTY that match nothing are an error, so the list cannot
rot. Standard library only; alerts.yml is read with a small parser that knows the shape of that file.
"""

import argparse
import json
import os
import re
import sys

# (file, panel title or rule name, refId or None) -> why the expression may return nothing when all is well.
MAY_BE_EMPTY = {
    ("etcd-probe.json", "Failures by code and reason", "A"):
        "etcd_probe_failures_total has no series until a probe fails",
    ("etcd-probe.json", "Watch resumes and compactions", "A"):
        "etcd_probe_watch_resumes_total has no series until a watch stream is resumed",
    ("etcd-probe.json", "Watch resumes and compactions", "B"):
        "etcd_probe_watch_compactions_total has no series until a watch meets a compaction",
    ("etcd-probe.json", "Watch resumes and compactions", "C"):
        "etcd_probe_watch_cluster_changes_total has no series until a watch meets a new cluster id",
    ("etcd-probe.json", "Members and alarms", "B"): "shows raised alarms only",
    ("etcd-probe.json", "Put latency p99: probe (client side) vs etcd (server side)", "B"):
        "grpc_server_handling_seconds needs etcd --metrics=extensive",
    ("etcd-probe.json", "Server gRPC handling p99 by method", "A"):
        "grpc_server_handling_seconds needs etcd --metrics=extensive",
    ("etcd-probe.json", "Probe p99 by op vs server p99 by method", "B"):
        "grpc_server_handling_seconds needs etcd --metrics=extensive",
    ("etcd-client.json", "Errors by code and etcd error", "A"): "no RPC fails on a healthy cluster",
    ("etcd-client.json", "Retries", "A"): "grpc_client_call_retries records only calls that were retried",
    ("etcd-client.json", "Retries", "B"): "grpc_client_call_retries records only calls that were retried",
}

VARIABLE_VALUES = {
    "__rate_interval": "1m",
    "__interval": "15s",
    "__range": "5m",
}
ALL = ".*"


def substitute(expr):
    """Replaces Grafana's variables ($x, ${x}, ${x:format}, [[x]]) as an "All" selection sends them.

    A number (`$1` in label_replace's replacement) is no variable: Grafana leaves it, and so does this."""
    def value(name):
        if name.isdigit():
            return "$" + name
        return VARIABLE_VALUES.get(name, ALL)

    expr = re.sub(r"\$\{(\w+)(?::[^}]*)?\}", lambda m: value(m.group(1)), expr)
    expr = re.sub(r"\[\[(\w+)(?::[^\]]*)?\]\]", lambda m: value(m.group(1)), expr)
    expr = re.sub(r"\$(\w+)", lambda m: value(m.group(1)), expr)
    return expr


def variable_query(query):
    """Turns a Grafana Prometheus variable query into PromQL."""
    if isinstance(query, dict):
        query = query.get("query", "")
    query = query.strip()
    match = re.fullmatch(r"label_values\((.*),\s*(\w+)\s*\)", query, re.S)
    if match:
        return f"group by ({match.group(2)}) ({match.group(1).strip()})"
    match = re.fullmatch(r"label_values\(\s*(\w+)\s*\)", query)
    if match:
        return f'group by ({match.group(1)}) ({{{match.group(1)}!=""}})'
    match = re.fullmatch(r"query_result\((.*)\)", query, re.S)
    if match:
        return match.group(1)
    match = re.fullmatch(r"metrics\((.*)\)", query, re.S)
    if match:
        return f'group by (__name__) ({{__name__=~"{match.group(1)}"}})'
    return query


def panels(dashboard):
    for panel in dashboard.get("panels", []):
        yield panel
        for inner in panel.get("panels", []):  # collapsed rows keep their panels inside
            yield inner


def dashboard_queries(directory, name, used):
    with open(os.path.join(directory, name)) as f:
        dashboard = json.load(f)
    for variable in dashboard.get("templating", {}).get("list", []):
        if variable.get("type") != "query":
            continue
        yield {
            "source": name, "kind": "variable", "where": f"variable {variable['name']}",
            "expr": substitute(variable_query(variable.get("query", ""))), "expect_data": True,
        }
    for panel in panels(dashboard):
        for target in panel.get("targets", []):
            if not target.get("expr") or target.get("hide"):
                continue
            key = (name, panel.get("title", ""), target.get("refId"))
            line = {
                "source": name, "kind": "panel",
                "where": f"panel {panel.get('id')} \"{panel.get('title', '')}\" target {target.get('refId')}",
                "expr": substitute(target["expr"]), "expect_data": key not in MAY_BE_EMPTY,
            }
            if key in MAY_BE_EMPTY:
                line["reason"] = MAY_BE_EMPTY[key]
                used.add(key)
            yield line


def rules(path):
    """Reads `- record:`/`- alert:` entries and their `expr` (one line or a `|` block) from a rule file.

    A small reader for the layout alerts.yml uses (and `promtool check rules` enforces the YAML): it avoids a
    YAML dependency. Block scalars end at the first line indented no deeper than the `expr:` key.
    """
    with open(path) as f:
        lines = f.read().split("\n")
    kind = name = None
    index = 0
    while index < len(lines):
        line = lines[index]
        match = re.match(r"\s*- (record|alert):\s*(\S+)", line)
        if match:
            kind, name = match.group(1), match.group(2)
        match = re.match(r"(\s*)expr:\s*(.*)$", line)
        if match and kind:
            indent, rest = len(match.group(1)), match.group(2).strip()
            if rest in ("|", "|-", ">", ">-"):
                body = []
                index += 1
                while index < len(lines) and (
                    not lines[index].strip() or len(lines[index]) - len(lines[index].lstrip()) > indent
                ):
                    body.append(lines[index])
                    index += 1
                while body and not body[-1].strip():
                    body.pop()
                expr = "\n".join(l.strip() for l in body)
                if rest.startswith(">"):
                    expr = " ".join(l.strip() for l in body)
                yield kind, name, expr
                continue
            yield kind, name, rest.strip("'\"")
        index += 1


def main():
    parser = argparse.ArgumentParser(description="Prints every PromQL expression of the dashboards and rules.")
    parser.add_argument("directory", nargs="?", default=os.path.join(os.path.dirname(__file__), ".."))
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                        help="the value of a template variable (default: All, `.*`)")
    arguments = parser.parse_args()
    for assignment in arguments.set:
        name, equals, value = assignment.partition("=")
        if not equals or not re.fullmatch(r"\w+", name):
            parser.error(f"--set {assignment}: expected NAME=VALUE")
        VARIABLE_VALUES[name] = value
    directory = arguments.directory
    used = set()
    out = []
    for name in ("etcd-probe.json", "etcd-client.json"):
        out.extend(dashboard_queries(directory, name, used))
    seen = {}
    for kind, name, expr in rules(os.path.join(directory, "alerts.yml")):
        seen[name] = seen.get(name, 0) + 1
        where = f"{kind} {name}" + (f" #{seen[name]}" if kind == "record" else "")
        line = {"source": "alerts.yml", "kind": kind, "where": where, "expr": expr,
                "expect_data": kind == "record"}
        if kind == "alert":
            line["reason"] = "an alert returns nothing while the cluster is healthy"
        key = ("alerts.yml", name, None)
        if key in MAY_BE_EMPTY:
            line["expect_data"] = False
            line["reason"] = MAY_BE_EMPTY[key]
            used.add(key)
        out.append(line)
    unused = set(MAY_BE_EMPTY) - used
    if unused:
        sys.exit(f"extract-queries.py: MAY_BE_EMPTY names nothing that exists: {sorted(unused)}")
    for line in out:
        print(json.dumps(line, ensure_ascii=False))


if __name__ == "__main__":
    main()
