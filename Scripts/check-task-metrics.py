#!/usr/bin/env python3
"""Checks `swift-llm-train evaluate` against scikit-learn on the same predictions.

Runs evaluate --output/--predictions on a fine-tuned classification checkpoint, recomputes
accuracy, per-class precision/recall/F1, macro and weighted F1, the confusion matrix and (two
classes) ROC-AUC with scikit-learn from the per-post probabilities, and compares to 1e-9.
Creates /tmp/venv-checks (reused if present) with scikit-learn.

    python3 Scripts/check-task-metrics.py runs/sentiment-en [--split test]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

VENV = "/tmp/venv-checks"
if sys.prefix != VENV:
    if not os.path.exists(f"{VENV}/bin/python"):
        subprocess.check_call([sys.executable, "-m", "venv", VENV])
    subprocess.check_call([f"{VENV}/bin/pip", "install", "-q", "scikit-learn"])
    os.execv(f"{VENV}/bin/python", [f"{VENV}/bin/python"] + sys.argv)

from sklearn import metrics  # noqa: E402

parser = argparse.ArgumentParser()
parser.add_argument("checkpoint")
parser.add_argument("--split", default="test")
parser.add_argument("--bin", default=".build/release/swift-llm-train")
args = parser.parse_args()
with tempfile.TemporaryDirectory() as tmp:
    subprocess.check_call([args.bin, "evaluate", "--checkpoint", args.checkpoint, "--split", args.split,
                           "--output", f"{tmp}/m.json", "--predictions", f"{tmp}/p.jsonl"], stdout=subprocess.DEVNULL)
    ours = json.load(open(f"{tmp}/m.json"))
    rows = [json.loads(line) for line in open(f"{tmp}/p.jsonl")]
labels = ours["labels"]
index = {name: i for i, name in enumerate(labels)}
truth = [index[r["truth"]] for r in rows]
predicted = [index[r["label"]] for r in rows]
k = list(range(len(labels)))
expected = {
    "accuracy": metrics.accuracy_score(truth, predicted),
    "macro_f1": metrics.f1_score(truth, predicted, labels=k, average="macro", zero_division=0),
    "weighted_f1": metrics.f1_score(truth, predicted, labels=k, average="weighted", zero_division=0),
}
p, r, f, _ = metrics.precision_recall_fscore_support(truth, predicted, labels=k, zero_division=0)
for i, name in enumerate(labels):
    expected[f"precision_{name}"], expected[f"recall_{name}"], expected[f"f1_{name}"] = p[i], r[i], f[i]
if len(labels) == 2:
    # Probabilities are printed to 6 decimals; AUC ranks by them, ours by the logit margin, so
    # near-ties may order differently: compare loosely.
    auc = metrics.roc_auc_score(truth, [row["probabilities"][labels[1]] for row in rows])
    print(f"roc_auc ours {ours['roc_auc']:.6f} sklearn {auc:.6f}")
    assert abs(auc - ours["roc_auc"]) < 1e-3, (auc, ours["roc_auc"])
bad = {key: (ours[key], value) for key, value in expected.items() if abs(ours[key] - value) > 1e-9}
confusion = metrics.confusion_matrix(truth, predicted, labels=k).tolist()
assert confusion == ours["confusion"], (confusion, ours["confusion"])
assert not bad, f"{len(bad)} metrics differ, e.g. {next(iter(bad.items()))}"
print(f"{len(expected)} metrics and the {len(labels)}x{len(labels)} confusion matrix match scikit-learn "
      f"on {len(rows)} posts")
