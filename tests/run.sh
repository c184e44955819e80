#!/usr/bin/env bash
# tests/run.sh — runs every test of the book (make test calls it after building):
# each cmocka suite twice, against the plain build and the ASan+UBSan build,
# the fuzz corpora under ASan+UBSan, the valgrind pass (tests/valgrind.sh),
# then the script tests tests/check-*.sh. Prints one closing line
# "N passed, N failed" and fails if anything failed.
set -uo pipefail
cd "$(dirname "$0")/.."

passed=0 failed=0 failures=()
log=build/test-logs
mkdir -p "$log"

export ASAN_OPTIONS=abort_on_error=0:detect_leaks=1:halt_on_error=1:exitcode=86
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:exitcode=86
export LSAN_OPTIONS=exitcode=86
export CMOCKA_MESSAGE_OUTPUT=STDOUT

run_suite() { # $1 = test binary, $2 = bin folder of the programs it may start
  local name=${1#build/} out
  out="$log/${name//\//_}.log"
  echo "== $name"
  BOOK_BIN=$2 timeout --kill-after=10 600 "$1" >"$out" 2>&1
  local rc=$?
  cat "$out"
  local p f
  p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$out" | tail -1)
  f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$out" | tail -1)
  passed=$((passed + ${p:-0}))
  failed=$((failed + ${f:-0}))
  if [ "$rc" -ne 0 ] && [ "${f:-0}" -eq 0 ]; then
    failed=$((failed + 1)) # crashed, timed out, or a sanitizer report
  fi
  if grep -qE '^(==[0-9]+==ERROR|SUMMARY: (Address|Undefined|Leak)Sanitizer)|runtime error:' "$out"; then
    echo "!! $name: отчёт санитайзера в выводе (он мог прийти из запущенной программы)"
    failed=$((failed + 1)); rc=1
  fi
  [ "$rc" -eq 0 ] || failures+=("$name")
}

for t in build/tests/test_*; do
  [ -x "$t" ] && run_suite "$t" build/bin
done
for t in build/asan/tests/test_*; do
  [ -x "$t" ] && run_suite "$t" build/asan/bin
done

for r in build/asan/fuzz/replay_*; do
  [ -x "$r" ] || continue
  name=${r##*/replay_}
  echo "== fuzz corpus $name"
  if timeout --kill-after=10 300 "$r" "tests/fuzz/corpus/$name" >"$log/fuzz-$name.log" 2>&1; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1)); failures+=("fuzz corpus $name")
  fi
  cat "$log/fuzz-$name.log"
done

echo "== valgrind (tests/valgrind.sh)"
if tests/valgrind.sh >"$log/valgrind.log" 2>&1; then
  passed=$((passed + 1))
else
  failed=$((failed + 1)); failures+=("valgrind")
fi
cat "$log/valgrind.log"

for s in tests/check-*.sh; do
  echo "== $s"
  if timeout --kill-after=10 600 "$s" >"$log/$(basename "$s").log" 2>&1; then
    passed=$((passed + 1)); cat "$log/$(basename "$s").log"
  else
    failed=$((failed + 1)); failures+=("$s"); cat "$log/$(basename "$s").log"
  fi
done

echo
[ ${#failures[@]} -eq 0 ] || printf 'FAILED: %s\n' "${failures[@]}"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
