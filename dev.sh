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
# and fortunes-zh (English and Chinese text of the default corpus),
# python3-venv (the test venv with Hugging Face `safetensors`, which Debian 12
# does not package, for the checkpoint interop test).
PACKAGES=(cmake ninja-build ccache g++ python3 python3-venv
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

# The tests' Python packages (test/requirements.txt) in a venv under the
# build folder, where the interop test looks for it; pip runs only when one
# is missing, so CI caches it with build/.
install_test_venv() {
  local venv=$BUILD_DIR/venv
  if "$venv/bin/python" -c 'import safetensors' 2>/dev/null; then
    return 0
  fi
  echo "dev.sh: creating $venv with test/requirements.txt"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check -r test/requirements.txt
}

# The numerics tests once more with OpenBLAS's Prescott (SSE3) kernels and two
# threads: they sum in another order than the AVX2/AVX-512 kernels OpenBLAS
# picks on a modern CPU, and Prescott runs on every x86-64 machine (a core type
# the CPU lacks would die of an illegal instruction). A test that holds only on
# the CPU it was written on fails here. Prints report.py's LABEL=XML arguments.
NUMERICS_TESTS=(test/Unit/tele_model_gradcheck_tests test/Unit/tele_growth_tests
                test/Unit/tele_worked_example_tests test/Unit/tele_growth_options_tests
                runtime/tests/tele_kernels_gradcheck_tests runtime/tests/tele_kernels_tests)
numerics_on_another_cpu() {
  local dir=$1 status=0 t xml
  for t in "${NUMERICS_TESTS[@]}"; do
    xml="$dir/prescott-$(basename "$t").xml"
    OPENBLAS_CORETYPE=Prescott OPENBLAS_NUM_THREADS=2 TELE_CPU_THREADS=2 \
      "$BUILD_DIR/$t" --gtest_brief=1 --gtest_output="xml:$xml" >&2 || status=1
    echo "prescott-2-threads=$xml"
  done
  return $status
}

# Runs lit and ctest, then test/report.py prints the failures, each skipped
# test with its reason and the closing `tests: N passed, N failed, N skipped`
# (with CI=true, a skip not about the GPU counts as a failure).
run_tests() {
  local status=0 results
  results=$(mktemp -d)
  # CI runs the randomized numerics tests with one fixed seed (printed, so a
  # failure replays with TELE_TEST_SEED=...); local runs draw fresh seeds.
  if [ "${CI:-}" = true ] && [ -z "${TELE_TEST_SEED:-}" ]; then
    export TELE_TEST_SEED=20240607
  fi
  echo "test seed: ${TELE_TEST_SEED:-random per test (set TELE_TEST_SEED to fix)}"
  # lit: one line per failing test; ctest: runtime kernels, gradchecks,
  # data, checkpoints, growth numerics.
  "$LIT" -sv "$BUILD_DIR/test" -o "$results/lit.json" || status=1
  ctest --test-dir "$BUILD_DIR" --output-on-failure -j2 \
    --output-junit "$results/ctest.xml" || status=1
  local extra
  extra=$(numerics_on_another_cpu "$results") || status=1
  # shellcheck disable=SC2086
  python3 test/report.py "$results/lit.json" "$results/ctest.xml" $extra || status=1
  rm -rf "$results"
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
    install_test_venv
    run_tests
    ;;
  *)
    echo "usage: ./dev.sh demo | ./dev.sh test" >&2
    exit 2
    ;;
esac
