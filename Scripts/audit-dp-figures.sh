#!/usr/bin/env bash
# Canary exposure with and without DP-SGD (README "Privacy audit"): the same audit of the
# end-to-end test's 400-post toy corpus (Configs/tiny.yaml shrunk, 400 steps, 4-digit secrets
# ranked exactly, canaries planted 1x and 10x, seed 1), once without DP and once with DP-SGD at
# privacy.target_epsilon = EPSILON (default 8; delta = 1/windows). Prints both tables, with the
# validation loss (the utility cost) and epsilon of each run.
#   Scripts/audit-dp-figures.sh [OUT_DIR]      (default /tmp/audit-dp-figures)
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-/tmp/audit-dp-figures}
EPSILON=${EPSILON:-8}
BIN=.build/release/swift-llm-train
swift build -c release --product swift-llm-train >/dev/null
mkdir -p "$OUT"
# The corpus of Tests/EndToEndTests/PrivacyAuditTests.swift (the same LCG, word list and lengths).
words=(the cat sat on a mat we love sunny days coffee is hot rain again today happy train late good morning
       friends park)
state=7
for ((n = 0; n < 400; n++)); do
    line=""
    for ((k = 0; k < 4 + n % 7; k++)); do
        state=$(( state * 6364136223846793005 + 1442695040888963407 ))
        line+="${line:+ }${words[$(( ((state >> 33) & 0x7FFFFFFF) % 23 ))]}"
    done
    echo "$line"
done > "$OUT/corpus.txt"
COMMON="--config Configs/tiny.yaml --input $OUT/corpus.txt --digits 4 --candidates 10000
        --set model.vocab_size=300 --set model.context_length=32 --set train.sequence_length=32
        --set checkpoint.every=0 --set eval.every=0 --set train.log_every=50 --steps 400"
uptime | tee "$OUT/uptime.txt"
for kind in plain dp; do
    rm -rf "$OUT/$kind"
    extra=""
    [ "$kind" = plain ] || extra="--set privacy.enabled=true --set privacy.target_epsilon=$EPSILON
        --set privacy.max_grad_norm=1 --set privacy.noise_seed=1 --set optimizer.grad_clip=0"
    start=$(date +%s)
    # shellcheck disable=SC2086
    $BIN privacy-audit $COMMON $extra --run-dir "$OUT/$kind" > "$OUT/$kind.log"
    echo "== $kind ($(( $(date +%s) - start )) s)"
    sed -n '/^canary exposure/,$p' "$OUT/$kind.log"
done
uptime | tee -a "$OUT/uptime.txt"
