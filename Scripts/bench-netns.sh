#!/usr/bin/env bash
# Step time of the same 4-rank run three ways, alternated in one session (the machine is shared):
# one host over shared memory, one host over TCP on loopback, two namespace hosts over TCP
# (Scripts/netns-cluster.sh). Root needed. Extra arguments go to `train`, e.g.
#   Scripts/bench-netns.sh --set model.d_model=256 --set model.heads=4 --set model.layers=4
set -euo pipefail
cd "$(dirname "$0")/.."
source Scripts/mpi-env.sh
bin=$PWD/.build/release/swift-llm-train
work=$(mktemp -d /tmp/bench-netns.XXXXXX)
export NETNS_CLUSTER_PREFIX=llmbench NETNS_CLUSTER_DIR=$work/cluster
trap 'Scripts/netns-cluster.sh down; rm -rf "$work"' EXIT
Scripts/netns-cluster.sh up 2 >/dev/null
run=(--config Configs/tiny.yaml --set train.global_batch=16 --set train.micro_batch=2 --set train.sequence_length=32
     --set train.log_every=1 --set eval.every=0 --set eval.sequences=16 --set checkpoint.every=0)
"$bin" train "${run[@]}" --steps 1 --run-dir "$work/data-run" >/dev/null
run+=(--set data.dataset="$work/data-run/data" --steps 25 "$@")

# Mean milliseconds per step after the first 5 (start-up and first-touch page faults).
step_ms() {
    python3 -c 'import json, sys
t = [r["elapsed_s"] for r in map(json.loads, open(sys.argv[1])) if r["event"] == "train"]
print(round(1000 * (t[-1] - t[4]) / (len(t) - 5), 1))' "$1/metrics.jsonl"
}
declare -A times
for round in 1 2 3; do
    for mode in shm tcp-loopback two-hosts; do
        dir=$work/$mode-$round
        case $mode in
            shm) mpirun -n 4 "$bin" train "${run[@]}" --run-dir "$dir" ;;
            tcp-loopback) mpirun -n 4 --mca btl tcp,self "$bin" train "${run[@]}" --run-dir "$dir" ;;
            two-hosts) Scripts/netns-cluster.sh exec llmbench-node1 mpirun --hostfile "$work/cluster/hostfile" -n 4 \
                           $(cat "$work/cluster/mpirun-args") "$bin" train "${run[@]}" --run-dir "$dir" ;;
        esac >/dev/null 2>&1
        times[$mode]+="$(step_ms "$dir") "
    done
done
median() { tr ' ' '\n' <<<"$1" | grep . | sort -g | sed -n 2p; }
shm=$(median "${times[shm]}")
for mode in shm tcp-loopback two-hosts; do
    m=$(median "${times[$mode]}")
    printf '%-13s ms/step %-22s median %7s  x%.2f of shared memory\n' "$mode" "${times[$mode]}" "$m" \
        "$(python3 -c "print($m / $shm)")"
done
uptime
