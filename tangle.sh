#!/usr/bin/env bash
# tangle.sh — извлекает код из книги (tangle).
#
#   ./tangle.sh              book/*.nw -> generated/ (переписывает только изменившиеся файлы,
#                            удаляет файлы, которых не даёт ни один корневой фрагмент)
#   ./tangle.sh --check      ничего не пишет; падает, если generated/ расходится с книгой,
#                            и показывает разницу и строки главы, куда перенести правку
#   ./tangle.sh --lines DIR  то же, что без аргументов, и копия для сборки в DIR, где рядом
#                            с каждым .c/.h лежит карта строк X.nwmap: из какой строки
#                            book/NN-….nw пришла каждая строка файла. Сборка компилирует
#                            эти файлы (они те же, что в generated/), а book/tools/nwcc
#                            переводит места в сообщениях компилятора на строки книги.
#                            Правка текста главы сдвигает строки и меняет только карты:
#                            ни один объектный файл не перекомпилируется.
#
# Все главы извлекаются вместе: поздняя глава может продолжить фрагмент ранней.
# Файл generated/, который правили руками, tangle.sh не перезапишет молча: он
# помнит (build/generated.sums), что записал сам, и останавливается с разницей,
# если файл с тех пор изменился.
set -euo pipefail
cd "$(dirname "$0")"

mode=write lines=
case "${1:-}" in
  --check) mode=check ;;
  --lines) lines=${2:?"--lines требует каталог"} ;;
  "") ;;
  *) echo "usage: $0 [--check | --lines DIR]" >&2; exit 2 ;;
esac

NW=/usr/lib/noweb
for tool in $NW/markup $NW/nt perl; do
  command -v "$tool" >/dev/null || { echo "tangle.sh: нет $tool (установите noweb: make deps)" >&2; exit 1; }
done

chapters=(book/*.nw)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Табуляция в .nw запрещена: noweb и компилятор считают столбцы по-разному.
if grep -nP '\t' "${chapters[@]}" >"$tmp/tabs"; then
  sed 's/^\([^:]*:[0-9]*\):.*/\1: символ табуляции; отступы в книге — только пробелами/' "$tmp/tabs" >&2
  exit 1
fi

$NW/markup "${chapters[@]}" >"$tmp/markup"
perl book/tools/nwlint.pl <"$tmp/markup" >"$tmp/roots"

header() { # $1 = path, $2 = chapter files
  local what="Этот файл извлечён (tangle) из книги: $2.
Не редактируйте его: правьте главу и запустите ./tangle.sh."
  case "$1" in
    *.html) printf '<!-- %s -->\n' "$what" ;;
    *) printf '/* %s */\n' "$what" ;;
  esac
}

# Each root as the book gives it, and each .c/.h also with #line directives
# (for its line map); book/tools/tangle.pl compares, writes and reports.
while IFS=$'\t' read -r root files; do
  mkdir -p "$tmp/new/${root%/*}" "$tmp/lined/${root%/*}"
  case "$root" in
    *.html) # <!DOCTYPE> must come first, so the comment goes right after it
      $NW/nt -R"$root" <"$tmp/markup" 2>"$tmp/err" |
        { IFS= read -r first; printf '%s
' "$first"; header "$root" "$files"; cat; } >"$tmp/new/$root" ;;
    *) { header "$root" "$files"; $NW/nt -R"$root" <"$tmp/markup"; } >"$tmp/new/$root" 2>"$tmp/err" ;;
  esac
  case "$root" in *.c | *.h)
    { header "$root" "$files"; $NW/nt -t -L -R"$root" <"$tmp/markup"; } >"$tmp/lined/$root" 2>>"$tmp/err" ;;
  esac
  if [ -s "$tmp/err" ]; then
    echo "tangle.sh: notangle -R$root:" >&2; cat "$tmp/err" >&2; exit 1
  fi
done <"$tmp/roots"
perl book/tools/tangle.pl "$mode" "$lines" "$tmp"
