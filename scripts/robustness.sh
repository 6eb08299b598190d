#!/usr/bin/env bash
# Runs the robustness matrix (every injected fault × every workload, see Tests/IntegrationTests/RobustnessTests.swift)
# at a larger size than CI does, several times over: each run records the history of every call and watch under
# the fault and checks it for linearizability and etcd's watch guarantees. Needs root (network namespaces).
#
#   scripts/robustness.sh [--rounds N] [--seconds S] [--clients C] [--faults F1,F2]
#   scripts/robustness.sh --recheck FOLDER...
#
# Defaults: 3 rounds of 20 s per scenario with 8 clients, every fault (see InjectedFault.swift for the names).
# Recordings that fail a check are saved under $ROBUSTNESS_ARTIFACTS (default: robustness-artifacts/ in the
# current directory); --recheck checks saved ones again.
set -euo pipefail
cd "$(dirname "$0")/.."

rounds=3
seconds=20
clients=8
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds="$2"; shift 2 ;;
    --seconds) seconds="$2"; shift 2 ;;
    --clients) clients="$2"; shift 2 ;;
    --faults) export ROBUSTNESS_FAULTS="$2"; shift 2 ;;
    --recheck)
      shift
      [ $# -gt 0 ] || { echo "--recheck needs at least one folder" >&2; exit 2; }
      recheck=$(for folder in "$@"; do realpath "$folder"; done | paste -sd: -)
      swift build --build-tests
      ROBUSTNESS_RECHECK="$recheck" swift test --skip-build --no-parallel --filter savedRecordingsPassTheirChecks
      exit ;;
    *) echo "usage: $0 [--rounds N] [--seconds S] [--clients C] [--faults F1,F2] | --recheck FOLDER..." >&2; exit 2 ;;
  esac
done

export ROBUSTNESS_SECONDS="$seconds" ROBUSTNESS_CLIENTS="$clients"
export ROBUSTNESS_ARTIFACTS="${ROBUSTNESS_ARTIFACTS:-$PWD/robustness-artifacts}"
swift build --build-tests
log=$(mktemp)
for round in $(seq 1 "$rounds"); do
  echo "== round $round of $rounds: $seconds s per scenario, $clients clients"
  swift test --skip-build --no-parallel --filter RobustnessTests 2>&1 | tee -a "$log" | grep -E "^robustness:|✘|passed|failed" || true
done
echo "== totals over $rounds rounds"
grep "^robustness:" "$log" | python3 -c '
import re, sys
runs = ops = pending = faults = events = bad = 0
for line in sys.stdin:
    runs += 1
    m = re.search(r": (\d+) operations \((\d+) pending", line); ops += int(m[1]); pending += int(m[2])
    faults += int(re.search(r"(\d+) faults", line)[1])
    events += int(re.search(r"with (\d+) events", line)[1])
    bad += ("NOT linearizable" in line) or not re.search(r"; 0 watch violations", line)
print(f"{runs} histories checked: {ops} operations ({pending} pending), {faults} faults injected, "
      f"{events} watch events checked, {bad} with a violation")
'
rm -f "$log"
