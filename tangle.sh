#!/usr/bin/env bash
# tangle.sh — извлекает код из книги (tangle).
#
#   ./tangle.sh              book/*.nw -> generated/ (переписывает только изменившиеся файлы,
#                            удаляет файлы, которых не даёт ни один корневой фрагмент)
#   ./tangle.sh --check      ничего не пишет; падает, если generated/ расходится с книгой
#   ./tangle.sh --lines DIR  то же в DIR, но с директивами #line в .c/.h: так сборка
#                            сообщает об ошибках в строках book/NN-….nw
#
# Все главы извлекаются вместе: поздняя глава может продолжить фрагмент ранней.
set -euo pipefail
cd "$(dirname "$0")"

mode=write out=generated
case "${1:-}" in
  --check) mode=check ;;
  --lines) mode=lines out=${2:?"--lines требует каталог"} ;;
  "") ;;
  *) echo "usage: $0 [--check | --lines DIR]" >&2; exit 2 ;;
esac

for tool in notangle /usr/lib/noweb/markup perl; do
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

/usr/lib/noweb/markup "${chapters[@]}" >"$tmp/markup"
perl book/tools/nwlint.pl <"$tmp/markup" >"$tmp/roots"

header() { # $1 = path, $2 = chapter files
  local what="Этот файл извлечён (tangle) из книги: $2.
Не редактируйте его: правьте главу и запустите ./tangle.sh."
  case "$1" in
    *.html) printf '<!-- %s -->\n' "$what" ;;
    *) printf '/* %s */\n' "$what" ;;
  esac
}

status=0
: >"$tmp/produced"
while IFS=$'\t' read -r root files; do
  echo "$root" >>"$tmp/produced"
  new="$tmp/new"
  lflag=()
  if [ "$mode" = lines ]; then
    case "$root" in *.c | *.h) lflag=(-L) ;; esac
  fi
  if [ "${root%.html}" != "$root" ]; then
    # HTML: <!DOCTYPE> must come first, so the comment goes right after it
    notangle -R"$root" "${chapters[@]}" 2>"$tmp/err" |
      { IFS= read -r first; printf '%s\n' "$first"; header "$root" "$files"; cat; } >"$new"
  else
    { header "$root" "$files"; notangle "${lflag[@]}" -R"$root" "${chapters[@]}"; } >"$new" 2>"$tmp/err"
  fi
  if [ -s "$tmp/err" ]; then
    echo "tangle.sh: notangle -R$root:" >&2; cat "$tmp/err" >&2; exit 1
  fi
  target="$out/$root"
  if cmp -s "$new" "$target"; then continue; fi
  if [ "$mode" = check ]; then
    echo "generated/$root расходится с книгой ($files): запустите ./tangle.sh" >&2
    status=1
    continue
  fi
  mkdir -p "$(dirname "$target")"
  cp "$new" "$target"
  echo "tangle: $target" >&2
done <"$tmp/roots"

# Файлы, которых не даёт ни один корневой фрагмент.
if [ -d "$out" ]; then
  (cd "$out" && find . -type f \( -name '*.c' -o -name '*.h' -o -name '*.html' \) | sed 's|^\./||') | sort >"$tmp/present"
  sort "$tmp/produced" | comm -23 "$tmp/present" - >"$tmp/stale"
  while read -r f; do
    if [ "$mode" = check ]; then
      echo "generated/$f не извлекается ни из одного корневого фрагмента книги" >&2
      status=1
    else
      rm -f "$out/$f"
      echo "tangle: удалён $out/$f (его больше нет в книге)" >&2
    fi
  done <"$tmp/stale"
  find "$out" -mindepth 1 -type d -empty -delete
fi
exit $status
