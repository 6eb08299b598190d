#!/bin/bash
# The probe's own put latency beside Go clientv3's, side by side against one fresh etcd 3.4.23.
#
#   Benchmarks/probe-latency-vs-go.sh [SECONDS]        # default 60; about SECONDS + 15 s per window
#
# Starts one etcd (--metrics extensive) on free loopback ports, its data directory on tmpfs (/dev/shm)
# rather than with --unsafe-no-fsync (which 3.4.23 accepts, though its --help does not list it): etcd still
# fsyncs, a tmpfs fsync is nearly free, so the server's share is small and a client's own overhead shows. Then, per window: starts the release etcd-probe on that one member
# (--discover false --interval 100ms --log-level debug), waits for 20 rounds, and for SECONDS runs Go's
# clientv3 anchor beside it (gobench --op put --clients 1 --conns 1 --interval 100ms). Over the window it reads
#   - the probe's put latency on the member's endpoint: mean from etcd_probe_duration_seconds _sum/_count
#     deltas; p99 from the probe's debug log, which has every operation's duration in microseconds (the
#     histogram's classic buckets are 0.5, 1, 2, 3, 5 ms: too coarse for a p99 below a few milliseconds);
#   - Go's mean and p99 from its RESULT line;
#   - etcd's server-side Put handling (grpc_server_handling_seconds, grpc_method="Put", over every put of the
#     window: the probe's and Go's): mean from _sum/_count deltas, p99 interpolated in its buckets as
#     histogram_quantile does (its buckets start at 5 ms, so that p99 is only an upper bound's estimate).
# and prints them with the ratios probe/Go (mean, p99) and probe/server (mean).
#
# Environment: PROBE (default: the root package's .build/release/etcd-probe), BASELINE (another etcd-probe
# binary: each repetition then runs a window with it right after PROBE's, so the two compare in one run),
# REPS (repetitions, default 1), GOBENCH (default /tmp/anchors-bin/gobench; build it with
# BIN=/tmp/anchors-bin bash ../shared/anchors/build-go.sh), DATA_ROOT (default /dev/shm), ALIAS (see below).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
seconds=${1:-60}
probe=${PROBE:-$here/../.build/release/etcd-probe}
baseline=${BASELINE:-}
reps=${REPS:-1}
gobench=${GOBENCH:-/tmp/anchors-bin/gobench}
data_root=${DATA_ROOT:-/dev/shm}
for binary in "$probe" "$gobench" ${baseline:+"$baseline"}; do
  [ -x "$binary" ] || { echo "missing: $binary" >&2; exit 1; }
done

work=$(mktemp -d "$data_root/probe-latency.XXXXXX")
etcd_pid=
probe_pid=
cleanup() {
  [ -n "$probe_pid" ] && kill "$probe_pid" 2>/dev/null && wait "$probe_pid" 2>/dev/null || true
  [ -n "$etcd_pid" ] && kill "$etcd_pid" 2>/dev/null && wait "$etcd_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

read -r client_port peer_port listen_port < <(python3 -c '
import socket
socks = [socket.socket() for _ in range(3)]
for s in socks: s.bind(("127.0.0.1", 0))
print(*[s.getsockname()[1] for s in socks])
for s in socks: s.close()')
endpoint=127.0.0.1:$client_port
probe_endpoints=$endpoint
# ALIAS=1: the member a second time as localhost:PORT, so the probe runs three targets (two "members" and the
# cluster) against it, as it does against a three-member cluster; the figures stay those of 127.0.0.1:PORT.
if [ "${ALIAS:-0}" = 1 ]; then probe_endpoints=$endpoint,localhost:$client_port; fi

etcd --name probe-latency --data-dir "$work/etcd" --metrics extensive --log-level error --logger zap \
  --listen-client-urls "http://$endpoint" --advertise-client-urls "http://$endpoint" \
  --listen-peer-urls "http://127.0.0.1:$peer_port" --initial-advertise-peer-urls "http://127.0.0.1:$peer_port" \
  --initial-cluster "probe-latency=http://127.0.0.1:$peer_port" > "$work/etcd.log" 2>&1 &
etcd_pid=$!
for _ in $(seq 100); do
  curl -sf "http://$endpoint/health" > /dev/null 2>&1 && break
  sleep 0.1
done
curl -sf "http://$endpoint/health" > /dev/null || { echo "etcd did not start" >&2; cat "$work/etcd.log" >&2; exit 1; }

# One window: the probe binary $1 (labelled $2) and Go side by side for $seconds.
window() {
  local binary=$1 label=$2 log=$work/probe-$2.log
  "$binary" --endpoints "$probe_endpoints" --discover false --interval 100ms --listen-address "127.0.0.1:$listen_port" \
    --log-level debug --key-prefix "/probe-latency/$label/" 2> "$log" > /dev/null &
  probe_pid=$!
  local rounds=0
  for _ in $(seq 300); do
    rounds=$(curl -sf "http://127.0.0.1:$listen_port/metrics" 2>/dev/null \
      | awk '/^etcd_probe_rounds_total/ {print int($2)}' || true)
    [ "${rounds:-0}" -ge 20 ] && break
    sleep 0.1
  done
  [ "${rounds:-0}" -ge 20 ] || { echo "the probe ($label) did not complete 20 rounds" >&2; tail "$log" >&2; exit 1; }
  curl -sf "http://127.0.0.1:$listen_port/metrics" > "$work/probe-before"
  curl -sf "http://$endpoint/metrics" > "$work/etcd-before"
  local log_from load_before
  log_from=$(stat -c %s "$log")
  load_before=$(cut -d' ' -f1 /proc/loadavg)
  local started
  started=$(date -u +%H:%M:%S)
  timeout $((seconds * 3 + 30)) "$gobench" --endpoint "$endpoint" --op put --clients 1 --conns 1 \
    --interval 100ms --total $((seconds * 10)) > "$work/go-result"
  curl -sf "http://127.0.0.1:$listen_port/metrics" > "$work/probe-after"
  curl -sf "http://$endpoint/metrics" > "$work/etcd-after"
  local log_to
  log_to=$(stat -c %s "$log")
  kill "$probe_pid"
  wait "$probe_pid" 2>/dev/null || true
  probe_pid=
  python3 - "$work" "$label" "$endpoint" "$log" "$log_from" "$log_to" "$started" "$load_before" <<'PY'
import math, re, sys
work, label, endpoint, log, log_from, log_to, started, load_before = sys.argv[1:]
sample = re.compile(r'^(\w+)(?:\{(.*)\})? (\S+)')
label_pair = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')

def read(path):
    out = {}
    for line in open(path):
        m = sample.match(line)
        if m:
            out[(m[1], tuple(sorted(label_pair.findall(m[2] or ""))))] = float(m[3])
    return out

def delta(before, after, name, **labels):
    """The change of every series of `name` whose labels include `labels`, by its other labels."""
    want = set(labels.items())
    return {dict(k[1]).get("le"): v - before.get(k, 0.0) for k, v in after.items()
            if k[0] == name and want <= set(k[1])}

def quantile(q, buckets):
    """histogram_quantile over cumulative buckets {le: count}."""
    les = sorted(((float(le), c) for le, c in buckets.items()), key=lambda b: b[0])
    total = les[-1][1]
    if total <= 0:
        return float("nan")
    rank, lower, below = q * total, 0.0, 0.0
    for le, count in les:
        if count >= rank:
            if math.isinf(le):
                return lower
            return lower + (le - lower) * (rank - below) / max(count - below, 1e-12)
        lower, below = le, count
    return lower

def pct(values, p):
    values = sorted(values)
    return values[int(p / 100 * (len(values) - 1) + 0.5)] if values else float("nan")

pb, pa = read(f"{work}/probe-before"), read(f"{work}/probe-after")
eb, ea = read(f"{work}/etcd-before"), read(f"{work}/etcd-after")
put = dict(endpoint=endpoint, op="put")
probe_sum = delta(pb, pa, "etcd_probe_duration_seconds_sum", **put)[None]
probe_count = delta(pb, pa, "etcd_probe_duration_seconds_count", **put)[None]
with open(log, "rb") as f:
    f.seek(int(log_from))
    lines = f.read(int(log_to) - int(log_from)).decode(errors="replace").splitlines()
logged = [int(m[1]) / 1000 for line in lines if "probe operation" in line and "op=put" in line
          and f"endpoint={endpoint}" in line and "ok=true" in line
          and (m := re.search(r"duration_us=(\d+)", line))]
server = dict(grpc_method="Put", grpc_service="etcdserverpb.KV")
server_sum = delta(eb, ea, "grpc_server_handling_seconds_sum", **server)[None]
server_count = delta(eb, ea, "grpc_server_handling_seconds_count", **server)[None]
server_buckets = delta(eb, ea, "grpc_server_handling_seconds_bucket", **server)
go = dict(re.findall(r"(\w+)=(\S+)", open(f"{work}/go-result").read()))
load_after = open("/proc/loadavg").read().split()[0]

probe_mean = probe_sum / probe_count * 1000
probe_p99 = pct(logged, 99)
go_mean, go_p99 = float(go["mean_ms"]), float(go["p99_ms"])
server_mean = server_sum / server_count * 1000
server_p99 = quantile(0.99, server_buckets) * 1000
print(f"WINDOW probe={label} started={started}Z load={load_before}->{load_after} probe_puts={int(probe_count)} "
      f"logged_puts={len(logged)} go_puts={go['total']} go_errors={go['errors']} server_puts={int(server_count)}")
print(f"  probe put: mean {probe_mean:.3f} ms (log: {sum(logged) / max(len(logged), 1):.3f}), "
      f"p50 {pct(logged, 50):.3f}, p99 {probe_p99:.3f}, min {min(logged, default=float('nan')):.3f} ms")
print(f"  Go put:    mean {go_mean:.3f} ms, p50 {float(go['p50_ms']):.3f}, p99 {go_p99:.3f} ms")
print(f"  etcd Put handling (server side): mean {server_mean:.3f} ms, p99 <= {server_p99:.3f} ms (5 ms buckets)")
print(f"  RATIO probe={label} probe/go_mean={probe_mean / go_mean:.3f} probe/go_p99={probe_p99 / go_p99:.3f} "
      f"probe/server_mean={probe_mean / server_mean:.3f} go/server_mean={go_mean / server_mean:.3f}")
print(f"| {label} | {started}Z | {load_before}–{load_after} | {probe_mean:.3f} | {probe_p99:.3f} | {go_mean:.3f} | "
      f"{go_p99:.3f} | {server_mean:.3f} | {probe_mean / go_mean:.2f} | {probe_p99 / go_p99:.2f} | "
      f"{probe_mean / server_mean:.2f} |", file=open(f"{work}/table.md", "a"))
PY
}

echo "etcd $(etcd --version | head -1 | awk '{print $3}') on $endpoint (data on $data_root), windows of ${seconds}s"
for rep in $(seq "$reps"); do
  window "$probe" "probe"
  if [ -n "$baseline" ]; then window "$baseline" "baseline"; fi
done
echo
echo "| probe | window start | load | probe mean ms | probe p99 ms | Go mean ms | Go p99 ms | etcd Put mean ms | probe/Go mean | probe/Go p99 | probe/etcd mean |"
echo "|---|---|---|---|---|---|---|---|---|---|---|"
cat "$work/table.md"
