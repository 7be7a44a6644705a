#!/usr/bin/env bash
# Installs the Debian packages uvsqlite needs, if any is missing. Sourced by scripts/demo and
# scripts/test. Runs apt-get update first when something must be installed (a fresh machine's
# package lists can be empty).
set -euo pipefail

uvsqlite_ensure_packages() {
  local missing=()
  local pkg
  for pkg in "$@"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
      missing+=("$pkg")
    fi
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "uvsqlite: installing missing packages: ${missing[*]}"
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
      echo "uvsqlite: need root (or sudo) to install: ${missing[*]}" >&2
      return 1
    fi
  fi
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -q
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
}

UVSQLITE_BUILD_PACKAGES=(cmake make g++ pkg-config libuv1-dev libsqlite3-dev)
UVSQLITE_TEST_PACKAGES=(libgtest-dev libgmock-dev)
UVSQLITE_BENCH_PACKAGES=(libbenchmark-dev)
# The fuzz configuration (scripts/test fuzz, scripts/fuzz): clang with libFuzzer and the
# sanitizer runtimes.
UVSQLITE_FUZZ_PACKAGES=(clang libclang-rt-14-dev)
