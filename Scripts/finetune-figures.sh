#!/usr/bin/env bash
# Fine-tuning figures, all measured in one run on this machine (release build, one process):
# pre-train Configs/pretrain-small.yaml once, then per task preset: finetune, evaluate the best
# checkpoint on the test split, the bag-of-words baseline on the same posts, and classify the
# task's raw test posts (posts/s). Prints one table row per task.
#   Scripts/finetune-figures.sh [OUT_DIR]        (default /tmp/finetune-figures)
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-/tmp/finetune-figures}
BIN=.build/release/swift-llm-train
TASKS=${TASKS:-"sentiment-en sentiment-en3 sentiment-zh source-platform rating-en"}
swift build -c release >/dev/null
mkdir -p "$OUT"
[ -e "$OUT/pretrain/checkpoints/latest" ] || $BIN train --config Configs/pretrain-small.yaml --run-dir "$OUT/pretrain" > "$OUT/pretrain.log"
DATA="$OUT/pretrain/data"
for task in $TASKS; do
    rm -rf "$OUT/$task"
    $BIN finetune --config Configs/$task.yaml --from "$OUT/pretrain" --set data.dataset="$DATA" \
        --run-dir "$OUT/$task" > "$OUT/$task.log"
    $BIN evaluate --checkpoint "$OUT/$task" --split test --output "$OUT/$task.test.json" >> "$OUT/$task.log"
    if grep -q "kind: classification" Configs/$task.yaml; then
        $BIN baseline --config Configs/$task.yaml --dataset "$DATA" --output "$OUT/$task.baseline.json" >> "$OUT/$task.log"
    fi
    # classify's rate on every raw post of the task's corpus (both for source-platform).
    source=$(sed -n 's/^  source: //p' Configs/$task.yaml)
    cat Sources/LLMData/Corpora/${source:-*}.jsonl > "$OUT/$task.posts.jsonl"
    $BIN classify --checkpoint "$OUT/$task" --input "$OUT/$task.posts.jsonl" --output "$OUT/$task.classified.jsonl" \
        2> "$OUT/$task.classify.txt"
done
python3 - "$OUT" $TASKS <<'PY'
import json, re, sys
out, tasks = sys.argv[1], sys.argv[2:]
def load(p):
    try: return json.load(open(p))
    except FileNotFoundError: return {}
def events(p, kind): return [json.loads(l) for l in open(p) if f'"event":"{kind}"' in l]
pre = events(f"{out}/pretrain/metrics.jsonl", "train")[-1]
print(f"pre-training: {int(pre['tokens'])} tokens, {pre['elapsed_s']:.0f} s")
print("| task | fine-tuned macro-F1 | fine-tuned accuracy | baseline macro-F1 | baseline accuracy | "
      "fine-tuned - baseline (macro-F1) | finetune tokens/s | padding share | classify posts/s |")
print("|---|---|---|---|---|---|---|---|---|")
for t in tasks:
    ft, base = load(f"{out}/{t}.test.json"), load(f"{out}/{t}.baseline.json")
    train = events(f"{out}/{t}/metrics.jsonl", "train")[1:]
    tps = sum(e["tokens_per_s"] for e in train) / len(train)
    pad = sum(e.get("padding_share", 0) for e in train) / len(train)
    rate = re.search(r"(\d+) posts/s", open(f"{out}/{t}.classify.txt").read()).group(1)
    if "macro_f1" in ft:
        row = [f"{ft['macro_f1']:.4f}", f"{ft['accuracy']:.4f}", f"{base['macro_f1']:.4f}", f"{base['accuracy']:.4f}",
               f"{ft['macro_f1'] - base['macro_f1']:+.4f}"]
    else:
        row = [f"RMSE {ft['rmse']:.3f}, MAE {ft['mae']:.3f}, Spearman {ft['spearman']:.3f}", "", "-", "-", "-"]
    print(f"| {t} | " + " | ".join(row) + f" | {tps:.0f} | {pad:.1%} | {rate} |")
PY
