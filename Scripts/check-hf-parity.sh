#!/usr/bin/env bash
# Hugging Face parity check (CI): exports a tiny checkpoint made by the release binary and checks
# it against transformers/tokenizers in a virtual environment (Scripts/check-hf-parity.py):
# logits within 1e-4, greedy continuations identical, tokenizer ids from raw posts identical,
# and a fine-tuned classifier and regressor as GPT2ForSequenceClassification (outputs within 1e-4).
#
#   Scripts/check-hf-parity.sh [CHECKPOINT_OR_RUN_DIR] [--figures]
#
# The venv (/tmp/venv-hf, or $HF_VENV) is created once and reused; torch==2.13.0+cpu comes from
# the machine's local wheel folder, the rest from PyPI. Without a checkpoint, Configs/tiny.yaml
# is trained for 150 steps (about 15 s) into a temporary run directory, and fine-tuned from it for
# 20 steps twice (neg/pos tweets; the VADER rating) for the classifier checks. With a checkpoint,
# pass fine-tuned ones with --classifier DIR.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${HF_VENV:-/tmp/venv-hf}
BIN=${BIN:-$PWD/.build/release/swift-llm-train}

if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c "import torch, transformers, safetensors, tokenizers" 2>/dev/null; then
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q torch==2.13.0+cpu transformers safetensors tokenizers
fi
[ -x "$BIN" ] || swift build -c release

CHECKPOINT=""
if [ $# -gt 0 ] && [ "${1#--}" = "$1" ]; then CHECKPOINT=$1; shift; fi
if [ -z "$CHECKPOINT" ]; then
    WORK=$(mktemp -d)
    trap 'rm -rf "$WORK"' EXIT
    "$BIN" train --config Configs/tiny.yaml --steps 150 --run-dir "$WORK/run" > "$WORK/train.log" 2>&1 \
        || { cat "$WORK/train.log"; exit 1; }
    CHECKPOINT=$WORK/run
    TASK=(--config Configs/tiny.yaml --from "$WORK/run" --set "data.dataset=$WORK/run/data" --steps 20
          --set train.sequence_length=32 --set train.micro_batch=4 --set train.global_batch=16 --set eval.every=0
          --set task.name=sentiment-en --set task.source=vader_tweets)
    "$BIN" finetune "${TASK[@]}" --set "task.labels=[neg, pos]" --run-dir "$WORK/classifier" > "$WORK/ft.log" 2>&1 \
        || { cat "$WORK/ft.log"; exit 1; }
    "$BIN" finetune "${TASK[@]}" --set task.kind=regression --run-dir "$WORK/regressor" > "$WORK/ft.log" 2>&1 \
        || { cat "$WORK/ft.log"; exit 1; }
    set -- --classifier "$WORK/classifier" --classifier "$WORK/regressor" "$@"
fi
"$VENV/bin/python" Scripts/check-hf-parity.py --binary "$BIN" --checkpoint "$CHECKPOINT" "$@"
