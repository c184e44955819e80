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

linemap() { # $1 = root, $2 = its chapter files, $3 = its text; the map to stdout
  { header "$1" "$2"; $NW/nt -t -L -R"$1" <"$tmp/markup"; } >"$tmp/lined"
  perl book/tools/linemap.pl make "$tmp/lined" "$3"
}

# generated/$1 against the book's $2: the diff, then where each change lives in the book
show_diff() { # $1 = root, $2 = the book's text, $3 = its line map (may be empty)
  diff -u --label "generated/$1 (сейчас)" --label "generated/$1 (из книги)" \
    "generated/$1" "$2" | head -60 >&2 || true
  diff "generated/$1" "$2" | sed -n 's/^[0-9,]*[acd]\([0-9]*\).*/\1/p' | while read -r n; do
    where=$(sed -n "${n}p" "$3")
    [ -z "$where" ] || echo "  $where (строка $n файла из книги)"
  done >&2 || true
}

sums=build/generated.sums
: >"$tmp/sums.old"
[ "$mode" = check ] || [ ! -f "$sums" ] || cp "$sums" "$tmp/sums.old"

status=0
: >"$tmp/produced" && : >"$tmp/sums"
while IFS=$'\t' read -r root files; do
  echo "$root" >>"$tmp/produced"
  new="$tmp/new" map="$tmp/map" target="generated/$root"
  { header "$root" "$files"; $NW/nt -R"$root" <"$tmp/markup"; } >"$new" 2>"$tmp/err"
  if [ -s "$tmp/err" ]; then
    echo "tangle.sh: notangle -R$root:" >&2; cat "$tmp/err" >&2; exit 1
  fi
  : >"$map"
  case "$root" in *.c | *.h)
    if [ -n "$lines" ] || ! cmp -s "$new" "$target"; then linemap "$root" "$files" "$new" >"$map"; fi ;;
  esac
  if [ -n "$lines" ]; then
    mkdir -p "$(dirname "$lines/$root")"
    cmp -s "$new" "$lines/$root" || cp "$new" "$lines/$root"
    if [ -s "$map" ] && ! cmp -s "$map" "$lines/$root.nwmap"; then cp "$map" "$lines/$root.nwmap"; fi
  fi
  [ "$mode" = check ] || echo "$(sha1sum <"$new" | cut -c1-40)  $root" >>"$tmp/sums"
  cmp -s "$new" "$target" && continue
  if [ "$mode" = check ]; then
    echo "generated/$root расходится с книгой ($files):" >&2
    show_diff "$root" "$new" "$map"
    echo "Перенесите правку в главу, на строки, названные выше: ./tangle.sh перепишет generated/$root из книги." >&2
    status=1
    continue
  fi
  was=$(sed -n "s|^\([0-9a-f]*\)  $root\$|\1|p" "$tmp/sums.old")
  if [ -f "$target" ] && [ -n "$was" ] && [ "$was" != "$(sha1sum <"$target" | cut -c1-40)" ]; then
    echo "generated/$root правили руками после прошлого ./tangle.sh:" >&2
    show_diff "$root" "$new" "$map"
    echo "Перенесите правку в главу, на строки, названные выше, затем:" \
      "git checkout generated/$root && ./tangle.sh (он не перезаписывает ручную правку)" >&2
    exit 1
  fi
  mkdir -p "$(dirname "$target")"
  cp "$new" "$target"
  echo "tangle: $target" >&2
done <"$tmp/roots"
if [ "$mode" != check ]; then mkdir -p build && sort "$tmp/sums" >"$sums"; fi

# Файлы, которых не даёт ни один корневой фрагмент.
sort -o "$tmp/produced" "$tmp/produced"
for out in generated $lines; do
  [ -d "$out" ] || continue
  (cd "$out" && find . -type f \( -name '*.c' -o -name '*.h' -o -name '*.html' \) | sed 's|^\./||') |
    sort | comm -23 - "$tmp/produced" >"$tmp/stale"
  while read -r f; do
    if [ "$mode" = check ]; then
      echo "$out/$f не извлекается ни из одного корневого фрагмента книги" >&2
      status=1
    else
      rm -f "$out/$f" "$out/$f.nwmap"
      [ "$out" != generated ] || echo "tangle: удалён $out/$f (его больше нет в книге)" >&2
    fi
  done <"$tmp/stale"
  [ "$mode" = check ] || find "$out" -mindepth 1 -type d -empty -delete
done
exit $status
