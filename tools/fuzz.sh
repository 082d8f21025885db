#!/usr/bin/env bash
# Fuzzes the decoders of everything a device, a hub or an administrator is handed (issue 13):
# frames and messages, batches, enrollment files, templates, reference CSV files. Builds the
# libFuzzer targets of tests/fuzz with clang (ASan and UBSan on), makes the seed corpora
# (fuzz_seeds, beside the committed ones in tests/fuzz/corpus), then fuzzes each target for
# SECONDS (default 300) and prints its run count. A crash stops it (exit 1): the input is left in
# build-fuzz/fuzz/crashes/; fix the bug and add the input to tests/fuzz/corpus/<target>/, which
# ctest replays (fuzz.corpus.*) in every build.
#   ./tools/fuzz.sh [SECONDS] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-300}
shift || true
targets=("$@")
[[ ${#targets[@]} -eq 0 ]] && targets=(frame batch enrollment template csv)
if ! [[ $seconds =~ ^[0-9]+$ ]] || ((seconds < 1 || seconds > 86400)); then
  echo "fuzz.sh: SECONDS must be a whole number from 1 to 86400, not '$seconds'" >&2
  exit 2
fi
for t in "${targets[@]}"; do
  case $t in frame | batch | enrollment | template | csv) ;;
    *) echo "fuzz.sh: no fuzz target '$t' (frame, batch, enrollment, template, csv)" >&2; exit 2 ;;
  esac
done

./tools/deps.sh
installed() { [[ $(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true) == "install ok installed" ]]; }
missing=()
for p in clang-14 libclang-rt-14-dev; do installed "$p" || missing+=("$p"); done
if [[ ${#missing[@]} -gt 0 ]]; then
  sudo=()
  [[ $(id -u) -ne 0 ]] && sudo=(sudo)
  echo "fuzz.sh: installing ${missing[*]}" >&2
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -q --no-install-recommends \
    "${missing[@]}" >/dev/null
fi

cmake -S . -B build-fuzz -G Ninja -DCMAKE_C_COMPILER=clang-14 -DCMAKE_CXX_COMPILER=clang++-14 \
  -DCMAKE_BUILD_TYPE=Debug -DVS_FUZZ=ON >/dev/null
fuzzers=()
for t in "${targets[@]}"; do fuzzers+=("fuzz_$t"); done
cmake --build build-fuzz -j2 --target fuzz_seeds "${fuzzers[@]}"

work=build-fuzz/fuzz
rm -rf "$work/seeds"
mkdir -p "$work/crashes"
build-fuzz/tests/fuzz/fuzz_seeds "$work/seeds" .
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1
for t in "${targets[@]}"; do
  mkdir -p "$work/corpus/$t"
  # New inputs go to the first folder (kept between runs); the seeds are read only.
  if ! build-fuzz/tests/fuzz/fuzz_"$t" -max_total_time="$seconds" -print_final_stats=1 \
      -artifact_prefix="$work/crashes/$t-" -max_len=65536 \
      "$work/corpus/$t" "tests/fuzz/corpus/$t" "$work/seeds/$t" >"$work/$t.log" 2>&1; then
    tail -40 "$work/$t.log" >&2
    echo "fuzz.sh: $t: a finding (input in $work/crashes/)" >&2
    exit 1
  fi
  runs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$work/$t.log" | grep -o '[0-9]*$')
  cover=$(grep -o 'cov: [0-9]*' "$work/$t.log" | tail -1 | grep -o '[0-9]*$')
  echo "fuzz.sh: $t: $runs runs in $seconds s, coverage $cover edges, no finding"
done
