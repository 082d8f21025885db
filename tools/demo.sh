#!/usr/bin/env bash
# The main job on the embedded default. Until the sync issue lands there is no hub to run: this
# builds visitsync in Release mode and runs the engine benchmark on the shared workload, which
# exercises a real store with real ops, and says plainly what is not there yet.
set -euo pipefail
cd "$(dirname "$0")/.."

./tools/deps.sh
cmake -S . -B build-release -G Ninja -DCMAKE_BUILD_TYPE=Release -DVS_BUILD_TESTS=OFF >/dev/null
cmake --build build-release -j2

echo "demo: the sync demo (a hub on 127.0.0.1 with inspector devices) is not built yet."
echo "demo: running the engine benchmark instead: 300,000 ops of the shared workload."
./build-release/tools/bench/visitsync-bench engine
