#!/usr/bin/env bash
# Proof on the phones' architecture: cross-builds libvisitsync for aarch64 with Debian's
# multiarch packages, then runs the C API test and the example shell (tests/capi/harness.py
# --cross aarch64) under qemu-aarch64 (qemu-user) against a hub built for and running on this
# machine. Installs what it needs with apt-get (arm64 added as a foreign architecture).
# Not part of tools/test.sh (README.md, "The C API", says how long it takes); run it before
# each landing that touches the C API, the engine or the transport.
set -euo pipefail
cd "$(dirname "$0")/.."

./tools/deps.sh
sudo=()
[[ $(id -u) -ne 0 ]] && sudo=(sudo)
packages=(gcc-aarch64-linux-gnu g++-aarch64-linux-gnu qemu-user
          libsqlite3-dev:arm64 libssl-dev:arm64 libzstd-dev:arm64 libstdc++6:arm64)
installed() { [[ $(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true) == "install ok installed" ]]; }
missing=()
for p in "${packages[@]}"; do installed "$p" || missing+=("$p"); done
if [[ ${#missing[@]} -gt 0 ]]; then
  echo "aarch64: installing ${missing[*]}" >&2
  if ! dpkg --print-foreign-architectures | grep -qx arm64; then
    "${sudo[@]}" dpkg --add-architecture arm64
  fi
  "${sudo[@]}" apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -q --no-install-recommends \
    --no-remove "${missing[@]}" >/dev/null
fi

jobs=2
# The hub and the admin tool run here, natively.
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DVS_WERROR=ON >/dev/null
cmake --build build -j"$jobs" --target visitsync-admin visitsync-hub
# The library, for aarch64.
cmake -S . -B build-aarch64 -G Ninja -DCMAKE_TOOLCHAIN_FILE="$PWD/tools/cmake/aarch64.cmake" \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DVS_WERROR=ON -DVS_BUILD_TESTS=OFF >/dev/null
cmake --build build-aarch64 -j"$jobs" --target vs_capi vs_capi_static
file -L build-aarch64/tools/libvisitsync/libvisitsync.so.1
python3 tests/capi/harness.py build-aarch64 . build/tools --cross aarch64 | tee build-aarch64/capi-run.log
echo "aarch64.sh: the C API test passed on aarch64 (qemu-user)"
