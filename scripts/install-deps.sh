#!/usr/bin/env bash
# Installs what lakegate needs to build, test and benchmark on Debian 12, from
# Debian's archive only. Installs nothing that is already there. Run as root.
set -euo pipefail
# Everything the tests run is named here, not left to Recommends (installed
# with --no-install-recommends): python3-jwt only recommends
# python3-cryptography, without which PyJWT cannot load any key of a JWKS; the
# tests that need PyPI packages (boto3, trino, ...) put them in a venv (python3-venv,
# scripts/python-venv.sh); the TLS tests generate certificates with the openssl command; the lint tests run
# clang (its thread-safety analysis) and clang-format; the fuzz targets need
# clang's libFuzzer and sanitizer runtimes (libclang-rt-14-dev, Debian 12's clang 14).
PACKAGES=(
  build-essential cmake ninja-build pkg-config git ca-certificates curl jq openssl
  libssl-dev libsqlite3-dev libboost-dev libboost-system-dev libyaml-cpp-dev libcli11-dev
  nlohmann-json3-dev libcurl4-openssl-dev libgtest-dev libgmock-dev libbenchmark-dev
  python3 python3-jwt python3-cryptography python3-venv nodejs npm sqlite3
  clang clang-format libclang-rt-14-dev
  postgresql libpq-dev
)
if [[ "${1:-}" == "--bench" ]]; then PACKAGES+=(wrk nginx-light); fi
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Node.js may come from elsewhere than Debian (e.g. a preinstalled toolchain):
# then the nodejs/npm packages are not needed.
if command -v node >/dev/null && command -v npm >/dev/null; then
  missing=("${missing[@]/nodejs}"); missing=("${missing[@]/npm}")
fi
read -r -a missing <<<"${missing[*]}"
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}"
  if [[ $(id -u) -ne 0 ]]; then echo "run as root (or with sudo) to install packages" >&2; exit 1; fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
