#!/usr/bin/env bash
# Installs the Debian packages this project needs to build, test and run: libnghttp2 (the HTTP/2 engine),
# libmicrohttpd, GnuTLS (its HTTPS; the server checks client certificates with it), libxcrypt (bcrypt for
# the server's basic-auth users) and zlib (the /metrics server), etcd (server and etcdctl, for tests and the
# probe's throwaway cluster), Prometheus (promtool and a real scraper for tests), protoc and the well-known
# types it imports (to check the generated code), curl and openssl (the TLS tests make their certificates and
# check etcd's and the metrics server's HTTPS with them), nghttpd (an HTTP/2 server that logs the request
# headers it receives: the test of the traceparent on the wire), pip (for etcd 3.5.1's release binaries, which
# scripts/install-etcd-3.5.sh puts in .etcd/3.5.1 beside Debian's etcd 3.4), PyYAML and systemd-analyze (the
# deploy/ examples are parsed and the systemd unit verified).
# Needs root (or sudo); does nothing when everything is already installed.
set -euo pipefail

packages=(libnghttp2-dev libmicrohttpd-dev libgnutls28-dev libcrypt-dev zlib1g-dev pkg-config etcd-server
  etcd-client prometheus protobuf-compiler libprotobuf-dev curl openssl nghttp2-server python3-pip python3-yaml
  systemd)

missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  echo "installing: ${missing[*]}" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # Debian starts the packaged etcd and prometheus as services; the tests start their own on free ports.
  if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
    $sudo systemctl disable --now etcd prometheus >/dev/null 2>&1 || true
  fi
fi

bash "$(dirname "$0")/install-etcd-3.5.sh"
