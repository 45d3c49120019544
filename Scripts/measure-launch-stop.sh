#!/usr/bin/env bash
# Stops a GPT-2-small-sized run (12 layers, d_model 768, vocab 50304; batch 1 x 64 tokens per rank,
# ~2 GB RSS per rank) under `launch -n 2` with SIGTERM, to LAUNCH (default) or to MPIRUN, after a
# few steps, and reports how long the ranks took to stop and to save, and whether the checkpoint
# verifies (sha256 of every file against its manifest). Usage: [GRACE=G] Scripts/measure-launch-stop.sh [launch|mpirun]
set -euo pipefail
cd "$(dirname "$0")/.."
TARGET=${1:-launch}
BIN=.build/release/swift-llm-train
WORK=${WORK:-/tmp/measure-launch-stop}
MODEL=(--config Configs/bench-ii.yaml --set model.vocab_size=50304 --set model.layers=12 --set model.d_model=768
       --set model.heads=12 --set model.context_length=1024 --set train.global_batch=2 --set train.micro_batch=1
       --set train.sequence_length=64 --set eval.every=0 --set eval.sequences=2 --set checkpoint.every=0
       --set train.log_every=1)
# The embedded corpus with a 50304-token tokenizer, prepared once.
[ -f "$WORK/prep/data/manifest.json" ] || $BIN train "${MODEL[@]}" --steps 0 --run-dir "$WORK/prep" > /dev/null
RUN="$WORK/run-$TARGET"; rm -rf "$RUN"
GRACE=${GRACE:-$([ "$TARGET" = mpirun ] && echo 60 || echo 0)}  # --stop-grace; GRACE=180 for a loaded machine
$BIN launch -n 2 --stop-grace "$GRACE" -- train "${MODEL[@]}" --set data.dataset="$WORK/prep/data" --steps 1000 \
    --run-dir "$RUN" > "$RUN.log" 2>&1 &
LAUNCH=$!
until [ "$(grep -c '"train"' "$RUN/metrics.jsonl" 2>/dev/null || true)" -ge 3 ] 2>/dev/null; do sleep 0.5; done
MPIRUN=$(awk '{print $1}' "/proc/$LAUNCH/task/$LAUNCH/children")
echo "ranks' RSS: $(ps -o rss= --ppid "$MPIRUN" | awk '{s+=$1} END {printf "%.2f GB", s/1e6}'); load: $(uptime)"
SIGNALLED=$([ "$TARGET" = mpirun ] && echo "$MPIRUN" || echo "$LAUNCH")
T0=$(date +%s.%N); kill -TERM "$SIGNALLED"
while kill -0 "$LAUNCH" 2>/dev/null; do sleep 0.2; done
echo "SIGTERM to $TARGET -> launch exited: $(echo "$(date +%s.%N) - $T0" | bc) s"
python3 - "$RUN" "$T0" <<'PY'
import hashlib, json, os, sys
run, t0 = sys.argv[1], float(sys.argv[2])
records = [json.loads(line) for line in open(f"{run}/metrics.jsonl") if line.strip()]
last = [r for r in records if r["event"] == "train"][-1]
name = open(f"{run}/checkpoints/latest").read().strip()
checkpoint = f"{run}/checkpoints/{name}"
files = json.load(open(f"{checkpoint}/manifest.json"))["files"]
verified = all(hashlib.sha256(open(f"{checkpoint}/{f['name']}", "rb").read()).hexdigest() == f["sha256"] for f in files)
size = sum(os.path.getsize(f"{checkpoint}/{f['name']}") for f in files)
saved = os.path.getmtime(f"{run}/checkpoints/latest")
print(f"stopped after step {int(last['step'])}: {name}, {size / 1e9:.2f} GB, sha256 verified: {verified}")
print(f"signal -> last step logged {last['time'] - t0:.1f} s; last step logged -> latest renamed (the save) "
      f"{saved - last['time']:.1f} s; restarts: {sum(r['event'] == 'restart' for r in records)}")
PY
