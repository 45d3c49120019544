#!/usr/bin/env bash
# DP-SGD figures, measured in one run on this machine (release build, one process each):
# 1. Step speed: non-private and DP-SGD fine-tuning alternated, PAIRS pairs of SPEED_STEPS
#    steps, tokens/s (real tokens) of each; the ratio of the medians. Then the same for
#    language-model training of Configs/tiny.yaml (LM_STEPS steps, its embedded corpus prepared once).
# 2. sentiment-en (Configs/sentiment-en.yaml, fine-tuned from Configs/pretrain-small.yaml) without
#    DP, with per-example clipping alone (no noise), and with DP-SGD at epsilon = 8, 3, 1 (privacy.target_epsilon picks the noise for the
#    300 steps; delta = 1/N): test macro-F1 and accuracy of each run's best checkpoint.
#   Scripts/privacy-figures.sh [OUT_DIR]     (default /tmp/privacy-figures; reuses OUT_DIR/pretrain)
#   ONLY=speed (or utility) runs and prints one part.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-/tmp/privacy-figures}
BIN=${BIN:-.build/release/swift-llm-train}   # BIN=path measures another build of the binary
EPSILONS=${EPSILONS:-"8 3 1"}
PAIRS=${PAIRS:-3}
SPEED_STEPS=${SPEED_STEPS:-40}
LM_STEPS=${LM_STEPS:-200}
DP="--set privacy.enabled=true --set privacy.max_grad_norm=1 --set optimizer.grad_clip=0"
swift build -c release >/dev/null
mkdir -p "$OUT"
[ -e "$OUT/pretrain/checkpoints/latest" ] || $BIN train --config Configs/pretrain-small.yaml --run-dir "$OUT/pretrain" > "$OUT/pretrain.log"
COMMON="--config Configs/sentiment-en.yaml --from $OUT/pretrain --set data.dataset=$OUT/pretrain/data"
uptime > "$OUT/uptime.txt"
ONLY=${ONLY:-}
[ "$ONLY" = utility ] || for pair in $(seq "$PAIRS"); do
    for kind in plain dp; do
        run="$OUT/speed-$kind-$pair"
        rm -rf "$run"
        extra="--set eval.every=0 --set checkpoint.every=0 --set train.log_every=10"
        [ "$kind" = plain ] || extra="$extra $DP --set privacy.noise_multiplier=1"
        $BIN finetune $COMMON $extra --steps "$SPEED_STEPS" --run-dir "$run" > "$run.log"
    done
done
if [ "$ONLY" != utility ]; then
    [ -e "$OUT/tiny-data/data" ] || $BIN train --config Configs/tiny.yaml --steps 1 --run-dir "$OUT/tiny-data" \
        > "$OUT/tiny-data.log"
    for pair in $(seq "$PAIRS"); do
        for kind in plain dp; do
            run="$OUT/speed-lm-$kind-$pair"
            rm -rf "$run"
            extra="--set eval.every=0 --set checkpoint.every=0 --set train.log_every=20"
            [ "$kind" = plain ] || extra="$extra $DP --set privacy.noise_multiplier=1"
            $BIN train --config Configs/tiny.yaml --set data.dataset="$OUT/tiny-data/data" $extra --steps "$LM_STEPS" \
                --run-dir "$run" > "$run.log"
        done
    done
fi
[ "$ONLY" = speed ] || for setting in none clip $EPSILONS; do
    run="$OUT/utility-$setting"
    rm -rf "$run"
    case $setting in
        none) extra="" ;;
        clip) extra="$DP --set privacy.noise_multiplier=0" ;;   # clipping alone, no guarantee
        *) extra="$DP --set privacy.target_epsilon=$setting" ;;
    esac
    $BIN finetune $COMMON $extra --run-dir "$run" > "$run.log"
    $BIN evaluate --checkpoint "$run" --split test --output "$run.test.json" >> "$run.log"
done
uptime >> "$OUT/uptime.txt"
python3 - "$OUT" "$ONLY" $EPSILONS <<'PY'
import json, statistics, sys
out, only, epsilons = sys.argv[1], sys.argv[2], sys.argv[3:]
def events(p, kind): return [json.loads(l) for l in open(p) if f'"event":"{kind}"' in l]
if only != "speed":
    print("| sentiment-en | epsilon (delta) | noise multiplier | test macro-F1 | test accuracy |")
    print("|---|---|---|---|---|")
for s in ([] if only == "speed" else ["none", "clip"] + epsilons):
    test = json.load(open(f"{out}/utility-{s}.test.json"))
    state = json.load(open(f"{out}/utility-{s}/checkpoints/" + open(f"{out}/utility-{s}/checkpoints/latest").read().strip()
                           + "/state.json"))
    p = state.get("privacy")
    eps = "no DP" if not p else f"{p['epsilon']:.3f} ({p['delta']:.1e})" if p.get("epsilon") else "infinite"
    sigma = f"{p['noiseMultiplier']:.3f}" if p else "-"
    name = {"none": "without DP", "clip": "clipping only"}.get(s, "DP-SGD, target " + s)
    print(f"| {name} | {eps} | {sigma} | "
          f"{test['macro_f1']:.4f} | {test['accuracy']:.4f} |")
def speeds(prefix, name):
    rates = {}
    for kind in ["plain", "dp"]:
        rates[kind] = []
        for pair in range(1, 100):
            try: train = events(f"{out}/{prefix}{kind}-{pair}/metrics.jsonl", "train")[1:]  # the first window warms up
            except FileNotFoundError: break
            rates[kind].append(statistics.mean(e["tokens_per_s"] for e in train))
    plain, dp = statistics.median(rates["plain"]), statistics.median(rates["dp"])
    print(f"\n{name}: tokens/s per run (alternated): non-private {[round(r) for r in rates['plain']]}, "
          f"DP-SGD {[round(r) for r in rates['dp']]}")
    print(f"{name}: DP-SGD step time / non-private step time (medians): {plain / dp:.2f}x")
if only != "utility":
    speeds("speed-", "sentiment-en fine-tuning")
    speeds("speed-lm-", "tiny.yaml language-model training")
print(open(f"{out}/uptime.txt").read())
PY
