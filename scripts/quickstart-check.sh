#!/usr/bin/env bash
# Builds and runs the README's quick start as a new user would paste it: its Package.swift and main.swift in a
# package of their own, depending on a copy of this repository by path (scripts/readme-examples.py --package).
# Then, in a network namespace of its own (loopback only, so the README's fixed ports 2379 and 9091 are free),
# it starts a throwaway etcd and the quick start, and checks that /metrics answers with the client's calls
# for 10 s and that the program is still running: it must not exit before anything can scrape it.
#
#   scripts/quickstart-check.sh [DIR]     # DIR: where the two packages go (default: a temporary folder)
#
# The build is a first build of the client and its dependencies: 740 s, and 12 min 41 s for the whole check, on
# the 2-core machine at a load average of 15 to 20 (2026-12-06).
# Needs etcd, curl, ip and unprivileged user namespaces (unshare -rn). Every wait is bounded; only the
# processes it started are stopped, by their PIDs.
set -euo pipefail
cd "$(dirname "$0")/.."

dir=${1:-$(mktemp -d)}
package=$(python3 scripts/readme-examples.py --package "$dir")
echo "== building $package"
swift build --package-path "$package"
binary="$(swift build --package-path "$package" --show-bin-path)/quickstart"

echo "== running it against a throwaway etcd, in a network namespace of its own"
export QUICKSTART_BINARY="$binary" QUICKSTART_DATA="$dir/etcd-data"
rm -rf "$QUICKSTART_DATA"
unshare -rn bash -euo pipefail -c '
  ip link set lo up
  etcd --data-dir "$QUICKSTART_DATA" --listen-client-urls http://127.0.0.1:2379 \
    --advertise-client-urls http://127.0.0.1:2379 --listen-peer-urls http://127.0.0.1:2380 \
    > "$QUICKSTART_DATA.log" 2>&1 &
  etcd_pid=$!
  "$QUICKSTART_BINARY" > "$QUICKSTART_DATA.out" 2>&1 &
  app_pid=$!
  stop() { kill "$app_pid" "$etcd_pid" 2>/dev/null || true; wait "$app_pid" "$etcd_pid" 2>/dev/null || true; }
  trap stop EXIT
  handled=0
  for _ in $(seq 1 20); do
    sleep 1
    handled=$(curl -sf --max-time 2 http://127.0.0.1:9091/metrics \
      | awk "/^grpc_client_handled_total.*grpc_method=\"Put\".*grpc_code=\"OK\"/ { s += \$NF } END { print s + 0 }" \
      || echo 0)
    [ "${handled%.*}" -ge 5 ] && break
  done
  if [ "${handled%.*}" -lt 5 ]; then
    echo "FAIL: /metrics shows $handled successful puts after 20 s" >&2
    cat "$QUICKSTART_DATA.out" >&2
    exit 1
  fi
  sleep 10
  if ! kill -0 "$app_pid" 2>/dev/null; then
    echo "FAIL: the quick start exited before it was stopped" >&2
    cat "$QUICKSTART_DATA.out" >&2
    exit 1
  fi
  curl -sf --max-time 2 http://127.0.0.1:9091/metrics | grep -q "^grpc_client_handled_total" \
    || { echo "FAIL: /metrics stopped answering" >&2; exit 1; }
  echo "ok: /metrics counted $handled successful puts, and the quick start is still serving after 10 s more"
'
