# tests/progs.bash — find a program of the book by its stable name (sourced).
#   prog NAME   prints the path of the program NAME under $BOOK_BIN
#               (default build/bin), or fails with a message.
# NAME is the chapter's slug and the file, without the chapter number:
# "select-server" is build/bin/03-select-server; a program of an appendix
# has no number ("measurements-loadgen"). The same rule as sup_bin in
# tests/support.c: a chapter added in the middle renumbers the programs,
# not the scripts that run them.
prog() {
  local dir=${BOOK_BIN:-build/bin} found
  if [ -x "$dir/$1" ]; then echo "$dir/$1"; return; fi
  found=$(compgen -G "$dir/[0-9][0-9]-$1") || true
  if [ -z "$found" ] || [ "$(wc -l <<<"$found")" -ne 1 ]; then
    echo "prog: программы $1 нет в $dir (или подходят две): make programs" >&2
    return 1
  fi
  echo "$found"
}
