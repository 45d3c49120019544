#!/usr/bin/env bash
# Checkpoint stall per save, synchronous vs asynchronous (checkpoint.async), side by side in one
# run: the two modes alternate, REPEATS times each, with a save every EVERY steps. Reads the
# `checkpoint` events of each run's metrics.jsonl (stall_s, write_s, wait_s, overlapped_steps)
# and the per-step times (train events, log_every=1), and prints one table per model.
#
#   Scripts/bench-checkpoint.sh                    # bench-ii at n=2, then the GPT-2-small shape at n=1
#   Scripts/bench-checkpoint.sh bench-ii           # only one of them
#   REPEATS=1 STEPS=12 EVERY=3 Scripts/bench-checkpoint.sh gpt2-small
#
# gpt2-small: bench-ii with 12 layers, d_model 768, 12 heads, vocab 50304 (124M parameters,
# 1.5 GB of weights and AdamW moments) and a batch of 1 x 64 tokens, so one process stays
# under ~4 GB resident (the asynchronous snapshot adds 1.5 GB).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-.build/release/swift-llm-train}
OUT=${OUT:-/tmp/bench-checkpoint}
REPEATS=${REPEATS:-2}
source Scripts/mpi-env.sh
mkdir -p "$OUT"

run() {  # run MODEL MODE REPEAT
  local model=$1 mode=$2 dir="$OUT/$1-$2-$3" ranks args
  case $model in
    bench-ii) ranks=${RANKS:-2}; args=(--steps "${STEPS:-30}" --set "checkpoint.every=${EVERY:-5}") ;;
    gpt2-small) ranks=${RANKS:-1}; args=(--steps "${STEPS:-20}" --set "checkpoint.every=${EVERY:-4}"
                --set model.layers=12 --set model.d_model=768 --set model.heads=12 --set model.vocab_size=50304
                --set model.context_length=64 --set train.global_batch=1 --set train.micro_batch=1
                --set train.sequence_length=64) ;;
  esac
  rm -rf "$dir"
  # One prepared dataset per vocabulary, reused by every run (tokenizer training is not measured).
  local data="$OUT/data-$model"
  if [[ ! -f $data/manifest.json ]]; then
    "$BIN" train --config Configs/bench-ii.yaml --run-dir "$OUT/prepare-$model" "${args[@]}" --steps 0 >/dev/null
    mv "$OUT/prepare-$model/data" "$data" && rm -rf "$OUT/prepare-$model"
  fi
  local launcher=()
  (( ranks > 1 )) && launcher=(mpirun -n "$ranks")
  "${launcher[@]}" "$BIN" train --config Configs/bench-ii.yaml --run-dir "$dir" "${args[@]}" \
    --set "checkpoint.async=$mode" --set train.log_every=1 --set eval.every=0 --set eval.sequences=4 \
    --set checkpoint.keep_last=2 --set "data.dataset=$data" >"$dir.log" 2>&1 || { cat "$dir.log"; exit 1; }
  echo "$dir"
}

models=("$@")
(( ${#models[@]} )) || models=(bench-ii gpt2-small)
for model in "${models[@]}"; do
    dirs=()
    for repeat in $(seq "$REPEATS"); do
      for mode in false true; do dirs+=("$(run "$model" "$mode" "$repeat")"); done
    done
    echo "== $model ($(uptime | sed 's/.*load/load/'))"
    python3 - "${dirs[@]}" <<'EOF'
import json, statistics, sys

def median(values):
    return statistics.median(values) if values else float("nan")

# stall: the save blocked training (median of the saves between the first and the last); of
# it, "waiting" for the previous background write and "gather" for the moments' shards (n > 1).
print(f"{'run':<22} {'saves':>5} {'first stall':>11} {'stall':>7} {'waiting':>7} {'gather':>6} {'last+wait':>9} "
      f"{'write':>6} {'step':>6} {'step overlapped':>15}")
for directory in sys.argv[1:]:
    events = [json.loads(line) for line in open(directory + "/metrics.jsonl")]
    saves = [e for e in events if e["event"] == "checkpoint"]
    saves.sort(key=lambda e: e["step"])
    train = {int(e["step"]): e["elapsed_s"] for e in events if e["event"] == "train"}
    stall = {int(e["step"]): e["stall_s"] for e in saves}
    overlapped = {step for e in saves
                  for step in range(int(e["step"]) + 1, int(e["step"]) + 1 + int(e["overlapped_steps"]))}
    clean, busy = [], []
    for step in sorted(train):
        if step - 1 not in train:
            continue
        seconds = train[step] - train[step - 1] - stall.get(step - 1, 0)  # the step alone, without the save before it
        (busy if step in overlapped else clean).append(seconds)
    middle = saves[1:-1]
    waited = [previous["wait_s"] for previous in saves[:-2]]  # the wait for save k-1 happens in save k
    last = saves[-1]["stall_s"] + saves[-1]["wait_s"]
    name = directory.rsplit("/", 1)[-1]
    print(f"{name:<22} {len(saves):>5} {saves[0]['stall_s']:>10.3f}s {median([e['stall_s'] for e in middle]):>6.3f}s "
          f"{median(waited):>6.3f}s {median([e.get('gather_s', 0) for e in middle]):>5.3f}s {last:>8.2f}s "
          f"{median([e['write_s'] for e in saves]):>5.2f}s {median(clean):>5.3f}s {median(busy):>14.3f}s")
EOF
done
