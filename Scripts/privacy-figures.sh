#!/usr/bin/env bash
# DP-SGD figures, measured in one run on this machine (release build, one process each):
# 1. Step speed: non-private and DP-SGD alternated, PAIRS pairs, for sentiment-en fine-tuning
#    (SPEED_STEPS steps, all parameters) and language-model training of Configs/tiny.yaml
#    (LM_STEPS steps, its embedded corpus prepared once). For each: tokens/s (real tokens) and
#    CPU time (user + sys, less a 1-step run's start-up) per real token, and the DP/non-DP ratio
#    of the medians. CPU time is the steadier figure on a shared machine. With BEFORE=path (another
#    build's binary) that binary runs alternated with this one, pair by pair, and is reported too.
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
BEFORE=${BEFORE:-}
ONLY=${ONLY:-}
EPSILONS=${EPSILONS:-"8 3 1"}
PRESET=${PRESET:-Configs/sentiment-en-dp.yaml}
SETTINGS=${SETTINGS:-"all none clip $EPSILONS"}
EXTRA=${EXTRA:-}
PAIRS=${PAIRS:-3}
SPEED_STEPS=${SPEED_STEPS:-40}
LM_STEPS=${LM_STEPS:-200}
DP="--set privacy.enabled=true --set privacy.max_grad_norm=1 --set optimizer.grad_clip=0"
[ -n "$BIN" ] || { swift build -c release >/dev/null; BIN=.build/release/swift-llm-train; }
mkdir -p "$OUT"
[ -e "$OUT/pretrain/checkpoints/latest" ] || $BIN train --config Configs/pretrain-small.yaml --run-dir "$OUT/pretrain" > "$OUT/pretrain.log"
COMMON="--config Configs/sentiment-en.yaml --from $OUT/pretrain --set data.dataset=$OUT/pretrain/data"
[ "$ONLY" = table ] || uptime > "$OUT/uptime.txt"
BUILDS="now"
[ -z "$BEFORE" ] || BUILDS="before now"
# speed TASK BUILD KIND RUN STEPS: one timed run (TASK ft or lm, KIND plain or dp).
speed() {
    local bin=$BIN extra="--set eval.every=0 --set checkpoint.every=0 --set train.log_every=10"
    [ "$2" = now ] || bin=$BEFORE
    [ "$3" = plain ] || extra="$extra $DP --set privacy.noise_multiplier=1"
    rm -rf "$4"
    if [ "$1" = ft ]; then
        /usr/bin/time -f "%U %S" -o "$4.time" $bin finetune $COMMON $extra --steps "$5" --run-dir "$4" > "$4.log"
    else
        /usr/bin/time -f "%U %S" -o "$4.time" $bin train --config Configs/tiny.yaml --set data.dataset="$OUT/tiny-data/data" \
            $extra --steps "$5" --run-dir "$4" > "$4.log"
    fi
}
if [ "$ONLY" != utility ] && [ "$ONLY" != table ]; then
    [ -e "$OUT/tiny-data/data" ] || $BIN train --config Configs/tiny.yaml --steps 1 --run-dir "$OUT/tiny-data" \
        > "$OUT/tiny-data.log"
    for build in $BUILDS; do
        for kind in plain dp; do
            speed ft $build $kind "$OUT/speed-ft-$build-$kind-0" 1
            speed lm $build $kind "$OUT/speed-lm-$build-$kind-0" 1
        done
    done
    for pair in $(seq "$PAIRS"); do
        for build in $BUILDS; do
            for kind in plain dp; do
                speed ft $build $kind "$OUT/speed-ft-$build-$kind-$pair" "$SPEED_STEPS"
                speed lm $build $kind "$OUT/speed-lm-$build-$kind-$pair" "$LM_STEPS"
            done
        done
        uptime >> "$OUT/uptime.txt"
    done
fi
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
python3 - "$OUT" "${ONLY/table/utility}" "$BEFORE" $SETTINGS <<'PY'
import json, os, statistics, sys
out, only, before, settings = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
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
def speeds(task, build, name):
    def run(kind, pair): return f"{out}/speed-{task}-{build}-{kind}-{pair}"
    def cpu(path): return sum(map(float, open(f"{path}.time").read().split()[-2:]))
    def tokens(path): return events(f"{path}/metrics.jsonl", "train")[-1]["tokens"]
    rates, per = {}, {}
    for kind in ["plain", "dp"]:
        pairs = [p for p in range(1, 100) if os.path.exists(run(kind, p))]
        # the first logged window warms up
        rates[kind] = [statistics.mean(e["tokens_per_s"] for e in events(f"{run(kind, p)}/metrics.jsonl", "train")[1:])
                       for p in pairs]
        per[kind] = [(cpu(run(kind, p)) - cpu(run(kind, 0))) / tokens(run(kind, p)) * 1e6 for p in pairs]
    print(f"\n{name} ({build} build): tokens/s per run (alternated) non-private {[round(r) for r in rates['plain']]}, "
          f"DP-SGD {[round(r) for r in rates['dp']]}: ratio of medians "
          f"{statistics.median(rates['plain']) / statistics.median(rates['dp']):.2f}x")
    print(f"{name} ({build} build): CPU us per token non-private {[round(x, 1) for x in per['plain']]}, "
          f"DP-SGD {[round(x, 1) for x in per['dp']]}: DP-SGD / non-private (medians) "
          f"{statistics.median(per['dp']) / statistics.median(per['plain']):.2f}x")
if only != "utility":
    for build in (["before", "now"] if before else ["now"]):
        speeds("ft", build, "sentiment-en fine-tuning")
        speeds("lm", build, "tiny.yaml language-model training")
print(open(f"{out}/uptime.txt").read())
PY
