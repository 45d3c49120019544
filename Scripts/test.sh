#!/usr/bin/env bash
# The whole test suite: bootstrap, then `swift test`: unit tests, and end-to-end tests that run
# the real release binaries, multi-rank ones under mpirun -n 2 and -n 8 (oversubscribed here).
set -euo pipefail
cd "$(dirname "$0")/.."
source Scripts/mpi-env.sh

# One release build of the binaries and the test bundle together. The tests `@testable import`
# the modules, hence -enable-testing; the end-to-end tests launch that same build's binaries.
# (Release binaries plus a debug test build took ~3 min more on a fresh machine, and the suite
# ran ~10% slower in debug.) The benchmarks' figures come from bootstrap's plain build.
testing=(-c release -Xswiftc -enable-testing)
export LLM_TRAIN_TEST_BUILD="${testing[*]}"  # for check-safetensors.py, which runs one test itself
Scripts/bootstrap.sh "${testing[@]}" --build-tests
export LLM_TRAIN_BIN_DIR="$(pwd)/.build/release"

# The thread-count guarantee under OpenBLAS's AVX2 "Haswell" kernel too (the one AMD Zen 2/3 get),
# whatever this machine's CPU: that kernel rounds a block differently by its size.
OPENBLAS_CORETYPE=Haswell swift test "${testing[@]}" --skip-build --disable-swift-testing --filter ThreadingTests
# Against independent implementations (Python safetensors, HF tokenizers, a numpy GPT-2; logits,
# greedy text and tokenizer ids against transformers' GPT-2), and the HTML report in a real
# browser (installs Debian's chromium when missing). One virtual environment for all.
Scripts/check-python.sh
# The DP-SGD accountant against Opacus' over a grid (opacus pulls in the local torch wheel).
if /tmp/venv-checks/bin/pip install -q opacus; then
    /tmp/venv-checks/bin/python Scripts/check-privacy.py --binary "$LLM_TRAIN_BIN_DIR/swift-llm-train"
else
    echo "== check-privacy.py SKIPPED: pip could not install opacus into /tmp/venv-checks"
fi
HF_VENV=/tmp/venv-checks Scripts/check-hf-parity.sh
Scripts/check-report-browser.sh
# XCTest only: no Swift Testing suites here, and its "0 tests" summary would end the log.
swift test "${testing[@]}" --skip-build --disable-swift-testing
