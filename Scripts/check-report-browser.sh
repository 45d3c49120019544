#!/usr/bin/env bash
# Renders `swift-llm-train report` output in a real headless browser (Debian's chromium) and
# checks that the page renders, its charts are visible, and the browser logs no console error
# or failed load. Not in the default suite (it installs chromium); CI runs it after the tests.
#
#   Scripts/check-report-browser.sh            # trains a 30-step run, reports, renders, checks
#   KEEP=1 Scripts/check-report-browser.sh     # keep the run and the screenshot (path printed)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${LLM_TRAIN_BIN_DIR:-$PWD/.build/release}/swift-llm-train

if ! command -v chromium >/dev/null; then
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y chromium
fi
[ -x "$BIN" ] || swift build -c release

WORK=$(mktemp -d /tmp/check-report-browser.XXXXXX)
[ "${KEEP:-0}" = 1 ] || trap 'rm -rf "$WORK"' EXIT
RUN=$WORK/run
"$BIN" train --config Configs/tiny.yaml --steps 30 --set train.log_every=2 --set eval.every=10 \
    --set checkpoint.every=15 --run-dir "$RUN" >"$WORK/train.log"
"$BIN" report "$RUN"

# render PAGE PNG [WIDTH,HEIGHT]: a screenshot, and the browser's log (console messages, failed loads) in PNG.log.
render() {
    chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size="${3:-1100,4200}" \
        --enable-logging=stderr --v=0 --screenshot="$2" "file://$1" 2>"$2.log" >/dev/null
}

# check PNG LOG MIN_CHARTS [COLOUR]: fails unless the page logged no console message or failed
# load and at least MIN_CHARTS charts are visible: COLOUR (default #1f77b4, the line charts'
# first series; #08306b is a heat map's darkest cell) found in that many separate bands of
# rows of the screenshot (PNG decoded here, no libraries).
check() {
    python3 - "$1" "$2" "$3" "${4:-1f77b4}" <<'PY'
import re, struct, sys, zlib
png, log, minimum = sys.argv[1], sys.argv[2], int(sys.argv[3])
want = [int(sys.argv[4][i:i + 2], 16) for i in (0, 2, 4)]
problems = [l for l in open(log, errors="replace") if re.search(r"CONSOLE|net::ERR|Failed to load|Uncaught", l)]
data = open(png, "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
pos, idat = 8, b""
while pos < len(data):
    n, kind = struct.unpack(">I4s", data[pos:pos + 8])
    body = data[pos + 8:pos + 8 + n]
    if kind == b"IHDR":
        width, height, depth, colour = struct.unpack(">IIBB", body[:10])
    elif kind == b"IDAT":
        idat += body
    pos += 12 + n
assert depth == 8 and colour in (2, 6), f"unexpected PNG format depth={depth} colour={colour}"
bpp = 3 if colour == 2 else 4
raw, stride = zlib.decompress(idat), width * bpp
rows, prev, i = [], bytearray(stride), 0
for _ in range(height):
    kind, line = raw[i], bytearray(raw[i + 1:i + 1 + stride])
    i += 1 + stride
    for x in range(stride):  # undo the PNG row filters
        a = line[x - bpp] if x >= bpp else 0
        b, c = prev[x], prev[x - bpp] if x >= bpp else 0
        if kind == 1: line[x] = (line[x] + a) & 255
        elif kind == 2: line[x] = (line[x] + b) & 255
        elif kind == 3: line[x] = (line[x] + (a + b) // 2) & 255
        elif kind == 4:
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
    rows.append(line)
    prev = line
def matches(line):
    return sum(1 for x in range(0, stride, bpp) if all(abs(line[x + c] - want[c]) < 40 for c in range(3)))
marked = [y for y in range(height) if matches(rows[y]) >= 3]
bands = sum(1 for k, y in enumerate(marked) if k == 0 or y - marked[k - 1] > 40)
nonwhite = sum(1 for r in rows[::8] for x in range(0, stride, bpp * 8) if r[x] < 200)
print(f"{png}: {width}x{height}, {bands} band(s) with charts drawn, {len(problems)} console/load problem(s)")
for p in problems[:5]: print("  " + p.strip())
sys.exit(0 if bands >= minimum and not problems and nonwhite > 100 else 1)
PY
}

START=$(date +%s)
render "$RUN/report.html" "$WORK/report.png"
CHARTS=$(grep -o '<figure class="chart"' "$RUN/report.html" | wc -l)
[ "$CHARTS" -ge 5 ] || { echo "report.html holds $CHARTS charts, expected 5"; exit 1; }
check "$WORK/report.png" "$WORK/report.png.log" "$CHARTS"

# explain's page: the post's tokens (CJK, emoji) and a heat map per layer and head.
"$BIN" explain --model "$RUN" --text "Loving the new phone 😍 @bob 服务很好" --output "$WORK/explain.html" 2>/dev/null
render "$WORK/explain.html" "$WORK/explain.png" 1100,3200
check "$WORK/explain.png" "$WORK/explain.png.log" 4 08306b

# The check must be able to fail: a page that draws fine but logs a console error is rejected.
cat >"$WORK/broken.html" <<'HTML'
<!DOCTYPE html><html><body><div style="background:#1f77b4;height:200px"></div>
<script>console.error("deliberate error")</script></body></html>
HTML
render "$WORK/broken.html" "$WORK/broken.png" 400,300
if check "$WORK/broken.png" "$WORK/broken.png.log" 0 >/dev/null; then
    echo "the checker accepted a page with a console error: the check is broken"; exit 1
fi
echo "browser check passed in $(( $(date +%s) - START )) s (rendering and checks)${KEEP:+; files in $WORK}"
