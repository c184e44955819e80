#!/usr/bin/env bash
# tests/coverage.sh — make coverage: every cmocka suite against the build
# with gcov instrumentation (build/cov: the library, the programs and the
# suites compiled with --coverage -O0), then gcov's counts mapped back to the
# chunks of the book by book/tools/coverage.pl (through the line maps beside
# build/src/). Writes book/data/coverage.tsv (counts by chunk: the web book
# marks each chunk with them), book/data/coverage-summary.tsv (per chapter
# and for the library: appendix Б shows it), book/data/coverage-missed.tsv
# (the library's unexecuted lines by chunk, each with its reason from
# book/coverage-reasons.txt: appendix Б lists them) and
# build/coverage/missed.tsv (every line of the library no test runs, one a
# row). Not part of make test.
set -uo pipefail
cd "$(dirname "$0")/.."
out=build/coverage
rm -rf "$out" && mkdir -p "$out"
find build/cov -name '*.gcda' -delete
export CMOCKA_MESSAGE_OUTPUT=STDOUT
for t in build/cov/tests/test_*; do
  [ -x "$t" ] || continue
  name=${t##*/}
  echo "== $name"
  if ! BOOK_BIN=build/cov/bin timeout --kill-after=10 900 "$t" >"$out/$name.log" 2>&1; then
    echo "!! $name не прошёл (журнал: $out/$name.log); его счётчики всё равно учтены"
  fi
done
find build/cov/obj -name '*.gcda' | sort | while read -r f; do
  gcov --json-format --stdout -o "${f%/*}" "$f" 2>/dev/null
done | perl book/tools/coverage.pl --src build/src --lines book/data/coverage.tsv \
  --summary book/data/coverage-summary.tsv --missed "$out/missed.tsv" \
  --reasons book/coverage-reasons.txt --table book/data/coverage-missed.tsv
echo "Данные: book/data/coverage.tsv, book/data/coverage-summary.tsv, book/data/coverage-missed.tsv; невыполненные строки библиотеки: $out/missed.tsv"
