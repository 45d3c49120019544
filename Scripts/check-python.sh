#!/usr/bin/env bash
# The checks against independent Python implementations, run by Scripts/test.sh (needs the
# release binary and the built tests): safetensors files both ways, Hugging Face `tokenizers`
# ids on the shipped corpora and random Unicode, and attention maps against a numpy GPT-2.
# Creates the virtual environment /tmp/venv-checks once (pip reaches PyPI and the local wheels).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=/tmp/venv-checks
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/pip" install -q numpy safetensors tokenizers
BIN=${LLM_TRAIN_BIN_DIR:-$PWD/.build/release}/swift-llm-train
for check in check-safetensors.py check-attention.py; do
    echo "== $check"
    "$VENV/bin/python" "Scripts/$check"
done
echo "== check-hf-tokenizer.py"
"$VENV/bin/python" Scripts/check-hf-tokenizer.py --binary "$BIN"
