#!/usr/bin/env bash
# Runs every test: unit tests, integration tests against real etcd processes, the check that the
# generated protobuf code matches Protos/, and the DocC build that fails on a broken symbol link.
# Installs the Debian packages it needs first.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
python3 scripts/readme-examples.py --check
swift build --build-tests
# After the build: the proto check builds protoc-gen-swift from the package's swift-protobuf
# dependency, on the SwiftProtobuf module the build above made.
bash scripts/generate-protos.sh --check
# The DocC catalogs and doc comments: a broken ``SymbolLink`` fails the run (scripts/docs.sh).
bash scripts/docs.sh
# Suites start their own etcd clusters; on small machines running them one at a time keeps timings honest.
# Every test runs against Debian's etcd 3.4, then the integration suite again against etcd 3.5.1
# (.etcd/3.5.1, from scripts/install-etcd-3.5.sh), which comes first on PATH for that pass: etcd, etcdctl.
echo "== every test, against $(etcd --version | head -1)"
swift test --skip-build --no-parallel
if [ -x .etcd/3.5.1/etcd ]; then
  echo "== the integration tests, against $(.etcd/3.5.1/etcd --version | head -1)"
  PATH="$PWD/.etcd/3.5.1:$PATH" swift test --skip-build --no-parallel --filter IntegrationTests
else
  echo "== etcd 3.5.1 is not installed here (see scripts/install-etcd-3.5.sh): its pass is skipped"
fi
# A short libFuzzer run of each fuzz target (Fuzz/, see scripts/fuzz.sh): the fuzz build of the pure
# sources takes about a minute from clean, then 20 seconds per target.
bash scripts/fuzz.sh --seconds 20
# The probe with the OTLP package trait (its span export, --otlp-endpoint): one build with the trait, which
# adds swift-otel and async-http-client, and its one test against an OTLP/HTTP receiver. Last, as it
# rebuilds the package's own targets with the trait on: about 110 s after the build above (106 s of
# build and 4 s of test on a 2-core machine shared with another build).
echo "== the probe's OTLP span export (--traits OTLP)"
swift build --build-tests --traits OTLP
swift test --skip-build --no-parallel --traits OTLP --filter ProbeOTLPExportTests
