#!/usr/bin/env bash
# tangle.sh guards the web: on a temporary copy of the book it must reject a
# use of an undefined chunk and a misspelt (stray) root, naming the .nw file and
# line; and a C error in a chunk must be reported by the compiler at the line
# of book/NN-….nw, thanks to the #line directives of the build's tangle.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fresh() { rm -rf "$tmp/b"; mkdir -p "$tmp/b"; cp -r book tangle.sh "$tmp/b/"; }
fail=0

# the first chapter that has a library .c root, and the line of that root
read -r nw line root < <(grep -nE '^<<lib/[a-z_]+\.c>>=$' book/*.nw | head -1 |
  sed -E 's/^([^:]*):([0-9]*):<<(.*)>>=$/\1 \2 \3/')
[ -n "${nw:-}" ] || { echo "в книге нет ни одного корня lib/*.c"; exit 1; }

fresh
sed -i "${line}a <<Фрагмент, которого нет>>" "$tmp/b/$nw"
if (cd "$tmp/b" && ./tangle.sh) 2>"$tmp/err"; then
  echo "tangle.sh принял употребление неопределённого фрагмента"; fail=1
elif grep -q "^$nw:$((line + 1)): фрагмент ⟨Фрагмент, которого нет⟩" "$tmp/err"; then
  echo "ok: неопределённый фрагмент назван в $nw:$((line + 1))"
else echo "tangle.sh не назвал строку:"; cat "$tmp/err"; fail=1; fi

fresh
printf '\n<<Никем не используемый фрагмент>>=\nint unused;\n@\n' >>"$tmp/b/$nw"
if (cd "$tmp/b" && ./tangle.sh) 2>"$tmp/err"; then
  echo "tangle.sh принял фрагмент, который нигде не используется"; fail=1
elif grep -q "^$nw:[0-9]*: корневой фрагмент ⟨Никем не используемый фрагмент⟩" "$tmp/err"; then
  echo "ok: лишний корень назван с файлом и строкой"
else echo "tangle.sh не назвал лишний корень:"; cat "$tmp/err"; fail=1; fi

fresh
sed -i "${line}a static int broken_on_purpose = ;" "$tmp/b/$nw"
(cd "$tmp/b" && ./tangle.sh --lines src 2>/dev/null)
if gcc -std=c11 -D_POSIX_C_SOURCE=200809L -I"$tmp/b/src/lib" -c "$tmp/b/src/$root" \
     -o "$tmp/x.o" 2>"$tmp/err"; then
  echo "сломанный фрагмент скомпилировался"; fail=1
elif grep -q "^$nw:$((line + 1)):[0-9]*: error" "$tmp/err"; then
  echo "ok: ошибка компилятора указывает на $nw:$((line + 1))"
else echo "ошибка не указывает на строку книги:"; cat "$tmp/err"; fail=1; fi
exit $fail
