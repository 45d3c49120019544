#!/usr/bin/env python3
"""Checks `swift-llm-train explain --json` against an independent numpy GPT-2 forward.

Trains a short run (or takes --model CHECKPOINT), asks explain for the attention maps of a post
with English, emoji and Chinese, then recomputes every layer's and head's attention from the
checkpoint's model.safetensors with numpy (float64; LayerNorm eps 1e-5, tanh GELU, causal
softmax, as GPT-2) on the token ids explain reports, and compares.

Needs numpy and safetensors; creates /tmp/venv-checks (reused) when run with the system python:
    python3 Scripts/check-attention.py [--model RUN_OR_CHECKPOINT] [--bin .build/release]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

VENV = "/tmp/venv-checks"
if sys.prefix != VENV:
    if not os.path.exists(f"{VENV}/bin/python"):
        subprocess.run([sys.executable, "-m", "venv", VENV], check=True)
    subprocess.run([f"{VENV}/bin/pip", "install", "-q", "numpy", "safetensors"], check=True)
    os.execv(f"{VENV}/bin/python", [f"{VENV}/bin/python"] + sys.argv)

import numpy as np
from safetensors.numpy import load_file

POST = "Loving the new phone 😍 @bob, 服务很好!"
TOLERANCE = 1e-4  # fp32 model against a float64 reference; probabilities are in [0, 1]


def layer_norm(x, w, b):
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + 1e-5) * w + b


def gelu(x):
    return 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x ** 3)))


def attention_maps(weights, ids, layers, heads, activation):
    w = {k: v.astype(np.float64) for k, v in weights.items()}
    T = len(ids)
    x = w["wte.weight"][ids] + w["wpe.weight"][:T]
    C = x.shape[1]
    hs = C // heads
    mask = np.tril(np.ones((T, T), dtype=bool))
    maps = []
    for l in range(layers):
        p = f"h.{l}."
        qkv = layer_norm(x, w[p + "ln_1.weight"], w[p + "ln_1.bias"]) @ w[p + "attn.c_attn.weight"] + w[p + "attn.c_attn.bias"]
        q, k, v = (qkv[:, i * C:(i + 1) * C].reshape(T, heads, hs).transpose(1, 0, 2) for i in range(3))
        scores = np.where(mask, q @ k.transpose(0, 2, 1) / np.sqrt(hs), -np.inf)
        att = np.exp(scores - scores.max(-1, keepdims=True))
        att /= att.sum(-1, keepdims=True)
        maps.append(att)
        y = (att @ v).transpose(1, 0, 2).reshape(T, C)
        x = x + y @ w[p + "attn.c_proj.weight"] + w[p + "attn.c_proj.bias"]
        h = layer_norm(x, w[p + "ln_2.weight"], w[p + "ln_2.bias"]) @ w[p + "mlp.c_fc.weight"] + w[p + "mlp.c_fc.bias"]
        h = gelu(h) if activation == "gelu" else np.maximum(h, 0)
        x = x + h @ w[p + "mlp.c_proj.weight"] + w[p + "mlp.c_proj.bias"]
    return np.stack(maps)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", help="checkpoint or run directory (default: train a 40-step tiny run)")
    parser.add_argument("--bin", default=os.environ.get("LLM_TRAIN_BIN_DIR", ".build/release"))
    args = parser.parse_args()
    binary = os.path.join(args.bin, "swift-llm-train")
    with tempfile.TemporaryDirectory() as scratch:
        model = args.model
        if model is None:
            model = os.path.join(scratch, "run")
            subprocess.run([binary, "train", "--config", "Configs/tiny.yaml", "--steps", "40", "--set", "eval.every=0",
                            "--set", "checkpoint.every=0", "--run-dir", model], check=True, stdout=subprocess.DEVNULL)
        out = subprocess.run([binary, "explain", "--model", model, "--text", POST, "--json"],
                             check=True, capture_output=True, text=True)
        result = json.loads(out.stdout)
        checkpoint = model if os.path.exists(os.path.join(model, "manifest.json")) else os.path.join(
            model, "checkpoints", open(os.path.join(model, "checkpoints", "latest")).read().strip())
        state = json.load(open(os.path.join(checkpoint, "state.json")))
        config = state["model"]
        ids = [t["id"] for t in result["tokens"]]
        reference = attention_maps(load_file(os.path.join(checkpoint, "model.safetensors")), ids,
                                   len(result["layers"]), len(result["heads"]), config.get("activation", "gelu"))
        ours = np.array(result["attention"], dtype=np.float64)
        assert ours.shape == reference.shape, f"shapes differ: ours {ours.shape}, reference {reference.shape}"
        diff = np.abs(ours - reference)
        worst = np.unravel_index(diff.argmax(), diff.shape)
        text = "".join(t["text"] for t in result["tokens"])
        assert text == result["post"], f"tokens do not read the post: {text!r} vs {result['post']!r}"
        print(f"{len(ids)} tokens, {ours.shape[0]} layers x {ours.shape[1]} heads: max |ours - numpy| = {diff.max():.2e} "
              f"at layer/head/query/key {tuple(int(i) for i in worst)}; {int((diff > TOLERANCE).sum())} entries over {TOLERANCE}")
        if diff.max() > TOLERANCE:
            sys.exit("FAIL: attention maps differ from the numpy reference")
    print("OK: explain's attention maps match an independent numpy GPT-2 forward")


if __name__ == "__main__":
    main()
