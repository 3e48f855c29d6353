#!/bin/sh
# Makes the screenshots in docs/screenshots/ from the real application: the
# end-to-end test (tests/test-e2e.py) draws a 7 and saves the window at
# 1280×800 and 1920×1080 on a private Xvfb (tests/gui/run-xvfb.sh), and the
# Mistakes view at 1280×800; and the Gradients view on two short training
# runs; and the Chinese interface (tools/screenshots-zh.sh).
# Needs a build (meson compile -C build) and tools/install-deps.sh's packages.
set -eu
cd "$(dirname "$0")/.."

out=docs/screenshots
mkdir -p "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

GSETTINGS_SCHEMA_DIR="$PWD/build/data" GSETTINGS_BACKEND=memory CS_XVFB_SCREEN=1920x1200x24 \
  tests/gui/run-xvfb.sh /usr/bin/python3 tests/test-e2e.py build/app/convscope --screenshots "$tmp"

# small PNGs: 64 colours, undithered, keep flat colours and text sharp
for f in "$tmp"/*.png; do
  convert "$f" -strip +dither -colors 64 PNG8:"$out/$(basename "$f")"
done

# The Gradients view after 300 batches of the MLP and of the SimpleCNN on the
# bundled digits (tests/demo-views.c trains them in a CsTrainer and exports
# the view); 256 colours, for the heat maps' shades.
mkdir "$tmp/gradients"
for model in mlp simple-cnn; do
  tests/gui/run-xvfb.sh build/tests/demo-views --view gradients --model "$model" --batches 300 \
    --size 1280x800 --export "$tmp/gradients" >/dev/null
done
convert "$tmp/gradients/gradients-mlp.png" -strip +dither -colors 256 PNG8:"$out/gradients-mlp.png"
convert "$tmp/gradients/gradients-simple-cnn.png" -strip +dither -colors 256 PNG8:"$out/gradients-cnn.png"
# The Chinese interface: the Draw, Network and Training views at 1280×800;
# 256 colours (heat maps, and the strokes of the characters).
mkdir "$tmp/zh"
GSETTINGS_SCHEMA_DIR="$PWD/build/data" GSETTINGS_BACKEND=memory \
  tests/gui/run-xvfb.sh tools/screenshots-zh.sh build/app/convscope "$tmp/zh"
for f in "$tmp"/zh/*.png; do
  convert "$f" -strip +dither -colors 256 PNG8:"$out/$(basename "$f")"
done

# Presentation mode at 1920×1080 and the guided lesson at 1280×800
tools/shoot-classroom.sh build "$out" >/dev/null
ls -l "$out"
