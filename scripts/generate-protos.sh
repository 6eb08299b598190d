#!/usr/bin/env bash
# Regenerates the Swift protobuf targets from Protos/:
#   Sources/EtcdProto/*.pb.swift        from the etcd v3 API definitions (Protos/ but prometheus/)
#   Sources/PrometheusProto/*.pb.swift  from Prometheus' client model (Protos/prometheus/)
#
# Usage:
#   scripts/generate-protos.sh           # regenerate both targets' *.pb.swift
#   scripts/generate-protos.sh --check   # regenerate into a temp dir and diff against
#                                        # the committed files; exit 1 if they differ (CI)
#
# Requirements:
#   protoc                 Debian's protobuf-compiler (3.21.x), on PATH or in $PROTOC
#   protoc-gen-swift       swift-protobuf 1.39.0 (must match the SwiftProtobuf version the
#                          package depends on). Taken from $PROTOC_GEN_SWIFT if set; otherwise
#                          the package's own: `swift build --product protoc-gen-swift` builds it
#                          from the swift-protobuf dependency (.build/checkouts/swift-protobuf)
#                          into .build/debug, reusing the SwiftProtobuf module of the package's
#                          build: on a built tree it compiles only SwiftProtobufPluginLibrary and
#                          the tool, and later runs reuse the binary. No clone, no release build.
#
# Environment:
#   PROTOC                 protoc binary to use (default: protoc)
#   PROTOC_GEN_SWIFT       prebuilt protoc-gen-swift to use instead of building one
#   SWIFT_BUILD_JOBS       passed as -j to `swift build` when building the plugin
#   SWIFT_BUILD_PATH       the package's build directory (default: .build)
set -euo pipefail

SWIFT_PROTOBUF_VERSION="1.39.0"

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "${SCRIPT_DIR}/.." && pwd)"
PROTO_DIR="${REPO_ROOT}/Protos"
BUILD_PATH="${SWIFT_BUILD_PATH:-${REPO_ROOT}/.build}"

die() {
  echo "generate-protos: error: $*" >&2
  exit 2
}

log() {
  echo "generate-protos: $*" >&2
}

usage() {
  awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "${BASH_SOURCE[0]}"
}

CHECK=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --check) CHECK=1 ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument: $1" ;;
  esac
  shift
done

# --- protoc -----------------------------------------------------------------

PROTOC="${PROTOC:-protoc}"
command -v "${PROTOC}" >/dev/null 2>&1 \
  || die "protoc not found (install Debian's protobuf-compiler or set \$PROTOC)"
log "using $("${PROTOC}" --version)"

# --- protoc-gen-swift -------------------------------------------------------

plugin_version() {
  # "protoc-gen-swift 1.39.0" -> "1.39.0"
  { "$1" --version 2>/dev/null || true; } | awk 'NR == 1 { print $NF }'
}

# The package's protoc-gen-swift: swift-protobuf is a dependency of the package, so its plugin
# product builds in the package's build directory from the checkout SwiftPM already holds, sharing
# the SwiftProtobuf module with the package's own build. A built one of the right version is reused.
build_plugin() {
  local bin
  for bin in "${BUILD_PATH}/debug/protoc-gen-swift" "${BUILD_PATH}/release/protoc-gen-swift"; do
    if [[ -x "${bin}" && "$(plugin_version "${bin}")" == "${SWIFT_PROTOBUF_VERSION}" ]]; then
      PLUGIN="${bin}"
      return
    fi
  done
  command -v swift >/dev/null 2>&1 || die "swift not found; cannot build protoc-gen-swift"
  local jobs=()
  if [[ -n "${SWIFT_BUILD_JOBS:-}" ]]; then
    jobs=(-j "${SWIFT_BUILD_JOBS}")
  fi
  log "building protoc-gen-swift from the package's swift-protobuf dependency"
  swift build --product protoc-gen-swift --package-path "${REPO_ROOT}" --scratch-path "${BUILD_PATH}" \
    ${jobs[@]+"${jobs[@]}"} >&2
  bin="${BUILD_PATH}/debug/protoc-gen-swift"
  [[ -x "${bin}" ]] || die "protoc-gen-swift was not produced at ${bin}"
  PLUGIN="${bin}"
}

if [[ -n "${PROTOC_GEN_SWIFT:-}" ]]; then
  [[ -x "${PROTOC_GEN_SWIFT}" ]] || die "\$PROTOC_GEN_SWIFT (${PROTOC_GEN_SWIFT}) is not executable"
  PLUGIN="${PROTOC_GEN_SWIFT}"
else
  build_plugin
fi

version="$(plugin_version "${PLUGIN}")"
[[ "${version}" == "${SWIFT_PROTOBUF_VERSION}" ]] \
  || die "${PLUGIN} is protoc-gen-swift ${version:-<unknown>}, expected ${SWIFT_PROTOBUF_VERSION}"
log "using protoc-gen-swift ${version} (${PLUGIN})"

# --- generate ---------------------------------------------------------------

[[ -d "${PROTO_DIR}" ]] || die "missing ${PROTO_DIR}"

WORK_DIR="$(mktemp -d "${TMPDIR:-/tmp}/generate-protos.XXXXXX")"
trap 'rm -rf "${WORK_DIR}"' EXIT

# Generates one target: the .proto files (relative to Protos/) given after the target's name.
# Sets GENERATED to the produced file names, relative to ${WORK_DIR}/<target>.
generate() {
  local target="$1"
  shift
  local gen_dir="${WORK_DIR}/${target}"
  mkdir -p "${gen_dir}"
  (
    cd "${PROTO_DIR}"
    "${PROTOC}" \
      --proto_path=. \
      --plugin=protoc-gen-swift="${PLUGIN}" \
      --swift_out="${gen_dir}" \
      --swift_opt=Visibility=Public \
      --swift_opt=FileNaming=DropPath \
      "$@"
  )
  mapfile -t GENERATED < <(cd "${gen_dir}" && find . -name '*.pb.swift' -type f | sed 's|^\./||' | LC_ALL=C sort)
  [[ ${#GENERATED[@]} -gt 0 ]] || die "protoc produced no .pb.swift files for ${target}"
}

# Diffs one target's output against Sources/<target>; returns 1 when anything differs.
check_target() {
  local target="$1"
  local gen_dir="${WORK_DIR}/${target}"
  local out_dir="${REPO_ROOT}/Sources/${target}"
  local status=0
  # Files that should exist and match.
  for f in "${GENERATED[@]}"; do
    if [[ ! -f "${out_dir}/${f}" ]]; then
      echo "missing: Sources/${target}/${f}" >&2
      status=1
    elif ! diff -u "${out_dir}/${f}" "${gen_dir}/${f}" >&2; then
      echo "out of date: Sources/${target}/${f}" >&2
      status=1
    fi
  done
  # Stale generated files that no longer have a .proto.
  if [[ -d "${out_dir}" ]]; then
    while IFS= read -r f; do
      if [[ ! -f "${gen_dir}/${f}" ]]; then
        echo "stale: Sources/${target}/${f} (no corresponding .proto)" >&2
        status=1
      fi
    done < <(cd "${out_dir}" && find . -name '*.pb.swift' -type f | sed 's|^\./||' | LC_ALL=C sort)
  fi
  if [[ ${status} -ne 0 ]]; then
    echo "generate-protos: Sources/${target} is out of date; run scripts/generate-protos.sh" >&2
    return 1
  fi
  log "Sources/${target} is up to date (${#GENERATED[@]} files)"
}

# Replaces Sources/<target>/*.pb.swift with the generated files, so that removed .proto files do
# not leave stale output.
write_target() {
  local target="$1"
  local gen_dir="${WORK_DIR}/${target}"
  local out_dir="${REPO_ROOT}/Sources/${target}"
  mkdir -p "${out_dir}"
  find "${out_dir}" -name '*.pb.swift' -type f -delete
  for f in "${GENERATED[@]}"; do
    mkdir -p "$(dirname "${out_dir}/${f}")"
    cp "${gen_dir}/${f}" "${out_dir}/${f}"
    log "wrote Sources/${target}/${f}"
  done
}

# Proto files relative to Protos/, in a stable order: etcd's everywhere but prometheus/, and
# Prometheus' client model (which imports google/protobuf/timestamp.proto from protoc's include
# directory; SwiftProtobuf provides its Swift type).
mapfile -t ETCD_PROTOS < <(cd "${PROTO_DIR}" && find . -name '*.proto' -type f -not -path './prometheus/*' \
  | sed 's|^\./||' | LC_ALL=C sort)
mapfile -t PROMETHEUS_PROTOS < <(cd "${PROTO_DIR}" && find ./prometheus -name '*.proto' -type f \
  | sed 's|^\./||' | LC_ALL=C sort)
[[ ${#ETCD_PROTOS[@]} -gt 0 ]] || die "no etcd .proto files under ${PROTO_DIR}"
[[ ${#PROMETHEUS_PROTOS[@]} -gt 0 ]] || die "no .proto files under ${PROTO_DIR}/prometheus"

status=0
for target in EtcdProto PrometheusProto; do
  if [[ "${target}" == EtcdProto ]]; then
    generate "${target}" "${ETCD_PROTOS[@]}"
  else
    generate "${target}" "${PROMETHEUS_PROTOS[@]}"
  fi
  if [[ ${CHECK} -eq 1 ]]; then
    check_target "${target}" || status=1
  else
    write_target "${target}"
  fi
done
exit "${status}"
