#!/bin/sh
# screenshots-zh.sh CONVSCOPE OUTDIR — the Chinese interface at 1280×800
#
# Run on a display of its own by tools/make-screenshots.sh
# (tests/gui/run-xvfb.sh): starts CONVSCOPE with LANGUAGE=zh_CN, draws a 7
# with xdotool and saves the Draw view, then the Network view, then the
# Training view after three Steps, as OUTDIR/zh-*-1280x800.png.
set -eu
app=$1 out=$2

LANGUAGE=zh_CN LC_ALL=C.UTF-8 "$app" >"$out/zh.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT

win=$(xdotool search --sync --onlyvisible --pid "$pid" | head -n 1)
xdotool windowsize "$win" 1280 800
sleep 1.5

# A press-drag through the points X Y X Y…, 4 px a motion event
stroke () {
  xdotool mousemove "$1" "$2" mousedown 1
  echo "$@" | awk '{ for (i = 3; i < NF; i += 2) {
      x0 = $(i - 2); y0 = $(i - 1); x1 = $i; y1 = $(i + 1)
      d = (x1 - x0) ^ 2 > (y1 - y0) ^ 2 ? x1 - x0 : y1 - y0; if (d < 0) d = -d
      n = int(d / 4); if (n < 1) n = 1
      for (k = 1; k <= n; k++) printf "%d %d\n", x0 + (x1 - x0) * k / n, y0 + (y1 - y0) * k / n } }' |
  while read -r x y; do
    xdotool mousemove "$x" "$y"
    sleep 0.02
  done
  xdotool mouseup 1
}

# tests/test-e2e.py's 7 (0.25 0.20, 0.75 0.20, 0.45 0.85 of the canvas),
# on the canvas where it lies at 1280×800: x 30 to 430, y 212 to 612
stroke 130 292 330 292 210 552
sleep 1.5
import -window "$win" "$out/zh-draw-1280x800.png"

xdotool key alt+5
sleep 2
import -window "$win" "$out/zh-network-1280x800.png"

xdotool key alt+6
sleep 1
for step in 1 2 3; do
  xdotool key Right
  sleep 2
done
import -window "$win" "$out/zh-training-1280x800.png"
