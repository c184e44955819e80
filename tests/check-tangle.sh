#!/usr/bin/env bash
# tangle.sh guards the web: on a temporary copy of the book it must reject a
# use of an undefined chunk and a misspelt (stray) root, naming the .nw file and
# line; a C error in a chunk must be reported by the compiler (through
# book/tools/nwcc and the line maps of tangle.sh --lines) at the line of
# book/NN-….nw, also after a prose edit shifted the lines — and that edit
# must leave the build's sources alone; a hand edit of generated/ is shown
# by --check and never silently overwritten.
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

# a C error planted after line $1 of the chapter: the build's compiler
# (through nwcc and the line maps) must name line $1 + 1; $2 = what is checked
error_names_line() {
  sed -i "$1a static int broken_on_purpose = ;" "$tmp/b/$nw"
  (cd "$tmp/b" && ./tangle.sh --lines build/src 2>/dev/null)
  if (cd "$tmp/b" && book/tools/nwcc gcc -std=c11 -D_POSIX_C_SOURCE=200809L -Ibuild/src/lib \
       -c "build/src/$root" -o "$tmp/x.o") 2>"$tmp/err"; then
    echo "сломанный фрагмент скомпилировался"; fail=1
  elif grep -q "^$nw:$(($1 + 1)):[0-9]*: error" "$tmp/err"; then
    echo "ok: $2 $nw:$(($1 + 1))"
  else echo "ошибка не указывает на строку книги ($nw:$(($1 + 1))):"; cat "$tmp/err"; fail=1; fi
}

fresh
error_names_line "$line" "ошибка компилятора указывает на"

# a prose line added before the code shifts the book's lines: build/src/
# keeps its files (no recompilation), only their line maps change, and an
# error still names the right line of the chapter
fresh
(cd "$tmp/b" && ./tangle.sh --lines build/src 2>/dev/null)
src="$tmp/b/build/src/$root"
cp "$src.nwmap" "$tmp/before.map"
touch -d 2000-01-01 "$src"
sed -i "1a Строка текста, добавленная перед кодом." "$tmp/b/$nw"
(cd "$tmp/b" && ./tangle.sh --lines build/src 2>/dev/null)
if [ -n "$(find "$src" -newermt 2000-01-02)" ]; then
  echo "правка текста главы переписала build/src/$root: сборка перекомпилирует его"; fail=1
elif cmp -s "$tmp/before.map" "$src.nwmap"; then
  echo "правка текста главы не сдвинула карту строк build/src/$root.nwmap"; fail=1
else
  error_names_line "$((line + 1))" "правка текста не тронула build/src/$root; ошибка после сдвига указывает на"
fi

# a hand edit of generated/ is shown with the chapter's line, and tangle.sh
# does not overwrite it
fresh
cp -r generated "$tmp/b/" && (cd "$tmp/b" && ./tangle.sh 2>/dev/null)
echo "/* правка руками */" >>"$tmp/b/generated/$root"
if (cd "$tmp/b" && ./tangle.sh --check) 2>"$tmp/err"; then
  echo "tangle.sh --check не заметил правку generated/$root"; fail=1
elif grep -q "^+/\* правка руками \*/\|^-/\* правка руками \*/" "$tmp/err" && grep -q "Перенесите правку в главу" "$tmp/err"; then
  echo "ok: --check показывает разницу и просит перенести правку в главу"
else echo "tangle.sh --check не показал разницу:"; cat "$tmp/err"; fail=1; fi
sed -i "${line}a /* новая строка кода */" "$tmp/b/$nw"
if (cd "$tmp/b" && ./tangle.sh) 2>"$tmp/err"; then
  echo "tangle.sh перезаписал ручную правку generated/$root"; fail=1
elif grep -q "правили руками" "$tmp/err" && grep -q "правка руками" "$tmp/b/generated/$root"; then
  echo "ok: tangle.sh не перезаписал ручную правку generated/$root и показал её"
else echo "tangle.sh не объяснил отказ:"; cat "$tmp/err"; fail=1; fi
exit $fail
