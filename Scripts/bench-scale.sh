#!/usr/bin/env bash
# Cost against size and context, ours beside PyTorch eager (Scripts/bench-torch.py, the same model
# and batch on random tokens), one case after the other in one run: tokens/s and peak RSS
# (VmHWM) of training steps at bench-i, bench-ii and gpt2-small at T = 256, 1024 (with each
# train.recompute) and 2048 (batch 2). Few steps after a warm-up: the big cases take minutes.
#   Scripts/bench-scale.sh [CASE...]   cases: bench-i bench-ii gpt2-256 gpt2-1024 gpt2-2048 (default all)
#   THREADS=2 WARMUP=1 STEPS=2; TORCH_PYTHON=/tmp/venv-checks/bin/python (torch==2.13.0+cpu, transformers)
# Prints a Markdown table (ratios: ours / PyTorch) and the load average at start and end. Beside
# tokens/s, the ratio of CPU time per step (PyTorch's / ours): on a shared machine the wall clock
# swings with the load while the CPU time moves much less. And each side's step as a share of its
# own BLAS's matmul on the model's MLP shape, timed between the steps (ours `fraction_of_sgemm`,
# PyTorch's `fraction_of_matmul`, the same FLOP count): how much of the step is not matrix
# products, apart from how fast each side's matrix products are on this CPU.
set -euo pipefail
cd "$(dirname "$0")/.."
threads=${THREADS:-2} warmup=${WARMUP:-1} steps=${STEPS:-2}
python=${TORCH_PYTHON:-/tmp/venv-checks/bin/python}
bin=.build/release/swift-llm-train
[ -x "$bin" ] || swift build -c release --product swift-llm-train >/dev/null
cases=("$@")
[ ${#cases[@]} -gt 0 ] || cases=(bench-i bench-ii gpt2-256 gpt2-1024 gpt2-2048)

field() { sed -n "s/.*$1=\([0-9.]*\).*/\1/p" | tail -1; }

# ours CONFIG BATCH TIME RECOMPUTE -> "tokens_per_s peak_rss_mb cpu_ms_per_step fraction_of_sgemm"
ours() {
    local out
    out=$("$bin" bench model --config "$1" --threads "$threads" --warmup "$warmup" --steps "$steps" \
          --set train.micro_batch="$2" --set train.global_batch="$2" --set train.sequence_length="$3" \
          --set model.context_length="$(( $3 > $5 ? $3 : $5 ))" --set train.recompute="$4")
    echo "$(field tokens_per_s <<<"$out") $(field peak_rss_mb <<<"$out") $(field cpu_ms_per_step <<<"$out")" \
         "$(field fraction_of_sgemm <<<"$out")"
}

# torch LAYERS D_MODEL HEADS VOCAB BATCH TIME CONTEXT -> "tokens_per_s peak_rss_mb cpu_ms_per_step fraction_of_matmul"
torch() {
    local out
    out=$("$python" Scripts/bench-torch.py --layers "$1" --d-model "$2" --heads "$3" --vocab "$4" --batch "$5" \
          --time "$6" --context "$7" --threads "$threads" --warmup "$warmup" --steps "$steps")
    echo "$(field tokens_per_s <<<"$out") $(field peak_rss_mb <<<"$out") $(field cpu_ms_per_step <<<"$out")" \
         "$(field fraction_of_matmul <<<"$out")"
}

echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg); $threads threads, $warmup warm-up + $steps timed steps"
echo
echo "| case | batch x T | recompute | ours tokens/s | ours peak RSS MB | PyTorch tokens/s | PyTorch peak RSS MB | tokens/s ours/PyTorch | RSS ours/PyTorch | CPU time PyTorch/ours | ours of own sgemm | PyTorch of own matmul |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
row() {  # NAME CONFIG SHAPE(layers d heads vocab context) BATCH TIME RECOMPUTES...
    local name=$1 config=$2 shape=$3 batch=$4 time=$5; shift 5
    read -r layers dim heads vocab context <<<"$shape"
    read -r ttps trss tcpu tfrac < <(torch "$layers" "$dim" "$heads" "$vocab" "$batch" "$time" "$context")
    for recompute in "$@"; do
        read -r otps orss ocpu ofrac < <(ours "$config" "$batch" "$time" "$recompute" "$context")
        python3 -c "print(f'| $name | $batch x $time | $recompute | $otps | $orss | $ttps | $trss | {$otps/$ttps:.2f} | {$orss/$trss:.2f} | {$tcpu/$ocpu:.2f} | $ofrac | $tfrac |')"
    done
}
gpt2="12 768 12 50304 1024"
for c in "${cases[@]}"; do
    case $c in
        bench-i) row bench-i Configs/bench-i.yaml "4 256 4 4096 128" 8 128 none ;;
        bench-ii) row bench-ii Configs/bench-ii.yaml "6 384 6 8192 256" 4 256 none ;;
        gpt2-256) row gpt2-small Configs/gpt2-small.yaml "$gpt2" 4 256 none ;;
        gpt2-1024) row gpt2-small Configs/gpt2-small.yaml "$gpt2" 4 1024 none attention blocks ;;
        gpt2-2048) row gpt2-small Configs/gpt2-small.yaml "$gpt2" 2 2048 none blocks ;;
        *) echo "unknown case $c (bench-i bench-ii gpt2-256 gpt2-1024 gpt2-2048)" >&2; exit 2 ;;
    esac
done
echo
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
