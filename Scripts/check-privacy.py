"""Our DP-SGD accountant against Opacus' (RDPAccountant and get_noise_multiplier) over a grid of
sampling rates, noise multipliers, step counts and deltas: `swift-llm-train privacy-epsilon`
prints ours. Run by Scripts/test.sh in /tmp/venv-checks with opacus installed.
    python Scripts/check-privacy.py --binary .build/release/swift-llm-train
"""
import argparse, itertools, subprocess, sys, warnings

from opacus.accountants import RDPAccountant
from opacus.accountants.utils import get_noise_multiplier

warnings.filterwarnings("ignore")  # "optimal order is the largest alpha" (both use the same orders)
parser = argparse.ArgumentParser()
parser.add_argument("--binary", required=True)
args = parser.parse_args()


def ours(*options):
    out = subprocess.run([args.binary, "privacy-epsilon", *map(str, options)], check=True, capture_output=True,
                         text=True).stdout.split()
    return float(out[1])


failures, checked = [], 0
for q, sigma, steps, delta in itertools.product([1e-4, 0.004, 0.02, 0.1, 1.0], [0.5, 0.8, 1.1, 2.0, 5.0],
                                                [1, 100, 3000], [1e-5, 1e-3]):
    accountant = RDPAccountant()
    accountant.history = [(sigma, q, steps)]
    expected = accountant.get_epsilon(delta=delta)
    got = ours("--sample-rate", q, "--noise", sigma, "--steps", steps, "--delta", delta)
    checked += 1
    if abs(got - expected) > 1e-6 * max(1, expected):
        failures.append(f"epsilon q={q} sigma={sigma} steps={steps} delta={delta}: ours {got}, opacus {expected}")
for q, target, steps in itertools.product([0.004, 0.03], [1.0, 3.0, 8.0], [100, 1000]):
    expected = get_noise_multiplier(target_epsilon=target, target_delta=1e-5, sample_rate=q, steps=steps)
    got = ours("--sample-rate", q, "--target-epsilon", target, "--steps", steps, "--delta", 1e-5)
    checked += 1
    if abs(got - expected) > 1e-9 * expected:
        failures.append(f"noise q={q} target={target} steps={steps}: ours {got}, opacus {expected}")
for line in failures[:10]:
    print(line)
print(f"check-privacy: {checked - len(failures)} of {checked} settings agree with Opacus")
sys.exit(1 if failures else 0)
