#!/usr/bin/env bash
# The way back from gcov's counts to the book (book/tools/coverage.pl, used by
# make coverage) on a tiny web with known lines: a program of two chunks is
# tangled with the book's own tangle.sh, compiled with --coverage, run, and
# its counts mapped to the chunks. The loop body must show its three runs at
# its offset in its chunk, the branch never taken a zero, a line gcov cannot
# execute no row at all; and after a prose line shifts every line of the
# chapter, the rows must stay the same (they are keyed by chunk and offset,
# not by the line of the chapter).
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/w/book"
cp -r tangle.sh "$tmp/w/" && cp -r book/tools "$tmp/w/book/"
cat >"$tmp/w/book/01-tiny.nw" <<'NW'
# Крошечная глава {#ch-tiny}

Программа из двух фрагментов.

<<01-tiny/prog.c>>=
#include <stdio.h>
<<Сосчитать>>
int main(int argc, char **argv)
{
    (void)argv;
    if (argc > 5)
        puts("never");
    return count(3);
}
@

<<Сосчитать>>=
static int count(int n)
{
    int s = 0;
    for (int i = 0; i < n; i++)
        s += i;
    return s == 3 ? 0 : 1;
}
@
NW

counts() { # $1 = output file: tangle, build, run, map
  (cd "$tmp/w" && rm -rf src generated && ./tangle.sh --lines src >/dev/null 2>&1)
  rm -f "$tmp"/prog "$tmp"/prog.gc*
  gcc --coverage -O0 -o "$tmp/prog" "$tmp/w/src/01-tiny/prog.c"
  (cd "$tmp" && ./prog)
  (cd "$tmp/w" && gcov --json-format --stdout -o "$tmp" "$tmp/prog.gcda" 2>/dev/null |
     perl book/tools/coverage.pl --src src --lines "$1" book/01-tiny.nw >/dev/null)
}
counts "$tmp/before.tsv"
fail=0
want() { # $1 = row, $2 = what it means
  if grep -qxF "$1" "$tmp/before.tsv"; then echo "ok: $2"
  else echo "нет строки «$1» ($2); вышло:"; cat "$tmp/before.tsv"; fail=1; fi
}
want "$(printf 'Сосчитать\t1\t7\t5\t3')" "тело цикла выполнено 3 раза, строка 5 фрагмента ⟨Сосчитать⟩"
want "$(printf '01-tiny/prog.c\t1\t9\t7\t0')" "ветка, в которую не зашли, — 0 на строке 7 корня"
want "$(printf '01-tiny/prog.c\t1\t9\t8\t1')" "return count(3) — 1 раз, строка 8 корня"
if grep -qP '^01-tiny/prog.c\t1\t9\t5\t' "$tmp/before.tsv"; then
  echo "строка (void)argv; не исполнима, но попала в данные"; fail=1
fi

sed -i '3a Ещё одна строка текста: все строки главы ниже сдвинулись.' "$tmp/w/book/01-tiny.nw"
counts "$tmp/after.tsv"
if cmp -s "$tmp/before.tsv" "$tmp/after.tsv"; then echo "ok: сдвиг текста не меняет данных"
else echo "после сдвига текста данные другие:"; diff "$tmp/before.tsv" "$tmp/after.tsv"; fail=1; fi
exit $fail
