#!/usr/bin/env bash
# dev.sh - the two commands of tele's quick start. Each does all set-up on a
# fresh Debian 12 machine: installs the Debian packages it needs, configures
# with CMake + Ninja + ccache, builds, then
#   ./dev.sh demo   trains the embedded default plan (grow twice) and plots it
#   ./dev.sh test   runs every test: lit/FileCheck suite and ctest (gtest)
set -euo pipefail
cd "$(dirname "$0")"

# Why each package: LLVM/MLIR 22 (the compiler's base, FileCheck and lit),
# OpenBLAS (GEMMs of the CPU executor), nlohmann-json (safetensors headers in
# the MLIR-free runtime), GoogleTest (runtime and numerics tests), fortunes
# and fortunes-zh (English and Chinese text of the default corpus).
PACKAGES=(cmake ninja-build ccache g++ python3
          llvm-22-dev libmlir-22-dev mlir-22-tools llvm-22-tools
          libopenblas-dev nlohmann-json3-dev libgtest-dev
          fortunes fortunes-zh)
BUILD_DIR=${TELE_BUILD_DIR:-build}
# ccache keys on paths relative to the clone, so a fresh clone in another folder
# (CI's, a worktree's) reuses what an earlier build compiled.
export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$(pwd)}
LIT=/usr/lib/llvm-22/bin/lit

install_packages() {
  local missing=()
  for p in "${PACKAGES[@]}"; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  local sudo=""
  [ "$(id -u)" != 0 ] && sudo=sudo
  echo "dev.sh: installing ${missing[*]}"
  $sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
}

build() {
  if [ ! -f "$BUILD_DIR/build.ninja" ]; then
    cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release \
      -DLLVM_EXTERNAL_LIT="$LIT"
  fi
  ninja -C "$BUILD_DIR"
}

run_tests() {
  local log status=0
  log=$(mktemp)
  # lit: one line per failing test, a summary at the end.
  "$LIT" -sv "$BUILD_DIR/test" | tee "$log" || status=1
  local lit_pass lit_fail
  lit_pass=$(awk -F: '/^ *(Passed|Expectedly Failed|Unsupported) *:/ {n += $2} END {print n + 0}' "$log")
  lit_fail=$(awk -F: '/^ *(Failed|Unexpectedly Passed|Unresolved|Timed Out) *:/ {n += $2} END {print n + 0}' "$log")
  # ctest: runtime kernels, gradchecks, data, checkpoints, growth numerics.
  ctest --test-dir "$BUILD_DIR" --output-on-failure -j2 | tee "$log" || status=1
  local ct_total ct_fail
  ct_total=$(grep -Eo 'tests failed out of [0-9]+' "$log" | grep -Eo '[0-9]+$' || echo 0)
  ct_fail=$(grep -Eo '[0-9]+ tests failed out of' "$log" | grep -Eo '^[0-9]+' || echo 0)
  rm -f "$log"
  local passed=$(( ${lit_pass:-0} + ct_total - ct_fail )) failed=$(( ${lit_fail:-0} + ct_fail ))
  echo "tests: $passed passed, $failed failed"
  return $status
}

case "${1:-}" in
  demo)
    install_packages
    build
    out=${TELE_DEMO_OUT:-out/demo}
    rm -rf "$out"
    "$BUILD_DIR/bin/tele" train --out "$out"
    "$BUILD_DIR/bin/tele" plot "$out/metrics.jsonl" -o "$out/loss.svg"
    ;;
  test)
    install_packages
    build
    run_tests
    ;;
  *)
    echo "usage: ./dev.sh demo | ./dev.sh test" >&2
    exit 2
    ;;
esac
