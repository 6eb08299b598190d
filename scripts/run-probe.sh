#!/usr/bin/env bash
# Runs etcd-probe: installs the Debian packages it needs, builds it, and runs it with the given flags.
# With no --endpoints it starts a throwaway local etcd, so this alone shows the whole product working:
#   scripts/run-probe.sh                       # then: curl http://127.0.0.1:9379/metrics
#   scripts/run-probe.sh --endpoints 10.0.0.1:2379,10.0.0.2:2379,10.0.0.3:2379
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
swift build --product etcd-probe
exec "$(swift build --show-bin-path)/etcd-probe" "$@"
