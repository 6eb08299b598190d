#!/usr/bin/env bash
# Installs the Debian packages this project needs to build, test and run: libnghttp2 (the HTTP/2 engine),
# libmicrohttpd and zlib (the /metrics server), etcd (server and etcdctl, for tests and the probe's throwaway
# cluster), Prometheus (promtool and a real scraper for tests), protoc (to check the generated code), curl and
# openssl (the TLS tests make their certificates and check etcd's health with them).
# Needs root (or sudo); does nothing when everything is already installed.
set -euo pipefail

packages=(libnghttp2-dev libmicrohttpd-dev zlib1g-dev pkg-config etcd-server etcd-client prometheus
  protobuf-compiler curl openssl)

missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
echo "installing: ${missing[*]}" >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# Debian starts the packaged etcd and prometheus as services; the tests start their own on free ports.
if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
  $sudo systemctl disable --now etcd prometheus >/dev/null 2>&1 || true
fi
