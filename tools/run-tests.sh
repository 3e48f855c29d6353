#!/bin/sh
# Builds Convscope and runs every test:
#   build/       the whole suite, optimised build
#   build-asan/  the core suite again under AddressSanitizer + UndefinedBehaviorSanitizer
#   build-tsan/  the threaded code (the trainer, the thread pool) under ThreadSanitizer
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

# ThreadSanitizer: the trainer's thread and its callers, and the CPU pool.
# Without CUDA and GTK (host code with one thread of its own) to keep the
# build short; only what the two tests need is built. GLib's GMutex and
# GCond are futexes it cannot see, so core/sync-private.h tells it what
# they do; GSlice hands memory from thread to thread behind its back, so
# it is told to use malloc.
export TSAN_OPTIONS=halt_on_error=1:abort_on_error=1:second_deadlock_stack=1
setup build-tsan -Db_sanitize=thread -Db_lundef=false -Dcuda=disabled -Dapp=disabled || exit 1
if meson compile -C build-tsan test-trainer test-rewind test-parallel convscope-cli >/dev/null; then
  G_SLICE=always-malloc meson test -C build-tsan --no-rebuild --print-errorlogs trainer rewind parallel || rc=1
else
  echo "build-tsan: the build failed" >&2
  rc=1
fi

exit $rc
