#!/usr/bin/env bash
# The whole test suite: dependencies, a warnings-as-errors build, every test through CTest
# (engine, transport, end to end with real processes, the C API from outside, the fuzz corpora),
# then the engine, transport, fuzz corpora and C API tests again in an AddressSanitizer +
# UndefinedBehaviorSanitizer build, and the transport and C API tests (the threaded parts: the
# hub's threads, the replicator, the C API's callbacks) in a ThreadSanitizer build, and last a
# short fuzz pass: each libFuzzer target for 10 s (tools/fuzz.sh, in a clang build of its own).
#   VS_SEED=n            rerun property tests with a given seed (each run prints its seed)
#   VS_PROPERTY_ROUNDS=n run property tests longer than the default rounds
#   VS_SKIP_SANITIZE=1   skip the sanitizer builds (local iteration only; CI never sets it)
#   VS_SKIP_FUZZ=1       skip the fuzz pass (local iteration only; CI never sets it)
set -euo pipefail
cd "$(dirname "$0")/.."

./tools/deps.sh

# The repository stands alone: no tracked file may name a folder beside it.
if outside=$(git grep -n -e '\.\./shared' 2>/dev/null); then
  echo "test.sh: tracked files name the folder beside the repository, which a clone lacks:" >&2
  echo "$outside" >&2
  exit 1
fi

jobs=2
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DVS_WERROR=ON >/dev/null
cmake --build build -j"$jobs"
ctest --test-dir build --output-on-failure -j"$jobs"

if [[ "${VS_SKIP_SANITIZE:-0}" != "1" ]]; then
  # The C API's harness needs the library and the hub's tools built the same way.
  capi_targets=(vs_capi vs_capi_static visitsync-admin visitsync-hub)
  cmake -S . -B build-sanitize -G Ninja -DCMAKE_BUILD_TYPE=Debug -DVS_SANITIZE=ON -DVS_WERROR=ON >/dev/null
  cmake --build build-sanitize -j"$jobs" --target engine_tests transport_tests fuzz_replay \
    "${capi_targets[@]}"
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
    ctest --test-dir build-sanitize --output-on-failure -j"$jobs" \
    -R '^(engine\.|transport\.|fuzz\.|capi\.package_and_flow$)'
  cmake -S . -B build-tsan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DVS_TSAN=ON -DVS_WERROR=ON >/dev/null
  cmake --build build-tsan -j"$jobs" --target transport_tests "${capi_targets[@]}"
  # Without address randomization (setarch -R, inherited by every child): GCC 12's TSan runtime
  # refuses the memory layout some kernels' larger randomization gives ("unexpected memory
  # mapping"), whatever the code.
  TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 setarch "$(uname -m)" -R \
    ctest --test-dir build-tsan --output-on-failure -j"$jobs" -R '^(transport\.|capi\.package_and_flow$)'
fi
if [[ "${VS_SKIP_FUZZ:-0}" != "1" ]]; then
  ./tools/fuzz.sh 10
fi
echo "test.sh: all tests passed"
