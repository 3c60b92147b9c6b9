#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Runs the engine under sanitizers; the one command for it (see CONTRIBUTING.md):
#
#   scripts/sanitize.sh [asan|tsan|python|all]...     (default: all; several parts may be named)
#
#   asan    C++ tests built with AddressSanitizer + UBSan (no recovery), all run by ctest
#   tsan    C++ tests built with ThreadSanitizer; the threaded ones run by ctest
#   python  the _core extension built with ASan + UBSan, loaded through LD_PRELOAD into the
#           normal interpreter, running the Python tests (XFAST_SANITIZE_PYTEST_ARGS overrides
#           which ones)
#
# Needs g++ (Debian: g++, whose libgcc-12-dev ships libasan/libubsan/libtsan), cmake >= 3.21 and,
# for `python`, an environment with the test dependencies (.venv when present, else python3).
# asan and python share build/cpp-asan (the engine is compiled once); tsan uses build/cpp-tsan.
# Build trees are reused between runs. The ASan build is Debug (-O0): on 2 cores compiling
# pybind11 code dominates, and the tests are short.
set -euo pipefail
cd "$(dirname "$0")/.."

parts=("$@")
[[ ${#parts[@]} -eq 0 ]] && parts=(all)
wants() {
  local p
  for p in "${parts[@]}"; do
    [[ "$p" == "$1" || "$p" == all ]] && return 0
  done
  return 1
}
for p in "${parts[@]}"; do
  case "$p" in
    asan | tsan | python | all) ;;
    *)
      echo "usage: $0 [asan|tsan|python|all]..." >&2
      exit 2
      ;;
  esac
done

if [[ -x .venv/bin/python ]]; then
  export PATH="$PWD/.venv/bin:$PATH"  # the venv's cmake/ninja, when pip installed them
fi
PYTHON="${PYTHON:-$(command -v python || command -v python3)}"
CXX="${CXX:-g++}"
export CXX
if [[ -z "${CMAKE_GENERATOR:-}" ]] && command -v ninja >/dev/null; then
  export CMAKE_GENERATOR=Ninja
fi
JOBS="$(nproc)"

step() { printf '\n=== %s ===\n' "$*"; }

# Old TSan runtimes (gcc 12) abort with "unexpected memory mapping" on kernels with high ASLR
# entropy (vm.mmap_rnd_bits > 28); running without ASLR sidesteps that and costs nothing here.
no_aslr() {
  if command -v setarch >/dev/null && setarch "$(uname -m)" -R true 2>/dev/null; then
    setarch "$(uname -m)" -R "$@"
  else
    "$@"
  fi
}

# Configures build/cpp-asan; with the Python module too when the python part is wanted, so both
# parts share one compiled engine.
configure_asan() {
  local -a py=()
  if wants python; then
    py=(-DXFAST_BUILD_PYTHON=ON -DPython_EXECUTABLE="$PYTHON"
      -Dpybind11_DIR="$("$PYTHON" -m pybind11 --cmakedir)")
  fi
  cmake --preset asan "${py[@]}" >/dev/null
}

run_asan() {
  step "C++ tests, ASan + UBSan"
  configure_asan
  cmake --build --preset asan -j "$JOBS"
  ctest --preset asan -j "$JOBS"
}

run_tsan() {
  step "C++ threaded tests, TSan"
  cmake --preset tsan >/dev/null
  cmake --build --preset tsan -j "$JOBS"
  no_aslr ctest --preset tsan
}

run_python() {
  step "Python tests against an ASan + UBSan _core"
  local build=build/cpp-asan
  configure_asan
  cmake --build --preset asan -j "$JOBS" --target _core
  rm -rf "$build/pkg"
  mkdir -p "$build/pkg"
  cp -r src/xfast "$build/pkg/"
  find "$build/pkg" -name '_core*.so' -delete
  cp "$build"/_core*.so "$build/pkg/xfast/"
  local site
  site="$("$PYTHON" -c 'import sysconfig; p = sysconfig.get_paths(); print(p["purelib"] + ":" + p["platlib"])')"
  local -a env=(
    PYTHONPATH="$PWD/$build/pkg:$site"
    LD_PRELOAD="$("$CXX" -print-file-name=libasan.so) $("$CXX" -print-file-name=libubsan.so)"
    # CPython and its extensions keep allocations alive at exit by design: leaks are not bugs.
    ASAN_OPTIONS="detect_leaks=0:halt_on_error=1"
    UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
    # Tests that cannot run under the sanitizer runtimes read this (see tests/test_crash.py).
    XFAST_SANITIZED=1
  )
  env "${env[@]}" "$PYTHON" -S -c 'import xfast._core as c, sys; sys.exit(0 if c.__file__.startswith(sys.argv[1]) else "wrong _core: " + c.__file__)' "$PWD/$build/pkg"
  # test_native runs cmake itself. tests/integrations (whole ML frameworks) and test_bench (the
  # benchmark's timed runs) reach only native paths that the rest of the suite covers, and
  # would take most of the sanitized run's time.
  local -a args=(tests -m "not slow" --ignore=tests/test_native.py --ignore=tests/integrations
                 --ignore=tests/test_bench.py)
  if [[ -n "${XFAST_SANITIZE_PYTEST_ARGS:-}" ]]; then
    read -r -a args <<<"$XFAST_SANITIZE_PYTEST_ARGS"
  fi
  # --capture=sys: pytest must not redirect fd 2, or a sanitizer report dies with the process.
  env "${env[@]}" "$PYTHON" -S -m pytest -q -p no:cacheprovider --capture=sys "${args[@]}"
}

start=$SECONDS
for part in asan tsan python; do
  if wants "$part"; then
    t=$SECONDS
    "run_$part"
    echo "$part: $((SECONDS - t)) s"
  fi
done
echo "sanitize.sh ${parts[*]}: clean ($((SECONDS - start)) s)"
