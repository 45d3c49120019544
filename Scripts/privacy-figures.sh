#!/usr/bin/env bash
# DP-SGD figures, measured in one run on this machine (release build, one process each):
# 1. Step speed: non-private and DP-SGD fine-tuning alternated, PAIRS pairs of SPEED_STEPS
#    steps, tokens/s (real tokens) of each; the ratio of the medians.
# 2. sentiment-en, fine-tuned from Configs/pretrain-small.yaml: without DP (Configs/sentiment-en.yaml,
#    all parameters), then the DP preset (PRESET, default Configs/sentiment-en-dp.yaml: its
#    task.trainable, batch and learning rate) without DP (the fair baseline), with per-example
#    clipping alone (no noise), and with DP-SGD at epsilon = 8, 3, 1 (privacy.target_epsilon picks
#    the noise for train.steps; delta = 1/N): test macro-F1 and accuracy of each run's best checkpoint.
#   Scripts/privacy-figures.sh [OUT_DIR]     (default /tmp/privacy-figures; reuses OUT_DIR/pretrain)
#   ONLY=speed (or utility) runs and prints one part, ONLY=table prints the utility table of runs
#   already in OUT_DIR; SETTINGS="none clip 8" picks utility rows (all none clip 8 3 1);
#   EXTRA="--set ..." is added to every preset run.
#   BIN=path uses that binary instead of building this checkout.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-/tmp/privacy-figures}
BIN=${BIN:-}
EPSILONS=${EPSILONS:-"8 3 1"}
PRESET=${PRESET:-Configs/sentiment-en-dp.yaml}
SETTINGS=${SETTINGS:-"all none clip $EPSILONS"}
EXTRA=${EXTRA:-}
PAIRS=${PAIRS:-3}
SPEED_STEPS=${SPEED_STEPS:-40}
DP="--set privacy.enabled=true --set privacy.max_grad_norm=1 --set optimizer.grad_clip=0"
[ -n "$BIN" ] || { swift build -c release >/dev/null; BIN=.build/release/swift-llm-train; }
mkdir -p "$OUT"
[ -e "$OUT/pretrain/checkpoints/latest" ] || $BIN train --config Configs/pretrain-small.yaml --run-dir "$OUT/pretrain" > "$OUT/pretrain.log"
COMMON="--config Configs/sentiment-en.yaml --from $OUT/pretrain --set data.dataset=$OUT/pretrain/data"
[ "$ONLY" = table ] || uptime > "$OUT/uptime.txt"
ONLY=${ONLY:-}
[ "$ONLY" = utility ] || [ "$ONLY" = table ] || for pair in $(seq "$PAIRS"); do
    for kind in plain dp; do
        run="$OUT/speed-$kind-$pair"
        rm -rf "$run"
        extra="--set eval.every=0 --set checkpoint.every=0 --set train.log_every=10"
        [ "$kind" = plain ] || extra="$extra $DP --set privacy.noise_multiplier=1"
        $BIN finetune $COMMON $extra --steps "$SPEED_STEPS" --run-dir "$run" > "$run.log"
    done
done
PRIVATE="--config $PRESET --from $OUT/pretrain --set data.dataset=$OUT/pretrain/data $EXTRA"
[ "$ONLY" = speed ] || [ "$ONLY" = table ] || for setting in $SETTINGS; do
    run="$OUT/utility-$setting"
    rm -rf "$run"
    case $setting in
        all) args="$COMMON" ;;                                       # no DP, every parameter trained
        none) args="$PRIVATE --set privacy.enabled=false" ;;
        clip) args="$PRIVATE --set privacy.target_epsilon=0 --set privacy.noise_multiplier=0" ;;   # no guarantee
        *) args="$PRIVATE --set privacy.target_epsilon=$setting" ;;
    esac
    nice -n 5 $BIN finetune $args --run-dir "$run" > "$run.log"
    $BIN evaluate --checkpoint "$run" --split test --output "$run.test.json" >> "$run.log"
done
[ "$ONLY" = table ] || uptime >> "$OUT/uptime.txt"
python3 - "$OUT" "${ONLY/table/utility}" $SETTINGS <<'PY'
import json, statistics, sys
out, only, settings = sys.argv[1], sys.argv[2], sys.argv[3:]
def events(p, kind): return [json.loads(l) for l in open(p) if f'"event":"{kind}"' in l]
if only != "speed":
    print("| sentiment-en | trained | epsilon (delta) | noise multiplier | learning rate | test macro-F1 | test accuracy |")
    print("|---|---|---|---|---|---|---|")
for s in ([] if only == "speed" else settings):
    test = json.load(open(f"{out}/utility-{s}.test.json"))
    state = json.load(open(f"{out}/utility-{s}/checkpoints/" + open(f"{out}/utility-{s}/checkpoints/latest").read().strip()
                           + "/state.json"))
    p = state.get("privacy")
    eps = "no DP" if not p else f"{p['epsilon']:.3f} ({p['delta']:.1e})" if p.get("epsilon") else "infinite"
    sigma = f"{p['noiseMultiplier']:.3f}" if p else "-"
    name = {"all": "without DP", "none": "without DP", "clip": "clipping only"}.get(s, "DP-SGD, target " + s)
    yaml = open(f"{out}/utility-{s}/checkpoints/" + open(f"{out}/utility-{s}/checkpoints/latest").read().strip()
                + "/config.yaml").read()
    field = lambda key: next((l.split(":", 1)[1].strip() for l in yaml.splitlines() if l.strip().startswith(key + ":")), "?")
    print(f"| {name} | {field('trainable')} | {eps} | {sigma} | {field('learning_rate')} | "
          f"{test['macro_f1']:.4f} | {test['accuracy']:.4f} |")
rates = {"plain": [1], "dp": [1]}
for kind in ([] if only == "utility" else ["plain", "dp"]):
    rates[kind] = []
    for pair in range(1, 100):
        try: train = events(f"{out}/speed-{kind}-{pair}/metrics.jsonl", "train")[1:]  # the first window warms up
        except FileNotFoundError: break
        rates[kind].append(statistics.mean(e["tokens_per_s"] for e in train))
plain, dp = statistics.median(rates["plain"]), statistics.median(rates["dp"])
if only != "utility": print(f"\nstep speed, tokens/s per run (alternated): non-private {[round(r) for r in rates['plain']]}, "
      f"DP-SGD {[round(r) for r in rates['dp']]}")
if only != "utility": print(f"DP-SGD step time / non-private step time (medians): {plain / dp:.2f}x")
print(open(f"{out}/uptime.txt").read())
PY
