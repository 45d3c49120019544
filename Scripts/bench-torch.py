#!/usr/bin/env python3
"""PyTorch eager reference for Scripts/bench-scale.sh: the same GPT-2-shaped model as
`swift-llm-train bench model` (transformers' GPT2LMHeadModel, tied head, tanh GELU, no dropout),
trained with AdamW on random tokens, fp32, on the given threads. Prints one line
`tokens_per_s=... ms_per_step=... peak_rss_mb=... matmul_gflops=... fraction_of_matmul=...`
(peak RSS: VmHWM, as ours reports). As `bench model` does with sgemm, PyTorch's own matmul on the
MLP up-projection's shape (rows B*T, C -> 4C, with bias) is timed between the steps, about a tenth
of a step's FLOPs each time; fraction_of_matmul is the model's FLOP/s (the same count as ours:
6 per parameter but the position table, plus 12 * layers * C * T) over that matmul's mean.

Not part of the test suite. Uses /tmp/venv-checks (torch==2.13.0+cpu, transformers):
    /tmp/venv-checks/bin/python Scripts/bench-torch.py --layers 12 --d-model 768 --heads 12 \
        --vocab 50304 --batch 4 --time 1024 --context 1024 --threads 2 --warmup 1 --steps 2
"""
import argparse
import time

import torch
from transformers import GPT2Config, GPT2LMHeadModel


def peak_rss_mb():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def main():
    parser = argparse.ArgumentParser()
    for name in ("layers", "d-model", "heads", "vocab", "batch", "time"):
        parser.add_argument(f"--{name}", type=int, required=True)
    parser.add_argument("--context", type=int, help="position table size (default: --time)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--steps", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(1337)
    config = GPT2Config(vocab_size=args.vocab, n_positions=max(args.time, args.context or 0), n_embd=args.d_model, n_layer=args.layers,
                        n_head=args.heads, activation_function="gelu_new", resid_pdrop=0.0, embd_pdrop=0.0,
                        attn_pdrop=0.0, tie_word_embeddings=True)
    model = GPT2LMHeadModel(config).train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=0.1)
    tokens = torch.randint(0, args.vocab, (args.batch, args.time + 1))
    x, y = tokens[:, :-1], tokens[:, 1:]

    def step():
        optimizer.zero_grad(set_to_none=False)
        logits = model(input_ids=x).logits
        loss = torch.nn.functional.cross_entropy(logits.view(-1, args.vocab), y.reshape(-1))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()

    for _ in range(args.warmup):
        step()
    # The warm-up step has reached the high-water mark (every step allocates the same): read it
    # before the matmul's own tensors exist, as ours does.
    peak_mb = peak_rss_mb()
    rows, dim = args.batch * args.time, args.d_model
    inp, weight, bias = torch.randn(rows, dim), torch.randn(dim, 4 * dim) * 0.02, torch.zeros(4 * dim)
    matmul_flops = 2 * rows * dim * 4 * dim
    parameters = sum(p.numel() for p in model.parameters()) - model.transformer.wpe.weight.numel()
    flops_per_token = 6 * parameters + 12 * args.layers * dim * args.time
    calls = max(1, round(0.1 * flops_per_token * rows / matmul_flops))
    matmul_seconds, matmul_calls = 0.0, 0
    torch.addmm(bias, inp, weight)  # untimed, as ours: the first call pays for page faults
    seconds = cpu_seconds = 0.0
    for _ in range(args.steps):
        start, cpu_start = time.monotonic(), time.process_time()
        step()
        seconds += time.monotonic() - start
        cpu_seconds += time.process_time() - cpu_start
        for _ in range(calls):
            start = time.monotonic()
            torch.addmm(bias, inp, weight)
            matmul_seconds += time.monotonic() - start
            matmul_calls += 1
    tokens_per_s = args.batch * args.time * args.steps / seconds
    matmul_gflops = matmul_flops * matmul_calls / matmul_seconds / 1e9
    print(f"attention={model.config._attn_implementation} tokens_per_s={tokens_per_s:.1f} "
          f"ms_per_step={seconds * 1000 / args.steps:.2f} cpu_ms_per_step={cpu_seconds * 1000 / args.steps:.2f} "
          f"peak_rss_mb={peak_mb:.1f} matmul_gflops={matmul_gflops:.1f} "
          f"fraction_of_matmul={flops_per_token * tokens_per_s / (matmul_gflops * 1e9):.4f}")


if __name__ == "__main__":
    main()
