#!/bin/bash
# The metrics interceptor's cost: etcd-bench with --metrics off, then on, ROUNDS times in turn against one
# etcd, and the median of the per-round on/off ratios of client CPU per request and of throughput. Pairing
# each "on" run with the "off" run just before it cancels most of a shared machine's drift; the median drops
# the rounds another process got in the way of.
#
#   Benchmarks/metrics-cost.sh ENDPOINT [ROUNDS] [-- EXTRA ETCD-BENCH FLAGS]
#   Benchmarks/metrics-cost.sh 127.0.0.1:2379 12 -- --executor eventloop
#
# Runs put --clients 16 --total 30000 --key-size 8 --val-size 256 --key-space-size 100000 (override with
# the extra flags; later flags win). Rounds whose RESULT line reports errors are dropped, so a full
# database (NOSPACE) cannot pass for a fast run; give etcd a large --quota-backend-bytes and
# --auto-compaction-mode revision for long series. BENCH: the etcd-bench binary (default: this folder's
# release build).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bench=${BENCH:-$here/.build/release/etcd-bench}
endpoint=${1:?usage: $0 ENDPOINT [ROUNDS] [-- FLAGS]}
shift
rounds=10
if [ $# -gt 0 ] && [ "$1" != "--" ]; then rounds=$1; shift; fi
[ $# -gt 0 ] && [ "$1" = "--" ] && shift
results=$(mktemp)
trap 'rm -f "$results"' EXIT
for round in $(seq "$rounds"); do
  for metrics in off on; do
    line=$("$bench" put --endpoints "$endpoint" --clients 16 --total 30000 --key-size 8 --val-size 256 \
      --key-space-size 100000 "$@" --metrics "$metrics" | grep '^RESULT' || true)
    echo "round $round metrics=$metrics ${line#RESULT }" >&2
    echo "$round $metrics $line" >> "$results"
  done
done
python3 - "$results" <<'PY'
import re, statistics, sys
runs = {}
for line in open(sys.argv[1]):
    round_, metrics, rest = line.split(" ", 2)
    fields = dict(re.findall(r"(\w+)=(\S+)", rest))
    if fields.get("errors") != "0":
        continue
    runs.setdefault(round_, {})[metrics] = (float(fields["client_cpu_us_per_req"]), float(fields["rps"]))
pairs = [r for r in runs.values() if "off" in r and "on" in r]
if not pairs:
    sys.exit("no round has an error-free off and on run")
cpu = [r["on"][0] / r["off"][0] for r in pairs]
rps = [r["on"][1] / r["off"][1] for r in pairs]
med = statistics.median
print(f"rounds={len(pairs)} cpu_us_off={med([r['off'][0] for r in pairs]):.2f} "
      f"cpu_us_on={med([r['on'][0] for r in pairs]):.2f} cpu_on_off={med(cpu):.3f} "
      f"cpu_on_off_range={min(cpu):.3f}..{max(cpu):.3f} rps_on_off={med(rps):.3f}")
PY
