#!/bin/bash
# Runs one of several etcd-bench configurations per invocation, in turn, so that one run-anchors.sh
# invocation (each tool on a fresh etcd) compares them side by side with gobench:
#
#   ./run-anchors.sh --op put --conns 1 --clients 16 --total 50000 --reps 3 \
#     --tools "gobench extra extra" --extra-label swift -- /work/main/Benchmarks/anchors-rotate.sh put \
#     --endpoints {endpoint} --conns {conns} --clients {clients} --total {total} --key-size {key_size} \
#     --val-size {val_size} --key-space-size {key_space_size}
#
# ROTATE: space-separated BINARY:METRICS:LABEL entries, used in turn (default: this folder's release
# etcd-bench with --metrics off, then on). ROTATE_STATE: where the turn is kept (delete it to start
# over). ROTATE_RESULTS: each RESULT line is appended there, with the time and load, because
# run-anchors.sh keeps only the last output of a tool per repetition.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bench=$here/.build/release/etcd-bench
read -r -a configs <<< "${ROTATE:-$bench:off:etcd-swift-off $bench:on:etcd-swift-on}"
state=${ROTATE_STATE:-/tmp/anchors-rotate.state}
results=${ROTATE_RESULTS:-/tmp/anchors-rotate.results}
turn=$(cat "$state" 2>/dev/null || echo 0)
echo $(((turn + 1) % ${#configs[@]})) > "$state"
IFS=: read -r binary metrics label <<< "${configs[$((turn % ${#configs[@]}))]}"
output=$(mktemp)
trap 'rm -f "$output"' EXIT
"$binary" "$@" --metrics "$metrics" --label "$label" | tee "$output"
echo "$(date +%T) load=$(cut -d' ' -f1 /proc/loadavg) $(grep RESULT "$output")" >> "$results"
