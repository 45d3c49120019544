#!/usr/bin/env bash
# Set up a machine to build and run swift-llm-train: installs Open MPI and OpenBLAS with apt
# when missing (idempotent), then builds the release binaries into .build/release.
#   Scripts/bootstrap.sh [SWIFT BUILD ARGS]     (passed on to `swift build -c release`; Scripts/test.sh
#                                               adds the test bundle to the same build)
set -euo pipefail
cd "$(dirname "$0")/.."

# pkg-config: SwiftPM finds both libraries through it (ompi-c.pc, openblas.pc). iproute2: `ip`,
# for the network-namespace hosts of the multi-host test (Scripts/netns-cluster.sh).
packages=(libopenmpi-dev openmpi-bin libopenblas-dev pkg-config iproute2)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
    echo "bootstrap: installing ${missing[*]}"
    sudo_cmd=""
    [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
    $sudo_cmd apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${missing[@]}" >/dev/null
fi

command -v swift >/dev/null || { echo "bootstrap: swift is not on PATH; install Swift 6 first" >&2; exit 1; }
swift build -c release "$@"
echo "bootstrap: built $(pwd)/.build/release/swift-llm-train"
