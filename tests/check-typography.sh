#!/usr/bin/env bash
# Russian typography of the PDF, measured on its text (pdftotext -layout) and
# on XeLaTeX's log: the weave filter (book/tools/nw2md.pl) ties one-letter
# words to the next word, a dash to the word before it and a number to its
# unit, so that few lines start with a dash or end with «в», «и», «с»; and no
# line sticks out of the text block by more than 3 pt, nor a page over its
# bottom (an overfull page loses what does not fit). The targets are those
# of the edition: at most 5 lines starting with «— », at most 10 ending with
# a one-letter word, no overfull box over 3 pt.
set -euo pipefail
cd "$(dirname "$0")/.."
pdf=build/book.pdf log=build/latex/book.log
for f in $pdf $log; do [ -s "$f" ] || { echo "нет $f: сначала make pdf"; exit 1; }; done
txt=$(mktemp)
trap 'rm -f "$txt"' EXIT
pdftotext -layout "$pdf" "$txt"
fail=0
dash=$(grep -cP '^\s*— ' "$txt" || true)
# an appendix's heading «Приложение А» ends in its letter by design
one=$(grep -vP '^\s*Приложение [А-Я]\s*$' "$txt" | grep -cP '(^|[\s\x{a0}])[а-яёА-ЯЁ]\s*$' || true)
boxes=$(perl -ne 'print "$1\n" if /^Overfull \\[hv]box \((\d+(?:\.\d+)?)pt too (?:wide|high)/ && $1 > 3' "$log" | wc -l)
echo "строк, начатых тире: $dash (не больше 5)"
echo "строк, кончающихся однобуквенным словом: $one (не больше 10)"
echo "строк и страниц, переполненных больше чем на 3 pt: $boxes (ни одной)"
if [ "$dash" -gt 5 ]; then grep -nP '^\s*— ' "$txt" | head -20; fail=1; fi
if [ "$one" -gt 10 ]; then grep -vP '^\s*Приложение [А-Я]\s*$' "$txt" | grep -nP '(^|[\s\x{a0}])[а-яёА-ЯЁ]\s*$' | head -30; fail=1; fi
if [ "$boxes" -gt 0 ]; then
  grep -A2 '^Overfull \\[hv]box' "$log" | perl -ne 'print if /^Overfull/ && /\((\d+(?:\.\d+)?)pt/ && $1 > 3 .. /^$/' | head -30
  fail=1
fi
exit $fail
