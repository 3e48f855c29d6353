#!/bin/sh
# Screenshots of the Convolution, "ReLU, pooling, flatten" and Backward views,
# from the demo harness (tests/demo-views.c) under Xvfb, with
# ../shared/tools/gui/.
#
#   tools/shoot-views.sh [BUILDDIR] [OUTDIR] [WIDTHxHEIGHT]
#
# The worked example with output cell [1,0] current (its window over input
# rows 1…3), pooled cell [1,0] (whose winner is ReLU [2,0] = 28), and the
# backward pass of L = Σ y at ∂L/∂k[0,0] (step 13) with its update.
set -eu

build=${1:-build}
out=${2:-docs/screenshots}
size=${3:-1280x800}
gui=${GUI_TOOLS:-$(dirname "$0")/../../shared/tools/gui}
export GUI_STATE=${GUI_STATE:-$(mktemp -u /tmp/shoot-views.XXXXXX.env)}
export GUI_SCREEN=${GUI_SCREEN:-1920x1080x24}

trap '"$gui/gui-stop.sh" >/dev/null 2>&1 || true' EXIT
mkdir -p "$out"

"$gui/gui-run.sh" "$build/tests/demo-views" --size "$size" --cell 1,0 >/dev/null
"$gui/gui-shot.sh" "$out/convolution.png"
"$gui/gui-run.sh" "$build/tests/demo-views" --size "$size" --cell 1,0 --view pool >/dev/null
"$gui/gui-shot.sh" "$out/relu-pooling-flatten.png"
"$gui/gui-run.sh" "$build/tests/demo-views" --size "$size" --step 13 --view backward >/dev/null
"$gui/gui-shot.sh" "$out/backward.png"
