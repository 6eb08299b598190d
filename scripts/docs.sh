#!/usr/bin/env bash
# Builds the DocC documentation of the library targets with swift-docc-plugin, and fails on any DocC
# warning: a ``SymbolLink`` or <doc:Article> link that resolves to nothing, a topic group naming a
# missing symbol, a documented parameter the function does not have.
#
#   scripts/docs.sh                  check the library products' documentation: EtcdClient and
#                                    EtcdMetrics (DocC catalogs), PrometheusMetrics (which EtcdMetrics
#                                    re-exports; its symbols are documented there) and GRPCProtocol
#   scripts/docs.sh TARGET...        check those targets only
#
# The archives land in .build/plugins/Swift-DocC/outputs/TARGET.doccarchive (git-ignored);
# `swift package --disable-sandbox preview-documentation --target EtcdClient` serves one locally.
# Extracting the symbol graphs builds the targets in .build/debug with other settings than
# `swift build --build-tests`, so after it this recompiles the documented targets and SwiftProtobuf
# once (and the next `swift build --build-tests` compiles them back); the test binary is not touched.
set -euo pipefail
cd "$(dirname "$0")/.."

targets=("$@")
if ((${#targets[@]} == 0)); then
  targets=(EtcdClient EtcdMetrics PrometheusMetrics GRPCProtocol)
fi
args=()
for target in "${targets[@]}"; do
  args+=(--target "${target}")
done

# --warnings-as-errors goes through the plugin to `docc convert`.
swift package generate-documentation "${args[@]}" --warnings-as-errors
