#!/bin/bash
# The exposition of one registry shape (SERIES series: half histograms with 4 buckets, half counters) by
# this package (text 0.0.4, OpenMetrics 1.0, protobuf), by swift-prometheus (text) and by Go's
# client_golang (text 0.0.4, ../../shared/anchors/goexpo), in one invocation: ROUNDS rounds, each running
# exposition-bench (which interleaves its four contenders itself) and then goexpo, ITERATIONS timed
# expositions per tool per round. Prints each round's RESULT lines, then per tool the median of the
# round medians, the body size, and the same-run ratios.
#
#   Benchmarks/exposition-vs-peers.sh [ROUNDS] [ITERATIONS] [SERIES]     # defaults: 5 50 10000
#
# Builds exposition-bench (release) and, when /tmp/anchors-bin/goexpo is missing, the Go anchors
# (BIN=/tmp/anchors-bin bash ../../shared/anchors/build-go.sh). With promtool installed, the text body
# also goes through `promtool check metrics`.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
rounds=${1:-5}
iterations=${2:-50}
series=${3:-10000}
goexpo=${GOEXPO:-/tmp/anchors-bin/goexpo}
(cd "$here" && swift build -c release --product exposition-bench >&2)
bench=$here/.build/release/exposition-bench
if [ ! -x "$goexpo" ]; then
  BIN=$(dirname "$goexpo") bash "$here/../../shared/anchors/build-go.sh" >&2
fi
results=$(mktemp)
bodies=$(mktemp -d)
trap 'rm -rf "$results" "$bodies"' EXIT
echo "load: $(uptime)"
for round in $(seq "$rounds"); do
  "$bench" --series "$series" --iterations "$iterations" --dump "$bodies/body" | grep '^RESULT' \
    | tee -a "$results"
  "$goexpo" --series "$series" --iterations "$iterations" | grep '^RESULT' | tee -a "$results"
done
echo "load: $(uptime)"
if command -v promtool >/dev/null; then
  if promtool check metrics < "$bodies/body.etcd-swift-text" >/dev/null 2>&1; then
    echo "promtool check metrics: text body OK"
  else
    echo "promtool check metrics: text body FAILED"; promtool check metrics < "$bodies/body.etcd-swift-text" | head
    exit 1
  fi
fi
python3 - "$results" <<'PY'
import re, statistics, sys
runs = {}
for line in open(sys.argv[1]):
    fields = dict(re.findall(r"(\w+)=(\S+)", line))
    runs.setdefault(fields["tool"], []).append((float(fields["median_ms"]), int(fields["bytes"])))
median = {tool: statistics.median(m for m, _ in values) for tool, values in runs.items()}
print(f"\n{'tool':<24} {'median ms':>10} {'body bytes':>11}  (median of {len(next(iter(runs.values())))} round medians)")
for tool, values in runs.items():
    print(f"{tool:<24} {median[tool]:>10.2f} {values[-1][1]:>11}")
text = median["etcd-swift-text"]
print()
for label, numerator, denominator, target in [
    ("text / swift-prometheus", text, median["swift-prometheus"], "<= 0.5"),
    ("text / client_golang", text, median["client_golang"], "<= 1.0"),
    ("OpenMetrics / text", median["etcd-swift-openmetrics"], text, "<= 1.3"),
    ("protobuf / text", median["etcd-swift-protobuf"], text, "<= 1.3"),
]:
    print(f"{label:<26} {numerator / denominator:6.2f}   target {target}")
PY
