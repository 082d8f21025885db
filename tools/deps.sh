#!/usr/bin/env bash
# Installs the Debian packages visitsync needs to build, test and run, if any is missing.
# Idempotent, and quick when everything is present (one dpkg-query).
set -euo pipefail

packages=(
  g++ cmake ninja-build pkg-config python3 git
  libsqlite3-dev libssl-dev openssl libboost1.81-dev libcereal-dev libzstd-dev
  nlohmann-json3-dev catch2
  curl prometheus chromium fonts-wqy-microhei
)

# Installed for this machine's architecture (or for all): a multiarch machine may also hold the
# package of another (tools/aarch64.sh adds arm64's), which does not count.
native=$(dpkg --print-architecture)
installed() {
  dpkg-query -W -f='${Status} ${Architecture}\n' "$1" 2>/dev/null |
    grep -Eq "^install ok installed ($native|all)$"
}

missing=()
for p in "${packages[@]}"; do
  installed "$p" || missing+=("$p")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

# Debian's default Boost (libboost-dev, 1.74) cannot stand beside 1.81; removing it is the
# machine owner's decision, not this script's.
if [[ " ${missing[*]} " == *" libboost1.81-dev "* ]] && installed libboost1.74-dev; then
  echo "deps: libboost1.74-dev is installed; visitsync needs Boost >= 1.78 (libboost1.81-dev)," >&2
  echo "deps: which replaces it. Remove it first (apt-get remove libboost1.74-dev), then run again." >&2
  exit 1
fi

echo "deps: installing ${missing[*]}" >&2
sudo=()
[[ $(id -u) -ne 0 ]] && sudo=(sudo)
export DEBIAN_FRONTEND=noninteractive
# --no-remove: libboost1.81-dev conflicts with libboost1.74-dev (Debian's libboost-dev); apt must
# refuse rather than remove packages the machine has.
install=(apt-get install -y -q --no-install-recommends --no-remove)
if ! "${sudo[@]}" "${install[@]}" "${missing[@]}" >/dev/null; then
  "${sudo[@]}" apt-get update -q >/dev/null
  if ! "${sudo[@]}" "${install[@]}" "${missing[@]}" >/dev/null; then
    echo "deps: apt-get could not install ${missing[*]} without removing a package (see above)." >&2
    echo "deps: visitsync needs Boost >= 1.78 (libboost1.81-dev), which replaces libboost1.74-dev." >&2
    exit 1
  fi
fi
