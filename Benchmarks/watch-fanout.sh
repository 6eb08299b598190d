#!/usr/bin/env bash
# Watch fan-out and watcher memory, etcd-bench (this client) beside Go's clientv3 (../shared/anchors' gowatch
# and go/gowatchmem), and a table of same-run ratios.
#
#   Benchmarks/watch-fanout.sh [--watchers "1 100 1000"] [--reps N] [--interval 0] [--deliveries 1000000]
#                              [--total T] [--val-size 256] [--mem-watchers 1000] [--executor pool|nio|eventloop] [--out DIR]
#   Benchmarks/watch-fanout.sh --table DIR     # the tables of an earlier run's DIR again
#
# For each watcher count and repetition: a fresh etcd (--unsafe-no-fsync, temp data dir, 127.0.0.1:24790),
# then gowatch and `etcd-bench watch` with the same flags, one after the other (Go first on odd repetitions,
# Swift first on even ones), then etcd is stopped by its PID. --total is min(10000, deliveries / watchers)
# unless given. Then, per repetition, a fresh etcd for the memory pair: gowatchmem and
# `etcd-bench watch --memory`, each idle (connected, one get) and with --mem-watchers watchers open.
# Each tool gives up after 60 s (--timeout) and is killed after 90 s. Raw RESULT lines go to DIR/results.txt (with etcd's CPU over each run).
#
# Needs Benchmarks/.build/release/etcd-bench (built here if missing), etcd 3.4, and Go with Debian's
# golang-etcd-server-dev for gowatch and gowatchmem (built here, offline, in GOPATH mode, if missing).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
anchors=${ANCHORS:-$(cd "$here/../.." && pwd)/shared/anchors}
bin=${BIN:-/tmp/anchors-bin}
watchers_list="1 100 1000"
reps=2
interval=0
deliveries=1000000
total=""
val_size=256
mem_watchers=1000
executor=pool
out=""
table_only=""
port=24790
tool_timeout=60
run_timeout=90
while [ $# -gt 0 ]; do
  case "$1" in
    --watchers) watchers_list=$2; shift 2;;
    --reps) reps=$2; shift 2;;
    --interval) interval=$2; shift 2;;
    --deliveries) deliveries=$2; shift 2;;
    --total) total=$2; shift 2;;
    --val-size) val_size=$2; shift 2;;
    --mem-watchers) mem_watchers=$2; shift 2;;
    --executor) executor=$2; shift 2;;
    --out) out=$2; shift 2;;
    --table) table_only=$2; shift 2;;
    *) echo "usage: $0 [--watchers LIST] [--reps N] [--interval D] [--deliveries N] [--total T] [--val-size B]" \
      "[--mem-watchers N] [--executor pool|nio|eventloop] [--out DIR] | --table DIR" >&2; exit 2;;
  esac
done

etcd_pid=""
stop_etcd() {
  if [ -n "$etcd_pid" ]; then
    kill "$etcd_pid" 2>/dev/null || true
    wait "$etcd_pid" 2>/dev/null || true
    etcd_pid=""
  fi
}
trap stop_etcd EXIT

# A fresh single-member etcd on 127.0.0.1:$port; its PID in etcd_pid.
start_etcd() {
  local data
  data=$(mktemp -d /tmp/watch-fanout-etcd.XXXXXX)
  if ss -ltn | grep -q "127.0.0.1:$port "; then
    echo "port $port is in use" >&2
    exit 1
  fi
  etcd --name wf --data-dir "$data" --listen-client-urls "http://127.0.0.1:$port" \
    --advertise-client-urls "http://127.0.0.1:$port" --listen-peer-urls "http://127.0.0.1:$((port + 1))" \
    --initial-advertise-peer-urls "http://127.0.0.1:$((port + 1))" \
    --initial-cluster "wf=http://127.0.0.1:$((port + 1))" --unsafe-no-fsync --log-level error \
    >"$out/etcd.log" 2>&1 &
  etcd_pid=$!
  for _ in $(seq 1 100); do
    if curl -fs "http://127.0.0.1:$port/health" 2>/dev/null | grep -q '"health":"true"'; then return; fi
    sleep 0.1
  done
  echo "etcd did not become healthy; see $out/etcd.log" >&2
  exit 1
}

# etcd's user+sys CPU so far, in seconds.
etcd_cpu() {
  awk -v hz="$(getconf CLK_TCK)" '{ print ($14 + $15) / hz }' "/proc/$etcd_pid/stat"
}

# run TOOL ARGS...: one bounded run; appends its RESULT line, with etcd's CPU over the run, to results.txt.
run() {
  local before after line
  before=$(etcd_cpu)
  line=$(timeout "$run_timeout" "$@" | grep '^RESULT' || true)
  after=$(etcd_cpu)
  if [ -z "$line" ]; then
    echo "no RESULT from: $*" >&2
    return
  fi
  echo "$line etcd_cpu_s=$(awk -v a="$after" -v b="$before" 'BEGIN { printf "%.2f", a - b }') load=$(cut -d' ' -f1 /proc/loadavg)" \
    | tee -a "$out/results.txt"
}

# run_pair REP: the commands in the arrays go and swift on the running etcd (Go first on odd repetitions),
# then etcd is stopped.
run_pair() {
  if [ $(($1 % 2)) -eq 1 ]; then
    run "${go[@]}"; run "${swift[@]}"
  else
    run "${swift[@]}"; run "${go[@]}"
  fi
  stop_etcd
}

if [ -n "$table_only" ]; then
  out=$table_only
else
  [ -n "$out" ] || out=$(mktemp -d /tmp/watch-fanout.XXXXXX)
  mkdir -p "$out"
  bench=$here/.build/release/etcd-bench
  [ -x "$bench" ] || (cd "$here" && swift build -c release --product etcd-bench)
  [ -x "$bin/gowatch" ] || BIN=$bin bash "$anchors/build-go.sh"
  if [ ! -x "$bin/gowatchmem" ]; then
    (cd "$here/go/gowatchmem" && unset GOFLAGS && GO111MODULE=off GOPROXY=off \
      GOPATH="${ANCHOR_GOPATH:-/tmp/anchors-gopath}:/usr/share/gocode" GOCACHE=${GOCACHE:-/tmp/anchors-gocache} \
      go build -o "$bin/gowatchmem" .)
  fi
  echo "# $(date -Is) nproc=$(nproc) load=$(cut -d' ' -f1-3 /proc/loadavg) watchers=($watchers_list) reps=$reps" \
    "interval=$interval val_size=$val_size; raw results in $out" | tee "$out/header.txt"
  for n in $watchers_list; do
    t=${total:-$((deliveries / n < 10000 ? deliveries / n : 10000))}
    for rep in $(seq 1 "$reps"); do
      start_etcd
      flags=(--endpoint "127.0.0.1:$port" --watchers "$n" --total "$t" --val-size "$val_size" --interval "$interval"
        --timeout "${tool_timeout}s")
      go=("$bin/gowatch" "${flags[@]}")
      swift=("$bench" watch "${flags[@]}" --executor "$executor")
      run_pair "$rep"
    done
  done
  for rep in $(seq 1 "$reps"); do
    start_etcd
    go=("$bin/gowatchmem" --endpoint "127.0.0.1:$port" --watchers "$mem_watchers")
    swift=("$bench" watch --memory --endpoint "127.0.0.1:$port" --watchers "$mem_watchers")
    run_pair "$rep"
  done
fi

# The tables: each Swift run beside the Go run of the same etcd.
cat "$out/header.txt"
echo
awk '
  function field(name,   i, kv) {
    for (i = 1; i <= NF; i++) { split($i, kv, "="); if (kv[1] == name) return kv[2] }
    return ""
  }
  /op=watch / {
    tool = field("tool"); n = field("watchers"); key = n SUBSEP (++seen[tool, n])
    eps[tool, key] = field("events_per_s"); cpu[tool, key] = field("cpu_us_per_event"); p99[tool, key] = field("p99_ms")
    p50[tool, key] = field("p50_ms"); del[tool, key] = field("delivered"); tot[key] = field("total")
    etcd[tool, key] = field("etcd_cpu_s"); rss[tool, key] = field("rss_mb_end")
    if (!(key in order)) { order[key] = ++count; keys[count] = key }
  }
  /op=watch-memory/ {
    tool = field("tool"); m = ++mseen[tool]
    idle[tool, m] = field("rss_mb_idle"); open[tool, m] = field("rss_mb_watchers"); per[tool, m] = field("kb_per_watcher")
    mw = field("watchers"); if (m > mcount) mcount = m
  }
  END {
    g = "go-clientv3"; s = "etcd-swift"
    print "| watchers | total | Go events/s | Swift events/s | events/s Swift/Go | Go CPU µs/event | Swift CPU µs/event | CPU Swift/Go | Go p50 / p99 ms | Swift p50 / p99 ms | p99 Swift/Go | delivered Go, Swift | etcd CPU s Go, Swift | Swift RSS end MB |"
    print "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
    for (i = 1; i <= count; i++) {
      k = keys[i]; split(k, parts, SUBSEP)
      printf "| %s | %s | %s | %s | %.2f | %s | %s | %.2f | %s / %s | %s / %s | %.2f | %s, %s | %s, %s | %s |\n",
        parts[1], tot[k], eps[g, k], eps[s, k], (eps[g, k] > 0 ? eps[s, k] / eps[g, k] : 0), cpu[g, k], cpu[s, k],
        (cpu[g, k] > 0 ? cpu[s, k] / cpu[g, k] : 0), p50[g, k], p99[g, k], p50[s, k], p99[s, k],
        (p99[g, k] > 0 ? p99[s, k] / p99[g, k] : 0), del[g, k], del[s, k], etcd[g, k], etcd[s, k], rss[s, k]
    }
    if (mcount > 0) {
      print ""
      print "| rep | watchers | Go idle MB | Swift idle MB | Go with watchers MB | Swift with watchers MB | Go KiB/watcher | Swift KiB/watcher | KiB/watcher Swift/Go |"
      print "|---|---|---|---|---|---|---|---|---|"
      for (m = 1; m <= mcount; m++)
        printf "| %d | %s | %s | %s | %s | %s | %s | %s | %.2f |\n", m, mw, idle[g, m], idle[s, m], open[g, m],
          open[s, m], per[g, m], per[s, m], (per[g, m] > 0 ? per[s, m] / per[g, m] : 0)
    }
  }' "$out/results.txt"
