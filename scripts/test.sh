#!/usr/bin/env bash
# Runs every test: unit tests, integration tests against real etcd processes, and the check that the
# generated protobuf code matches Protos/. Installs the Debian packages it needs first.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
bash scripts/generate-protos.sh --check
swift build --build-tests
# Suites start their own etcd clusters; on small machines running them one at a time keeps timings honest.
swift test --skip-build --no-parallel
# A short libFuzzer run of each fuzz target (Fuzz/, see scripts/fuzz.sh): the fuzz build of the pure
# sources takes about a minute from clean, then 20 seconds per target.
bash scripts/fuzz.sh --seconds 20
