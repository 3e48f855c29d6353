#!/bin/sh
# run-xvfb.sh COMMAND [ARG…] — runs COMMAND on a virtual X display of its own
#
# A private Xvfb (it picks a free display itself, -displayfd), a private
# D-Bus session bus (dbus-run-session; the AT-SPI accessibility bus is
# started on it on demand), a private XDG_RUNTIME_DIR and a private folder
# for the application's autosaved session, then tears them
# all down. GTK is told to use X11 and the Cairo renderer (CPU only, the
# same pixels every run). Exits with COMMAND's status.
#
# When Xvfb or dbus-run-session is missing it prints the TAP line
# "1..0 # SKIP no Xvfb" and exits 0, so a TAP test that needs a display is
# recorded as skipped (tools/install-deps.sh installs both).
#
#   CS_XVFB_SCREEN   the screen, WIDTHxHEIGHTxDEPTH [1920x1200x24]
#   GSK_RENDERER     cairo (default here) or gl
set -u

for tool in Xvfb dbus-run-session; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "1..0 # SKIP no Xvfb ($tool is not installed; see tools/install-deps.sh)"
    exit 0
  fi
done
[ $# -gt 0 ] || { echo "usage: $0 COMMAND [ARG…]" >&2; exit 2; }

runtime=$(mktemp -d "${TMPDIR:-/tmp}/cs-xvfb.XXXXXX") || exit 1
chmod 700 "$runtime"
xvfb_pid=
cleanup () {
  [ -n "$xvfb_pid" ] && kill "$xvfb_pid" 2>/dev/null && wait "$xvfb_pid" 2>/dev/null
  rm -rf "$runtime"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

Xvfb -displayfd 3 -screen 0 "${CS_XVFB_SCREEN:-1920x1200x24}" -nolisten tcp -noreset \
  3>"$runtime/display" >"$runtime/xvfb.log" 2>&1 &
xvfb_pid=$!

# Xvfb writes the display number and a newline once it accepts clients.
i=0
while ! grep -q '^[0-9][0-9]*$' "$runtime/display" 2>/dev/null; do
  i=$((i + 1))
  if [ $i -gt 100 ] || ! kill -0 "$xvfb_pid" 2>/dev/null; then
    echo "run-xvfb.sh: Xvfb did not start:" >&2
    cat "$runtime/xvfb.log" >&2
    exit 1
  fi
  sleep 0.1
done

DISPLAY=":$(cat "$runtime/display")"
XDG_RUNTIME_DIR="$runtime"
# The application autosaves its session here, not in the user's state folder.
CONVSCOPE_STATE_DIR="$runtime/state"
GDK_BACKEND=x11
GSK_RENDERER="${GSK_RENDERER:-cairo}"
export DISPLAY XDG_RUNTIME_DIR CONVSCOPE_STATE_DIR GDK_BACKEND GSK_RENDERER
unset WAYLAND_DISPLAY DBUS_SESSION_BUS_ADDRESS

dbus-run-session -- "$@"
