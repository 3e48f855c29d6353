#!/bin/sh
# Screenshots of presentation mode (F5) at 1920×1080 and of the guided
# lesson (F9) on two pages at 1280×800, from the real application under
# Xvfb with ../shared/tools/gui/ (no window manager: the window is given the
# screen's size through its settings, as full screen would).
#
#   tools/shoot-classroom.sh [BUILDDIR] [OUTDIR]
#
# presentation-draw.png      the Draw view with a 7 drawn, presenting
# presentation-training.png  the Training view after eight batches, presenting
# lesson-network.png         page 2: the MLP as an nn.Module, its hidden layer highlighted
# lesson-loss.png            page 7: the loss, its curve highlighted, after eight batches
set -eu

build=${1:-build}
out=${2:-docs/screenshots}
gui=${GUI_TOOLS:-$(dirname "$0")/../../shared/tools/gui}
export GUI_STATE=${GUI_STATE:-$(mktemp -u /tmp/shoot-classroom.XXXXXX.env)}
export GUI_A11Y=0
config=$(mktemp -d)
trap '"$gui/gui-stop.sh" >/dev/null 2>&1 || true; rm -rf "$config"' EXIT
mkdir -p "$out"

# the settings in a key file of their own: the window's size and first view
export XDG_CONFIG_HOME="$config" GSETTINGS_BACKEND=keyfile GSETTINGS_SCHEMA_DIR="$build/data"
start () {  # WIDTH HEIGHT
  gsettings set io.github.convscope.Convscope window-width "$1"
  gsettings set io.github.convscope.Convscope window-height "$2"
  gsettings set io.github.convscope.Convscope view draw
  "$gui/gui-stop.sh" >/dev/null 2>&1 || true   # a screen of that size
  GUI_SCREEN="${1}x${2}x24" "$gui/gui-run.sh" "$build/app/convscope" >/dev/null
}
shot () {  # NAME: 64 colours, undithered, like tools/make-screenshots.sh
  "$gui/gui-shot.sh" "$config/shot.png" --root >/dev/null
  convert "$config/shot.png" -strip +dither -colors 64 PNG8:"$out/$1"
}

start 1920 1080
"$gui/gui-key.sh" F5
sleep 1.5
"$gui/gui-draw.sh" 120 380 400 380 250 720 >/dev/null
sleep 1
shot presentation-draw.png
"$gui/gui-key.sh" alt+6
sleep 1
"$gui/gui-key.sh" Right Right Right Right Right Right Right Right
sleep 4
shot presentation-training.png

start 1280 800
"$gui/gui-click.sh" 47 74 >/dev/null          # the MLP
"$gui/gui-draw.sh" 80 290 330 290 200 560 >/dev/null
sleep 1
"$gui/gui-key.sh" alt+6
sleep 1
"$gui/gui-key.sh" Right Right Right Right Right Right Right Right
sleep 4
"$gui/gui-key.sh" F9 Next
sleep 1.5
shot lesson-network.png
"$gui/gui-key.sh" Next Next Next Next Next
sleep 1.5
shot lesson-loss.png
ls -l "$out"/presentation-*.png "$out"/lesson-*.png
