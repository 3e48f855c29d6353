#!/bin/sh
# Makes the screenshots in docs/screenshots/ from the real application: the
# end-to-end test (tests/test-e2e.py) draws a 7 and saves the window at
# 1280×800 and 1920×1080 on a private Xvfb (tests/gui/run-xvfb.sh).
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
ls -l "$out"
