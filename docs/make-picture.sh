#!/usr/bin/env bash
# Makes docs/probe-panels.png from real probe data: a 3-member etcd on loopback, etcd-probe, and Prometheus
# scraping it every second for about 100 s, with one member paused (SIGSTOP) for 8 s in the middle. The
# latency and watch-delay panels' queries are read back through Prometheus' range-query API and plotted.
# Needs: the built etcd-probe (swift build), etcd, prometheus, curl, python3 with matplotlib.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d /tmp/probe-picture.XXXXXX)
pids=()
cleanup() { for pid in "${pids[@]}"; do kill -CONT "$pid" 2>/dev/null || true; kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

cluster=""; endpoints=""; declare -a client_ports peer_ports
for i in 0 1 2; do client_ports[$i]=$(port); peer_ports[$i]=$(port); done
for i in 0 1 2; do cluster+="m$i=http://127.0.0.1:${peer_ports[$i]},"; endpoints+="127.0.0.1:${client_ports[$i]},"; done
cluster=${cluster%,}; endpoints=${endpoints%,}
for i in 0 1 2; do
  etcd --name m$i --data-dir "$work/m$i" --listen-client-urls http://127.0.0.1:${client_ports[$i]} \
    --advertise-client-urls http://127.0.0.1:${client_ports[$i]} --listen-peer-urls http://127.0.0.1:${peer_ports[$i]} \
    --initial-advertise-peer-urls http://127.0.0.1:${peer_ports[$i]} --initial-cluster "$cluster" \
    --unsafe-no-fsync > "$work/m$i.log" 2>&1 &
  pids+=($!); member_pids[$i]=$!
done
sleep 3
probe_port=$(port)
"$(swift build --show-bin-path)/etcd-probe" --endpoints "$endpoints" --listen-address 127.0.0.1:$probe_port \
  --interval 250ms --timeout 1s --log-level warning > "$work/probe.log" 2>&1 &
pids+=($!)
prom_port=$(port)
cat > "$work/prometheus.yml" <<YAML
global: {scrape_interval: 1s, evaluation_interval: 1s}
scrape_configs: [{job_name: etcd-probe, static_configs: [{targets: ["127.0.0.1:$probe_port"]}]}]
YAML
prometheus --config.file "$work/prometheus.yml" --storage.tsdb.path "$work/tsdb" \
  --web.listen-address 127.0.0.1:$prom_port > "$work/prometheus.log" 2>&1 &
pids+=($!)
start=$(date +%s)
sleep 45
kill -STOP "${member_pids[1]}"; sleep 8; kill -CONT "${member_pids[1]}"
sleep 45
end=$(date +%s)
python3 docs/plot-panels.py "http://127.0.0.1:$prom_port" "$start" "$end" docs/probe-panels.png
echo "wrote docs/probe-panels.png (member 127.0.0.1:${client_ports[1]} paused for 8 s)"
