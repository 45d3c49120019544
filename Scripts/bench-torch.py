#!/usr/bin/env python3
"""PyTorch eager reference for Scripts/bench-scale.sh: the same GPT-2-shaped model as
`swift-llm-train bench model` (transformers' GPT2LMHeadModel, tied head, tanh GELU, no dropout),
trained with AdamW on random tokens, fp32, on the given threads. Prints one line
`tokens_per_s=... ms_per_step=... peak_rss_mb=...` (peak RSS: VmHWM, as ours reports).

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
    start, cpu_start = time.monotonic(), time.process_time()
    for _ in range(args.steps):
        step()
    seconds, cpu_seconds = time.monotonic() - start, time.process_time() - cpu_start
    tokens_per_s = args.batch * args.time * args.steps / seconds
    print(f"attention={model.config._attn_implementation} tokens_per_s={tokens_per_s:.1f} "
          f"ms_per_step={seconds * 1000 / args.steps:.2f} cpu_ms_per_step={cpu_seconds * 1000 / args.steps:.2f} "
          f"peak_rss_mb={peak_rss_mb():.1f}")


if __name__ == "__main__":
    main()
