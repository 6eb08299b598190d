#!/usr/bin/env bash
# Runs etcd-bench beside Go's clientv3 (../shared/anchors' gobench) and python3-etcd3 (pybench) in etcd's six
# benchmark scenarios (put and serializable range at 1×1, 1×16 and 8×64) and prints one markdown table of
# same-run ratios. Each scenario is one run-anchors.sh invocation per
# Swift executor; every invocation runs gobench too (and the pool one pybench), on a fresh etcd per tool and
# repetition, so each Swift row is compared with the Go row of its own invocation. Executors (etcd-bench
# --executor): `pool`, Swift's default executor as it comes; `nio`, the default executor with NIO's event loops
# installed as Swift's global executor (an application's opt-in); `eventloop`, each worker preferring its
# client's taskExecutor.
#
#   Benchmarks/compare-with-go.sh [--quick] [--reps N] [--executors "pool nio eventloop"] [--out DIR]
#   Benchmarks/compare-with-go.sh --table DIR     # the table of an earlier run's DIR again
#
# --quick divides the request counts by 5. --reps N (default 1) repeats each tool N times per invocation, each
# Swift row then compared with the Go row of its repetition. The etcd column is the server's CPU per request
# for each client: it differs between fresh etcd processes (serializable range 1 × 16 costs about 72 or about
# 104 µs, for either client), and at 1 × 16 and 8 × 64 throughput follows it. Needs Benchmarks/.build/release/etcd-bench (built here if missing),
# etcd, etcdctl, Go for gobench (run-anchors.sh builds it), Debian's python3-etcd3 and /usr/bin/time.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
anchors=${ANCHORS:-$(cd "$here/../.." && pwd)/shared/anchors}
out=""
divisor=1
reps=1
executors="pool nio eventloop"
table_only=""
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) divisor=5; shift;;
    --reps) reps=$2; shift 2;;
    --executors) executors=$2; shift 2;;
    --out) out=$2; shift 2;;
    --table) table_only=$2; shift 2;;
    *) echo "usage: $0 [--quick] [--reps N] [--executors LIST] [--out DIR] | --table DIR" >&2; exit 2;;
  esac
done
if [ -n "$table_only" ]; then
  out=$table_only
else
  [ -n "$out" ] || out=$(mktemp -d /tmp/compare-with-go.XXXXXX)
  mkdir -p "$out"
  [ -x "$anchors/run-anchors.sh" ] || { echo "no run-anchors.sh at $anchors (set ANCHORS)" >&2; exit 1; }
  bench=$here/.build/release/etcd-bench
  [ -x "$bench" ] || (cd "$here" && swift build -c release --product etcd-bench)

  # op consistency conns clients total
  scenarios=(
    "put - 1 1 20000"
    "put - 1 16 50000"
    "put - 8 64 100000"
    "range s 1 1 20000"
    "range s 1 16 50000"
    "range s 8 64 100000"
  )
  for scenario in "${scenarios[@]}"; do
    read -r op cons conns clients total <<<"$scenario"
    total=$((total / divisor))
    for executor in $executors; do
      dir=$out/$op-$cons-${conns}x$clients-$executor
      tools=gobench
      [ "$executor" = pool ] && tools="gobench py"
      args=(--op "$op" --conns "$conns" --clients "$clients" --total "$total" --key-size 8 --val-size 256
        --key-space-size 100000 --reps "$reps" --tools "$tools" --extra-label "swift-$executor" --out "$dir")
      [ "$op" = range ] && args+=(--consistency "$cons")
      cmd=("$bench" "$op")
      [ "$op" = range ] && cmd+=("{range_key}" --consistency "{consistency}")
      cmd+=(--endpoints "{endpoint}" --conns "{conns}" --clients "{clients}" --total "{total}" --executor "$executor")
      [ "$op" = put ] && cmd+=(--key-size "{key_size}" --val-size "{val_size}" --key-space-size "{key_space_size}")
      "$anchors/run-anchors.sh" "${args[@]}" -- "${cmd[@]}" >"$dir.log" 2>&1 || {
        echo "run-anchors failed for $scenario $executor; see $dir.log" >&2
        exit 1
      }
    done
  done
fi

[ -n "$table_only" ] || echo "# $(date -Is) nproc=$(nproc) load=$(cut -d' ' -f1-3 /proc/loadavg); raw results in $out"
echo
echo "| scenario | executor | Go rps | Swift rps | rps ratio | Go p99 ms | Swift p99 ms | Go CPU µs/req | Swift CPU µs/req | CPU ratio | etcd µs/req (Go, Swift) | Python rps | Python CPU µs/req |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|"
for summary in "$out"/*/summary.tsv; do
  awk -F'\t' '
    NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
    $1 == "gobench" {
      go_rps = $col["rps"]; go_p99 = $col["p99_ms"]; go_cpu = $col["loop_cpu_us_req"]
      go_etcd = $col["etcd_cpu_s"] / $col["total"] * 1e6; next
    }
    $1 == "py" { py_rps = sprintf("%.0f", $col["rps"]); py_cpu = sprintf("%.1f", $col["loop_cpu_us_req"]); next }
    {
      scenario = $col["op"] ($col["cons"] == "-" ? "" : " " $col["cons"]) " " $col["conns"] "×" $col["clients"]
      executor = $1; sub(/^swift-/, "", executor)
      printf "| %s | %s | %.0f | %.0f | %.2f | %.3f | %.3f | %.1f | %.1f | %.2f | %.0f, %.0f | %s | %s |\n", scenario,
        executor, go_rps, $col["rps"], $col["rps"] / go_rps, go_p99, $col["p99_ms"], go_cpu, $col["loop_cpu_us_req"],
        $col["loop_cpu_us_req"] / go_cpu, go_etcd, $col["etcd_cpu_s"] / $col["total"] * 1e6, py_rps, py_cpu
    }' "$summary"
done
