#!/usr/bin/env bash
# tests/run.sh — runs every test of the book (make test calls it after building):
# each cmocka suite twice, against the plain build and the ASan+UBSan build,
# the fuzz corpora under ASan+UBSan, the valgrind pass (tests/valgrind.sh),
# then the script tests tests/check-*.sh. Every suite's output goes to its
# log in build/test-logs/; a failing suite's log is printed (with places in
# build/src/ translated to lines of the book). The run ends with a table —
# suite, build, passed, failed, seconds — the logs of the failures, and one
# line "N passed, N failed"; the exit status is 1 if anything failed.
set -uo pipefail
cd "$(dirname "$0")/.."

log=build/test-logs
rm -rf "$log" && mkdir -p "$log"

export ASAN_OPTIONS=abort_on_error=0:detect_leaks=1:halt_on_error=1:exitcode=86
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:exitcode=86
export LSAN_OPTIONS=exitcode=86
export CMOCKA_MESSAGE_OUTPUT=STDOUT

rows=() failures=() total_passed=0 total_failed=0

# $1 = suite, $2 = build, $3 = passed, $4 = failed, $5 = seconds, $6 = log
record() {
  rows+=("$1"$'\t'"$2"$'\t'"$3"$'\t'"$4"$'\t'"$5")
  total_passed=$((total_passed + $3))
  total_failed=$((total_failed + $4))
  if [ "$4" -gt 0 ]; then
    failures+=("$1 ($2): $6")
    echo "!! $1 ($2) не прошёл; журнал: $6"
    perl book/tools/linemap.pl filter <"$6" | tail -60
  fi
}

run_suite() { # $1 = test binary, $2 = bin folder of the programs it may start, $3 = build
  local name=${1##*/} rel=${1#build/} out start p f rc
  out="$log/${rel//\//_}.log"
  echo "== $name ($3)"
  start=$SECONDS
  BOOK_BIN=$2 timeout --kill-after=10 600 "$1" >"$out" 2>&1
  rc=$?
  p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$out" | tail -1)
  f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$out" | tail -1)
  p=${p:-0} f=${f:-0}
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
    f=1   # crashed, timed out, or a sanitizer report
  fi
  if grep -qE '^(==[0-9]+==ERROR|SUMMARY: (Address|Undefined|Leak)Sanitizer)|runtime error:' "$out"; then
    echo "!! $name: отчёт санитайзера в выводе (он мог прийти из запущенной программы)"
    f=$((f + 1))
  fi
  record "$name" "$3" "$p" "$f" $((SECONDS - start)) "$out"
}

# $1 = suite, $2 = build, $3 = log, then the command
run_one() {
  local name=$1 build=$2 out=$3 start=$SECONDS
  shift 3
  echo "== $name"
  if timeout --kill-after=10 600 "$@" >"$out" 2>&1; then
    record "$name" "$build" 1 0 $((SECONDS - start)) "$out"
  else
    record "$name" "$build" 0 1 $((SECONDS - start)) "$out"
  fi
}

for t in build/tests/test_*; do
  [ -x "$t" ] && run_suite "$t" build/bin обычная
done
for t in build/asan/tests/test_*; do
  [ -x "$t" ] && run_suite "$t" build/asan/bin ASan+UBSan
done
for r in build/asan/fuzz/replay_*; do
  [ -x "$r" ] || continue
  name=${r##*/replay_}
  run_one "fuzz $name" ASan+UBSan "$log/fuzz-$name.log" "$r" "tests/fuzz/corpus/$name"
done
run_one valgrind valgrind "$log/valgrind.log" tests/valgrind.sh
for s in tests/check-*.sh; do
  run_one "${s#tests/}" — "$log/${s##*/}.log" "$s"
  sed 's/^/   /' "$log/${s##*/}.log" | head -8
done

echo
# (perl counts letters, not bytes: the table has Russian words in it)
printf '%s\n' "набор"$'\t'"сборка"$'\t'"прошло"$'\t'"упало"$'\t'"сек" "${rows[@]}" |
  perl -CSD -F'\t' -lane '
    $line = "-" x 70;
    print $line if $. == 2;
    printf "%-32s %-11s %8s %7s %6s\n", @F;
    END { print $line }'
if [ ${#failures[@]} -gt 0 ]; then
  echo "Провалы (журналы):"
  printf '  %s\n' "${failures[@]}"
fi
echo "$total_passed passed, $total_failed failed"
[ "$total_failed" -eq 0 ] && [ "$total_passed" -gt 0 ]
