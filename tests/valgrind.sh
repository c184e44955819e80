#!/usr/bin/env bash
# tests/valgrind.sh — memcheck over the plain build (make valgrind calls it):
# every cmocka suite that does not start programs (it tests the library and
# the chapters' code in its own process), and the demo programs. Each must
# finish with zero memcheck errors and no definitely or indirectly lost
# blocks. Prints one line per run and a closing summary; fails if any failed.
#
# ASan+UBSan (make test) and memcheck overlap but are not the same: ASan
# needs the code recompiled and sees only what was instrumented; memcheck
# runs the very binaries of the plain build and also watches the C library
# and libcurl, and it knows uninitialised reads ASan does not look for.
# The price is speed: programs run 20-50 times slower under it.
set -uo pipefail
cd "$(dirname "$0")/.."

if ! command -v valgrind >/dev/null; then
  echo "valgrind.sh: valgrind не установлен (apt-get install valgrind)" >&2
  exit 1
fi

log=build/valgrind-logs
mkdir -p "$log"
passed=0 failed=0 failures=()
start=$(date +%s)

VG=(valgrind --tool=memcheck --error-exitcode=99 --leak-check=full
    --errors-for-leak-kinds=definite,indirect --show-leak-kinds=definite,indirect
    --track-origins=yes --child-silent-after-fork=yes --quiet)

run() { # $1 = label, rest = command
  local label=$1; shift
  local out="$log/${label//\//_}.log" t0 rc
  t0=$(date +%s)
  CMOCKA_MESSAGE_OUTPUT=STDOUT BOOK_BIN=build/bin \
    timeout --kill-after=10 900 "${VG[@]}" --log-file="$out.vg" "$@" >"$out" 2>&1
  rc=$?
  local errs
  errs=$(grep -c '^==[0-9]*== .*\(Invalid\|uninitialised\|definitely lost\|indirectly lost\|Mismatched\|overlap\)' "$out.vg" 2>/dev/null)
  if [ "$rc" -eq 0 ]; then
    passed=$((passed + 1))
    printf 'ok    %-32s %4ss\n' "$label" "$(( $(date +%s) - t0 ))"
  else
    failed=$((failed + 1)); failures+=("$label")
    printf 'FAIL  %-32s %4ss  (exit %s, %s memcheck lines; see %s.vg)\n' \
      "$label" "$(( $(date +%s) - t0 ))" "$rc" "${errs:-0}" "$out"
    sed -n '1,60p' "$out.vg"
    tail -20 "$out"
  fi
}

# Unit suites: those that never start a program (no sup_spawn or
# sup_server_start in them).
for src in tests/test_*.c; do
  name=$(basename "$src" .c)
  grep -qE 'sup_spawn|sup_server_start' "$src" && continue
  [ -x "build/tests/$name" ] || { echo "valgrind.sh: build/tests/$name не собран (make tests-built)"; failed=$((failed + 1)); failures+=("$name"); continue; }
  run "$name" "build/tests/$name"
done

# Demo programs: they run to completion by themselves.
source tests/progs.bash
for demo in generators-roundrobin coroutines-demo delegation-demo "event-loop-toy --seconds 1" "tasks-nums --seconds 1"; do
  set -- $demo
  path=$(BOOK_BIN=build/bin prog "$1") || { failed=$((failed + 1)); failures+=("$1"); continue; }
  shift
  run "$(basename "$path")" "$path" "$@"
done

echo
[ ${#failures[@]} -eq 0 ] || printf 'FAILED: %s\n' "${failures[@]}"
echo "valgrind: $passed passed, $failed failed, $(( $(date +%s) - start )) s"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
