#!/usr/bin/env bash
# Data-parallel scaling: tokens/s of a config at n=1 (1 BLAS thread) and n=2 ranks (1 thread
# each), measured back to back in one run, with the share of step time spent communicating;
# n=2 is run with the sharded optimiser (the default) and without it (train.shard_optimizer=false).
#   [REPEATS=R] Scripts/bench-scaling.sh [CONFIG] [STEPS]     (default Configs/bench-i.yaml, 40 steps, R=1)
# With REPEATS=R the n=1 and n=2 (sharded) runs alternate R times, each pair giving an efficiency
# (a shared machine's speed drifts by several percent from minute to minute, so one pair is one
# sample), and the summary line gives them all with their median and how many reach 0.95; the
# co_run rows below alternate R times as well.
# Prints one line per world size and a final `scaling_efficiency=...` line, then where the rest
# goes, each factor measured alone with `bench model` (no MPI) and multiplied out:
#   half_batch   tokens per CPU second at half the global batch (each rank's share) over the full one
#   co_run       tokens/s of two half-batch processes run at once over one alone (shared cores, L3, memory);
#                beside it co_run_sgemm, the same ratio for the sgemm reference those runs time between
#                their steps: how much the host slows its best-case GEMM when both cores are busy, the
#                share of co_run that no change to the model can win back
#   comm         1 - comm_share of the n=2 run (reduce-scatter, all-gather, the small all-reduce), split
#                into waiting for the slower rank (comm_wait_share) and moving the data (the rest)
# Needs an idle machine: on a loaded one every wall-clock figure here measures the other load.
set -euo pipefail
cd "$(dirname "$0")/.."
source Scripts/mpi-env.sh
config=${1:-Configs/bench-i.yaml}
steps=${2:-40}
bin=.build/release/swift-llm-train
[ -x "$bin" ] || Scripts/bootstrap.sh >/dev/null
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Prepare the data once (tokenizer + token files) so both runs time training only.
"$bin" train --config "$config" --steps 1 --run-dir "$work/prep" --set eval.sequences=8 >/dev/null
common=(--config "$config" --steps "$steps" --set data.dataset="$work/prep/data" --set train.log_every=5
        --set eval.every=0 --set eval.sequences=8 --set checkpoint.every=0 --set train.threads=1)

summarise() {  # median tokens/s, communication share and its waiting part over the logged windows after the first
    python3 - "$1" <<'PY'
import json, sys, statistics
rows = [json.loads(l) for l in open(sys.argv[1]) if '"train"' in l][1:]
median = lambda key: statistics.median(r.get(key, 0) for r in rows)
print(f"{median('tokens_per_s'):.1f} {median('comm_share'):.4f} {median('comm_wait_share'):.4f}")
PY
}
efficiencies=()
for ((r = 1; r <= ${REPEATS:-1}; r++)); do
    "$bin" train "${common[@]}" --run-dir "$work/n1-$r" >/dev/null
    mpirun -n 2 "$bin" train "${common[@]}" --run-dir "$work/n2-$r" >/dev/null
    read -r tps1 share1 _ < <(summarise "$work/n1-$r/metrics.jsonl")
    read -r tps2 share2 wait2 < <(summarise "$work/n2-$r/metrics.jsonl")
    echo "config=$config repeat=$r ranks=1 tokens_per_s=$tps1 comm_share=$share1"
    echo "config=$config repeat=$r ranks=2 sharded=true tokens_per_s=$tps2 comm_share=$share2 comm_wait_share=$wait2"
    efficiencies+=("$(python3 -c "print(f'{$tps2/(2*$tps1):.3f}')")")
done
mpirun -n 2 "$bin" train "${common[@]}" --set train.shard_optimizer=false --run-dir "$work/n2full" >/dev/null
read -r tps2f share2f wait2f < <(summarise "$work/n2full/metrics.jsonl")
echo "config=$config ranks=2 sharded=false tokens_per_s=$tps2f comm_share=$share2f comm_wait_share=$wait2f (against the last n=1 run)"
python3 - "$tps2f" "$tps1" "${efficiencies[@]}" <<'PY'
import statistics, sys
full, one, effs = float(sys.argv[1]), float(sys.argv[2]), [float(e) for e in sys.argv[3:]]
print(f"scaling_efficiency={statistics.median(effs):.3f} repeats={','.join(f'{e:.3f}' for e in effs)} "
      f"at_least_0.95={sum(e >= 0.95 for e in effs)}/{len(effs)} unsharded_scaling_efficiency={full / (2 * one):.3f}")
PY

# The breakdown: each rank of n=2 runs half the global batch.
global=$(sed -n 's/^ *global_batch: *//p' "$config")
half=$((global / 2))
bench=("$bin" bench model --config "$config" --threads 1 --steps 10)
full_line=$("${bench[@]}" --set train.micro_batch="$global" | tail -1)
half_line=$("${bench[@]}" --set train.micro_batch="$half" | tail -1)
# One half-batch process alone against two at once, alternated REPEATS times (the medians go in).
for ((r = 1; r <= ${REPEATS:-1}; r++)); do
    "${bench[@]}" --set train.micro_batch="$half" | tail -1 > "$work/alone-$r"
    "${bench[@]}" --set train.micro_batch="$half" | tail -1 > "$work/a-$r" &
    "${bench[@]}" --set train.micro_batch="$half" | tail -1 > "$work/b-$r" &
    wait
done
python3 - "$global" "$half" "$full_line" "$half_line" "$share2" "$wait2" "$work" "${REPEATS:-1}" \
         "$(python3 -c "import statistics; print(statistics.median([$(IFS=,; echo "${efficiencies[*]}")]))")" <<'PY'
import statistics, sys
g, h, full, half, share, wait, work, repeats, measured = sys.argv[1:10]
def f(line, key): return float(dict(kv.split('=') for kv in line.split())[key])
def read(name): return open(f"{work}/{name}").read().strip()
# Tokens per CPU second (wall-time noise excluded): batch tokens / cpu_ms_per_step.
half_batch = (int(h) / f(half, 'cpu_ms_per_step')) / (int(g) / f(full, 'cpu_ms_per_step'))
def co(key):
    return statistics.median((f(read(f"a-{r}"), key) + f(read(f"b-{r}"), key)) / (2 * f(read(f"alone-{r}"), key))
                             for r in range(1, int(repeats) + 1))
co_run, co_run_sgemm = co('tokens_per_s'), co('sgemm_gflops')
comm = 1 - float(share)
waiting, transfer = float(wait), float(share) - float(wait)
print(f"| factor | value |\n|---|---|\n| half_batch | {half_batch:.3f} |\n"
      f"| co_run | {co_run:.3f} (the sgemm reference in the same runs: {co_run_sgemm:.3f}) |\n"
      f"| comm | {comm:.3f} (waiting for the slower rank {waiting:.3f}, moving the data {transfer:.3f}) |\n"
      f"| product | {half_batch * co_run * comm:.3f} |\n| measured | {float(measured):.3f} |")
print(f"half_batch={half_batch:.3f} co_run={co_run:.3f} co_run_sgemm={co_run_sgemm:.3f} comm={comm:.3f} "
      f"comm_wait={waiting:.3f} comm_transfer={transfer:.3f} product={half_batch * co_run * comm:.3f}")
PY
