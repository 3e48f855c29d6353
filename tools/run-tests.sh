#!/bin/sh
# Builds Convscope and runs every test:
#   build/       the whole suite, optimised build
#   build-asan/  the core suite again under AddressSanitizer + UndefinedBehaviorSanitizer
# Exits non-zero if anything failed. Meson's results are in
# build*/meson-logs/testlog.json.
set -u
cd "$(dirname "$0")/.." || exit 1

tools/install-deps.sh || exit 1

setup () {
  dir=$1; shift
  if [ -f "$dir/build.ninja" ]; then
    meson setup --reconfigure "$dir" "$@" >/dev/null
  else
    meson setup "$dir" "$@" >/dev/null
  fi
}

rc=0
setup build || exit 1
meson test -C build --print-errorlogs || rc=1

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=halt_on_error=1:abort_on_error=1:print_stacktrace=1
setup build-asan -Dbuildtype=debug -Db_sanitize=address,undefined -Db_lundef=false || exit 1
meson test -C build-asan --suite core --print-errorlogs || rc=1

exit $rc
