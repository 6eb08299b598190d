#!/usr/bin/env bash
# Soaks etcd-probe: runs the built probe for ROUNDS rounds at the fastest interval against a throwaway local etcd
# (the probe starts one when given no --endpoints), samples the probe's open file descriptors, threads and
# resident memory from /proc/PID and its round counter from /metrics, and fails if at the end the descriptors or
# threads differ from their value after the warm-up or resident memory grew by more than 10%.
#
#   scripts/soak-probe.sh 100000                       # about 8 minutes with a debug build
#   scripts/soak-probe.sh 20000 --endpoints 127.0.0.1:2379
#
# Environment: WARMUP (rounds before the baseline sample; default ROUNDS/10, at least 200), SAMPLE_SECONDS
# (default 5), INTERVAL (default 1ms), MAX_MINUTES (default 60, the whole run's bound), ETCD_PROBE_BINARY
# (default: the one in `swift build --show-bin-path`), SOAK_CSV (where the samples go; default a temp file).
# Prints one line per sample and a summary; exits 0 when nothing leaked, 1 when something did, 2 on errors.
set -euo pipefail
cd "$(dirname "$0")/.."

rounds=${1:?usage: scripts/soak-probe.sh ROUNDS [probe flags...]}
shift
warmup=${WARMUP:-$((rounds / 10 > 200 ? rounds / 10 : 200))}
sample_seconds=${SAMPLE_SECONDS:-5}
interval=${INTERVAL:-1ms}
max_seconds=$(( ${MAX_MINUTES:-60} * 60 ))
binary=${ETCD_PROBE_BINARY:-"$(swift build --show-bin-path)/etcd-probe"}
csv=${SOAK_CSV:-$(mktemp /tmp/soak-probe.XXXXXX.csv)}
log=$(mktemp /tmp/soak-probe.XXXXXX.log)
[[ -x "$binary" ]] || { echo "no etcd-probe at $binary: run 'swift build --product etcd-probe' first" >&2; exit 2; }
(( warmup < rounds )) || { echo "WARMUP ($warmup) must be below ROUNDS ($rounds)" >&2; exit 2; }

"$binary" --listen-address 127.0.0.1:0 --interval "$interval" --log-level notice "$@" >"$log" 2>&1 &
pid=$!
stop_probe() {
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid"
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  probe_status=0
  wait "$pid" 2>/dev/null || probe_status=$?
}
trap 'stop_probe; exit 2' INT TERM

port=""
for _ in $(seq 200); do
  port=$(grep -o 'address=[^ ]*:[0-9]*' "$log" | head -n 1 | sed 's/.*://') || true
  [[ -n "$port" ]] && break
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.1
done
[[ -n "$port" ]] || { echo "the probe did not start serving; log:" >&2; cat "$log" >&2; stop_probe; exit 2; }

# sample: prints "seconds rounds fds threads rss_kb"; rounds is -1 when /metrics does not answer.
start=$SECONDS
sample() {
  local metrics r fds threads rss
  metrics=$(curl -sf --max-time 5 "http://127.0.0.1:$port/metrics" || true)
  r=$(awk '$1 ~ /^etcd_probe_rounds_total[{]/ { sum += $2 } END { printf "%d", sum }' <<<"$metrics")
  fds=$(ls "/proc/$pid/fd" | wc -l)
  threads=$(awk '/^Threads:/ { print $2 }' "/proc/$pid/status")
  rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status")
  echo "$((SECONDS - start)) ${r:--1} $fds $threads $rss"
}

echo "seconds,rounds,fds,threads,rss_kb" >"$csv"
echo "probe pid $pid on port $port, $rounds rounds at $interval, baseline after $warmup rounds; samples in $csv"
baseline=""
final=""
while (( SECONDS - start < max_seconds )); do
  kill -0 "$pid" 2>/dev/null || { echo "the probe exited early; log:" >&2; tail -n 20 "$log" >&2; exit 2; }
  line=$(sample)
  read -r s r fds threads rss <<<"$line"
  echo "$s,$r,$fds,$threads,$rss" >>"$csv"
  printf '%6ss  rounds %8s  fds %4s  threads %3s  RSS %8s kB\n' "$s" "$r" "$fds" "$threads" "$rss"
  if [[ -z "$baseline" ]] && (( r >= warmup )); then baseline=$line; fi
  if (( r >= rounds )); then final=$line; break; fi
  sleep "$sample_seconds"
done
[[ -n "$final" ]] || { echo "did not reach $rounds rounds within $max_seconds s" >&2; stop_probe; exit 2; }

# Descriptors and threads may be in passing use (a scrape's socket, a Dispatch worker between tasks): sample
# again, at most 10 times, until they are back to the baseline's.
read -r _ _ base_fds base_threads base_rss <<<"$baseline"
for _ in $(seq 10); do
  read -r _ _ fds threads _ <<<"$final"
  (( fds == base_fds && threads <= base_threads )) && break
  sleep 1
  final=$(sample)
done
read -r s r fds threads rss <<<"$final"
stop_probe
status=$probe_status

growth=$(awk -v a="$base_rss" -v b="$rss" 'BEGIN { printf "%.1f", (b - a) * 100 / a }')
echo "after $warmup rounds: $base_fds fds, $base_threads threads, RSS $base_rss kB"
echo "after $r rounds ($s s): $fds fds, $threads threads, RSS $rss kB ($growth% from the baseline)"
failed=0
(( fds == base_fds )) || { echo "LEAK: file descriptors $base_fds -> $fds"; failed=1; }
(( threads <= base_threads )) || { echo "LEAK: threads $base_threads -> $threads"; failed=1; }
(( rss * 10 <= base_rss * 11 )) || { echo "LEAK: resident memory grew $growth% (more than 10%)"; failed=1; }
(( status == 0 )) || { echo "the probe exited with status $status on SIGTERM"; failed=1; }
rm -f "$log"
(( failed == 0 )) && echo "no leak"
exit "$failed"
